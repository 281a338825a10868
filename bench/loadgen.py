"""Load-generator processes for bench/fanout.py: many Socket.IO clients on one asyncio loop.

Each worker process holds python-socketio `AsyncClient`s (aiohttp transport,
WebSocket only) that offer permessage-deflate as a browser does
(`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits`). The
orchestrator drives a worker through a `multiprocessing` pipe with commands
(`connect`, `quiet`, `seek`, `collect`, `disconnect`, `exit`), and each reply
is a plain picklable value.

Every receive time is `time.monotonic()` taken first thing in the event
handler; CLOCK_MONOTONIC is one clock for every process of the machine, so the
orchestrator can subtract a host worker's send times from a viewer worker's
receive times.
"""

import asyncio
import contextlib
import time

NAMESPACE = "/room"
#: What a browser offers; aiohttp's `compress=15` sends exactly this header.
COMPRESS_WBITS = 15


class Peer:
    """One Socket.IO client in the /room namespace that timestamps each PLAYBACK_STATE by its `time`."""

    def __init__(self, url: str, auth: dict | None, session, worker: "Worker"):
        import socketio

        self.url, self.auth, self.worker = url, auth, worker
        self.received: dict[float, float] = {}
        self.other_events = 0
        self.client = socketio.AsyncClient(
            reconnection=False,
            http_session=session,
            websocket_extra_options={"compress": COMPRESS_WBITS},
        )
        self.client.on("PLAYBACK_STATE", self._on_state, namespace=NAMESPACE)
        self.client.on("*", self._on_other, namespace=NAMESPACE)

    def _on_state(self, data=None):
        now = time.monotonic()
        self.worker.last_event = now
        if isinstance(data, dict):
            self.received.setdefault(data.get("time"), now)

    def _on_other(self, event, data=None):
        self.worker.last_event = time.monotonic()
        self.other_events += 1

    async def connect(self) -> None:
        await self.client.connect(
            self.url, auth=self.auth, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=60
        )

    def extensions(self) -> tuple[str, str, int]:
        """(offered Sec-WebSocket-Extensions, the server's answer, aiohttp's negotiated wbits)."""
        ws = self.client.eio.ws
        response = getattr(ws, "_response", None)
        offered = response.request_info.headers.get("Sec-WebSocket-Extensions", "") if response else "?"
        answered = response.headers.get("Sec-WebSocket-Extensions", "") if response else "?"
        return offered, answered or "(none)", int(getattr(ws, "compress", 0))

    async def emit(self, event: str, data) -> None:
        await self.client.emit(event, data, namespace=NAMESPACE)

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.disconnect()


class Worker:
    """The commands a worker process understands."""

    def __init__(self):
        self.peers: list[Peer] = []
        self.session = None
        self.last_event = time.monotonic()

    async def _session(self):
        import aiohttp

        if self.session is None:
            # limit=0: every WebSocket holds a connection for as long as it lives.
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.session

    async def connect(self, specs: list[tuple[str, dict | None]], concurrency: int = 25) -> dict:
        """Connect one client per (url, auth); report failures and the negotiated extensions."""
        session = await self._session()
        peers = [Peer(url, auth, session, self) for url, auth in specs]
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []

        async def one(peer: Peer):
            async with gate:
                try:
                    await peer.connect()
                except Exception as exc:
                    failures.append(f"{peer.url}: {exc!r}")

        started = time.monotonic()
        await asyncio.gather(*(one(p) for p in peers))
        self.peers.extend(p for p in peers if p.client.connected)
        extensions = sorted({p.extensions() for p in self.peers})
        return {
            "connected": len(self.peers),
            "failures": failures[:5],
            "failed": len(failures),
            "seconds": time.monotonic() - started,
            "extensions": extensions,
        }

    async def quiet(self, seconds: float, timeout: float) -> float:
        """Wait until no event has arrived for `seconds` (at most `timeout`); return the wait."""
        started = time.monotonic()
        while time.monotonic() - self.last_event < seconds and time.monotonic() - started < timeout:
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def seek(self, times: list[float], interval: float) -> list[float]:
        """The host sends one SEEK per time, `interval` seconds apart; return each send time."""
        host = self.peers[0]
        sent: list[float] = []
        start = time.monotonic() + 0.05
        for index, position in enumerate(times):
            delay = start + index * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(time.monotonic())
            await host.emit("SEEK", {"time": position})
        return sent

    async def collect(self, times: list[float], timeout: float) -> list[list[float | None]]:
        """Wait until every client holds every time (or timeout); return receive times per client."""
        deadline = time.monotonic() + timeout
        wanted = set(times)
        while time.monotonic() < deadline:
            if all(wanted <= p.received.keys() for p in self.peers):
                break
            await asyncio.sleep(0.02)
        return [[p.received.get(t) for t in times] for p in self.peers]

    async def reset(self) -> int:
        """Forget what was received (before a new measured phase)."""
        for peer in self.peers:
            peer.received.clear()
        return len(self.peers)

    async def disconnect(self, concurrency: int = 50) -> int:
        """Disconnect every client."""
        gate = asyncio.Semaphore(concurrency)

        async def one(peer: Peer):
            async with gate:
                await peer.disconnect()

        await asyncio.gather(*(one(p) for p in self.peers))
        count, self.peers = len(self.peers), []
        return count

    async def exit(self) -> None:
        await self.disconnect()
        if self.session is not None:
            await self.session.close()


async def _serve(conn) -> None:
    loop = asyncio.get_running_loop()
    worker = Worker()
    while True:
        command, args = await loop.run_in_executor(None, conn.recv)
        try:
            reply = ("ok", await getattr(worker, command)(*args))
        except Exception as exc:  # report, never die silently
            reply = ("error", repr(exc))
        conn.send(reply)
        if command == "exit":
            return


def worker_main(conn) -> None:
    """Entry point of a load-generator process."""
    asyncio.run(_serve(conn))
