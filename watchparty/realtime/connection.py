"""Redis clients built from REDIS_URL: plain, TLS (`rediss://`) or Sentinel (R183).

redis-py, python-socketio and flask-limiter each parse a Sentinel URL their
own way (STACK.md), so the URL is parsed once here and every client (the
realtime store, the message queue, rate limits, the CLI emitter) is built
from the result. A Sentinel client asks the sentinels for the current primary
on every new connection, so after a promotion reconnecting is enough.
"""

import functools
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"
# Asking a sentinel must be quick: a dead one is skipped for the next.
SENTINEL_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}


@dataclass(frozen=True)
class SentinelTarget:
    """`redis+sentinel://[:password@]h1:p1,h2:p2/<db>/<service>`, as python-socketio reads it."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    connection: dict = field(default_factory=dict)


class TimedRedis(redis.Redis):
    """A redis-py client that observes each command's duration (R181)."""

    def execute_command(self, *args, **options):
        from watchparty.ops.metrics import REDIS_SECONDS

        started = time.perf_counter()
        try:
            return super().execute_command(*args, **options)
        finally:
            REDIS_SECONDS.observe(time.perf_counter() - started)


def is_sentinel_url(url: str) -> bool:
    return urlparse(url).scheme == SENTINEL_SCHEME


@functools.cache
def parse_sentinel_url(url: str) -> SentinelTarget:
    """Read the sentinels, the database number and the service name (db first, then service)."""
    parsed = urlparse(url)
    hosts = parsed.netloc.rsplit("@", 1)[-1]
    sentinels = tuple((host, int(port)) for host, port in (part.rsplit(":", 1) for part in hosts.split(",")))
    parts = [part for part in parsed.path.split("/") if part]
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError("a Sentinel REDIS_URL ends with /<db>/<service>")
    connection = {"db": int(parts[0])}
    if parsed.username:
        connection["username"] = unquote(parsed.username)
    if parsed.password:
        connection["password"] = unquote(parsed.password)
    return SentinelTarget(sentinels, parts[1], connection)


def redis_client(url: str, **options) -> redis.Redis:
    """A client of the Redis that url names; for Sentinel, of its current primary."""
    if not is_sentinel_url(url):
        return TimedRedis.from_url(url, **options)
    target = parse_sentinel_url(url)
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=dict(SENTINEL_OPTIONS), **target.connection)
    return sentinel.master_for(target.service, redis_class=TimedRedis, **options)
