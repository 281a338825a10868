"""Engine settings that let several processes share one SQLite file."""

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import DateTime, TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 5000
# As many SQLite connections as SQLAlchemy's default pool hands out at once (5 + 10),
# all kept: the default closes every one past the fifth when it is returned, so a
# burst of connects opened and configured a new connection per admission.
SQLITE_FILE_POOL = {"pool_size": 15, "max_overflow": 0}


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A DateTime stored as UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_options(uri: str) -> dict:
    """SQLAlchemy engine options for a database URI: a kept pool for an SQLite file."""
    url = make_url(uri)
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if url.get_backend_name() == "sqlite" and not in_memory:
        return dict(SQLITE_FILE_POOL)
    return {}


def configure_engine_events(engine: Engine) -> None:
    """Turn on WAL, a busy timeout and foreign keys on every SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
