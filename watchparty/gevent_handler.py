"""The gevent request handler: Nagle off, a small read buffer, one system call per WebSocket frame."""

import socket

from geventwebsocket.handler import WebSocketHandler

#: Bytes pywsgi buffers when reading a connection. Its default (8 KiB) stays
#: allocated for as long as a WebSocket lives; reads larger than the buffer
#: bypass it, so requests and frames of any size are read all the same.
READ_BUFFER_BYTES = 2048


class LeanHandler(WebSocketHandler):
    """Serves HTTP and WebSocket as gevent-websocket does, with less memory and fewer syscalls per socket.

    Nagle's algorithm is off: pywsgi writes a response's headers and body
    separately, and with Nagle on the body of every keep-alive response waits
    ~40 ms for a delayed ACK.
    """

    def __init__(self, sock, address, server, rfile=None):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)

    def run_websocket(self):
        self.websocket.raw_write = frame_writer(self.socket)
        return super().run_websocket()


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
