"""The sync engine against two real server processes and Redis (SPEC R57, R110-R112, R120-R123, R130-R132).

One pair of processes for the module (a ready check times out after 2 s, a
start takes effect 0.5 s after its command); every test makes its own room.
Nothing here asserts how fast something happens: only what arrives, and how often.
"""

import math
import time
from collections.abc import Iterator

import pytest

from tests.support import (
    QUIET_SECONDS,
    ApiUser,
    LiveServer,
    RoomSocket,
    ServerFleet,
    create_room,
    join,
    wait_out,
    wait_until,
)
from watchparty.sync.timeline import position_at

CLIP = {"provider": "direct", "type": "movie", "url": "http://127.0.0.1:9/clip.webm"}
LEAD = 0.5


@pytest.fixture(scope="module")
def servers(tmp_path_factory, redis_server) -> Iterator[list[LiveServer]]:
    """One pair for the module: every test makes its own rooms, so they can share it."""
    workdir = tmp_path_factory.mktemp("sync")
    fleet = ServerFleet(workdir, f"sqlite:///{workdir / 'sync.sqlite3'}")
    try:
        yield fleet.pair(redis_server.url, READY_TIMEOUT_SECONDS=2, PLAYBACK_LEAD_SECONDS=LEAD)
    finally:
        fleet.stop()


@pytest.fixture
def sockets() -> Iterator[list[RoomSocket]]:
    opened: list[RoomSocket] = []
    yield opened
    for socket in opened:
        socket.disconnect()


class Room:
    """A room with a host socket on the first process and viewer sockets on the second."""

    def __init__(self, servers, sockets, **fields):
        self.a, self.b = servers
        self.sockets = sockets
        self.host = ApiUser(self.a.url).register(display_name="Hana")
        self.code = create_room(self.host, **fields)
        self.host_socket = self.connect(self.host, self.a)

    def connect(self, user: ApiUser, server: LiveServer) -> RoomSocket:
        socket = RoomSocket(server.url, user.token(), self.code).connect()
        self.sockets.append(socket)
        socket.wait_for("CHAT_HISTORY")
        return socket

    def viewer(self, name: str = "Bob", server: LiveServer | None = None) -> tuple[ApiUser, RoomSocket]:
        user = ApiUser((server or self.b).url).register(display_name=name)
        join(user, self.code)
        return user, self.connect(user, server or self.b)

    def patch_settings(self, **settings) -> None:
        response = self.host.patch(f"/api/rooms/{self.code}/", json={"settings": settings})
        assert response.status_code == 200, response.text


def states(socket: RoomSocket, **match) -> list[dict]:
    return [s for s in socket.received("PLAYBACK_STATE") if all(s[k] == v for k, v in match.items())]


def newest(socket: RoomSocket, playing: bool, version: int | None = None) -> dict:
    """Wait for a PLAYBACK_STATE with that is_playing, newer than `version`."""
    after = -1 if version is None else version
    return socket.wait_for("PLAYBACK_STATE", lambda s: s["is_playing"] is playing and s["version"] > after)


def settle() -> None:
    """One quiet window: stray events would have arrived by its end."""
    wait_out(QUIET_SECONDS)


# clock sync and scheduled playback -------------------------------------------------------


def test_time_sync_answers_with_the_servers_receive_and_send_times(servers, sockets):
    room = Room(servers, sockets)
    before = time.time()
    answer = room.host_socket.call("TIME_SYNC", {"t0": 12.25})
    assert set(answer) == {"t0", "t1", "t2"} and answer["t0"] == 12.25
    assert before - 5 < answer["t1"] <= answer["t2"] < time.time() + 5  # the same machine's clock
    assert room.host_socket.call("TIME_SYNC", {"t0": "soon"}) is None
    room.host_socket.emit("TIME_SYNC", {"t0": 1.0})  # without an ack: nothing at all
    settle()
    assert room.host_socket.names().count("PLAYBACK_STATE") == 1


def test_a_play_takes_effect_after_the_lead_at_its_rate_for_checks_and_late_joiners(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    _, viewer = room.viewer()
    room.host_socket.emit("PLAY", {"time": 10, "rate": 2})
    state = newest(viewer, True)
    assert state["rate"] == 2 and state["time"] == 10
    assert (
        state["server_time"] < state["effective_at"] <= state["server_time"] + LEAD
    )  # the lead, less the send
    # A late joiner on the other process gets the same timeline.
    _, late = room.viewer("Late", room.a)
    joined = late.wait_for("PLAYBACK_STATE")
    assert joined["version"] == state["version"] and joined["effective_at"] >= joined["server_time"]
    expected = position_at(10, True, state["effective_at"], 2, joined["server_time"])
    assert joined["time"] == pytest.approx(expected, abs=0.002)
    # SYNC_CHECK compares with the same formula: in step, then 5 s off.
    wait_until(lambda: time.time() > state["effective_at"] + 0.2, message="the start")
    now = time.time()
    answer = viewer.call("SYNC_CHECK", {"time": position_at(10, True, state["effective_at"], 2, now)})
    assert abs(answer["drift"]) < 1 and answer["corrected"] is False
    answer = viewer.call("SYNC_CHECK", {"time": position_at(10, True, state["effective_at"], 2, now) + 5})
    assert answer["corrected"] is True
    correction = viewer.wait_for("SYNC_CORRECTION")
    assert correction["rate"] == 2 and correction["version"] == state["version"]
    assert correction["effective_at"] == pytest.approx(correction["server_time"])


def test_pause_rate_and_a_seek_while_paused_take_effect_at_once(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    host = room.host_socket
    host.emit("SEEK", {"time": 30})
    paused = newest(host, False, 0)
    assert paused["effective_at"] == paused["server_time"] and paused["time"] == 30
    host.emit("PLAY", {})
    playing = newest(host, True)
    host.emit("RATE", {"rate": 1.5})
    faster = host.wait_for("PLAYBACK_STATE", lambda s: s["rate"] == 1.5)
    assert faster["is_playing"] and faster["version"] == playing["version"] + 1
    assert faster["effective_at"] >= faster["server_time"]
    host.emit("PLAY", {})  # while playing, no time and no rate: a new version, nothing moves
    again = host.wait_for("PLAYBACK_STATE", lambda s: s["version"] == faster["version"] + 1)
    assert again["effective_at"] == pytest.approx(
        max(faster["effective_at"], again["server_time"]), abs=0.002
    )
    assert again["time"] == pytest.approx(position_at(faster["time"], True, faster["effective_at"], 1.5,
                                                      again["server_time"]), abs=0.002)  # fmt: skip


def test_a_seek_while_playing_takes_effect_after_the_lead(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    host = room.host_socket
    host.emit("PLAY", {"time": 5})
    playing = newest(host, True)
    host.emit("SEEK", {"time": 40})
    seeked = host.wait_for("PLAYBACK_STATE", lambda s: s["version"] == playing["version"] + 1)
    assert seeked["is_playing"] is True and seeked["time"] == 40
    assert seeked["server_time"] < seeked["effective_at"] <= seeked["server_time"] + LEAD  # R122


BAD_RATES = [{"rate": 5}, {"rate": 0.2}, {"rate": "2"}, {"rate": True}, {"rate": math.nan}, {}, None, [2]]


@pytest.mark.parametrize("payload", BAD_RATES)
def test_bad_rates_are_ignored(servers, sockets, payload):
    room = Room(servers, sockets, media=CLIP)
    room.host_socket.emit("RATE", payload)
    room.host_socket.emit("PLAY", {"rate": 9})
    settle()
    assert len(room.host_socket.received("PLAYBACK_STATE")) == 1


def test_rate_is_for_host_and_direct_media_only(servers, sockets):
    vidking = Room(servers, sockets, media={"provider": "vidking", "type": "movie", "id": "550"})
    vidking.host_socket.emit("RATE", {"rate": 2})
    room = Room(servers, sockets, media=CLIP)
    _, viewer = room.viewer()
    viewer.emit("RATE", {"rate": 2})
    settle()
    assert len(vidking.host_socket.received("PLAYBACK_STATE")) == 1
    assert len(room.host_socket.received("PLAYBACK_STATE")) == 1
    room.host_socket.emit("RATE", {"rate": 0.25})
    assert viewer.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)["rate"] == 0.25


def test_a_stale_sync_check_is_not_drift(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    _, viewer = room.viewer()
    room.host_socket.emit("SEEK", {"time": 100})
    newest(viewer, False, 0)
    answer = viewer.call("SYNC_CHECK", {"time": 1, "version": 0})
    assert answer["corrected"] is False and answer["drift"] == pytest.approx(-99)
    answer = viewer.call("SYNC_CHECK", {"time": 1, "version": 1})
    assert answer["corrected"] is True
    settle()
    assert len(viewer.received("SYNC_CORRECTION")) == 1


# readiness ----------------------------------------------------------------------------------


def ready_room(servers, sockets, **settings):
    room = Room(servers, sockets, media=CLIP)
    room.patch_settings(**settings)
    return room


def test_a_ready_check_waits_for_a_viewer_then_plays_once(servers, sockets):
    room = ready_room(servers, sockets, start_when_ready=True)
    bob, viewer = room.viewer()
    viewer.emit("READY", {"ready": False})
    wait_until(lambda: viewer.call("SYNC_CHECK", {"time": 0}) is not None)  # READY was handled before
    room.host_socket.emit("PLAY", {"time": 3})
    check = viewer.wait_for("READY_CHECK")
    assert check["waiting"] == [bob.user["id"]] and check["deadline"] > time.time() - 5
    assert room.host_socket.wait_for("READY_CHECK") == check
    _, late = room.viewer("Late", room.a)  # a connecting socket is told about the pending check
    assert late.wait_for("READY_CHECK") == check
    assert states(viewer, is_playing=True) == []
    viewer.emit("READY", {"ready": True})
    for socket in (viewer, room.host_socket, late):
        assert socket.wait_for("READY_CHECK", lambda c: c["waiting"] == []) == {
            "waiting": [],
            "deadline": None,
        }
        assert newest(socket, True)["time"] == 3
    settle()
    for socket in (viewer, room.host_socket):
        assert len(states(socket, is_playing=True)) == 1
        names = socket.names()
        assert names.index("READY_CHECK") < len(names) - 1 - names[::-1].index("PLAYBACK_STATE")


def test_the_deadline_plays_exactly_once_across_processes(servers, sockets):
    room = ready_room(servers, sockets, start_when_ready=True)
    _, viewer = room.viewer()
    _, other = room.viewer("Carl", room.a)
    for socket in (viewer, other):
        socket.emit("READY", {"ready": False})
        wait_until(lambda s=socket: s.call("SYNC_CHECK", {"time": 0}) is not None)
    room.host_socket.emit("PLAY", {})
    assert len(room.host_socket.wait_for("READY_CHECK")["waiting"]) == 2
    for socket in (viewer, other, room.host_socket):
        newest(socket, True)
    settle()
    for socket in (viewer, other, room.host_socket):
        assert len(states(socket, is_playing=True)) == 1
        assert socket.received("READY_CHECK")[-1] == {"waiting": [], "deadline": None}


def test_a_pause_cancels_the_check_and_sockets_without_ready_count_as_ready(servers, sockets):
    room = ready_room(servers, sockets, start_when_ready=True)
    _, viewer = room.viewer()
    viewer.emit("READY", {"ready": False})
    wait_until(lambda: viewer.call("SYNC_CHECK", {"time": 0}) is not None)
    room.host_socket.emit("PLAY", {})
    viewer.wait_for("READY_CHECK")
    room.host_socket.emit("PAUSE", {})
    newest(viewer, False, 0)
    assert viewer.wait_for("READY_CHECK", lambda c: c["waiting"] == []) == {"waiting": [], "deadline": None}
    wait_out(2.5)  # past the cancelled check's deadline: it never plays
    assert states(viewer, is_playing=True) == []
    # Someone who never sent READY holds nothing back: the next PLAY plays at once.
    quiet = Room(servers, sockets, media=CLIP)
    quiet.patch_settings(start_when_ready=True)
    _, silent = quiet.viewer()
    quiet.host_socket.emit("PLAY", {})
    newest(silent, True)
    assert silent.received("READY_CHECK") == []


def test_a_buffering_viewer_pauses_the_room_at_most_once_per_30_s(servers, sockets):
    room = ready_room(servers, sockets, pause_on_buffering=True)
    bob, viewer = room.viewer()
    room.host_socket.emit("PLAY", {"time": 20})
    playing = newest(viewer, True)
    viewer.emit("READY", {"ready": False})
    paused = newest(viewer, False, playing["version"])
    assert viewer.wait_for("READY_CHECK")["waiting"] == [bob.user["id"]]
    viewer.emit("READY", {"ready": True})
    resumed = newest(room.host_socket, True, paused["version"])
    assert resumed["time"] == pytest.approx(paused["time"], abs=0.002)
    viewer.emit("READY", {"ready": False})  # again within 30 s: no pause
    viewer.call("SYNC_CHECK", {"time": 0, "buffering": True})  # nor for SYNC_CHECK's buffering
    settle()
    assert states(room.host_socket, is_playing=False) == [
        room.host_socket.received("PLAYBACK_STATE")[0],
        paused,
    ]


def test_a_viewer_that_never_recovers_holds_the_room_only_until_the_deadline(servers, sockets):
    room = ready_room(servers, sockets, pause_on_buffering=True)
    _, viewer = room.viewer()
    room.host_socket.emit("PLAY", {})
    playing = newest(viewer, True)
    viewer.emit("READY", {"ready": False})
    paused = newest(room.host_socket, False, playing["version"])
    newest(room.host_socket, True, paused["version"])  # READY_TIMEOUT_SECONDS later, without READY


# sync health and resync -----------------------------------------------------------------------


def test_sync_health_reaches_the_host_on_the_other_process_and_never_a_viewer(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    bob, viewer = room.viewer()
    _, quiet = room.viewer("Quiet", room.a)
    room.host_socket.emit("PLAY", {"time": 0})
    newest(viewer, True)
    started = time.monotonic()
    while time.monotonic() - started < 5:
        viewer.call("SYNC_CHECK", {"time": 0.25, "rtt": 0.08, "buffering": False, "version": 1})
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    settle()
    reports = room.host_socket.received("SYNC_HEALTH")
    assert 1 <= len(reports) <= math.ceil(elapsed / 2) + 1
    users = {user["id"]: user for user in reports[-1]["users"]}
    bob_health = users[bob.user["id"]]
    assert (
        bob_health["display_name"] == "Bob" and bob_health["rtt"] == 0.08 and bob_health["buffering"] is False
    )
    assert isinstance(bob_health["drift"], float) and bob_health["age"] >= 0
    assert {k: v for k, v in users[room.host.user["id"]].items() if k not in ("id", "display_name")} == {
        "drift": None, "rtt": None, "buffering": None, "age": None}  # fmt: skip
    assert viewer.received("SYNC_HEALTH") == [] and quiet.received("SYNC_HEALTH") == []


def test_resync_forces_a_correction_on_each_socket_of_that_user(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    bob, tab1 = room.viewer()
    tab2 = room.connect(bob, room.a)
    _, other = room.viewer("Carl")
    other.emit("RESYNC", {"user_id": bob.user["id"]})  # a viewer may not
    room.host_socket.emit("RESYNC", {"user_id": "1"})
    room.host_socket.emit("RESYNC", {"user_id": bob.user["id"]})
    for tab in (tab1, tab2):
        correction = tab.wait_for("SYNC_CORRECTION")
        assert correction["forced"] is True and correction["version"] == 0
    settle()
    assert len(tab1.received("SYNC_CORRECTION")) == 1 and len(tab2.received("SYNC_CORRECTION")) == 1
    assert other.received("SYNC_CORRECTION") == [] and room.host_socket.received("SYNC_CORRECTION") == []


# chat on the media timeline ----------------------------------------------------------------------


def test_chat_carries_the_media_time(servers, sockets):
    room = Room(servers, sockets, media=CLIP)
    _, viewer = room.viewer()
    room.host_socket.emit("SEEK", {"time": 65})
    newest(viewer, False, 0)
    viewer.emit("CHAT", {"message": "that scene"})
    message = room.host_socket.wait_for("CHAT")
    assert message["media_time"] == 65 and message["media_version"] == 0
    bare = Room(servers, sockets)
    bare.host_socket.emit("CHAT", {"message": "no video yet"})
    assert bare.host_socket.wait_for("CHAT")["media_time"] is None
    history = bare.host.get(f"/api/rooms/{bare.code}/messages/").json()
    assert history["messages"][0]["media_time"] is None
