"""What sockets ask of the sync engine: TIME_SYNC, SYNC_CHECK, READY, RATE, RESYNC (R110-R132)."""

import time

from flask import current_app

from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.realtime.local_sockets import SocketContext
from watchparty.roles import services as roles
from watchparty.roles.permissions import Action, Role, can
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room
from watchparty.rooms.roster import display_names, role_name
from watchparty.sync import health, readiness
from watchparty.sync.timeline import speeds_allowed


def rate_allowed(room: Room, rate: float | None) -> bool:
    """A rate other than 1 only for media our own player plays (R123)."""
    return rate is None or rate == 1 or speeds_allowed(room.media)


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
        broadcast.sync_correction(context.sid, {**snapshot.payload(now), "drift": drift})
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
    cohost_ids = roles.cohost_ids(room.id)
    for sid, user_id in sockets.items():
        if can(Role(role_name(room, user_id, cohost_ids)), Action.RECEIVE_SYNC_HEALTH):
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


def resync(context: SocketContext, user_id: int) -> None:
    """RESYNC from host or cohost: that user's sockets seek exactly to the room (R132)."""
    room = db.session.get(Room, context.room_id)
    if room is None or not can(roles.role_of(room, context.user_id), Action.RESYNC):
        return
    now = time.time()
    snapshot = playback.current_snapshot(room.code, room.id)
    reports = realtime.health_reports(room.code, health.KEEP_SECONDS, now)
    for record in realtime.user_sockets(room.code, user_id):
        drift = (reports.get(record.sid) or {}).get("drift") or 0.0
        payload = {**snapshot.payload(now), "drift": drift, "forced": True}
        broadcast.to_socket("SYNC_CORRECTION", payload, record.sid)
