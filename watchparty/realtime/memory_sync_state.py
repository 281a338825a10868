"""SyncState in process memory: the MemoryStore's expiring entries, under its lock."""

import time

from watchparty.realtime import keys
from watchparty.realtime.sync_state import ROOM_STATE_TTL_SECONDS, SyncState


class MemorySyncState(SyncState):
    """Mixed into MemoryStore: per-room dicts kept as its expiring entries."""

    def _table(self, key: str, seconds: float = ROOM_STATE_TTL_SECONDS) -> dict:
        item = self._live(key)
        table = item[0] if item else {}
        self._set_expiring(key, table, seconds)
        return table

    def set_ready(self, code, sid, user_id, ready):
        with self._lock:
            table = self._table(keys.room_not_ready(code))
            if ready:
                table.pop(sid, None)
            else:
                table[sid] = user_id

    def not_ready_user_ids(self, code):
        with self._lock:
            item = self._live(keys.room_not_ready(code))
            return set(item[0].values()) if item else set()

    def record_health(self, code, sid, report, keep_seconds):
        with self._lock:
            self._table(keys.room_health(code), keep_seconds)[sid] = dict(report)

    def health_reports(self, code, keep_seconds, now):
        with self._lock:
            item = self._live(keys.room_health(code))
            reports = dict(item[0]) if item else {}
        return {sid: report for sid, report in reports.items() if now - report["at"] <= keep_seconds}

    def socket_users(self, code):
        with self._lock:
            return {sid: user_id for sid, (_, user_id) in self._room_sockets.get(code, {}).items()}

    def forget_socket_sync(self, code, sid):
        with self._lock:
            for key in (keys.room_not_ready(code), keys.room_health(code)):
                item = self._live(key)
                if item:
                    item[0].pop(sid, None)

    def claim_slot(self, key, seconds):
        with self._lock:
            item = self._live(key)
            if item is None:
                self._set_expiring(key, True, seconds)
                return 0.0
            return max(0.001, item[1] - time.monotonic())

    def save_ready_check(self, code, check, seconds):
        with self._lock:
            self._set_expiring(keys.room_ready_check(code), dict(check), seconds)

    def ready_check(self, code):
        with self._lock:
            item = self._live(keys.room_ready_check(code))
            return dict(item[0]) if item else None

    def replace_ready_check(self, code, version, check):
        with self._lock:
            key = keys.room_ready_check(code)
            item = self._live(key)
            if item is None or item[0]["version"] != version:
                return False
            if check is None:
                del self._expiring[key]
            else:
                self._expiring[key] = (dict(check), item[1])
            return True
