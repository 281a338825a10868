"""The room queue over two real processes and Redis: versions, next, auto-advance, vote-skip (R150-R156)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import ApiUser, create_room, join
from tests.test_roles import error_code, make_cohost

MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}


def media(n: int) -> dict:
    return {"provider": "vidking", "type": "movie", "id": str(n)}


@pytest.fixture
def pair(module_pair):
    return module_pair


def add(user: ApiUser, code: str, n: int, title: str = "") -> dict:
    response = user.post(f"/api/rooms/{code}/queue/", json={"media": media(n), "title": title})
    assert response.status_code == 201, response.text
    return response.json()


def queue_ids(user: ApiUser, code: str) -> tuple[list[str], int]:
    body = user.get(f"/api/rooms/{code}/queue/").json()
    return [item["media"]["id"] for item in body["items"]], body["version"]


def test_concurrent_edits_from_both_processes_get_one_version_each(pair, open_socket):
    a, b = pair
    host_a = ApiUser(a.url).register(display_name="Hana")
    code = create_room(host_a)
    host_b = ApiUser(b.url)
    host_b.http.cookies.update(host_a.http.cookies)
    host_socket = open_socket(b.url, host_a.token(), code)
    assert host_socket.wait_for("QUEUE_UPDATED") == {"items": [], "version": 0}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: add((host_a, host_b)[n % 2], code, n), range(1, 21)))
    assert sorted(answer["version"] for answer in answers) == list(range(1, 21))
    ids, version = queue_ids(host_a, code)
    assert version == 20 and sorted(ids, key=int) == [str(n) for n in range(1, 21)]
    updates = [host_socket.wait_for("QUEUE_UPDATED", lambda p, v=v: p["version"] == v) for v in range(1, 21)]
    assert [len(update["items"]) for update in updates] == list(range(1, 21))
    item = answers[0]["item"]
    assert set(item) == {"id", "media", "title", "added_by", "added_at"}
    assert item["added_by"] == {"id": host_a.user["id"], "display_name": "Hana"}


def test_remove_and_move_with_exact_versions_and_who_may(pair):
    a, b = pair
    host, viewer = ApiUser(a.url).register(), ApiUser(b.url).register()
    code = create_room(host)
    join(viewer, code)
    first, second, third = (add(host, code, n)["item"]["id"] for n in (1, 2, 3))
    moved = host.post(f"/api/rooms/{code}/queue/{third}/move/", json={"index": 0}).json()
    assert ([i["media"]["id"] for i in moved["items"]], moved["version"]) == (["3", "1", "2"], 4)
    moved = host.post(f"/api/rooms/{code}/queue/{third}/move/", json={"index": 99}).json()
    assert ([i["media"]["id"] for i in moved["items"]], moved["version"]) == (["1", "2", "3"], 5)
    assert host.delete(f"/api/rooms/{code}/queue/{second}/").status_code == 204
    assert queue_ids(viewer, code) == (["1", "3"], 6)
    assert error_code(host.delete(f"/api/rooms/{code}/queue/{second}/"), 404) == "not_found"
    assert error_code(viewer.post(f"/api/rooms/{code}/queue/", json={"media": MOVIE}), 403) == "forbidden"
    assert error_code(viewer.delete(f"/api/rooms/{code}/queue/{first}/"), 403) == "forbidden"
    assert (
        error_code(viewer.post(f"/api/rooms/{code}/queue/{first}/move/", json={"index": 1}), 403)
        == "forbidden"
    )
    host.patch(f"/api/rooms/{code}/", json={"settings": {"queue_mode": "open"}})
    own = add(viewer, code, 7)["item"]["id"]
    assert viewer.delete(f"/api/rooms/{code}/queue/{own}/").status_code == 204
    assert queue_ids(host, code) == (["1", "3"], 8)
    bad = host.post(
        f"/api/rooms/{code}/queue/", json={"media": {"provider": "direct", "type": "movie", "url": "x"}}
    )
    assert error_code(bad, 400) == "validation_error"


def test_queue_full_and_queue_empty(fleet, live_redis_url):
    server = fleet.start(live_redis_url, QUEUE_MAX_ITEMS=2)
    host = ApiUser(server.url).register()
    code = create_room(host)
    assert error_code(host.post(f"/api/rooms/{code}/queue/next/"), 409) == "queue_empty"
    add(host, code, 1)
    add(host, code, 2)
    assert error_code(host.post(f"/api/rooms/{code}/queue/", json={"media": MOVIE}), 409) == "queue_full"
    assert queue_ids(host, code) == (["1", "2"], 2)


def test_queue_titles_refuse_control_and_format_characters_but_keep_joiners(pair):
    host = ApiUser(pair[0].url).register()
    code = create_room(host)
    for n, title in enumerate(["Movie\u202enight", "bell\x07", "zero\u200bwidth", "Ann\u2066x\u2069"]):
        response = host.post(f"/api/rooms/{code}/queue/", json={"media": media(n), "title": title})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error" and "title" in error["fields"], error
    kept = "Zoë 👩\u200d💻 \u0645\u06cc\u200c\u062e"
    assert add(host, code, 9, kept)["item"]["title"] == kept
    assert queue_ids(host, code) == (["9"], 1)


def test_next_makes_the_first_item_the_media_and_keeps_playing(pair, open_socket):
    a, b = pair
    host, cohost = ApiUser(a.url).register(), ApiUser(b.url).register()
    code = create_room(host, title="Movie night", media=MOVIE)
    join(cohost, code)
    make_cohost(host, code, cohost)
    host_socket = open_socket(a.url, host.token(), code)
    cohost_socket = open_socket(b.url, cohost.token(), code)
    add(host, code, 11)
    add(host, code, 12)
    host_socket.emit("PLAY", {"time": 30})
    cohost_socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 1)
    response = cohost.post(f"/api/rooms/{code}/queue/next/")
    assert response.status_code == 200, response.text
    room = response.json()["room"]
    assert room["media"] == media(11) and room["title"] == "Movie night" and room["media_version"] == 1
    state = host_socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 2)
    assert state["is_playing"] is True and state["time"] < 5
    host_socket.wait_for("ROOM_UPDATED", lambda p: p["room"]["media"] == media(11))
    assert host_socket.wait_for("QUEUE_UPDATED", lambda p: p["version"] == 3)["items"][0]["media"] == media(
        12
    )
    assert host_socket.wait_for("SKIP_VOTES", lambda p: p["votes"] == 0 and p is not None)
    assert len([s for s in host_socket.received("PLAYBACK_STATE") if s["version"] == 2]) == 1


def test_two_ended_events_advance_once(pair, open_socket):
    a, b = pair
    host = ApiUser(a.url).register()
    code = create_room(host, media=MOVIE)
    host_sockets = [open_socket(server.url, host.token(), code) for server in (a, b)]
    add(host, code, 21)
    add(host, code, 22)
    host_sockets[0].emit("SEEK", {"time": 100})
    host_sockets[1].wait_for("PLAYBACK_STATE", lambda p: p["version"] == 1)
    host_sockets[0].emit("PLAYER_EVENT", {"event": "ended", "currentTime": 60, "duration": 100})  # 40 s off
    ended = {"event": "ended", "currentTime": 100, "duration": 100, "media_version": 0}
    for sock in host_sockets:
        sock.emit("PLAYER_EVENT", ended)
    host_sockets[0].wait_for("ROOM_UPDATED", lambda p: p["room"]["media"] == media(21))
    for sock in host_sockets:
        sock.emit("PLAYER_EVENT", ended)  # names the old media version: ignored
    host_sockets[0].emit("SEEK", {"time": 1})
    marker = host_sockets[0].wait_for("PLAYBACK_STATE", lambda p: p["version"] == 3)
    assert marker["time"] < 2 and marker["is_playing"] is True  # SEEK 100, the advance (playing), SEEK 1
    room = host.get(f"/api/rooms/{code}/").json()["room"]
    assert room["media"] == media(21) and room["media_version"] == 1
    assert queue_ids(host, code) == (["22"], 3)
    host.patch(f"/api/rooms/{code}/", json={"settings": {"auto_advance": False}})
    host_sockets[1].emit(
        "PLAYER_EVENT", {"event": "ended", "currentTime": 1, "duration": 1, "media_version": 1}
    )
    host_sockets[0].emit("SEEK", {"time": 2})
    host_sockets[0].wait_for("PLAYBACK_STATE", lambda p: p["version"] == 4)
    assert host.get(f"/api/rooms/{code}/").json()["room"]["media_version"] == 1


def test_vote_skip_threshold_one_vote_per_user_and_reset(pair, open_socket):
    a, b = pair
    host, bob, cy = ApiUser(a.url).register(), ApiUser(b.url).register(), ApiUser(b.url).register()
    code = create_room(host)
    for user in (bob, cy):
        join(user, code)
    skip = f"/api/rooms/{code}/queue/skip/"
    assert error_code(bob.post(skip), 409) == "not_connected"
    sockets = [open_socket(a.url, host.token(), code)] + [
        open_socket(b.url, u.token(), code) for u in (bob, cy)
    ]
    assert error_code(bob.post(skip), 409) == "no_media"
    host.patch(f"/api/rooms/{code}/", json={"media": MOVIE, "settings": {"skip_vote_ratio": None}})
    assert error_code(bob.post(skip), 403) == "skip_disabled"
    host.patch(f"/api/rooms/{code}/", json={"settings": {"skip_vote_ratio": 0.5}})
    add(host, code, 31)
    assert bob.post(skip).json() == {"votes": 1, "needed": 2, "skipped": False}
    assert sockets[0].wait_for("SKIP_VOTES", lambda p: p["votes"] == 1) == {"votes": 1, "needed": 2}
    assert bob.post(skip).json() == {"votes": 1, "needed": 2, "skipped": False}
    assert cy.post(skip).json() == {"votes": 2, "needed": 2, "skipped": True}
    sockets[2].wait_for("ROOM_UPDATED", lambda p: p["room"]["media"] == media(31))
    assert sockets[2].wait_for("SKIP_VOTES", lambda p: p["votes"] == 0 and p["needed"] == 2)
    assert [p["votes"] for p in sockets[0].received("SKIP_VOTES") if p["votes"] == 1] == [1]
    bob.post(skip)
    assert cy.post(skip).json()["skipped"] is True  # empty queue: the media is cleared
    room = host.get(f"/api/rooms/{code}/").json()["room"]
    assert room["media"] is None and room["playback"]["is_playing"] is False and room["media_version"] == 3
