"""The /room namespace across two real server processes sharing one Redis (R30-R43, R60-R64)."""

import threading
import time

import pytest
import redis
import socketio

from tests.support import (
    ApiUser,
    RoomSocket,
    assert_nothing_arrives,
    assert_stays,
    connected,
    connected_room,
    create_room,
    durable_rows,
    hosted_room,
    joined_user,
    wait_out,
    wait_until,
)
from watchparty.realtime import keys
from watchparty.realtime.queue import QUEUE_CHANNEL

pytestmark = pytest.mark.all_databases

VIDKING_MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}


@pytest.fixture
def two_servers(fleet, redis_url):
    """Two `python wsgi.py` processes with the default settings, one Redis, one database."""
    return fleet.pair(redis_url)


def room_state(user: ApiUser, code: str) -> dict:
    return user.get(f"/api/rooms/{code}/").json()["room"]


def refusal(base_url: str, token, room, via_query: bool = False) -> dict:
    socket = RoomSocket(base_url, token, room, via_query=via_query)
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket.connect()
    return wait_until(lambda: socket.connect_error, message="connect_error payload")


# connecting (R30-R32) ------------------------------------------------------------


def test_every_refusal_code_in_order(two_servers, open_socket):
    a, b = two_servers
    host, code = hosted_room(a.url)
    stranger = ApiUser(b.url).register()
    for token in (None, "", "not-a-jwt", 42, {"nested": ["junk"]}, stranger.token() + "x"):
        payload = refusal(b.url, token, code)
        assert payload == {"message": payload["message"], "code": "unauthorized", "data": payload["data"]}
        assert payload["data"] == {"code": "unauthorized", "message": payload["message"]}
        assert isinstance(payload["message"], str) and payload["message"]
    assert refusal(b.url, stranger.token(), "ZZZZZZZZ")["code"] == "room_not_found"
    assert refusal(b.url, stranger.token(), None)["code"] == "room_not_found"
    assert refusal(b.url, stranger.token(), code)["code"] == "not_a_participant"
    assert refusal(b.url, stranger.token(), code, via_query=True)["code"] == "not_a_participant"
    assert refusal(b.url, None, "ZZZZZZZZ")["code"] == "unauthorized"  # token is checked first
    host.delete(f"/api/rooms/{code}/")
    assert refusal(a.url, host.token(), code)["code"] == "room_closed"
    assert refusal(a.url, stranger.token(), code)["code"] == "room_closed"  # closed before participant


def test_expired_token_is_unauthorized(fleet, redis_url):
    server = fleet.start(redis_url, JWT_ACCESS_TOKEN_EXPIRES=1)
    host, code = hosted_room(server.url)
    token = host.token()
    wait_out(2.1)  # the token's 1 s lifetime, counted in whole seconds
    assert refusal(server.url, token, code)["code"] == "unauthorized"


def test_bootstrap_exactly_once_and_user_joined_for_first_socket_only(two_servers, open_socket):
    a, b = two_servers
    host, code = hosted_room(a.url)
    viewer = joined_user(b.url, code)
    host_socket = open_socket(a.url, host.token(), code.lower())
    host_socket.wait_for("SKIP_VOTES")
    viewer_tab1 = open_socket(b.url, viewer.token(), code, via_query=True)
    joined = host_socket.wait_for("USER_JOINED")
    assert joined == {
        "user": {"id": viewer.user["id"], "display_name": viewer.user["display_name"], "role": "viewer"},
        "viewer_count": 2,
    }
    presence = viewer_tab1.wait_for("PRESENCE")
    assert presence["viewer_count"] == 2 and presence["host_connected"] is True
    assert {(u["id"], u["is_host"]) for u in presence["users"]} == {
        (host.user["id"], True),
        (viewer.user["id"], False),
    }
    viewer_tab2 = open_socket(a.url, viewer.token(), code)
    viewer_tab2.wait_for("SKIP_VOTES")  # the last of the bootstrap (R32, R100a)
    assert_nothing_arrives(host_socket, viewer_tab1, viewer_tab2)
    for socket in (host_socket, viewer_tab1, viewer_tab2):
        for name in ("PLAYBACK_STATE", "PRESENCE", "CHAT_HISTORY", "QUEUE_UPDATED", "SKIP_VOTES"):
            assert len(socket.received(name)) == 1, (name, socket.names())
    assert len(host_socket.received("USER_JOINED")) == 1  # the second tab did not announce itself
    assert viewer_tab1.received("USER_JOINED") == []  # never to the connecting socket
    assert viewer_tab2.received("PRESENCE")[0]["viewer_count"] == 2
    state = viewer_tab1.received("PLAYBACK_STATE")[0]
    assert set(state) == {"is_playing", "time", "version", "server_time", "effective_at", "rate"}


def test_user_left_only_for_the_last_socket(two_servers, open_socket):
    a, b = two_servers
    code, host, viewer, host_socket, tab1 = connected_room(open_socket, a, a)
    tab2 = connected(open_socket, b.url, viewer, code)
    tab1.disconnect()
    assert_nothing_arrives(host_socket, tab2)
    assert host_socket.received("USER_LEFT") == []
    assert room_state(host, code)["viewer_count"] == 2
    tab2.disconnect()
    left = host_socket.wait_for("USER_LEFT")
    assert left == {
        "user": {"id": viewer.user["id"], "display_name": viewer.user["display_name"], "role": "viewer"},
        "viewer_count": 1,
    }
    assert room_state(host, code)["viewer_count"] == 1


def test_host_connect_makes_room_live(two_servers, open_socket):
    a, _ = two_servers
    host, code = hosted_room(a.url)
    assert room_state(host, code)["state"] == "CREATED"
    open_socket(a.url, host.token(), code).wait_for("PRESENCE")
    assert room_state(host, code)["state"] == "LIVE"


# playback (R38-R39) ----------------------------------------------------------------


def test_playback_from_host_on_one_process_reaches_viewer_on_the_other(two_servers, open_socket):
    a, b = two_servers
    _code, _host, _viewer, host_socket, viewer_socket = connected_room(open_socket, a, b, media=VIDKING_MOVIE)
    host_socket.emit("PLAY", {"time": 10})
    state = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)
    assert state["is_playing"] is True and state["time"] == pytest.approx(10, abs=0.2)
    host_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)  # the host hears it too
    host_socket.emit("PAUSE")
    paused = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 2)
    assert paused["is_playing"] is False and paused["time"] >= 10
    host_socket.emit("SEEK", {"time": 120.5})
    sought = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 3)
    assert sought == {**sought, "is_playing": False, "time": 120.5}
    host_socket.emit("PAUSE")  # a command that changes nothing is still a new version
    viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 4)
    host_socket.emit("PLAY")
    playing = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 5)
    assert playing["is_playing"] is True and playing["time"] == pytest.approx(120.5, abs=0.2)
    names = set(viewer_socket.names()) | set(host_socket.names())
    assert not names & {"PLAY", "PAUSE", "SEEK"}


def test_position_advances_with_wall_clock_while_playing(two_servers, open_socket):
    a, b = two_servers
    host, code = hosted_room(a.url)
    viewer = joined_user(b.url, code)
    host_socket = open_socket(a.url, host.token(), code)
    host_socket.emit("PLAY", {"time": 30})
    started = host_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)
    wait_out(1.0)  # the position must advance with the wall clock meanwhile
    late = open_socket(b.url, viewer.token(), code)
    snapshot = late.wait_for("PLAYBACK_STATE")
    assert snapshot["version"] == 1 and snapshot["is_playing"] is True
    # R121/R122: the start takes effect after its lead (0.3 s when nobody reported a round trip).
    expected = 30 + max(0.0, snapshot["server_time"] - started["effective_at"])
    assert snapshot["time"] == pytest.approx(expected, abs=0.05)
    assert 30.5 < snapshot["time"] <= 33
    room = room_state(host, code)["playback"]
    assert room["version"] == 1 and room["time"] >= snapshot["time"]


def test_viewer_commands_are_ignored(two_servers, open_socket):
    a, b = two_servers
    code, host, _viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    for name, payload in (("PLAY", {"time": 5}), ("PAUSE", None), ("SEEK", {"time": 50})):
        viewer_socket.emit(name, payload)
    viewer_socket.emit("PLAYER_EVENT", {"event": "ended", "currentTime": 5, "duration": 5})
    assert_nothing_arrives(host_socket, viewer_socket)
    assert len(host_socket.received("PLAYBACK_STATE")) == 1
    assert viewer_socket.connected
    assert room_state(host, code)["playback"]["version"] == 0


GARBAGE = [
    None,
    5,
    "string",
    [],
    [1, 2],
    {},
    {"time": "10"},
    {"time": True},
    {"time": None},
    {"time": -1},
    {"time": [1]},
    {"time": {"$gt": 1}},
    {"time": float("nan")},
    {"time": float("inf")},
    {"time": -float("inf")},
    {"time": 1e300},
    {"time": "x" * 100_000},
    {"nested": {"deep": [[[[{}]]]]}},
]


def test_garbage_is_ignored_without_disconnect(two_servers, open_socket):
    a, b = two_servers
    code, host, _viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    for name in (
        "SEEK",
        "SYNC_CHECK",
        "PLAYER_EVENT",
        "CHAT",
        "NO_SUCH_EVENT",
        "play",
        "connect",
        "disconnect",
    ):
        for payload in GARBAGE:
            if name == "SEEK" and isinstance(payload, dict) and payload.get("time") == 1e300:
                continue  # finite and >= 0 but absurd: refused by the upper bound, checked below
            host_socket.emit(name, payload)
            viewer_socket.emit(name, payload)
    host_socket.emit("SEEK", {"time": 1e300})
    host_socket.emit("PLAY", "not a dict")
    host_socket.emit("SEEK", {"time": 7})  # a valid command still works afterwards
    state = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] >= 1)
    assert state["version"] == 1 and state["time"] == 7
    host_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)
    assert_nothing_arrives(host_socket, viewer_socket)
    assert host_socket.connected and viewer_socket.connected
    assert viewer_socket.received("ERROR") == [] and host_socket.received("ERROR") == []
    assert host_socket.received("USER_LEFT") == []
    assert room_state(host, code)["viewer_count"] == 2


def test_concurrent_seeks_from_both_processes_get_every_version_once(two_servers, open_socket):
    a, b = two_servers
    host, code = hosted_room(a.url)
    viewer = joined_user(a.url, code)
    tab_a = open_socket(a.url, host.token(), code)
    tab_b = open_socket(b.url, host.token(), code)
    watcher = open_socket(b.url, viewer.token(), code)
    watcher.wait_for("PRESENCE")
    start = room_state(host, code)["playback"]["version"]

    def fire(socket, offset):
        for i in range(40):
            socket.emit("SEEK", {"time": offset + i})

    threads = [
        threading.Thread(target=fire, args=(tab, offset)) for tab, offset in ((tab_a, 0), (tab_b, 1000))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: len(watcher.received("PLAYBACK_STATE")) >= 81, timeout=30, message="80 snapshots")
    assert_nothing_arrives(watcher)
    versions = sorted(s["version"] for s in watcher.received("PLAYBACK_STATE")[1:])
    assert versions == list(range(start + 1, start + 81))
    assert room_state(host, code)["playback"]["version"] == start + 80


# grace (R40-R43) ---------------------------------------------------------------------


def test_grace_then_reconnect(fleet, redis_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=30)
    code, host, viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    host_socket.emit("PLAY", {"time": 100})
    viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)
    host_socket.disconnect()
    notice = viewer_socket.wait_for("HOST_DISCONNECTED")
    assert notice["grace_seconds"] == 30 and notice["grace_expires_at"].endswith("+00:00")
    frozen = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 2)
    assert frozen["is_playing"] is False and frozen["time"] >= 100
    assert viewer_socket.wait_for("USER_LEFT")["user"]["id"] == host.user["id"]
    assert room_state(viewer, code)["state"] == "GRACE"
    assert 0 < redis_ttl(redis_url, code) <= 30  # R42: the grace key's TTL times the grace
    back = open_socket(a.url, host.token(), code)
    viewer_socket.wait_for("HOST_RECONNECTED")
    assert back.wait_for("PLAYBACK_STATE")["time"] == frozen["time"]
    assert back.received("PLAYBACK_STATE")[0]["is_playing"] is False
    assert room_state(viewer, code)["state"] == "LIVE"
    assert redis_ttl(redis_url, code) == -2  # the grace key is gone


def redis_ttl(redis_url: str, code: str) -> int:
    return redis.Redis.from_url(redis_url).ttl(keys.room_grace(code))


def test_lazy_expiry_refuses_and_closes(fleet, redis_url, open_socket):
    a, b = fleet.pair(redis_url, GRACE_PERIOD_SECONDS=1)
    code, host, viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    other = joined_user(a.url, code)
    host_socket.disconnect()
    viewer_socket.wait_for("HOST_DISCONNECTED")
    assert room_state(viewer, code)["state"] == "GRACE"
    wait_until(lambda: redis_ttl(redis_url, code) == -2, message="the grace key to lapse")
    assert room_state(viewer, code)["state"] == "GRACE"  # reading never expires (R21)
    assert refusal(a.url, other.token(), code)["code"] == "room_closed"
    assert viewer_socket.wait_for("ROOM_CLOSED") == {"reason": "expired"}
    wait_until(lambda: not viewer_socket.connected, message="server-side disconnect")
    assert viewer.get(f"/api/rooms/{code}/").status_code == 410
    assert refusal(a.url, host.token(), code)["code"] == "room_closed"  # EXPIRED is terminal


def test_killed_process_is_swept_with_user_left_and_grace(fleet, redis_url, open_socket):
    settings = {"PRESENCE_HEARTBEAT_SECONDS": 1, "PRESENCE_DEAD_AFTER_SECONDS": 3, "GRACE_PERIOD_SECONDS": 60}
    a, b = fleet.pair(redis_url, **settings)
    code, host, viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    killed_at = time.monotonic()
    a.kill()
    limit = 3 + 2 * 1 + 1  # R35's bound plus a second of slack for the test machine
    left = viewer_socket.wait_for("USER_LEFT", timeout=limit + 5)
    assert left["user"]["id"] == host.user["id"] and left["viewer_count"] == 1
    viewer_socket.wait_for("HOST_DISCONNECTED", timeout=5)
    assert time.monotonic() - killed_at <= limit + 1
    assert len(viewer_socket.received("USER_LEFT")) == 1
    assert room_state(viewer, code)["state"] == "GRACE"
    assert host_socket.connected is False  # its process is gone


def test_sweep_happens_once_with_several_survivors(fleet, redis_url, open_socket):
    settings = {"PRESENCE_HEARTBEAT_SECONDS": 1, "PRESENCE_DEAD_AFTER_SECONDS": 2}
    doomed, *survivors = fleet.start_many(3, redis_url, **settings)
    host = ApiUser(survivors[0].url).register()
    code = create_room(host)
    viewer = joined_user(doomed.url, code)
    host_socket = open_socket(survivors[0].url, host.token(), code)
    watcher = open_socket(survivors[1].url, host.token(), code)
    open_socket(doomed.url, viewer.token(), code).wait_for("PRESENCE")
    host_socket.wait_for("USER_JOINED")
    doomed.kill()
    watcher.wait_for("USER_LEFT", timeout=10)
    host_socket.wait_for("USER_LEFT")
    # Long enough for a second sweep by the other survivor (dead after 2 s, heartbeat 1 s).
    assert_nothing_arrives(watcher, host_socket, seconds=3, names={"USER_LEFT"})
    assert len(watcher.received("USER_LEFT")) == 1
    assert len(host_socket.received("USER_LEFT")) == 1
    assert room_state(host, code)["viewer_count"] == 1


# drift and player events (R60-R64) -------------------------------------------------


def test_sync_check_with_and_without_drift(two_servers, open_socket):
    a, b = two_servers
    code, host, _viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    host_socket.emit("SEEK", {"time": 50})
    viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)
    assert viewer_socket.call("SYNC_CHECK", {"time": 50.4}) == {
        "drift": pytest.approx(0.4, abs=0.01),
        "corrected": False,
    }
    viewer_socket.emit("SYNC_CHECK", {"time": 50.2})
    ack = viewer_socket.call("SYNC_CHECK", {"time": 45})
    assert ack["corrected"] is True and ack["drift"] == pytest.approx(-5, abs=0.01)
    correction = viewer_socket.wait_for("SYNC_CORRECTION")
    assert correction["time"] == 50 and correction["version"] == 1 and correction["is_playing"] is False
    assert correction["drift"] == pytest.approx(-5, abs=0.01) and "server_time" in correction
    # SYNC_HEALTH may still reach the host (R131, throttled): a check never changes playback.
    assert_nothing_arrives(viewer_socket, host_socket, names=("SYNC_CORRECTION", "PLAYBACK_STATE"))
    assert len(viewer_socket.received("SYNC_CORRECTION")) == 1
    assert host_socket.received("SYNC_CORRECTION") == []  # that client alone
    assert room_state(host, code)["playback"]["version"] == 1  # never changes playback (R61)


def test_player_events_and_host_commands_write_host_progress(two_servers, open_socket):
    a, b = two_servers
    code, host, viewer, host_socket, viewer_socket = connected_room(open_socket, a, b, media=VIDKING_MOVIE)

    def progress(user):
        return user.get(f"/api/rooms/{code}/progress/").json()["progress"]

    host_socket.emit("SEEK", {"time": 30})
    wait_until(lambda: progress(host) and progress(host)["position_seconds"] == 30, message="R63 progress")
    assert progress(host)["progress_percent"] == 0
    host_socket.emit("PLAYER_EVENT", {"event": "timeupdate", "currentTime": 60, "duration": 240})
    wait_until(lambda: progress(host)["position_seconds"] == 60, message="timeupdate progress")
    assert progress(host)["progress_percent"] == 25 and progress(host)["completed"] is False
    host_socket.emit("PAUSE", {"time": 120})
    wait_until(lambda: progress(host)["position_seconds"] == 120, message="pause progress")
    assert progress(host)["progress_percent"] == 50  # duration from the last PLAYER_EVENT
    host_socket.emit("PLAYER_EVENT", {"event": "ended", "currentTime": 239, "duration": 240})
    wait_until(lambda: progress(host)["completed"], message="ended progress")
    assert progress(host)["progress_percent"] == 100
    viewer_socket.emit("PLAYER_EVENT", {"event": "ended", "currentTime": 10, "duration": 240})
    assert_stays(lambda: progress(viewer) is None, message="a viewer's PLAYER_EVENT wrote progress")
    assert room_state(host, code)["playback"]["version"] == 2  # player events never move playback (R64)


# R36: spoofed reserved events ----------------------------------------------------------


def test_spoofed_connect_and_disconnect_change_nothing(two_servers, open_socket):
    a, b = two_servers
    code, host, viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    viewer_socket.emit("disconnect")
    viewer_socket.emit("connect", {"token": viewer.token(), "room": code})
    host_socket.emit("disconnect")
    assert_nothing_arrives(host_socket, viewer_socket)
    assert host_socket.received("USER_LEFT") == [] and viewer_socket.received("USER_LEFT") == []
    assert (
        host_socket.received("HOST_DISCONNECTED") == [] and viewer_socket.received("HOST_DISCONNECTED") == []
    )
    assert len(host_socket.received("USER_JOINED")) == 1
    assert len(viewer_socket.received("PRESENCE")) == 1
    assert viewer_socket.connected and host_socket.connected
    assert room_state(host, code)["viewer_count"] == 2 and room_state(host, code)["state"] == "LIVE"


# R35: Redis restarted empty --------------------------------------------------------------


def test_redis_restart_mid_room(fleet, own_redis, database_url, open_socket):
    settings = {"PRESENCE_HEARTBEAT_SECONDS": 1, "PRESENCE_DEAD_AFTER_SECONDS": 3}
    a, b, doomed = fleet.start_many(3, own_redis.url, **settings)
    code, host, _viewer, host_socket, viewer_socket = connected_room(open_socket, a, b)
    host_socket.emit("SEEK", {"time": 5})
    held = viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["time"] == 5)["version"]
    host_socket.emit("CHAT", {"message": "before the restart"})
    viewer_socket.wait_for("CHAT")
    rows = durable_rows(database_url)

    own_redis.restart_empty()
    client = own_redis.client()
    wait_until(lambda: client.zcard("proc:heartbeats") == 3, timeout=5, message="heartbeats re-registered")
    wait_until(
        lambda: room_state(host, code)["viewer_count"] == 2, timeout=5, message="presence re-registered"
    )
    # Heartbeats can be back before every listener has subscribed again, and a
    # publish that nobody hears is gone: wait for all three, as R35 promises.
    wait_until(lambda: client.pubsub_numsub(QUEUE_CHANNEL)[0][1] == 3, timeout=5, message="listeners back")

    assert durable_rows(database_url) == rows  # Redis lost, no row lost (R46)
    host_socket.emit("SEEK", {"time": 12})  # the queue carries events across processes again
    # Versions go on from the database, so a client holding the old one applies the next (R39).
    assert (
        viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["time"] == 12, timeout=5)["version"] == held + 1
    )

    new_host = ApiUser(b.url).register()
    new_code = create_room(new_host)
    guest = joined_user(doomed.url, new_code)
    new_host_socket = open_socket(b.url, new_host.token(), new_code)
    open_socket(doomed.url, guest.token(), new_code).wait_for("PRESENCE")
    new_host_socket.wait_for("USER_JOINED")
    doomed.kill()
    new_host_socket.wait_for("USER_LEFT", timeout=3 + 2 + 5)
    assert host_socket.connected and viewer_socket.connected


# single process, no Redis (R3) ------------------------------------------------------------


def test_core_flow_without_redis(fleet, open_socket):
    server = fleet.start(None, GRACE_PERIOD_SECONDS=1)
    code, _host, viewer, host_socket, viewer_socket = connected_room(open_socket, server, server)
    assert host_socket.wait_for("USER_JOINED")["viewer_count"] == 2
    second_tab = open_socket(server.url, viewer.token(), code)
    second_tab.wait_for("PRESENCE")
    host_socket.emit("PLAY", {"time": 3})
    assert viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)["is_playing"] is True
    assert viewer_socket.call("SYNC_CHECK", {"time": 100})["corrected"] is True
    second_tab.disconnect()
    viewer_socket.disconnect()
    assert host_socket.wait_for("USER_LEFT")["viewer_count"] == 1
    assert len(host_socket.received("USER_LEFT")) == 1
    watcher = open_socket(server.url, viewer.token(), code)
    host_socket.disconnect()
    watcher.wait_for("HOST_DISCONNECTED")
    assert room_state(viewer, code)["state"] == "GRACE"
    wait_out(1.5)  # the 1 s grace runs out (no Redis key to watch in one process)
    assert refusal(server.url, viewer.token(), code)["code"] == "room_closed"
    assert watcher.wait_for("ROOM_CLOSED") == {"reason": "expired"}
    wait_until(lambda: not watcher.connected, message="server-side disconnect")


def test_clean_shutdown_releases_sockets_at_once(fleet, redis_url, open_socket):
    a, b = fleet.pair(redis_url, PRESENCE_DEAD_AFTER_SECONDS=60)
    host, code = hosted_room(b.url)
    viewer = joined_user(b.url, code)
    host_socket = open_socket(b.url, host.token(), code)
    open_socket(a.url, viewer.token(), code).wait_for("PRESENCE")
    host_socket.wait_for("USER_JOINED")
    a.stop()  # SIGTERM
    assert host_socket.wait_for("USER_LEFT", timeout=5)["user"]["id"] == viewer.user["id"]
    assert "Traceback" not in a.log_tail(200)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.zcard("proc:heartbeats") == 1
