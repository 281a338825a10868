"""REDIS_URL beyond one plain server: Sentinel failover and TLS (SPEC R183).

Two `python wsgi.py` processes share each deployment; the clients are real
python-socketio clients and the Redis servers and sentinels are real.
"""

import itertools
import time

import pytest

from tests.redis_setups import SentinelSet, TlsRedisServer
from tests.support import ApiUser, create_room, join, wait_until

# R183: after a promotion every process serves, publishes and listens again within 10 s.
RECOVERY_SECONDS = 10


@pytest.fixture
def sentinel_set(tmp_path):
    deployment = SentinelSet(tmp_path / "sentinel").start()
    yield deployment
    deployment.stop()


@pytest.fixture
def tls_redis(tmp_path):
    (tmp_path / "tls").mkdir()
    server = TlsRedisServer(tmp_path / "tls").start()
    yield server
    server.stop()


def a_room_across(a, b, open_socket):
    """A host on a, a viewer on b, both connected: (host, viewer, code, host_socket, viewer_socket)."""
    host, viewer = ApiUser(a.url).register(), ApiUser(b.url).register()
    code = create_room(host)
    join(viewer, code)
    host_socket = open_socket(a.url, host.token(), code)
    viewer_socket = open_socket(b.url, viewer.token(), code)
    host_socket.wait_for("USER_JOINED")
    return host, viewer, code, host_socket, viewer_socket


def seek_until_seen(host_socket, viewer_socket, timeout: float) -> float:
    """Seek again every half second until the viewer on the other process sees one of the seeks."""
    times = itertools.count(1000)
    sent: dict[float, float] = {}  # seek time -> when it was sent

    def seen():
        if not sent or time.monotonic() - max(sent.values()) > 0.5:
            sent[float(next(times))] = time.monotonic()
            host_socket.emit("SEEK", {"time": max(sent)})
        return next((s["time"] for s in viewer_socket.received("PLAYBACK_STATE") if s["time"] in sent), None)

    return wait_until(seen, timeout=timeout, message="a SEEK broadcast across processes")


def test_sentinel_failover_mid_room(sentinel_set, fleet, open_socket):
    """Kill the primary: the room goes on through the promoted replica, nothing stored is lost."""
    settings = {"PRESENCE_HEARTBEAT_SECONDS": 1}
    a = fleet.start(sentinel_set.url, **settings)
    b = fleet.start(sentinel_set.url, **settings)
    host, viewer, code, host_socket, viewer_socket = a_room_across(a, b, open_socket)
    viewer_socket.emit("CHAT", {"message": "before the failover"})
    host_socket.wait_for("CHAT", lambda m: m["message"] == "before the failover")
    old_primary = sentinel_set.primary.port

    sentinel_set.primary.stop()  # SIGKILL
    wait_until(
        lambda: sentinel_set.primary_port() not in (None, old_primary), timeout=30, message="promotion"
    )

    seek_until_seen(host_socket, viewer_socket, timeout=RECOVERY_SECONDS)
    viewer_socket.emit("CHAT", {"message": "after the failover"})
    host_socket.wait_for("CHAT", lambda m: m["message"] == "after the failover", timeout=RECOVERY_SECONDS)
    late = ApiUser(b.url).register()
    join(late, code)
    late_socket = open_socket(b.url, late.token(), code)
    presence = late_socket.wait_for("PRESENCE")
    assert {u["id"] for u in presence["users"]} == {host.user["id"], viewer.user["id"], late.user["id"]}
    messages = host.get(f"/api/rooms/{code}/messages/").json()["messages"]
    assert [m["message"] for m in messages] == ["before the failover", "after the failover"]
    for server in (a, b):
        assert server.process.poll() is None


def test_a_tls_redis_carries_the_room(tls_redis, fleet, open_socket):
    """`rediss://` with a throwaway certificate: store, queue and rate limits all speak TLS."""
    a = fleet.start(tls_redis.url)
    b = fleet.start(tls_redis.url)
    _, viewer, code, host_socket, viewer_socket = a_room_across(a, b, open_socket)
    host_socket.emit("SEEK", {"time": 12})
    assert viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["time"] == 12)["is_playing"] is False
    assert viewer.get("/api/rooms/public/").status_code == 200
    assert any(key.startswith("room:") or code in key for key in tls_redis.client().keys("*"))
