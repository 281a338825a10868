"""The realtime store on Redis, shared by every server process."""

import json
import re

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from watchparty.realtime import keys
from watchparty.realtime.base import (
    RealtimeStore,
    RealtimeUnavailable,
    RoomView,
    SocketRecord,
    SocketRemoval,
    TooManySockets,
)
from watchparty.realtime.connection import redis_client
from watchparty.realtime.redis_errors import translated as _translated
from watchparty.realtime.redis_sync_state import RedisSyncState

# A compare-and-set only fails when another process changed the same entries in between.
_CAS_ATTEMPTS = 16
_CHANGED = object()

_ADD_SOCKET_FUNCTION = """
-- KEYS: process table, room sockets, room presence
-- ARGV: sid, "code|user_id", "process_id|user_id", user_id, most sockets per user (0: no cap)
-- Returns 1 for the user's first socket, 0 for another, -1 when the cap refuses it.
local function add_socket()
  if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 1 then return 0 end
  local cap = tonumber(ARGV[5])
  if cap > 0 and tonumber(redis.call("HGET", KEYS[3], ARGV[4]) or "0") >= cap then return -1 end
  redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
  redis.call("HSET", KEYS[2], ARGV[1], ARGV[3])
  if redis.call("HINCRBY", KEYS[3], ARGV[4], 1) == 1 then return 1 end
  return 0
end
"""

_ADD_SOCKET = _ADD_SOCKET_FUNCTION + "return add_socket()"

_ADMIT_SOCKET = (
    _ADD_SOCKET_FUNCTION
    + """
-- KEYS[4..6]: the room's cached playback, ready check, skip votes of its media version
-- Returns {-1} when the cap refuses, else {added, present user ids, playback, check, votes}.
local added = add_socket()
if added == -1 then return {-1} end
return {added, redis.call("HKEYS", KEYS[3]), redis.call("GET", KEYS[4]), redis.call("GET", KEYS[5]),
        redis.call("SCARD", KEYS[6])}
"""
)

_DROP_SOCKETS = """
-- KEYS[1]: process table; KEYS[2i], KEYS[2i+1]: room sockets and presence of socket i
-- ARGV[1]: expected table size or ""; ARGV[3i-1..3i+1]: sid, expected entry, user_id
-- Returns false when the table no longer matches, else one "was last" flag per socket.
local n = (#ARGV - 1) / 3
if ARGV[1] ~= "" and redis.call("HLEN", KEYS[1]) ~= tonumber(ARGV[1]) then return false end
for i = 1, n do
  if redis.call("HGET", KEYS[1], ARGV[3 * i - 1]) ~= ARGV[3 * i] then return false end
end
local last = {}
for i = 1, n do
  local sid, user = ARGV[3 * i - 1], ARGV[3 * i + 1]
  local presence = KEYS[2 * i + 1]
  redis.call("HDEL", KEYS[1], sid)
  redis.call("HDEL", KEYS[2 * i], sid)
  local left = redis.call("HINCRBY", presence, user, -1)
  if left <= 0 then redis.call("HDEL", presence, user) end
  last[i] = left <= 0 and 1 or 0
end
return last
"""

_CLAIM_PROCESS = """
-- KEYS: heartbeats, process table; ARGV: process_id
if redis.call("ZREM", KEYS[1], ARGV[1]) == 0 then return false end
return redis.call("HGETALL", KEYS[2])
"""

_FORGET_ROOM = """
-- KEYS[1]: room sockets; KEYS[1+i]: process table of socket i; the rest: keys to delete
-- ARGV[1]: number of sockets n; ARGV[2i], ARGV[2i+1]: sid and entry of socket i
local n = tonumber(ARGV[1])
if redis.call("HLEN", KEYS[1]) ~= n then return 0 end
for i = 1, n do
  if redis.call("HGET", KEYS[1], ARGV[2 * i]) ~= ARGV[2 * i + 1] then return 0 end
end
for i = 1, n do redis.call("HDEL", KEYS[1 + i], ARGV[2 * i]) end
redis.call("DEL", KEYS[1])
for i = n + 2, #KEYS do redis.call("DEL", KEYS[i]) end
return 1
"""

_COUNT_IN_WINDOW = """
-- KEYS: counter; ARGV: window in milliseconds
local count = redis.call("INCR", KEYS[1])
if count == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return count
"""

_COUNT_UNDER_LIMIT = """
-- KEYS: counter; ARGV: limit, window in milliseconds. Returns 1 when counted.
local count = tonumber(redis.call("GET", KEYS[1]) or "0")
if count >= tonumber(ARGV[1]) then return 0 end
if redis.call("INCR", KEYS[1]) == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 1
"""

_ADD_TO_SET = """
-- KEYS: set; ARGV: member, TTL in milliseconds. Returns {added, size}.
local added = redis.call("SADD", KEYS[1], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return {added, redis.call("SCARD", KEYS[1])}
"""

_CACHE_PLAYBACK_READING_CHECK = """
-- KEYS: cached snapshot, ready check; ARGV: snapshot JSON, its version, TTL in seconds, then a channel
-- ("" for none) and a message to publish on it after the write. Returns {cached 1/0, check JSON or false}.
-- The snapshot is stored only if its version is newer than the cached one.
local cached = redis.call("GET", KEYS[1])
local version = cached and tonumber(cjson.decode(cached).version)
local stored = 0
if not (version and version >= tonumber(ARGV[2])) then
  redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[3])
  stored = 1
end
if ARGV[4] ~= "" then redis.call("PUBLISH", ARGV[4], ARGV[5]) end
return {stored, redis.call("GET", KEYS[2])}
"""


# The cached snapshot is a copy of the database's row: it may lapse, never outlive an idle room (R177).
PLAYBACK_CACHE_TTL_SECONDS = 86400


def fast_failing_redis_options() -> dict:
    """Client options for calls that must answer quickly while Redis is down (STACK.md)."""
    return {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 2,
        "health_check_interval": 0,
        "retry": Retry(NoBackoff(), 1),
    }


def _milliseconds(seconds: float) -> int:
    """Return a TTL in whole milliseconds, at least one."""
    return max(1, round(seconds * 1000))


def _split(entry: str) -> tuple[str, int]:
    """Split a "head|user_id" table entry."""
    head, _, user_id = entry.rpartition("|")
    return head, int(user_id)


def _glob_escape(text: str) -> str:
    """Escape the characters SCAN MATCH treats as a pattern."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _drop_call(table_key: str, entries: dict[str, str], size: int | None):
    """Build the keys and args of _DROP_SOCKETS for some entries of one process table."""
    script_keys = [table_key]
    args: list = ["" if size is None else size]
    for sid, entry in entries.items():
        code, user_id = _split(entry)
        script_keys += [keys.room_sockets(code), keys.room_presence(code)]
        args += [sid, entry, user_id]
    return script_keys, args


class RedisStore(RedisSyncState, RealtimeStore):
    """RealtimeStore on Redis: one Lua script or MULTI per method, so processes can share it."""

    is_shared = True

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._add_socket = client.register_script(_ADD_SOCKET)
        self._admit_socket = client.register_script(_ADMIT_SOCKET)
        self._drop_sockets = client.register_script(_DROP_SOCKETS)
        self._claim_process = client.register_script(_CLAIM_PROCESS)
        self._forget_room = client.register_script(_FORGET_ROOM)
        self._count_in_window = client.register_script(_COUNT_IN_WINDOW)
        self._cache_playback_reading_check = client.register_script(_CACHE_PLAYBACK_READING_CHECK)
        self._count_under_limit = client.register_script(_COUNT_UNDER_LIMIT)
        self._add_to_set = client.register_script(_ADD_TO_SET)

    @classmethod
    def from_url(cls, url: str) -> "RedisStore":
        """Build a store whose calls fail fast while Redis is down."""
        return cls(redis_client(url, decode_responses=True, **fast_failing_redis_options()))

    @property
    def client(self) -> redis.Redis:
        """Return the underlying redis-py client."""
        return self._client

    def ping(self) -> bool:
        """Return True when Redis answers PING."""
        try:
            return bool(self._client.ping())
        except Exception:
            return False

    def _until_settled(self, attempt, *args):
        """Repeat a compare-and-set attempt until no other writer changed its entries."""
        for _ in range(_CAS_ATTEMPTS):
            result = attempt(*args)
            if result is not _CHANGED:
                return result
        raise RealtimeUnavailable("the realtime store kept changing during a compare-and-set")

    # presence --------------------------------------------------------------
    @_translated
    def add_socket(self, record: SocketRecord, max_per_user: int = 0) -> bool:
        """Record a socket in its process table and its room; True for the user's first."""
        added = self._add_socket(keys=_socket_keys(record), args=_socket_args(record, max_per_user))
        if added == -1:
            raise TooManySockets()
        return added == 1

    @_translated
    def admit_socket(
        self, record: SocketRecord, max_per_user: int, media_version: int
    ) -> tuple[bool, RoomView]:
        """add_socket and room_view in one script: a connect's one Redis round trip before its bootstrap."""
        code = record.room_code
        view_keys = [
            keys.room_playback(code),
            keys.room_ready_check(code),
            keys.skip_votes(code, media_version),
        ]
        reply = self._admit_socket(
            keys=_socket_keys(record) + view_keys, args=_socket_args(record, max_per_user)
        )
        if reply[0] == -1:
            raise TooManySockets()
        return reply[0] == 1, _room_view(*reply[1:])

    @_translated
    def remove_socket(self, process_id: str, sid: str) -> SocketRemoval | None:
        """Forget a socket; None when its process table does not hold it."""
        return self._until_settled(self._remove_socket_once, process_id, sid)

    def _remove_socket_once(self, process_id: str, sid: str):
        table_key = keys.process_sockets(process_id)
        entry = self._client.hget(table_key, sid)
        if entry is None:
            return None
        flags = self._drop_sockets(*_drop_call(table_key, {sid: entry}, None))
        if flags is None:
            return _CHANGED
        code, user_id = _split(entry)
        return SocketRemoval(room_code=code, user_id=user_id, was_last_of_user=flags[0] == 1)

    @_translated
    def viewer_count(self, code: str) -> int:
        """Return the number of distinct users present in the room."""
        return self._client.hlen(keys.room_presence(code))

    @_translated
    def viewer_counts(self, codes: list[str]) -> dict[str, int]:
        """Return viewer_count for several rooms in one pipeline."""
        if not codes:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for code in codes:
            pipe.hlen(keys.room_presence(code))
        return dict(zip(codes, pipe.execute(), strict=True))

    @_translated
    def present_user_ids(self, code: str) -> list[int]:
        """Return the ids of the users present in the room."""
        return sorted(int(user_id) for user_id in self._client.hkeys(keys.room_presence(code)))

    @_translated
    def room_sids(self, code: str) -> list[str]:
        """Return the sids recorded in the room."""
        return self._client.hkeys(keys.room_sockets(code))

    @_translated
    def has_socket(self, code: str, sid: str) -> bool:
        """Return True if the sid is recorded in the room."""
        return bool(self._client.hexists(keys.room_sockets(code), sid))

    @_translated
    def user_sockets(self, code: str, user_id: int) -> list[SocketRecord]:
        """Return the sockets one user has in the room, on any process."""
        records = []
        for sid, entry in self._client.hgetall(keys.room_sockets(code)).items():
            process_id, owner = _split(entry)
            if owner == user_id:
                records.append(SocketRecord(sid, code, owner, process_id))
        return records

    # process liveness --------------------------------------------------------
    @_translated
    def beat(self, process_id: str, now: float) -> bool:
        """Refresh the heartbeat; True if it was missing (Redis restarted or we were swept)."""
        return self._client.zadd(keys.PROCESS_HEARTBEATS, {process_id: now}) == 1

    @_translated
    def silent_processes(self, older_than: float) -> list[str]:
        """Return the processes whose last beat is strictly older than the given time."""
        return self._client.zrangebyscore(keys.PROCESS_HEARTBEATS, "-inf", f"({older_than!r}")

    @_translated
    def claim_dead_process(self, process_id: str) -> list[SocketRecord] | None:
        """Claim a dead process by removing its heartbeat; its sockets to the one winner.

        The process table is returned but left in place: the winner replays a real
        disconnect for each record through remove_socket(process_id, sid), which
        empties the table. Returns None when another caller claimed it first.
        """
        script_keys = [keys.PROCESS_HEARTBEATS, keys.process_sockets(process_id)]
        flat = self._claim_process(keys=script_keys, args=[process_id])
        if flat is None:
            return None
        records = []
        for sid, entry in zip(flat[::2], flat[1::2], strict=True):
            code, user_id = _split(entry)
            records.append(SocketRecord(sid, code, user_id, process_id))
        return records

    @_translated
    def forget_process(self, process_id: str) -> None:
        """Drop the heartbeat and every socket of the process, in one transaction."""
        self._until_settled(self._forget_process_once, process_id)

    def _forget_process_once(self, process_id: str):
        table_key = keys.process_sockets(process_id)
        table = self._client.hgetall(table_key)
        pipe = self._client.pipeline(transaction=True)
        pipe.zrem(keys.PROCESS_HEARTBEATS, process_id)
        script_keys, args = _drop_call(table_key, table, len(table))
        self._drop_sockets(keys=script_keys, args=args, client=pipe)
        _, flags = pipe.execute()
        return None if flags is not None else _CHANGED

    # grace -------------------------------------------------------------------
    @_translated
    def start_grace(self, code: str, seconds: float) -> None:
        """Set the room's grace key; its TTL alone times the grace."""
        self._client.set(keys.room_grace(code), "1", px=_milliseconds(seconds))

    @_translated
    def grace_active(self, code: str) -> bool:
        """Return True while the grace key exists."""
        return self._client.exists(keys.room_grace(code)) == 1

    @_translated
    def end_grace(self, code: str) -> bool:
        """Delete the grace key; True if it existed."""
        return self._client.delete(keys.room_grace(code)) == 1

    # chat --------------------------------------------------------------------
    @_translated
    def count_chat_message(self, code: str, user_id: int, window_seconds: float) -> int:
        """Count a message; the window starts with the first message and ends by TTL."""
        script_keys = [keys.chat_rate(code, user_id)]
        return self._count_in_window(keys=script_keys, args=[_milliseconds(window_seconds)])

    @_translated
    def claim_chat_text(self, code: str, user_id: int, digest: str, seconds: float) -> bool:
        """Mark a text as sent for some seconds; False if it was already marked."""
        key = keys.chat_duplicate(code, user_id, digest)
        return bool(self._client.set(key, "1", nx=True, px=_milliseconds(seconds)))

    # moderation and queue ------------------------------------------------------
    @_translated
    def count_pause(self, code: str, user_id: int, limit: int, window_seconds: float) -> bool:
        """Count a viewer's PAUSE within its budget, in one script."""
        script_keys = [keys.pause_budget(code, user_id)]
        return self._count_under_limit(keys=script_keys, args=[limit, _milliseconds(window_seconds)]) == 1

    @_translated
    def add_skip_vote(self, code: str, media_version: int, user_id: int, seconds: float) -> tuple[bool, int]:
        """Add a vote and count the votes in one script."""
        script_keys = [keys.skip_votes(code, media_version)]
        added, votes = self._add_to_set(keys=script_keys, args=[user_id, _milliseconds(seconds)])
        return added == 1, int(votes)

    @_translated
    def skip_votes(self, code: str, media_version: int) -> int:
        """Return the number of votes for the media version."""
        return self._client.scard(keys.skip_votes(code, media_version))

    # playback cache ------------------------------------------------------------
    @_translated
    def cache_playback(self, code: str, snapshot: dict) -> bool:
        """Store the snapshot only if its version is newer than the cached one."""
        return self.cache_playback_reading_check(code, snapshot)[0]

    @_translated
    def cache_playback_reading_check(
        self, code: str, snapshot: dict, publish: tuple[str, str] | None = None
    ) -> tuple[bool, dict | None]:
        """cache_playback, the pending ready check and an optional publish, in one script."""
        channel, message = publish or ("", "")
        args = [json.dumps(snapshot), snapshot["version"], PLAYBACK_CACHE_TTL_SECONDS, channel, message]
        script_keys = [keys.room_playback(code), keys.room_ready_check(code)]
        stored, check = self._cache_playback_reading_check(keys=script_keys, args=args)
        return stored == 1, json.loads(check) if check else None

    @_translated
    def cached_playback(self, code: str) -> dict | None:
        """Return the cached snapshot, or None."""
        cached = self._client.get(keys.room_playback(code))
        return None if cached is None else json.loads(cached)

    @_translated
    def forget_playback(self, code: str) -> None:
        """Drop the cached snapshot."""
        self._client.delete(keys.room_playback(code))

    # closing -------------------------------------------------------------------
    @_translated
    def forget_room(self, code: str) -> list[SocketRecord]:
        """Delete every key of the room and take its sockets out of their process tables."""
        return self._until_settled(self._forget_room_once, code)

    def _forget_room_once(self, code: str):
        sockets_key = keys.room_sockets(code)
        pattern = _glob_escape(keys.room_prefix(code)) + "*"
        doomed = set(self._client.scan_iter(match=pattern, count=200)) - {sockets_key}
        entries = self._client.hgetall(sockets_key)
        records, tables, args = [], [], [len(entries)]
        for sid, entry in entries.items():
            process_id, user_id = _split(entry)
            records.append(SocketRecord(sid, code, user_id, process_id))
            tables.append(keys.process_sockets(process_id))
            args += [sid, entry]
        done = self._forget_room(keys=[sockets_key, *tables, *doomed], args=args)
        return records if done == 1 else _CHANGED


def _socket_keys(record: SocketRecord) -> list[str]:
    """The add-socket script's keys: process table, room sockets, room presence."""
    code = record.room_code
    return [keys.process_sockets(record.process_id), keys.room_sockets(code), keys.room_presence(code)]


def _socket_args(record: SocketRecord, max_per_user: int) -> list:
    """The add-socket script's arguments (see _ADD_SOCKET_FUNCTION)."""
    entry, located = f"{record.room_code}|{record.user_id}", f"{record.process_id}|{record.user_id}"
    return [record.sid, entry, located, record.user_id, max_per_user]


def _room_view(present, playback, check, votes) -> RoomView:
    """A RoomView from the raw replies of the view's reads."""
    return RoomView(
        sorted(int(user_id) for user_id in present),
        None if playback is None else json.loads(playback),
        json.loads(check) if check else None,
        votes,
    )
