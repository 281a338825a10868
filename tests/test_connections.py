"""Connection limits of a serving process, under `python wsgi.py` and gunicorn (SPEC R175)."""

import base64
import os
import socket
import struct

import pytest
import requests

from tests.support import GUNICORN


def open_websocket(base_url: str) -> socket.socket:
    """A raw Engine.IO WebSocket, upgraded and past its open packet."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def frame_header(opcode: int, length: int, fin: bool = True) -> bytes:
    """A masked client frame header announcing length bytes (mask key of zeros)."""
    first = (0x80 if fin else 0) | opcode
    return struct.pack("!BBQ", first, 0x80 | 127, length) + b"\0\0\0\0"


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Read one unmasked server frame: (opcode, payload)."""
    first, second = recv_exactly(sock, 2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", recv_exactly(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", recv_exactly(sock, 8))
    return first & 0x0F, recv_exactly(sock, length)


def recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def close_code_after(sock: socket.socket) -> int:
    """Skip data frames until the server's close frame; return its code."""
    while True:
        opcode, payload = read_frame(sock)
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0]


@pytest.fixture(params=["wsgi", "gunicorn"])
def server(request, fleet):
    command = GUNICORN if request.param == "gunicorn" else None
    return fleet.start(None, command=command, REQUEST_READ_TIMEOUT_SECONDS=1)


def test_connection_limits(server):
    """One server per handler, every limit checked on it in turn."""
    assert_a_frame_announcing_gigabytes_is_closed_1009_before_reading(server)
    assert_fragments_adding_up_past_the_limit_are_closed_1009(server)
    assert_headers_that_never_finish_are_cut(server)
    assert_a_body_that_stops_arriving_is_cut(server)
    assert requests.get(server.url + "/api/health/", timeout=10).status_code == 200
    assert "Traceback" not in server.log_tail(300)


def assert_a_frame_announcing_gigabytes_is_closed_1009_before_reading(server):
    sock = open_websocket(server.url)
    sock.sendall(frame_header(0x1, 8 * 1024**3))
    assert close_code_after(sock) == 1009


def assert_fragments_adding_up_past_the_limit_are_closed_1009(server):
    sock = open_websocket(server.url)
    sock.sendall(frame_header(0x1, 600_000, fin=False) + b"4" * 600_000)
    sock.sendall(frame_header(0x0, 600_000))
    assert close_code_after(sock) == 1009


def raw_http(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def assert_headers_that_never_finish_are_cut(server):
    sock = raw_http(server)
    sock.sendall(b"GET /api/health/ HTTP/1.1\r\nHost: x\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 408")


def assert_a_body_that_stops_arriving_is_cut(server):
    sock = raw_http(server)
    sock.sendall(
        b"POST /api/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100\r\n\r\nemail="
    )
    answer = sock.recv(4096)  # the read times out: Werkzeug answers "client disconnected"
    assert answer.startswith(b"HTTP/1.1 400"), answer
