"""What the /room namespace hears from services: one function per server event.

Inside a server process events go through the app's Socket.IO server; from
the CLI they go through a write-only emitter on the message queue (STACK.md).
"""

from flask_socketio import SocketIO

from watchparty.extensions import socketio
from watchparty.realtime.queue import queue_manager

NAMESPACE = "/room"

_external: SocketIO | None = None


def use_external_emitter(redis_url: str) -> None:
    """Send events from outside the server (the CLI) through the Redis message queue."""
    global _external
    _external = SocketIO(
        message_queue=redis_url,
        async_mode="threading",
        client_manager=queue_manager(redis_url, write_only=True),
    )


def emitter() -> SocketIO:
    return _external or socketio


def playback_changed(code: str, snapshot) -> None:
    """Send the new PLAYBACK_STATE to the whole room, host included (R38)."""
    emitter().emit("PLAYBACK_STATE", snapshot.payload(), to=code, namespace=NAMESPACE)


def presence_changed(event: str, code: str, payload: dict, skip_sid: str | None = None) -> None:
    """Send USER_JOINED or USER_LEFT to the room (R32, R33)."""
    emitter().emit(event, payload, to=code, skip_sid=skip_sid, namespace=NAMESPACE)


def host_disconnected(code: str, payload: dict) -> None:
    """Send HOST_DISCONNECTED to the room (R40)."""
    emitter().emit("HOST_DISCONNECTED", payload, to=code, namespace=NAMESPACE)


def host_reconnected(code: str) -> None:
    """Send HOST_RECONNECTED to the room (R41)."""
    emitter().emit("HOST_RECONNECTED", {}, to=code, namespace=NAMESPACE)


def chat_message(code: str, message: dict) -> None:
    """Send CHAT to the whole room, sender included (R50)."""
    emitter().emit("CHAT", message, to=code, namespace=NAMESPACE)


def room_updated(code: str, room: dict) -> None:
    """Send ROOM_UPDATED to the room (R23)."""
    emitter().emit("ROOM_UPDATED", {"room": room}, to=code, namespace=NAMESPACE)


def room_closed(code: str, reason: str) -> None:
    """Send ROOM_CLOSED to the room (R24, R43)."""
    emitter().emit("ROOM_CLOSED", {"reason": reason}, to=code, namespace=NAMESPACE)


def to_own_socket(event: str, payload: dict, sid: str) -> None:
    """Send to one socket of this process without publishing it to every other process."""
    socketio.emit(event, payload, to=sid, namespace=NAMESPACE, ignore_queue=True)


def socket_closed(sid: str, reason: str) -> None:
    """Send ROOM_CLOSED to one socket."""
    emitter().emit("ROOM_CLOSED", {"reason": reason}, to=sid, namespace=NAMESPACE)


def disconnect(sid: str) -> None:
    """Disconnect one socket, on whichever process holds it."""
    emitter().server.disconnect(sid, namespace=NAMESPACE)


def to_socket(event: str, payload: dict, sid: str) -> None:
    """Send to one socket, on whichever process holds it."""
    emitter().emit(event, payload, to=sid, namespace=NAMESPACE)


def ready_check(code: str, payload: dict) -> None:
    """Send READY_CHECK to the room (R111)."""
    emitter().emit("READY_CHECK", payload, to=code, namespace=NAMESPACE)
