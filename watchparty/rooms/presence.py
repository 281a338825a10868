"""Who is in a room: admitting a socket, bootstrapping it, letting it go (R30-R33)."""

from flask import current_app

from watchparty.auth.models import User
from watchparty.auth.sessions import SocketUser
from watchparty.auth.tokens import user_from_token
from watchparty.chat import messaging as chat_messaging
from watchparty.extensions import db, realtime
from watchparty.queue import services as queue
from watchparty.queue import voting
from watchparty.realtime import RealtimeUnavailable, SocketRecord, TooManySockets, socket_server
from watchparty.realtime.base import RoomView
from watchparty.realtime.local_sockets import PROCESS_ID, SocketContext, local_sockets
from watchparty.roles import services as roles
from watchparty.roles.permissions import Role
from watchparty.rooms import broadcast, closing, grace, playback
from watchparty.rooms.lifecycle import CLOSED_STATES, RoomState, is_closed
from watchparty.rooms.models import Room
from watchparty.rooms.refusals import (
    BANNED,
    NOT_A_PARTICIPANT,
    ROOM_CLOSED,
    ROOM_NOT_FOUND,
    SERVICE_UNAVAILABLE,
    TOO_MANY_CONNECTIONS,
    UNAUTHORIZED,
    ConnectionRefused,
)
from watchparty.rooms.roster import presence_payload
from watchparty.rooms.services import RoomRow, find_room, room_state, socket_admission
from watchparty.sync import readiness

MAX_CODE_LENGTH = 64

# admitting --------------------------------------------------------------------


def connect(sid: str, token, code) -> None:
    """Admit a socket into its room and bootstrap it (R30-R32, R41); raise ConnectionRefused."""
    user = user_from_token(token)
    if user is None:
        raise ConnectionRefused(UNAUTHORIZED)
    try:
        admit(sid, user, *admissible_room(code, user))
    except RealtimeUnavailable:
        local_sockets.pop(sid)  # refusing the socket makes it leave its Socket.IO rooms
        raise ConnectionRefused(SERVICE_UNAVAILABLE) from None
    socket_server.when_connected(sid, confirm_admission, sid)


def admissible_room(code, user: SocketUser) -> tuple[RoomRow | Room, Role]:
    """Return the room the user may enter and their role in it, checking R31's codes in order.

    A room in GRACE is read again as the ORM row the grace rules act on (R42-R44, R104).
    """
    found = socket_admission(code, user.id) if isinstance(code, str) and len(code) < MAX_CODE_LENGTH else None
    if found is None:
        raise ConnectionRefused(ROOM_NOT_FOUND)
    room, role, banned = found
    if is_closed(room.state):
        if not realtime.is_shared:
            grace.close_after_offline_cli(room.code, room.state)
        raise ConnectionRefused(ROOM_CLOSED)
    if room.state == RoomState.GRACE:
        room = db.session.get(Room, room.id)
        if room is None or (not grace.grace_is_running(room) and not grace.survives_lapse(room)):
            raise ConnectionRefused(ROOM_CLOSED)
    if banned:
        raise ConnectionRefused(BANNED)
    if role is None:
        raise ConnectionRefused(NOT_A_PARTICIPANT)
    return room, role


def admit(sid: str, user: SocketUser, room: RoomRow | Room, role: Role) -> None:
    """Record the socket in its room, then bootstrap it and announce the user's first socket."""
    context = SocketContext(sid, room.id, room.code, user.id)
    socket_server.enter_room(sid, room.code)
    socket_server.enter_room(sid, socket_server.session_room(user.session_id))
    local_sockets.add(context)
    first, view = record_socket(SocketRecord(sid, room.code, user.id, PROCESS_ID), room.media_version)
    if room_state(room.id) in CLOSED_STATES:  # closed while we were admitting
        local_sockets.pop(sid)
        realtime.remove_socket(PROCESS_ID, sid)
        raise ConnectionRefused(ROOM_CLOSED)
    if user.id == room.host_id:
        grace.host_arrived(room)
    send_bootstrap(sid, room, view)
    if first:
        announce("USER_JOINED", room, user, role, skip_sid=sid, viewer_count=len(view.present_user_ids))


def record_socket(record: SocketRecord, media_version: int) -> tuple[bool, RoomView]:
    """Record the socket and read its room's view, unless its user holds MAX_SOCKETS_PER_USER (R174).

    True for the user's first socket in the room.
    """
    try:
        return realtime.admit_socket(record, int(current_app.config["MAX_SOCKETS_PER_USER"]), media_version)
    except TooManySockets:
        local_sockets.pop(record.sid)  # refusing the socket makes it leave its Socket.IO rooms
        raise ConnectionRefused(TOO_MANY_CONNECTIONS) from None


def confirm_admission(sid: str) -> None:
    """Once the server has connected the sid: catch a room closed while it was connecting.

    python-socketio ignores a disconnect for a sid whose connect handler is
    still running, so a close that raced the connect may have missed it; the
    close also removed the sid's record, which is how we notice (R24, R43).
    """
    context = local_sockets.get(sid)
    if context is None:
        return
    try:
        if realtime.has_socket(context.room_code, sid):
            return
    except RealtimeUnavailable:
        return  # the heartbeat re-registers our sockets when Redis is back
    state = room_state(context.room_id)
    if state in CLOSED_STATES:
        closing.forget_room(context.room_code)  # what this connect wrote after the close
        closing.close_socket(sid, reason=closing.closing_reason(state))


def send_bootstrap(sid: str, room: RoomRow | Room, view: RoomView) -> None:
    """Send one PLAYBACK_STATE, PRESENCE, CHAT_HISTORY, QUEUE_UPDATED, SKIP_VOTES; any READY_CHECK (R100a).

    The room's soft state is the view read when the socket was recorded; the
    queue's version is the one read with the room at admission.
    """
    snapshot = playback.snapshot_from(view.playback, room.code, room.id)
    broadcast.bootstrap(sid, snapshot, presence_payload(room, view.present_user_ids))
    chat_messaging.send_history(sid, room)
    socket_server.emit_to_own_socket("QUEUE_UPDATED", queue.queue_payload(room.id, room.queue_version), sid)
    votes = voting.counted_votes(room, view.skip_votes, len(view.present_user_ids))
    socket_server.emit_to_own_socket("SKIP_VOTES", votes, sid)
    if view.ready_check is not None:
        socket_server.emit_to_own_socket("READY_CHECK", readiness.public(view.ready_check), sid)  # R100a


def announce(event: str, room: RoomRow | Room, user: User | SocketUser, role: Role | None,
             skip_sid: str | None = None, viewer_count: int | None = None) -> None:  # fmt: skip
    """Send USER_JOINED or USER_LEFT with the user's role and the new viewer count (R32, R33, R100a)."""
    user_payload = {**user.to_public_dict(), "role": role.value if role else "viewer"}
    count = realtime.viewer_count(room.code) if viewer_count is None else viewer_count
    payload = {"user": user_payload, "viewer_count": count}
    broadcast.presence_changed(event, room.code, payload, skip_sid=skip_sid)


# letting go -------------------------------------------------------------------


def disconnect(sid: str) -> None:
    """Forget a socket of this process that disconnected (R33, R40)."""
    local_sockets.pop(sid)
    socket_gone(PROCESS_ID, sid)


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
    announce("USER_LEFT", room, user, roles.role_of(room, user.id))  # None once banned: left as a viewer
    if user.id == room.host_id:
        grace.start_grace(room)
