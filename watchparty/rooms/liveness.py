"""Process liveness (R35): heartbeat, sweeping dead processes, letting go at shutdown."""

import contextlib
import logging
import time

from flask import Flask, current_app

from watchparty.extensions import realtime
from watchparty.ops import draining, metrics
from watchparty.realtime import RealtimeUnavailable, SocketRecord, socket_server
from watchparty.realtime.local_sockets import PROCESS_ID, local_sockets
from watchparty.rooms import presence

log = logging.getLogger(__name__)


def heartbeat() -> None:
    """Prove this process is alive, re-register after a Redis restart, sweep dead processes."""
    now = time.time()
    if realtime.beat(PROCESS_ID, now):
        reregister_local_sockets()
    dead_after = float(current_app.config["PRESENCE_DEAD_AFTER_SECONDS"])
    for process_id in realtime.silent_processes(now - dead_after):
        if process_id != PROCESS_ID:
            sweep_process(process_id)


def reregister_local_sockets() -> None:
    """Put this process's live sockets back into an emptied store."""
    for context in local_sockets.all():
        record = SocketRecord(context.sid, context.room_code, context.user_id, PROCESS_ID)
        realtime.add_socket(record)


def sweep_process(process_id: str) -> None:
    """Replay a disconnect for each socket of a dead process; only the claimer does (R35)."""
    records = realtime.claim_dead_process(process_id)
    if records is None:
        return
    metrics.DEAD_PROCESSES_SWEPT.inc()
    log.warning("process %s is silent: clearing its %d sockets", process_id, len(records))
    for record in records:
        presence.socket_gone(process_id, record.sid)


def run_heartbeats(app: Flask) -> None:
    """Background task: beat every PRESENCE_HEARTBEAT_SECONDS until draining (R184); never dies."""
    interval = float(app.config["PRESENCE_HEARTBEAT_SECONDS"])
    while not draining.is_draining():
        with app.app_context():  # one context per beat: a fresh database session each time
            try:
                heartbeat()
            except RealtimeUnavailable:
                log.warning("realtime store unavailable; heartbeat will retry")
            except Exception:
                log.exception("heartbeat failed; will retry")
        socket_server.sleep(interval)


def start_heartbeats(app: Flask) -> None:
    """Keep this process's heartbeat in a background task of its own."""
    socket_server.start_background(run_heartbeats, app)


def leave_all_local_sockets(app: Flask) -> None:
    """Clean shutdown: let this process's sockets go, then drop its records."""
    with app.app_context():
        for context in local_sockets.all():
            try:
                presence.disconnect(context.sid)
            except Exception:
                log.exception("could not release socket %s", context.sid)
        with contextlib.suppress(RealtimeUnavailable):
            realtime.forget_process(PROCESS_ID)
