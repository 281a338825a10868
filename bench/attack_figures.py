"""Issue 13's timing and memory findings, measured against one server (SPEC R173-R175).

    .venv/bin/python bench/attack_figures.py [--app-dir DIR] [--logins 30] [--frame-mb 30]
        [--events 2000] [--gets 50]

Starts one `python wsgi.py` (gevent, no Redis, a fresh SQLite file) from
--app-dir (default: this checkout; point it at an older checkout for the
"before" figure) with registration and login limits lifted but the socket
event limits at their defaults, then measures:

1. Login timing (R173): POST /api/auth/login/ for a registered email with a
   wrong password against an unknown email, interleaved.
2. One oversized WebSocket frame (R175): a raw WebSocket sends one text frame
   of --frame-mb MB; the server's RSS growth, its peak (VmHWM) and the close.
3. A SYNC_CHECK flood (R174): one room socket sends --events SYNC_CHECKs as
   fast as it can while a trivial GET is timed, against the same GET idle.

Prints a Markdown table; writes nothing into the repository.
"""

import argparse
import multiprocessing
import os
import select
import statistics
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import websocket

# bench/ is not a package: its scripts import each other by name; register_stall puts the repo on sys.path.
from register_stall import ROOT, sqlite_url, start_server, summary, time_gets

from tests.support import ApiUser, RoomSocket, hosted_room, server_env, wait_until

WRONG_PASSWORD = "not the password"


def bench_env(workdir: Path) -> dict:
    """Registrations and logins unlimited (we make many); socket event limits left at their defaults."""
    limits = {"REGISTER_RATE_LIMIT": '"1000000 per hour"', "LOGIN_RATE_LIMIT": '"1000000 per minute"'}
    env = server_env(sqlite_url(workdir), None, **limits)
    env.pop("WATCHPARTY_SOCKET_EVENTS_PER_SECOND")
    env.pop("WATCHPARTY_SOCKET_EVENTS_BURST")
    return env


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def read_close(ws: websocket.WebSocket) -> str:
    """How the server ended the connection: its close code, or what happened instead."""
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return (
                    f"close code {struct.unpack('!H', data[:2])[0]}"
                    if len(data) >= 2
                    else "close frame without a code (1005)"
                )
    except websocket.WebSocketTimeoutException:
        return "still open after 30 s"
    except (OSError, websocket.WebSocketException) as error:
        return f"no close frame ({type(error).__name__})"


def send_until_answered(ws: websocket.WebSocket, frame: bytes, header_bytes: int) -> int:
    """Send frame's header, give the server a second to answer, then the rest in 64 kB pieces
    until it answers or cuts the connection; return the bytes sent.

    Stopping as soon as the server speaks keeps its close frame readable: a close
    with our unread data in its buffer resets the connection, and the reset
    discards what it had sent us.
    """
    ws.sock.sendall(frame[:header_bytes])
    sent, answered = header_bytes, select.select([ws.sock], [], [], 1.0)[0]
    while sent < len(frame) and not answered:
        try:
            ws.sock.sendall(frame[sent : sent + 65536])
        except OSError:
            break
        sent += min(65536, len(frame) - sent)
        answered = select.select([ws.sock], [], [], 0)[0]
    return sent


def oversized_frame(url: str, pid: int, megabytes: int) -> dict[str, str]:
    """Send one text frame of megabytes MB on a raw Engine.IO WebSocket; memory growth and the close."""
    before = memory_kb(pid)
    ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
    ws.settimeout(30)
    ws.recv()  # the Engine.IO open packet
    payload = b"4" + b"x" * (megabytes * 1024 * 1024)  # an Engine.IO message packet
    frame = websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_TEXT).format()
    sent = send_until_answered(ws, frame, len(frame) - len(payload))
    close = read_close(ws)
    ws.close()
    after = memory_kb(pid)
    peak = after["VmHWM"] - max(before["VmHWM"], before["VmRSS"])
    return {
        "frame": f"{megabytes} MB text frame: {sent / 1024 / 1024:.2f} MB sent before the server answered",
        "server answer": close,
        "RSS growth": f"{(after['VmRSS'] - before['VmRSS']) / 1024:.1f} MB",
        "peak RSS growth (VmHWM)": f"{peak / 1024:.1f} MB",
    }


def timed_login(url: str, email: str) -> float:
    """Milliseconds of one failed JSON login, after the CSRF dance (R12)."""
    guest = ApiUser(url)
    guest.fetch_csrf()
    started = time.perf_counter()
    response = guest.post("/api/auth/login/", json={"email": email, "password": WRONG_PASSWORD})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (400, 401), response.text  # a 429 would mean the limit was not lifted
    return elapsed


def login_timings(url: str, count: int) -> dict[str, str]:
    """Wrong password for a registered email against an unknown email, count each, interleaved."""
    registered = f"owner-{os.getpid()}@example.com"
    ApiUser(url).register(email=registered)
    emails = {"wrong": registered, "unknown": f"nobody-{os.getpid()}@example.com"}
    for email in emails.values():
        timed_login(url, email)  # warm-up, not counted
    times: dict[str, list[float]] = {"wrong": [], "unknown": []}
    for index in range(count):
        for kind in ("wrong", "unknown") if index % 2 else ("unknown", "wrong"):
            times[kind].append(timed_login(url, emails[kind]))
    ratio = statistics.median(times["wrong"]) / statistics.median(times["unknown"])
    return {
        "login, registered email + wrong password": summary(times["wrong"]),
        "login, unknown email": summary(times["unknown"]),
        "login p50 ratio wrong/unknown": f"{ratio:.2f}",
    }


def flood(url: str, token: str, code: str, events: int, signals: dict) -> None:
    """In its own process (no GIL taken from the timed GETs): connect, flood on "go", hold until "done"."""
    sock = RoomSocket(url, token, code).connect()
    try:
        wait_until(lambda: sock.connected, timeout=10, message="room socket connected")
        signals["ready"].set()
        signals["go"].wait()
        for _ in range(events):
            sock.emit("SYNC_CHECK", {"time": 0})
        signals["done"].wait()
    finally:
        sock.disconnect()


def flood_stall(url: str, events: int, gets: int) -> dict[str, str]:
    """A trivial GET idle, then while one room socket (another process) floods SYNC_CHECK."""
    host, code = hosted_room(url)
    context = multiprocessing.get_context("spawn")
    signals = {name: context.Event() for name in ("ready", "go", "done")}
    flooder = context.Process(target=flood, args=(url, host.token(), code, events, signals), daemon=True)
    flooder.start()
    try:
        assert signals["ready"].wait(timeout=60), "the flooding socket did not connect"
        idle = time_gets(url, gets)
        signals["go"].set()
        busy = time_gets(url, gets)
    finally:
        signals["done"].set()
        flooder.join(timeout=60)
    return {
        "GET idle": summary(idle),
        f"GET during {events} SYNC_CHECKs": summary(busy),
        "GET p50 ratio flood/idle": f"{statistics.median(busy) / statistics.median(idle):.1f}",
    }


def describe(app_dir: Path) -> str:
    commit = subprocess.run(
        ["git", "-C", str(app_dir), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"app: {app_dir} at {commit or '?'}; {now}; load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT)
    parser.add_argument("--logins", type=int, default=30)
    parser.add_argument("--frame-mb", type=int, default=30)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=50)
    args = parser.parse_args()
    app_dir = args.app_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(app_dir, Path(tmp), bench_env(Path(tmp)))
        try:
            rows = oversized_frame(url, process.pid, args.frame_mb)  # first: the peak is not yet raised
            rows |= login_timings(url, args.logins)
            rows |= flood_stall(url, args.events, args.gets)
        finally:
            process.terminate()
            process.wait(timeout=15)
    print(describe(app_dir) + "\n\n| measure | value |\n|---|---|")
    for name, value in rows.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
