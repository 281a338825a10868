"""What sockets ask of playback: commands by role and player events (R38-R64, R100, R106, R121-R123)."""

import logging
import time

from flask import current_app

from watchparty.extensions import db, realtime
from watchparty.progress import services as progress
from watchparty.queue import advance as queue_advance
from watchparty.realtime import socket_server
from watchparty.realtime.local_sockets import SocketContext
from watchparty.roles import handover
from watchparty.roles.permissions import Action, Role, can
from watchparty.roles.services import role_of
from watchparty.roles.settings import effective_settings
from watchparty.rooms import playback
from watchparty.rooms.lifecycle import RoomState
from watchparty.rooms.models import Room
from watchparty.rooms.services import RoomRow, command_room
from watchparty.sync import control as sync_control
from watchparty.sync import readiness

log = logging.getLogger(__name__)


#: How long the host's progress write (R63) waits after a command: the PLAYBACK_STATE
#: fan-out goes first, and a burst of commands (a host scrubbing) costs one write.
HOST_PROGRESS_DELAY_SECONDS = 0.25

#: (room id, user id) -> the position the host's next progress write records, on this process.
_host_positions_due: dict[tuple[int, int], float] = {}


def playback_command(
    context: SocketContext, kind: str, position: float | None, rate: float | None = None
) -> None:
    """PLAY, PAUSE or SEEK from host or cohost; a viewer's PAUSE within its budget (R38, R100, R106, R123)."""
    room, role, playing = command_room_and_role(context)
    if room is None:
        return
    if can(role, Action.COMMAND_PLAYBACK):
        if not sync_control.rate_allowed(room, rate):
            return  # speeds other than 1 are for direct media (R123)
        snapshot = start_or_apply(context, room, kind, position, rate, playing)
        if snapshot is not None and role is Role.HOST and kind != "rate":  # R63: PLAY, PAUSE, SEEK
            schedule_host_position(context, snapshot.time_at(time.time()))
    elif kind == "pause" and can(role, Action.PAUSE_ON_BUDGET):
        viewer_pause(context, room)


def start_or_apply(context: SocketContext, room: RoomRow | Room, kind: str, position: float | None,
                   rate: float | None, playing: bool | None):  # fmt: skip
    """A PLAY of a paused room with start_when_ready starts a ready check (R111); the rest applies now."""
    if kind == "play" and effective_settings(room.settings)["start_when_ready"]:
        current = playback.current_snapshot(room.code, room.id)
        if not current.is_playing and readiness.begin(room.code, room.id, current.version, position, rate):
            return None
    return apply_playback(context, kind, position, rate, playing)


def needs_lead(kind: str, playing: bool | None) -> bool:
    """A PLAY, or a SEEK of a room that is (or may be) playing, can start playback (R122)."""
    return kind == "play" or (kind == "seek" and (playing is None or bool(playing)))


def apply_playback(
    context: SocketContext,
    kind: str,
    position: float | None,
    rate: float | None = None,
    playing: bool | None = None,
):
    """One new version, one PLAYBACK_STATE to the room; a start takes effect after the lead (R38, R122).

    `playing`: whether the room played when the command read it (None: unknown). A SEEK of a paused
    room takes effect at once, so it skips reading the room's round trips for the lead.
    """
    lead = readiness.lead(context.room_code) if needs_lead(kind, playing) else 0.0
    change = playback.Change(kind, position=position, rate=rate, lead=lead)
    snapshot = playback.change_playback(context.room_id, change)
    readiness.announce_playback(context.room_code, snapshot)
    return snapshot


def viewer_pause(context: SocketContext, room: RoomRow | Room) -> None:
    """A viewer pauses a playing room, counted against viewer_pause_limit (R106); its time is ignored."""
    limit = effective_settings(room.settings)["viewer_pause_limit"]
    if limit == 0 or not playback.current_snapshot(room.code, room.id).is_playing:
        return
    window = float(current_app.config["VIEWER_PAUSE_WINDOW_SECONDS"])
    if realtime.count_pause(room.code, context.user_id, limit, window):
        apply_playback(context, "pause", None)
    else:
        message = f"You have used your {limit} pauses for now."
        socket_server.emit_to_own_socket("ERROR", {"code": "pause_limit", "message": message}, context.sid)


def command_room_and_role(context: SocketContext) -> tuple[RoomRow | Room | None, Role | None, bool | None]:
    """The room, the sender's role and whether it plays, in one query.

    A cohost in a GRACE room reads as room_and_role does (playing then unknown: None).
    """
    found = command_room(context.room_id, context.user_id)
    if found is None:
        return None, None, None
    room, role, playing = found
    if room.state == RoomState.GRACE and role is Role.COHOST:
        return (*room_and_role(context), None)  # its event may hand the room over (R104)
    return room, role, playing


def room_and_role(context: SocketContext) -> tuple[Room | None, Role | None]:
    """The room and the sender's role, read afresh; a cohost's event may notice a lapsed grace (R104)."""
    room = db.session.get(Room, context.room_id, populate_existing=True)
    if room is None:
        return None, None
    handover.notice_lapse(room, context.user_id)
    return room, role_of(room, context.user_id)


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


def player_event(context: SocketContext, event: str, position: float, duration: float | None,
                 media_version: int | None = None) -> None:  # fmt: skip
    """The host's player reports progress (R62, R64); an accepted `ended` may advance the queue (R155)."""
    room, role = room_and_role(context)
    if room is None or role is not Role.HOST or room.media is None:
        return
    seen = room.media_version  # read before record_progress commits: the room may move on meanwhile
    if media_version is not None and media_version != seen:
        return  # a report about media the room has moved on from (R150a)
    _host_positions_due.pop((context.room_id, context.user_id), None)  # this report is fresher
    progress.record_progress(context.user_id, room, position, duration, ended=event == "ended")
    if event == "ended":
        queue_advance.ended(room, position, seen)
