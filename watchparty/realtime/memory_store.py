"""The realtime store in process memory, for a single server process without Redis."""

import functools
import json
import threading
import time

from watchparty.realtime import keys
from watchparty.realtime.base import RealtimeStore, SocketRecord, SocketRemoval, TooManySockets
from watchparty.realtime.memory_sync_state import MemorySyncState

# Expired entries are dropped when read; a sweep on growth bounds the ones never read again.
_FIRST_PURGE_SIZE = 1024


def _locked(method):
    """Run the method under the store's lock."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _pop_nested(tables: dict, outer, inner):
    """Pop tables[outer][inner] and drop tables[outer] once it is empty; None if missing."""
    table = tables.get(outer)
    if table is None:
        return None
    value = table.pop(inner, None)
    if not table:
        del tables[outer]
    return value


def _ttl(seconds: float) -> float:
    """Return a TTL of at least one millisecond, as Redis would."""
    return max(seconds, 0.001)


class MemoryStore(MemorySyncState, RealtimeStore):
    """RealtimeStore in plain dicts behind one lock; state is this process's only."""

    is_shared = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._process_sockets: dict[str, dict[str, tuple[str, int]]] = {}  # sid -> code, user
        self._room_sockets: dict[str, dict[str, tuple[str, int]]] = {}  # sid -> process, user
        self._presence: dict[str, dict[int, int]] = {}  # user -> number of sockets
        self._heartbeats: dict[str, float] = {}
        self._expiring: dict[str, tuple[object, float]] = {}  # key -> value, expires_at
        self._playback: dict[str, tuple[object, str]] = {}  # code -> version, JSON
        self._purge_size = _FIRST_PURGE_SIZE

    def ping(self) -> bool:
        """Return True: memory always answers."""
        return True

    # expiring entries ----------------------------------------------------------
    def _live(self, key: str) -> tuple[object, float] | None:
        """Return (value, expires_at) of an unexpired entry, dropping it if expired."""
        item = self._expiring.get(key)
        if item is not None and item[1] <= time.monotonic():
            del self._expiring[key]
            return None
        return item

    def _set_expiring(self, key: str, value: object, seconds: float) -> None:
        self._expiring[key] = (value, time.monotonic() + _ttl(seconds))
        if len(self._expiring) >= self._purge_size:
            self._purge_expired()

    def _purge_expired(self) -> None:
        now = time.monotonic()
        for key in [key for key, (_, expires_at) in self._expiring.items() if expires_at <= now]:
            del self._expiring[key]
        self._purge_size = max(_FIRST_PURGE_SIZE, 2 * len(self._expiring))

    # presence --------------------------------------------------------------
    @_locked
    def add_socket(self, record: SocketRecord, max_per_user: int = 0) -> bool:
        """Record a socket in its process table and its room; True for the user's first."""
        table = self._process_sockets.setdefault(record.process_id, {})
        if record.sid in table:
            return False
        if max_per_user and self._presence.get(record.room_code, {}).get(record.user_id, 0) >= max_per_user:
            raise TooManySockets()
        table[record.sid] = (record.room_code, record.user_id)
        room = self._room_sockets.setdefault(record.room_code, {})
        room[record.sid] = (record.process_id, record.user_id)
        counts = self._presence.setdefault(record.room_code, {})
        counts[record.user_id] = counts.get(record.user_id, 0) + 1
        return counts[record.user_id] == 1

    @_locked
    def remove_socket(self, process_id: str, sid: str) -> SocketRemoval | None:
        """Forget a socket; None when its process table does not hold it."""
        found = _pop_nested(self._process_sockets, process_id, sid)
        if found is None:
            return None
        code, user_id = found
        _pop_nested(self._room_sockets, code, sid)
        return SocketRemoval(code, user_id, self._leave(code, user_id))

    def _leave(self, code: str, user_id: int) -> bool:
        """Count one socket of the user out of the room; True if it was the last."""
        counts = self._presence.get(code, {})
        left = counts.get(user_id, 0) - 1
        if left > 0:
            counts[user_id] = left
            return False
        _pop_nested(self._presence, code, user_id)
        return True

    @_locked
    def viewer_count(self, code: str) -> int:
        """Return the number of distinct users present in the room."""
        return len(self._presence.get(code, {}))

    @_locked
    def viewer_counts(self, codes: list[str]) -> dict[str, int]:
        """Return viewer_count for several rooms."""
        return {code: self.viewer_count(code) for code in codes}

    @_locked
    def present_user_ids(self, code: str) -> list[int]:
        """Return the ids of the users present in the room."""
        return sorted(self._presence.get(code, {}))

    @_locked
    def room_sids(self, code: str) -> list[str]:
        """Return the sids recorded in the room."""
        return list(self._room_sockets.get(code, {}))

    @_locked
    def has_socket(self, code: str, sid: str) -> bool:
        """Return True if the sid is recorded in the room."""
        return sid in self._room_sockets.get(code, {})

    @_locked
    def user_sockets(self, code: str, user_id: int) -> list[SocketRecord]:
        """Return the sockets one user has in the room."""
        room = self._room_sockets.get(code, {})
        return [
            SocketRecord(sid, code, owner, process_id)
            for sid, (process_id, owner) in room.items()
            if owner == user_id
        ]

    # process liveness --------------------------------------------------------
    @_locked
    def beat(self, process_id: str, now: float) -> bool:
        """Refresh the heartbeat; True if it was missing."""
        missing = process_id not in self._heartbeats
        self._heartbeats[process_id] = now
        return missing

    @_locked
    def silent_processes(self, older_than: float) -> list[str]:
        """Return the processes whose last beat is strictly older than the given time."""
        return [process for process, last in self._heartbeats.items() if last < older_than]

    @_locked
    def claim_dead_process(self, process_id: str) -> list[SocketRecord] | None:
        """Claim a dead process by removing its heartbeat; its sockets to the one winner.

        The process table is left in place: the winner replays a disconnect for each
        record through remove_socket, which empties it. None when already claimed.
        """
        if self._heartbeats.pop(process_id, None) is None:
            return None
        table = self._process_sockets.get(process_id, {})
        return [SocketRecord(sid, code, user_id, process_id) for sid, (code, user_id) in table.items()]

    @_locked
    def forget_process(self, process_id: str) -> None:
        """Drop the heartbeat and every socket of the process."""
        self._heartbeats.pop(process_id, None)
        for sid in list(self._process_sockets.get(process_id, {})):
            self.remove_socket(process_id, sid)

    # grace -------------------------------------------------------------------
    @_locked
    def start_grace(self, code: str, seconds: float) -> None:
        """Set the room's grace entry with a TTL."""
        self._set_expiring(keys.room_grace(code), "1", seconds)

    @_locked
    def grace_active(self, code: str) -> bool:
        """Return True while the grace entry has not expired."""
        return self._live(keys.room_grace(code)) is not None

    @_locked
    def end_grace(self, code: str) -> bool:
        """Delete the grace entry; True if it was live."""
        live = self._live(keys.room_grace(code)) is not None
        self._expiring.pop(keys.room_grace(code), None)
        return live

    # chat --------------------------------------------------------------------
    @_locked
    def count_chat_message(self, code: str, user_id: int, window_seconds: float) -> int:
        """Count a message; the window starts with the first message and ends by TTL."""
        key = keys.chat_rate(code, user_id)
        item = self._live(key)
        if item is None:
            self._set_expiring(key, 1, window_seconds)
            return 1
        count, expires_at = item
        self._expiring[key] = (count + 1, expires_at)
        return count + 1

    @_locked
    def claim_chat_text(self, code: str, user_id: int, digest: str, seconds: float) -> bool:
        """Mark a text as sent for some seconds; False if it was already marked."""
        key = keys.chat_duplicate(code, user_id, digest)
        if self._live(key) is not None:
            return False
        self._set_expiring(key, "1", seconds)
        return True

    # moderation and queue ------------------------------------------------------
    @_locked
    def count_pause(self, code: str, user_id: int, limit: int, window_seconds: float) -> bool:
        """Count a viewer's PAUSE within its budget."""
        key = keys.pause_budget(code, user_id)
        item = self._live(key)
        if item is None:
            if limit < 1:
                return False
            self._set_expiring(key, 1, window_seconds)
            return True
        count, expires_at = item
        if count >= limit:
            return False
        self._expiring[key] = (count + 1, expires_at)
        return True

    @_locked
    def add_skip_vote(self, code: str, media_version: int, user_id: int, seconds: float) -> tuple[bool, int]:
        """Add a vote and count the votes."""
        key = keys.skip_votes(code, media_version)
        item = self._live(key)
        voters = set(item[0]) if item is not None else set()
        added = user_id not in voters
        voters.add(user_id)
        self._set_expiring(key, frozenset(voters), seconds)
        return added, len(voters)

    @_locked
    def skip_votes(self, code: str, media_version: int) -> int:
        """Return the number of votes for the media version."""
        item = self._live(keys.skip_votes(code, media_version))
        return len(item[0]) if item is not None else 0

    # playback cache ------------------------------------------------------------
    @_locked
    def cache_playback(self, code: str, snapshot: dict) -> bool:
        """Store the snapshot only if its version is newer than the cached one."""
        cached = self._playback.get(code)
        if cached is not None and cached[0] is not None and cached[0] >= snapshot["version"]:
            return False
        self._playback[code] = (snapshot["version"], json.dumps(snapshot))
        return True

    @_locked
    def cached_playback(self, code: str) -> dict | None:
        """Return the cached snapshot, or None."""
        cached = self._playback.get(code)
        return None if cached is None else json.loads(cached[1])

    @_locked
    def forget_playback(self, code: str) -> None:
        """Drop the cached snapshot."""
        self._playback.pop(code, None)

    # closing -------------------------------------------------------------------
    @_locked
    def forget_room(self, code: str) -> list[SocketRecord]:
        """Drop everything of the room and take its sockets out of their process tables."""
        sockets = self._room_sockets.pop(code, {})
        records = [
            SocketRecord(sid, code, user_id, process_id) for sid, (process_id, user_id) in sockets.items()
        ]
        for record in records:
            _pop_nested(self._process_sockets, record.process_id, record.sid)
        self._presence.pop(code, None)
        self._playback.pop(code, None)
        prefix = keys.room_prefix(code)
        for key in [key for key in self._expiring if key.startswith(prefix)]:
            del self._expiring[key]
        return records
