"""Readiness: READY per socket, the ready check, and pausing for a buffering viewer (R110-R112).

A check lives in the realtime store, bound to the playback version current
when it began. Whoever finishes it (the last READY, a departure, or the
deadline's timer on the process that began it) applies its PLAY with a
conditional update on that version, so the PLAY happens once whichever
process gets there first; any newer version cancels it (`cancel_older`).
A check that nobody finishes disappears 2 s after its deadline (its TTL).
"""

import logging
import time

from flask import current_app

from watchparty.extensions import realtime
from watchparty.realtime import RealtimeUnavailable, keys, socket_server
from watchparty.rooms import broadcast, playback
from watchparty.sync import health
from watchparty.sync.timeline import start_lead

log = logging.getLogger(__name__)

BUFFER_PAUSE_EVERY_SECONDS = 30
FORGOTTEN_AFTER_DEADLINE = 2.0
DONE = {"waiting": [], "deadline": None}


def public(check: dict) -> dict:
    """READY_CHECK's payload."""
    return {"waiting": check["waiting"], "deadline": check["deadline"]}


def waiting_users(code: str) -> list[int]:
    """Connected users with a socket that is not ready (R110)."""
    return sorted(set(realtime.present_user_ids(code)) & realtime.not_ready_user_ids(code))


def lead(code: str) -> float:
    """The start lead of R122; only "auto" needs the room's reported round trips."""
    setting = current_app.config["PLAYBACK_LEAD_SECONDS"]
    return start_lead(setting, health.recent_round_trips(code) if setting == "auto" else [])


def begin(code: str, room_id: int, version: int, position: float | None, rate: float | None) -> bool:
    """Start a check for a PLAY of a paused room (R111); False when nobody waits: play at once."""
    pending = realtime.ready_check(code)
    if pending is not None and pending["version"] == version:  # a second PLAY only replaces its time
        changed = {**pending, "time": pending["time"] if position is None else position}
        return realtime.replace_ready_check(code, version, changed)
    waiting = waiting_users(code)
    if not waiting:
        return False
    timeout = float(current_app.config["READY_TIMEOUT_SECONDS"])
    check = {"version": version, "time": position, "rate": rate, "deadline": time.time() + timeout,
             "waiting": waiting, "room_id": room_id}  # fmt: skip
    realtime.save_ready_check(code, check, timeout + FORGOTTEN_AFTER_DEADLINE)
    broadcast.ready_check(code, public(check))
    socket_server.start_background(_at_deadline, current_app._get_current_object(), code, version, timeout)
    return True


def _at_deadline(app, code: str, version: int, timeout: float) -> None:
    socket_server.sleep(timeout)
    with app.app_context():
        try:
            check = realtime.ready_check(code)
            if check is not None and check["version"] == version:
                complete(code, check)
        except Exception:  # a task has nobody to report to but the log
            log.exception("could not finish the ready check of room %s", code)


def complete(code: str, check: dict) -> None:
    """Apply the check's PLAY once (conditional on its version), then announce the end."""
    change = playback.Change("play", position=check["time"], rate=check["rate"], lead=lead(code))
    snapshot = playback.change_playback(check["room_id"], change, bound_version=check["version"])
    if snapshot is not None:  # else another process applied it, or a newer version cancelled it
        announce_playback(code, snapshot)


def announce_playback(code: str, snapshot) -> None:
    """Every new playback version goes out here: cached, sent to the room, older check cancelled.

    Cached before it is sent, so a socket admitted meanwhile bootstraps with it or
    receives it; the closed-room check and the ready check wait until it is sent.
    With the Redis queue the PLAYBACK_STATE is published by the script that caches
    it (one round trip), then delivered to this process's own sockets, whose
    writers send it before the checks that follow.
    """
    queued = broadcast.queued_playback(code, snapshot) if realtime.is_shared else None
    publish = None if queued is None else (queued.channel, queued.encoded)
    cached, check = playback.cache_snapshot(code, snapshot, publish)
    if queued is None:
        broadcast.playback_changed(code, snapshot)
    else:
        socket_server.deliver_locally(queued)
    # This process's socket writers now hold the frames: let them send before the SQL
    # read below, which blocks the whole process under gevent.
    socket_server.sleep(0)
    if cached:
        playback.take_back_if_closed(code)
    cancel_older(code, snapshot.version, check)


def shrink(code: str) -> None:
    """Someone became ready or left: update the waiting list, finishing the check when it empties."""
    check = realtime.ready_check(code)
    if check is None:
        return
    still = set(waiting_users(code))
    waiting = [user_id for user_id in check["waiting"] if user_id in still]
    if waiting == check["waiting"]:
        return
    if not waiting:
        complete(code, check)
    elif realtime.replace_ready_check(code, check["version"], {**check, "waiting": waiting}):
        broadcast.ready_check(code, public({**check, "waiting": waiting}))


def cancel_older(code: str, version: int, check: dict | None) -> None:
    """A new playback version ends a check bound to an older one: applied, or cancelled (R111).

    `check` is the pending check as read when the version was cached.
    """
    try:
        stale = check is not None and check["version"] < version
        if stale and realtime.replace_ready_check(code, check["version"], None):
            broadcast.ready_check(code, DONE)
    except RealtimeUnavailable:
        pass


def may_pause_for(code: str, user_id: int) -> bool:
    """One user pauses the room by buffering at most once per 30 s (R112)."""
    return realtime.claim_slot(keys.room_buffer_pause(code, user_id), BUFFER_PAUSE_EVERY_SECONDS) == 0.0


def start_or_play(code: str, room_id: int, version: int, position: float | None, rate: float | None) -> None:
    """Begin a check bound to `version`, or, with nobody to wait for, play at once on that version."""
    if not begin(code, room_id, version, position, rate):
        complete(code, {"room_id": room_id, "version": version, "time": position, "rate": rate})


def pause_for_buffering(code: str, room_id: int) -> None:
    """Pause everyone for a stalled viewer, then resume through a ready check (R112)."""
    snapshot = playback.change_playback(room_id, playback.Change("pause"))
    announce_playback(code, snapshot)
    start_or_play(code, room_id, snapshot.version, snapshot.position, None)


def socket_left(code: str, sid: str) -> None:
    """Forget a departed socket's readiness and health; the check may no longer wait for it."""
    realtime.forget_socket_sync(code, sid)
    shrink(code)
