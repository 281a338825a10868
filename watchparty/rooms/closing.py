"""Closing a room: tell every socket, let it go, and leave nothing behind in Redis."""

import logging

from watchparty.extensions import realtime
from watchparty.realtime import RealtimeUnavailable, SocketRecord, socket_server
from watchparty.rooms import broadcast
from watchparty.rooms.lifecycle import RoomState

log = logging.getLogger(__name__)


def forget_room(code: str) -> list[SocketRecord]:
    """Remove every realtime key of the room; return the sockets it had."""
    try:
        return realtime.forget_room(code)
    except RealtimeUnavailable:
        log.warning("realtime store unavailable while closing room %s", code)
        return []


def close_room(code: str, reason: str) -> None:
    """Forget the room's realtime state, then send ROOM_CLOSED and disconnect its sockets.

    The sockets are forgotten first, so the disconnects this causes find no
    presence to remove: no USER_LEFT, no grace, no key written back (R24, R43).
    """
    sockets = forget_room(code)
    broadcast.room_closed(code, reason)
    for record in sockets:
        socket_server.disconnect(record.sid)


def close_socket(sid: str, reason: str) -> None:
    """Tell one socket its room is closed and let it go."""
    broadcast.socket_closed(sid, reason)
    socket_server.disconnect(sid)


def closing_reason(state: str) -> str:
    """The ROOM_CLOSED reason for a closed state."""
    return "deleted" if state == RoomState.DELETED else "expired"
