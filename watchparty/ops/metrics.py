"""Prometheus metrics (R181): what the process serves and how long its work takes.

Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps the
values in files shared by the workers and /metrics adds them up.
"""

import hmac
import os
import time
from contextlib import contextmanager

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event

bp = Blueprint("metrics", __name__)

SOCKETS_CONNECTED = Gauge(
    "watchparty_sockets_connected", "Sockets connected to /room", multiprocess_mode="livesum"
)
ROOMS_WITH_SOCKETS = Gauge(
    "watchparty_rooms_with_sockets", "Rooms with a socket on this process", multiprocess_mode="livesum"
)
EVENTS_RECEIVED = Counter("watchparty_events_received", "Socket events received", ["event"])
EVENTS_DROPPED = Counter("watchparty_events_dropped", "Socket events dropped over the rate limit (R174)")
EMITS = Counter("watchparty_emits", "Socket.IO emits sent")
COMMAND_SECONDS = Histogram("watchparty_command_seconds", "Time to handle a socket event", ["event"])
DB_SECONDS = Histogram("watchparty_db_seconds", "Time per database statement")
REDIS_SECONDS = Histogram("watchparty_redis_seconds", "Time per Redis command")
DEAD_PROCESSES_SWEPT = Counter(
    "watchparty_dead_processes_swept", "Silent processes whose sockets this process cleared (R35)"
)


@bp.get("/metrics")
def metrics():
    """The metrics in Prometheus text format; 404 unless METRICS_TOKEN is set, then Bearer only."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    refresh_gauges()
    return Response(generate_latest(registry()), mimetype=CONTENT_TYPE_LATEST)


@contextmanager
def observe_event(namespace, event: str):
    """Count a received socket event and time its handling; unknown names share one label."""
    name = event if hasattr(namespace, f"on_{event}") else "unknown"
    EVENTS_RECEIVED.labels(name).inc()
    started = time.perf_counter()
    try:
        yield
    finally:
        COMMAND_SECONDS.labels(name).observe(time.perf_counter() - started)


def registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def refresh_gauges() -> None:
    """Set the gauges from this process's own sockets."""
    from watchparty.realtime.local_sockets import local_sockets

    contexts = local_sockets.all()
    SOCKETS_CONNECTED.set(len(contexts))
    ROOMS_WITH_SOCKETS.set(len({context.room_code for context in contexts}))


def time_database(app) -> None:
    """Observe every statement's duration on the app's engine."""
    from watchparty.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("watchparty_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn, cursor, statement, parameters, context, executemany):
        DB_SECONDS.observe(time.perf_counter() - conn.info["watchparty_started"].pop())

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context):
        started = exception_context.connection and exception_context.connection.info.get("watchparty_started")
        if started:
            started.pop()
