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


#: How long the host's progress write (R63) waits after a command: the PLAYBACK_STATE
#: fan-out goes first, and a burst of commands (a host scrubbing) costs one write.
HOST_PROGRESS_DELAY_SECONDS = 0.25

#: (room id, user id) -> the position the host's next progress write records, on this process.
_host_positions_due: dict[tuple[int, int], float] = {}


def host_command(context: SocketContext, is_playing: bool | None, position: float | None) -> None:
    """Apply the host's PLAY, PAUSE or SEEK: one new version, one PLAYBACK_STATE to all (R38)."""
    if not context.is_host:
        return
    snapshot = playback.change_playback(context.room_id, is_playing=is_playing, position=position)
    playback.remember_snapshot(context.room_code, snapshot)
    broadcast.playback_changed(context.room_code, snapshot)
    schedule_host_position(context, snapshot.time_at(time.time()))


def schedule_host_position(context: SocketContext, position: float) -> None:
    """Record the host's new position a moment later, once per burst of commands (R63).

    Under gevent a SQLite write blocks the whole process: written at once it
    delays this process's share of the fan-out the command just started.
    """
    key = (context.room_id, context.user_id)
    already_due = key in _host_positions_due
    _host_positions_due[key] = position
    if not already_due:
        app = current_app._get_current_object()
        socket_server.start_background(record_host_position_later, app, context)


def record_host_position_later(app, context: SocketContext) -> None:
    """After the delay, write the latest position due in an app context of its own."""
    socket_server.sleep(HOST_PROGRESS_DELAY_SECONDS)
    socket_server.in_context(app, record_host_position, context)


def record_host_position(context: SocketContext) -> None:
    """Write the latest position due, unless a PLAYER_EVENT has written a fresher one meanwhile."""
    position = _host_positions_due.pop((context.room_id, context.user_id), None)
    if position is None:
        return
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
    _host_positions_due.pop((context.room_id, context.user_id), None)  # this report is fresher
    progress.record_progress(context.user_id, room, position, duration, ended=event == "ended")
