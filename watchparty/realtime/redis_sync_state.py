"""SyncState on Redis: hashes per room, SET NX PX slots, a compare-and-set ready check."""

import json

from watchparty.realtime import keys
from watchparty.realtime.redis_errors import translated
from watchparty.realtime.sync_state import ROOM_STATE_TTL_SECONDS, SyncState

_REPLACE_CHECK = """
-- KEYS: the ready check; ARGV: bound version, new JSON or "" to remove
local current = redis.call("GET", KEYS[1])
if not current or tonumber(cjson.decode(current).version) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == "" then redis.call("DEL", KEYS[1]) else redis.call("SET", KEYS[1], ARGV[2], "KEEPTTL") end
return 1
"""


class RedisSyncState(SyncState):
    """Mixed into RedisStore: uses its client; every method is one command, pipeline or script."""

    def _script(self, name: str, source: str):
        scripts = self.__dict__.setdefault("_sync_scripts", {})
        if name not in scripts:
            scripts[name] = self._client.register_script(source)
        return scripts[name]

    @translated
    def set_ready(self, code, sid, user_id, ready):
        key = keys.room_not_ready(code)
        if ready:
            self._client.hdel(key, sid)
            return
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(key, sid, user_id)
        pipe.expire(key, ROOM_STATE_TTL_SECONDS)
        pipe.execute()

    @translated
    def not_ready_user_ids(self, code):
        return {int(user_id) for user_id in self._client.hvals(keys.room_not_ready(code))}

    @translated
    def record_health(self, code, sid, report, keep_seconds):
        key = keys.room_health(code)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(key, sid, json.dumps(report))
        pipe.expire(key, max(1, round(keep_seconds)))
        pipe.execute()

    @translated
    def health_reports(self, code, keep_seconds, now):
        reports = {sid: json.loads(raw) for sid, raw in self._client.hgetall(keys.room_health(code)).items()}
        return {sid: report for sid, report in reports.items() if now - report["at"] <= keep_seconds}

    @translated
    def socket_users(self, code):
        entries = self._client.hgetall(keys.room_sockets(code))
        return {sid: int(entry.rpartition("|")[2]) for sid, entry in entries.items()}

    @translated
    def forget_socket_sync(self, code, sid):
        pipe = self._client.pipeline(transaction=False)
        pipe.hdel(keys.room_not_ready(code), sid)
        pipe.hdel(keys.room_health(code), sid)
        pipe.execute()

    @translated
    def claim_slot(self, key, seconds):
        pipe = self._client.pipeline(transaction=True)  # one round trip for the claim and what is left
        pipe.set(key, 1, nx=True, px=max(1, round(seconds * 1000)))
        pipe.pttl(key)
        claimed, left = pipe.execute()
        if claimed:
            return 0.0
        return max(0.001, left / 1000) if left > 0 else 0.001

    @translated
    def save_ready_check(self, code, check, seconds):
        self._client.set(keys.room_ready_check(code), json.dumps(check), px=max(1, round(seconds * 1000)))

    @translated
    def ready_check(self, code):
        raw = self._client.get(keys.room_ready_check(code))
        return json.loads(raw) if raw else None

    @translated
    def replace_ready_check(self, code, version, check):
        script = self._script("replace_check", _REPLACE_CHECK)
        payload = "" if check is None else json.dumps(check)
        return script(keys=[keys.room_ready_check(code)], args=[version, payload]) == 1
