"""Host-authoritative playback: versioned snapshots written in one SQL statement (R38, R39)."""

import contextlib
import time
from dataclasses import asdict, dataclass

from sqlalchemy import select, update

from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.rooms.models import Playback, current_position_sql


@dataclass(frozen=True)
class PlaybackSnapshot:
    """One version of a room's playback, anchored at `updated_at` (epoch seconds)."""

    is_playing: bool
    position: float
    version: int
    updated_at: float

    def time_at(self, moment: float) -> float:
        """Return the authoritative position at `moment`."""
        if not self.is_playing:
            return self.position
        return max(0.0, self.position + (moment - self.updated_at))

    def payload(self, now: float | None = None) -> dict:
        """The PLAYBACK_STATE payload, as of now."""
        now = time.time() if now is None else now
        return {
            "is_playing": self.is_playing,
            "time": round(self.time_at(now), 3),
            "version": self.version,
            "server_time": now,
        }

    def summary(self, now: float | None = None) -> dict:
        """The `playback` object of the Room shape."""
        now = time.time() if now is None else now
        return {"is_playing": self.is_playing, "time": round(self.time_at(now), 3), "version": self.version}


_RETURNING = (Playback.is_playing, Playback.position, Playback.version, Playback.updated_at)


def create_playback(room_id: int) -> None:
    """Add the paused-at-zero playback row of a new room (not committed)."""
    now = time.time()
    db.session.add(
        Playback(room_id=room_id, is_playing=False, position=0.0, version=0, updated_at=now, effective_at=now)
    )


def change_playback(room_id: int, is_playing: bool | None, position: float | None) -> PlaybackSnapshot:
    """Apply one command and bump the version by exactly one, atomically; commit.

    None keeps the current value: the position is then advanced in SQL from
    the stored row, never from a value read earlier in Python.
    """
    now = time.time()
    values = {
        "version": Playback.version + 1,
        "updated_at": now,
        "effective_at": now,
        "position": current_position_sql(now) if position is None else float(position),
    }
    if is_playing is not None:
        values["is_playing"] = is_playing
    statement = update(Playback).where(Playback.room_id == room_id).values(**values).returning(*_RETURNING)
    row = db.session.execute(statement, execution_options={"synchronize_session": False}).one()
    db.session.commit()
    return PlaybackSnapshot(bool(row[0]), float(row[1]), int(row[2]), float(row[3]))


def stored_snapshot(room_id: int) -> PlaybackSnapshot:
    """Read the snapshot from the database."""
    row = db.session.execute(select(*_RETURNING).where(Playback.room_id == room_id)).one()
    return PlaybackSnapshot(bool(row[0]), float(row[1]), int(row[2]), float(row[3]))


def remember_snapshot(code: str, snapshot: PlaybackSnapshot) -> None:
    """Cache the snapshot for the hot path; an older version never replaces a newer one."""
    # The database stays the authority; readers fall back to it.
    with contextlib.suppress(RealtimeUnavailable):
        realtime.cache_playback(code, asdict(snapshot))


def current_snapshot(code: str, room_id: int) -> PlaybackSnapshot:
    """Return the cached snapshot, or the stored one (and cache it)."""
    try:
        cached = realtime.cached_playback(code)
    except RealtimeUnavailable:
        cached = None
    if cached is not None:
        return PlaybackSnapshot(**cached)
    snapshot = stored_snapshot(room_id)
    remember_snapshot(code, snapshot)
    return snapshot
