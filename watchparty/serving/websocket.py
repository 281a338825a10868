"""A gevent-websocket WebSocket that refuses an oversized message before reading it (SPEC R175)."""

import struct

from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import Header, WebSocket

CLOSE_MESSAGE_TOO_BIG = 1009
CONTROL_FRAME_MAX = 125  # RFC 6455 5.5


class MessageTooBig(Exception):
    """A frame header announced more than the message limit."""


class SizeLimitedWebSocket(WebSocket):
    """Checks each frame's announced length, and the running total of a fragmented message.

    The stock class reads every frame whole, then joins fragments without a
    bound: one header claiming gigabytes reserves that much memory.
    """

    max_message_bytes = 1_048_576

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.message_bytes = 0

    def read_frame(self):
        header = Header.decode_header(self.stream)
        self._check_length(header)
        if header.flags:
            raise ProtocolError
        if not header.length:
            return header, b""
        payload = self.raw_read(header.length)
        if len(payload) != header.length:
            raise ProtocolError("Unexpected EOF reading frame payload")
        return header, header.unmask_payload(payload) if header.mask else payload

    def _check_length(self, header) -> None:
        if header.opcode in (self.OPCODE_CLOSE, self.OPCODE_PING, self.OPCODE_PONG):
            if header.length > CONTROL_FRAME_MAX:
                raise ProtocolError("control frame too long")
            return
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY):
            self.message_bytes = 0
        self.message_bytes += header.length
        if self.message_bytes > self.max_message_bytes:
            raise MessageTooBig()

    def receive(self):
        try:
            return super().receive()
        except MessageTooBig:
            self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
            return None

    def close(self, code=1000, message=""):
        """Close with the code in the frame: the stock close() sends only the reason (clients see 1005)."""
        if self.closed:
            return
        reason = message.encode() if isinstance(message, str) else bytes(message)
        try:
            self.send_frame(struct.pack("!H", code) + reason, self.OPCODE_CLOSE)
        except WebSocketError:
            pass  # the peer is gone; closing anyway
        finally:
            self.closed = True
            self.stream = self.raw_write = self.raw_read = self.environ = None
