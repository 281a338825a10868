"""What sockets ask of the sync engine: TIME_SYNC, SYNC_CHECK, READY, RATE, RESYNC (R110-R132)."""

import time

from flask import current_app

from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.realtime.local_sockets import SocketContext
from watchparty.roles import services as roles
from watchparty.roles.permissions import Action, can
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room
from watchparty.rooms.roster import display_names
from watchparty.sync import health, readiness
from watchparty.sync.clock import time_sync_answer


def time_sync(payload, received_at: float) -> dict | None:
    """NTP's exchange from memory alone: no SQL, no realtime store (R120)."""
    return time_sync_answer(payload, received_at)


def rate_allowed(room: Room, rate: float | None) -> bool:
    """Speeds other than 1 are for rooms whose media is `direct` or none (R123)."""
    return rate is None or rate == 1 or room.media is None or room.media.get("provider") == "direct"


def sync_check(context: SocketContext, check) -> dict:
    """Compare a client's position with the authority; correct that client alone (R60, R61, R130).

    A check against an older version than the room's is stale: answered, never
    corrected, not kept. No SQL while the snapshot is cached.
    """
    now = time.time()
    snapshot = playback.current_snapshot(context.room_code, context.room_id)
    drift = round(check.time - snapshot.time_at(now), 3)
    if check.version is not None and check.version < snapshot.version:
        return {"drift": drift, "corrected": False}
    corrected = abs(drift) > float(current_app.config["SYNC_DRIFT_THRESHOLD_SECONDS"])
    if corrected:
        broadcast.to_own_socket("SYNC_CORRECTION", {**snapshot.payload(now), "drift": drift}, context.sid)
    report = {"drift": drift, "rtt": check.rtt, "buffering": check.buffering}
    try:
        health.record(context.room_code, context.sid, context.user_id, report)
        health.report_arrived(context.room_code, send_health)
    except RealtimeUnavailable:
        pass  # health is soft state; the answer still stands
    return {"drift": drift, "corrected": corrected}


def send_health(code: str) -> None:
    """SYNC_HEALTH to every socket of the host and the cohosts, on any process (R131)."""
    room = db.session.scalar(db.select(Room).where(Room.code == code))
    if room is None:
        return
    sockets = realtime.socket_users(code)
    names = display_names(sorted(set(sockets.values())))
    users = [{"id": user_id, "display_name": name} for user_id, name in sorted(names.items())]
    payload = health.health_payload(code, users, time.time())
    staff = set(roles.staff_user_ids(room))
    for sid, user_id in sockets.items():
        if user_id in staff:
            broadcast.to_socket("SYNC_HEALTH", payload, sid)


def set_ready(context: SocketContext, ready: bool) -> None:
    """A socket says whether its player can play on (R110); a stall may pause the room (R112)."""
    realtime.set_ready(context.room_code, context.sid, context.user_id, ready)
    if ready:
        readiness.shrink(context.room_code)
        return
    snapshot = playback.current_snapshot(context.room_code, context.room_id)
    if not snapshot.is_playing:
        return
    room = db.session.get(Room, context.room_id)
    if room is None or not (room.settings or {}).get("pause_on_buffering"):
        return
    if readiness.may_pause_for(context.room_code, context.user_id):
        readiness.pause_for_buffering(context.room_code, context.room_id)


def change_rate(context: SocketContext, rate: float) -> None:
    """RATE from host or cohost: only the speed changes, at the current position (R123)."""
    room = db.session.get(Room, context.room_id)
    if room is None or not can(roles.role_of(room, context.user_id), Action.COMMAND_PLAYBACK):
        return
    if not rate_allowed(room, rate):
        return
    snapshot = playback.change_playback(room.id, playback.Change("rate", rate=rate))
    readiness.announce_playback(room.code, snapshot)


def resync(context: SocketContext, user_id: int) -> None:
    """RESYNC from host or cohost: that user's sockets seek exactly to the room (R132)."""
    room = db.session.get(Room, context.room_id)
    if room is None or not can(roles.role_of(room, context.user_id), Action.RESYNC):
        return
    now = time.time()
    snapshot = playback.current_snapshot(room.code, room.id)
    reports = realtime.health_reports(room.code, health.KEEP_SECONDS, now)
    for sid, owner in realtime.socket_users(room.code).items():
        if owner == user_id:
            drift = (reports.get(sid) or {}).get("drift") or 0.0
            broadcast.to_socket(
                "SYNC_CORRECTION", {**snapshot.payload(now), "drift": drift, "forced": True}, sid
            )
