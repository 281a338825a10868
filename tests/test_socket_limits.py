"""Sessions that end their sockets, sockets per user, events per socket (SPEC R170, R174)."""

import pytest
import socketio

from tests.support import ApiUser, RoomSocket, connected, connected_room, wait_until
from tests.test_realtime import refusal


def test_logout_kicks_that_sessions_sockets_on_every_process_and_refuses_its_tokens(
    fleet, redis_url, open_socket
):
    first, second = fleet.pair(redis_url)
    code, _host, viewer, _host_sock, viewer_sock = connected_room(open_socket, first, second)
    laptop = ApiUser(first.url)
    assert laptop.post(
        "/api/auth/login/", json={"email": viewer.user["email"], "password": viewer.password}
    ).ok
    laptop_sock = connected(open_socket, first.url, laptop, code)
    old_token = viewer.token()

    assert viewer.post("/api/auth/logout/").status_code == 204  # served by the other process
    assert viewer_sock.wait_for("KICKED") == {"reason": "logged_out"}
    wait_until(lambda: not viewer_sock.connected, message="the logged-out socket disconnected")
    assert refusal(second.url, old_token, code)["code"] == "unauthorized"
    assert laptop_sock.connected  # another login of the same user keeps its socket
    assert laptop.token()


def test_a_user_holds_at_most_max_sockets_in_a_room(fleet, redis_url, open_socket):
    first, second = fleet.pair(redis_url, MAX_SOCKETS_PER_USER=2)
    code, _host, viewer, _host_sock, viewer_sock = connected_room(open_socket, first, second)
    connected(open_socket, first.url, viewer, code)
    assert refusal(first.url, viewer.token(), code)["code"] == "too_many_connections"
    assert refusal(second.url, viewer.token(), code)["code"] == "too_many_connections"
    viewer_sock.disconnect()
    wait_until(lambda: try_connect(open_socket, second.url, viewer.token(), code), message="a freed place")


def try_connect(open_socket, base_url: str, token: str, code: str) -> bool:
    try:
        open_socket(base_url, token, code)
    except socketio.exceptions.ConnectionError:
        return False
    return True


def test_events_past_the_burst_are_dropped_without_an_answer(fleet, redis_url, open_socket):
    server = fleet.start(redis_url, SOCKET_EVENTS_PER_SECOND=0.001, SOCKET_EVENTS_BURST=3)
    _code, _host, _viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)
    for _ in range(3):
        host_sock.call("SYNC_CHECK", {"time": 0})
    with pytest.raises(socketio.exceptions.TimeoutError):
        host_sock.call("SYNC_CHECK", {"time": 0}, timeout=3)
    assert host_sock.connected
    viewer_sock.call("SYNC_CHECK", {"time": 0})  # answered: each socket has its own budget


def test_an_open_socket_outlives_its_token(fleet, redis_url, open_socket):
    server = fleet.start(redis_url, JWT_ACCESS_TOKEN_EXPIRES=2)
    code, host, _viewer, host_sock, viewer_sock = connected_room(open_socket, server, server)
    token = host.token()
    wait_until(lambda: refusal_code(server.url, token, code) == "unauthorized", message="the token expired")
    host_sock.emit("SEEK", {"time": 33})
    assert viewer_sock.wait_for("PLAYBACK_STATE", lambda state: state["time"] == 33)
    assert host_sock.connected and viewer_sock.connected


def refusal_code(base_url: str, token: str, code: str) -> str | None:
    """The R31 code refusing this connection, or None (then the socket is closed again)."""
    sock = RoomSocket(base_url, token, code)
    try:
        sock.connect()
    except socketio.exceptions.ConnectionError:
        return wait_until(lambda: sock.connect_error, message="connect_error payload").get("code")
    sock.disconnect()
    return None
