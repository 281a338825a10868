"""Capacity of one server process, ours against bare python-socketio, in one run.

    .venv/bin/python bench/capacity.py [--steps 1000,2500,5000,7500,10000] [--fanout-size 2000]

Part 1, scale. One server process (ours: `python wsgi.py`; bare:
bench/bare_server.py), started by the bench under `prlimit --nofile` (the
server's own defaults are unchanged), holds a 100-viewer room whose host
sends SEEKs. Idle sockets are then added in steps until the last step (10,000
by default) or until the p99 of a SEEK to the 100-viewer room exceeds
`--p99-limit` ms at two steps in a row (one slow step may be another
process's burst on a shared machine). Ours spreads the idle sockets over `--idle-rooms` rooms of
the same 100 users with up to five sockets (tabs) per user and room, as R174
allows. At each step it reports resident memory per idle socket, the CPU of
the server and of Redis at rest over `--rest` seconds (Engine.IO pings every
25 s and our presence heartbeat every 2 s: this is what idle sockets cost),
the SEEK latency (p50/p99 over `--seeks` SEEKs), and the load generators'
CPU. Clients are asyncio processes (bench/loadgen.py's raw Socket.IO client):
two hold the SEEK room, `--idle-loadgens` hold the idle sockets.

Part 2, fan-out over four processes: bench/fanout.py's measurement at
N=`--fanout-size` with `--fanout-processes` processes of each kind, viewers
spread evenly, `--tabs` sockets per viewer user (fewer scrypt registrations).

The Markdown report and a latency plot are written to bench/results/.
"""

import argparse
import datetime
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import fanout
import psutil
from fanout import (
    BENCH,
    Bench,
    KindResult,
    LiveServer,
    LoadGenerator,
    RedisServer,
    bare_server,
    bench_env,
    busy_seconds,
    cpu_seconds,
    create_population,
    percentile,
    rss,
)

SEEK_ROOM = 100


@dataclass
class Step:
    """One step of the scale: what the process did with `sockets` idle sockets."""

    sockets: int
    rss: int
    connect_seconds: float
    rest: dict[str, float]
    seek: KindResult

    @property
    def p50(self) -> float:
        return percentile(self.seek.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.seek.latencies, 99)


@dataclass
class Scale:
    kind: str
    nofile: int
    base_rss: int = 0
    steps: list[Step] = field(default_factory=list)
    stopped: str = ""

    def kib_per_socket(self, step: Step) -> float:
        return (step.rss - self.base_rss) / 1024 / step.sockets if step.sockets else 0.0


class Capacity:
    """Drives one server kind through the steps with its load generators."""

    def __init__(self, gens: list[LoadGenerator], redis: RedisServer, args):
        self.host_gen, self.seek_gens, self.idle_gens = gens[0], gens[1:3], gens[3:]
        self.redis, self.args = redis, args
        single = argparse.Namespace(**{**vars(args), "processes": 1, "tabs": 1})
        self.bench = Bench(self.host_gen, self.seek_gens, redis, single)

    def watched(self, server) -> dict[str, psutil.Process]:
        processes = {"server": server.process.pid, "redis": self.redis.process.pid}
        processes |= {g.name: g.pid for g in [self.host_gen, *self.seek_gens, *self.idle_gens]}
        return {name: psutil.Process(pid) for name, pid in processes.items()}

    def rest(self, server) -> dict[str, float]:
        """% of one core each watched process (and the rest of the machine) used at rest."""
        watched = self.watched(server)
        before = {name: cpu_seconds(p) for name, p in watched.items()}
        machine, started = busy_seconds(), time.monotonic()
        time.sleep(self.args.rest)
        elapsed = time.monotonic() - started
        used = {name: (cpu_seconds(p) - before[name]) / elapsed * 100 for name, p in watched.items()}
        used["machine"] = (busy_seconds() - machine) / elapsed * 100
        return used

    def add_idle(self, kind: str, server, auths: list[dict]) -> tuple[int, float]:
        """Connect one idle socket per auth over the idle load generators; (idle sockets in all, seconds)."""
        started = time.monotonic()
        gens = self.idle_gens
        for index, gen in enumerate(gens):
            specs = [(server.url, auth) for auth in auths[index :: len(gens)]]
            gen.send("connect", f"idle-{kind}", specs, self.args.connect_concurrency, "raw")
        answers = [gen.reply(timeout=1800) for gen in gens]
        failures = [f for a in answers for f in a["failures"]]
        if failures:
            print(f"  {kind}: {sum(a['failed'] for a in answers)} idle connects failed: {failures[:3]}")
        for gen in [self.host_gen, *self.seek_gens, *gens]:
            gen.send("quiet", 1.0, 120)
        for gen in [self.host_gen, *self.seek_gens, *gens]:
            gen.reply()
        return sum(a["connected"] for a in answers), time.monotonic() - started

    def too_slow(self, scale: Scale) -> bool:
        """Two steps in a row above the p99 limit: one may be another process's burst on a shared machine."""
        last = scale.steps[-2:]
        return len(last) == 2 and all(step.p99 > self.args.p99_limit for step in last)

    def seek_round(self, kind: str, server, first: float) -> KindResult:
        result = KindResult(kind, SEEK_ROOM, [], [], [], 0.0)
        times = [first + i for i in range(self.args.seeks)]
        self.bench.measure_round(result, [server], times)
        return result

    def run(
        self, kind: str, server, host_auth: dict, viewer_auths: list[dict], idle_auths: list[dict]
    ) -> Scale:
        scale = Scale(kind, self.args.nofile)
        self.bench.connect(kind, [server], host_auth, viewer_auths)
        self.seek_round(kind, server, 1.0)  # warm-up, not counted
        scale.base_rss = rss(server.process.pid)
        connected, position = 0, 1000.0
        for target in [0, *self.args.step_list]:
            wanted = idle_auths[connected:target]
            total, seconds = self.add_idle(kind, server, wanted) if wanted else (connected, 0.0)
            added, connected = total - connected, total
            rest = self.rest(server)
            result = self.seek_round(kind, server, position)
            position += self.args.seeks
            step = Step(connected, rss(server.process.pid), seconds, rest, result)
            scale.steps.append(step)
            print(
                f"{kind:4} idle {connected:6}  RSS {step.rss / 2**20:6.0f} MiB  "
                f"rest CPU {rest['server']:5.1f}%  SEEK p50 {step.p50:6.1f} p99 {step.p99:6.1f} ms  "
                f"connect {seconds:5.1f}s",
                flush=True,
            )
            if added < len(wanted):
                scale.stopped = f"{len(wanted) - added} of the sockets of the {target} step were refused"
                break
            if self.too_slow(scale):
                scale.stopped = f"SEEK p99 above {self.args.p99_limit:.0f} ms at {connected} idle sockets"
                break
        for gen in [self.host_gen, *self.seek_gens]:
            gen.call("disconnect", kind)
        for gen in self.idle_gens:
            gen.call("disconnect", f"idle-{kind}")
        return scale


def idle_auths(kind: str, population, limit: int) -> list[dict]:
    """Auth of each idle socket: user (i // rooms) % 100 into idle room i % rooms; bare ignores tokens."""
    users = population.viewer_tokens[:SEEK_ROOM]
    rooms = population.idle_rooms if kind == "ours" else ["idle"]
    return [
        {"token": users[(i // len(rooms)) % len(users)], "room": rooms[i % len(rooms)]} for i in range(limit)
    ]


def limited(command: tuple, nofile: int) -> tuple:
    return ("prlimit", f"--nofile={nofile}:{nofile}", *command)


def run_scale(gens, redis, env, workdir: Path, population, args) -> dict[str, Scale]:
    """Part 1 for ours then bare, each on a fresh process."""
    capacity = Capacity(gens, redis, args)
    code = population.rooms[SEEK_ROOM]
    host_auth = {"token": population.host_token, "room": code}
    viewer_auths = [{"token": t, "room": code} for t in population.viewer_tokens[:SEEK_ROOM]]
    limit = args.step_list[-1]
    scales = {}
    for kind in args.kind_list:
        if kind == "ours":
            server = LiveServer(env, workdir / "scale-ours.log")
            server.command = limited(server.command, args.nofile)
        else:
            server = bare_server(redis.url, workdir / "scale-bare.log", limited((), args.nofile))
        try:
            server.start(timeout=fanout.START_TIMEOUT)
            scales[kind] = capacity.run(
                kind, server, host_auth, viewer_auths, idle_auths(kind, population, limit)
            )
        finally:
            server.stop()
    return scales


def run_fanout(gens, redis, env, workdir: Path, population, args) -> tuple:
    """Part 2: bench/fanout.py's rounds at one size over `--fanout-processes` processes per kind."""
    fan_args = argparse.Namespace(
        **{**vars(args), "processes": args.fanout_processes, "loadgens": len(gens) - 1},
        sizes=str(args.fanout_size),
    )
    bench = Bench(gens[0], gens[1:], redis, fan_args)
    return {args.fanout_size: fanout.run_size(bench, env, workdir, population, args.fanout_size)}, fan_args


# report --------------------------------------------------------------------------------------


def scale_table(scales: dict[str, Scale]) -> list[str]:
    lines = [
        "| idle sockets | server | RSS MiB | KiB / idle socket | CPU at rest: server / redis / machine "
        "| SEEK p50 / p99 ms | missed | loadgen CPU in SEEKs | connecting the step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, scale in scales.items():
        for step in scale.steps:
            seek, rest = step.seek, step.rest
            lines.append(
                f"| {step.sockets} | {kind} | {step.rss / 2**20:.0f} | {scale.kib_per_socket(step):.1f} "
                f"| {rest['server']:.1f}% / {rest['redis']:.1f}% / {rest['machine']:.0f}% "
                f"| {step.p50:.1f} / {step.p99:.1f} | {seek.missed} "
                f"| {seek.loadgen_cpu:.0f}% ({seek.loadgen_max:.0f}%) | {step.connect_seconds:.1f}s |"
            )
    return lines


def report(scales: dict[str, Scale], fanned, args, when: datetime.datetime, plot: Path | None) -> str:
    lines = [
        f"# Capacity of one process: ours vs bare python-socketio ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- Machine: {fanout.machine_line()}",
        f"- Stack: {fanout.versions_line()}",
        f"- Command: `.venv/bin/python bench/capacity.py --steps {args.steps} --rest {args.rest} "
        f"--seeks {args.seeks} --p99-limit {args.p99_limit} --idle-loadgens {args.idle_loadgens} "
        f"--fanout-size {args.fanout_size} --fanout-processes {args.fanout_processes} --tabs {args.tabs}`",
        f"- Servers started under `prlimit --nofile={args.nofile}:{args.nofile}`; load generators: 1 host + "
        f"2 SEEK-room + {args.idle_loadgens} idle asyncio processes (raw Socket.IO clients over aiohttp).",
        f"- Each step: {args.rest} s at rest (CPU in % of one core; machine = all cores, 200% = both), then "
        f"{args.seeks} SEEKs {args.interval * 1000:.0f} ms apart from the host of a {SEEK_ROOM}-viewer room "
        "on the same process (latency host send -> each viewer's PLAYBACK_STATE).",
        "",
        "## Scale: idle sockets on one process",
        "",
        *scale_table(scales),
        "",
    ]
    lines += [f"- {kind}: stopped early: {s.stopped}." for kind, s in scales.items() if s.stopped]
    if plot is not None:
        lines += [f"![SEEK latency and memory against idle sockets]({plot.name})", ""]
    if fanned:
        results, fan_args = fanned
        text = fanout.report(results, fan_args, when).replace(
            "# Room fan-out", "## Fan-out over processes", 1
        )
        lines.append(text)
    return "\n".join(lines)


def draw(scales: dict[str, Scale], path: Path, when: datetime.datetime) -> None:
    """SEEK p50/p99 and RSS against idle sockets, ours and bare."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (latency, memory) = pyplot.subplots(1, 2, figsize=(11, 4.2))
    colours = {"ours": "tab:blue", "bare": "tab:orange"}
    for kind, scale in scales.items():
        sockets = [s.sockets for s in scale.steps]
        latency.plot(sockets, [s.p50 for s in scale.steps], "o-", color=colours[kind], label=f"{kind} p50")
        latency.plot(sockets, [s.p99 for s in scale.steps], "s--", color=colours[kind], label=f"{kind} p99")
        memory.plot(sockets, [s.rss / 2**20 for s in scale.steps], "o-", color=colours[kind], label=kind)
    latency.set(xlabel="idle sockets on the process", ylabel="SEEK -> PLAYBACK_STATE (ms)")
    latency.set_title(f"SEEK to a {SEEK_ROOM}-viewer room, same process")
    memory.set(xlabel="idle sockets on the process", ylabel="resident memory (MiB)")
    memory.set_title("Server RSS")
    for axes in (latency, memory):
        axes.grid(alpha=0.3)
        axes.legend()
    fanout.save_figure(figure, path, when)


# main ----------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    parser.add_argument("--steps", default="1000,2500,5000,7500,10000", help="idle socket counts")
    parser.add_argument("--p99-limit", type=float, default=100.0, help="stop above this SEEK p99 (ms)")
    parser.add_argument("--rest", type=float, default=25.0, help="seconds at rest per step (one ping)")
    parser.add_argument("--seeks", type=int, default=60, help="SEEKs per step")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two SEEKs")
    parser.add_argument("--idle-rooms", type=int, default=20, help="rooms the idle sockets are spread over")
    parser.add_argument("--idle-loadgens", type=int, default=4, help="load generators for idle sockets")
    parser.add_argument("--nofile", type=int, default=hard if hard > 0 else 65536, help="server's fd limit")
    parser.add_argument("--fanout-size", type=int, default=2000, help="fan-out room size N (0: skip)")
    parser.add_argument("--fanout-processes", type=int, default=4, help="processes per kind for it")
    parser.add_argument("--tabs", type=int, default=5, help="sockets per viewer user in the fan-out room")
    parser.add_argument("--rounds", type=int, default=8, help="fan-out: alternating ours/bare rounds")
    parser.add_argument("--warmup", type=int, default=20, help="fan-out: uncounted SEEKs per kind")
    parser.add_argument("--fanout-seeks", type=int, default=200, help="fan-out: SEEKs per kind")
    parser.add_argument("--register-threads", type=int, default=8, help="concurrent registrations")
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per loadgen")
    parser.add_argument("--output", type=Path, default=BENCH / "results", help="folder for the report")
    parser.add_argument(
        "--kinds", default=",".join(fanout.KINDS), help="servers to scale: ours, bare or both"
    )
    args = parser.parse_args(argv)
    args.step_list = sorted({int(s) for s in args.steps.split(",") if s.strip()})
    args.kind_list = [kind for kind in fanout.KINDS if kind in args.kinds.split(",")]
    args.client = "raw"
    # The host too: python-socketio's AsyncClient lost its connection while thousands of idle
    # sockets were being admitted on a loaded machine; the raw client answers pings the same way.
    args.host_client = "raw"
    return args


def prepare(workdir: Path, stoppable: list, args):
    """Load generators, redis, the population (registered over HTTP); the server environment."""
    gens = [LoadGenerator(f"loadgen-{i}") for i in range(3 + args.idle_loadgens)]
    stoppable += gens
    redis = RedisServer(workdir).start()
    stoppable.append(redis)
    env = bench_env(workdir, redis.url, MAX_SOCKETS_PER_USER=max(5, args.tabs))
    users = max(SEEK_ROOM, -(-args.fanout_size // args.tabs))
    sizes = [SEEK_ROOM] + ([args.fanout_size] if args.fanout_size else [])
    print(f"setup: redis on port {redis.port}; registering 1 host + {users} viewers", flush=True)
    population = create_population(
        env, workdir, users, sizes, args.register_threads, idle=(args.idle_rooms, SEEK_ROOM)
    )
    return gens, redis, env, population


def main(argv=None) -> int:
    args = parse_args(argv)
    when = datetime.datetime.now(datetime.UTC)
    signal.signal(signal.SIGTERM, fanout.interrupted)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the load generators inherit it
    stoppable: list = []
    fanned = None
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        workdir = Path(tmp)
        try:
            gens, redis, env, population = prepare(workdir, stoppable, args)
            scales = run_scale(gens, redis, env, workdir, population, args)
            if args.fanout_size:
                fan_args = argparse.Namespace(**{**vars(args), "seeks": args.fanout_seeks})
                fanned = run_fanout(gens, redis, env, workdir, population, fan_args)
        finally:
            fanout.stop_all(stoppable)
    args.output.mkdir(parents=True, exist_ok=True)
    plot = args.output / f"capacity-{when:%Y-%m-%d-%H%M}.png"
    draw(scales, plot, when)
    fanout.publish(report(scales, fanned, args, when, plot), plot.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
