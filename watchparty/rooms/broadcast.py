"""What the /room namespace hears about a room: one function per server event (R32-R43, R100-R156)."""

from watchparty.realtime import socket_server


def playback_changed(code: str, snapshot) -> None:
    """Send the new PLAYBACK_STATE to the whole room, host included (R38)."""
    socket_server.emit("PLAYBACK_STATE", snapshot.payload(), to=code)


def queued_playback(code: str, snapshot) -> socket_server.QueuedEmit | None:
    """The room's PLAYBACK_STATE encoded for the Redis queue, for the caching script to publish."""
    return socket_server.queued_room_emit("PLAYBACK_STATE", snapshot.payload(), to=code)


def presence_changed(event: str, code: str, payload: dict, skip_sid: str | None = None) -> None:
    """Send USER_JOINED or USER_LEFT to the room (R32, R33)."""
    socket_server.emit(event, payload, to=code, skip_sid=skip_sid)


def host_disconnected(code: str, payload: dict) -> None:
    """Send HOST_DISCONNECTED to the room (R40)."""
    socket_server.emit("HOST_DISCONNECTED", payload, to=code)


def host_reconnected(code: str) -> None:
    """Send HOST_RECONNECTED to the room (R41)."""
    socket_server.emit("HOST_RECONNECTED", {}, to=code)


def room_updated(code: str, room: dict) -> None:
    """Send ROOM_UPDATED to the room (R23)."""
    socket_server.emit("ROOM_UPDATED", {"room": room}, to=code)


def room_closed(code: str, reason: str) -> None:
    """Send ROOM_CLOSED to the room (R24, R43)."""
    socket_server.emit("ROOM_CLOSED", {"reason": reason}, to=code)


def socket_closed(sid: str, reason: str) -> None:
    """Send ROOM_CLOSED to one socket."""
    socket_server.emit("ROOM_CLOSED", {"reason": reason}, to=sid)


def bootstrap(sid: str, snapshot, presence: dict) -> None:
    """Send a new socket its PLAYBACK_STATE and PRESENCE (R32)."""
    socket_server.emit_to_own_socket("PLAYBACK_STATE", snapshot.payload(), sid)
    socket_server.emit_to_own_socket("PRESENCE", presence, sid)


def sync_correction(sid: str, payload: dict) -> None:
    """Send SYNC_CORRECTION to the one socket that drifted (R60)."""
    socket_server.emit_to_own_socket("SYNC_CORRECTION", payload, sid)


def role_changed(code: str, user: dict, role: str) -> None:
    """Send ROLE_CHANGED to the room, the user's own sockets included (R102)."""
    socket_server.emit("ROLE_CHANGED", {"user": user, "role": role}, to=code)


def host_changed(code: str, host: dict, previous: dict) -> None:
    """Send HOST_CHANGED to the room (R103, R104)."""
    socket_server.emit("HOST_CHANGED", {"host": host, "previous": previous}, to=code)


def kicked(sid: str, reason: str) -> None:
    """Tell one socket it was removed ("kicked" or "banned"), then disconnect it (R105)."""
    socket_server.emit("KICKED", {"reason": reason}, to=sid)
    socket_server.disconnect(sid)


def queue_updated(code: str, queue: dict) -> None:
    """Send QUEUE_UPDATED `{items, version}` to the room (R153)."""
    socket_server.emit("QUEUE_UPDATED", queue, to=code)


def skip_votes(code: str, votes: dict) -> None:
    """Send SKIP_VOTES `{votes, needed}` to the room (R156)."""
    socket_server.emit("SKIP_VOTES", votes, to=code)


def to_socket(event: str, payload: dict, sid: str) -> None:
    """Send to one socket, on whichever process holds it (SYNC_HEALTH, a forced SYNC_CORRECTION)."""
    socket_server.emit(event, payload, to=sid)


def ready_check(code: str, payload: dict) -> None:
    """Send READY_CHECK to the room (R111)."""
    socket_server.emit("READY_CHECK", payload, to=code)
