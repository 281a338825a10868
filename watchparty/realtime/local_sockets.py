"""This process's view of its own sockets in the /room namespace."""

import threading
import uuid
from dataclasses import dataclass

# One id per server process: its heartbeat and socket table in the realtime store.
PROCESS_ID = uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class SocketContext:
    """Who a connected socket is and which room it is in (one connection, one room).

    Roles are not kept here: the host and cohosts can change while a socket
    lives (R102-R104), so they are read when needed.
    """

    sid: str
    room_id: int
    room_code: str
    user_id: int


class LocalSockets:
    """The sockets connected to this process, by sid."""

    def __init__(self) -> None:
        self._by_sid: dict[str, SocketContext] = {}
        self._lock = threading.Lock()

    def add(self, context: SocketContext) -> None:
        with self._lock:
            self._by_sid[context.sid] = context

    def pop(self, sid: str) -> SocketContext | None:
        with self._lock:
            return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> SocketContext | None:
        return self._by_sid.get(sid)

    def all(self) -> list[SocketContext]:
        with self._lock:
            return list(self._by_sid.values())


local_sockets = LocalSockets()
