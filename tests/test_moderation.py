"""Kick, ban, unban and the pause budget over two real processes and Redis (R105, R106)."""

import pytest
import redis

from tests.support import ApiUser, RoomSocket, create_room, join, wait_until
from tests.test_roles import error_code, make_cohost

MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}


@pytest.fixture
def pair(module_pair):
    return module_pair


def sockets_of(redis_url: str, code: str, user_id: int) -> list[str]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        entries = client.hgetall(f"room:{code}:sockets")
        return [sid for sid, entry in entries.items() if entry.endswith(f"|{user_id}")]
    finally:
        client.close()


def refusal(base_url: str, token: str, code: str) -> str | None:
    sock = RoomSocket(base_url, token, code)
    try:
        sock.connect()
    except Exception:
        return (sock.connect_error or {}).get("code")
    sock.disconnect()
    return None


def test_kick_closes_every_socket_of_the_user_on_the_other_process(pair, live_redis_url, open_socket):
    a, b = pair
    host, bob = ApiUser(a.url).register(), ApiUser(b.url).register(display_name="Bob")
    code = create_room(host)
    join(bob, code)
    host_socket = open_socket(a.url, host.token(), code)
    bob_sockets = [open_socket(server.url, bob.token(), code) for server in (a, b)]
    response = host.post(f"/api/rooms/{code}/participants/{bob.user['id']}/kick/")
    assert response.status_code == 204, response.text
    assert sockets_of(live_redis_url, code, bob.user["id"]) == []
    for sock in bob_sockets:
        assert sock.wait_for("KICKED") == {"reason": "kicked"}
        wait_until(lambda sock=sock: not sock.connected, message="kicked socket disconnected")
    left = host_socket.wait_for("USER_LEFT")
    assert left["user"] == {"id": bob.user["id"], "display_name": "Bob", "role": "viewer"}
    assert open_socket(b.url, bob.token(), code).connected  # a kicked user may come back


def test_ban_refuses_reconnects_joins_reads_and_the_page_until_unbanned(pair, live_redis_url, open_socket):
    a, b = pair
    host, bob = ApiUser(a.url).register(display_name="Hana"), ApiUser(b.url).register(display_name="Bob")
    code = create_room(host)
    join(bob, code)
    bob_socket = open_socket(b.url, bob.token(), code)
    assert host.post(f"/api/rooms/{code}/participants/{bob.user['id']}/ban/").status_code == 204
    assert sockets_of(live_redis_url, code, bob.user["id"]) == []
    assert bob_socket.wait_for("KICKED") == {"reason": "banned"}
    assert refusal(a.url, bob.token(), code) == "banned"
    assert error_code(bob.post(f"/api/rooms/{code}/join/"), 403) == "banned"
    assert error_code(bob.get(f"/api/rooms/{code}/"), 403) == "banned"
    page = bob.get(f"/rooms/{code}")
    assert page.status_code == 403 and "banned" in page.text
    bans = host.get(f"/api/rooms/{code}/bans/").json()["bans"]
    assert [(ban["user"]["display_name"], ban["banned_by"]["display_name"]) for ban in bans] == [
        ("Bob", "Hana")
    ]
    names = [
        p["user"]["display_name"] for p in host.get(f"/api/rooms/{code}/participants/").json()["participants"]
    ]
    assert names == ["Hana"]
    assert host.delete(f"/api/rooms/{code}/participants/{bob.user['id']}/ban/").status_code == 204
    assert (
        error_code(host.delete(f"/api/rooms/{code}/participants/{bob.user['id']}/ban/"), 404) == "not_found"
    )
    assert bob.post(f"/api/rooms/{code}/join/").status_code == 200
    assert open_socket(a.url, bob.token(), code).connected


def test_moderation_checks_in_order(pair):
    a, _ = pair
    host, cohost, viewer, other, stranger = (ApiUser(a.url).register() for _ in range(5))
    code = create_room(host)
    for user in (cohost, viewer, other):
        join(user, code)
    make_cohost(host, code, cohost)
    kick = f"/api/rooms/{code}/participants/{{}}/kick/"
    anonymous = ApiUser(a.url)
    assert error_code(anonymous.post(kick.format(viewer.user["id"])), 401) == "unauthorized"
    assert error_code(viewer.post(kick.format(other.user["id"])), 403) == "forbidden"
    assert error_code(cohost.post(kick.format(stranger.user["id"])), 404) == "not_found"
    assert error_code(cohost.post(kick.format(cohost.user["id"])), 400) == "validation_error"
    assert error_code(cohost.post(kick.format(host.user["id"])), 403) == "forbidden"
    assert cohost.post(kick.format(viewer.user["id"])).status_code == 204  # no socket: still 204
    assert error_code(viewer.get(f"/api/rooms/{code}/bans/"), 403) == "forbidden"
    assert host.post(f"/api/rooms/{code}/participants/{cohost.user['id']}/ban/").status_code == 204


def handled(sock) -> None:
    """Return once the server has handled every event the socket sent: one socket's run in order (R38)."""
    assert sock.call("TIME_SYNC", {"t0": 0.0}) is not None


def test_a_viewer_pauses_within_the_budget_across_processes(pair, open_socket):
    a, b = pair
    host, bob = ApiUser(a.url).register(), ApiUser(b.url).register()
    code = create_room(host, media=MOVIE)
    join(bob, code)
    host_socket = open_socket(a.url, host.token(), code)
    bob_on_a, bob_on_b = open_socket(a.url, bob.token(), code), open_socket(b.url, bob.token(), code)
    bob_on_b.emit("PLAY")  # a viewer: ignored
    bob_on_b.emit("PAUSE")  # limit 0: ignored
    handled(bob_on_b)
    host.patch(f"/api/rooms/{code}/", json={"settings": {"viewer_pause_limit": 2}})
    version = 0
    for pauser in (bob_on_b, bob_on_a):
        host_socket.emit("PLAY")
        host_socket.wait_for("PLAYBACK_STATE", lambda p, v=version + 1: p["version"] == v)
        pauser.emit("PAUSE", {"time": 500})
        paused = host_socket.wait_for("PLAYBACK_STATE", lambda p, v=version + 2: p["version"] == v)
        assert paused["is_playing"] is False and paused["time"] < 500
        bob_on_b.emit("PAUSE")  # while paused: ignored, not counted
        handled(bob_on_b)  # before the next PLAY, or it would find the room playing
        version += 2
    host_socket.emit("PLAY")
    host_socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == version + 1)
    bob_on_b.emit("PAUSE")
    assert bob_on_b.wait_for("ERROR")["code"] == "pause_limit"
    assert bob_on_a.received("ERROR") == []
    host_socket.emit("SEEK", {"time": 3})  # the next version: the over-budget PAUSE made none
    assert host_socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == version + 2)["is_playing"] is True
