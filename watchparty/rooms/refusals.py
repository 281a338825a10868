"""Why a /room connection is refused (SPEC R31), in the order they are checked."""

UNAUTHORIZED = "unauthorized"
ROOM_NOT_FOUND = "room_not_found"
ROOM_CLOSED = "room_closed"
BANNED = "banned"
NOT_A_PARTICIPANT = "not_a_participant"
SERVICE_UNAVAILABLE = "service_unavailable"
TOO_MANY_CONNECTIONS = "too_many_connections"

MESSAGES = {
    UNAUTHORIZED: "A valid access token is required.",
    ROOM_NOT_FOUND: "There is no room with this code.",
    ROOM_CLOSED: "This room was closed.",
    BANNED: "You are banned from this room.",
    NOT_A_PARTICIPANT: "Join the room before connecting.",
    SERVICE_UNAVAILABLE: "The realtime service is unavailable; try again shortly.",
    TOO_MANY_CONNECTIONS: "You have too many connections to this room; close one first.",
}


class ConnectionRefused(Exception):
    """A refused connection, carrying the R31 code."""

    def __init__(self, code: str):
        super().__init__(MESSAGES[code])
        self.code = code
        self.message = MESSAGES[code]

    def payload(self) -> dict:
        """The CONNECT_ERROR payload of R31, readable by the Python and JavaScript clients."""
        return {
            "message": self.message,
            "code": self.code,
            "data": {"code": self.code, "message": self.message},
        }
