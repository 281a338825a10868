"""Load-generator processes for bench/fanout.py: many Socket.IO clients on one asyncio loop.

Each worker process holds Socket.IO clients over aiohttp WebSockets, either
python-socketio `AsyncClient`s or `RawPeer`s (a minimal wire-protocol viewer
that costs a fraction of the CPU per message). Both offer permessage-deflate
as a browser does (`Sec-WebSocket-Extensions: permessage-deflate;
client_max_window_bits`) and record which extension the server accepted. The
orchestrator drives a worker through a `multiprocessing` pipe with commands
(`connect`, `quiet`, `seek`, `collect`, `reset`, `disconnect`, `exit`), and
each reply is a plain picklable value.

Every receive time is `time.monotonic()` taken first thing in the event
handler; CLOCK_MONOTONIC is one clock for every process of the machine, so the
orchestrator can subtract a host worker's send times from a viewer worker's
receive times.
"""

import asyncio
import contextlib
import json
import random
import time
from urllib.parse import urlsplit

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

    @property
    def connected(self) -> bool:
        return self.client.connected

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


class RawPeer:
    """A minimal Socket.IO viewer speaking the wire protocol over aiohttp (Engine.IO 4, Socket.IO 5).

    It does what a viewer needs and no more: open the WebSocket (offering
    permessage-deflate), connect the namespace with `auth`, answer pings,
    timestamp PLAYBACK_STATE packets. It costs a fraction of `AsyncClient`'s
    CPU per message (no task per packet, no generic dispatch): measured here,
    about 30-50 us against 140 us, which is what lets two load-generator
    processes keep up with 500 viewers on a 2-core machine.
    """

    PREFIX = "42" + NAMESPACE + ","

    def __init__(self, url: str, auth: dict | None, session, worker: "Worker"):
        self.url, self.auth, self.session, self.worker = url, auth, session, worker
        self.received: dict[float, float] = {}
        self.other_events = 0
        self.ws = None
        self.reader: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def connect(self) -> None:
        parts = urlsplit(self.url)
        url = f"ws://{parts.netloc}/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(url, compress=COMPRESS_WBITS, max_msg_size=0)
        try:
            await self._handshake()
        except BaseException:
            await self.ws.close()
            raise
        self.reader = asyncio.create_task(self._read())

    async def _handshake(self) -> None:
        opening = await asyncio.wait_for(self.ws.receive(), 30)
        if not isinstance(opening.data, str) or not opening.data.startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO opening {opening.data!r}")
        await self.ws.send_str("40" + NAMESPACE + "," + json.dumps(self.auth or {}))
        while True:
            answer = await asyncio.wait_for(self.ws.receive(), 60)
            data = answer.data
            if not isinstance(data, str):
                raise ConnectionError(f"connection closed during connect: {answer!r}")
            if data.startswith("40" + NAMESPACE):
                break
            if data.startswith("44" + NAMESPACE):
                raise ConnectionError(f"refused: {data}")
            self._dispatch(data, time.monotonic())  # events may come before the CONNECT ack

    def _dispatch(self, data: str, now: float) -> None:
        self.worker.last_event = now
        if data.startswith(self.PREFIX):
            event, *payload = json.loads(data[len(self.PREFIX) :])
            if event == "PLAYBACK_STATE" and payload and isinstance(payload[0], dict):
                self.received.setdefault(payload[0].get("time"), now)
            else:
                self.other_events += 1

    async def _read(self) -> None:
        ws = self.ws
        while True:
            message = await ws.receive()
            now = time.monotonic()
            data = message.data
            if not isinstance(data, str):
                return  # closed
            if data == "2":
                await ws.send_str("3")
            else:
                self._dispatch(data, now)

    def extensions(self) -> tuple[str, str, int]:
        response = getattr(self.ws, "_response", None)
        offered = response.request_info.headers.get("Sec-WebSocket-Extensions", "") if response else "?"
        answered = response.headers.get("Sec-WebSocket-Extensions", "") if response else "?"
        return offered, answered or "(none)", int(self.ws.compress)

    async def emit(self, event: str, data) -> None:
        await self.ws.send_str(self.PREFIX + json.dumps([event, data]))

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            if self.connected:
                await self.ws.send_str("41" + NAMESPACE + ",")
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


def socketio_backoff(attempt: int, first: float = 1.0, ceiling: float = 10.0, jitter: float = 0.5) -> float:
    """Seconds before reconnection attempt `attempt` (0-based), as socket.io-client's Backoff computes it.

    The room page keeps the Manager's defaults but for reconnectionDelay 1000 and
    reconnectionDelayMax 10000: the delay doubles per attempt, moved up or down
    by a random part of at most `jitter` of itself, and is capped at `ceiling`.
    """
    delay = first * 2**attempt
    draw = random.random()
    deviation = int(draw * jitter * delay * 1000) / 1000
    delay = delay - deviation if int(draw * 10) & 1 == 0 else delay + deviation
    return min(delay, ceiling)


class StormPeer(RawPeer):
    """A RawPeer that, once its connection drops, reconnects as the room page does.

    It waits socket.io-client's backoff (with jitter) before each attempt and
    tries the server URLs in turn, starting with the one after its own (what a
    load balancer that skips a dead process would do), until one admits it.
    """

    urls: list[str] = []

    def __init__(self, url: str, auth: dict | None, session, worker: "Worker"):
        super().__init__(url, auth, session, worker)
        self.lost_at: float | None = None
        self.back_at: float | None = None
        self.attempts = 0
        self.failures: list[str] = []
        self.leaving = False
        self.retry: asyncio.Task | None = None

    async def _read(self) -> None:
        await super()._read()
        if self.lost_at is None and not self.leaving:
            self.lost_at = time.monotonic()
            self.retry = asyncio.get_running_loop().create_task(self._reconnect())

    async def disconnect(self) -> None:
        self.leaving = True
        if self.retry is not None:
            self.retry.cancel()
        await super().disconnect()

    async def _reconnect(self) -> None:
        start = self.urls.index(self.url) if self.url in self.urls else 0
        while True:
            await asyncio.sleep(socketio_backoff(self.attempts))
            self.attempts += 1
            self.url = self.urls[(start + self.attempts) % len(self.urls)]
            try:
                await self.connect()
            except Exception as exc:
                self.failures.append(type(exc).__name__)
                continue
            self.back_at = time.monotonic()
            return


class Worker:
    """The commands a worker process understands; clients are kept in named groups (one per server)."""

    def __init__(self):
        self.groups: dict[str, list] = {}
        self.session = None
        self.last_event = time.monotonic()

    async def _session(self):
        import aiohttp

        if self.session is None:
            # limit=0: every WebSocket holds a connection for as long as it lives.
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.session

    async def connect(
        self,
        group: str,
        specs: list[tuple[str, dict | None]],
        concurrency: int = 25,
        client: str = "raw",
        urls: list[str] | None = None,
    ) -> dict:
        """Connect one client per (url, auth) into `group`; report failures and the extensions.

        `client` is "asyncclient" (python-socketio's AsyncClient), "raw" (RawPeer)
        or "storm" (StormPeer, reconnecting over `urls`).
        """
        session = await self._session()
        kind = {"asyncclient": Peer, "raw": RawPeer, "storm": StormPeer}[client]
        StormPeer.urls = list(urls or [])
        peers = [kind(url, auth, session, self) for url, auth in specs]
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []

        async def one(peer):
            async with gate:
                try:
                    await peer.connect()
                except Exception as exc:
                    failures.append(f"{peer.url}: {exc!r}")

        started = time.monotonic()
        await asyncio.gather(*(one(p) for p in peers))
        members = self.groups.setdefault(group, [])
        members.extend(p for p in peers if p.connected)
        return {
            "connected": len(members),
            "failures": failures[:5],
            "failed": len(failures),
            "seconds": time.monotonic() - started,
            "extensions": sorted({p.extensions() for p in members}),
        }

    async def quiet(self, seconds: float, timeout: float) -> float:
        """Wait until no event has arrived for `seconds` (at most `timeout`); return the wait."""
        started = time.monotonic()
        while time.monotonic() - self.last_event < seconds and time.monotonic() - started < timeout:
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def seek(self, group: str, times: list[float], interval: float) -> list[float]:
        """The group's first client (the host) sends one SEEK per time, `interval` s apart; send times."""
        host = self.groups[group][0]
        sent: list[float] = []
        start = time.monotonic() + 0.05
        for index, position in enumerate(times):
            delay = start + index * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(time.monotonic())
            await host.emit("SEEK", {"time": position})
        return sent

    async def collect(self, group: str, times: list[float], timeout: float) -> list[list[float | None]]:
        """Wait until every client of the group holds every time (or timeout); receive times per client."""
        deadline = time.monotonic() + timeout
        wanted = set(times)
        waiting = list(self.groups[group])
        while waiting and time.monotonic() < deadline:
            waiting = [p for p in waiting if not wanted <= p.received.keys()]
            await asyncio.sleep(0.02)
        return [[p.received.get(t) for t in times] for p in self.groups[group]]

    async def rejoined(self, group: str, timeout: float) -> list[tuple]:
        """Wait until every StormPeer of the group that lost its connection is back (or timeout).

        Per peer: (lost_at, back_at, attempts, url it is back on, failure kinds).
        """
        deadline = time.monotonic() + timeout
        peers = self.groups.get(group, [])
        while time.monotonic() < deadline and any(p.lost_at is None or p.back_at is None for p in peers):
            await asyncio.sleep(0.05)
        return [(p.lost_at, p.back_at, p.attempts, p.url, p.failures) for p in peers]

    async def reset(self, group: str) -> int:
        """Forget what the group received (before a new measured round)."""
        for peer in self.groups.get(group, []):
            peer.received.clear()
        return len(self.groups.get(group, []))

    async def disconnect(self, group: str, concurrency: int = 50) -> int:
        """Disconnect every client of the group."""
        gate = asyncio.Semaphore(concurrency)

        async def one(peer):
            async with gate:
                await peer.disconnect()

        peers = self.groups.pop(group, [])
        await asyncio.gather(*(one(p) for p in peers))
        return len(peers)

    async def exit(self) -> None:
        for group in list(self.groups):
            await self.disconnect(group)
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
