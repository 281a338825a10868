"""Room fan-out latency: our server against a bare python-socketio server, in one run.

    .venv/bin/python bench/fanout.py [--sizes 10,100,500] [--seeks 200] [--interval 0.05]

For each room size N, two real server processes share one real redis-server:
first two `python wsgi.py` (ours: gevent, one SQLite file, REDIS_URL set),
then two `bench/bare_server.py` (python-socketio with the same WebSocket
handler and Redis queue, no application logic). The host connects to the
first process and N viewers are spread evenly over both; every client offers
permessage-deflate as a browser does. The host sends `--seeks` SEEKs,
`--interval` seconds apart, each with a distinct time; a viewer's latency for
a SEEK is the receive time of the PLAYBACK_STATE carrying that time minus the
host's send time (one monotonic clock for the whole machine). Reported: p50
and p99 over all (SEEK, viewer) pairs, missed deliveries, the CPU of the
load generator and of each server process during the SEEKs, and resident
memory per connected socket (RSS after the N viewers connected minus RSS
before, summed over both processes, divided by N).

Every server process is fresh for each (server, N) phase, so the memory
figures start from the same place. Each phase's servers, the load-generator
processes and redis-server are stopped on the way out, whatever happens.
The Markdown report is printed and written to bench/results/fanout-<date>.md.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import importlib.metadata
import multiprocessing
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402  (bench/ is on sys.path as the script's directory)
from tests.support import ApiUser, LiveServer, RedisServer, free_port, server_env, wait_until  # noqa: E402

#: A room with media, as a real watch party has: the host's SEEK also writes its watch progress (R63).
MEDIA = {"provider": "vidking", "type": "movie", "id": "550"}
SEEK_BASE = 1000.0


# processes ---------------------------------------------------------------------------


class BareServer:
    """One bench/bare_server.py process on a free port."""

    def __init__(self, redis_url: str, log_path: Path):
        self.redis_url, self.log_path = redis_url, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "BareServer":
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        args = [
            sys.executable,
            str(BENCH / "bare_server.py"),
            "--port",
            str(self.port),
            "--redis",
            self.redis_url,
        ]
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(self._listening, timeout=30, message=f"bare server on port {self.port}")
        return self

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"bare server exited with {self.process.returncode}; see {self.log_path}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None


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


def start_pair(factory) -> list:
    """Start two servers at once; stop both if either fails."""
    servers = [factory(0), factory(1)]
    errors: list[BaseException] = []

    def start(server):
        try:
            server.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for server in servers:
            server.stop()
        raise errors[0]
    return servers


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


# the population: one host, N viewers, one room per size -----------------------------------


@dataclass
class Population:
    host_token: str
    viewer_tokens: list[str]
    rooms: dict[int, str] = field(default_factory=dict)


def create_population(env: dict, workdir: Path, viewers: int, sizes: list[int], threads: int) -> Population:
    """Register the host and the viewers over HTTP, create one room per size, join, get tokens."""
    servers = start_pair(lambda i: LiveServer(env, workdir / f"setup-{i}.log"))
    try:
        started = time.monotonic()
        urls = [s.url for s in servers]
        host = ApiUser(urls[0]).register(email="host@bench.example.com", display_name="Bench host")

        def register(index: int) -> ApiUser:
            user = ApiUser(urls[index % 2])
            return user.register(email=f"viewer-{index}@bench.example.com", display_name=f"Viewer {index}")

        # Registration hashes with scrypt (~0.2 s of CPU each): keep both processes busy.
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            users = list(pool.map(register, range(viewers)))
            print(f"  registered 1 host + {viewers} viewers in {time.monotonic() - started:.1f}s", flush=True)
            rooms = {}
            for size in sizes:
                response = host.post("/api/rooms/", json={"title": f"Fan-out N={size}", "media": MEDIA})
                assert response.status_code == 201, response.text
                code = response.json()["room"]["code"]

                def join(user: ApiUser, code=code) -> None:
                    answer = user.post(f"/api/rooms/{code}/join/")
                    assert answer.status_code in (200, 201), answer.text

                list(pool.map(join, users[:size]))
                rooms[size] = code
            tokens = list(pool.map(ApiUser.token, users))
        print(f"  rooms, joins and tokens ready after {time.monotonic() - started:.1f}s", flush=True)
        return Population(host.token(), tokens, rooms)
    finally:
        for server in servers:
            server.stop()


# one measured phase --------------------------------------------------------------------------


@dataclass
class PhaseResult:
    kind: str
    size: int
    latencies: list[float]
    local: list[float]
    remote: list[float]
    missed: int
    cpu: dict[str, float]
    rss_before: list[int]
    rss_after: list[int]
    extensions: list
    connect_seconds: float
    seek_seconds: float

    @property
    def kib_per_socket(self) -> float:
        return (sum(self.rss_after) - sum(self.rss_before)) / 1024 / self.size


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_phase(
    kind: str,
    servers: list,
    host_auth: dict,
    viewer_auths: list[dict],
    host_gen: LoadGenerator,
    viewer_gens: list[LoadGenerator],
    redis_pid: int,
    args,
) -> PhaseResult:
    """Connect the host and the viewers, send the SEEKs, and time every delivery."""
    size = len(viewer_auths)
    urls = [s.url for s in servers]
    pids = [s.process.pid for s in servers]
    host_gen.call("connect", [(urls[0], host_auth)], 1)
    host_gen.call("quiet", 0.5, 10)
    time.sleep(0.5)
    rss_before = [rss(pid) for pid in pids]

    # viewer i -> server i % 2 (the host is on server 0), and the load generators each get half of both.
    assignment: list[list[tuple[int, int]]] = [[] for _ in viewer_gens]  # per generator: (viewer, server)
    for index in range(size):
        assignment[(index // 2) % len(viewer_gens)].append((index, index % 2))
    started = time.monotonic()
    for gen, viewers in zip(viewer_gens, assignment, strict=True):
        gen.send(
            "connect", [(urls[server], viewer_auths[v]) for v, server in viewers], args.connect_concurrency
        )
    connected = [gen.reply(timeout=600) for gen in viewer_gens]
    connect_seconds = time.monotonic() - started
    for gen, answer, viewers in zip(viewer_gens, connected, assignment, strict=True):
        if answer["connected"] != len(viewers):
            raise RuntimeError(f"{kind} N={size}: {gen.name} connected {answer['connected']}/{len(viewers)}: "
                               f"{answer['failures']}")  # fmt: skip
    # Let the connection storm (USER_JOINED to everyone) drain before measuring anything.
    for gen in [host_gen, *viewer_gens]:
        gen.send("quiet", 1.0, 120)
    for gen in [host_gen, *viewer_gens]:
        gen.reply()
    rss_after = [rss(pid) for pid in pids]
    for gen in viewer_gens:
        gen.call("reset")

    times = [SEEK_BASE + index for index in range(args.seeks)]
    watched = {
        "loadgen": [psutil.Process(g.pid) for g in [host_gen, *viewer_gens]],
        "redis": [psutil.Process(redis_pid)],
    }
    for index, pid in enumerate(pids):
        watched[f"server{index}"] = [psutil.Process(pid)]
    for processes in watched.values():
        for process in processes:
            process.cpu_percent(None)
    per_loadgen = []
    started = time.monotonic()
    for gen in viewer_gens:
        gen.send("collect", times, args.seeks * args.interval + 30)
    sent = host_gen.call("seek", times, args.interval, timeout=args.seeks * args.interval + 60)
    received = [gen.reply(timeout=args.seeks * args.interval + 60) for gen in viewer_gens]
    seek_seconds = time.monotonic() - started
    cpu = {}
    for name, processes in watched.items():
        shares = [process.cpu_percent(None) for process in processes]
        cpu[name] = sum(shares)
        if name == "loadgen":
            per_loadgen = shares
    cpu["loadgen_max"] = max(per_loadgen)

    latencies, local, remote, missed = [], [], [], 0
    for viewers, rows in zip(assignment, received, strict=True):
        for (_viewer, server), row in zip(viewers, rows, strict=True):
            for send_time, receive_time in zip(sent, row, strict=True):
                if receive_time is None:
                    missed += 1
                    continue
                latency = (receive_time - send_time) * 1000
                latencies.append(latency)
                (local if server == 0 else remote).append(latency)

    for gen in viewer_gens:
        gen.send("disconnect")
    for gen in viewer_gens:
        gen.reply()
    host_gen.call("disconnect")
    extensions = sorted({tuple(e) for answer in connected for e in answer["extensions"]})
    return PhaseResult(kind, size, latencies, local, remote, missed, cpu, rss_before, rss_after, extensions,
                       connect_seconds, seek_seconds)  # fmt: skip


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


def versions_line() -> str:
    names = ["python-socketio", "python-engineio", "gevent", "gevent-websocket", "aiohttp", "redis"]
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split()
    server = next((word for word in redis_version if word.startswith("v=")), "v=?")[2:]
    return f"Python {platform.python_version()}, " + ", ".join(found) + f", redis-server {server}"


def ms(value: float) -> str:
    return f"{value:.1f}"


def report(
    results: dict[tuple[str, int], PhaseResult], sizes: list[int], args, when: datetime.datetime
) -> str:
    lines = [
        f"# Room fan-out: ours vs bare python-socketio ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- Machine: {machine_line()}",
        f"- Stack: {versions_line()}",
        f"- Command: `.venv/bin/python bench/fanout.py --sizes {args.sizes} --seeks {args.seeks} "
        f"--interval {args.interval} --loadgens {args.loadgens}`",
        f"- {args.seeks} SEEKs per phase, {args.interval * 1000:.0f} ms apart; host on process 1, viewers split "
        f"evenly over 2 processes; load generator: {args.loadgens} viewer processes + 1 host process "
        "(python-socketio AsyncClient over aiohttp, WebSocket only)",
    ]
    extensions = sorted({e for r in results.values() for e in r.extensions})
    for offered, answered, wbits in extensions:
        lines.append(
            f"- WebSocket compression: clients offered `{offered}`; the servers answered `{answered}` "
            f"(negotiated wbits {wbits}: {'compressed' if wbits else 'no compression'})"
        )
    lines += [
        "",
        "Latency in ms from the host's SEEK to each viewer's PLAYBACK_STATE, over all (SEEK, viewer) pairs. "
        "CPU in % of one core during the SEEKs (load generator: all its processes summed, busiest one in "
        "brackets).",
        "",
        "| N | ours p50 | ours p99 | bare p50 | bare p99 | ratio p50 | ratio p99 | missed | loadgen CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        ours, bare = results[("ours", size)], results[("bare", size)]
        o50, o99 = percentile(ours.latencies, 50), percentile(ours.latencies, 99)
        b50, b99 = percentile(bare.latencies, 50), percentile(bare.latencies, 99)
        missed = f"{ours.missed} / {bare.missed}"
        load = (
            f"{ours.cpu['loadgen']:.0f}% ({ours.cpu['loadgen_max']:.0f}%) / "
            f"{bare.cpu['loadgen']:.0f}% ({bare.cpu['loadgen_max']:.0f}%)"
        )
        lines.append(
            f"| {size} | {ms(o50)} | {ms(o99)} | {ms(b50)} | {ms(b99)} | {o50 / b50:.2f} | {o99 / b99:.2f} "
            f"| {missed} | {load} |"
        )
    lines += [
        "",
        "missed and loadgen CPU: ours / bare.",
        "",
        "| N | server | CPU proc 1 / proc 2 / redis | p50 local / remote viewers | connect N | max | deliveries |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for kind in ("ours", "bare"):
            r = results[(kind, size)]
            lines.append(
                f"| {size} | {kind} | {r.cpu['server0']:.0f}% / {r.cpu['server1']:.0f}% / {r.cpu['redis']:.0f}% "
                f"| {ms(percentile(r.local, 50))} / {ms(percentile(r.remote, 50))} "
                f"| {r.connect_seconds:.1f}s | {ms(max(r.latencies, default=float('nan')))} "
                f"| {len(r.latencies)} |"
            )
    largest = max(sizes)
    ours, bare = results[("ours", largest)], results[("bare", largest)]
    lines += [
        "",
        f"Resident memory per connected socket at N={largest} (RSS of both server processes after the viewers "
        f"connected minus before, / N): ours {ours.kib_per_socket:.0f} KiB, bare {bare.kib_per_socket:.0f} KiB "
        f"(ours {mib(ours.rss_before)} -> {mib(ours.rss_after)} MiB, "
        f"bare {mib(bare.rss_before)} -> {mib(bare.rss_after)} MiB).",
        "",
    ]
    return "\n".join(lines)


def mib(values: list[int]) -> str:
    return " + ".join(f"{v / 2**20:.0f}" for v in values)


# main ----------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,500", help="room sizes N, comma-separated")
    parser.add_argument("--seeks", type=int, default=200, help="SEEKs per phase")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two SEEKs")
    parser.add_argument("--loadgens", type=int, default=2, help="viewer load-generator processes")
    parser.add_argument("--register-threads", type=int, default=8, help="concurrent registrations")
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per loadgen")
    parser.add_argument("--output", type=Path, default=BENCH / "results", help="folder for the report")
    args = parser.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    return args


def interrupted(signum, _frame):
    """SIGTERM unwinds like Ctrl-C, so every process gets stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    when = datetime.datetime.now(datetime.UTC)
    signal.signal(signal.SIGTERM, interrupted)
    stoppable: list = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        workdir = Path(tmp)
        try:
            generators = [LoadGenerator("loadgen-host")]
            generators += [LoadGenerator(f"loadgen-{i + 1}") for i in range(args.loadgens)]
            stoppable += generators
            host_gen, viewer_gens = generators[0], generators[1:]
            redis = RedisServer(workdir).start()
            stoppable.append(redis)
            env = server_env(f"sqlite:///{workdir / 'bench.sqlite3'}", redis.url)
            print(f"setup: redis on {redis.port}, registering users ...", flush=True)
            population = create_population(
                env, workdir, max(args.size_list), args.size_list, args.register_threads
            )

            results: dict[tuple[str, int], PhaseResult] = {}
            for size in args.size_list:
                code = population.rooms[size]
                for kind in ("ours", "bare"):
                    if kind == "ours":
                        servers = start_pair(
                            lambda i, size=size: LiveServer(env, workdir / f"ours-{size}-{i}.log")
                        )
                    else:
                        servers = start_pair(
                            lambda i, size=size: BareServer(redis.url, workdir / f"bare-{size}-{i}.log")
                        )
                    stoppable += servers
                    try:
                        result = run_phase(
                            kind,
                            servers,
                            {"token": population.host_token, "room": code},
                            [{"token": t, "room": code} for t in population.viewer_tokens[:size]],
                            host_gen,
                            viewer_gens,
                            redis.process.pid,
                            args,
                        )
                    finally:
                        for server in servers:
                            server.stop()
                    results[(kind, size)] = result
                    print(
                        f"{kind:4} N={size:<4} p50 {percentile(result.latencies, 50):6.1f} ms  "
                        f"p99 {percentile(result.latencies, 99):6.1f} ms  missed {result.missed}  "
                        f"loadgen {result.cpu['loadgen']:.0f}%  servers {result.cpu['server0']:.0f}%/"
                        f"{result.cpu['server1']:.0f}%  ({time.monotonic() - started:.0f}s)",
                        flush=True,
                    )
        finally:
            for item in reversed(stoppable):
                with contextlib.suppress(Exception):
                    item.stop()
    text = report(results, args.size_list, args, when)
    print()
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"fanout-{when:%Y-%m-%d-%H%M}.md"
    path.write_text(text)
    print(f"written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    missed = sum(r.missed for r in results.values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
