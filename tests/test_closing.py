"""Closing rooms for real: DELETE, lazy expiry and `flask expire-rooms` (SPEC R24, R31, R43-R45).

Two `python wsgi.py` processes share one SQLite file and one real Redis;
python-socketio clients sit on both. After a room closes every socket gets
ROOM_CLOSED and is disconnected by the server, nobody hears USER_LEFT or
HOST_DISCONNECTED afterwards, and no Redis key names the room.
"""

import contextlib
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import socketio

from tests.support import (
    ROOT,
    ApiUser,
    RoomSocket,
    assert_nothing_arrives,
    assert_redis_clean,
    assert_stays,
    connected_room,
    create_room,
    join,
    joined_user,
    keys_naming,
    server_env,
    stored_column,
    wait_out,
    wait_until,
)
from watchparty.realtime import keys

pytestmark = pytest.mark.all_databases

NOT_AFTER_CLOSE = {"USER_LEFT", "HOST_DISCONNECTED"}
CLI_LINE = re.compile(r"^(expired|would expire) (\d+)$")


# helpers ------------------------------------------------------------------------------------------


def stored_state(database_url: str, code: str) -> str:
    """The room's state as the database holds it (GET answers 410 for both closed states)."""
    return stored_column(database_url, code, "state")


def stored_closed_at(database_url: str, code: str):
    return stored_column(database_url, code, "closed_at")


def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def grace_key_exists(redis_url: str, code: str) -> bool:
    client = redis_client(redis_url)
    try:
        return client.exists(keys.room_grace(code)) == 1
    finally:
        client.close()


def refusal_code(base_url: str, token: str, code: str) -> str | None:
    """Try to connect; the connection must be refused. Return the R31 code it carried."""
    sock = RoomSocket(base_url, token, code)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sock.connect()
    sock.disconnect()
    assert sock.connect_error is not None, "refused without a CONNECT_ERROR payload"
    return sock.connect_error.get("code")


def assert_closed(sock: RoomSocket, reason: str) -> None:
    """One ROOM_CLOSED {reason}, then the server disconnects; nothing of R33/R40 after it."""
    sock.wait_for("ROOM_CLOSED")
    wait_until(lambda: not sock.connected, timeout=10, message=f"server disconnect of {sock.room}")
    assert sock.received("ROOM_CLOSED") == [{"reason": reason}]
    names = sock.names()
    after = names[names.index("ROOM_CLOSED") + 1 :]
    assert not NOT_AFTER_CLOSE & set(after), f"after ROOM_CLOSED: {after}"


def run_cli(database_url: str, redis_url: str | None, *args: str, **settings) -> int:
    """Run `flask --app wsgi expire-rooms` against the servers' database and Redis; return N."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "expire-rooms", *args],
        cwd=ROOT,
        env=server_env(database_url, redis_url, **settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return parse_cli_output(result.stdout, dry_run="--dry-run" in args)


def parse_cli_output(stdout: str, dry_run: bool) -> int:
    lines = [m for m in (CLI_LINE.match(line.strip()) for line in stdout.splitlines()) if m]
    assert len(lines) == 1, f"expected one `expired N` line, got:\n{stdout}"
    assert lines[0].group(1) == ("would expire" if dry_run else "expired"), stdout
    return int(lines[0].group(2))


def host_leaves(host_socket: RoomSocket, witness: RoomSocket | None, database_url: str, code: str) -> None:
    """The host's only socket goes: the room enters GRACE (R40)."""
    host_socket.disconnect()
    if witness is not None:
        witness.wait_for("HOST_DISCONNECTED")
    wait_until(lambda: stored_state(database_url, code) == "GRACE", message=f"{code} in GRACE")


# DELETE (R24) ---------------------------------------------------------------------------------------


def test_delete_closes_every_socket_on_both_processes_and_leaves_no_trace(
    fleet, redis_url, database_url, open_socket
):
    a, b = fleet.pair(redis_url)
    host = ApiUser(b.url).register()
    code = create_room(host, title="to be deleted")
    viewer_a = ApiUser(a.url).register()
    viewer_b = ApiUser(b.url).register()
    outsider = ApiUser(a.url).register()
    for user in (viewer_a, viewer_b, outsider):
        join(user, code)

    host_sock = open_socket(b.url, host.token(), code)
    sock_a = open_socket(a.url, viewer_a.token(), code)
    sock_b = open_socket(b.url, viewer_b.token(), code)
    sockets = [host_sock, sock_a, sock_b]
    host_sock.wait_for("USER_JOINED", lambda p: p["user"]["id"] == viewer_b.user["id"])
    host_sock.wait_for("USER_JOINED", lambda p: p["user"]["id"] == viewer_a.user["id"])
    assert keys_naming(redis_url, code), "presence should be in Redis before the delete"

    response = host.delete(f"/api/rooms/{code}/")
    assert response.status_code == 204, response.text

    for sock in sockets:
        assert_closed(sock, "deleted")
    assert_nothing_arrives(*sockets)
    assert_redis_clean(redis_url, code)  # no write-back from the disconnects
    assert stored_state(database_url, code) == "DELETED"

    for user in (host, viewer_a, viewer_b):
        assert user.get(f"/api/rooms/{code}/").status_code == 410
        got = user.post(f"/api/rooms/{code}/join/")
        assert got.status_code == 410
        assert got.json()["error"]["code"] == "room_closed"
    assert outsider.get(f"/api/rooms/{code}/").status_code == 410
    assert host.delete(f"/api/rooms/{code}/").status_code == 410
    for server, user in ((a, viewer_a), (b, viewer_b), (a, host)):
        assert refusal_code(server.url, user.token(), code) == "room_closed"
    assert keys_naming(redis_url, code) == []


def test_delete_needs_the_host_a_session_and_an_open_room(fleet, redis_url, database_url):
    a = fleet.start(redis_url)
    host = ApiUser(a.url).register()
    code = create_room(host)
    viewer = ApiUser(a.url).register()
    join(viewer, code)
    stranger = ApiUser(a.url).register()

    for user in (viewer, stranger):
        response = user.delete(f"/api/rooms/{code}/")
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"

    anonymous = ApiUser(a.url)
    response = anonymous.delete(f"/api/rooms/{code}/")
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"

    logged_out = ApiUser(a.url).register()
    code_2 = create_room(logged_out)
    assert logged_out.post("/api/auth/logout/").status_code == 204
    assert logged_out.delete(f"/api/rooms/{code_2}/").status_code == 401
    assert stored_state(database_url, code_2) == "CREATED"

    assert stored_state(database_url, code) == "CREATED"
    assert host.get(f"/api/rooms/{code}/").status_code == 200

    assert host.delete(f"/api/rooms/{code}/").status_code == 204
    second = host.delete(f"/api/rooms/{code}/")
    assert second.status_code == 410, second.text
    assert second.json()["error"]["code"] == "room_closed"
    assert host.delete("/api/rooms/ZZZZZZZZ/").status_code == 404
    assert stored_state(database_url, code) == "DELETED"


# expire-rooms (R44) ----------------------------------------------------------------------------------


def lapsed_room(a, b, redis_url, database_url, open_socket, host: ApiUser, viewers) -> tuple[str, list]:
    """A room whose host left and whose grace key is gone, with viewer sockets on a and b."""
    code = create_room(host)
    host_sock = open_socket(a.url, host.token(), code)
    host_sock.wait_for("PRESENCE")
    sockets = []
    for i, viewer in enumerate(viewers):
        join(viewer, code)
        sockets.append(open_socket((b, a)[i % 2].url, viewer.token(), code))
    for sock in sockets:
        sock.wait_for("PRESENCE")
    host_leaves(host_sock, sockets[0] if sockets else None, database_url, code)
    wait_until(lambda: not grace_key_exists(redis_url, code), timeout=10, message="grace key to lapse")
    return code, sockets


def test_expire_rooms_dry_run_then_run_expires_a_lapsed_room_once(
    fleet, redis_url, database_url, open_socket
):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=1)
    host = ApiUser(a.url).register()
    viewers = [ApiUser(a.url).register(), ApiUser(b.url).register()]
    code, sockets = lapsed_room(a, b, redis_url, database_url, open_socket, host, viewers)
    # A DELETED room is never touched (d), nor an open LIVE one.
    deleted = create_room(host)
    assert host.delete(f"/api/rooms/{deleted}/").status_code == 204
    deleted_closed_at = stored_closed_at(database_url, deleted)
    live = create_room(host)
    live_sock = open_socket(b.url, host.token(), live)
    live_sock.wait_for("PRESENCE")
    env = {"GRACE_PERIOD_SECONDS": 1}

    # (a) --dry-run counts and changes nothing.
    keys_before = sorted(keys_naming(redis_url, code))
    assert run_cli(database_url, redis_url, "--dry-run", **env) == 1
    assert stored_state(database_url, code) == "GRACE"
    assert host.get(f"/api/rooms/{code}/").json()["room"]["state"] == "GRACE"
    assert sorted(keys_naming(redis_url, code)) == keys_before
    assert_nothing_arrives(*sockets)
    assert all(sock.connected and not sock.received("ROOM_CLOSED") for sock in sockets)

    # (c) The real run expires it and closes its sockets on both processes.
    assert run_cli(database_url, redis_url, **env) == 1
    assert stored_state(database_url, code) == "EXPIRED"
    response = host.get(f"/api/rooms/{code}/")
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "room_closed"
    for sock in sockets:
        assert_closed(sock, "expired")
    assert_redis_clean(redis_url, code)

    # Repeatable: nothing left to expire, nothing announced twice.
    assert run_cli(database_url, redis_url, **env) == 0
    assert_nothing_arrives(*sockets)
    assert all(len(sock.received("ROOM_CLOSED")) == 1 for sock in sockets)

    # (d) The DELETED room stayed as it was; the LIVE one is untouched.
    assert stored_state(database_url, deleted) == "DELETED"
    assert stored_closed_at(database_url, deleted) == deleted_closed_at
    assert stored_state(database_url, live) == "LIVE"
    assert live_sock.connected and not live_sock.received("ROOM_CLOSED")


def test_a_room_in_grace_is_not_expired_early(fleet, redis_url, database_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=30)
    code, host, _, host_sock, viewer_sock = connected_room(open_socket, a, b)
    host_leaves(host_sock, viewer_sock, database_url, code)
    assert grace_key_exists(redis_url, code)

    assert run_cli(database_url, redis_url, "--dry-run", GRACE_PERIOD_SECONDS=30) == 0
    assert run_cli(database_url, redis_url, GRACE_PERIOD_SECONDS=30) == 0
    assert stored_state(database_url, code) == "GRACE"
    assert grace_key_exists(redis_url, code)
    assert viewer_sock.connected and not viewer_sock.received("ROOM_CLOSED")

    # The host can still come back (R41).
    back = open_socket(b.url, host.token(), code)
    back.wait_for("PRESENCE")
    viewer_sock.wait_for("HOST_RECONNECTED")
    assert stored_state(database_url, code) == "LIVE"

    # Deleting a room in GRACE removes its grace key with everything else (R24).
    back.disconnect()
    wait_until(lambda: len(viewer_sock.received("HOST_DISCONNECTED")) == 2, message="second grace")
    assert grace_key_exists(redis_url, code)
    assert host.delete(f"/api/rooms/{code}/").status_code == 204
    assert_closed(viewer_sock, "deleted")
    assert_redis_clean(redis_url, code)
    assert stored_state(database_url, code) == "DELETED"


def test_created_rooms_older_than_the_ttl_expire(fleet, redis_url, database_url, open_socket):
    a, b = fleet.pair(redis_url)
    host = ApiUser(a.url).register()
    old = create_room(host)
    viewer = ApiUser(b.url).register()
    join(viewer, old)
    viewer_sock = open_socket(b.url, viewer.token(), old)  # the host never came
    viewer_sock.wait_for("PRESENCE")
    wait_out(1.5)  # the room grows older than the 1 s CREATED_ROOM_TTL_SECONDS given to the CLI

    assert run_cli(database_url, redis_url, "--dry-run", CREATED_ROOM_TTL_SECONDS=1) == 1
    assert stored_state(database_url, old) == "CREATED"
    assert run_cli(database_url, redis_url, CREATED_ROOM_TTL_SECONDS=1) == 1
    assert stored_state(database_url, old) == "EXPIRED"
    assert host.get(f"/api/rooms/{old}/").status_code == 410
    assert_closed(viewer_sock, "expired")
    assert_redis_clean(redis_url, old)

    # A room younger than the TTL (the default, a day) stays CREATED.
    fresh = create_room(host)
    assert run_cli(database_url, redis_url) == 0
    assert stored_state(database_url, fresh) == "CREATED"


def test_two_concurrent_runs_expire_and_announce_each_room_once(fleet, redis_url, database_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=1)
    host = ApiUser(a.url).register()
    rooms = {}
    for i in range(4):
        viewer = ApiUser((a, b)[i % 2].url).register()
        first, second = (a, b) if i % 2 else (b, a)
        code, sockets = lapsed_room(first, second, redis_url, database_url, open_socket, host, [viewer])
        rooms[code] = sockets[0]

    command = [sys.executable, "-m", "flask", "--app", "wsgi", "expire-rooms"]
    env = server_env(database_url, redis_url, GRACE_PERIOD_SECONDS=1)
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    counts = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, f"exit {run.returncode}\n{stdout}\n{stderr}"
        counts.append(parse_cli_output(stdout, dry_run=False))

    assert sum(counts) == len(rooms), counts
    for code, sock in rooms.items():
        assert stored_state(database_url, code) == "EXPIRED"
        assert_closed(sock, "expired")
    assert_nothing_arrives(*rooms.values())
    for sock in rooms.values():
        assert len(sock.received("ROOM_CLOSED")) == 1, sock.names()
    assert_redis_clean(redis_url, *rooms)


def test_expired_is_terminal(fleet, redis_url, database_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=1)
    host = ApiUser(a.url).register()
    viewer = ApiUser(b.url).register()
    code, sockets = lapsed_room(a, b, redis_url, database_url, open_socket, host, [viewer])
    assert run_cli(database_url, redis_url, GRACE_PERIOD_SECONDS=1) == 1
    assert_closed(sockets[0], "expired")

    for server in (a, b):
        assert refusal_code(server.url, host.token(), code) == "room_closed"
        assert refusal_code(server.url, viewer.token(), code) == "room_closed"
    assert stored_state(database_url, code) == "EXPIRED"
    assert host.patch(f"/api/rooms/{code}/", json={"title": "again"}).status_code == 410
    assert host.delete(f"/api/rooms/{code}/").status_code == 410
    assert viewer.post(f"/api/rooms/{code}/join/").status_code == 410
    assert stored_state(database_url, code) == "EXPIRED"
    assert_redis_clean(redis_url, code)


# lazy expiry (R43) ------------------------------------------------------------------------------------


def test_a_connection_attempt_after_grace_expires_the_room(fleet, redis_url, database_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=1)
    code, host, _, host_sock, staying_sock = connected_room(open_socket, a, b)
    latecomer = joined_user(a.url, code)
    host_leaves(host_sock, staying_sock, database_url, code)
    wait_until(lambda: not grace_key_exists(redis_url, code), message="the grace key to lapse")

    # Reading and joining never expire a room (R21, R22).
    assert latecomer.get(f"/api/rooms/{code}/").json()["room"]["state"] == "GRACE"
    assert latecomer.post(f"/api/rooms/{code}/join/").status_code == 200
    assert stored_state(database_url, code) == "GRACE"

    assert refusal_code(a.url, latecomer.token(), code) == "room_closed"
    assert stored_state(database_url, code) == "EXPIRED"
    assert_closed(staying_sock, "expired")
    assert refusal_code(b.url, host.token(), code) == "room_closed"
    assert_nothing_arrives(staying_sock)
    assert len(staying_sock.received("ROOM_CLOSED")) == 1
    assert_redis_clean(redis_url, code)
    assert latecomer.get(f"/api/rooms/{code}/").status_code == 410
    assert run_cli(database_url, redis_url, GRACE_PERIOD_SECONDS=1) == 0


# one process, no Redis (R3, R44) --------------------------------------------------------------------


def test_single_process_delete_closes_sockets(fleet, database_url, open_socket):
    server = fleet.start(None)
    code, host, viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)

    assert host.delete(f"/api/rooms/{code}/").status_code == 204
    for sock in (host_sock, viewer_sock):
        assert_closed(sock, "deleted")
    assert stored_state(database_url, code) == "DELETED"
    assert host.get(f"/api/rooms/{code}/").status_code == 410
    assert refusal_code(server.url, viewer.token(), code) == "room_closed"
    assert refusal_code(server.url, host.token(), code) == "room_closed"


def single_process_lapsed_room(
    server, database_url, open_socket, host: ApiUser
) -> tuple[str, ApiUser, object]:
    code, _, viewer, host_sock, viewer_sock = connected_room(open_socket, server, server, host=host)
    host_leaves(host_sock, viewer_sock, database_url, code)
    return code, viewer, viewer_sock


def test_single_process_cli_expiry_closes_sockets_at_their_next_event(fleet, database_url, open_socket):
    server = fleet.start(None, GRACE_PERIOD_SECONDS=1)
    host = ApiUser(server.url).register()
    chat_room, _, chat_sock = single_process_lapsed_room(server, database_url, open_socket, host)
    sync_room, _, sync_sock = single_process_lapsed_room(server, database_url, open_socket, host)
    wait_out(1.3)  # the 1 s grace runs out (one process, no Redis key to watch)

    assert run_cli(database_url, None, "--dry-run", GRACE_PERIOD_SECONDS=1) == 2
    assert stored_state(database_url, chat_room) == "GRACE"
    assert run_cli(database_url, None, GRACE_PERIOD_SECONDS=1) == 2
    assert stored_state(database_url, chat_room) == "EXPIRED"
    assert stored_state(database_url, sync_room) == "EXPIRED"
    assert chat_sock.connected and sync_sock.connected  # the CLI cannot reach this process

    chat_sock.emit("CHAT", {"message": "anyone here?"})
    assert_closed(chat_sock, "expired")
    assert chat_sock.received("CHAT") == []
    sync_sock.emit("SYNC_CHECK", {"time": 42.0})
    assert_closed(sync_sock, "expired")
    assert sync_sock.received("SYNC_CORRECTION") == []
    assert run_cli(database_url, None, GRACE_PERIOD_SECONDS=1) == 0


def test_single_process_cli_expiry_closes_sockets_at_the_next_connection_attempt(
    fleet, database_url, open_socket
):
    """R44: "the server closes that room's sockets at the next event or connection attempt in it"."""
    server = fleet.start(None, GRACE_PERIOD_SECONDS=1)
    host = ApiUser(server.url).register()
    code, _, viewer_sock = single_process_lapsed_room(server, database_url, open_socket, host)
    wait_out(1.3)  # the 1 s grace runs out (one process, no Redis key to watch)
    assert run_cli(database_url, None, GRACE_PERIOD_SECONDS=1) == 1
    assert viewer_sock.connected

    assert refusal_code(server.url, host.token(), code) == "room_closed"
    assert_closed(viewer_sock, "expired")


@pytest.mark.xfail(
    strict=False,
    reason="open race (CHANGELOG): in about 1 full run of 4 a room:<code>:presence key outlives the DELETE "
    "although every socket was closed; suspected: a presence heartbeat re-registering a socket that the "
    "connect path has just removed",
)
def test_sockets_connecting_while_the_room_is_deleted_do_not_outlive_it(
    fleet, redis_url, database_url, open_socket
):
    """R24 under a race: sockets admitted while DELETE runs must be refused or closed like the rest.

    Each round connects twelve sockets over ~60 ms around a DELETE; a round is
    clean when, a moment later, none of them is still connected and no Redis
    key names the room. Rounds stop at the first one that is not.
    """
    a, b = fleet.pair(redis_url)
    servers = (a, b)
    host = ApiUser(a.url).register()
    viewers = [ApiUser(servers[i % 2].url).register() for i in range(12)]
    tokens = [viewer.token() for viewer in viewers]

    def attempt(sock: RoomSocket, delay: float) -> None:
        time.sleep(delay)  # the schedule of the race, not a wait for anything
        with contextlib.suppress(socketio.exceptions.ConnectionError):
            sock.connect()

    def delete_later(code: str, delay: float):
        time.sleep(delay)  # the schedule of the race
        return host.delete(f"/api/rooms/{code}/")

    problems = []
    for _ in range(6):
        code = create_room(host)
        for viewer in viewers:
            join(viewer, code)
        host_sock = open_socket(a.url, host.token(), code)
        host_sock.wait_for("PRESENCE")
        socks = [RoomSocket(servers[i % 2].url, token, code) for i, token in enumerate(tokens)]
        try:
            with ThreadPoolExecutor(len(socks) + 1) as pool:
                futures = [pool.submit(attempt, sock, i * 0.005) for i, sock in enumerate(socks)]
                deleted = pool.submit(delete_later, code, 0.03)
                for future in futures:
                    future.result()
                assert deleted.result().status_code == 204
            assert_closed(host_sock, "deleted")
            with contextlib.suppress(AssertionError):

                def gone(s=socks, c=code) -> bool:
                    return not any(x.connected for x in s) and not keys_naming(redis_url, c)

                wait_until(gone, timeout=20)  # a loaded machine closes late; a survivor never does
                assert_stays(gone)  # and nothing written back late
            survivors = [sock.names() for sock in socks if sock.connected]
            leftovers = keys_naming(redis_url, code)
            if survivors or leftovers:
                problems.append(f"room {code}: still connected {survivors}; Redis keys {leftovers}")
                break
        finally:
            for sock in socks:
                sock.disconnect()
    assert problems == []
