"""The Socket.IO message queue over Redis, with a listener that comes back quickly."""

import time

import socketio

from watchparty.realtime.connection import redis_client

LISTEN_RETRY_SECONDS = 0.5
QUEUE_CHANNEL = "flask-socketio"


class PromptRedisManager(socketio.RedisManager):
    """RedisManager whose listener retries every LISTEN_RETRY_SECONDS, not up to 60 s.

    After a Redis restart a process must hear the others again within one
    heartbeat period (SPEC R35); the stock back-off doubles up to a minute.
    """

    def _redis_connect(self):
        """Connect through our own client builder: TLS and Sentinel alike, on the current primary (R183)."""
        self.redis = redis_client(self.redis_url, **self.redis_options)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    def _redis_listen_with_retries(self):
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                yield from self.pubsub.listen()
            except Exception as exc:
                self._get_logger().error("Cannot receive from redis (%s); retrying", exc)
                subscribed = False
                time.sleep(LISTEN_RETRY_SECONDS)


def queue_manager(redis_url: str, write_only: bool = False) -> PromptRedisManager:
    """Build the message-queue manager for a server (or a write-only emitter)."""
    return PromptRedisManager(redis_url, channel=QUEUE_CHANNEL, write_only=write_only)


def start_listening(server: socketio.Server) -> None:
    """Start the queue listener now, not on the first client's connection (STACK.md)."""
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
