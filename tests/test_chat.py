"""Room chat over real server processes (SPEC R26, R30-R31, R50-R56, R93).

Two `python wsgi.py` processes share one SQLite file and the session's real
Redis; python-socketio clients sit on both, and one test drives the
Socket.IO JavaScript client (tests/node) from Node.
"""

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace

import pytest
import redis

from tests.support import (
    ROOT,
    ApiUser,
    ConnectedRoom,
    LiveServer,
    RoomSocket,
    assert_nothing_arrives,
    assert_redis_clean,
    assert_stays,
    connected,
    connected_room,
    create_room,
    join,
    stored_value,
    wait_until,
)
from watchparty.realtime import keys

pytestmark = pytest.mark.all_databases

NODE_DIR = ROOT / "tests" / "node"
CHAT_DISABLED = {"code": "chat_disabled", "message": "Chat is disabled in this room"}
XSS = "<img src=x onerror=alert(1)>"


# servers ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(module_fleet, live_redis_url):
    """Two server processes with the default chat settings, shared by this module's tests."""
    a, b = module_fleet.pair(live_redis_url)
    return SimpleNamespace(a=a, b=b, redis_url=live_redis_url)


# helpers ------------------------------------------------------------------------------------------


def connect(open_socket, server: LiveServer, user: ApiUser, code: str) -> RoomSocket:
    return connected(open_socket, server.url, user, code)


def chat_room(pair, open_socket, **fields) -> ConnectedRoom:
    """A room with its host connected to process a and a viewer connected to process b."""
    return connected_room(open_socket, pair.a, pair.b, **fields)


def chats(sock: RoomSocket) -> list[str]:
    return [payload["message"] for payload in sock.received("CHAT")]


def errors(sock: RoomSocket) -> list[str]:
    return [payload["code"] for payload in sock.received("ERROR")]


def wait_chat(sock: RoomSocket, text: str) -> dict:
    return sock.wait_for("CHAT", lambda p: p["message"] == text)


def send_and_see(sender: RoomSocket, text, shown: str, *watchers: RoomSocket) -> dict:
    """Send CHAT and wait until the sender and every watcher received it; return the payload."""
    sender.emit("CHAT", {"message": text})
    payload = wait_chat(sender, shown)
    for watcher in watchers:
        assert wait_chat(watcher, shown) == payload
    return payload


def send_and_refuse(sender: RoomSocket, text, code: str) -> dict:
    """Send CHAT and wait for the sender's ERROR with `code`; return the payload."""
    before = len(sender.received("ERROR"))
    sender.emit("CHAT", {"message": text})
    wait_until(lambda: len(sender.received("ERROR")) > before, message=f"ERROR {code}; got {sender.names()}")
    payload = sender.received("ERROR")[before]
    assert set(payload) == {"code", "message"}, payload
    assert payload["code"] == code, payload
    assert isinstance(payload["message"], str) and payload["message"], payload
    return payload


def messages(user: ApiUser, code: str, query: str = "") -> list[dict]:
    response = user.get(f"/api/rooms/{code}/messages/{query}")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["messages"]


def stored_message_count(database_url: str, code: str) -> int:
    query = "SELECT COUNT(*) FROM chat_messages JOIN rooms ON rooms.id = room_id WHERE rooms.code = :code"
    return stored_value(database_url, query, code=code)


def wait_for_chats(count: int, *socks: RoomSocket) -> None:
    """Wait until every socket has received `count` CHAT broadcasts."""
    wait_until(lambda: all(len(chats(sock)) >= count for sock in socks), message=f"{count} chats each")


def assert_chat_message(payload: dict, author: ApiUser, text: str) -> None:
    """ChatMessage = {id, user: {id, display_name}, message, created_at} (SPEC payload table)."""
    assert set(payload) == {"id", "user", "message", "created_at", "media_time", "media_version"}, payload
    assert isinstance(payload["id"], int)
    assert payload["user"] == {"id": author.user["id"], "display_name": author.user["display_name"]}
    assert payload["message"] == text
    created = datetime.fromisoformat(payload["created_at"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0, payload


# broadcast, trimming, ignoring (R50, R36) -------------------------------------------------------------


def test_chat_reaches_the_whole_room_on_both_processes(pair, open_socket):
    room = chat_room(pair, open_socket)
    tab = connect(open_socket, pair.a, room.viewer, room.code)  # the sender's own second tab

    payload = send_and_see(room.viewer_sock, "  hi  ", "hi", room.host_sock, tab)
    assert_chat_message(payload, room.viewer, "hi")
    reply = send_and_see(room.host_sock, "hello from a", "hello from a", room.viewer_sock, tab)
    assert_chat_message(reply, room.host, "hello from a")
    assert reply["id"] > payload["id"]

    assert_nothing_arrives(room.host_sock, room.viewer_sock, tab)
    for sock in (room.host_sock, room.viewer_sock, tab):
        assert chats(sock) == ["hi", "hello from a"]
        assert sock.received("ERROR") == []
    assert messages(room.host, room.code) == [payload, reply]
    # A socket that connects later gets them in CHAT_HISTORY, oldest first (R32).
    late = connect(open_socket, pair.b, room.host, room.code)
    assert late.received("CHAT_HISTORY") == [{"messages": [payload, reply]}]


GARBAGE = [
    None,
    5,
    [],
    "hello",
    {},
    {"message": 5},
    {"message": None},
    {"message": ["x"]},
    {"message": {"text": "x"}},
    {"message": True},
    {"text": "hello"},
    {"message": ""},
    {"message": "   "},
    {"message": "\n\t \r\n"},
    {"message": "\u00a0\u2003"},
]


def test_empty_and_malformed_chat_is_ignored_silently(pair, open_socket):
    room = chat_room(pair, open_socket)
    for garbage in GARBAGE:
        room.viewer_sock.emit("CHAT", garbage)
    assert_nothing_arrives(room.host_sock, room.viewer_sock)
    # Good messages afterwards arrive alone; the ignored ones never counted toward the rate (R53).
    for i in range(5):
        send_and_see(room.viewer_sock, f"after garbage {i}", f"after garbage {i}", room.host_sock)
    assert_nothing_arrives(room.host_sock, room.viewer_sock)
    for sock in (room.host_sock, room.viewer_sock):
        assert chats(sock) == [f"after garbage {i}" for i in range(5)]
        assert sock.received("ERROR") == []
        assert sock.connected
    assert len(messages(room.host, room.code)) == 5


def test_chat_keeps_working_while_the_host_is_away(pair, open_socket):
    room = chat_room(pair, open_socket)
    second = ApiUser(pair.a.url).register()
    join(second, room.code)
    second_sock = connect(open_socket, pair.a, second, room.code)
    room.host_sock.disconnect()
    room.viewer_sock.wait_for("HOST_DISCONNECTED")
    send_and_see(room.viewer_sock, "where did the host go?", "where did the host go?", second_sock)
    assert room.viewer.get(f"/api/rooms/{room.code}/").json()["room"]["state"] == "GRACE"


# refusals (R51-R54, R56) ------------------------------------------------------------------------------


def test_length_limit_counts_characters_after_trimming(pair, open_socket):
    room = chat_room(pair, open_socket)
    sender, other = room.viewer_sock, room.host_sock

    send_and_see(sender, "a" * 500, "a" * 500, other)
    send_and_refuse(sender, "b" * 501, "chat_too_long")
    send_and_see(sender, "é" * 500, "é" * 500, other)  # 1,000 bytes, 500 characters
    send_and_see(sender, "  " + "c" * 500 + "\n", "c" * 500, other)
    big = send_and_refuse(sender, "d" * 100_000, "chat_too_long")
    assert "500" in big["message"]
    # Too-long messages never reached the rate check (R53): two more make five counted.
    send_and_see(sender, "short 1", "short 1", other)
    send_and_see(sender, "short 2", "short 2", other)

    assert_nothing_arrives(sender, other)
    assert errors(sender) == ["chat_too_long", "chat_too_long"]
    assert other.received("ERROR") == []
    assert sender.connected and other.connected
    expected = ["a" * 500, "é" * 500, "c" * 500, "short 1", "short 2"]
    assert [m["message"] for m in messages(room.viewer, room.code)] == expected


def test_chat_disabled_at_creation_and_toggled_mid_session(pair, open_socket):
    room = chat_room(pair, open_socket, is_chat_enabled=False)

    for sender in (room.viewer_sock, room.host_sock):
        assert send_and_refuse(sender, "anyone?", "chat_disabled") == CHAT_DISABLED
    # Disabled comes before length (R56), and refused messages do not count toward the rate (R53).
    assert send_and_refuse(room.viewer_sock, "x" * 5000, "chat_disabled") == CHAT_DISABLED
    for i in range(4):
        send_and_refuse(room.viewer_sock, f"still disabled {i}", "chat_disabled")
    assert_nothing_arrives(room.host_sock, room.viewer_sock)
    assert room.host_sock.received("CHAT") == room.viewer_sock.received("CHAT") == []
    assert errors(room.host_sock) == ["chat_disabled"]
    assert messages(room.host, room.code) == []

    assert room.host.patch(f"/api/rooms/{room.code}/", json={"is_chat_enabled": True}).status_code == 200
    room.viewer_sock.wait_for("ROOM_UPDATED", lambda p: p["room"]["is_chat_enabled"] is True)
    for i in range(5):
        send_and_see(room.viewer_sock, f"enabled {i}", f"enabled {i}", room.host_sock)

    assert room.host.patch(f"/api/rooms/{room.code}/", json={"is_chat_enabled": False}).status_code == 200
    room.viewer_sock.wait_for("ROOM_UPDATED", lambda p: p["room"]["is_chat_enabled"] is False)
    assert send_and_refuse(room.host_sock, "host talks", "chat_disabled") == CHAT_DISABLED

    assert room.host.patch(f"/api/rooms/{room.code}/", json={"is_chat_enabled": True}).status_code == 200
    wait_until(
        lambda: (
            [p["room"]["is_chat_enabled"] for p in room.viewer_sock.received("ROOM_UPDATED")][-1:] == [True]
        ),
        message="chat enabled again",
    )
    send_and_see(room.host_sock, "back on", "back on", room.viewer_sock)
    assert_nothing_arrives(room.host_sock, room.viewer_sock)
    assert errors(room.viewer_sock) == ["chat_disabled"] * 6
    assert errors(room.host_sock) == ["chat_disabled", "chat_disabled"]
    assert room.viewer_sock.connected and room.host_sock.connected
    assert len(messages(room.host, room.code)) == 6


def test_rate_limit_holds_across_processes_and_comes_before_duplicates(pair, open_socket):
    room = chat_room(pair, open_socket)
    tab_b = room.viewer_sock
    tab_a = connect(open_socket, pair.a, room.viewer, room.code)  # the same user, other process
    observer = room.host_sock
    tabs = [tab_a, tab_b]

    for i in range(5):
        send_and_see(tabs[i % 2], f"message {i}", f"message {i}", observer, tab_a, tab_b)
    # The sixth in the window, from the tab on the other process than the fifth.
    send_and_refuse(tabs[5 % 2], "message 5", "chat_rate_limited")
    # A duplicate that is also over the rate is refused for the rate (R56).
    send_and_refuse(tab_a, "MESSAGE  0", "chat_rate_limited")
    assert_nothing_arrives(observer, tab_a, tab_b)
    assert chats(observer) == [f"message {i}" for i in range(5)]
    assert errors(tab_b) == ["chat_rate_limited"]
    assert errors(tab_a) == ["chat_rate_limited"]
    assert observer.received("ERROR") == []
    assert all(sock.connected for sock in (observer, tab_a, tab_b))

    # Another user is not limited by this one (per user per room).
    send_and_see(observer, "host is fine", "host is fine", tab_a)

    # After the window a new message passes; a recent text is still a duplicate (10 s window).
    rate_key = keys.chat_rate(room.code, room.viewer.user["id"])
    client = redis.Redis.from_url(pair.redis_url)
    wait_until(lambda: not client.exists(rate_key), message="the 3 s rate window to end (its key's TTL)")
    client.close()
    send_and_refuse(tab_b, " Message 1 ", "chat_duplicate")
    send_and_see(tab_b, "a new window", "a new window", observer)


def test_duplicates_are_compared_after_trimming_folding_case_and_white_space(pair, open_socket):
    room = chat_room(pair, open_socket)
    sender, other = room.viewer_sock, room.host_sock
    other_tab = connect(open_socket, pair.a, room.viewer, room.code)

    send_and_see(sender, "Hello  World", "Hello  World", other)
    send_and_refuse(sender, " hello world ", "chat_duplicate")
    send_and_refuse(other_tab, "HELLO\tWORLD", "chat_duplicate")  # same user, other process
    send_and_see(sender, "Hello World!", "Hello World!", other)
    # The same text from another user is not a duplicate.
    send_and_see(other, "hello world", "hello world", sender, other_tab)

    assert_nothing_arrives(sender, other, other_tab)
    assert chats(other) == ["Hello  World", "Hello World!", "hello world"]
    assert errors(sender) == ["chat_duplicate"]
    assert errors(other_tab) == ["chat_duplicate"]
    assert other.received("ERROR") == []
    assert all(sock.connected for sock in (sender, other, other_tab))
    assert [m["message"] for m in messages(room.host, room.code)] == [
        "Hello  World",
        "Hello World!",
        "hello world",
    ]


def test_refused_duplicates_still_count_toward_the_rate(pair, open_socket):
    room = chat_room(pair, open_socket)
    sender, other = room.viewer_sock, room.host_sock
    send_and_see(sender, "again", "again", other)
    for _ in range(4):
        send_and_refuse(sender, "again", "chat_duplicate")
    # Five counted (R53: refused or not); the sixth is over the rate.
    send_and_refuse(sender, "something new", "chat_rate_limited")
    assert_nothing_arrives(sender, other)
    assert chats(other) == ["again"]


def test_a_burst_from_two_processes_is_counted_atomically(pair, open_socket):
    room = chat_room(pair, open_socket)
    tab_a = connect(open_socket, pair.a, room.viewer, room.code)
    tab_b = room.viewer_sock
    observer = room.host_sock
    texts = [f"burst {i}" for i in range(10)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda tab, batch: [tab.emit("CHAT", {"message": t}) for t in batch],
                      [tab_a, tab_b], [texts[0::2], texts[1::2]]))  # fmt: skip
    wait_until(
        lambda: len(chats(observer)) + len(tab_a.received("ERROR")) + len(tab_b.received("ERROR")) >= 10,
        message="ten outcomes",
    )
    wait_for_chats(len(chats(observer)), tab_a, tab_b)
    assert_nothing_arrives(observer, tab_a, tab_b)
    assert len(chats(observer)) == 5, chats(observer)
    assert sorted(errors(tab_a) + errors(tab_b)) == ["chat_rate_limited"] * 5


def test_the_same_text_from_two_processes_at_once_passes_once(pair, open_socket):
    room = chat_room(pair, open_socket)
    tab_a = connect(open_socket, pair.a, room.viewer, room.code)
    tab_b = room.viewer_sock
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda tab: tab.emit("CHAT", {"message": "at once"}), [tab_a, tab_b]))
    wait_until(
        lambda: len(chats(room.host_sock)) + len(tab_a.received("ERROR")) + len(tab_b.received("ERROR")) >= 2,
        message="two outcomes",
    )
    wait_for_chats(len(chats(room.host_sock)), tab_a, tab_b)
    assert_nothing_arrives(room.host_sock, tab_a, tab_b)
    assert chats(room.host_sock) == ["at once"]
    assert errors(tab_a) + errors(tab_b) == ["chat_duplicate"]


def test_text_the_database_cannot_store_does_not_break_the_socket(pair, open_socket):
    room = chat_room(pair, open_socket)
    room.viewer_sock.emit("CHAT", {"message": "lone \ud800 surrogate"})
    room.viewer_sock.emit("CHAT", {"message": "nul \x00 byte"})
    assert_stays(lambda: room.viewer_sock.connected and room.host_sock.connected, message="a socket dropped")
    send_and_see(room.viewer_sock, "still fine", "still fine", room.host_sock)
    assert room.viewer_sock.connected
    assert room.host.get(f"/api/rooms/{room.code}/messages/").status_code == 200


# history (R26, R32, R55) ------------------------------------------------------------------------------


def test_history_is_capped_and_served_newest_oldest_first(fleet, database_url, live_redis_url, open_socket):
    settings = {"CHAT_HISTORY_LIMIT": 5, "CHAT_BOOTSTRAP_COUNT": 3, "CHAT_RATE_LIMIT_COUNT": 100}
    a, b = fleet.pair(live_redis_url, **settings)
    servers = SimpleNamespace(a=a, b=b)
    room = chat_room(servers, open_socket)
    sent = []
    for i in range(8):
        sender = (room.host_sock, room.viewer_sock)[i % 2]
        sent.append(send_and_see(sender, f"message {i}", f"message {i}", room.host_sock, room.viewer_sock))

    late = connect(open_socket, b, room.viewer, room.code)
    assert late.received("CHAT_HISTORY") == [{"messages": sent[-3:]}]
    assert messages(room.viewer, room.code) == sent[-5:]
    assert messages(room.host, room.code, "?limit=2") == sent[-2:]
    assert messages(room.host, room.code, "?limit=5") == sent[-5:]
    assert messages(room.host, room.code, "?limit=1") == sent[-1:]
    for bad in ("6", "0", "-1", "abc", "2.5"):
        response = room.host.get(f"/api/rooms/{room.code}/messages/?limit={bad}")
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    stranger = ApiUser(a.url).register()
    response = stranger.get(f"/api/rooms/{room.code}/messages/")
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert ApiUser(a.url).get(f"/api/rooms/{room.code}/messages/").status_code == 401
    assert room.host.get("/api/rooms/ZZZZZZZZ/messages/").status_code == 404

    # Older messages are gone from the database (R55); Redis never held any: only keys.py's keys.
    assert stored_message_count(database_url, room.code) == 5
    assert_redis_clean(live_redis_url, seconds=0)
    # After the room's whole life, nothing of it is left in Redis (R24).
    assert room.host.delete(f"/api/rooms/{room.code}/").status_code == 204
    for sock in (room.host_sock, room.viewer_sock, late):
        sock.wait_for("ROOM_CLOSED")
    assert_redis_clean(live_redis_url, room.code)


# markup stays text (R93) --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [XSS, "</script><script>alert(1)</script>", "&lt;b&gt; & \"quotes\" 'x'"])
def test_markup_comes_back_as_the_same_text(pair, open_socket, text):
    room = chat_room(pair, open_socket)
    payload = send_and_see(room.viewer_sock, text, text, room.host_sock)
    assert payload["message"] == text
    assert [m["message"] for m in messages(room.host, room.code)] == [text]
    late = connect(open_socket, pair.a, room.host, room.code)
    assert late.received("CHAT_HISTORY")[0]["messages"][0]["message"] == text


# the Socket.IO JavaScript client (R30, R31) ---------------------------------------------------------------


def node_client(*args: str) -> tuple[int, list[dict], str]:
    """Run tests/node/chat_client.mjs; return its exit code, its JSON lines and its stderr."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not installed: scripts/test.sh installs nodejs and npm")
    if not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        pytest.fail(
            "tests/node/node_modules is missing: run `npm ci --prefix tests/node` "
            "(scripts/test.sh does this before pytest)"
        )
    result = subprocess.run(
        [node, str(NODE_DIR / "chat_client.mjs"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, lines, result.stderr


def test_the_javascript_client_chats_with_python_clients(pair, open_socket):
    room = chat_room(pair, open_socket)
    earlier = send_and_see(room.host_sock, "before node", "before node", room.viewer_sock)
    node_user = ApiUser(pair.a.url).register()
    join(node_user, room.code)

    code, lines, stderr = node_client(pair.a.url, node_user.token(), room.code, "  hello from node  ")
    assert code == 0, (lines, stderr)
    events = [line["event"] for line in lines]
    assert events.count("CHAT_HISTORY") == 1, lines
    history = next(line["data"] for line in lines if line["event"] == "CHAT_HISTORY")
    assert history == {"messages": [earlier]}
    node_chats = [line["data"] for line in lines if line["event"] == "CHAT"]
    assert [c["message"] for c in node_chats] == ["hello from node"]
    assert_chat_message(node_chats[0], node_user, "hello from node")
    assert "ERROR" not in events

    # The python clients, on both processes, got the Node client's message.
    assert wait_chat(room.viewer_sock, "hello from node") == node_chats[0]
    assert wait_chat(room.host_sock, "hello from node") == node_chats[0]
    assert messages(room.host, room.code)[-1] == node_chats[0]


@pytest.mark.parametrize(
    ("token", "room_code", "expected"),
    [
        ("not-a-jwt", None, "unauthorized"),
        ("", None, "unauthorized"),
        (None, "ZZZZZZZZ", "room_not_found"),
        (None, None, "not_a_participant"),
    ],
)
def test_the_javascript_client_reads_err_data_code(pair, token, room_code, expected):
    host = ApiUser(pair.b.url).register()
    code = create_room(host)
    stranger = ApiUser(pair.b.url).register()
    rc, lines, stderr = node_client(
        pair.b.url, stranger.token() if token is None else token, room_code or code, "never sent"
    )
    assert rc == 2, (lines, stderr)
    refusal = [line["data"] for line in lines if line["event"] == "connect_error"]
    assert len(refusal) == 1, lines
    assert refusal[0]["data"]["code"] == expected, refusal
    assert refusal[0]["data"]["message"] == refusal[0]["message"], refusal
    assert refusal[0]["message"]
    assert messages(host, code) == []
