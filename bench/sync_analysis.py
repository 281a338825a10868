"""Figures for bench/sync_accuracy.py: every player's position brought to common instants.

A page's sample is (true time, currentTime, paused, playbackRate), taken 10 times a
second inside the page. The position of a page at instant T is its last sample
before T moved forward by rate x (T - t) when it was playing, so that readings
taken at slightly different moments compare at one instant. The server's
timeline comes from the PLAYBACK_STATE snapshots an observer socket received:
the position holds at `time` until `effective_at` (server_time for a server
without it), then advances at `rate`.
"""

import bisect
import math
from dataclasses import dataclass, field

STEP = 0.1  # seconds between common instants
STALE = 0.35  # a page whose last sample is older than this has no position at T
SETTLE = 5.0  # seconds after a command that steady-state figures leave out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Track:
    """One page's samples and media events, in true time order."""

    name: str
    samples: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def add(self, taken: dict) -> None:
        self.samples.extend(tuple(s) for s in taken["samples"])
        self.events.extend(tuple(e) for e in taken["events"])
        self._times = None

    def position_at(self, moment: float) -> float | None:
        """The page's position at `moment`, or None without a recent sample."""
        if getattr(self, "_times", None) is None:
            self.samples.sort()
            self._times = [s[0] for s in self.samples]
        index = bisect.bisect_right(self._times, moment) - 1
        if index < 0 or moment - self._times[index] > STALE:
            return None
        t, position, paused, rate = self.samples[index]
        return position if paused else position + rate * (moment - t)

    def count(self, name: str, start: float, end: float) -> int:
        return sum(1 for e in self.events if e[1] == name and start <= e[0] <= end)


def server_position(snapshots: list[dict], moment: float) -> float | None:
    """The authoritative position at `moment` from the newest snapshot sent before it."""
    sent = [s for s in snapshots if s["server_time"] <= moment]
    if not sent:
        return None
    snap = max(sent, key=lambda s: s["version"])
    effective = snap.get("effective_at", snap["server_time"])
    if not snap["is_playing"] or moment <= effective:
        return snap["time"]
    return snap["time"] + snap.get("rate", 1.0) * (moment - effective)


def instants(start: float, end: float) -> list[float]:
    return [start + i * STEP for i in range(int((end - start) / STEP) + 1)]


def skew_series(tracks: list[Track], start: float, end: float) -> list[tuple[float, float]]:
    """(instant, max minus min position over all pages) where every page has a position."""
    series = []
    for moment in instants(start, end):
        positions = [track.position_at(moment) for track in tracks]
        if all(p is not None for p in positions):
            series.append((moment, max(positions) - min(positions)))
    return series


def server_distances(track: Track, snapshots: list[dict], windows) -> list[float]:
    """|page position - server position| at every common instant of the windows."""
    distances = []
    for start, end in windows:
        for moment in instants(start, end):
            mine, theirs = track.position_at(moment), server_position(snapshots, moment)
            if mine is not None and theirs is not None:
                distances.append(abs(mine - theirs))
    return distances


def in_windows(series, windows) -> list[float]:
    return [value for moment, value in series if any(a <= moment <= b for a, b in windows)]


def effective_start(track: Track, snapshot: dict) -> float | None:
    """When the page's playing line passes the command's position (its actual start).

    After a SEEK only samples after the page's own seek to the new position count:
    before it, the page still plays the old position.
    """
    target, sent = snapshot["time"], snapshot["server_time"]
    seeks = [e[0] for e in track.events if e[1] == "seeking" and e[0] > sent and abs(e[2] - target) < 3]
    after = seeks[0] if seeks else sent
    for t, position, paused, rate in track.samples:
        if t > after and not paused and target + 0.3 < position < target + 5 and rate > 0:
            return t - (position - target) / rate
    return None


def start_spread(tracks: list[Track], snapshot: dict) -> float | None:
    starts = [effective_start(track, snapshot) for track in tracks]
    if any(s is None for s in starts):
        return None
    return max(starts) - min(starts)


def converged_after(series, since: float, tolerance: float = 0.05, hold: float = 1.0) -> float | None:
    """Seconds from `since` until the skew is within tolerance and stays so for `hold` s."""
    candidate = None
    for moment, skew in series:
        if moment < since:
            continue
        if skew > tolerance:
            candidate = None
        elif candidate is None:
            candidate = moment
        elif moment - candidate >= hold:
            return candidate - since
    return None
