"""The gevent connection handler of `python wsgi.py` and the gunicorn worker alike (SPEC R175)."""

import socket

import gevent
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Stream

from watchparty.serving.websocket import SizeLimitedWebSocket

#: Bytes pywsgi buffers when reading a connection. Its default (8 KiB) stays
#: allocated for as long as a WebSocket lives; reads larger than the buffer
#: bypass it, so requests and frames of any size are read all the same.
READ_BUFFER_BYTES = 2048

REQUEST_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class SlowClient(socket.timeout):
    """The request's headers did not arrive in time."""


class ConnectionHandler(WebSocketHandler):
    """No Nagle, a deadline on headers, a pause limit on bodies, size-limited WebSockets."""

    # A client must send a request's headers within this time, and may not pause longer in a body.
    read_timeout_seconds = 30.0

    def __init__(self, sock, address, server, rfile=None):
        # pywsgi writes headers and body separately: with Nagle on, every
        # keep-alive response body waits ~40 ms for a delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout_seconds)  # the longest pause in a read
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)
        self.headers_deadline = None

    def run_websocket(self):
        self.websocket.raw_write = frame_writer(self.socket)
        return super().run_websocket()

    def read_requestline(self):
        self.headers_deadline = gevent.Timeout.start_new(
            self.read_timeout_seconds, SlowClient("headers too slow")
        )
        return super().read_requestline()

    def read_request(self, raw_requestline):
        try:
            return super().read_request(raw_requestline)
        finally:
            self.headers_deadline.cancel()

    def _handle_client_error(self, ex):
        if isinstance(ex, SlowClient):
            return ("408", REQUEST_TIMEOUT_RESPONSE)
        return super()._handle_client_error(ex)

    def handle_one_request(self):
        try:
            return super().handle_one_request()
        finally:
            if self.headers_deadline is not None:
                self.headers_deadline.cancel()

    def upgrade_connection(self):
        """Upgrade as gevent-websocket does, then swap in the size-limited WebSocket."""
        result = super().upgrade_connection()
        if "wsgi.websocket" in self.environ:
            self.websocket.closed = True  # unused: its __del__ must not send a close frame
            self.websocket = SizeLimitedWebSocket(self.environ, Stream(self), self)
            self.environ["wsgi.websocket"] = self.websocket
            self.socket.settimeout(None)  # Engine.IO's pings watch an open WebSocket
        return result


def frame_writer(sock):
    """A write() for whole WebSocket frames: one send() when the kernel takes it all (nearly always).

    gevent's sendall asks the kernel for SO_SNDBUF and arms a Timeout on every
    call: per frame and per viewer on the fan-out path. The rest of a partial
    send still goes through sendall, with its timeout.
    """
    send, sendall = sock.send, sock.sendall

    def write(data: bytes) -> None:
        sent = send(data)
        if sent < len(data):
            sendall(memoryview(data)[sent:])

    return write


def configure_connections(max_message_bytes: int, read_timeout_seconds: float) -> None:
    """Set the largest WebSocket message (MAX_CONTENT_LENGTH) and the read timeout (R175)."""
    SizeLimitedWebSocket.max_message_bytes = max_message_bytes
    ConnectionHandler.read_timeout_seconds = read_timeout_seconds
