"""Redis failures as the store's own exception, for every Redis-backed store method."""

import functools

from redis.exceptions import RedisError

from watchparty.realtime.base import RealtimeUnavailable


def translated(method):
    """Turn every Redis or socket error raised by the method into RealtimeUnavailable."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise RealtimeUnavailable(str(exc)) from exc

    return wrapper
