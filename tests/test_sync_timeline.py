"""The timeline formula, the start lead and TIME_SYNC's answer, as pure functions (SPEC R120-R123)."""

import math

import pytest

from watchparty.rooms.playback_commands import needs_lead
from watchparty.sync.clock import time_sync_answer
from watchparty.sync.timeline import position_at, start_lead, valid_rate


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(99.0, 10.0), (100.0, 10.0), (100.5, 10.0), (101.0, 10.0), (103.0, 14.0), (111.0, 30.0)],
)
def test_the_position_holds_until_effective_at_then_advances_at_the_rate(moment, expected):
    assert position_at(10.0, True, 101.0, 2.0, moment) == pytest.approx(expected)


def test_a_paused_position_never_moves():
    assert position_at(10.0, False, 101.0, 2.0, 500.0) == 10.0


@pytest.mark.parametrize(
    ("setting", "rtts", "lead"),
    [
        ("auto", [], 0.3),
        ("auto", [None], 0.3),
        ("auto", [0.01], 0.1),
        ("auto", [0.2, 0.3], 0.45),
        ("auto", [0.9], 1.0),
        ("auto", [math.inf, 0.2], pytest.approx(0.3)),
        (0, [0.5], 0.0),
        (0.25, [0.9], 0.25),
    ],
)
def test_start_lead(setting, rtts, lead):
    assert start_lead(setting, rtts) == pytest.approx(lead)


RATES = [(0.25, True), (4, True), (1.5, True), (0.2, False), (4.01, False), (True, False), ("1", False),
         (None, False), (math.nan, False)]  # fmt: skip


@pytest.mark.parametrize(("rate", "ok"), RATES)
def test_valid_rate(rate, ok):
    assert valid_rate(rate) is ok


def test_time_sync_answers_with_three_times():
    answer = time_sync_answer({"t0": 12.5}, received_at=1000.25)
    assert answer["t0"] == 12.5 and answer["t1"] == 1000.25 and answer["t2"] >= answer["t1"] - 1e6


@pytest.mark.parametrize("payload", [None, [], {}, {"t0": "1"}, {"t0": True}, {"t0": math.nan}, {"t0": None}])
def test_time_sync_ignores_malformed_payloads(payload):
    assert time_sync_answer(payload, received_at=1.0) is None


@pytest.mark.parametrize(
    ("kind", "playing", "needed"),
    [("play", False, True), ("play", True, True), ("seek", True, True), ("seek", None, True),
     ("seek", False, False), ("pause", True, False), ("rate", True, False)],
)  # fmt: skip
def test_only_a_command_that_can_start_playback_reads_the_lead(kind, playing, needed):
    assert needs_lead(kind, playing) is needed
