"""Socket.IO packets from clients: what python-socketio cannot take is dropped silently (SPEC R36).

python-socketio decodes each packet inside its Engine.IO message handler: JSON
nested past the recursion limit, an event whose name is not a string, a
binary packet that announces no attachment or points at one it never sends
raise there, and Engine.IO logs a traceback per packet (or the socket stops
taking events). Such packets are refused while decoding, as IgnoredPacket,
which the server's message handler drops (socket_server.drop_ignored_packets).

The server itself sends JSON only, so its packets skip python-socketio's
search of every outgoing payload for bytes to send as attachments (a walk of
the whole PRESENCE list on every connect), and orjson writes them
(packet_json).
"""

from socketio import packet

from watchparty.realtime import packet_json

# What a client may send; CONNECT_ERROR and anything unknown are the server's to send, or nobody's.
FROM_CLIENTS = {packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK, packet.BINARY_EVENT,
                packet.BINARY_ACK}  # fmt: skip
EVENTS = {packet.EVENT, packet.BINARY_EVENT}
BINARY = {packet.BINARY_EVENT, packet.BINARY_ACK}


class IgnoredPacket(ValueError):
    """A client packet that is malformed for Socket.IO itself."""


class ClientPacket(packet.Packet):
    """python-socketio's packet, refusing at decode time what its dispatch would choke on."""

    uses_binary_events = False  # for what we send; binary packets from clients still decode
    json = packet_json

    def decode(self, encoded_packet):
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, TypeError, RecursionError) as exc:  # JSON errors are ValueErrors
            raise IgnoredPacket(type(exc).__name__) from None
        if not self.acceptable(attachments):
            raise IgnoredPacket(f"packet type {self.packet_type!r}")
        return attachments

    def acceptable(self, attachments: int) -> bool:
        """A type a client may send; an event named by a string; binary with its attachments."""
        if self.packet_type not in FROM_CLIENTS:
            return False
        if self.packet_type in EVENTS and not names_an_event(self.data):
            return False
        return (self.packet_type in BINARY) == (attachments > 0)

    @classmethod
    def _reconstruct_binary_internal(cls, data, attachments):
        """A placeholder naming an attachment never sent becomes None (then the payload is malformed)."""
        if isinstance(data, dict) and data.get("_placeholder") and "num" in data:
            number = data["num"]
            valid = (
                isinstance(number, int) and not isinstance(number, bool) and 0 <= number < len(attachments)
            )
            return attachments[number] if valid else None
        return super()._reconstruct_binary_internal(data, attachments)


def names_an_event(data) -> bool:
    return isinstance(data, list) and len(data) > 0 and isinstance(data[0], str)
