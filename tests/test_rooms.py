"""Room endpoints over real HTTP against real server processes (SPEC R10, R20-R26, R45-R46).

Most tests share the module's `live_server` (one `python wsgi.py` with a real
Redis); the public-list tests start servers of their own so that they can count
every LIVE room, and kill their own Redis.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests
import socketio

from tests.support import ApiUser, RoomSocket, assert_redis_clean, stored_row, wait_until

pytestmark = pytest.mark.all_databases

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ROOM_KEYS = {
    "code",
    "title",
    "host",
    "is_private",
    "is_chat_enabled",
    "state",
    "created_at",
    "viewer_count",
    "media",
    "embed_url",
    "playback",
    "cohosts",
    "media_version",
    "settings",
}
PUBLIC_ROOM_KEYS = {"code", "title", "host", "viewer_count", "created_at"}
VIDKING_MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}
VIDKING_TV = {"provider": "vidking", "type": "tv", "id": "1399", "season": 1, "episode": 2}
DIRECT = {"provider": "direct", "type": "movie", "url": "https://cdn.example.com/films/a.mp4"}


# helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_host(live_server) -> ApiUser:
    """One registered user for the tests that only read or are refused (saves a registration each)."""
    return ApiUser(live_server.url).register(display_name="Shared Host")


def in_parallel(function, items, workers: int = 8) -> list:
    """map() over a thread pool: `python wsgi.py` answers each kept-alive request ~40 ms late."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def created(user: ApiUser, **body) -> dict:
    """POST a room as JSON, expect 201, return the Room."""
    response = user.post("/api/rooms/", json=body)
    assert response.status_code == 201, response.text
    return response.json()["room"]


def joined(user: ApiUser, code: str) -> dict:
    """Join a room, expect 200, return the body."""
    response = user.post(f"/api/rooms/{code}/join/")
    assert response.status_code == 200, response.text
    return response.json()


def fetched(user: ApiUser, code: str) -> dict:
    response = user.get(f"/api/rooms/{code}/")
    assert response.status_code == 200, response.text
    return response.json()["room"]


def error_of(response, status: int, code: str) -> dict:
    """Assert an R10 JSON error with this status and code; return its `error` object."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def validation_fields(response) -> dict:
    """Assert a 400 validation_error with per-field messages; return the fields."""
    fields = error_of(response, 400, "validation_error").get("fields")
    assert isinstance(fields, dict) and fields, response.text
    return fields


def parse_utc(value: str) -> datetime:
    """Parse an ISO 8601 time that says it is UTC."""
    assert value.endswith(("+00:00", "Z")), value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed


def public_rooms(base_url: str, **params) -> list[dict]:
    """GET the public list anonymously (no cookie), expect 200."""
    response = ApiUser(base_url).get("/api/rooms/public/", params=params)
    assert response.status_code == 200, response.text
    return response.json()["rooms"]


def assert_room_shape(room: dict, role: bool = True) -> None:
    """HTTP answers carry the caller's `role`; a Room inside ROOM_UPDATED does not (R100a)."""
    expected = ROOM_KEYS | {"role"} if role else ROOM_KEYS
    assert set(room) == expected, set(room) ^ expected
    assert set(room["host"]) == {"id", "display_name"}
    assert set(room["playback"]) == {"is_playing", "time", "version"}
    assert room["state"] in {"CREATED", "LIVE", "GRACE", "EXPIRED", "DELETED"}
    assert isinstance(room["viewer_count"], int)
    parse_utc(room["created_at"])


# creation and shape (R20) ---------------------------------------------------------------


def test_create_returns_201_and_the_exact_room_shape_with_defaults(make_user):
    host = make_user(display_name="Hosty")
    before = time.time()
    response = host.post("/api/rooms/", json={})
    after = time.time()
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"room"}
    room = response.json()["room"]
    assert_room_shape(room)
    assert room["title"] == ""
    assert room["host"] == {"id": host.user["id"], "display_name": "Hosty"}
    assert room["is_private"] is False
    assert room["is_chat_enabled"] is True
    assert room["state"] == "CREATED"
    assert room["viewer_count"] == 0
    assert room["media"] is None and room["embed_url"] is None
    assert room["playback"] == {"is_playing": False, "time": 0, "version": 0}
    stamp = parse_utc(room["created_at"]).timestamp()
    assert before - 2 <= stamp <= after + 2
    # The same room reads back identically.
    assert fetched(host, room["code"]) == room


def test_create_with_every_field(make_user):
    host = make_user()
    room = created(host, title="Movie night", is_private=True, is_chat_enabled=False, media=VIDKING_MOVIE)
    assert_room_shape(room)
    assert room["title"] == "Movie night"
    assert room["is_private"] is True and room["is_chat_enabled"] is False
    assert room["media"] == VIDKING_MOVIE
    assert room["embed_url"] == "https://www.vidking.net/embed/movie/550"


def test_room_codes_use_the_alphabet_and_never_repeat(make_user):
    host = make_user()
    host.fetch_csrf()
    codes = in_parallel(lambda _: created(host)["code"], range(200))
    for code in codes:
        assert len(code) == 8 and set(code) <= set(ALPHABET), code
    assert len(set(codes)) == 200
    # 200 codes x 8 characters: every character is drawn from the whole alphabet.
    assert len(set("".join(codes))) > 25


def test_concurrent_creations_across_processes_stop_at_the_room_limit(fleet, redis_url):
    """R177 counted in the creating transaction: racing creators never pass the limit, never deadlock."""
    servers = fleet.pair(redis_url, MAX_OPEN_ROOMS_PER_USER=3)
    host = ApiUser(servers[0].url).register()
    host.fetch_csrf()
    via_second = ApiUser(servers[1].url)
    via_second.http = host.http

    def create(index: int) -> requests.Response:
        return (host if index % 2 else via_second).post("/api/rooms/", json={"title": f"race {index}"})

    responses = in_parallel(create, range(16))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 3 + [409] * 13, [response.text for response in responses]
    assert all(r.json()["error"]["code"] == "room_limit" for r in responses if r.status_code == 409)


def test_logged_out_cannot_create(make_user):
    anonymous = make_user(register=False)
    error_of(anonymous.post("/api/rooms/", json={}), 401, "unauthorized")


# lookup (R21) --------------------------------------------------------------------------


def test_lookup_is_case_insensitive(make_user):
    host = make_user()
    room = created(host, title="case")
    assert fetched(host, room["code"].lower()) == room
    mixed = "".join(c.lower() if i % 2 else c for i, c in enumerate(room["code"]))
    assert fetched(host, mixed)["code"] == room["code"]
    # Joining and changing accept the lower-case code too.
    viewer = make_user()
    assert joined(viewer, room["code"].lower())["joined"] is True
    response = host.patch(f"/api/rooms/{room['code'].lower()}/", json={"title": "lower"})
    assert response.status_code == 200, response.text
    assert response.json()["room"]["code"] == room["code"]


def test_unknown_code_is_json_404(shared_host):
    user = shared_host
    error_of(user.get("/api/rooms/ABCDEFGH/"), 404, "not_found")
    error_of(user.get("/api/rooms/abcdefgh/"), 404, "not_found")


@pytest.mark.parametrize(
    "garbage",
    [
        "A" * 9,
        "A" * 7,
        "A" * 5000,
        "..%2F..%2F",
        "..",
        "%2e%2e",
        "ABCD%00EF",
        "ABCDEFG%20",
        "ABCDEFGI",  # I and O and 0 and 1 are not in the alphabet
        "ABCDEF01",
        "%C3%84%C3%96%C3%9C%C3%84%C3%96%C3%9C%C3%84%C3%96",  # ÄÖÜÄÖÜÄÖ
        "%F0%9F%8E%AC" * 8,  # 8 clapper boards
        "%FF%FE",  # not UTF-8
        "%25s%25s%25n",
        "'%20OR%201=1--",
    ],
)
def test_garbage_codes_are_404_never_500(shared_host, garbage):
    user = shared_host
    for method, path in [
        ("GET", f"/api/rooms/{garbage}/"),
        ("POST", f"/api/rooms/{garbage}/join/"),
        ("PATCH", f"/api/rooms/{garbage}/"),
        ("DELETE", f"/api/rooms/{garbage}/"),
        ("GET", f"/api/rooms/{garbage}/messages/"),
    ]:
        kwargs = {"json": {"title": "x"}} if method == "PATCH" else {}
        response = user.request(method, path, **kwargs)
        assert response.status_code == 404, (method, path, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_found"


def test_non_ascii_look_alikes_do_not_match_a_code(shared_host):
    """Only the alphabet's characters, in either case, name a room.

    str.upper() maps some non-ASCII letters onto ASCII ones (U+017F LATIN SMALL
    LETTER LONG S to "S", U+00DF to "SS", U+FB06 to "ST"): such a string is not a
    room code and must not open one.
    """
    host = shared_host
    for _ in range(100):
        code = created(host)["code"]
        if "S" in code:
            break
    else:
        pytest.fail("no code with an S in 100 rooms")
    look_alike = code.replace("S", "\u017f")
    response = host.get(f"/api/rooms/{look_alike}/")
    assert response.status_code == 404, f"{look_alike!r} read room {code}: {response.text[:200]}"


def test_logged_out_cannot_read_a_room(make_user):
    host = make_user()
    room = created(host)
    anonymous = make_user(register=False)
    error_of(anonymous.get(f"/api/rooms/{room['code']}/"), 401, "unauthorized")


def test_any_logged_in_user_can_read_a_room(make_user):
    host = make_user()
    room = created(host, is_private=True)
    stranger = make_user()
    assert fetched(stranger, room["code"]) == {**room, "role": None}
    assert room["role"] == "host"


# join (R22) -------------------------------------------------------------------------


def test_join_is_true_the_first_time_then_false(make_user):
    host = make_user()
    room = created(host, title="join me")
    viewer = make_user()
    first = joined(viewer, room["code"])
    assert set(first) == {"room", "joined"}
    assert first["joined"] is True
    assert first["room"]["role"] == "viewer"
    assert_room_shape(first["room"])
    assert first["room"]["code"] == room["code"]
    assert first["room"]["host"]["id"] == host.user["id"]
    again = joined(viewer, room["code"])
    assert again["joined"] is False
    assert again["room"] == first["room"]
    # A private room only stays out of the public list: anyone with its code may join.
    private = created(host, is_private=True)
    assert joined(viewer, private["code"])["joined"] is True


def test_host_joining_own_room_is_false(make_user):
    host = make_user()
    room = created(host)
    assert joined(host, room["code"])["joined"] is False


def test_join_unknown_is_404_and_logged_out_is_401(make_user):
    host = make_user()
    room = created(host)
    error_of(host.post("/api/rooms/ABCDEFGH/join/"), 404, "not_found")
    anonymous = make_user(register=False)
    error_of(anonymous.post(f"/api/rooms/{room['code']}/join/"), 401, "unauthorized")


# update (R23) -----------------------------------------------------------------------


def test_patch_changes_title_privacy_and_chat(make_user):
    host = make_user()
    room = created(host)
    response = host.patch(f"/api/rooms/{room['code']}/", json={"title": "New title"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"room"}
    updated = response.json()["room"]
    assert_room_shape(updated)
    assert updated["title"] == "New title"
    assert updated["is_private"] is False and updated["is_chat_enabled"] is True

    response = host.patch(f"/api/rooms/{room['code']}/", json={"is_private": True, "is_chat_enabled": False})
    assert response.status_code == 200, response.text
    updated = response.json()["room"]
    assert updated["title"] == "New title"
    assert updated["is_private"] is True and updated["is_chat_enabled"] is False
    # Playback is untouched by changes other than media.
    assert updated["playback"] == {"is_playing": False, "time": 0, "version": 0}
    assert fetched(host, room["code"]) == updated
    # An empty PATCH changes nothing.
    response = host.patch(f"/api/rooms/{room['code']}/", json={})
    assert response.status_code == 200, response.text
    assert response.json()["room"] == updated


def test_patch_is_for_the_host_only(make_user):
    host = make_user()
    room = created(host, title="mine")
    viewer = make_user()
    joined(viewer, room["code"])
    error_of(viewer.patch(f"/api/rooms/{room['code']}/", json={"title": "theirs"}), 403, "forbidden")
    stranger = make_user()
    error_of(stranger.patch(f"/api/rooms/{room['code']}/", json={"title": "theirs"}), 403, "forbidden")
    anonymous = make_user(register=False)
    error_of(anonymous.patch(f"/api/rooms/{room['code']}/", json={"title": "theirs"}), 401, "unauthorized")
    error_of(host.patch("/api/rooms/ABCDEFGH/", json={"title": "x"}), 404, "not_found")
    assert fetched(host, room["code"])["title"] == "mine"


def test_patch_media_resets_playback_and_tells_the_room(make_user, live_server, open_socket):
    host = make_user()
    room = created(host, media=VIDKING_MOVIE)
    code = room["code"]
    socket = open_socket(live_server.url, host.token(), code)
    socket.emit("SEEK", {"time": 42})
    state = socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 1)
    assert state["time"] == 42 and state["is_playing"] is False
    assert fetched(host, code)["playback"] == {"is_playing": False, "time": 42, "version": 1}

    response = host.patch(f"/api/rooms/{code}/", json={"media": VIDKING_TV})
    assert response.status_code == 200, response.text
    updated = response.json()["room"]
    assert updated["media"] == VIDKING_TV
    assert updated["embed_url"] == "https://www.vidking.net/embed/tv/1399/1/2"
    assert updated["playback"] == {"is_playing": False, "time": 0, "version": 2}

    reset = socket.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 2)
    assert reset["is_playing"] is False and reset["time"] == 0
    assert set(reset) == {"is_playing", "time", "version", "server_time", "effective_at", "rate"}
    announced = socket.wait_for("ROOM_UPDATED", lambda p: p["room"]["media"] == VIDKING_TV)
    assert set(announced) == {"room"}
    assert_room_shape(announced["room"], role=False)
    assert announced["room"]["playback"]["version"] == 2
    assert announced["room"]["embed_url"] == updated["embed_url"]
    assert fetched(host, code)["playback"] == {"is_playing": False, "time": 0, "version": 2}
    # Exactly one new playback snapshot for the one media change.
    assert [p["version"] for p in socket.received("PLAYBACK_STATE")] == [0, 1, 2]


def test_patch_other_fields_send_room_updated_without_playback(make_user, live_server, open_socket):
    host = make_user()
    room = created(host)
    viewer = make_user()
    joined(viewer, room["code"])
    socket = open_socket(live_server.url, viewer.token(), room["code"])
    socket.wait_for("PRESENCE")
    response = host.patch(f"/api/rooms/{room['code']}/", json={"is_chat_enabled": False, "title": "quiet"})
    assert response.status_code == 200, response.text
    announced = socket.wait_for("ROOM_UPDATED")
    assert announced["room"]["title"] == "quiet" and announced["room"]["is_chat_enabled"] is False
    assert [p["version"] for p in socket.received("PLAYBACK_STATE")] == [0]


def test_patch_media_null_clears_it_and_resets_playback(make_user):
    host = make_user()
    room = created(host, media=DIRECT)
    response = host.patch(f"/api/rooms/{room['code']}/", json={"media": None})
    assert response.status_code == 200, response.text
    updated = response.json()["room"]
    assert updated["media"] is None and updated["embed_url"] is None
    assert updated["playback"] == {"is_playing": False, "time": 0, "version": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 101}, "title"),
        ({"title": 7}, "title"),
        ({"is_private": "yes"}, "is_private"),
        ({"is_private": 1}, "is_private"),
        ({"is_chat_enabled": "false"}, "is_chat_enabled"),
        ({"media": {"provider": "vidking", "type": "tv", "id": "1399"}}, "media."),
        ({"media": {"provider": "nope", "type": "movie", "id": "1"}}, "media."),
        ({"media": {"provider": "direct", "type": "movie", "url": "javascript:alert(1)"}}, "media."),
        ({"media": [VIDKING_MOVIE]}, "media"),
    ],
)
def test_patch_validation_is_400_with_fields(shared_host, body, field):
    host = shared_host
    room = created(host, title="before", media=VIDKING_MOVIE)
    fields = validation_fields(host.patch(f"/api/rooms/{room['code']}/", json=body))
    assert any(name == field or name.startswith(field) for name in fields), fields
    assert fetched(host, room["code"]) == room


# delete (R24) -------------------------------------------------------------------------


def test_delete_then_everything_is_410(make_user):
    host = make_user()
    room = created(host)
    code = room["code"]
    viewer = make_user()
    joined(viewer, code)
    response = host.delete(f"/api/rooms/{code}/")
    assert response.status_code == 204, response.text
    assert response.content == b""
    for user in (host, viewer):
        error_of(user.get(f"/api/rooms/{code}/"), 410, "room_closed")
        error_of(user.get(f"/api/rooms/{code.lower()}/"), 410, "room_closed")
        error_of(user.post(f"/api/rooms/{code}/join/"), 410, "room_closed")
        error_of(user.get(f"/api/rooms/{code}/messages/"), 410, "room_closed")
    error_of(host.patch(f"/api/rooms/{code}/", json={"title": "back"}), 410, "room_closed")
    error_of(host.delete(f"/api/rooms/{code}/"), 410, "room_closed")
    newcomer = make_user()
    error_of(newcomer.post(f"/api/rooms/{code}/join/"), 410, "room_closed")


def test_delete_is_for_the_host_only(make_user):
    host = make_user()
    room = created(host, title="keep")
    viewer = make_user()
    joined(viewer, room["code"])
    error_of(viewer.delete(f"/api/rooms/{room['code']}/"), 403, "forbidden")
    error_of(make_user().delete(f"/api/rooms/{room['code']}/"), 403, "forbidden")
    anonymous = make_user(register=False)
    error_of(anonymous.delete(f"/api/rooms/{room['code']}/"), 401, "unauthorized")
    error_of(host.delete("/api/rooms/ABCDEFGH/"), 404, "not_found")
    assert fetched(host, room["code"])["state"] == "CREATED"


def test_delete_closes_connected_sockets_and_leaves_no_redis_key(
    make_user, live_server, redis_server, open_socket
):
    host = make_user()
    room = created(host, title="party")
    code = room["code"]
    viewer = make_user()
    joined(viewer, code)
    host_socket = open_socket(live_server.url, host.token(), code)
    host_socket.wait_for("PRESENCE")
    wait_until(lambda: fetched(host, code)["state"] == "LIVE", message="LIVE")
    viewer_socket = open_socket(live_server.url, viewer.token(), code)
    viewer_socket.wait_for("PRESENCE")
    host_socket.wait_for("USER_JOINED")
    assert fetched(host, code)["viewer_count"] == 2

    response = host.delete(f"/api/rooms/{code}/")
    assert response.status_code == 204, response.text
    for socket in (viewer_socket, host_socket):
        assert socket.wait_for("ROOM_CLOSED") == {"reason": "deleted"}
        wait_until(lambda s=socket: not s.connected, message="the server to disconnect the socket")
    for socket in (viewer_socket, host_socket):
        names = socket.names()
        assert names.count("ROOM_CLOSED") == 1
        assert "USER_LEFT" not in names[names.index("ROOM_CLOSED") :]
        assert "HOST_DISCONNECTED" not in names
    assert "USER_LEFT" not in viewer_socket.names()
    # No grace, no presence written back by the disconnects: no key names the room.
    assert_redis_clean(redis_server.url, code)
    error_of(host.get(f"/api/rooms/{code}/"), 410, "room_closed")
    # The closed room refuses new connections (R31).
    late = RoomSocket(live_server.url, viewer.token(), code)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            late.connect()
    finally:
        late.disconnect()
    assert late.connect_error["code"] == "room_closed"


def test_reading_and_joining_a_lapsed_grace_room_change_nothing_and_delete_ends_it(
    make_user, live_server, redis_server, open_socket
):
    """R21/R22: a GRACE room whose grace key is gone still reads and joins as GRACE; R24 from GRACE."""
    host = make_user()
    room = created(host, title="grace")
    code = room["code"]
    go_live(live_server.url, host, code, open_socket).disconnect()
    wait_until(lambda: fetched(host, code)["state"] == "GRACE", message="GRACE")
    redis_server.client().delete(f"room:{code}:grace")  # the grace period lapsed

    assert fetched(host, code)["state"] == "GRACE"
    viewer = make_user()
    body = joined(viewer, code)
    assert body["joined"] is True and body["room"]["state"] == "GRACE"
    assert fetched(viewer, code)["state"] == "GRACE"

    response = host.delete(f"/api/rooms/{code}/")
    assert response.status_code == 204, response.text
    error_of(viewer.get(f"/api/rooms/{code}/"), 410, "room_closed")


def test_delete_a_live_room(make_user, live_server, open_socket):
    host = make_user()
    room = created(host)
    socket = go_live(live_server.url, host, room["code"], open_socket)
    response = host.delete(f"/api/rooms/{room['code']}/")
    assert response.status_code == 204, response.text
    assert socket.wait_for("ROOM_CLOSED") == {"reason": "deleted"}
    wait_until(lambda: not socket.connected, message="the host's socket to be disconnected")
    assert "HOST_DISCONNECTED" not in socket.names()
    error_of(host.get(f"/api/rooms/{room['code']}/"), 410, "room_closed")


# media validation through POST (R20, R72, R74) -------------------------------------------


@pytest.mark.parametrize(
    ("media", "field"),
    [
        ({"provider": "vidking", "type": "tv", "id": "1399"}, "media."),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": 1}, "media.episode"),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": 0, "episode": 1}, "media.season"),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": 1, "episode": -2}, "media.episode"),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": "1", "episode": 2}, "media.season"),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": 1.5, "episode": 2}, "media.season"),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": True, "episode": 2}, "media.season"),
        ({"provider": "netflix", "type": "movie", "id": "550"}, "media.provider"),
        ({"type": "movie", "id": "550"}, "media."),
        ({"provider": "vidking", "type": "movie", "id": "55a"}, "media.id"),
        ({"provider": "vidking", "type": "movie", "id": "-550"}, "media.id"),
        ({"provider": "vidking", "type": "movie", "id": "12345678901"}, "media.id"),
        ({"provider": "vidking", "type": "movie", "id": ""}, "media.id"),
        ({"provider": "vidking", "type": "movie", "id": "550/../../x"}, "media.id"),
        ({"provider": "vidking", "type": "movie"}, "media.id"),
        ({"provider": "vidking", "type": "anime", "id": "550"}, "media."),
        ({"provider": "vidking", "type": "movie", "id": "550", "extra": 1}, "media."),
        ({"provider": "direct", "type": "movie", "url": "javascript:alert(1)"}, "media.url"),
        ({"provider": "direct", "type": "movie", "url": "JavaScript:alert(1)//http://x"}, "media.url"),
        ({"provider": "direct", "type": "movie", "url": "data:video/mp4;base64,AAAA"}, "media.url"),
        ({"provider": "direct", "type": "movie", "url": "file:///etc/passwd"}, "media.url"),
        ({"provider": "direct", "type": "movie", "url": "/relative.mp4"}, "media.url"),
        ({"provider": "direct", "type": "movie", "url": "https://x.example/" + "a" * 2000}, "media.url"),
        ({"provider": "direct", "type": "movie"}, "media.url"),
    ],
)
def test_invalid_media_is_400_naming_media_fields(shared_host, media, field):
    host = shared_host
    fields = validation_fields(host.post("/api/rooms/", json={"title": "bad media", "media": media}))
    assert any(name == field or name.startswith(field) for name in fields), fields
    assert all(name.startswith("media") for name in fields), fields


@pytest.mark.parametrize(
    ("media", "embed_url"),
    [
        (VIDKING_MOVIE, "https://www.vidking.net/embed/movie/550"),
        ({"provider": "vidking", "type": "movie", "id": 550}, "https://www.vidking.net/embed/movie/550"),
        (VIDKING_TV, "https://www.vidking.net/embed/tv/1399/1/2"),
        (DIRECT, DIRECT["url"]),
        (
            {"provider": "direct", "url": "http://127.0.0.1:8000/v.webm?a=1&b=2"},
            "http://127.0.0.1:8000/v.webm?a=1&b=2",
        ),
    ],
)
def test_valid_media_gives_the_embed_url(shared_host, media, embed_url):
    host = shared_host
    room = created(host, media=media)
    assert room["embed_url"] == embed_url
    assert room["media"]["provider"] == media["provider"]
    assert fetched(host, room["code"])["embed_url"] == embed_url


# body validation (R10, R20) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 101}, "title"),
        ({"title": 12}, "title"),
        ({"title": None}, "title"),
        ({"title": ["a"]}, "title"),
        ({"title": {"a": 1}}, "title"),
        ({"is_private": "yes"}, "is_private"),
        ({"is_private": "true"}, "is_private"),
        ({"is_private": 0}, "is_private"),
        ({"is_private": [True]}, "is_private"),
        ({"is_chat_enabled": None}, "is_chat_enabled"),
        ({"is_chat_enabled": 1.0}, "is_chat_enabled"),
        ({"media": []}, "media"),
        ({"media": 550}, "media"),
        ({"media": True}, "media"),
    ],
)
def test_create_validation_is_400_with_fields(shared_host, body, field):
    host = shared_host
    fields = validation_fields(host.post("/api/rooms/", json=body))
    assert any(name == field or name.startswith(field + ".") for name in fields), fields


def test_title_of_100_characters_is_fine(shared_host):
    host = shared_host
    assert created(host, title="é" * 100)["title"] == "é" * 100


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": NaN}',
        '{"is_private": NaN}',
        '{"title": Infinity}',
        '{"media": {"provider": "vidking", "type": "tv", "id": "1", "season": NaN, "episode": 1}}',
        '{"media": {"provider": "vidking", "type": "movie", "id": NaN}}',
        '{"media": {"provider": "vidking", "type": "tv", "id": "1", "season": 1e999, "episode": 1}}',
        "[]",
        '["title"]',
        '"title"',
        "null",
        "1",
        '{"title": "unterminated',
        '{"title": "t",}',
        '{"media": {"provider": ["vidking"], "type": "movie", "id": "550"}}',
        '{"media": {"provider": {"x": 1}, "type": "movie", "id": "550"}}',
        '{"media": {"provider": null}}',
        '{"title": "\\ud800"}',
    ],
)
def test_malformed_json_is_400_never_500(shared_host, raw):
    host = shared_host
    response = host.post("/api/rooms/", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, (raw, response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] in {"validation_error", "invalid_json", "bad_request"}


@pytest.mark.parametrize("depth", [50, 100_000])
def test_deeply_nested_json_is_400_never_500(shared_host, depth):
    host = shared_host
    raw = '{"title": ' + "[" * depth + "]" * depth + "}"
    response = host.post("/api/rooms/", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, (depth, response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")


def test_form_body_creates_a_room(make_user):
    host = make_user()
    csrf = host.fetch_csrf()
    form = {"csrf_token": csrf, "title": "From a form", "is_private": "on", "is_chat_enabled": "false"}
    response = host.post("/api/rooms/", data=form, csrf=False)
    assert response.status_code == 201, response.text
    room = response.json()["room"]
    assert_room_shape(room)
    assert room["title"] == "From a form"
    assert room["is_private"] is True and room["is_chat_enabled"] is False
    assert room["host"]["id"] == host.user["id"]
    # Form media is a JSON string.
    form = {"csrf_token": csrf, "media": '{"provider": "vidking", "type": "movie", "id": "550"}'}
    response = host.post("/api/rooms/", data=form, csrf=False)
    assert response.status_code == 201, response.text
    assert response.json()["room"]["embed_url"] == "https://www.vidking.net/embed/movie/550"
    # Form validation errors are JSON too.
    form = {"csrf_token": csrf, "title": "x" * 101, "media": "{not json"}
    fields = validation_fields(host.post("/api/rooms/", data=form, csrf=False))
    assert "title" in fields and any(name.startswith("media") for name in fields), fields
    # And the form field is the CSRF check: without it the form is refused.
    response = host.post("/api/rooms/", data={"title": "no token"}, csrf=False)
    error_of(response, 403, "csrf_failed")


# public list (R25) ----------------------------------------------------------------------


def go_live(server_url: str, host: ApiUser, code: str, open_socket, token: str | None = None):
    """Connect the host's socket (CREATED -> LIVE) and wait until the room reads LIVE."""
    socket = open_socket(server_url, token or host.token(), code)
    socket.wait_for("PRESENCE")
    wait_until(lambda: fetched(host, code)["state"] == "LIVE", message=f"{code} LIVE")
    return socket


def test_public_list_only_live_public_rooms_ordered_and_limited(fleet, redis_url, open_socket):
    server = fleet.start(redis_url)
    host = ApiUser(server.url).register(display_name="Public Host")
    token = host.token()

    # Rooms that must never be listed: CREATED, private LIVE, deleted, GRACE.
    never = created(host, title="created only")
    private = created(host, title="private", is_private=True)
    go_live(server.url, host, private["code"], open_socket, token)
    deleted = created(host, title="deleted")
    go_live(server.url, host, deleted["code"], open_socket, token)
    assert host.delete(f"/api/rooms/{deleted['code']}/").status_code == 204
    grace = created(host, title="grace")
    go_live(server.url, host, grace["code"], open_socket, token).disconnect()
    wait_until(lambda: fetched(host, grace["code"])["state"] == "GRACE", message="GRACE")

    # 51 LIVE public rooms (oldest first); the two oldest get viewers, so viewers beat recency.
    live = in_parallel(lambda index: created(host, title=f"live {index}"), range(51))
    live.sort(key=lambda room: parse_utc(room["created_at"]))
    in_parallel(lambda room: open_socket(server.url, token, room["code"]).wait_for("PRESENCE"), live)
    wait_until(lambda: len(public_rooms(server.url, limit=100)) == 51, message="51 LIVE rooms")
    popular, liked = live[0], live[1]
    viewers = in_parallel(lambda _: ApiUser(server.url).register(), range(2))
    for viewer in viewers:
        joined(viewer, popular["code"])
        open_socket(server.url, viewer.token(), popular["code"]).wait_for("PRESENCE")
    joined(viewers[0], liked["code"])
    open_socket(server.url, viewers[0].token(), liked["code"]).wait_for("PRESENCE")
    # A second tab of the same viewer does not count twice.
    open_socket(server.url, viewers[0].token(), liked["code"]).wait_for("PRESENCE")

    everything = public_rooms(server.url, limit=100)
    codes = [room["code"] for room in everything]
    assert len(codes) == 51
    assert sorted(codes) == sorted(room["code"] for room in live)
    for excluded in (never, private, deleted, grace):
        assert excluded["code"] not in codes
    for room in everything:
        assert set(room) == PUBLIC_ROOM_KEYS, set(room) ^ PUBLIC_ROOM_KEYS
        assert room["host"] == {"id": host.user["id"], "display_name": "Public Host"}
        parse_utc(room["created_at"])
    assert everything[0]["code"] == popular["code"] and everything[0]["viewer_count"] == 3
    assert everything[1]["code"] == liked["code"] and everything[1]["viewer_count"] == 2
    assert all(room["viewer_count"] == 1 for room in everything[2:])
    # Same viewers: newest first.
    newest_first = [room["code"] for room in reversed(live[2:])]
    assert codes[2:] == newest_first
    stamps = [parse_utc(room["created_at"]) for room in everything[2:]]
    assert stamps == sorted(stamps, reverse=True)
    by_code = {room["code"]: room for room in live}
    assert all(room["title"] == by_code[room["code"]]["title"] for room in everything)
    assert all(room["created_at"] == by_code[room["code"]]["created_at"] for room in everything)

    # limit: default 50, 1..100.
    assert public_rooms(server.url) == everything[:50]
    assert public_rooms(server.url, limit=1) == everything[:1]
    assert public_rooms(server.url, limit=2) == everything[:2]
    assert public_rooms(server.url, limit=51) == everything
    for bad in ("0", "101", "abc", "-1", "1.5", "", "NaN", "1e2", "9" * 40):
        response = ApiUser(server.url).get("/api/rooms/public/", params={"limit": bad})
        fields = error_of(response, 400, "validation_error").get("fields", {})
        assert "limit" in fields, (bad, fields)

    # A logged-in client sees the same list.
    assert host.get("/api/rooms/public/").json()["rooms"] == everything[:50]
    # Privacy is live: a room made private leaves the list.
    response = host.patch(f"/api/rooms/{liked['code']}/", json={"is_private": True})
    assert response.status_code == 200, response.text
    assert liked["code"] not in [room["code"] for room in public_rooms(server.url, limit=100)]


def test_public_list_on_the_shared_server_needs_no_login(make_user, live_server, open_socket):
    host = make_user()
    room = created(host, title="shared public")
    go_live(live_server.url, host, room["code"], open_socket)
    listed = {r["code"]: r for r in public_rooms(live_server.url, limit=100)}
    assert room["code"] in listed
    assert listed[room["code"]]["viewer_count"] == 1
    assert listed[room["code"]]["title"] == "shared public"


def room_rows(database_url: str, code: str) -> tuple:
    """The room's row and its playback row, read straight from the database."""
    room_id = "(SELECT id FROM rooms WHERE code = :code)"
    return (
        stored_row(database_url, "SELECT * FROM rooms WHERE code = :code", code=code),
        stored_row(database_url, f"SELECT * FROM playback WHERE room_id = {room_id}", code=code),
        stored_row(database_url, f"SELECT COUNT(*) FROM participants WHERE room_id = {room_id}", code=code),
    )


def test_public_list_with_redis_down_answers_from_the_database(own_redis, fleet, database_url, open_socket):
    server = fleet.start(own_redis.url)
    host = ApiUser(server.url).register(display_name="Offline Host")
    room = created(host, title="survives redis")
    code = room["code"]
    hidden = created(host, title="hidden", is_private=True)
    go_live(server.url, host, code, open_socket)
    go_live(server.url, host, hidden["code"], open_socket)
    listed = public_rooms(server.url)
    assert [r["code"] for r in listed] == [code] and listed[0]["viewer_count"] == 1
    live_room = fetched(host, code)
    before = room_rows(database_url, code)
    assert before[0] is not None and "LIVE" in before[0]

    own_redis.stop()  # SIGKILL: Redis is gone

    for _ in range(3):
        started = time.monotonic()
        response = ApiUser(server.url).get("/api/rooms/public/", timeout=10)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert elapsed < 2.0, f"took {elapsed:.2f}s"
        rooms = response.json()["rooms"]
        assert len(rooms) == 1
        assert set(rooms[0]) == PUBLIC_ROOM_KEYS
        assert rooms[0]["code"] == code and rooms[0]["viewer_count"] == 0
        assert rooms[0]["title"] == "survives redis"
        assert rooms[0]["created_at"] == room["created_at"]

    # Reading the room still works from the database (viewer_count 0), quickly.
    started = time.monotonic()
    response = host.get(f"/api/rooms/{code}/", timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    offline = response.json()["room"]
    assert offline["state"] == "LIVE" and offline["viewer_count"] == 0
    assert offline["playback"] == live_room["playback"]
    # Losing Redis wrote nothing and deleted nothing (R25, R46).
    assert room_rows(database_url, code) == before


# messages (R26) -----------------------------------------------------------------------


def test_messages_for_participants_only(make_user):
    host = make_user()
    room = created(host)
    code = room["code"]
    response = host.get(f"/api/rooms/{code}/messages/")
    assert response.status_code == 200, response.text
    assert response.json() == {"messages": []}
    viewer = make_user()
    error_of(viewer.get(f"/api/rooms/{code}/messages/"), 403, "forbidden")
    joined(viewer, code)
    response = viewer.get(f"/api/rooms/{code}/messages/", params={"limit": 5})
    assert response.status_code == 200, response.text
    assert response.json() == {"messages": []}
    error_of(host.get("/api/rooms/ABCDEFGH/messages/"), 404, "not_found")
    anonymous = make_user(register=False)
    error_of(anonymous.get(f"/api/rooms/{code}/messages/"), 401, "unauthorized")
    for bad in ("0", "-1", "abc", "1.5", "NaN"):
        fields = validation_fields(host.get(f"/api/rooms/{code}/messages/", params={"limit": bad}))
        assert "limit" in fields
    # 1 to CHAT_HISTORY_LIMIT (500).
    for big in ("501", "9" * 40):
        fields = validation_fields(host.get(f"/api/rooms/{code}/messages/", params={"limit": big}))
        assert "limit" in fields
    response = host.get(f"/api/rooms/{code}/messages/", params={"limit": 500})
    assert response.status_code == 200, response.text


def test_reading_never_changes_state(make_user):
    host = make_user()
    room = created(host)
    viewer = make_user()
    for _ in range(3):
        fetched(host, room["code"])
        joined(viewer, room["code"])
        host.get(f"/api/rooms/{room['code']}/messages/")
    assert fetched(host, room["code"]) == room
