"""Room settings (R107), the new Room fields (R100a) and media_version (R150a), over HTTP."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import ApiUser, create_room

# R107's defaults, as the SPEC lists them.
NAMES = ("viewer_pause_limit", "queue_mode", "auto_advance", "skip_vote_ratio", "start_when_ready")
DEFAULTS = {**dict(zip(NAMES, (0, "host", True, 0.5, False), strict=True)), "pause_on_buffering": False}
MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}


def room_of(user, code: str) -> dict:
    response = user.get(f"/api/rooms/{code}/")
    assert response.status_code == 200, response.text
    return response.json()["room"]


def test_a_new_room_has_the_default_settings_no_cohosts_and_media_version_0(make_user):
    host = make_user()
    room = room_of(host, create_room(host))
    assert room["settings"] == DEFAULTS
    assert room["cohosts"] == [] and room["media_version"] == 0 and room["role"] == "host"


def test_settings_given_at_creation_are_kept_and_the_rest_default(make_user):
    host = make_user()
    response = host.post("/api/rooms/", json={"settings": {"viewer_pause_limit": 3, "skip_vote_ratio": None}})
    assert response.status_code == 201, response.text
    assert response.json()["room"]["settings"] == {
        **DEFAULTS,
        "viewer_pause_limit": 3,
        "skip_vote_ratio": None,
    }


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"viewer_pause_limit": "3"}, "settings.viewer_pause_limit"),
        ({"viewer_pause_limit": True}, "settings.viewer_pause_limit"),
        ({"viewer_pause_limit": 101}, "settings.viewer_pause_limit"),
        ({"viewer_pause_limit": 1.5}, "settings.viewer_pause_limit"),
        ({"queue_mode": "everyone"}, "settings.queue_mode"),
        ({"auto_advance": 1}, "settings.auto_advance"),
        ({"auto_advance": None}, "settings.auto_advance"),
        ({"skip_vote_ratio": 0}, "settings.skip_vote_ratio"),
        ({"skip_vote_ratio": 1.01}, "settings.skip_vote_ratio"),
        ({"skip_vote_ratio": "0.5"}, "settings.skip_vote_ratio"),
        ({"start_when_ready": "yes"}, "settings.start_when_ready"),
        ({"colour": "red"}, "settings.colour"),
        ("strict", "settings"),
    ],
)
def test_bad_settings_are_400_with_the_field_on_create_and_patch(make_user, settings, field):
    host = make_user()
    code = create_room(host)
    for response in (
        host.post("/api/rooms/", json={"settings": settings}),
        host.patch(f"/api/rooms/{code}/", json={"settings": settings}),
    ):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error" and field in error["fields"], error
    assert room_of(host, code)["settings"] == DEFAULTS


def test_patch_merges_settings_and_counts_media_changes(make_user):
    host = make_user()
    code = create_room(host)
    patched = host.patch(f"/api/rooms/{code}/", json={"settings": {"queue_mode": "open"}})
    assert patched.status_code == 200, patched.text
    patched = host.patch(f"/api/rooms/{code}/", json={"settings": {"auto_advance": False}, "media": MOVIE})
    room = patched.json()["room"]
    assert room["settings"] == {**DEFAULTS, "queue_mode": "open", "auto_advance": False}
    assert room["media_version"] == 1
    host.patch(f"/api/rooms/{code}/", json={"media": None})
    host.patch(f"/api/rooms/{code}/", json={"title": "same media"})
    assert room_of(host, code)["media_version"] == 2


def test_a_viewer_may_not_patch_settings(make_user):
    host, viewer = make_user(), make_user()
    code = create_room(host)
    assert viewer.post(f"/api/rooms/{code}/join/").status_code == 200
    response = viewer.patch(f"/api/rooms/{code}/", json={"settings": {"queue_mode": "open"}})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert room_of(viewer, code)["role"] == "viewer"


@pytest.mark.all_databases
def test_concurrent_patches_of_different_settings_through_two_processes_keep_both(fleet, redis_url):
    first, second = fleet.pair(redis_url)
    host = ApiUser(first.url).register()
    again = ApiUser(second.url)
    login = again.post("/api/auth/login/", json={"email": host.user["email"], "password": host.password})
    assert login.status_code == 200, login.text
    code = create_room(host)
    for limit in range(1, 16):
        start = threading.Barrier(2)
        patches = [
            (host, {"viewer_pause_limit": limit}),
            (again, {"auto_advance": limit % 2 == 0}),
        ]

        def send(user, settings, start=start):
            start.wait()
            return user.patch(f"/api/rooms/{code}/", json={"settings": settings})

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(lambda args: send(*args), patches))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        settings = room_of(host, code)["settings"]
        assert (settings["viewer_pause_limit"], settings["auto_advance"]) == (limit, limit % 2 == 0)
