"""How closely players follow each other and the server, in real browsers (issue 11).

    .venv/bin/python bench/sync_accuracy.py [--ref <git rev>] [--scenarios abcd] [--phase 36]

One redis-server; per code version two `python wsgi.py` processes (one SQLite
file each) on it. One headless Debian Chromium (through Playwright): a host
page and `--viewers` (6) viewer pages, each a context of its own, spread over
both processes, watching tests/media/clip.webm served on 127.0.0.1. A probe
injected before the page's scripts (bench/sync_probe.js) records every 100 ms
the video's currentTime, paused and playbackRate with the true time
(performance.timeOrigin + performance.now(), which a faked Date.now does not
move), and the page's seeking / ratechange / waiting events. An observer
socket of the host sends PLAY and SEEK and records the server's snapshots.

Per scenario: PLAY at 0, `--phase` seconds of playing, SEEK to 5 while playing,
`--phase` seconds more (scenario d: PLAY, a real 3 s stall of one viewer, then
playing on). Scenarios: (a) loopback; (b) each viewer's Date.now offset by a
different amount in [-3, +3] s and its traffic through a proxy that delays it
20-150 ms each way with jitter; (c) one viewer's CPU throttled 4x (CDP);
(d) one viewer's video data held back by the clip server until it really
stalls, released 3 s later, with `start_when_ready` and `pause_on_buffering`.

With `--ref`, the same scenarios run against that commit too (exported with
`git archive` into a temporary directory, its own server processes, same
Chromium, alternating with ours), so each report shows before and after. A
server that refuses the room settings of scenario (d) gets "n/a" there.
The report goes to bench/results/sync-<date>.md (+ .json) with a plot of
skew over time for scenario (b), bench/results/sync-skew-b-<date>.png.
"""

import argparse
import contextlib
import datetime
import http.server
import os
import platform
import re
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

from netdelay import DelayProxies  # noqa: E402
from sync_analysis import Track  # noqa: E402
from sync_report import ScenarioResult, analyse, plot_skew, write_report  # noqa: E402

from tests.support import ApiUser, LiveServer, RedisServer, RoomSocket, server_env, wait_until  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]  # fmt: skip
CLIP = ROOT / "tests" / "media" / "clip.webm"
PROBE = (BENCH / "sync_probe.js").read_text()
PASSWORD = "correct horse"
OFFSETS = [-3.0, -1.8, -0.6, 0.6, 1.8, 3.0]  # scenario (b): each viewer's Date.now offset, s
DELAYS = [0.020, 0.046, 0.072, 0.098, 0.124, 0.150]  # scenario (b): one-way delay, s
JITTER = 0.015
STALL_UA = "bench-stall"
STALL_SECONDS = 3.0
STALL_AFTER = 15  # seconds of video the stalled viewer gets before its data is held back
SCENARIOS = {
    "a": "loopback",
    "b": "clocks -3..+3 s, 20-150 ms each way + jitter",
    "c": "one viewer's CPU throttled 4x",
    "d": "one viewer stalls 3 s (wait for everyone)",
}


# the video file, with a gate that can starve one viewer ---------------------------------


class ClipHandler(http.server.BaseHTTPRequestHandler):
    """Serve the clip with byte ranges; hold bytes past `gate["limit"]` for the stalled viewer."""

    clip = b""
    gate: dict = {"limit": None}

    def do_GET(self):
        size = len(self.clip)
        start, end = 0, size - 1
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if match:
            start, end = int(match[1]), min(int(match[2] or size - 1), size - 1)
        self.send_response(206 if match else 200)
        self.send_header("Content-Type", "video/webm")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        held = STALL_UA in self.headers.get("User-Agent", "")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for offset in range(start, end + 1, 4096):
                while held and self._withheld(offset, size):
                    time.sleep(0.02)
                self.wfile.write(self.clip[offset : min(offset + 4096, end + 1)])

    def _withheld(self, offset: int, size: int) -> bool:
        limit = self.gate["limit"]
        return limit is not None and limit <= offset < size - 16384  # the index at the end stays free

    def log_message(self, format, *args):
        pass


def serve_clip() -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (ClipHandler,), {"clip": CLIP.read_bytes(), "gate": {"limit": None}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/clip.webm"


# servers and users ------------------------------------------------------------------------


@dataclass
class Deployment:
    """Two server processes of one code version on one Redis, with registered users."""

    label: str
    servers: list[LiveServer]
    host: ApiUser | None = None
    viewers: list[dict] = field(default_factory=list)


def export_ref(rev: str, into: Path) -> Path:
    """The tree of `rev`, as `git archive` gives it, in a directory of its own."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def deploy(label: str, source: Path, redis_url: str, workdir: Path, viewers: int, stack) -> Deployment:
    env = server_env(f"sqlite:///{workdir / (label + '.sqlite3')}", redis_url,
                     REGISTER_RATE_LIMIT="1000 per hour", SOCKET_EVENTS_PER_SECOND=100)  # fmt: skip
    command = (sys.executable, str(source / "wsgi.py"))
    servers = [LiveServer(env, workdir / f"{label}-{i}.log", command=command) for i in (1, 2)]
    for server in servers:
        stack.callback(server.stop)
        server.start(timeout=90)
    deployment = Deployment(label, servers)
    deployment.host = ApiUser(servers[0].url).register(display_name="Host")
    for i in range(viewers):
        user = ApiUser(servers[i % 2].url).register(display_name=f"Viewer {i + 1}")
        deployment.viewers.append(user.user | {"password": PASSWORD})
    return deployment


# pages --------------------------------------------------------------------------------------


@dataclass
class Player:
    name: str
    context: object
    page: object
    track: Track


def open_player(browser, name: str, base: str, email: str, code: str, offset: float, ua: str = "") -> Player:
    """A context of its own, logged in as `email`, on the room page, with the probe injected."""
    options = {"user_agent": f"{browser_user_agent(browser)} {ua}"} if ua else {}
    context = browser.new_context(viewport={"width": 800, "height": 600}, **options)
    context.add_init_script(f"window.__BENCH_CLOCK_OFFSET_MS = {offset * 1000:.0f};\n{PROBE}")
    csrf = context.request.get(base + "/api/auth/csrf/").json()["csrf_token"]
    response = context.request.post(base + "/api/auth/login/", data={"email": email, "password": PASSWORD},
                                    headers={"X-CSRFToken": csrf})  # fmt: skip
    assert response.status == 200, response.text()
    page = context.new_page()
    page.goto(f"{base}/rooms/{code}")
    return Player(name, context, page, Track(name))


def browser_user_agent(browser) -> str:
    page = browser.new_page()
    try:
        return page.evaluate("navigator.userAgent")
    finally:
        page.close()


def ready_state(player: Player) -> int:
    return player.page.evaluate("(document.querySelector('video') || {readyState: -1}).readyState")


def collect(players: list[Player]) -> None:
    for player in players:
        player.track.add(player.page.evaluate("window.__syncProbe.take()"))


def run_for(players: list[Player], seconds: float, until=None) -> None:
    """Let the room play, collecting samples every second; stop early when `until()` holds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        collect(players)
        if until is not None and until():
            return


# one scenario -----------------------------------------------------------------------------


@dataclass
class Session:
    """A room of one deployment, its observer socket and its players, for one scenario."""

    deployment: Deployment
    code: str
    observer: RoomSocket
    players: list[Player]
    commands: dict = field(default_factory=dict)

    def snapshots(self) -> list[dict]:
        return self.observer.received("PLAYBACK_STATE")

    def command(self, name: str, payload: dict, label: str, playing: bool, timeout: float = 20.0) -> dict:
        """Send a host command and wait for the snapshot it produced."""
        newest = max((s["version"] for s in self.snapshots()), default=-1)
        self.observer.emit(name, payload)
        snapshot = self.observer.wait_for(
            "PLAYBACK_STATE", lambda s: s["version"] > newest and s["is_playing"] is playing, timeout=timeout
        )
        self.commands[label] = snapshot
        return snapshot


def open_session(deployment: Deployment, browser, scenario: str, clip_url: str, proxies) -> Session | None:
    room = {"title": f"bench {scenario}", "media": {"provider": "direct", "type": "movie", "url": clip_url}}
    if scenario == "d":
        room["settings"] = {"start_when_ready": True, "pause_on_buffering": True}
    response = deployment.host.post("/api/rooms/", json=room)
    if response.status_code != 201 or (scenario == "d" and "settings" not in response.json()["room"]):
        return None  # this version has no such settings: n/a
    code = response.json()["room"]["code"]
    observer = RoomSocket(deployment.servers[0].url, deployment.host.token(), code).connect()
    host_email = deployment.host.user["email"]
    players = [open_player(browser, "host", deployment.servers[0].url, host_email, code, 0.0)]
    for i, viewer in enumerate(deployment.viewers):
        base, offset, ua = viewer_route(deployment, scenario, i, proxies)
        players.append(open_player(browser, f"viewer {i + 1}", base, viewer["email"], code, offset, ua))
    wait_until(lambda: all(ready_state(p) >= 3 for p in players), timeout=60, message="every video loaded")
    return Session(deployment, code, observer, players)


def viewer_route(deployment: Deployment, scenario: str, index: int, proxies) -> tuple[str, float, str]:
    """Viewer i's base URL, Date.now offset and user-agent tag in this scenario."""
    server = deployment.servers[(index + 1) % 2]
    if scenario == "b":
        port = proxies.add(server.port, DELAYS[index], JITTER)
        return f"http://127.0.0.1:{port}", OFFSETS[index], ""
    return server.url, 0.0, STALL_UA if scenario == "d" and index == 0 else ""


def play_and_seek(session: Session, phase: float) -> None:
    players = session.players
    run_for(players, 2)
    session.command("PLAY", {"time": 0}, "PLAY", playing=True)
    run_for(players, phase)
    session.command("SEEK", {"time": 5}, "SEEK", playing=True)
    run_for(players, phase)


def stall_one_viewer(session: Session, phase: float, gate: dict) -> None:
    """PLAY; the starved viewer really stalls; its data flows again 3 s later; play on."""
    players, stalled = session.players, session.players[1]
    run_for(players, 2)
    play = session.command("PLAY", {"time": 0}, "PLAY", playing=True)
    started = play["server_time"]
    run_for(players, 60, until=lambda: stalled.track.count("waiting", started + 1, time.time() + 1) > 0)
    time.sleep(STALL_SECONDS)
    gate["limit"] = None
    collect(players)
    session.commands["released"] = {"server_time": time.time()}
    run_for(players, phase)


def run_scenario(deployment, browser, scenario, clip, proxies, phase) -> ScenarioResult:
    if scenario == "d":  # before the pages load, or the whole clip is in the buffer at once
        clip["gate"]["limit"] = int(len(CLIP.read_bytes()) * STALL_AFTER / 60)
    session = open_session(deployment, browser, scenario, clip["url"], proxies)
    if session is None:
        clip["gate"]["limit"] = None
        return ScenarioResult(scenario, deployment.label, available=False)
    if scenario == "c":
        cdp = session.players[1].context.new_cdp_session(session.players[1].page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    cpu_before, started = psutil.cpu_times(), time.time()
    try:
        if scenario == "d":
            stall_one_viewer(session, phase, clip["gate"])
        else:
            play_and_seek(session, phase)
        ended = time.time()
        collect(session.players)
    finally:
        clip["gate"]["limit"] = None
        close_session(session)
    cpu = cpu_share(cpu_before, psutil.cpu_times())
    return analyse(scenario, deployment.label, [p.track for p in session.players], session.snapshots(),
                   session.commands, (started, ended), cpu)  # fmt: skip


def close_session(session: Session) -> None:
    with contextlib.suppress(Exception):
        session.observer.emit("PAUSE", {})
    session.observer.disconnect()
    for player in session.players:
        with contextlib.suppress(Exception):
            player.context.close()


def cpu_share(before, after) -> float:
    """Busy share of the whole machine between two psutil.cpu_times() readings, in %."""
    busy = sum(getattr(after, f) - getattr(before, f) for f in before._fields if f not in ("idle", "iowait"))
    total = sum(after) - sum(before)
    return 100.0 * busy / total if total > 0 else 0.0


# the whole run ------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", help="git revision to compare with (same scenarios, same run)")
    parser.add_argument("--scenarios", default="abcd", help="which of a, b, c, d to run (default abcd)")
    parser.add_argument("--viewers", type=int, default=6)
    parser.add_argument("--phase", type=float, default=36.0, help="seconds of playing per phase (two phases)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    return parser.parse_args(argv)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if "model name" in line)
    memory = psutil.virtual_memory().total / 2**30
    return f"{psutil.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def chromium_version() -> str:
    return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()


def main(argv=None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    when = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        redis = RedisServer(workdir).start()
        stack.callback(redis.stop)
        clip_server, url = serve_clip()
        stack.callback(clip_server.shutdown)
        clip = {"url": url, "gate": clip_server.RequestHandlerClass.gate}
        proxies = DelayProxies()
        stack.callback(proxies.close)
        deployments = start_deployments(args, workdir, redis, stack)
        driver = stack.enter_context(sync_playwright())
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        results = []
        for scenario in args.scenarios:
            for deployment in deployments:
                print(f"scenario {scenario} on {deployment.label}…", flush=True)
                results.append(run_scenario(deployment, browser, scenario, clip, proxies, args.phase))
        context = {"when": when, "machine": machine(), "chromium": chromium_version(), "args": args,
                   "load": os.getloadavg(), "scenarios": SCENARIOS}  # fmt: skip
        path = write_report(results, context, args.out)
        plot_skew(results, "b", args.out / f"sync-skew-b-{when:%Y%m%d-%H%M}.png")
    print(path.read_text())
    return 0


def start_deployments(args, workdir: Path, redis: RedisServer, stack) -> list[Deployment]:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    targets = [(f"ours ({head})", ROOT, 0)]
    if args.ref:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.ref], check=True,
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
        targets.append((f"ref ({sha})", export_ref(args.ref, workdir / "ref"), 1))
    deployments = []
    for label, source, db in targets:
        redis_url = redis.url.rsplit("/", 1)[0] + f"/{db}"
        deployment = deploy(label.split()[0], source, redis_url, workdir, args.viewers, stack)
        deployment.label = label
        deployments.append(deployment)
    return deployments


if __name__ == "__main__":
    sys.exit(main())
