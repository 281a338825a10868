"""Roles over two real processes and Redis: participants, role changes, handover, successor (R100-R104)."""

import subprocess
import sys

import pytest
import redis

from tests.support import ROOT, ApiUser, create_room, join, server_env, wait_until

MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}


@pytest.fixture
def pair(module_pair):
    return module_pair


def make_cohost(host: ApiUser, code: str, user: ApiUser) -> dict:
    response = host.patch(f"/api/rooms/{code}/participants/{user.user['id']}/", json={"role": "cohost"})
    assert response.status_code == 200, response.text
    return response.json()["participant"]


def participants(user: ApiUser, code: str) -> list[tuple[str, str, bool]]:
    response = user.get(f"/api/rooms/{code}/participants/")
    assert response.status_code == 200, response.text
    return [(p["user"]["display_name"], p["role"], p["connected"]) for p in response.json()["participants"]]


def room_of(user: ApiUser, code: str) -> dict:
    response = user.get(f"/api/rooms/{code}/")
    assert response.status_code == 200, response.text
    return response.json()["room"]


def error_code(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]["code"]


def test_participants_host_first_then_cohosts_in_naming_order_then_viewers(pair, open_socket):
    a, b = pair
    host = ApiUser(a.url).register(display_name="Hana")
    ann, bob, cy = (ApiUser(b.url).register(display_name=name) for name in ("Ann", "Bob", "Cy"))
    code = create_room(host)
    for user in (ann, bob, cy):
        join(user, code)
    open_socket(b.url, bob.token(), code)
    make_cohost(host, code, cy)
    make_cohost(host, code, ann)
    wait_until(lambda: participants(bob, code)[3][2], message="Bob connected")
    assert participants(bob, code) == [
        ("Hana", "host", False),
        ("Cy", "cohost", False),
        ("Ann", "cohost", False),
        ("Bob", "viewer", True),
    ]
    assert room_of(ann, code)["cohosts"] == [
        {"id": cy.user["id"], "display_name": "Cy"},
        {"id": ann.user["id"], "display_name": "Ann"},
    ]
    stranger = ApiUser(a.url).register()
    assert error_code(stranger.get(f"/api/rooms/{code}/participants/"), 403) == "forbidden"


def test_role_changed_reaches_sockets_on_both_processes_once(pair, open_socket):
    a, b = pair
    host, bob = ApiUser(a.url).register(), ApiUser(b.url).register(display_name="Bob")
    code = create_room(host)
    join(bob, code)
    host_socket = open_socket(a.url, host.token(), code)
    bob_socket = open_socket(b.url, bob.token(), code)
    participant = make_cohost(host, code, bob)
    assert participant == {
        "user": {"id": bob.user["id"], "display_name": "Bob"},
        "role": "cohost",
        "connected": True,
    }
    expected = {"user": {"id": bob.user["id"], "display_name": "Bob"}, "role": "cohost"}
    for sock in (host_socket, bob_socket):
        assert sock.wait_for("ROLE_CHANGED") == expected
    make_cohost(host, code, bob)  # the role it already has: no event
    response = host.patch(f"/api/rooms/{code}/participants/{bob.user['id']}/", json={"role": "viewer"})
    assert response.json()["participant"]["role"] == "viewer"
    bob_socket.wait_for("ROLE_CHANGED", lambda p: p["role"] == "viewer")
    host_socket.wait_for("ROLE_CHANGED", lambda p: p["role"] == "viewer")
    assert [p["role"] for p in host_socket.received("ROLE_CHANGED")] == ["cohost", "viewer"]


def test_role_changes_are_the_hosts_and_checked(pair):
    a, _ = pair
    host, bob, cy = (ApiUser(a.url).register() for _ in range(3))
    code = create_room(host)
    join(bob, code)
    path = f"/api/rooms/{code}/participants/"
    assert (
        error_code(host.patch(f"{path}{host.user['id']}/", json={"role": "viewer"}), 400)
        == "validation_error"
    )
    assert error_code(host.patch(f"{path}{cy.user['id']}/", json={"role": "cohost"}), 404) == "not_found"
    assert (
        error_code(host.patch(f"{path}{bob.user['id']}/", json={"role": "host"}), 400) == "validation_error"
    )
    make_cohost(host, code, bob)
    join(cy, code)
    assert error_code(bob.patch(f"{path}{cy.user['id']}/", json={"role": "cohost"}), 403) == "forbidden"


def test_a_cohost_commands_playback_and_toggles_chat_but_not_the_rest(pair, open_socket):
    a, b = pair
    host, bob, cy = ApiUser(a.url).register(), ApiUser(b.url).register(), ApiUser(b.url).register()
    code = create_room(host, media=MOVIE)
    join(bob, code)
    join(cy, code)
    make_cohost(host, code, bob)
    host_socket = open_socket(a.url, host.token(), code)
    bob_socket = open_socket(b.url, bob.token(), code)
    cy_socket = open_socket(b.url, cy.token(), code)
    cy_socket.emit("SEEK", {"time": 99})  # a viewer: ignored (R36)
    bob_socket.emit("SEEK", {"time": 42})
    state = host_socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 1)
    assert state["time"] == 42
    assert room_of(host, code)["playback"]["version"] == 1
    assert bob.patch(f"/api/rooms/{code}/", json={"is_chat_enabled": False}).status_code == 200
    for body in ({"title": "mine"}, {"settings": {"queue_mode": "open"}}, {"is_private": True}):
        assert error_code(bob.patch(f"/api/rooms/{code}/", json=body), 403) == "forbidden"
    assert error_code(cy.patch(f"/api/rooms/{code}/", json={"is_chat_enabled": True}), 403) == "forbidden"
    assert error_code(bob.delete(f"/api/rooms/{code}/"), 403) == "forbidden"


def test_the_host_hands_over_to_a_connected_participant(pair, open_socket):
    a, b = pair
    host = ApiUser(a.url).register(display_name="Hana")
    bob, cy = ApiUser(b.url).register(display_name="Bob"), ApiUser(b.url).register(display_name="Cy")
    code = create_room(host)
    join(bob, code)
    join(cy, code)
    host_socket = open_socket(a.url, host.token(), code)
    open_socket(b.url, bob.token(), code)
    assert (
        error_code(host.post(f"/api/rooms/{code}/host/", json={"user_id": cy.user["id"]}), 409)
        == "not_connected"
    )
    response = host.post(f"/api/rooms/{code}/host/", json={"user_id": bob.user["id"]})
    assert response.status_code == 200, response.text
    room = response.json()["room"]
    assert room["host"]["display_name"] == "Bob" and room["role"] == "cohost"
    assert room["cohosts"] == [{"id": host.user["id"], "display_name": "Hana"}]
    changed = host_socket.wait_for("HOST_CHANGED")
    assert changed == {
        "host": {"id": bob.user["id"], "display_name": "Bob"},
        "previous": {"id": host.user["id"], "display_name": "Hana"},
    }
    host_socket.wait_for("ROOM_UPDATED", lambda p: p["room"]["host"]["id"] == bob.user["id"])
    names = host_socket.names()
    assert names.index("HOST_CHANGED") < len(names) - 1 - names[::-1].index("ROOM_UPDATED")
    assert (
        error_code(host.post(f"/api/rooms/{code}/host/", json={"user_id": bob.user["id"]}), 403)
        == "forbidden"
    )


def grace_key_gone(redis_url: str, code: str) -> bool:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.exists(f"room:{code}:grace") == 0
    finally:
        client.close()


def lapsed_room_with_cohost(pair, redis_url, open_socket):
    """A room whose host left and whose grace lapsed, with a cohost connected on the other process."""
    a, b = pair
    host = ApiUser(a.url).register(display_name="Hana")
    bob, cy = ApiUser(b.url).register(display_name="Bob"), ApiUser(b.url).register(display_name="Cy")
    code = create_room(host)
    for user in (bob, cy):
        join(user, code)
    make_cohost(host, code, cy)
    make_cohost(host, code, bob)
    host_socket = open_socket(a.url, host.token(), code)
    bob_socket = open_socket(b.url, bob.token(), code)
    host_socket.disconnect()
    bob_socket.wait_for("HOST_DISCONNECTED")
    wait_until(lambda: grace_key_gone(redis_url, code), message="grace key expiry")
    return code, host, bob, cy, bob_socket


def assert_bob_took_over(code: str, bob: ApiUser, bob_socket) -> None:
    for event in ("HOST_CHANGED", "ROOM_UPDATED", "HOST_RECONNECTED"):
        bob_socket.wait_for(event)
    assert len(bob_socket.received("HOST_CHANGED")) == 1
    room = room_of(bob, code)
    assert room["state"] == "LIVE" and room["host"]["display_name"] == "Bob" and room["role"] == "host"
    assert [c["display_name"] for c in room["cohosts"]] == ["Cy", "Hana"]
    assert room["playback"]["is_playing"] is False


@pytest.mark.parametrize("noticed_by", ["a connection attempt", "the cohost's chat message"])
def test_a_lapse_noticed_in_the_room_hands_it_to_the_connected_cohost(
    fleet, live_redis_url, open_socket, noticed_by
):
    pair = fleet.pair(live_redis_url, GRACE_PERIOD_SECONDS=1)
    code, _, bob, cy, bob_socket = lapsed_room_with_cohost(pair, live_redis_url, open_socket)
    if noticed_by == "a connection attempt":
        assert open_socket(pair[0].url, cy.token(), code).connected  # not refused: the room lives on
    else:
        bob_socket.emit("CHAT", {"message": "anyone here?"})
    assert_bob_took_over(code, bob, bob_socket)


def run_expire_rooms(database_url: str, redis_url: str, count: int) -> list[str]:
    """Start `count` concurrent `flask expire-rooms` runs; return their outputs."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "expire-rooms"]
    env = server_env(database_url, redis_url, GRACE_PERIOD_SECONDS=1)
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, f"{stdout}\n{stderr}"
        outputs.append(stdout.strip())
    return outputs


def test_expire_rooms_hands_over_once_with_two_concurrent_runs(
    fleet, live_redis_url, database_url, open_socket
):
    pair = fleet.pair(live_redis_url, GRACE_PERIOD_SECONDS=1)
    code, _, bob, _, bob_socket = lapsed_room_with_cohost(pair, live_redis_url, open_socket)
    outputs = run_expire_rooms(database_url, live_redis_url, 2)
    assert sorted(outputs) == ["expired 0", "expired 0\nhanded over 1"], outputs
    assert_bob_took_over(code, bob, bob_socket)
