"""What sockets ask of playback: the host's commands, drift checks, player events (R38-R39, R60-R64)."""

import logging
import time

from flask import current_app

from watchparty.extensions import db
from watchparty.progress import services as progress
from watchparty.realtime import socket_server
from watchparty.realtime.local_sockets import SocketContext
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room

log = logging.getLogger(__name__)


def host_command(context: SocketContext, is_playing: bool | None, position: float | None) -> None:
    """Apply the host's PLAY, PAUSE or SEEK: one new version, one PLAYBACK_STATE to all (R38)."""
    if not context.is_host:
        return
    snapshot = playback.change_playback(context.room_id, is_playing=is_playing, position=position)
    playback.remember_snapshot(context.room_code, snapshot)
    broadcast.playback_changed(context.room_code, snapshot)
    socket_server.start_task(record_host_position, context, snapshot.time_at(time.time()))


def record_host_position(context: SocketContext, position: float) -> None:
    """The host's command also moves the host's watch progress (R63).

    A task of its own: under gevent a SQLite write blocks the process, and the
    PLAYBACK_STATE frames just queued for this process's viewers go first.
    """
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
        broadcast.sync_correction(context.sid, {**snapshot.payload(now), "drift": drift})
    return {"drift": drift, "corrected": corrected}


def player_event(context: SocketContext, event: str, position: float, duration: float | None) -> None:
    """The host's player reports progress; playback itself never changes (R62, R64)."""
    if not context.is_host:
        return
    room = db.session.get(Room, context.room_id)
    if room is None or room.media is None:
        return
    progress.record_progress(context.user_id, room, position, duration, ended=event == "ended")
