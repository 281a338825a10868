"""The soak of bench/soak.py, for one minute: churn on two processes, then no leaked socket, room or key.

The slopes it reports are never asserted (a shared machine is noisy): only leaks, which are exact.
"""

import sys

import pytest

from tests.support import ROOT, assert_redis_clean

sys.path.insert(0, str(ROOT / "bench"))
import soak  # bench/ is not a package: its scripts import each other by name

pytestmark = pytest.mark.slow


def test_a_minute_of_churn_leaks_no_socket_room_or_key(tmp_path):
    args = soak.parse_args(["--seconds", "60", "--workers", "2", "--warmup", "20", "--sample-every", "5"])
    with soak.Soak(tmp_path, args) as run:
        result = run.run()
        assert_redis_clean(run.redis.url, *result.churn.closed_codes)
    assert result.churn.errors == []
    assert result.leaks == []
    assert result.churn.laps >= len(soak.ENDINGS), "every way of closing a room was exercised"
