"""Faults with real processes: a frozen Redis, a killed CLI (issue 13).

Redis frozen with SIGSTOP: every HTTP request answers (200, or R10's JSON 503) instead of hanging,
and all works again after SIGCONT. `expire-rooms` SIGKILLed halfway and run again: each room is
expired once (R44). Nothing asserts on timing: client timeouts only turn a hang
into a failure.
"""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy

from tests.support import (
    ROOT,
    ApiUser,
    connected,
    server_env,
    wait_until,
)

HANG_GUARD_SECONDS = 60
PATHS = ("/healthz", "/readyz", "/api/rooms/public/", "/")
FROZEN_SECONDS = 5


def requests_while_frozen(host: ApiUser, code: str) -> list[int]:
    """Reads, a room page and a write; a 503 must be R10's JSON error."""
    statuses = [host.get(path, timeout=HANG_GUARD_SECONDS).status_code for path in PATHS]
    statuses.append(host.get(f"/api/rooms/{code}/", timeout=HANG_GUARD_SECONDS).status_code)
    created = host.post("/api/rooms/", json={"title": "During"}, timeout=HANG_GUARD_SECONDS)
    if created.status_code == 503:
        assert created.json()["error"]["code"]
    return [*statuses, created.status_code]


def test_a_frozen_redis_gives_answers_not_hangs_and_all_resumes(fleet, own_redis, open_socket):
    server = fleet.start(own_redis.url)
    host = ApiUser(server.url).register()
    code = host.post("/api/rooms/", json={"title": "Frozen"}).json()["room"]["code"]
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    frozen_until, statuses = time.monotonic() + FROZEN_SECONDS, []
    try:
        while not statuses or time.monotonic() < frozen_until:  # at least one round, 5 s frozen
            statuses += requests_while_frozen(host, code)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert set(statuses) <= {200, 201, 503}, statuses
    wait_until(lambda: host.get("/readyz").status_code == 200, timeout=60, message="ready again")
    sock = connected(open_socket, server.url, host, code)
    sock.emit("CHAT", {"message": "back"})
    sock.wait_for("CHAT", lambda payload: payload["message"] == "back")


# expire-rooms killed halfway (R44) -------------------------------------------------------------

STALE_ROOMS = 300


def expired_count(database_url: str, codes: list[str]) -> int:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sqlalchemy.text("SELECT code FROM rooms WHERE state = 'EXPIRED'")
            return len(set(connection.scalars(query)) & set(codes))
    finally:
        engine.dispose()


def test_expire_rooms_killed_halfway_then_run_again_expires_each_room_once(fleet, redis_url, database_url):
    server = fleet.start(redis_url)
    host = ApiUser(server.url).register()
    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(lambda _: host.post("/api/rooms/", json={}), range(STALE_ROOMS)))
    codes = [response.json()["room"]["code"] for response in created]
    env = server_env(database_url, redis_url, CREATED_ROOM_TTL_SECONDS=0)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "expire-rooms"]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: expired_count(database_url, codes) > 0, timeout=60, message="the first expiries")
    finally:
        first.kill()
        first.wait()
    killed_after = expired_count(database_url, codes)
    assert 0 < killed_after < STALE_ROOMS, (
        f"the first run was not killed halfway ({killed_after} of {STALE_ROOMS})"
    )
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert f"expired {STALE_ROOMS - killed_after}" in second.stdout.splitlines(), second.stdout
    assert expired_count(database_url, codes) == STALE_ROOMS
