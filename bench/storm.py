"""A reconnect storm: the viewers of a killed process come back on the survivor, ours against bare.

    .venv/bin/python bench/storm.py [--viewers 1000] [--tabs 5] [--loadgens 4] [--profile]

One real redis-server and, per server kind, two processes (ours: `python
wsgi.py` on one SQLite file; bare: bench/bare_server.py). The host connects to
process 2; `--viewers` viewers of the same room connect to process 1 (with
`--tabs` sockets per registered user, as R174 allows, to spare scrypt
registrations; ours allows each user twice that, because the killed process's
sockets count against R174's cap until they are swept). Process 1 is then
killed with SIGKILL, as a crash or an abrupt deploy would. Every viewer
reconnects as the room page does (socket.io-client's backoff: 1 s doubling to
at most 10 s, +-50 % jitter) and tries the process URLs in turn, starting with
the one after its own. No nginx in front: deploy/nginx.conf hashes on the
client address, so every client of this one-machine bench would share one
upstream and fail over together; trying each URL in turn is what a client
behind it sees, without the proxy's hop.

Reported per kind: the time from the kill until every viewer is admitted again
(the namespace CONNECT acknowledged, which our server sends after R30-R32's
checks and the bootstrap events), its p50/p90/p99, reconnection attempts, the
survivor's CPU during the storm, and whether each viewer then receives the
host's SEEKs (missed deliveries). The Markdown report goes to bench/results/.
"""

import argparse
import datetime
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import fanout
import psutil
from fanout import (
    BENCH,
    LiveServer,
    LoadGenerator,
    RedisServer,
    bare_server,
    bench_env,
    cpu_seconds,
    create_population,
    percentile,
    publish,
    start_servers,
    stop_all,
)


@dataclass
class Storm:
    """What one kind's storm did."""

    kind: str
    back: list[float]  # seconds from the kill to each viewer's readmission
    lost: list[float]  # seconds from the kill to each viewer noticing
    attempts: list[int]
    failures: Counter
    waiting: int  # viewers not back when the bench stopped waiting
    survivor_cpu: float  # % of one core during the storm
    missed: int  # SEEK deliveries missed afterwards
    seeks: int
    missing_viewers: int = 0  # viewers that missed at least one of them


class StormRun:
    """Load generators, redis and the population, shared by both kinds."""

    def __init__(self, gens: list[LoadGenerator], redis: RedisServer, population, args):
        self.host_gen, self.gens = gens[0], gens[1:]
        self.redis, self.population, self.args = redis, population, args

    def servers(self, kind: str, env: dict, workdir: Path) -> list:
        if kind == "ours":
            return start_servers(lambda i: LiveServer(env, workdir / f"storm-ours-{i}.log"))
        return start_servers(lambda i: bare_server(self.redis.url, workdir / f"storm-bare-{i}.log"))

    def connect(self, kind: str, servers: list) -> None:
        code = self.population.rooms[self.args.viewers]
        tokens = self.population.viewer_tokens
        urls = [s.url for s in servers]
        self.host_gen.call("connect", kind, [(urls[1], {"token": self.population.host_token, "room": code})])
        auths = [{"token": tokens[i % len(tokens)], "room": code} for i in range(self.args.viewers)]
        for index, gen in enumerate(self.gens):
            specs = [(urls[0], auth) for auth in auths[index :: len(self.gens)]]
            gen.send("connect", kind, specs, self.args.connect_concurrency, "storm", urls)
        connected = sum(gen.reply(timeout=1800)["connected"] for gen in self.gens)
        if connected != self.args.viewers:
            raise RuntimeError(f"{kind}: only {connected}/{self.args.viewers} viewers connected")
        for gen in [self.host_gen, *self.gens]:
            gen.send("quiet", 1.0, 120)
        for gen in [self.host_gen, *self.gens]:
            gen.reply()

    def storm(self, kind: str, servers: list) -> Storm:
        survivor = psutil.Process(servers[1].process.pid)
        cpu_before = cpu_seconds(survivor)
        with fanout.profiled(self.args, servers[1], f"{kind}-storm-survivor"):
            killed = time.monotonic()
            servers[0].process.kill()
            for gen in self.gens:
                gen.send("rejoined", kind, self.args.timeout)
            rows = [row for gen in self.gens for row in gen.reply(timeout=self.args.timeout + 60)]
            elapsed = time.monotonic() - killed
        back = [row[1] - killed for row in rows if row[1] is not None]
        return Storm(
            kind,
            back,
            [row[0] - killed for row in rows if row[0] is not None],
            [row[2] for row in rows],
            Counter(kind for row in rows for kind in row[4]),
            len(rows) - len(back),
            (cpu_seconds(survivor) - cpu_before) / elapsed * 100,
            0,
            0,
        )

    def check_delivery(self, kind: str, result: Storm) -> None:
        """The host's SEEKs after the storm: each viewer must receive every one."""
        times = [5000.0 + i for i in range(self.args.seeks)]
        for gen in self.gens:
            gen.call("reset", kind)
            gen.send("collect", kind, times, 60)
        self.host_gen.call("seek", kind, times, 0.05)
        rows = [row for gen in self.gens for row in gen.reply(timeout=120)]
        result.missed = sum(1 for row in rows for value in row if value is None)
        result.missing_viewers = sum(1 for row in rows if None in row)
        result.seeks = len(times)

    def run(self, kind: str, env: dict, workdir: Path) -> Storm:
        servers = self.servers(kind, env, workdir)
        try:
            self.connect(kind, servers)
            result = self.storm(kind, servers)
            print(
                f"{kind:4} all {self.args.viewers} back after {max(result.back, default=float('nan')):.1f}s "
                f"(p50 {percentile(result.back, 50):.1f}s), {result.waiting} still waiting",
                flush=True,
            )
            self.check_delivery(kind, result)
            for gen in [self.host_gen, *self.gens]:
                gen.call("disconnect", kind)
            return result
        finally:
            for server in servers:
                server.stop()


def report(storms: dict[str, Storm], args, when: datetime.datetime) -> str:
    lines = [
        f"# Reconnect storm: ours vs bare python-socketio ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- Machine: {fanout.machine_line()}",
        f"- Stack: {fanout.versions_line()}",
        f"- Command: `.venv/bin/python bench/storm.py --viewers {args.viewers} --tabs {args.tabs} "
        f"--loadgens {args.loadgens}`",
        f"- {args.viewers} viewers ({-(-args.viewers // args.tabs)} users x {args.tabs} sockets) of one room "
        "on process 1, the host on process 2; process 1 killed with SIGKILL. Clients: "
        f"{args.loadgens} asyncio load-generator processes, socket.io-client's backoff (1 s doubling to "
        "10 s, +-50 % jitter), trying each process URL in turn (no nginx in front).",
        "",
        "| server | all back | p50 / p90 / p99 back | noticed the loss (max) | attempts per viewer "
        "(mean / max) | failed attempts | survivor CPU | not back | SEEKs missed after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in storms.items():
        failures = ", ".join(f"{n} {name}" for name, n in s.failures.most_common()) or "none"
        mean = sum(s.attempts) / len(s.attempts) if s.attempts else float("nan")
        lines.append(
            f"| {kind} | {max(s.back, default=float('nan')):.1f} s "
            f"| {percentile(s.back, 50):.1f} / {percentile(s.back, 90):.1f} / {percentile(s.back, 99):.1f} s "
            f"| {max(s.lost, default=float('nan')):.2f} s | {mean:.2f} / {max(s.attempts, default=0)} "
            f"| {failures} | {s.survivor_cpu:.0f}% | {s.waiting} "
            f"| {s.missed} of {s.seeks * args.viewers} ({s.missing_viewers} viewers) |"
        )
    lines += [
        "",
        "The first attempt waits 0.5-1.5 s (the page's backoff), so about 1.5 s is the floor for "
        "everyone to be back with an instant server.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=1000, help="viewers on the killed process")
    parser.add_argument("--tabs", type=int, default=5, help="sockets per registered viewer user")
    parser.add_argument("--loadgens", type=int, default=4, help="load-generator processes for viewers")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for everyone")
    parser.add_argument("--seeks", type=int, default=10, help="SEEKs sent after the storm to check delivery")
    parser.add_argument("--register-threads", type=int, default=8, help="concurrent registrations")
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per loadgen")
    parser.add_argument("--output", type=Path, default=BENCH / "results", help="folder for the report")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profile of the survivor during the storm into bench/results/profile-<date>/",
    )
    parser.add_argument(
        "--kinds", default=",".join(fanout.KINDS), help="servers to storm: ours, bare or both"
    )
    args = parser.parse_args(argv)
    args.kind_list = [kind for kind in fanout.KINDS if kind in args.kinds.split(",")]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    when = datetime.datetime.now(datetime.UTC)
    if args.profile:
        args.profile_dir = args.output / f"profile-{when:%Y-%m-%d-%H%M}"
    signal.signal(signal.SIGTERM, fanout.interrupted)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the load generators inherit it
    stoppable: list = []
    storms: dict[str, Storm] = {}
    with tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        workdir = Path(tmp)
        try:
            gens = [LoadGenerator(f"loadgen-{i}") for i in range(1 + args.loadgens)]
            stoppable += gens
            redis = RedisServer(workdir).start()
            stoppable.append(redis)
            # The killed process's sockets count against R174's cap until a survivor sweeps them
            # (PRESENCE_DEAD_AFTER_SECONDS): room for both, so the storm measures admission, not the sweep.
            env = bench_env(workdir, redis.url, MAX_SOCKETS_PER_USER=2 * max(5, args.tabs))
            users = -(-args.viewers // args.tabs)
            print(f"setup: redis on port {redis.port}; registering 1 host + {users} viewers", flush=True)
            population = create_population(env, workdir, users, [args.viewers], args.register_threads)
            run = StormRun(gens, redis, population, args)
            for kind in args.kind_list:
                storms[kind] = run.run(kind, env, workdir)
        finally:
            stop_all(stoppable)
    publish(report(storms, args, when), args.output / f"storm-{when:%Y-%m-%d-%H%M}.md")
    return 0 if all(not s.waiting and not s.missed for s in storms.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
