"""The realtime-store interface: soft, rebuildable state shared by server processes."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from watchparty.realtime.sync_state import SyncState


class RealtimeUnavailable(Exception):
    """The realtime store did not answer."""


class TooManySockets(Exception):
    """The user already holds the most sockets allowed in this room (R174)."""


@dataclass(frozen=True)
class SocketRecord:
    """One connected socket as the store remembers it."""

    sid: str
    room_code: str
    user_id: int
    process_id: str


@dataclass(frozen=True)
class SocketRemoval:
    """What removing one socket changed."""

    room_code: str
    user_id: int
    was_last_of_user: bool


@dataclass(frozen=True)
class RoomView:
    """What a connecting socket is told about its room's soft state (R32, R100a, R156)."""

    present_user_ids: list[int]
    playback: dict | None  # the cached snapshot
    ready_check: dict | None
    skip_votes: int  # for the media version asked about


class RealtimeStore(SyncState, ABC):
    """Presence, grace keys, chat counters, playback cache and heartbeats.

    Every method is atomic on its own (one Lua script, pipeline or lock), so
    several server processes can call them at once. Methods raise
    RealtimeUnavailable when the backend does not answer.
    """

    is_shared: bool = False  # True when other processes see the same state

    @abstractmethod
    def ping(self) -> bool:
        """Return True when the store answers."""

    # presence --------------------------------------------------------------
    @abstractmethod
    def add_socket(self, record: SocketRecord, max_per_user: int = 0) -> bool:
        """Record a socket; return True if it is the user's first in the room.

        Idempotent: a sid already recorded changes nothing and returns False.
        With max_per_user > 0, raise TooManySockets instead of recording one more.
        """

    def admit_socket(
        self, record: SocketRecord, max_per_user: int, media_version: int
    ) -> tuple[bool, RoomView]:
        """add_socket, then room_view of its room (Redis: one script, one round trip)."""
        return self.add_socket(record, max_per_user), self.room_view(record.room_code, media_version)

    def room_view(self, code: str, media_version: int) -> RoomView:
        """Presence, cached playback, ready check and skip votes: what a connecting socket is told."""
        return RoomView(
            self.present_user_ids(code),
            self.cached_playback(code),
            self.ready_check(code),
            self.skip_votes(code, media_version),
        )

    @abstractmethod
    def remove_socket(self, process_id: str, sid: str) -> SocketRemoval | None:
        """Forget a socket; None when it was not recorded (closed room, swept)."""

    @abstractmethod
    def viewer_count(self, code: str) -> int:
        """Return the number of distinct users with a socket in the room."""

    @abstractmethod
    def viewer_counts(self, codes: list[str]) -> dict[str, int]:
        """Return viewer_count for several rooms in one round trip."""

    @abstractmethod
    def present_user_ids(self, code: str) -> list[int]:
        """Return the ids of the users with a socket in the room."""

    @abstractmethod
    def room_sids(self, code: str) -> list[str]:
        """Return the sids recorded in the room."""

    @abstractmethod
    def has_socket(self, code: str, sid: str) -> bool:
        """Return True if the sid is recorded in the room."""

    @abstractmethod
    def user_sockets(self, code: str, user_id: int) -> list[SocketRecord]:
        """Return the sockets one user has in the room, on any process."""

    # process liveness --------------------------------------------------------
    @abstractmethod
    def beat(self, process_id: str, now: float) -> bool:
        """Record that the process is alive; True if its record was missing."""

    @abstractmethod
    def silent_processes(self, older_than: float) -> list[str]:
        """Return the processes whose last beat is older than the given time."""

    @abstractmethod
    def claim_dead_process(self, process_id: str) -> list[SocketRecord] | None:
        """Take a dead process's heartbeat; its sockets to the one caller that won, else None."""

    @abstractmethod
    def forget_process(self, process_id: str) -> None:
        """Drop a process's heartbeat and socket table (clean shutdown)."""

    # grace -------------------------------------------------------------------
    @abstractmethod
    def start_grace(self, code: str, seconds: float) -> None:
        """Set the room's grace key with a TTL (SPEC R40)."""

    @abstractmethod
    def grace_active(self, code: str) -> bool:
        """Return True while the room's grace key exists."""

    @abstractmethod
    def end_grace(self, code: str) -> bool:
        """Delete the grace key; True if it existed (SPEC R41)."""

    # chat --------------------------------------------------------------------
    @abstractmethod
    def count_chat_message(self, code: str, user_id: int, window_seconds: float) -> int:
        """Count a message in the user's rate window and return the count (SPEC R53)."""

    @abstractmethod
    def claim_chat_text(self, code: str, user_id: int, digest: str, seconds: float) -> bool:
        """Mark a normalised text as sent; False if it was already marked (SPEC R54)."""

    # moderation and queue ------------------------------------------------------
    @abstractmethod
    def count_pause(self, code: str, user_id: int, limit: int, window_seconds: float) -> bool:
        """Count a viewer's PAUSE if fewer than `limit` were counted in the window (SPEC R106).

        The window starts with the first counted PAUSE and ends by TTL; a PAUSE
        over the budget is not counted. Returns True when this one was counted.
        """

    @abstractmethod
    def add_skip_vote(self, code: str, media_version: int, user_id: int, seconds: float) -> tuple[bool, int]:
        """Record one user's vote to skip a media version: (new vote?, votes so far) (SPEC R156)."""

    @abstractmethod
    def skip_votes(self, code: str, media_version: int) -> int:
        """Return how many users voted to skip the media version."""

    # playback cache ------------------------------------------------------------
    @abstractmethod
    def cache_playback(self, code: str, snapshot: dict) -> bool:
        """Store the snapshot only if its version is newer than the cached one."""

    def cache_playback_reading_check(
        self, code: str, snapshot: dict, publish: tuple[str, str] | None = None
    ) -> tuple[bool, dict | None]:
        """cache_playback, and the room's pending ready check read in the same step (Redis: one script).

        `publish`: (channel, message) to publish on the store's server right after the write, in
        the same step; only a shared store (is_shared) can.
        """
        if publish is not None:
            raise ValueError("this realtime store has no message queue to publish on")
        return self.cache_playback(code, snapshot), self.ready_check(code)

    @abstractmethod
    def cached_playback(self, code: str) -> dict | None:
        """Return the cached snapshot, or None."""

    @abstractmethod
    def forget_playback(self, code: str) -> None:
        """Drop the cached snapshot."""

    # closing -------------------------------------------------------------------
    @abstractmethod
    def forget_room(self, code: str) -> list[SocketRecord]:
        """Remove every key of the room and its sockets from the process tables.

        Returns the sockets that were recorded, so the caller can close them.
        """
