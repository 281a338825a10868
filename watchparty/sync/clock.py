"""TIME_SYNC: NTP's exchange, answered from memory alone (SPEC R120)."""

import math
import time


def time_sync_answer(payload, received_at: float) -> dict | None:
    """The acknowledgement `{t0, t1, t2}` for a TIME_SYNC, or None for a malformed one (R36)."""
    if not isinstance(payload, dict):
        return None
    t0 = payload.get("t0")
    if isinstance(t0, bool) or not isinstance(t0, int | float) or not math.isfinite(t0):
        return None
    return {"t0": t0, "t1": received_at, "t2": time.time()}
