"""Room fan-out latency: our server against a bare python-socketio server, in one run.

    .venv/bin/python bench/fanout.py [--sizes 10,100,500] [--seeks 200] [--interval 0.05]

One real redis-server; the host and the viewers are registered over HTTP on
two `python wsgi.py` processes (one SQLite file), one room per size. Then,
for each room size N, two fresh pairs of server processes share that Redis:
two `python wsgi.py` (ours: gevent, REDIS_URL set) and two
`bench/bare_server.py` (python-socketio with the same WebSocket handler and
Redis queue, no application logic). For each pair, the host connects to the
first process and N viewers are spread evenly over both; every client offers
permessage-deflate as a browser does, and the answer is reported.

The host sends SEEKs `--interval` seconds apart, each with a distinct time;
a viewer's latency for a SEEK is the receive time of the PLAYBACK_STATE
carrying that time minus the host's send time (CLOCK_MONOTONIC, one clock for
the whole machine). After `--warmup` uncounted SEEKs per pair, `--seeks` SEEKs
per pair are sent in `--rounds` rounds that alternate ours and bare, so that
both meet the same conditions on a machine that may be doing other work.

Reported: p50 and p99 over all (SEEK, viewer) pairs, missed deliveries, the
CPU of the load generator, of each server process, of redis-server and of the
rest of the machine during the SEEKs, and resident memory per connected
socket (RSS after the N viewers connected minus RSS before, summed over both
processes, divided by N). Every process started here (servers, load
generators, redis-server) is stopped on the way out, whatever happens. The
Markdown report is printed and written to bench/results/fanout-<date>.md.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import functools
import importlib.metadata
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402  (bench/ is on sys.path as the script's directory)
import profiling  # noqa: E402

from tests.support import (  # noqa: E402
    ApiUser,
    LiveServer,
    RedisServer,
    server_env,
    start_all,
)

#: A room with media, as a real watch party has: the host's SEEK also writes its watch progress (R63).
MEDIA = {"provider": "vidking", "type": "movie", "id": "550"}
SEEK_BASE = 1000.0
#: Seconds a server may take to answer after its start (migrations, imports) on a busy machine.
START_TIMEOUT = 180.0


# processes ---------------------------------------------------------------------------


@dataclass
class BareServer(LiveServer):
    """One bench/bare_server.py process on a free port: Socket.IO on the Redis queue, nothing else."""

    redis_url: str = ""

    def __post_init__(self):
        script = str(BENCH / "bare_server.py")
        self.command = (sys.executable, script, "--port", str(self.port), "--redis", self.redis_url)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"bare server exited with {self.process.returncode}; see {self.log_path}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


def bare_server(redis_url: str, log_path: Path, prefix: tuple = ()) -> BareServer:
    """A BareServer whose command starts with `prefix` (e.g. prlimit, which execs the rest)."""
    server = BareServer(env=dict(os.environ), log_path=log_path, redis_url=redis_url)
    server.command = (*prefix, *server.command)
    return server


class LoadGenerator:
    """A bench/loadgen.py worker process, driven through a pipe."""

    def __init__(self, name: str):
        context = multiprocessing.get_context("spawn")
        self.name = name
        self.conn, child = context.Pipe()
        self.process = context.Process(target=loadgen.worker_main, args=(child,), name=name, daemon=True)
        self.process.start()
        child.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, command: str, *args) -> None:
        self.conn.send((command, args))

    def reply(self, timeout: float = 300.0):
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.name} did not answer within {timeout}s")
        status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"{self.name}: {value}")
        return value

    def call(self, command: str, *args, timeout: float = 300.0):
        self.send(command, *args)
        return self.reply(timeout)

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.call("exit", timeout=30)
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


def start_servers(factory, count: int = 2) -> list:
    """Start `count` servers at once, each allowed START_TIMEOUT; stop them all if any fails."""
    servers = [factory(i) for i in range(count)]
    for server in servers:
        server.start = functools.partial(server.start, timeout=START_TIMEOUT)
    return start_all(servers)


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes)."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


# the population: one host, N viewers, one room per size -----------------------------------


@dataclass
class Population:
    host_token: str
    viewer_tokens: list[str]
    rooms: dict[int, str] = field(default_factory=dict)
    idle_rooms: list[str] = field(default_factory=list)


#: Settings a benchmark lifts so that it measures the fan-out, not the guards (R108, R172, R174, R177).
BENCH_SETTINGS = {
    "REGISTER_RATE_LIMIT": "100000 per hour",
    "SOCKET_EVENTS_PER_SECOND": 1000,
    "SOCKET_EVENTS_BURST": 1000,
    "JWT_ACCESS_TOKEN_EXPIRES": 86400,
    "MAX_OPEN_ROOMS_PER_USER": 1000,
}


# The checkout whose `python wsgi.py` is "ours" (--app-dir: an older one gives a "before" figure).
ours_dir = ROOT


def bench_env(workdir: Path, redis_url: str, **settings) -> dict:
    """A server environment on one SQLite file in workdir, with the benchmark's settings."""
    return server_env(f"sqlite:///{workdir / 'bench.sqlite3'}", redis_url, **{**BENCH_SETTINGS, **settings})


def open_room(host: ApiUser, pool, members: list[ApiUser], title: str) -> str:
    """Create a room with media as `host`, have every member join it; its code."""
    response = host.post("/api/rooms/", json={"title": title, "media": MEDIA})
    assert response.status_code == 201, response.text
    code = response.json()["room"]["code"]

    def join(user: ApiUser) -> None:
        answer = user.post(f"/api/rooms/{code}/join/")
        assert answer.status_code in (200, 201), answer.text

    list(pool.map(join, members))
    return code


def create_population(
    env: dict, workdir: Path, viewers: int, sizes: list[int], threads: int, idle: tuple[int, int] = (0, 0)
) -> Population:
    """Register the host and the viewers over HTTP, create one room per size, join, get tokens.

    `idle` is (rooms, members): that many more rooms, joined by the first `members` viewers.
    """
    servers = start_servers(lambda i: LiveServer(env, workdir / f"setup-{i}.log", cwd=ours_dir))
    try:
        started = time.monotonic()
        urls = [s.url for s in servers]
        host = ApiUser(urls[0]).register(email="host@bench.example.com", display_name="Bench host")

        def register(index: int) -> ApiUser:
            user = ApiUser(urls[index % 2])
            return user.register(email=f"viewer-{index}@bench.example.com", display_name=f"Viewer {index}")

        # Registration hashes with scrypt (~0.3 s of CPU each): keep both processes busy.
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            users = list(pool.map(register, range(viewers)))
            print(f"  registered 1 host + {viewers} viewers in {time.monotonic() - started:.1f}s", flush=True)
            rooms = {size: open_room(host, pool, users[:size], f"Fan-out N={size}") for size in sizes}
            rooms_idle = [open_room(host, pool, users[: idle[1]], f"Idle {i}") for i in range(idle[0])]
            tokens = list(pool.map(ApiUser.token, users))
        print(f"  rooms, joins and tokens ready after {time.monotonic() - started:.1f}s", flush=True)
        return Population(host.token(), tokens, rooms, rooms_idle)
    finally:
        for server in servers:
            server.stop()


# one room size: both servers, measured in alternating rounds ----------------------------------

KINDS = ("ours", "bare")


@dataclass
class KindResult:
    """What one server kind did at one room size, summed over its rounds."""

    kind: str
    size: int
    rss_before: list[int]
    rss_after: list[int]
    extensions: list
    connect_seconds: float
    latencies: list[float] = field(default_factory=list)
    local: list[float] = field(default_factory=list)
    remote: list[float] = field(default_factory=list)
    missed: int = 0
    seek_seconds: float = 0.0
    machine_seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    round_p50: list[float] = field(default_factory=list)

    @property
    def kib_per_socket(self) -> float:
        return (sum(self.rss_after) - sum(self.rss_before)) / 1024 / self.size

    def cpu(self, name: str) -> float:
        """% of one core used by one watched process during the SEEKs."""
        return self.cpu_seconds.get(name, 0.0) / self.seek_seconds * 100

    @property
    def loadgen_cpu(self) -> float:
        return sum(self.cpu(n) for n in self.cpu_seconds if n.startswith("loadgen"))

    @property
    def loadgen_max(self) -> float:
        return max(self.cpu(n) for n in self.cpu_seconds if n.startswith("loadgen"))

    @property
    def machine_cpu(self) -> float:
        return self.machine_seconds / self.seek_seconds * 100

    @property
    def others_cpu(self) -> float:
        """CPU of the machine not used by this benchmark's processes (other work on the box)."""
        return max(0.0, self.machine_cpu - sum(self.cpu(n) for n in self.cpu_seconds))


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@dataclass
class Bench:
    """The long-lived pieces of a run: load generators, redis, arguments."""

    host_gen: LoadGenerator
    viewer_gens: list[LoadGenerator]
    redis: RedisServer
    args: argparse.Namespace

    def assignment(self, size: int) -> list[list[tuple[int, int]]]:
        """Per viewer generator, its (viewer index, server index) pairs: viewer i on server i % processes."""
        processes = self.args.processes
        plan: list[list[tuple[int, int]]] = [[] for _ in self.viewer_gens]
        for index in range(size):
            plan[(index // processes) % len(self.viewer_gens)].append((index, index % processes))
        return plan

    def connect(self, kind: str, servers: list, host_auth: dict, viewer_auths: list[dict]) -> KindResult:
        """Connect the host (server 1) then the viewers (both servers); RSS before and after the viewers."""
        urls, pids = [s.url for s in servers], [s.process.pid for s in servers]
        host_client = getattr(self.args, "host_client", "asyncclient")
        self.host_gen.call("connect", kind, [(urls[0], host_auth)], 1, host_client)
        self.host_gen.call("quiet", 0.5, 10)
        time.sleep(0.5)
        rss_before = [rss(pid) for pid in pids]
        started = time.monotonic()
        plan = self.assignment(len(viewer_auths))
        for gen, viewers in zip(self.viewer_gens, plan, strict=True):
            specs = [(urls[server], viewer_auths[v]) for v, server in viewers]
            gen.send("connect", kind, specs, self.args.connect_concurrency, self.args.client)
        answers = [gen.reply(timeout=600) for gen in self.viewer_gens]
        connect_seconds = time.monotonic() - started
        for gen, answer, viewers in zip(self.viewer_gens, answers, plan, strict=True):
            if answer["connected"] != len(viewers):
                raise RuntimeError(
                    f"{kind} N={len(viewer_auths)}: {gen.name} connected "
                    f"{answer['connected']}/{len(viewers)}: {answer['failures']}"
                )
        # Let the connection storm (USER_JOINED to everyone, for ours) drain before measuring.
        gens = [self.host_gen, *self.viewer_gens]
        for gen in gens:
            gen.send("quiet", 1.0, 120)
        for gen in gens:
            gen.reply()
        rss_after = [rss(pid) for pid in pids]
        extensions = sorted({tuple(e) for answer in answers for e in answer["extensions"]})
        return KindResult(kind, len(viewer_auths), rss_before, rss_after, extensions, connect_seconds)

    def measure_round(self, result: KindResult, servers: list, times: list[float]) -> None:
        """The host sends one SEEK per time; every viewer's receive time is matched to its send time."""
        args = self.args
        watched = {g.name: psutil.Process(g.pid) for g in [self.host_gen, *self.viewer_gens]}
        watched["redis"] = psutil.Process(self.redis.process.pid)
        for index, server in enumerate(servers):
            watched[f"server{index}"] = psutil.Process(server.process.pid)
        for gen in self.viewer_gens:
            gen.call("reset", result.kind)
        limit = len(times) * args.interval + 30
        before = {name: cpu_seconds(p) for name, p in watched.items()}
        machine_before, started = busy_seconds(), time.monotonic()
        for gen in self.viewer_gens:
            gen.send("collect", result.kind, times, limit)
        sent = self.host_gen.call("seek", result.kind, times, args.interval, timeout=limit + 30)
        received = [gen.reply(timeout=limit + 30) for gen in self.viewer_gens]
        result.seek_seconds += time.monotonic() - started
        result.machine_seconds += busy_seconds() - machine_before
        for name, process in watched.items():
            spent = cpu_seconds(process) - before[name]
            result.cpu_seconds[name] = result.cpu_seconds.get(name, 0.0) + spent

        this_round = []
        for viewers, rows in zip(self.assignment(result.size), received, strict=True):
            for (_viewer, server), row in zip(viewers, rows, strict=True):
                for send_time, receive_time in zip(sent, row, strict=True):
                    if receive_time is None:
                        result.missed += 1
                        continue
                    latency = (receive_time - send_time) * 1000
                    this_round.append(latency)
                    (result.local if server == 0 else result.remote).append(latency)
        result.latencies += this_round
        result.round_p50.append(percentile(this_round, 50))

    def disconnect(self, kind: str) -> None:
        for gen in self.viewer_gens:
            gen.send("disconnect", kind)
        for gen in self.viewer_gens:
            gen.reply()
        self.host_gen.call("disconnect", kind)


def measure_rounds(bench: Bench, servers: dict, results: dict, per_round: list[int]) -> None:
    """The measured SEEKs, in rounds alternating which kind goes first."""
    first = SEEK_BASE
    for number, count in enumerate(per_round):
        times = [first + i for i in range(count)]
        first += count
        for kind in KINDS if number % 2 == 0 else KINDS[::-1]:
            bench.measure_round(results[kind], servers[kind], times)
            time.sleep(0.2)


def profiled(args, server, name: str):
    """With --profile: py-spy records the server process (the host's, process 1) during the block."""
    if not getattr(args, "profile_dir", None):
        return contextlib.nullcontext()
    args.profile_dir.mkdir(parents=True, exist_ok=True)
    return profiling.Profile(server.process.pid, args.profile_dir / f"{name}.txt", name)


METRICS_TOKEN = "bench-metrics-token"
R181_NAMES = (
    "watchparty_sockets_connected",
    "watchparty_events_received_total",
    "watchparty_emits_total",
    "watchparty_command_seconds_count",
    "watchparty_db_seconds_count",
    "watchparty_redis_seconds_count",
)


def save_metrics(servers: list, size: int, output: Path) -> None:
    """Scrape /metrics of our processes while the room is full (R181); keep the text, print the gist."""
    output.mkdir(parents=True, exist_ok=True)
    for index, server in enumerate(servers):
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        text = requests.get(server.url + "/metrics", headers=headers, timeout=10).text
        (output / f"metrics-N{size}-server{index}.txt").write_text(text)
        gist = [line for line in text.splitlines() if line.startswith(R181_NAMES)]
        print(f"metrics N={size} server{index}: " + "; ".join(gist), flush=True)


def run_size(bench: Bench, env: dict, workdir: Path, population: "Population", size: int) -> dict:
    """Measure ours and bare at one room size, in alternating rounds so both see the same conditions."""
    code = population.rooms[size]
    host_auth = {"token": population.host_token, "room": code}
    tokens = population.viewer_tokens[: -(-size // bench.args.tabs)]
    viewer_auths = [{"token": tokens[i % len(tokens)], "room": code} for i in range(size)]
    args, servers, results = bench.args, {}, {}
    count = args.processes
    try:
        servers["ours"] = start_servers(
            lambda i: LiveServer(env, workdir / f"ours-{size}-{i}.log", cwd=ours_dir), count
        )
        servers["bare"] = start_servers(
            lambda i: bare_server(bench.redis.url, workdir / f"bare-{size}-{i}.log"), count
        )
        for kind in KINDS:
            with profiled(args, servers[kind][0], f"{kind}-connect-N{size}"):
                results[kind] = bench.connect(kind, servers[kind], host_auth, viewer_auths)
        # Warm-up SEEKs, not counted: the first ones pay for imports, statement compilation, first inserts.
        warmup = [SEEK_BASE - 1 - i for i in range(args.warmup)]
        for kind in KINDS:
            if warmup:
                bench.measure_round(KindResult(kind, size, [], [], [], 0.0), servers[kind], warmup)
        per_round = [args.seeks // args.rounds + (r < args.seeks % args.rounds) for r in range(args.rounds)]
        with contextlib.ExitStack() as profiles:
            for kind in KINDS:
                profiles.enter_context(profiled(args, servers[kind][0], f"{kind}-seek-N{size}"))
            measure_rounds(bench, servers, results, per_round)
        save_metrics(servers["ours"], size, args.output)
        for kind in KINDS:
            bench.disconnect(kind)
    finally:
        for pair in servers.values():
            for server in pair:
                server.stop()
    return results


# report ------------------------------------------------------------------------------------


def machine_line() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}"


def save_figure(figure, path: Path, when: datetime.datetime, title: str = "") -> None:
    """Caption a matplotlib figure with the machine and the time, write it as a PNG and free it."""
    from matplotlib import pyplot

    figure.suptitle(f"{title}{machine_line()}, {when:%Y-%m-%d %H:%M} UTC", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def versions_line() -> str:
    names = ["python-socketio", "python-engineio", "gevent", "gevent-websocket", "aiohttp", "redis"]
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    answer = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    server = next((word for word in answer if word.startswith("v=")), "v=?")[2:]
    return f"Python {platform.python_version()}, " + ", ".join(found) + f", redis-server {server}"


def server_cpus(result: KindResult) -> str:
    """Each server process's CPU during the SEEKs, in % of one core."""
    names = sorted(n for n in result.cpu_seconds if n.startswith("server"))
    return " / ".join(f"{result.cpu(n):.0f}%" for n in names)


def ms(value: float) -> str:
    return f"{value:.1f}"


def mib(values: list[int]) -> str:
    return " + ".join(f"{v / 2**20:.0f}" for v in values)


def report(results: dict[int, dict[str, KindResult]], args, when: datetime.datetime) -> str:
    client = {"raw": "a minimal Socket.IO wire-protocol client", "asyncclient": "python-socketio AsyncClient"}
    lines = [
        f"# Room fan-out: ours vs bare python-socketio ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- Machine: {machine_line()}",
        f"- Stack: {versions_line()}",
        f"- Command: `.venv/bin/python bench/fanout.py --sizes {args.sizes} --seeks {args.seeks} "
        f"--interval {args.interval} --rounds {args.rounds} --warmup {args.warmup} "
        f"--loadgens {args.loadgens} --client {args.client} --processes {args.processes} --tabs {args.tabs}"
        + (f" --app-dir {args.app_dir}`" if getattr(args, "app_dir", None) else "`"),  # capacity.py has none
        f"- Per N and server: {args.warmup} warm-up SEEKs (not counted), then {args.seeks} SEEKs "
        f"{args.interval * 1000:.0f} ms apart in {args.rounds} rounds alternating ours and bare; "
        f"host on process 1, viewers split evenly over the {args.processes} processes"
        + (f", {args.tabs} sockets (tabs) per viewer user." if args.tabs > 1 else "."),
        f"- Load generator: {args.loadgens} viewer processes ({client[args.client]} over aiohttp, WebSocket "
        "only) + 1 host process (python-socketio AsyncClient).",
    ]
    extensions = sorted({e for by_kind in results.values() for r in by_kind.values() for e in r.extensions})
    for offered, answered, wbits in extensions:
        state = "compressed" if wbits else "not compressed"
        lines.append(f"- WebSocket compression: offered `{offered}`, answered `{answered}`: frames {state}.")
    lines += [
        "",
        "Latency (ms) from the host's SEEK to each viewer's PLAYBACK_STATE, over all (SEEK, viewer) pairs; "
        "missed: ours / bare; loadgen CPU: % of one core during the SEEKs, all load-generator processes "
        "summed (busiest one in brackets), ours / bare.",
        "",
        "| N | ours p50 | ours p99 | bare p50 | bare p99 | ratio p50 | ratio p99 | missed | loadgen CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, by_kind in results.items():
        ours, bare = by_kind["ours"], by_kind["bare"]
        o50, o99 = percentile(ours.latencies, 50), percentile(ours.latencies, 99)
        b50, b99 = percentile(bare.latencies, 50), percentile(bare.latencies, 99)
        load = " / ".join(f"{r.loadgen_cpu:.0f}% ({r.loadgen_max:.0f}%)" for r in (ours, bare))
        lines.append(
            f"| {size} | {ms(o50)} | {ms(o99)} | {ms(b50)} | {ms(b99)} | {o50 / b50:.2f} | {o99 / b99:.2f} "
            f"| {ours.missed} / {bare.missed} | {load} |"
        )
    lines += [
        "",
        "Details: server CPU in % of one core during the SEEKs; machine = all cores busy (200% = both), "
        "others = the part of it used by processes outside this benchmark.",
        "",
        "| N | server | each process / redis | machine (others) | p50 local / remote | p50 by round | max "
        "| connect N |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, by_kind in results.items():
        for kind in KINDS:
            r = by_kind[kind]
            lines.append(
                f"| {size} | {kind} | "
                f"{server_cpus(r)} / {r.cpu('redis'):.0f}% "
                f"| {r.machine_cpu:.0f}% ({r.others_cpu:.0f}%) "
                f"| {ms(percentile(r.local, 50))} / {ms(percentile(r.remote, 50))} "
                f"| {ms(min(r.round_p50))}-{ms(max(r.round_p50))} "
                f"| {ms(max(r.latencies, default=float('nan')))} | {r.connect_seconds:.1f}s |"
            )
    largest = max(results)
    ours, bare = results[largest]["ours"], results[largest]["bare"]
    lines += [
        "",
        f"Resident memory per connected socket at N={largest} (RSS of both server processes after the "
        f"viewers connected minus before, / N): ours {ours.kib_per_socket:.0f} KiB, "
        f"bare {bare.kib_per_socket:.0f} KiB (ours {mib(ours.rss_before)} -> {mib(ours.rss_after)} MiB, "
        f"bare {mib(bare.rss_before)} -> {mib(bare.rss_after)} MiB).",
        "",
    ]
    return "\n".join(lines)


# main ----------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,500", help="room sizes N, comma-separated")
    parser.add_argument("--seeks", type=int, default=200, help="SEEKs per room size and server")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two SEEKs")
    parser.add_argument(
        "--rounds", type=int, default=8, help="alternating ours/bare rounds the SEEKs are split in"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="SEEKs per server before measuring, not counted"
    )
    parser.add_argument("--loadgens", type=int, default=2, help="viewer load-generator processes")
    parser.add_argument(
        "--client",
        choices=["raw", "asyncclient"],
        default="raw",
        help="viewer client: a minimal wire-protocol client (default), or python-socketio's AsyncClient",
    )
    parser.add_argument("--processes", type=int, default=2, help="server processes per kind")
    parser.add_argument(
        "--tabs", type=int, default=1, help="sockets per viewer user (fewer registrations; R174 allows 5)"
    )
    parser.add_argument("--register-threads", type=int, default=8, help="concurrent registrations")
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per loadgen")
    parser.add_argument("--output", type=Path, default=BENCH / "results", help="folder for the report")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="checkout to run as ours (a 'before')")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profiles of process 1 of each kind (connects, SEEKs) into bench/results/profile-<date>/",
    )
    args = parser.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.rounds = max(1, min(args.rounds, args.seeks))
    return args


def stop_all(stoppable: list) -> None:
    """Stop every process started (latest first), whatever happens to each."""
    for item in reversed(stoppable):
        with contextlib.suppress(Exception):
            item.stop()


def publish(text: str, path: Path) -> None:
    """Print the report and write it to path."""
    print()
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def interrupted(signum, _frame):
    """SIGTERM unwinds like Ctrl-C, so every process gets stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    when = datetime.datetime.now(datetime.UTC)
    if args.profile:
        args.profile_dir = args.output / f"profile-{when:%Y-%m-%d-%H%M}"
    signal.signal(signal.SIGTERM, interrupted)
    global ours_dir
    ours_dir = args.app_dir.resolve()
    stoppable: list = []
    started = time.monotonic()
    results: dict[int, dict[str, KindResult]] = {}
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        workdir = Path(tmp)
        try:
            generators = [LoadGenerator("loadgen-host")]
            generators += [LoadGenerator(f"loadgen-{i + 1}") for i in range(args.loadgens)]
            stoppable += generators
            redis = RedisServer(workdir).start()
            stoppable.append(redis)
            bench = Bench(generators[0], generators[1:], redis, args)
            env = bench_env(
                workdir, redis.url, MAX_SOCKETS_PER_USER=max(5, args.tabs), METRICS_TOKEN=METRICS_TOKEN
            )
            users = -(-max(args.size_list) // args.tabs)
            print(f"setup: redis on port {redis.port}; registering 1 host + {users} viewers", flush=True)
            population = create_population(env, workdir, users, args.size_list, args.register_threads)
            for size in args.size_list:
                results[size] = run_size(bench, env, workdir, population, size)
                for kind, r in results[size].items():
                    print(
                        f"{kind:4} N={size:<4} p50 {percentile(r.latencies, 50):7.1f} ms  "
                        f"p99 {percentile(r.latencies, 99):7.1f} ms  missed {r.missed}  "
                        f"loadgen {r.loadgen_cpu:.0f}%  "
                        f"servers {server_cpus(r)}  "
                        f"others {r.others_cpu:.0f}%  ({time.monotonic() - started:.0f}s)",
                        flush=True,
                    )
        finally:
            stop_all(stoppable)
    publish(report(results, args, when), args.output / f"fanout-{when:%Y-%m-%d-%H%M}.md")
    missed = sum(r.missed for by_kind in results.values() for r in by_kind.values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
