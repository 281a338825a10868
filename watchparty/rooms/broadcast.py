"""What the /room namespace hears from services: one function per server event."""

from watchparty.extensions import socketio

NAMESPACE = "/room"


def playback_changed(code: str, snapshot) -> None:
    """Send the new PLAYBACK_STATE to the whole room, host included (R38)."""
    socketio.emit("PLAYBACK_STATE", snapshot.payload(), to=code, namespace=NAMESPACE)


def room_updated(code: str, room: dict) -> None:
    """Send ROOM_UPDATED to the room (R23)."""
    socketio.emit("ROOM_UPDATED", {"room": room}, to=code, namespace=NAMESPACE)


def room_closed(code: str, reason: str) -> None:
    """Send ROOM_CLOSED to the room (R24, R43)."""
    socketio.emit("ROOM_CLOSED", {"reason": reason}, to=code, namespace=NAMESPACE)


def disconnect(sid: str) -> None:
    """Disconnect one socket, on whichever process holds it."""
    socketio.server.disconnect(sid, namespace=NAMESPACE)
