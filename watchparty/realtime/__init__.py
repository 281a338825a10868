"""The realtime store: Redis when REDIS_URL is set, in-process otherwise (SPEC R3)."""

from watchparty.realtime.base import (
    RealtimeStore,
    RealtimeUnavailable,
    SocketRecord,
    SocketRemoval,
    TooManySockets,
)

__all__ = [
    "RealtimeStore",
    "RealtimeStoreHolder",
    "RealtimeUnavailable",
    "SocketRecord",
    "SocketRemoval",
    "TooManySockets",
    "create_store",
]


def create_store(redis_url: str | None) -> RealtimeStore:
    """Build the backend the configuration asks for."""
    if redis_url:
        from watchparty.realtime.redis_store import RedisStore

        return RedisStore.from_url(redis_url)
    from watchparty.realtime.memory_store import MemoryStore

    return MemoryStore()


class RealtimeStoreHolder:
    """Extension-style holder so modules can import one object before the app exists."""

    def __init__(self) -> None:
        self._store: RealtimeStore | None = None

    def init_app(self, app) -> None:
        """Create the app's store and keep it in app.extensions."""
        store = app.config.get("REALTIME_STORE") or create_store(app.config.get("REDIS_URL"))
        app.extensions["realtime"] = store
        self._store = store

    @property
    def store(self) -> RealtimeStore:
        """Return the current app's store."""
        from flask import current_app, has_app_context

        if has_app_context():
            return current_app.extensions["realtime"]
        if self._store is None:
            raise RuntimeError("the realtime store is not initialised")
        return self._store

    def __getattr__(self, name):
        return getattr(self.store, name)
