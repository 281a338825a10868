"""A delaying TCP proxy for benchmarks: each direction's bytes arrive late, with jitter, in order.

    proxies = DelayProxies()                      # one asyncio loop in a daemon thread
    port = proxies.add(target_port, delay=0.08, jitter=0.02)
    ...                                           # clients connect to 127.0.0.1:port
    proxies.close()

Every chunk read from one side is written to the other `delay` ± `jitter`
seconds later, but never before the chunk read before it (TCP keeps order),
so a burst keeps its shape and a quiet link sees the full jitter.
"""

import asyncio
import contextlib
import random
import threading
import time


class DelayProxies:
    """Listening ports on 127.0.0.1, each forwarding to one target port with its own delay."""

    def __init__(self, seed: int = 11):
        self.random = random.Random(seed)
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.base_events.Server] = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="delay-proxies")
        self.thread.start()

    def add(self, target_port: int, delay: float, jitter: float) -> int:
        """Start one proxy to 127.0.0.1:target_port and return its port."""

        async def start():
            server = await asyncio.start_server(
                lambda r, w: self._connection(r, w, target_port, delay, jitter), "127.0.0.1", 0
            )
            self.servers.append(server)
            return server.sockets[0].getsockname()[1]

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(timeout=10)

    async def _connection(self, client_reader, client_writer, target_port, delay, jitter):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer, delay, jitter),
            self._pipe(server_reader, client_writer, delay, jitter),
        )

    async def _pipe(self, reader, writer, delay, jitter):
        """Copy reader to writer, each chunk held until its delivery time."""
        queue: asyncio.Queue = asyncio.Queue()
        sender = asyncio.ensure_future(self._deliver(queue, writer))
        last = 0.0
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                due = max(last, time.monotonic() + delay + self.random.uniform(-jitter, jitter))
                last = due
                queue.put_nowait((due, chunk))
        queue.put_nowait((last, b""))
        await sender

    @staticmethod
    async def _deliver(queue, writer):
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()

    def close(self) -> None:
        """Stop every proxy and the loop."""

        async def stop():
            for server in self.servers:
                server.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
