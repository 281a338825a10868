"""Host-authoritative playback commands, drift checks and player events (R38-R39, R60-R64)."""

import logging
import time

from flask import current_app

from watchparty import chat
from watchparty.extensions import db, socketio
from watchparty.progress import services as progress
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room
from watchparty.rooms.sockets import SocketContext

log = logging.getLogger(__name__)


def host_command(context: SocketContext, is_playing: bool | None, position: float | None) -> None:
    """Apply the host's PLAY, PAUSE or SEEK: one new version, one PLAYBACK_STATE to all (R38)."""
    if not context.is_host:
        return
    snapshot = playback.change_playback(context.room_id, is_playing=is_playing, position=position)
    playback.remember_snapshot(context.room_code, snapshot)
    broadcast.playback_changed(context.room_code, snapshot)
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


def sync_check(context: SocketContext, client_time: float) -> dict:
    """Compare a client's position with the authority; correct that client alone (R60, R61)."""
    now = time.time()
    snapshot = playback.current_snapshot(context.room_code, context.room_id)
    authoritative = snapshot.time_at(now)
    drift = round(client_time - authoritative, 3)
    corrected = abs(drift) > float(current_app.config["SYNC_DRIFT_THRESHOLD_SECONDS"])
    if corrected:
        broadcast.to_own_socket("SYNC_CORRECTION", {**snapshot.payload(now), "drift": drift}, context.sid)
    return {"drift": drift, "corrected": corrected}


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
    try:
        message = chat.post_message(room, context.user_id, text)
    except chat.ChatRefused as refusal:
        broadcast.to_own_socket("ERROR", refusal.payload(), context.sid)
        return
    if message is not None:
        broadcast.chat_message(context.room_code, message)
