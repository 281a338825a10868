"""The lean WebSocket frame writer sends every byte, also when the kernel takes a frame in parts."""

import socket
import threading

from watchparty.serving.handler import frame_writer


def test_a_frame_larger_than_the_socket_buffer_arrives_whole():
    left, right = socket.socketpair()
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    left.settimeout(30)
    payload = bytes(range(256)) * 16384  # 4 MiB: send() takes only part of it
    received = bytearray()

    def read_all():
        while len(received) < len(payload):
            chunk = right.recv(65536)
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read_all)
    reader.start()
    frame_writer(left)(payload)
    reader.join(timeout=60)
    left.close()
    right.close()
    assert bytes(received) == payload
