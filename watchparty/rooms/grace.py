"""The host's grace period and lazy expiry (R40-R44): the Redis TTL alone times it."""

import time
from datetime import UTC, datetime

from flask import current_app

from watchparty.database import utcnow
from watchparty.extensions import realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.realtime.local_sockets import SocketContext
from watchparty.roles import handover
from watchparty.rooms import broadcast, closing, playback
from watchparty.rooms.lifecycle import RoomState, is_closed
from watchparty.rooms.models import Room
from watchparty.rooms.services import room_state
from watchparty.sync import readiness


def grace_is_running(room: Room) -> bool:
    """True while the grace key lives (R42), or while its time is still ahead though the key is lost.

    A Redis that restarted empty loses the key: the room has not lapsed, and
    the key comes back with the time that remains (R179).
    """
    try:
        return realtime.grace_active(room.code) or restore_lost_grace(room)
    except RealtimeUnavailable:
        return True  # never expire a room because Redis blinked


def remaining_seconds(room: Room) -> float:
    """Grace left by the database's clock: host_disconnected_at + GRACE_PERIOD_SECONDS - now."""
    if room.host_disconnected_at is None:
        return 0.0
    elapsed = (utcnow() - room.host_disconnected_at).total_seconds()
    return float(current_app.config["GRACE_PERIOD_SECONDS"]) - elapsed


def restore_lost_grace(room: Room) -> bool:
    """Put a lost grace key back with the time that remains; False when none does (R179)."""
    seconds = remaining_seconds(room)
    if seconds <= 0:
        return False
    realtime.start_grace(room.code, seconds)
    return True


def survives_lapse(room: Room) -> bool:
    """A lapsed grace: a connected cohost succeeds (R104), else lazy expiry (R43); True if the room lives.

    Both are conditional updates on GRACE: whichever process acts first acts
    once, and a loser re-reads the state the winner left.
    """
    if handover.hand_to_successor(room):
        return True
    if Room.transition(room.id, RoomState.GRACE, RoomState.EXPIRED, closed_at=utcnow()):
        closing.close_room(room.code, reason="expired")
        return False
    return room_state(room.id) == RoomState.LIVE


def host_arrived(room: Room) -> None:
    """The host's socket makes a new room LIVE and ends a grace period (R41, R45)."""
    if room.state == RoomState.CREATED:
        Room.transition(room.id, RoomState.CREATED, RoomState.LIVE)
    elif room.state == RoomState.GRACE and Room.transition(
        room.id, RoomState.GRACE, RoomState.LIVE, host_disconnected_at=None
    ):
        realtime.end_grace(room.code)
        broadcast.host_reconnected(room.code)


def start_grace(room: Room) -> None:
    """Host gone: GRACE in the database, a TTL key, playback frozen, HOST_DISCONNECTED (R40)."""
    if room.host_id in realtime.present_user_ids(room.code):
        return  # the host came back on another process meanwhile
    if not Room.transition(room.id, RoomState.LIVE, RoomState.GRACE, host_disconnected_at=utcnow()):
        return
    snapshot = playback.change_playback(room.id, playback.Change("pause"))
    seconds = float(current_app.config["GRACE_PERIOD_SECONDS"])
    realtime.start_grace(room.code, seconds)
    readiness.announce_playback(room.code, snapshot)
    expires_at = datetime.fromtimestamp(time.time() + seconds, UTC).isoformat()
    broadcast.host_disconnected(room.code, {"grace_seconds": seconds, "grace_expires_at": expires_at})


def close_after_offline_cli(code: str, state: str) -> None:
    """Without Redis the CLI cannot reach our sockets: close them when the room is next used (R44)."""
    closing.close_room(code, reason=closing.closing_reason(state))


def closed_by_offline_cli(context: SocketContext) -> bool:
    """Without Redis, read the room's state; if the CLI closed it, close its sockets now (R44)."""
    if realtime.is_shared:
        return False
    state = room_state(context.room_id)
    if state is None or not is_closed(state):
        return False
    close_after_offline_cli(context.room_code, state)
    return True
