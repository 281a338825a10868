"""Chat over sockets: CHAT to the whole room, ERROR to its sender, CHAT_HISTORY to a new socket."""

import time

from watchparty.chat import services
from watchparty.extensions import db
from watchparty.realtime import socket_server
from watchparty.realtime.local_sockets import SocketContext
from watchparty.roles import handover
from watchparty.rooms import playback
from watchparty.rooms.models import Room


def send_chat(context: SocketContext, text: str) -> None:
    """Store and broadcast a chat message, or tell the sender why not (R50-R56)."""
    room = db.session.get(Room, context.room_id)
    if room is None:
        return
    handover.notice_lapse(room, context.user_id)  # a cohost's message may find the host gone (R104)
    media_time = None  # R57: null for a room without media
    if room.media is not None:
        media_time = playback.current_snapshot(room.code, room.id).time_at(time.time())
    try:
        message = services.post_message(room, context.user_id, text, media_time=media_time)
    except services.ChatRefused as refusal:
        socket_server.emit_to_own_socket("ERROR", refusal.payload(), context.sid)
        return
    if message is not None:
        socket_server.emit("CHAT", message, to=context.room_code)


def send_history(sid: str, room: Room) -> None:
    """Send a new socket the room's newest messages as CHAT_HISTORY (R32)."""
    messages = services.bootstrap_messages(room)
    socket_server.emit_to_own_socket("CHAT_HISTORY", {"messages": messages}, sid)
