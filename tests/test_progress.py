"""Watch progress over real HTTP, and the service rules the socket handlers share (SPEC R80-R82, R62-R63).

The body refuses a negative position or duration (400); a position above the
duration is clamped to it.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from watchparty.auth.services import register_user
from watchparty.domain_errors import DomainError
from watchparty.errors import status_for
from watchparty.progress import services
from watchparty.rooms.services import create_room

VIDKING = {"provider": "vidking", "type": "movie", "id": "550"}
VIDKING_TV = {"provider": "vidking", "type": "tv", "id": "1399", "season": 2, "episode": 3}
DIRECT = {"provider": "direct", "type": "movie", "url": "https://example.com/a.mp4"}
PROGRESS_FIELDS = {
    "content_id",
    "position_seconds",
    "duration_seconds",
    "progress_percent",
    "completed",
    "updated_at",
}


def new_room(user, media: dict | None = VIDKING) -> str:
    """Create a room hosted by user and return its code."""
    response = user.post("/api/rooms/", json={"media": media} if media else {})
    assert response.status_code == 201, response.text
    return response.json()["room"]["code"]


def put_progress(user, code: str, position, duration, **extra):
    body = {"position_seconds": position, "duration_seconds": duration, **extra}
    return user.put(f"/api/rooms/{code}/progress/", json=body)


def saved(user, code: str, position, duration, **extra) -> dict:
    """PUT progress, expect 200, return the Progress."""
    response = put_progress(user, code, position, duration, **extra)
    assert response.status_code == 200, response.text
    return response.json()["progress"]


def own(user, code: str):
    response = user.get(f"/api/rooms/{code}/progress/")
    assert response.status_code == 200, response.text
    return response.json()["progress"]


def resume(user, code: str) -> dict:
    response = user.get(f"/api/rooms/{code}/resume/")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def host(make_user):
    return make_user()


@pytest.fixture
def code(host) -> str:
    return new_room(host)


# HTTP: recording -------------------------------------------------------------


@pytest.mark.parametrize(
    ("media", "content_id"),
    [(VIDKING, "550"), (VIDKING_TV, "1399:s2e3"), (DIRECT, "https://example.com/a.mp4")],
)
def test_put_records_progress_for_the_rooms_content(host, media, content_id):
    code = new_room(host, media)
    progress = saved(host, code, 30, 120)
    assert set(progress) == PROGRESS_FIELDS
    assert progress["content_id"] == content_id
    assert progress["position_seconds"] == 30.0 and progress["duration_seconds"] == 120.0
    assert progress["progress_percent"] == 25.0 and progress["completed"] is False
    assert own(host, code) == progress


def test_the_same_put_twice_changes_nothing(host, code):
    first = saved(host, code, 42.5, 600)
    second = saved(host, code, 42.5, 600)
    assert second == first
    assert own(host, code) == first


def test_a_changed_put_updates_the_one_record(host, code):
    first = saved(host, code, 10, 600)
    second = saved(host, code, 20, 600)
    assert second["position_seconds"] == 20.0
    assert second["updated_at"] >= first["updated_at"]
    assert own(host, code) == second


def test_position_above_the_duration_is_clamped_and_completes(host, code):
    progress = saved(host, code, 5000, 100)
    assert progress["position_seconds"] == 100.0
    assert progress["completed"] is True and progress["progress_percent"] == 100.0


@pytest.mark.parametrize(
    ("position", "completed"), [(99.5, True), (99.0, True), (98.99, False), (0, False), (100, True)]
)
def test_within_one_second_of_the_duration_completes(host, code, position, completed):
    progress = saved(host, code, position, 100)
    assert progress["completed"] is completed
    assert (progress["progress_percent"] == 100.0) is completed


def test_a_later_smaller_position_clears_completed(host, code):
    assert saved(host, code, 100, 100)["completed"] is True
    progress = saved(host, code, 50, 100)
    assert progress["completed"] is False and progress["progress_percent"] == 50.0


@pytest.mark.parametrize(
    ("position", "duration", "percent"),
    [
        (1, 3, 33.33),
        (200, 300, 66.67),
        (0, 3, 0.0),
        (1, 7, 14.29),
        (99_980, 100_000, 99.98),
        (99.99, 10_000, 1.0),
    ],
)
def test_percent_has_two_decimals(host, code, position, duration, percent):
    assert saved(host, code, position, duration)["progress_percent"] == percent


def test_percent_below_completion_never_rounds_to_100(host, code):
    progress = saved(host, code, 999_998, 1_000_000)
    assert progress["completed"] is False and progress["progress_percent"] == 99.99


def test_zero_duration_is_zero_percent_and_not_completed(host, code):
    progress = saved(host, code, 12, 0)
    assert progress["position_seconds"] == 0.0 and progress["duration_seconds"] == 0.0
    assert progress["progress_percent"] == 0.0 and progress["completed"] is False


def test_form_bodies_work_like_json(host, code):
    response = host.put(
        f"/api/rooms/{code}/progress/", data={"position_seconds": "15", "duration_seconds": "60"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["progress"]["progress_percent"] == 25.0


def test_each_content_id_has_its_own_record(host, code):
    saved(host, code, 10, 100)
    other = saved(host, code, 90, 100, content_id="trailer")
    assert other["content_id"] == "trailer" and other["position_seconds"] == 90.0
    assert own(host, code)["content_id"] == "550" and own(host, code)["position_seconds"] == 10.0


def test_own_progress_follows_the_rooms_current_media(host, code):
    saved(host, code, 10, 100)
    response = host.patch(f"/api/rooms/{code}/", json={"media": DIRECT})
    assert response.status_code == 200, response.text
    assert own(host, code) is None
    saved(host, code, 5, 50)
    assert own(host, code)["content_id"] == DIRECT["url"]


# HTTP: reading ---------------------------------------------------------------


def test_get_returns_the_callers_own_record_only(make_user, host, code):
    guest = make_user()
    assert guest.post(f"/api/rooms/{code}/join/").status_code == 200
    mine = saved(host, code, 30, 100)
    assert own(guest, code) is None
    assert resume(guest, code) == {"progress_percent": 0.0, "last_position_seconds": 0.0, "completed": False}
    theirs = saved(guest, code, 70, 100)
    assert own(host, code) == mine and own(guest, code) == theirs


def test_resume_without_a_record(host, code):
    assert own(host, code) is None
    assert resume(host, code) == {"progress_percent": 0.0, "last_position_seconds": 0.0, "completed": False}


def test_resume_partway(host, code):
    saved(host, code, 45.5, 182)
    assert resume(host, code) == {"progress_percent": 25.0, "last_position_seconds": 45.5, "completed": False}


def test_resume_after_completion_starts_over(host, code):
    saved(host, code, 181.5, 182)
    assert resume(host, code) == {"progress_percent": 100.0, "last_position_seconds": 0.0, "completed": True}


def test_reading_changes_nothing(host, code):
    progress = saved(host, code, 20, 100)
    for _ in range(2):
        resume(host, code)
        own(host, code)
    assert own(host, code) == progress


def test_room_without_media_needs_a_content_id(host):
    code = new_room(host, media=None)
    response = put_progress(host, code, 10, 100)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) == {"content_id"}
    assert own(host, code) is None

    saved(host, code, 10, 100, content_id="episode-1")
    latest = saved(host, code, 40, 100, content_id="episode-2")
    assert latest["content_id"] == "episode-2"
    assert own(host, code) == latest
    assert resume(host, code)["last_position_seconds"] == 40.0


# HTTP: who may ---------------------------------------------------------------

ENDPOINTS = [
    ("PUT", "progress/", {"position_seconds": 1, "duration_seconds": 2}),
    ("GET", "progress/", None),
    ("GET", "resume/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_non_participant_is_forbidden(make_user, code, method, path, body):
    response = make_user().request(method, f"/api/rooms/{code}/{path}", json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_room_is_404(host, method, path, body):
    response = host.request(method, f"/api/rooms/ZZZZ2222/{path}", json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_deleted_room_is_410(host, method, path, body):
    code = new_room(host)
    assert host.delete(f"/api/rooms/{code}/").status_code == 204
    response = host.request(method, f"/api/rooms/{code}/{path}", json=body)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "room_closed"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_logged_out_is_401(make_user, code, method, path, body):
    anonymous = make_user(register=False)
    response = anonymous.request(method, f"/api/rooms/{code}/{path}", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# HTTP: hostile bodies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({"position_seconds": "10", "duration_seconds": "100"}, {"position_seconds", "duration_seconds"}),
        ({"position_seconds": True, "duration_seconds": 100}, {"position_seconds"}),
        ({"position_seconds": 10, "duration_seconds": False}, {"duration_seconds"}),
        ({"position_seconds": [10], "duration_seconds": {"a": 1}}, {"position_seconds", "duration_seconds"}),
        ({"position_seconds": None, "duration_seconds": None}, {"position_seconds", "duration_seconds"}),
        ({"position_seconds": -1, "duration_seconds": 100}, {"position_seconds"}),
        ({"position_seconds": 1, "duration_seconds": -0.5}, {"duration_seconds"}),
        ({}, {"position_seconds", "duration_seconds"}),
        ({"position_seconds": 1, "duration_seconds": 2, "content_id": ""}, {"content_id"}),
        ({"position_seconds": 1, "duration_seconds": 2, "content_id": "   "}, {"content_id"}),
        ({"position_seconds": 1, "duration_seconds": 2, "content_id": "x" * 2049}, {"content_id"}),
        ({"position_seconds": 1, "duration_seconds": 2, "content_id": 550}, {"content_id"}),
        ({"position_seconds": 10**400, "duration_seconds": 2}, {"position_seconds"}),
    ],
)
def test_bad_fields_are_400_with_their_names(host, code, body, bad_fields):
    response = host.put(f"/api/rooms/{code}/progress/", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) == bad_fields


@pytest.mark.parametrize(
    "raw",
    [
        '{"position_seconds": NaN, "duration_seconds": 100}',
        '{"position_seconds": 1, "duration_seconds": Infinity}',
        '{"position_seconds": 1e400, "duration_seconds": 100}',
        '[{"position_seconds": 1, "duration_seconds": 100}]',
        '"hello"',
        "{not json",
    ],
)
def test_raw_hostile_json_is_400(host, code, raw):
    headers = {"Content-Type": "application/json"}
    response = host.put(f"/api/rooms/{code}/progress/", data=raw, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {"validation_error", "invalid_json"}


@pytest.mark.parametrize(
    ("position", "duration", "expected_position", "completed"),
    [
        (1e308, 1e308, 1e308, True),
        (1e308, 5, 5.0, True),
        (0, 1e308, 0.0, False),
        (5e-324, 1e308, 5e-324, False),
    ],
)
def test_extreme_numbers_are_handled(host, code, position, duration, expected_position, completed):
    progress = saved(host, code, position, duration)
    assert progress["position_seconds"] == expected_position and progress["completed"] is completed
    assert 0.0 <= progress["progress_percent"] <= 100.0


def test_a_long_content_id_is_accepted(host, code):
    content_id = "https://example.com/" + "a" * 2028
    assert saved(host, code, 1, 2, content_id=content_id)["content_id"] == content_id


# services: what the socket handlers rely on (R62, R63) ---------------------


@pytest.fixture
def seeded(app):
    """A user and a vidking room of theirs, inside an app context."""
    with app.app_context():
        user = register_user("viewer@example.com", "correct horse", "Viewer")
        room = create_room(user, "", False, True, dict(VIDKING))
        yield user, room


def test_a_position_without_a_duration_keeps_the_position_only(seeded):
    user, room = seeded
    user_id = user.id
    record = services.record_progress(user_id, room, 42.0, None)
    payload = services.progress_payload(record)
    assert payload["content_id"] == "550" and payload["position_seconds"] == 42.0
    assert payload["duration_seconds"] is None
    assert payload["progress_percent"] == 0.0 and payload["completed"] is False


def test_a_missing_duration_keeps_the_stored_one(seeded):
    user, room = seeded
    user_id = user.id
    services.record_progress(user_id, room, 10.0, 200.0)
    record = services.record_progress(user_id, room, 50.0, None)
    assert record.duration_seconds == 200.0
    assert services.progress_payload(record)["progress_percent"] == 25.0
    record = services.record_progress(user_id, room, 500.0, None)
    assert record.position_seconds == 200.0 and record.completed is True


def test_ended_completes_at_the_duration(seeded):
    user, room = seeded
    user_id = user.id
    services.record_progress(user_id, room, 10.0, 200.0)
    record = services.record_progress(user_id, room, 150.0, None, ended=True)
    assert record.position_seconds == 200.0 and record.completed is True
    assert services.resume_point(user_id, room) == services.FINISHED
    record = services.record_progress(user_id, room, 20.0, 200.0)
    assert record.completed is False


def test_ended_without_any_duration_still_completes(seeded):
    user, room = seeded
    user_id = user.id
    record = services.record_progress(user_id, room, 30.0, None, ended=True)
    assert record.position_seconds == 30.0 and record.completed is True
    assert services.progress_payload(record)["progress_percent"] == 100.0


def test_repeating_a_record_keeps_updated_at(seeded):
    user, room = seeded
    user_id = user.id
    first = services.record_progress(user_id, room, 10.0, 100.0).updated_at
    again = services.record_progress(user_id, room, 10.0, 100.0)
    assert again.updated_at == first
    assert services.record_progress(user_id, room, 10.0, None).updated_at == first


def test_a_room_without_media_needs_a_content_id(seeded):
    user, _ = seeded
    room = create_room(user, "", False, True, None)
    with pytest.raises(DomainError) as caught:
        services.record_progress(user.id, room, 1.0, 2.0)
    assert status_for(caught.value) == 400
    assert caught.value.fields == {"content_id": "required when the room has no media"}
    assert services.own_progress(user.id, room) is None
    record = services.record_progress(user.id, room, 1.0, 2.0, content_id="clip")
    assert services.own_progress(user.id, room).id == record.id


def test_an_insert_that_loses_a_race_updates_the_winner(seeded, monkeypatch):
    user, room = seeded
    winner = services.record_progress(user.id, room, 10.0, 100.0)
    winner_id = winner.id
    real_find = services.find_record
    calls = []

    def find_nothing_first(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(services, "find_record", find_nothing_first)
    record = services.record_progress(user.id, room, 60.0, None)
    assert len(calls) == 2
    assert record.id == winner_id
    assert record.position_seconds == 60.0 and record.duration_seconds == 100.0


def test_concurrent_first_writes_all_succeed_on_one_record(host, code):
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda n: put_progress(host, code, n, 100, content_id="race"), range(8)))
    assert [response.status_code for response in responses] == [200] * 8
    positions = {response.json()["progress"]["position_seconds"] for response in responses}
    assert positions <= {float(n) for n in range(8)}
    final = saved(host, code, 50, 100, content_id="race")
    assert final["position_seconds"] == 50.0


@pytest.mark.all_databases
def test_the_longest_content_id_is_stored_on_every_database(fleet):
    """2,048 incompressible four-byte characters (8 KiB) fit the unique key on PostgreSQL too (R2)."""
    import random

    from tests.support import ApiUser

    server = fleet.start(None)
    host = ApiUser(server.url).register()
    code = new_room(host, media=None)
    rng = random.Random(0)
    longest = "".join(chr(rng.randrange(0x20000, 0x2A6DF)) for _ in range(2048))
    assert saved(host, code, 10, 100, content_id=longest)["content_id"] == longest
    assert saved(host, code, 20, 100, content_id=longest)["position_seconds"] == 20
    assert saved(host, code, 5, 100, content_id=longest[:-1] + "x")["position_seconds"] == 5
