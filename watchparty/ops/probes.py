"""Probes for load balancers and orchestrators (R180) and the older /api/health/."""

import time

from flask import Blueprint, current_app
from sqlalchemy import text

from watchparty.extensions import db, realtime
from watchparty.ops.draining import is_draining
from watchparty.realtime import socket_server

bp = Blueprint("probes", __name__)

# R180: /readyz answers within 2 s; a check still running after this counts as failed.
READY_BUDGET_SECONDS = 1.5


@bp.get("/healthz")
def healthz():
    """The process serves."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Whether this process should get traffic: its database and Redis answer, and it is not draining."""
    if is_draining():
        return {"status": "draining"}, 503
    results = run_checks({"database": database_answers, "redis": redis_answers}, READY_BUDGET_SECONDS)
    body = {
        "database": "ok" if results["database"] else "error",
        "redis": redis_status(results["redis"]),
    }
    return body, 200 if "error" not in body.values() else 503


@bp.get("/api/health/")
def health():
    """Report whether the database and the realtime store answer."""
    database_ok = database_answers()
    realtime_ok = realtime.ping()
    body = {
        "status": "ok" if database_ok and realtime_ok else "degraded",
        "database": database_ok,
        "realtime": realtime_ok,
        "realtime_backend": "redis" if realtime.is_shared else "memory",
    }
    return body, 200 if database_ok and realtime_ok else 503


def redis_status(answered: bool) -> str:
    if not realtime.is_shared:
        return "not configured"
    return "ok" if answered else "error"


def run_checks(checks: dict, budget: float) -> dict[str, bool]:
    """Run the checks side by side in background tasks; one not done within budget has failed."""
    app = current_app._get_current_object()
    results: dict[str, bool] = {}

    def run(name, check):
        with app.app_context():
            results[name] = check()

    tasks = [socket_server.start_background(run, name, check) for name, check in checks.items()]
    deadline = time.monotonic() + budget
    for task in tasks:
        task.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, False) for name in checks}


def redis_answers() -> bool:
    return realtime.ping() if realtime.is_shared else True


def database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not answering"
        db.session.rollback()
        return False
