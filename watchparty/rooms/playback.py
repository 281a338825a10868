"""Host-authoritative playback: versioned snapshots written in one SQL statement (R38, R39, R121-R123)."""

import contextlib
import functools
import time
from dataclasses import asdict, dataclass

from sqlalchemy import Float, and_, bindparam, case, select, update

from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.rooms.lifecycle import is_closed
from watchparty.rooms.models import Playback, Room, current_position_sql
from watchparty.sync.timeline import position_at


@dataclass(frozen=True)
class PlaybackSnapshot:
    """One version of a room's playback: `position` holds until `effective_at`, then advances at `rate`."""

    is_playing: bool
    position: float
    version: int
    updated_at: float
    effective_at: float | None = None  # None: a snapshot cached before R121, anchored at updated_at
    rate: float = 1.0

    @property
    def anchor(self) -> float:
        return self.updated_at if self.effective_at is None else self.effective_at

    def time_at(self, moment: float) -> float:
        """Return the authoritative position at `moment` (R121)."""
        return position_at(self.position, self.is_playing, self.anchor, self.rate, moment)

    def payload(self, now: float | None = None) -> dict:
        """The PLAYBACK_STATE payload, as of now: `effective_at` is now unless a start is ahead."""
        now = time.time() if now is None else now
        ahead = self.is_playing and self.anchor > now
        return {
            "is_playing": self.is_playing,
            "time": round(self.time_at(now), 3),
            "version": self.version,
            "server_time": now,
            "effective_at": self.anchor if ahead else now,
            "rate": self.rate,
        }

    def summary(self, now: float | None = None) -> dict:
        """The `playback` object of the Room shape."""
        now = time.time() if now is None else now
        return {"is_playing": self.is_playing, "time": round(self.time_at(now), 3), "version": self.version}


_RETURNING = (Playback.is_playing, Playback.position, Playback.version, Playback.updated_at,
              Playback.effective_at, Playback.rate)  # fmt: skip


def _snapshot(row) -> PlaybackSnapshot:
    return PlaybackSnapshot(
        bool(row[0]), float(row[1]), int(row[2]), float(row[3]), float(row[4]), float(row[5])
    )


def create_playback(room_id: int) -> None:
    """Add the paused-at-zero playback row of a new room (not committed)."""
    now = time.time()
    db.session.add(
        Playback(room_id=room_id, is_playing=False, position=0.0, version=0, updated_at=now, effective_at=now)
    )


@dataclass(frozen=True)
class Change:
    """One playback command: `kind` is play, pause, seek, rate, or reset / restart (new media, R23, R154)."""

    kind: str
    position: float | None = None
    rate: float | None = None
    lead: float = 0.0  # seconds before a start takes effect (R122)


# Bound at execution, so each statement below is built and compiled once per process.
_NOW = bindparam("now", type_=Float)
_GIVEN = bindparam("given", type_=Float)  # the command's position
_RATE = bindparam("new_rate", type_=Float)
_START_AT = _NOW + bindparam("lead", type_=Float)


def _command_values(kind: str, position_given: bool, rate_given: bool) -> dict:
    """Column values of one kind of command, in SQL over the stored row (R121-R123)."""
    playing, current = Playback.is_playing, current_position_sql(_NOW)
    position = _GIVEN if position_given else current
    if kind == "play":
        keep = not position_given and not rate_given  # PLAY while playing keeps the running anchor
        running = Playback.effective_at if keep else _NOW
        return {
            "is_playing": True,
            "position": position,
            "effective_at": case((playing, running), else_=_START_AT),
        }
    if kind == "seek":
        return {"position": _GIVEN, "effective_at": case((playing, _START_AT), else_=_NOW)}
    if kind == "restart":  # new media that plays at once (R154)
        return {"is_playing": True, "position": _GIVEN, "effective_at": _START_AT}
    if kind == "rate":
        ahead = and_(playing, Playback.effective_at > _NOW)
        return {"position": current, "effective_at": case((ahead, Playback.effective_at), else_=_NOW)}
    return {"is_playing": False, "position": position, "effective_at": _NOW}


@functools.cache
def _update_statement(kind: str, position_given: bool, rate_given: bool, bound: bool):
    """The UPDATE … RETURNING of one kind of command; `bound` adds the version condition (R111)."""
    values = {
        "version": Playback.version + 1,
        "updated_at": _NOW,
        **_command_values(kind, position_given, rate_given),
    }
    if rate_given:
        values["rate"] = _RATE
    statement = update(Playback).where(Playback.room_id == bindparam("of_room"))
    if bound:
        statement = statement.where(Playback.version == bindparam("bound_version"))
    return statement.values(**values).returning(*_RETURNING)


def _given_position(change: Change) -> float | None:
    if change.kind == "restart":
        return float(change.position or 0.0)
    return None if change.position is None else float(change.position)


def change_playback(
    room_id: int, change: Change, bound_version: int | None = None
) -> PlaybackSnapshot | None:
    """Apply one command and bump the version by exactly one, atomically; commit.

    The new position is computed in SQL from the stored row, never from a value
    read earlier in Python. With `bound_version` the command applies only to
    that version (a ready check's PLAY, R111): the PlaybackSnapshot, or None when it did not.
    Executed on the session's connection (Core, not the ORM's bulk-update path): this is
    the hot path of every command, and the statement is compiled once.
    """
    given = _given_position(change)
    statement = _update_statement(
        change.kind, given is not None, change.rate is not None, bound_version is not None
    )
    rate = None if change.rate is None else float(change.rate)
    parameters = {"now": time.time(), "lead": change.lead, "given": given, "new_rate": rate,
                  "of_room": room_id, "bound_version": bound_version}  # fmt: skip
    db.session.flush()  # the caller's pending changes go first, as the ORM's autoflush would send them
    row = db.session.connection().execute(statement, parameters).one_or_none()
    db.session.commit()
    return None if row is None else _snapshot(row)


def stored_snapshot(room_id: int) -> PlaybackSnapshot:
    """Read the snapshot from the database."""
    return _snapshot(db.session.execute(select(*_RETURNING).where(Playback.room_id == room_id)).one())


def remember_snapshot(code: str, snapshot: PlaybackSnapshot) -> None:
    """Cache the snapshot for the hot path, taken back if the room closed meanwhile."""
    cached, _ = cache_snapshot(code, snapshot)
    if cached:
        take_back_if_closed(code)


def cache_snapshot(
    code: str, snapshot: PlaybackSnapshot, publish: tuple[str, str] | None = None
) -> tuple[bool, dict | None]:
    """Cache the snapshot (an older version never replaces a newer one) and read the pending ready check.

    (True if this one was cached, the ready check or None). `publish`: a queue message
    published in the same step, after the write. The database stays the authority:
    without Redis readers fall back to it.
    """
    try:
        return realtime.cache_playback_reading_check(code, asdict(snapshot), publish)
    except RealtimeUnavailable:
        return False, None


def take_back_if_closed(code: str) -> None:
    """Remove a copy cached while the room was closing (R24, R177).

    Closing commits the closed state, then removes the room's keys, so a copy
    written after that removal reads the state as closed here, and a copy
    written before it was removed with the rest.
    """
    with contextlib.suppress(RealtimeUnavailable):
        if _room_is_closed(code):
            realtime.forget_playback(code)


_ROOM_STATE_BY_CODE = select(Room.state).where(Room.code == bindparam("code"))


def _room_is_closed(code: str) -> bool:
    state = db.session.connection().execute(_ROOM_STATE_BY_CODE, {"code": code}).scalar_one_or_none()
    return state is None or is_closed(state)


def current_snapshot(code: str, room_id: int) -> PlaybackSnapshot:
    """Return the cached snapshot, or the stored one (and cache it)."""
    try:
        cached = realtime.cached_playback(code)
    except RealtimeUnavailable:
        cached = None
    return snapshot_from(cached, code, room_id)


def snapshot_from(cached: dict | None, code: str, room_id: int) -> PlaybackSnapshot:
    """The snapshot a cached copy holds; without one, the stored snapshot (then cached)."""
    if cached is not None:
        return PlaybackSnapshot(**cached)
    snapshot = stored_snapshot(room_id)
    remember_snapshot(code, snapshot)
    return snapshot
