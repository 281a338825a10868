"""A socket fuzzer: 10,000 generated events from host, cohost and viewer over two processes (issue 13).

What is sent (SPEC R36: all of it is ignored or handled, never an error, never
a disconnect): every event name the /room namespace handles (read from
RoomNamespace, so a new handler is fuzzed from the day it lands), the reserved
names `connect` and `disconnect`, names the server only sends or serves over
HTTP (KICK, BAN, QUEUE_ADD, SKIP_VOTE…) and arbitrary text; as payloads every
JSON type, NaN, infinities, integers past 64 bits, lone surrogates, binary
(alone and nested), several arguments, and dicts of the keys our payloads know
with wrong and edge values (valid ones too, so accepted commands interleave
with garbage); then values near MAX_CONTENT_LENGTH and raw packets nested up to
100,000 deep. Strangers fuzz the connect `auth` and query string: refused, and
nothing crashes.

Nothing is excluded from the host: no socket event of ours removes a
participant or closes a room (kick, ban, roles, handover and delete are HTTP
only, R102-R105, R24), so "nobody was disconnected" holds by the contract, not
by luck. `test_no_socket_event_removes_anyone` keeps it so: a handler added
for an event outside SAFE_EVENTS fails it until this fuzzer decides what the
host may send. The room runs with the settings that open most paths: direct
media (rates apply), a queue to auto-advance into, viewer PAUSE budget,
start-when-ready and pause-on-buffering.

Hypothesis only generates (derandomized, no database, no shrinking against
live servers); the events go out in batches without waiting, and the test
waits until both servers have handled every one (R181's counters) before it
reads their logs.
"""

import json
import math
from urllib.parse import urlencode

import pytest
import requests
import socketio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.support import assert_redis_clean, connected, connected_room, joined_user, wait_until
from watchparty.rooms.events import RoomNamespace

METRICS_TOKEN = "fuzz-metrics-token"
HANDLED_EVENTS = sorted(name[3:] for name in dir(RoomNamespace) if name.startswith("on_"))
# Socket events that by the SPEC never remove a participant nor close the room.
SAFE_EVENTS = {"connect", "disconnect", "PLAY", "PAUSE", "SEEK", "RATE", "TIME_SYNC", "SYNC_CHECK",
               "READY", "RESYNC", "PLAYER_EVENT", "CHAT"}  # fmt: skip
NOT_OURS = ["KICK", "BAN", "UNBAN", "ROLE", "SET_ROLE", "HOST", "CLOSE", "DELETE", "QUEUE_ADD",
            "QUEUE_NEXT", "SKIP_VOTE", "PLAYBACK_STATE", "KICKED", "ROOM_CLOSED", "USER_LEFT",
            "message", "json", "error", "connect_error", "on_error", "trigger_event", "__init__"]  # fmt: skip
PAYLOAD_KEYS = ["time", "rate", "rtt", "buffering", "version", "ready", "user_id", "event",
                "currentTime", "duration", "media_version", "message", "t0", "token", "room"]  # fmt: skip
# Hypothesis draws about 3 ms per event on a loaded machine, and far more for large examples.
BATCH = 20
BATCHES = 510  # 10,200 events in all
ONLY_GENERATE = {"deadline": None, "database": None, "derandomize": True, "phases": [Phase.generate]}

EDGE_NUMBERS = [math.nan, math.inf, -math.inf, -0.0, 0, 1, -1, 0.25, 4.0, 4.0001, 60, 61, 10**9,
                10**9 + 1, 1e308, 2**31, 2**63, -(2**63), 2**64, 10**30]  # fmt: skip
edge_numbers = st.sampled_from(EDGE_NUMBERS)
text_scalars = st.one_of(
    st.none(),
    st.booleans(),
    edge_numbers,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=8),  # lone surrogates included
    st.sampled_from(["", " " * 600, "x" * 5000, "\x00", "\ud800", "\u202e<b>", "timeupdate", "ended"]),
)


def nested(leaves):
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children, max_size=3)
        ),
        max_leaves=5,
    )


text_json = nested(text_scalars)
json_values = nested(st.one_of(text_scalars, st.binary(max_size=32)))
payloads = st.one_of(
    st.dictionaries(st.sampled_from(PAYLOAD_KEYS), st.one_of(edge_numbers, json_values), max_size=4),
    json_values,
    st.tuples(json_values, json_values),  # two arguments
    st.integers(200, 5000).map(lambda width: list(range(width))),  # wide (drawn element by element: too slow)
)
event_names = st.one_of(
    st.sampled_from(HANDLED_EVENTS), st.sampled_from(NOT_OURS), st.text(min_size=1, max_size=12)
)
emitted = st.tuples(st.just("emit"), st.integers(0, 2), event_names, payloads)
# Raw Socket.IO packets to /room: events, acks, types a client may not send, binary with no attachment.
raw_kinds = st.sampled_from(["2", "20-", "3", "4", "5", "50-", "6", "7", "9", "x"])
raw = st.tuples(st.just("raw"), st.integers(0, 2), raw_kinds, st.one_of(text_json, st.lists(text_json)))
auths = st.one_of(text_json, st.dictionaries(st.sampled_from(["token", "room"]), text_json))
HUGE = [  # each frame stays under MAX_CONTENT_LENGTH (1 MiB): past it R175 closes the socket
    ("CHAT", {"message": "x" * 900_000}),
    ("SEEK", {"time": [0] * 200_000}),
    ("SYNC_CHECK", {str(i): i for i in range(50_000)}),
    ("TIME_SYNC", {"t0": "9" * 900_000}),
    ("PLAYER_EVENT", {"event": "timeupdate", "currentTime": 1, "duration": b"\x00" * 500_000}),
    ("NOT_AN_EVENT", "y" * 900_000),
]


def test_no_socket_event_removes_anyone():
    """Every handler is one the fuzzer may send from the host; a new one needs a decision here."""
    assert set(HANDLED_EVENTS) <= SAFE_EVENTS, "decide what the fuzzer's host may send of the new events"


@pytest.mark.timeout(300)
def test_fuzzed_events_break_nothing(fleet, redis_url, open_socket):
    first, second = fleet.pair(
        redis_url, SOCKET_EVENTS_PER_SECOND=10**6, SOCKET_EVENTS_BURST=10**6, METRICS_TOKEN=METRICS_TOKEN
    )
    room = FuzzedRoom(open_socket, first, second)
    sockets = [room.host_sock, room.cohost_sock, room.viewer_sock]
    handled_before = handled(first, second)

    sent = fuzz(sockets) + send_huge(sockets)
    strangers(first, second, room.code)
    wait_until(
        lambda: handled(first, second) - handled_before >= sent, timeout=120, message="the servers to drain"
    )

    assert dropped(first, second) == 0  # R174 raised for the run: every event was handled
    for server in (first, second):
        log = server.log_path.read_text(errors="replace")
        assert "Traceback" not in log and "error in a /room handler" not in log, log[-3000:]
    assert_nobody_left(sockets)
    assert_room_still_works(room.host_sock, sockets)
    for sock in sockets:
        sock.disconnect()
    wait_until(lambda: viewer_count(room) == 0, timeout=30, message="everyone gone")
    assert_redis_clean(redis_url)


MALFORMED_PACKETS = [
    '2/room,["SEEK",' + "[" * 5000 + "]" * 5000 + "]",  # nested past the JSON decoder's recursion limit
    '2/room,[7,{"time":1}]',  # an event named by a number
    '2/room,{"SEEK":1}',  # an event that is no list
    "2/room,[]",
    '5/room,["SEEK",{"time":2}]',  # binary, announcing no attachment: took the next packet as one
    '4/room,{"message":"x"}',  # CONNECT_ERROR is the server's to send
    "9/room,",
]


def test_malformed_packets_are_dropped_silently(fleet, redis_url, open_socket):
    """Packets python-socketio chokes on, and a second argument, are ignored: no traceback (R36)."""
    server = fleet.start(redis_url)
    _code, _host, _viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)
    for raw_packet in MALFORMED_PACKETS:
        host_sock.client.eio.send(raw_packet)
    host_sock.emit("SEEK", ({"time": 3}, {"time": 4}))  # two arguments: on_SEEK took one (TypeError)
    host_sock.emit("SEEK", {"time": 5})
    assert viewer_sock.wait_for("PLAYBACK_STATE", lambda state: state["time"] == 5)
    assert [state["time"] for state in viewer_sock.received("PLAYBACK_STATE")[1:]] == [5]
    assert host_sock.connected
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "handler error" not in log, log[-3000:]


class FuzzedRoom:
    """A room on two processes: host on the first, cohost and viewer on the second."""

    def __init__(self, open_socket, first, second):
        room_settings = {"viewer_pause_limit": 100, "queue_mode": "open", "start_when_ready": True,
                    "pause_on_buffering": True}  # fmt: skip
        media = {"provider": "direct", "type": "movie", "url": "http://127.0.0.1:9/clip.webm"}
        self.code, self.host, self.viewer, self.host_sock, self.viewer_sock = connected_room(
            open_socket, first, second, media=media, settings=room_settings
        )
        self.cohost = joined_user(second.url, self.code)
        promoted = self.host.patch(f"/api/rooms/{self.code}/participants/{self.cohost.user['id']}/",
                                   json={"role": "cohost"})  # fmt: skip
        assert promoted.status_code == 200, promoted.text
        for index in range(2):
            queued = self.host.post(
                f"/api/rooms/{self.code}/queue/", json={"media": media, "title": f"#{index}"}
            )
            assert queued.status_code == 201, queued.text
        self.cohost_sock = connected(open_socket, second.url, self.cohost, self.code)


def fuzz(sockets) -> int:
    """Send BATCHES generated batches of events, none awaited; return how many must reach a handler."""
    sent = []

    @given(batch=st.lists(st.one_of(emitted, raw), min_size=BATCH, max_size=BATCH))
    @settings(max_examples=BATCHES, suppress_health_check=list(HealthCheck), **ONLY_GENERATE)
    def send_batch(batch):
        for how, sender, name, payload in batch:
            if how == "emit":
                sockets[sender].emit(name, payload)
            else:
                sockets[sender].client.eio.send(f"{name}/room,{json.dumps(payload)}")
        sent.extend(
            how == "emit" or (name == "2" and names_an_event(payload)) for how, _, name, payload in batch
        )

    send_batch()
    assert len(sent) >= 10_000
    return sum(sent)


def send_huge(sockets) -> int:
    """Values near MAX_CONTENT_LENGTH, and raw packets nested deeper than any decoder's recursion."""
    for index, (name, payload) in enumerate(HUGE):
        sockets[index % len(sockets)].emit(name, payload)
    deep = [
        (sock, name, depth) for sock in sockets for name in ("SEEK", "CHAT") for depth in (5_000, 100_000)
    ]
    for sock, name, depth in deep:
        sock.client.eio.send(f'2/room,["{name}",{"[" * depth}{"]" * depth}]')
    sockets[0].client.eio.send(
        '51-/room,["SEEK",{"_placeholder":true,"num":7}]'
    )  # points past its attachment
    sockets[0].client.eio.send(b"\x00")
    return len(HUGE) + 1  # a packet that does not decode never reaches a handler


def strangers(first, second, code: str) -> None:
    """Connects with fuzzed auth or query string: each one refused, none crashing anything."""

    @given(auth=auths, query=st.one_of(st.none(), st.text(max_size=20)), on_first=st.booleans())
    @settings(max_examples=20, suppress_health_check=list(HealthCheck), **ONLY_GENERATE)
    def attempt(auth, query, on_first):
        url = (first if on_first else second).url
        if query is not None:
            url += "?" + urlencode({"token": query, "room": code})
        client = socketio.Client(reconnection=False)
        try:
            client.connect(url, namespaces=["/room"], auth=auth, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return
        finally:
            client.shutdown()
        raise AssertionError(f"a stranger got in with auth {auth!r} and query {query!r}")

    attempt()


def names_an_event(value) -> bool:
    return isinstance(value, list) and len(value) > 0 and isinstance(value[0], str)


def metric_total(servers, name: str) -> float:
    """The sum of one sample name over the servers' /metrics (R181)."""
    total = 0.0
    for server in servers:
        text = requests.get(
            server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
        ).text
        for family in text_string_to_metric_families(text):
            total += sum(sample.value for sample in family.samples if sample.name == name)
    return total


def handled(*servers) -> int:
    """Events whose handling has finished, on every server (the command histogram's count)."""
    return int(metric_total(servers, "watchparty_command_seconds_count"))


def dropped(*servers) -> int:
    return int(metric_total(servers, "watchparty_events_dropped_total"))


def assert_nobody_left(sockets) -> None:
    for sock in sockets:
        assert sock.connected, f"{sock.base_url} socket was disconnected"
        for name in ("USER_LEFT", "KICKED", "ROOM_CLOSED", "HOST_DISCONNECTED"):
            assert sock.received(name) == [], f"{name} reached a fuzzing socket"


def assert_room_still_works(host_sock, sockets) -> None:
    """A SEEK reaches everyone, and a chat message too."""
    seen = {id(sock): max(state["version"] for state in sock.received("PLAYBACK_STATE")) for sock in sockets}
    host_sock.emit("SEEK", {"time": 4242.125})
    for sock in sockets:
        state = sock.wait_for(
            "PLAYBACK_STATE", lambda state, s=sock: state["version"] > seen[id(s)], timeout=30
        )
        assert state["time"] == 4242.125, state
    attempts = iter(range(100))

    def chat_arrived() -> bool:
        """One new message (the fuzz may have used up the sender's chat rate window: R53)."""
        text = f"still here {next(attempts)}"
        sockets[-1].emit("CHAT", {"message": text})
        arrived = lambda: all(text in [m["message"] for m in sock.received("CHAT")] for sock in sockets)  # noqa: E731
        try:
            return wait_until(arrived, timeout=2)
        except AssertionError:
            return False

    wait_until(chat_arrived, timeout=60, interval=0, message="a chat message after the fuzz")


def viewer_count(room: FuzzedRoom) -> int:
    return room.host.get(f"/api/rooms/{room.code}/").json()["room"]["viewer_count"]
