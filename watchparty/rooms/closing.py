"""Closing a room: tell every socket, let it go, and leave nothing behind in Redis."""

import logging

from watchparty.extensions import realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.rooms import broadcast

log = logging.getLogger(__name__)


def close_room(code: str, reason: str) -> None:
    """Forget the room's realtime state, then send ROOM_CLOSED and disconnect its sockets.

    The sockets are forgotten first, so the disconnects this causes find no
    presence to remove: no USER_LEFT, no grace, no key written back (R24, R43).
    """
    try:
        sockets = realtime.forget_room(code)
    except RealtimeUnavailable:
        log.warning("realtime store unavailable while closing room %s", code)
        sockets = []
    broadcast.room_closed(code, reason)
    for record in sockets:
        broadcast.disconnect(record.sid)
