"""The realtime store's part for the sync engine: readiness, sync health, ready checks (R110-R131).

Everything here is per room under the room's key prefix, so closing a room
removes it (R177); each method is atomic on its own.
"""

from abc import ABC, abstractmethod

#: Keys that outlive their use are cleaned with the room; this bounds them anyway.
ROOM_STATE_TTL_SECONDS = 24 * 3600


class SyncState(ABC):
    """Readiness per socket, health reports per socket, time slots and the room's ready check."""

    @abstractmethod
    def set_ready(self, code: str, sid: str, user_id: int, ready: bool) -> None:
        """Record a socket's READY (R110); a socket never recorded counts as ready."""

    @abstractmethod
    def not_ready_user_ids(self, code: str) -> set[int]:
        """Users with at least one socket whose last READY was false."""

    @abstractmethod
    def record_health(self, code: str, sid: str, report: dict, keep_seconds: float) -> None:
        """Keep a socket's last drift, rtt and buffering (with `user_id` and `at`) (R130)."""

    @abstractmethod
    def health_reports(self, code: str, keep_seconds: float, now: float) -> dict[str, dict]:
        """sid -> last report, for the reports younger than keep_seconds."""

    @abstractmethod
    def socket_users(self, code: str) -> dict[str, int]:
        """sid -> user_id of every socket recorded in the room."""

    @abstractmethod
    def forget_socket_sync(self, code: str, sid: str) -> None:
        """Drop a socket's readiness and health (it disconnected)."""

    @abstractmethod
    def claim_slot(self, key: str, seconds: float) -> float:
        """Take a time slot: 0.0 when this caller got it, else the seconds it has left."""

    @abstractmethod
    def save_ready_check(self, code: str, check: dict, seconds: float) -> None:
        """Store the room's pending ready check, replacing any other, for `seconds`."""

    @abstractmethod
    def ready_check(self, code: str) -> dict | None:
        """The room's pending ready check, or None."""

    @abstractmethod
    def replace_ready_check(self, code: str, version: int, check: dict | None) -> bool:
        """Replace (None: remove) the pending check bound to `version`; False if it is not that one."""
