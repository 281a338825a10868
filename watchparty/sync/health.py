"""Sync health: what each socket reports with SYNC_CHECK, and SYNC_HEALTH for host and cohosts (R130-R131).

Reports live in the realtime store for KEEP_SECONDS. SYNC_HEALTH goes out at
most once per SYNC_HEALTH_INTERVAL_SECONDS per room, whichever process got the
report: the first report of an interval takes the room's slot (SET NX PX) and
sends; a report inside a taken slot makes its process send once at the slot's
end (trying the slot again, so another process that already sent wins).
"""

import logging
import threading
import time

from flask import current_app

from watchparty.extensions import realtime
from watchparty.realtime import RealtimeUnavailable, keys, socket_server

log = logging.getLogger(__name__)

KEEP_SECONDS = 30.0

_trailing: set[str] = set()  # rooms with a trailing send scheduled by this process
_trailing_lock = threading.Lock()


def record(code: str, sid: str, user_id: int, report: dict) -> None:
    """Keep one socket's last drift, rtt and buffering (R130)."""
    realtime.record_health(code, sid, {**report, "user_id": user_id, "at": time.time()}, KEEP_SECONDS)


def recent_round_trips(code: str) -> list[float]:
    """The round trips reported in the room in the last 30 s (R122's "auto" lead)."""
    try:
        reports = realtime.health_reports(code, KEEP_SECONDS, time.time())
    except RealtimeUnavailable:
        return []
    return [r["rtt"] for r in reports.values() if r.get("rtt") is not None]


def worst_by_user(reports: dict[str, dict], now: float) -> dict[int, dict]:
    """Each user's socket with the largest |drift|, with the report's age (R131)."""
    worst: dict[int, dict] = {}
    for report in reports.values():
        drift = report.get("drift")
        mine = worst.get(report["user_id"])
        if mine is None or abs(drift or 0) > abs(mine.get("drift") or 0):
            worst[report["user_id"]] = report
    return {
        user_id: {
            "drift": r.get("drift"),
            "rtt": r.get("rtt"),
            "buffering": r.get("buffering"),
            "age": round(max(0.0, now - r["at"]), 3),
        }
        for user_id, r in worst.items()
    }


def health_payload(code: str, users: list[dict], now: float) -> dict:
    """SYNC_HEALTH for the connected `users` ({id, display_name}); nulls for those who never reported."""
    worst = worst_by_user(realtime.health_reports(code, KEEP_SECONDS, now), now)
    empty = {"drift": None, "rtt": None, "buffering": None, "age": None}
    return {"users": [{"id": u["id"], "display_name": u["display_name"], **worst.get(u["id"], empty)}
                      for u in users]}  # fmt: skip


def report_arrived(code: str, send) -> None:
    """Send now if the room's interval is free, else once at its end; `send()` does the sending.

    A report that finds this process's trailing send already queued is covered by
    it (that send reads every report when it fires), so it costs no Redis call.
    """
    with _trailing_lock:
        if code in _trailing:
            return
    interval = float(current_app.config["SYNC_HEALTH_INTERVAL_SECONDS"])
    left = realtime.claim_slot(keys.room_health_sent(code), interval)
    if left == 0.0:
        socket_server.start_task(_send_logged, code, send)
        return
    with _trailing_lock:
        if code in _trailing:
            return
        _trailing.add(code)
    socket_server.start_background(_send_later, current_app._get_current_object(), code, send, left, interval)


def _send_later(app, code: str, send, delay: float, interval: float) -> None:
    socket_server.sleep(delay)
    with _trailing_lock:
        _trailing.discard(code)
    with app.app_context():
        try:
            if realtime.claim_slot(keys.room_health_sent(code), interval) == 0.0:
                _send_logged(code, send)
        except RealtimeUnavailable:
            pass


def _send_logged(code: str, send) -> None:
    try:
        send(code)
    except Exception:  # a task has nobody to report to but the log
        log.exception("could not send SYNC_HEALTH in room %s", code)
