"""A soak: connect/disconnect churn on two server processes, with leaks checked at the end.

    .venv/bin/python bench/soak.py [--seconds 600] [--workers 4] [--sample-every 5]

One real redis-server and two `python wsgi.py` processes (gevent) on one
SQLite file. For --seconds, --workers threads each run laps: a host creates a
room with media on one process, two viewers join it; the host's socket
(WebSocket) and the viewers' (one WebSocket on the other process, one polling)
connect; the host SEEKs and a viewer chats, each waiting for what the room must
receive; then the lap ends one of four ways (everyone leaves and the host
deletes the room; the host deletes it with everyone connected, so the server
closes their sockets; a viewer's WebSocket is dropped without a goodbye; the
host leaves first, so the room passes through GRACE). Meanwhile one long-lived
room keeps its host connected while its viewers come and go on both
transports and both processes.

Every --sample-every seconds: each process's RSS (VmRSS), open file
descriptors (/proc/<pid>/fd), its own count of connected sockets (/metrics)
and its accepted TCP connections; Redis's key count (DBSIZE) and the realtime
store's presence (sockets in the process tables). After everyone has left, the
leak check: no socket left on either process (its own count, the Redis tables,
its TCP connections), fds back within --fd-slack of the count after warm-up,
no room left open but the long-lived one (in GRACE once its host has gone),
and Redis holding only keys that keys.py names and none of a closed room
(tests/support.py's rule). Reported: start, end and least-squares slope per
minute of each series after --warmup seconds; a CSV and a PNG under docs/;
the Markdown report under bench/results/. Exits 1 on any leak or failed lap.
"""

import argparse
import csv
import datetime
import itertools
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import fanout
import psutil
import requests
from fanout import BENCH, BENCH_SETTINGS, MEDIA, ROOT

from tests.support import (
    ApiUser,
    RedisServer,
    RoomSocket,
    ServerFleet,
    create_room,
    join,
    keys_naming,
    stored_row,
    unknown_keys,
    wait_until,
)

METRICS_TOKEN = "soak-metrics-token"
#: How long one step of a lap may wait for what it expects (a busy machine is slow, never wrong).
STEP_TIMEOUT = 30.0
#: How long the leak check waits for the last disconnects to be processed.
SETTLE_TIMEOUT = 60.0
ENDINGS = ("leave-then-delete", "delete-while-connected", "dropped-websocket", "host-leaves-first")
SERIES = ("rss_mib", "fds", "sockets", "tcp", "redis_keys", "presence")


@dataclass
class Sample:
    """One reading of one process (Redis figures are the same for both rows of a reading)."""

    seconds: float
    server: int
    rss_mib: float
    fds: int
    sockets: int
    tcp: int
    redis_keys: int
    presence: int


@dataclass
class Churn:
    """What the workers did, counted under one lock."""

    laps: int = 0
    connects: int = 0
    seeks: int = 0
    chats: int = 0
    closed_codes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def closed(self, code: str) -> None:
        with self.lock:
            self.closed_codes.append(code)

    def failed(self, where: str, error: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{where}: {type(error).__name__}: {str(error)[:300]}")


@dataclass
class SoakResult:
    seconds: float
    warmup: float
    churn: Churn
    samples: list[Sample]  # during the churn
    after: list[Sample]  # once everyone has left and the leak check is done
    baseline_fds: list[int]
    leaks: list[str]


# processes and readings ------------------------------------------------------------------------


def soak_env_settings() -> dict:
    """The benchmark's lifted guards (chat's too: a lap chats faster than a person), and /metrics."""
    return {**BENCH_SETTINGS, "METRICS_TOKEN": METRICS_TOKEN, "CHAT_RATE_LIMIT_COUNT": 1000}


def open_fds(pid: int) -> int:
    return psutil.Process(pid).num_fds()


def accepted_connections(server) -> int:
    """TCP connections the process holds on its listening port (clients it has not let go)."""
    connections = psutil.Process(server.process.pid).net_connections(kind="tcp")
    held = (psutil.CONN_ESTABLISHED, psutil.CONN_CLOSE_WAIT)
    return sum(1 for c in connections if c.laddr.port == server.port and c.status in held)


def local_sockets(server) -> int:
    """The process's own count of connected /room sockets (watchparty_sockets_connected)."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}", "Connection": "close"}
    text = requests.get(server.url + "/metrics", headers=headers, timeout=STEP_TIMEOUT).text
    for line in text.splitlines():
        if line.startswith("watchparty_sockets_connected "):
            return int(float(line.split()[1]))
    raise AssertionError("watchparty_sockets_connected missing from /metrics")


def presence_in_redis(client) -> int:
    """Sockets recorded in every process's socket table (the realtime store's live presence)."""
    return sum(client.hlen(table) for table in client.scan_iter("proc:*:sockets"))


def read_samples(servers: list, client, started: float) -> list[Sample]:
    keys, presence = client.dbsize(), presence_in_redis(client)
    now = time.monotonic() - started
    return [read_process(now, index, server, keys, presence) for index, server in enumerate(servers)]


def read_process(now: float, index: int, server, keys: int, presence: int) -> Sample:
    pid = server.process.pid
    tcp = accepted_connections(server)  # before /metrics, whose own connection is still closing after
    return Sample(
        now, index, fanout.rss(pid) / 2**20, open_fds(pid), local_sockets(server), tcp, keys, presence
    )


def progress(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} soak: {text}", flush=True)


# laps --------------------------------------------------------------------------------------------


@dataclass
class Cast:
    """A worker's users: one host and two viewers, registered once."""

    host: ApiUser
    viewers: list[ApiUser]


class Sockets:
    """The sockets a lap opened, all shut down at its end whatever happens."""

    def __init__(self, churn: Churn):
        self.churn, self.opened = churn, []

    def open(self, base_url: str, user: ApiUser, code: str, transport: str = "websocket") -> RoomSocket:
        sock = RoomSocket(base_url, user.token(), code, transports=(transport,))
        self.opened.append(sock)
        sock.connect().wait_for("SKIP_VOTES", timeout=STEP_TIMEOUT)
        self.churn.add(connects=1)
        return sock

    def close_all(self) -> None:
        for sock in self.opened:
            with suppress(Exception):
                sock.disconnect()


def seek_and_chat(churn: Churn, host_sock: RoomSocket, viewers: list[RoomSocket], mark: float) -> None:
    """The host SEEKs and the first viewer chats; everyone must receive both."""
    host_sock.emit("SEEK", {"time": mark})
    for sock in [host_sock, *viewers]:
        sock.wait_for("PLAYBACK_STATE", lambda p: p["time"] >= mark, timeout=STEP_TIMEOUT)
    text = f"soak {mark}"
    viewers[0].emit("CHAT", {"message": text})
    for sock in [host_sock, *viewers]:
        sock.wait_for("CHAT", lambda p: p["message"] == text, timeout=STEP_TIMEOUT)
    churn.add(seeks=1, chats=1)


def delete_room(host: ApiUser, code: str) -> None:
    response = host.delete(f"/api/rooms/{code}/")
    assert response.status_code == 204, response.text


def end_lap(ending: str, host: ApiUser, code: str, host_sock: RoomSocket, viewers: list[RoomSocket]) -> None:
    """Close the room one of ENDINGS' ways."""
    if ending == "delete-while-connected":
        delete_room(host, code)
        for sock in [host_sock, *viewers]:
            sock.wait_for("ROOM_CLOSED", timeout=STEP_TIMEOUT)
            wait_until(
                lambda s=sock: not s.connected, timeout=STEP_TIMEOUT, message="the server's disconnect"
            )
        return
    if ending == "dropped-websocket":
        # TCP's FIN with no WebSocket close frame and no Socket.IO disconnect, as a lost network drops it.
        viewers[0].client.eio.ws.sock.shutdown(socket.SHUT_RDWR)
        wait_until(lambda: not viewers[0].connected, timeout=STEP_TIMEOUT, message="the dropped socket")
    for sock in viewers:
        sock.disconnect()
    if ending == "host-leaves-first":
        host_sock.disconnect()
    delete_room(host, code)


class Worker:
    """Runs laps with its own users until the deadline; a failed lap is recorded and cleaned up."""

    def __init__(self, index: int, cast: Cast, urls: list[str], churn: Churn):
        self.index, self.cast, self.urls, self.churn = index, cast, urls, churn

    def run(self, deadline: float) -> None:
        for lap in itertools.count():
            if time.monotonic() >= deadline:
                return
            try:
                self.lap(lap)
            except Exception as error:
                self.churn.failed(f"worker {self.index} lap {lap}", error)

    def lap(self, lap: int) -> None:
        here, there = self.urls[lap % 2], self.urls[(lap + 1) % 2]
        host, viewers = self.cast.host, self.cast.viewers
        host.base_url = here
        code = create_room(host, title=f"Soak {self.index}-{lap}", media=MEDIA)
        self.churn.closed(code)  # counted as closed from the start: a failed lap deletes it below
        sockets = Sockets(self.churn)
        try:
            for viewer in viewers:
                join(viewer, code)
            host_sock = sockets.open(here, host, code)
            viewer_socks = [
                sockets.open(there, viewers[0], code),
                sockets.open(here, viewers[1], code, "polling"),
            ]
            seek_and_chat(self.churn, host_sock, viewer_socks, 100.0 * self.index + lap)
            end_lap(ENDINGS[(lap + self.index) % len(ENDINGS)], host, code, host_sock, viewer_socks)
        finally:
            sockets.close_all()
            with suppress(Exception):
                host.delete(f"/api/rooms/{code}/")
        self.churn.add(laps=1)


class LongRoom:
    """One room whose host stays connected while its viewers' sockets come and go."""

    def __init__(self, cast: Cast, urls: list[str], churn: Churn):
        self.cast, self.urls, self.churn = cast, urls, churn
        self.code = create_room(cast.host, title="Soak long-lived room", media=MEDIA)
        for viewer in cast.viewers:
            join(viewer, self.code)

    def run(self, deadline: float) -> None:
        sockets = Sockets(self.churn)
        try:
            host_sock = sockets.open(self.urls[0], self.cast.host, self.code)
            for visit in itertools.count():
                if time.monotonic() >= deadline:
                    return
                try:
                    self.visit(visit, host_sock)
                except Exception as error:
                    self.churn.failed(f"long-lived room visit {visit}", error)
        except Exception as error:
            self.churn.failed("long-lived room", error)
        finally:
            sockets.close_all()

    def visit(self, visit: int, host_sock: RoomSocket) -> None:
        """A viewer connects (both tabs on odd visits), the host SEEKs, the viewer chats and leaves."""
        sockets = Sockets(self.churn)
        try:
            viewer = self.cast.viewers[visit % 2]
            transports = ("websocket", "polling")
            tabs = [sockets.open(self.urls[(visit + t) % 2], viewer, self.code, transports[(visit + t) % 2])
                    for t in range(1 + visit % 2)]  # fmt: skip
            seek_and_chat(self.churn, host_sock, tabs, 10_000.0 + visit)
        finally:
            sockets.close_all()


# leaks -------------------------------------------------------------------------------------------


def socket_leaks(servers: list, client) -> list[str]:
    """Sockets still held anywhere once every client has gone."""
    found = [f"process {i}: {n} sockets connected" for i, s in enumerate(servers) if (n := local_sockets(s))]
    found += [
        f"process {i}: {n} TCP connections" for i, s in enumerate(servers) if (n := accepted_connections(s))
    ]
    found += [f"{t}: {n} entries" for t in client.scan_iter("proc:*:sockets") if (n := client.hlen(t))]
    found += [f"{key}: still held" for key in client.scan_iter("room:*:presence")]
    return found


def fd_leaks(servers: list, baseline: list[int], slack: int) -> list[str]:
    return [
        f"process {i}: {n} fds, {baseline[i]} after warm-up"
        for i, s in enumerate(servers)
        if (n := open_fds(s.process.pid)) > baseline[i] + slack
    ]


def room_leaks(database_url: str, long_code: str) -> list[str]:
    """Rooms not EXPIRED or DELETED, except the long-lived one in GRACE."""
    rows = stored_row(
        database_url,
        "SELECT group_concat(code || '=' || state) FROM rooms "
        "WHERE state NOT IN ('EXPIRED', 'DELETED') AND NOT (code = :code AND state = 'GRACE')",
        code=long_code,
    )
    return [f"room left open: {entry}" for entry in (rows[0] or "").split(",") if entry]


def key_leaks(redis_url: str, closed_codes: list[str]) -> list[str]:
    """assert_redis_clean's rule: only keys keys.py names, and none of a closed room."""
    found = [f"unknown key {key}" for key in unknown_keys(redis_url)]
    return found + [
        f"closed room's key {key}" for code in closed_codes for key in keys_naming(redis_url, code)
    ]


# the run -------------------------------------------------------------------------------------------


class Soak:
    """Redis, two server processes and the users; run() churns, samples and checks for leaks."""

    def __init__(self, workdir: Path, args):
        self.workdir, self.args = workdir, args
        self.stack = ExitStack()

    def __enter__(self) -> "Soak":
        self.redis = RedisServer(self.workdir).start()
        self.stack.callback(self.redis.stop)
        self.database_url = f"sqlite:///{self.workdir / 'soak.sqlite3'}"
        self.fleet = ServerFleet(self.workdir, self.database_url)
        self.stack.callback(self.fleet.stop)
        self.servers = self.fleet.pair(self.redis.url, **soak_env_settings())
        self.client = self.redis.client()
        self.stack.callback(self.client.close)
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()

    def casts(self, count: int) -> list[Cast]:
        urls = [s.url for s in self.servers]

        def user(i: int) -> ApiUser:
            return ApiUser(urls[i % 2]).register(display_name=f"Soak {i}")

        with ThreadPoolExecutor(4) as pool:  # scrypt on both processes at once
            users = list(pool.map(user, range(3 * count)))
        return [Cast(users[3 * i], users[3 * i + 1 : 3 * i + 3]) for i in range(count)]

    def run(self) -> SoakResult:
        args, churn, samples = self.args, Churn(), []
        urls = [s.url for s in self.servers]
        *casts, long_cast = self.casts(args.workers + 1)
        long_room = LongRoom(long_cast, urls, churn)
        started = time.monotonic()
        progress(f"servers up, users registered; churning for {args.seconds:g} s")
        deadline = started + args.seconds
        threads = [threading.Thread(target=w.run, args=(deadline,)) for w in self.workers(casts, urls, churn)]
        threads.append(threading.Thread(target=long_room.run, args=(deadline,)))
        for thread in threads:
            thread.start()
        baseline = self.sample_until(threads, samples, started)
        progress(
            f"churn over after {time.monotonic() - started:.0f} s: {churn.laps} laps; checking for leaks"
        )
        for cast in [*casts, long_cast]:
            for user in [cast.host, *cast.viewers]:
                user.http.close()  # keep-alive connections would look like held sockets
        leaks = self.leaks(churn, baseline, long_room.code)
        after = read_samples(self.servers, self.client, started)
        progress(f"leak check done after {time.monotonic() - started:.0f} s: {len(leaks)} leaks")
        return SoakResult(args.seconds, args.warmup, churn, samples, after, baseline, leaks)

    def workers(self, casts: list[Cast], urls: list[str], churn: Churn) -> list[Worker]:
        return [Worker(i, cast, urls, churn) for i, cast in enumerate(casts)]

    def sample_until(self, threads: list, samples: list[Sample], started: float) -> list[int]:
        """Sample every --sample-every seconds until the workers are done; the fds after warm-up."""
        baseline = None
        while any(t.is_alive() for t in threads):
            samples += read_samples(self.servers, self.client, started)
            if baseline is None and samples[-1].seconds >= self.args.warmup:
                baseline = [s.fds for s in samples[-len(self.servers) :]]
            for thread in threads:
                thread.join(timeout=max(0.0, self.args.sample_every / len(threads)))
        return baseline or [s.fds for s in samples[-len(self.servers) :]]

    def leaks(self, churn: Churn, baseline: list[int], long_code: str) -> list[str]:
        """Once the last disconnects are processed: whatever is still held that should not be."""
        with suppress(AssertionError):
            wait_until(lambda: not socket_leaks(self.servers, self.client), timeout=SETTLE_TIMEOUT)
        return (
            socket_leaks(self.servers, self.client)
            + fd_leaks(self.servers, baseline, self.args.fd_slack)
            + room_leaks(self.database_url, long_code)
            + key_leaks(self.redis.url, churn.closed_codes)
        )


# report --------------------------------------------------------------------------------------------


def series(samples: list[Sample], name: str, server: int) -> tuple[list[float], list[float]]:
    rows = [s for s in samples if s.server == server]
    return [s.seconds for s in rows], [float(getattr(s, name)) for s in rows]


def slope_per_minute(times: list[float], values: list[float], warmup: float) -> float:
    """Least-squares slope of the values after the warm-up, per minute."""
    kept = [(t, v) for t, v in zip(times, values, strict=True) if t >= warmup]
    if len(kept) < 3 or len({v for _, v in kept}) < 2:
        return 0.0
    return statistics.linear_regression(*zip(*kept, strict=True)).slope * 60


def series_rows(result: SoakResult) -> list[tuple]:
    """(series, process, start, after warm-up, end of churn, after leaving, slope per minute)."""
    rows = []
    for name in SERIES:
        for server, label in labelled_processes(name):
            times, values = series(result.samples, name, server)
            warm = next((v for t, v in zip(times, values, strict=True) if t >= result.warmup), values[-1])
            left = series(result.after, name, server)[1][0]
            slope = slope_per_minute(times, values, result.warmup)
            rows.append((name, label, values[0], warm, values[-1], left, slope))
    return rows


def labelled_processes(name: str) -> list[tuple[int, str]]:
    """Redis figures are one series for both processes."""
    return [(0, "both")] if name in ("redis_keys", "presence") else [(0, "1"), (1, "2")]


def report(result: SoakResult, args, when: datetime.datetime) -> str:
    churn, minutes = result.churn, result.seconds / 60
    lines = [
        f"# Soak: {result.seconds:g} s of connect/disconnect churn ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- Machine: {fanout.machine_line()}",
        f"- Stack: {fanout.versions_line()}",
        f"- Command: `.venv/bin/python bench/soak.py --seconds {args.seconds:g} --workers {args.workers}`",
        f"- Churn: {churn.laps} rooms created and closed ({churn.laps / minutes:.0f}/min), "
        f"{churn.connects} socket connects ({churn.connects / minutes:.0f}/min), {churn.seeks} SEEKs and "
        f"{churn.chats} chats; {len(churn.errors)} failed laps or visits",
        "",
        f"| series | process | start | after warm-up ({result.warmup:g} s) | end of churn | after leaving "
        "| slope per minute after warm-up |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {p} | {a:.1f} | {w:.1f} | {e:.1f} | {left:.1f} | {s:+.2f} |"
        for n, p, a, w, e, left, s in series_rows(result)
    ]
    lines += ["", f"Leaks: {'none' if not result.leaks else ''}"]
    lines += [f"- {leak}" for leak in result.leaks] + [f"- error: {e}" for e in churn.errors[:20]]
    return "\n".join(lines) + "\n"


def write_csv(samples: list[Sample], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seconds", "process", *SERIES])
        for s in samples:
            writer.writerow([f"{s.seconds:.1f}", s.server, *(getattr(s, name) for name in SERIES)])


def draw(result: SoakResult, path: Path, when: datetime.datetime) -> None:
    """One panel per series, both processes, the warm-up shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, panels = pyplot.subplots(2, 3, figsize=(12, 6), sharex=True)
    for axes, name in zip(panels.flat, SERIES, strict=True):
        for server, label in labelled_processes(name):
            times, values = series(result.samples + result.after, name, server)
            axes.plot([t / 60 for t in times], values, label=label if label == "both" else f"process {label}")
        axes.axvspan(0, result.warmup / 60, color="grey", alpha=0.15)
        axes.set_title(name)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    for axes in panels[1]:
        axes.set_xlabel("minutes")
    fanout.save_figure(figure, path, when, "Soak, ")


# main ----------------------------------------------------------------------------------------------


#: name, type, default, help
OPTIONS = (
    ("--seconds", float, 600.0, "how long the churn lasts"),
    ("--workers", int, 4, "threads running laps (each with its own users)"),
    ("--sample-every", float, 5.0, "seconds between two samples"),
    ("--warmup", float, 60.0, "seconds left out of the slopes"),
    ("--fd-slack", int, 16, "fds allowed over the count after warm-up"),
    ("--docs", Path, ROOT / "docs", "folder for the CSV and the PNG"),
    ("--output", Path, BENCH / "results", "folder for the Markdown report"),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, kind, default, text in OPTIONS:
        parser.add_argument(name, type=kind, default=default, help=text)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, fanout.interrupted)  # unwinds like Ctrl-C: every process is stopped
    args, when = parse_args(argv), datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, Soak(Path(tmp), args) as soak:
        result = soak.run()
    stem = f"soak-{when:%Y-%m-%d}"
    args.docs.mkdir(parents=True, exist_ok=True)
    write_csv(result.samples + result.after, args.docs / f"{stem}.csv")
    draw(result, args.docs / f"{stem}.png", when)
    fanout.publish(report(result, args, when), args.output / f"soak-{when:%Y-%m-%d-%H%M}.md")
    return 1 if result.leaks or result.churn.errors else 0


if __name__ == "__main__":
    sys.exit(main())
