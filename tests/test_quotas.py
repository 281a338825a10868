"""Quotas, bounded queries, keys with TTLs, room titles, and grace after a Redis restart (R176-R179)."""

import pytest
import redis
from sqlalchemy import event

from tests.support import connected, connected_room, durable_rows, hosted_room, stored_column, wait_until
from watchparty.extensions import db
from watchparty.realtime import keys


@pytest.mark.parametrize("title", ["Movie\u202enight", "tab\ttitle", "zero\u200bwidth"])
def test_room_titles_refuse_control_and_format_characters(make_user, title):
    response = make_user().post("/api/rooms/", json={"title": title})
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


def test_a_deeply_nested_media_string_is_a_400_not_a_500(make_user):
    nested = "[" * 100_000 + "]" * 100_000
    response = make_user().post("/api/rooms/", json={"media": nested})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_user_hosts_at_most_max_open_rooms(fleet, redis_url):
    server = fleet.start(redis_url, MAX_OPEN_ROOMS_PER_USER=2)
    host, first = hosted_room(server.url)
    assert host.post("/api/rooms/", json={}).status_code == 201
    refused = host.post("/api/rooms/", json={})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "room_limit"
    assert host.delete(f"/api/rooms/{first}/").status_code == 204
    assert host.post("/api/rooms/", json={}).status_code == 201


def test_the_public_list_query_is_bounded_in_sql(app, client):
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert client.get("/api/rooms/public/").status_code == 200
    room_queries = [sql for sql in statements if "FROM rooms" in sql]
    assert room_queries and all("LIMIT" in sql for sql in room_queries)


def test_the_cached_playback_key_has_a_ttl(fleet, redis_url, open_socket):
    server = fleet.start(redis_url)
    code, _host, _viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)
    host_sock.emit("SEEK", {"time": 12})
    viewer_sock.wait_for("PLAYBACK_STATE", lambda state: state["version"] == 1)
    client = redis.Redis.from_url(redis_url)
    wait_until(lambda: client.exists(keys.room_playback(code)), message="playback cached")
    assert client.ttl(keys.room_playback(code)) > 0


def test_grace_survives_redis_restarting_empty(fleet, own_redis, database_url, open_socket):
    server = fleet.start(own_redis.url, GRACE_PERIOD_SECONDS=600, PRESENCE_HEARTBEAT_SECONDS=1)
    code, host, viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)
    host_sock.disconnect()
    viewer_sock.wait_for("HOST_DISCONNECTED")
    rows = durable_rows(database_url)
    own_redis.restart_empty()
    present = lambda: viewer.get(f"/api/rooms/{code}/").json()["room"]["viewer_count"] == 1  # noqa: E731
    wait_until(present, message="the viewer's presence re-registered by the next heartbeat (R35)")
    again = connected(open_socket, server.url, viewer, code)  # not refused room_closed
    assert stored_column(database_url, code, "state") == "GRACE"
    ttl = own_redis.client().ttl(keys.room_grace(code))
    assert 0 < ttl <= 600
    assert durable_rows(database_url) == rows  # Redis lost, no row lost (R46)
    host_sock = connected(open_socket, server.url, host, code)
    again.wait_for("HOST_RECONNECTED")
    assert stored_column(database_url, code, "state") == "LIVE"
    held = max(state["version"] for state in viewer_sock.received("PLAYBACK_STATE"))
    host_sock.emit("SEEK", {"time": 7})  # the socket that lived through the restart applies the next (R39)
    assert viewer_sock.wait_for("PLAYBACK_STATE", lambda state: state["time"] == 7)["version"] > held
