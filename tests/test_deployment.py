"""The production layout for real: nginx in front of four processes on one Redis and one PostgreSQL.

Two processes run `python wsgi.py`, two run gunicorn, all started by
deploy/start-app.sh; nginx runs deploy/nginx.conf through deploy/start-nginx.sh
(the scripts the containers run). Clients come from distinct loopback
addresses so that every process serves some; half of them long-poll, which
only works when nginx keeps each client on one process. Then each process in
turn gets SIGTERM and is started again (R184), and the room goes on.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.nginx_front import NginxFront, WebSocketFrom, session_from, user_from
from tests.postgres import postgres_database
from tests.support import ROOT, LiveServer, RoomSocket, server_env, wait_until

pytestmark = pytest.mark.slow

APP_SERVERS = ("wsgi", "wsgi", "gunicorn", "gunicorn")
CLIENTS_PER_PROCESS = 2


@pytest.fixture
def four_processes(tmp_path, redis_url, postgres_admin_url):
    """Four app processes (two of each server) sharing one Redis and one PostgreSQL database."""
    with postgres_database(postgres_admin_url) as database_url:
        settings = {"PRESENCE_HEARTBEAT_SECONDS": 1, "DRAIN_LINGER_SECONDS": 0.5, "LOG_FORMAT": "json"}
        env = server_env(database_url, redis_url, **settings)
        env.pop("WATCHPARTY_AUTO_MIGRATE")  # migrated once, as an operator does (README "Deploying")
        upgrade = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
        subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        servers = []
        for index, kind in enumerate(APP_SERVERS):
            env = {**env, "APP_SERVER": kind, "PYTHON": sys.executable}
            server = LiveServer(env=env, log_path=tmp_path / f"app-{index}-{kind}.log")
            server.command = ("bash", "deploy/start-app.sh")
            servers.append(server)
        try:
            with ThreadPoolExecutor(len(servers)) as pool:
                list(pool.map(lambda server: server.start(timeout=90), servers))
            yield servers
        finally:
            for server in servers:
                server.stop()


@pytest.fixture
def front(four_processes):
    nginx = NginxFront([f"127.0.0.1:{server.port}" for server in four_processes]).start()
    yield nginx
    nginx.stop()


def spread_addresses(front: NginxFront, processes: int) -> list[str]:
    """Loopback addresses, CLIENTS_PER_PROCESS for each process, as nginx's hash places them."""
    by_upstream: dict[str, list[str]] = {}
    for n in range(1, 250):
        ip = f"127.0.{n}.1"
        assert session_from(ip).get(front.url + "/healthz", timeout=10).status_code == 200
        upstream = wait_until(lambda: front.upstream_of(ip), message=f"{ip} in the access log")  # noqa: B023
        chosen = by_upstream.setdefault(upstream, [])
        if len(chosen) < CLIENTS_PER_PROCESS:
            chosen.append(ip)
        if len(by_upstream) == processes and all(len(v) == CLIENTS_PER_PROCESS for v in by_upstream.values()):
            return [ip for pair in zip(*by_upstream.values(), strict=True) for ip in pair]
    raise AssertionError(f"nginx did not spread 250 addresses over {processes} processes: {by_upstream}")


def connect_from(ip: str, front: NginxFront, token: str, code: str, polling: bool) -> RoomSocket:
    sock = RoomSocket(
        front.url,
        token,
        code,
        transports=("polling",) if polling else ("websocket",),
        reconnection=True,
        reconnection_delay=0.2,
        reconnection_delay_max=1,
        http_session=session_from(ip),
        websocket_extra_options=WebSocketFrom(ip, ("127.0.0.1", front.port)),
    )
    return sock.connect()


def viewer_count(front: NginxFront, code: str) -> int:
    listed = requests.get(front.url + "/api/rooms/public/?limit=100", timeout=10).json()["rooms"]
    return next((room["viewer_count"] for room in listed if room["code"] == code), 0)


def everyone_sees_a_seek(host_socket: RoomSocket, sockets: list[RoomSocket], time: float) -> None:
    wait_until(lambda: host_socket.connected, message="the host connected")
    host_socket.emit("SEEK", {"time": time})
    for sock in sockets:
        sock.wait_for("PLAYBACK_STATE", lambda s: s["time"] == time, timeout=20)


def test_nginx_spreads_a_room_over_four_processes_through_a_rolling_restart(four_processes, front):
    ips = spread_addresses(front, len(four_processes))
    users = [user_from(ip, front.url).register() for ip in ips]
    host = users[0]
    response = host.post("/api/rooms/", json={"title": "behind nginx", "is_private": False})
    code = response.json()["room"]["code"]
    for user in users[1:]:
        assert user.post(f"/api/rooms/{code}/join/").status_code == 200
    sockets = [
        connect_from(ip, front, user.token(), code, polling=i % 2 == 1)
        for i, (ip, user) in enumerate(zip(ips, users, strict=True))
    ]
    try:
        assert {front.upstream_of(ip) for ip in ips} == {f"127.0.0.1:{s.port}" for s in four_processes}
        wait_until(lambda: viewer_count(front, code) == len(users), message="everyone present")
        everyone_sees_a_seek(sockets[0], sockets, 1.0)

        for step, server in enumerate(four_processes, start=2):
            server.stop()  # SIGTERM: drain, then exit (R184)
            server.start(timeout=90)
            wait_until(lambda: all(s.connected for s in sockets), timeout=60, message="everyone reconnected")
            wait_until(lambda: viewer_count(front, code) == len(users), timeout=60, message="presence whole")
            everyone_sees_a_seek(sockets[0], sockets, float(step))
            assert host.get(f"/api/rooms/{code}/").json()["room"]["state"] == "LIVE"

        too_big = requests.post(front.url + "/api/auth/login/", data=b"x" * (front.max_body + 1), timeout=10)
        assert too_big.status_code == 413
    finally:
        for sock in sockets:
            sock.disconnect()
    for server in four_processes:
        assert "Traceback" not in server.log_tail(500), server.log_path.name


def test_the_expire_rooms_service_runs_the_cli_on_a_loop_and_stops_on_sigterm(tmp_path, database_url):
    """deploy/expire-rooms-loop.sh, compose.yaml's cron: `flask expire-rooms` again and again (R43)."""
    env = server_env(database_url)
    upgrade = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "expire.log"
    env.update(PYTHON=sys.executable, EXPIRE_ROOMS_EVERY_SECONDS="0.2")
    with open(log, "wb") as out:
        loop = subprocess.Popen(
            ["bash", "deploy/expire-rooms-loop.sh"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            wait_until(lambda: log.read_text().count("expired 0") >= 2, timeout=60, message="two runs")
        finally:
            loop.terminate()
            assert loop.wait(timeout=30) == 0
