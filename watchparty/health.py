"""Liveness of the process and its dependencies."""

from flask import Blueprint
from sqlalchemy import text

from watchparty.extensions import db, realtime

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health/")
def health():
    """Report whether the database and the realtime store answer."""
    database_ok = _database_answers()
    realtime_ok = realtime.ping()
    body = {
        "status": "ok" if database_ok and realtime_ok else "degraded",
        "database": database_ok,
        "realtime": realtime_ok,
        "realtime_backend": "redis" if realtime.is_shared else "memory",
    }
    return body, 200 if database_ok and realtime_ok else 503


def _database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not answering"
        db.session.rollback()
        return False
