"""Host-authoritative playback commands, player events and chat (R38-R39, R50-R57, R62-R64)."""

import logging
import time

from flask import current_app

from watchparty import chat
from watchparty.extensions import db, socketio
from watchparty.progress import services as progress
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room
from watchparty.rooms.sockets import SocketContext
from watchparty.sync import control as control_sync
from watchparty.sync import readiness

log = logging.getLogger(__name__)


def host_command(
    context: SocketContext, kind: str, position: float | None, rate: float | None = None
) -> None:
    """Apply the host's PLAY, PAUSE or SEEK: one new version, one PLAYBACK_STATE to all (R38, R121-R123).

    A PLAY of a paused room with `start_when_ready` starts a ready check instead (R111).
    """
    if not context.is_host:
        return
    room = db.session.get(Room, context.room_id)
    if room is None or not control_sync.rate_allowed(room, rate):
        return
    if kind == "play" and (room.settings or {}).get("start_when_ready"):
        current = playback.current_snapshot(room.code, room.id)
        if not current.is_playing and readiness.begin(room.code, room.id, current.version, position, rate):
            return
    lead = readiness.lead(room.code) if kind in ("play", "seek") else 0.0
    change = playback.Change(kind, position=position, rate=rate, lead=lead)
    snapshot = playback.change_playback(context.room_id, change)
    readiness.announce_playback(context.room_code, snapshot)
    app = current_app._get_current_object()
    socketio.start_background_task(record_host_position, app, context, snapshot.time_at(time.time()))


def record_host_position(app, context: SocketContext, position: float) -> None:
    """The host's command also moves the host's watch progress (R63).

    A task of its own: under gevent a SQLite write blocks the process, and the
    PLAYBACK_STATE frames just queued for this process's viewers go first.
    """
    with app.app_context():
        try:
            room = db.session.get(Room, context.room_id)
            if room is not None and room.media is not None:
                progress.record_progress(context.user_id, room, position, None)
        except Exception:  # a task has nobody to report to but the log
            log.exception("could not record the host's progress in room %s", context.room_code)


def player_event(context: SocketContext, event: str, position: float, duration: float | None) -> None:
    """The host's player reports progress; playback itself never changes (R62, R64)."""
    if not context.is_host:
        return
    room = db.session.get(Room, context.room_id)
    if room is None or room.media is None:
        return
    progress.record_progress(context.user_id, room, position, duration, ended=event == "ended")


def send_chat(context: SocketContext, text: str) -> None:
    """Store and broadcast a chat message, or tell the sender why not (R50-R56)."""
    room = db.session.get(Room, context.room_id)
    if room is None:
        return
    snapshot = playback.current_snapshot(room.code, room.id)
    try:
        message = chat.post_message(room, context.user_id, text, media_time=snapshot.time_at(time.time()))
    except chat.ChatRefused as refusal:
        broadcast.to_own_socket("ERROR", refusal.payload(), context.sid)
        return
    if message is not None:
        broadcast.chat_message(context.room_code, message)
