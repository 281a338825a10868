"""Faults with real processes: a frozen Redis, a locked database, a killed CLI, a killed server (issue 13).

Redis frozen with SIGSTOP, or the SQLite file locked by another connection: every HTTP request
answers (200/201, or R10's JSON 503) instead of hanging, and all works again afterwards.
`expire-rooms` SIGKILLed halfway and run again: each room is expired once (R44). A server process
SIGKILLed during a SEEK storm: each survivor gets every version once and ends on the database's
final one (R38, R39). Redis restarted empty is in test_realtime.py (mid-room) and test_quotas.py
(mid-grace). Nothing asserts on timing: client timeouts only turn a hang into a failure.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy

from tests.support import (
    ROOT,
    ApiUser,
    connected,
    connected_room,
    joined_user,
    server_env,
    stored_row,
    wait_out,
    wait_until,
)

HANG_GUARD_SECONDS = 60
PATHS = ("/healthz", "/readyz", "/api/rooms/public/", "/")
FROZEN_SECONDS = 5


def answered(response) -> int:
    """The status of an answer; a 503 under /api/ must be R10's JSON error."""
    if response.status_code == 503 and "/api/" in response.url:
        assert response.json()["error"]["code"] == "service_unavailable", response.text
    return response.status_code


def requests_while_frozen(host: ApiUser, code: str) -> list[int]:
    """Reads, a room page and a write."""
    statuses = [answered(host.get(path, timeout=HANG_GUARD_SECONDS)) for path in PATHS]
    statuses.append(answered(host.get(f"/api/rooms/{code}/", timeout=HANG_GUARD_SECONDS)))
    created = host.post("/api/rooms/", json={"title": "During"}, timeout=HANG_GUARD_SECONDS)
    return [*statuses, answered(created)]


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


# Three processes on one database and Redis, started once for the two tests below (starting
# processes is most of their cost). The storm test kills the third, which the other never uses.

FAST_SWEEP = {"PRESENCE_HEARTBEAT_SECONDS": 1, "PRESENCE_DEAD_AFTER_SECONDS": 3}


@pytest.fixture(scope="module")
def trio(module_fleet, live_redis_url) -> list:
    return module_fleet.start_many(3, live_redis_url, **FAST_SWEEP)


# the database locked for 2 s (R10, R46) -------------------------------------------------------

LOCKED_SECONDS = 2
ROOM_CODES = "SELECT COUNT(*) FROM rooms WHERE code IN ({})"
CHAT_IDS = "SELECT COUNT(*) FROM chat_messages WHERE id IN ({})"


def hold_exclusive_lock(database_url: str, locked: threading.Event) -> None:
    """Another connection holds SQLite's write lock for LOCKED_SECONDS (the fault under test)."""
    connection = sqlite3.connect(sqlalchemy.engine.make_url(database_url).database, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        wait_out(LOCKED_SECONDS)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def stored_count(database_url: str, query: str, values: list) -> int:
    marks = ", ".join(f":v{i}" for i in range(len(values)))
    return stored_row(database_url, query.format(marks), **{f"v{i}": v for i, v in enumerate(values)})[0]


def test_a_locked_database_gives_answers_not_hangs_and_loses_nothing(trio, module_fleet, open_socket):
    a, b, _ = trio
    database_url = module_fleet.database_url
    room = connected_room(open_socket, a, b)
    room.host_sock.emit("CHAT", {"message": "before the lock"})
    before = room.viewer_sock.wait_for("CHAT", lambda chat: chat["message"] == "before the lock")
    locked = threading.Event()
    with ThreadPoolExecutor(8) as pool:
        holder = pool.submit(hold_exclusive_lock, database_url, locked)
        assert locked.wait(HANG_GUARD_SECONDS), "the lock was never taken"
        room.host_sock.emit("SEEK", {"time": 30})
        room.host_sock.emit("CHAT", {"message": "during the lock"})
        reads = [pool.submit(room.host.get, path, timeout=HANG_GUARD_SECONDS) for path in PATHS]
        creations = [
            pool.submit(room.host.post, "/api/rooms/", json={}, timeout=HANG_GUARD_SECONDS) for _ in "ab"
        ]
        responses = [future.result() for future in [*reads, *creations]]
        holder.result()
    assert {answered(response) for response in responses} <= {200, 201, 503}
    # What was accepted while locked was committed, not lost; nothing committed before is gone.
    seek = room.viewer_sock.wait_for(
        "PLAYBACK_STATE", lambda state: state["time"] == 30, timeout=HANG_GUARD_SECONDS
    )
    during = room.viewer_sock.wait_for("CHAT", lambda chat: chat["message"] == "during the lock")
    codes = [r.json()["room"]["code"] for r in responses[len(reads) :] if r.status_code == 201]
    assert stored_count(database_url, ROOM_CODES, [room.code, *codes]) == 1 + len(codes)
    assert stored_count(database_url, CHAT_IDS, [before["id"], during["id"]]) == 2
    assert room.host.post("/api/rooms/", json={}).status_code == 201  # all works again
    room.host_sock.emit("SEEK", {"time": 45})
    after = room.viewer_sock.wait_for("PLAYBACK_STATE", lambda state: state["time"] == 45)
    assert after["version"] == seek["version"] + 1


# a process killed during a SEEK storm (R38, R39) -----------------------------------------------

STORM_SEEKS = 200
LAST_SEEK = 999.0
MEDIA = {"provider": "direct", "type": "movie", "url": "http://127.0.0.1/clip.webm"}
PLAYBACK = (
    "SELECT playback.version, playback.position FROM playback"
    " JOIN rooms ON rooms.id = playback.room_id WHERE rooms.code = :code"
)


def received_versions(sock) -> list[int]:
    return [state["version"] for state in sock.received("PLAYBACK_STATE")]


def applied_versions(sock) -> list[int]:
    """What a client following R39 applies: each snapshot newer than all before it, the rest dropped."""
    applied: list[int] = []
    for version in received_versions(sock):
        if not applied or version > applied[-1]:
            applied.append(version)
    return applied


def test_a_process_killed_during_a_seek_storm_leaves_survivors_on_the_final_version(
    trio, module_fleet, open_socket
):
    a, b, doomed = trio
    database_url = module_fleet.database_url
    room = connected_room(open_socket, a, b, media=MEDIA)
    goner = joined_user(doomed.url, room.code)
    connected(open_socket, doomed.url, goner, room.code)
    for second in range(STORM_SEEKS):
        room.host_sock.emit("SEEK", {"time": float(second)})
        if second == STORM_SEEKS // 2:
            doomed.kill()
    room.host_sock.emit("SEEK", {"time": LAST_SEEK})
    survivors = (room.host_sock, room.viewer_sock)
    for sock in survivors:  # one socket's events are handled in the order sent: its last SEEK wins
        sock.wait_for("PLAYBACK_STATE", lambda state: state["time"] == LAST_SEEK, timeout=HANG_GUARD_SECONDS)
    final, position = stored_row(database_url, PLAYBACK, code=room.code)
    assert (final, position) == (STORM_SEEKS + 1, LAST_SEEK)  # one version per accepted SEEK (R38)
    for sock in survivors:
        wait_until(lambda: applied_versions(sock)[-1] == final, message="the final version")  # noqa: B023
        received = received_versions(sock)
        assert len(received) == len(set(received)), "a version reached a survivor twice"
        assert set(range(received[0], final + 1)) <= set(received), "a version never reached a survivor"
    left = room.host_sock.wait_for("USER_LEFT", timeout=HANG_GUARD_SECONDS)  # the dead process was swept
    assert left["user"]["id"] == goner.user["id"]
