"""The room's media timeline on the server's clock: one formula for every position (SPEC R121, R122)."""

import math

AUTO_LEAD_FACTOR = 1.5
AUTO_LEAD_BOUNDS = (0.1, 1.0)
AUTO_LEAD_UNKNOWN = 0.3
MIN_RATE, MAX_RATE = 0.25, 4.0


def position_at(position: float, is_playing: bool, effective_at: float, rate: float, moment: float) -> float:
    """The position at `moment`: it holds until `effective_at`, then advances at `rate` while playing."""
    if not is_playing or moment <= effective_at:
        return position
    return max(0.0, position + rate * (moment - effective_at))


def start_lead(setting, round_trips: list[float]) -> float:
    """Seconds between a start command and the moment it takes effect (R122).

    `setting` is PLAYBACK_LEAD_SECONDS: "auto" (1.5 x the largest recent round
    trip, clamped to [0.1, 1.0]; 0.3 with no report) or a number of seconds.
    """
    if setting != "auto":
        return max(0.0, float(setting))
    known = [rtt for rtt in round_trips if rtt is not None and math.isfinite(rtt)]
    if not known:
        return AUTO_LEAD_UNKNOWN
    low, high = AUTO_LEAD_BOUNDS
    return min(high, max(low, AUTO_LEAD_FACTOR * max(known)))


def valid_rate(rate) -> bool:
    """A playback speed PLAY, SEEK and RATE accept (R123)."""
    return isinstance(rate, int | float) and not isinstance(rate, bool) and MIN_RATE <= rate <= MAX_RATE


def speeds_allowed(media: dict | None) -> bool:
    """Speeds other than 1 are for rooms whose media is `direct` or none: our own player (R123)."""
    return media is None or media.get("provider") == "direct"
