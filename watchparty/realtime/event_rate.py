"""Per-socket event rate (SPEC R174): a token bucket per sid, the excess dropped silently."""

import threading
import time
from dataclasses import dataclass, field

from flask_socketio import Namespace

from watchparty.ops.metrics import EVENTS_DROPPED
from watchparty.realtime import socket_server

# Events python-socketio raises itself; a client sending these names is ignored elsewhere (R36).
LIFECYCLE_EVENTS = ("connect", "disconnect")


@dataclass(slots=True)
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; each event takes one."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class EventRateLimiter:
    """The buckets of this process's sockets; what they drop is counted in R181's metric."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def allow(self, sid: str, rate: float, burst: float) -> bool:
        with self._lock:
            bucket = self._buckets.get(sid)
            if bucket is None:
                bucket = self._buckets[sid] = TokenBucket(rate, burst)
            if bucket.take():
                return True
        EVENTS_DROPPED.inc()  # R181
        return False

    def forget(self, sid: str) -> None:
        with self._lock:
            self._buckets.pop(sid, None)


event_limiter = EventRateLimiter()


class RateLimitedNamespace(Namespace):
    """A namespace whose sockets may send SOCKET_EVENTS_PER_SECOND events (bursts of SOCKET_EVENTS_BURST)."""

    def trigger_event(self, event, *args):
        sid = args[0] if args else None
        client_sent = sent_by_client(event, sid)
        if client_sent and not allowed(sid):
            return socket_server.unanswered()  # dropped: no handler, no acknowledgement
        result = super().trigger_event(event, *args)
        if event == "disconnect" and not client_sent:
            event_limiter.forget(sid)
        return result


def sent_by_client(event: str, sid: str | None) -> bool:
    """An event the client sent: a `connect`/`disconnect` arriving while the sid is connected is one (R36)."""
    return event not in LIFECYCLE_EVENTS or socket_server.is_connected(sid)


def allowed(sid: str) -> bool:
    """Take one event from the socket's bucket, sized by its app's settings."""
    app = socket_server.app_of(sid)
    if app is None:
        return True  # not a client we know: python-socketio ignores its event anyway
    rate, burst = app.config["SOCKET_EVENTS_PER_SECOND"], app.config["SOCKET_EVENTS_BURST"]
    return event_limiter.allow(sid, float(rate), float(burst))
