"""How much registrations slow everyone else down (SPEC R172): a trivial GET while passwords hash.

    .venv/bin/python bench/register_stall.py [--app-dir DIR] [--parallel 4] [--gets 200]

Starts one `python wsgi.py` (gevent, no Redis, a fresh SQLite file) from
--app-dir (default: this checkout; point it at an older checkout for the
"before" figure), then times `GET /api/auth/csrf/` --gets times while idle and
--gets times while --parallel threads register accounts back to back.
Reported: p50, p95 and max of both, and their ratio, measured in one run.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import free_port, server_env, wait_until  # noqa: E402


def start_server(app_dir: Path, workdir: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start `python wsgi.py` from app_dir on a fresh SQLite file; env defaults to unlimited registrations."""
    port = free_port()
    if env is None:
        env = server_env(sqlite_url(workdir), None, REGISTER_RATE_LIMIT='"1000000 per hour"')
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=app_dir, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(url), timeout=60, message="server up")
    return process, url


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.sqlite3'}"


def answers(url: str) -> bool:
    try:
        return requests.get(url + "/api/auth/csrf/", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def time_gets(url: str, count: int) -> list[float]:
    """Milliseconds of count sequential GETs on one keep-alive connection."""
    http, times = requests.Session(), []
    for _ in range(count):
        started = time.perf_counter()
        http.get(url + "/api/auth/csrf/", timeout=30).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    return times


def register_until(url: str, stop: threading.Event, index: int) -> None:
    """Register accounts back to back until stop is set."""
    count = 0
    while not stop.is_set():
        http = requests.Session()
        token = http.get(url + "/api/auth/csrf/", timeout=30).json()["csrf_token"]
        body = {
            "email": f"bench-{index}-{count}@example.com",
            "password": "correct horse",
            "display_name": "B",
        }
        http.post(url + "/api/auth/register/", json=body, headers={"X-CSRFToken": token}, timeout=60)
        count += 1


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--gets", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(args.app_dir.resolve(), Path(tmp))
        try:
            idle = time_gets(url, args.gets)
            stop = threading.Event()
            workers = [
                threading.Thread(target=register_until, args=(url, stop, i), daemon=True)
                for i in range(args.parallel)
            ]
            for worker in workers:
                worker.start()
            time.sleep(1.0)  # let the registrations get going
            busy = time_gets(url, args.gets)
            stop.set()
            for worker in workers:
                worker.join(timeout=60)
        finally:
            process.terminate()
            process.wait(timeout=15)
    print(f"app: {args.app_dir}")
    print(f"idle GET:                       {summary(idle)}")
    print(f"GET during {args.parallel} registrations:   {summary(busy)}")
    print(f"p50 ratio busy/idle: {statistics.median(busy) / statistics.median(idle):.1f}")


if __name__ == "__main__":
    main()
