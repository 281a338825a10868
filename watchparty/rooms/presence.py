"""Who is in a room: admitting sockets, letting them go, host grace, dead processes (R30-R43)."""

import contextlib
import logging
import time
from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import decode_token
from sqlalchemy import select

from watchparty import chat
from watchparty.auth.models import User
from watchparty.database import utcnow
from watchparty.extensions import db, realtime, socketio
from watchparty.realtime import RealtimeUnavailable, SocketRecord
from watchparty.rooms import broadcast, closing, playback
from watchparty.rooms.broadcast import NAMESPACE
from watchparty.rooms.lifecycle import CLOSED_STATES, RoomState, is_closed
from watchparty.rooms.models import Room
from watchparty.rooms.refusals import (
    NOT_A_PARTICIPANT,
    ROOM_CLOSED,
    ROOM_NOT_FOUND,
    UNAUTHORIZED,
    ConnectionRefused,
)
from watchparty.rooms.services import find_room, is_participant
from watchparty.rooms.sockets import PROCESS_ID, SocketContext, local_sockets
from watchparty.sync import readiness

log = logging.getLogger(__name__)


# admitting --------------------------------------------------------------------


def user_from_token(token) -> User:
    """Return the user a socket token names, or refuse with `unauthorized`."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise ConnectionRefused(UNAUTHORIZED)
    try:
        claims = decode_token(token)
    except Exception:  # expired, forged, malformed: all the same to the client
        raise ConnectionRefused(UNAUTHORIZED) from None
    subject = claims.get("sub")
    user = db.session.get(User, int(subject)) if isinstance(subject, str) and subject.isdigit() else None
    if user is None or claims.get("type") != "access":
        raise ConnectionRefused(UNAUTHORIZED)
    return user


def admissible_room(code, user: User) -> Room:
    """Return the room the user may enter, checking R31's codes in order."""
    room = find_room(code) if isinstance(code, str) and len(code) < 64 else None
    if room is None:
        raise ConnectionRefused(ROOM_NOT_FOUND)
    if is_closed(room.state):
        if not realtime.is_shared:
            close_locally_after_cli(room.code, room.state)
        raise ConnectionRefused(ROOM_CLOSED)
    if room.state == RoomState.GRACE and not grace_is_running(room):
        expire_lapsed_room(room)
        raise ConnectionRefused(ROOM_CLOSED)
    if not is_participant(room.id, user.id):
        raise ConnectionRefused(NOT_A_PARTICIPANT)
    return room


def grace_is_running(room: Room) -> bool:
    """True while the grace key lives; the Redis TTL alone decides (R42)."""
    try:
        return realtime.grace_active(room.code)
    except RealtimeUnavailable:
        return True  # never expire a room because Redis blinked


def expire_lapsed_room(room: Room) -> None:
    """Lazy expiry (R43): mark EXPIRED once, then close the room's sockets everywhere."""
    if Room.transition(room.id, RoomState.GRACE, RoomState.EXPIRED, closed_at=utcnow()):
        closing.close_room(room.code, reason="expired")


def admit(sid: str, token, code) -> SocketContext:
    """Admit a socket into its room and bootstrap it (R30-R32, R41); raise ConnectionRefused."""
    user = user_from_token(token)
    room = admissible_room(code, user)
    context = SocketContext(sid, room.id, room.code, user.id, user.display_name, user.id == room.host_id)
    socketio.server.enter_room(sid, room.code, namespace=NAMESPACE)
    local_sockets.add(context)
    first = realtime.add_socket(SocketRecord(sid, room.code, user.id, PROCESS_ID))
    if room_state_now(room.id) in CLOSED_STATES:  # closed while we were admitting
        local_sockets.pop(sid)
        realtime.remove_socket(PROCESS_ID, sid)
        raise ConnectionRefused(ROOM_CLOSED)
    if context.is_host:
        host_arrived(room)
    send_bootstrap(context, room)
    if first:
        announce("USER_JOINED", context.room_code, user, skip_sid=sid)
    return context


def room_state_now(room_id: int) -> str | None:
    """Read the room's state afresh from the database."""
    return db.session.scalar(select(Room.state).where(Room.id == room_id))


# A connect handler slowed down by load must still be waited for: checking
# before it finishes would let a close that raced it go unnoticed.
CONNECT_HANDLER_PATIENCE_SECONDS = 30.0


def confirm_admission(app, sid: str) -> None:
    """Background task after a connect: catch a room closed while the socket was connecting.

    python-socketio ignores a disconnect for a sid whose connect handler is
    still running, so a close that raced the connect may have missed it; the
    close also removed the sid's record, which is how we notice (R24, R43).
    """
    deadline = time.monotonic() + CONNECT_HANDLER_PATIENCE_SECONDS
    while not socketio.server.manager.is_connected(sid, NAMESPACE) and time.monotonic() < deadline:
        if local_sockets.get(sid) is None:
            return
        socketio.sleep(0.01)
    context = local_sockets.get(sid)
    if context is None:
        return
    with app.app_context():
        try:
            if realtime.has_socket(context.room_code, sid):
                return
        except RealtimeUnavailable:
            return  # the heartbeat re-registers our sockets when Redis is back
        state = room_state_now(context.room_id)
        if state in CLOSED_STATES:
            closing.forget_room(context.room_code)  # what this connect wrote after the close
            closing.close_socket(sid, reason=closing_reason(state))


def closing_reason(state: str) -> str:
    """The ROOM_CLOSED reason for a closed state."""
    return "deleted" if state == RoomState.DELETED else "expired"


def close_locally_after_cli(code: str, state: str) -> None:
    """Without Redis the CLI cannot reach our sockets: close them when the room is next used (R44)."""
    closing.close_room(code, reason=closing_reason(state))


def host_arrived(room: Room) -> None:
    """The host's socket makes a new room LIVE and ends a grace period (R41, R45)."""
    if room.state == RoomState.CREATED:
        Room.transition(room.id, RoomState.CREATED, RoomState.LIVE)
    elif room.state == RoomState.GRACE and Room.transition(
        room.id, RoomState.GRACE, RoomState.LIVE, host_disconnected_at=None
    ):
        realtime.end_grace(room.code)
        broadcast.host_reconnected(room.code)


def send_bootstrap(context: SocketContext, room: Room) -> None:
    """Send exactly one PLAYBACK_STATE, PRESENCE and CHAT_HISTORY to the new socket (R32)."""
    snapshot = playback.current_snapshot(room.code, room.id)
    broadcast.to_own_socket("PLAYBACK_STATE", snapshot.payload(), context.sid)
    broadcast.to_own_socket("PRESENCE", presence_payload(room), context.sid)
    broadcast.to_own_socket("CHAT_HISTORY", {"messages": chat.bootstrap_messages(room)}, context.sid)
    pending = readiness.pending_for(room.code)
    if pending is not None:
        broadcast.to_own_socket("READY_CHECK", pending, context.sid)


def presence_payload(room: Room) -> dict:
    """Who is connected to the room, host marked (R32)."""
    user_ids = sorted(realtime.present_user_ids(room.code))
    names = display_names(user_ids)
    return {
        "viewer_count": len(user_ids),
        "users": [
            {"id": user_id, "display_name": names[user_id], "is_host": user_id == room.host_id}
            for user_id in user_ids
            if user_id in names
        ],
        "host_connected": room.host_id in user_ids,
    }


_display_names: dict[int, str] = {}
DISPLAY_NAME_CACHE_SIZE = 100_000


def display_names(user_ids: list[int]) -> dict[int, str]:
    """Display names by id; names never change, so this process remembers them.

    Without the cache every connect would load the whole room's users again,
    which makes filling a large room quadratic.
    """
    missing = [user_id for user_id in user_ids if user_id not in _display_names]
    if missing:
        if len(_display_names) > DISPLAY_NAME_CACHE_SIZE:
            _display_names.clear()
        rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(missing)))
        _display_names.update({row.id: row.display_name for row in rows})
    return {user_id: _display_names[user_id] for user_id in user_ids if user_id in _display_names}


def announce(event: str, code: str, user: User, skip_sid: str | None = None) -> None:
    """Send USER_JOINED or USER_LEFT with the new viewer count (R32, R33)."""
    payload = {"user": user.to_public_dict(), "viewer_count": realtime.viewer_count(code)}
    broadcast.presence_changed(event, code, payload, skip_sid=skip_sid)


def room_still_open(context: SocketContext) -> bool:
    """Without Redis the CLI cannot reach our sockets: close them at the room's next event (R44)."""
    if realtime.is_shared:
        return True
    state = room_state_now(context.room_id)
    if state is None or not is_closed(state):
        return True
    close_locally_after_cli(context.room_code, state)
    return False


# letting go -------------------------------------------------------------------


def socket_gone(process_id: str, sid: str) -> None:
    """A socket left (disconnect, dead process, shutdown): USER_LEFT and grace follow (R33, R40).

    A socket the store no longer knows (its room was closed, or it was
    already swept) changes nothing, so closing a room writes nothing back.
    """
    removal = realtime.remove_socket(process_id, sid)
    if removal is None:
        return
    readiness.socket_left(removal.room_code, sid)
    if not removal.was_last_of_user:
        return
    room = find_room(removal.room_code)
    user = db.session.get(User, removal.user_id)
    if room is None or user is None or is_closed(room.state):
        return
    announce("USER_LEFT", room.code, user)
    if user.id == room.host_id:
        start_grace(room)


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
    payload = {"grace_seconds": seconds, "grace_expires_at": expires_at}
    broadcast.host_disconnected(room.code, payload)


def forget_local(sid: str) -> None:
    """Drop a socket that was never fully admitted (refusing it leaves its rooms)."""
    local_sockets.pop(sid)


def disconnect_local(sid: str) -> None:
    """Forget a socket of this process that disconnected."""
    local_sockets.pop(sid)
    socket_gone(PROCESS_ID, sid)


# process liveness (R35) -----------------------------------------------------------


def heartbeat() -> None:
    """Prove this process is alive, re-register after a Redis restart, sweep dead processes."""
    now = time.time()
    if realtime.beat(PROCESS_ID, now):
        reregister_local_sockets()
    dead_after = float(current_app.config["PRESENCE_DEAD_AFTER_SECONDS"])
    for process_id in realtime.silent_processes(now - dead_after):
        if process_id != PROCESS_ID:
            sweep_process(process_id)


def reregister_local_sockets() -> None:
    """Put this process's live sockets back into an emptied store."""
    for context in local_sockets.all():
        record = SocketRecord(context.sid, context.room_code, context.user_id, PROCESS_ID)
        realtime.add_socket(record)


def sweep_process(process_id: str) -> None:
    """Replay a disconnect for each socket of a dead process; only the claimer does (R35)."""
    records = realtime.claim_dead_process(process_id)
    if records is None:
        return
    log.warning("process %s is silent: clearing its %d sockets", process_id, len(records))
    for record in records:
        socket_gone(process_id, record.sid)


def run_heartbeats(app) -> None:
    """Background task: beat every PRESENCE_HEARTBEAT_SECONDS; never dies of an error."""
    interval = float(app.config["PRESENCE_HEARTBEAT_SECONDS"])
    while True:
        with app.app_context():
            try:
                heartbeat()
            except RealtimeUnavailable:
                log.warning("realtime store unavailable; heartbeat will retry")
            except Exception:
                log.exception("heartbeat failed; will retry")
        socketio.sleep(interval)


def leave_all_local_sockets(app) -> None:
    """Clean shutdown: let this process's sockets go, then drop its records."""
    with app.app_context():
        for context in local_sockets.all():
            try:
                disconnect_local(context.sid)
            except Exception:
                log.exception("could not release socket %s", context.sid)
        with contextlib.suppress(RealtimeUnavailable):
            realtime.forget_process(PROCESS_ID)
