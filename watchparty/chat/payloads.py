"""What sockets may send to chat (R50); anything else is ignored (R36)."""

from watchparty.realtime.payloads import SocketPayload


class SendChat(SocketPayload):
    message: str
