"""The room lifecycle guard (SPEC R45): one table of allowed transitions, enforced in the model.

`can_transition` is checked for all 25 (current, target) pairs; `Room.transition`
is checked for the same pairs against a real database row: it changes the row
(and answers True) only for an allowed pair whose `expected` state is the row's
state, and otherwise changes nothing and answers False.
"""

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select, update

from watchparty.auth.models import User
from watchparty.extensions import db, realtime
from watchparty.rooms.lifecycle import RoomState, can_transition, is_closed
from watchparty.rooms.models import Room
from watchparty.rooms.playback import remember_snapshot, stored_snapshot
from watchparty.rooms.services import create_room

S = RoomState
ALLOWED = {
    (S.CREATED, S.LIVE),
    (S.CREATED, S.EXPIRED),
    (S.CREATED, S.DELETED),
    (S.LIVE, S.GRACE),
    (S.LIVE, S.DELETED),
    (S.GRACE, S.LIVE),
    (S.GRACE, S.EXPIRED),
    (S.GRACE, S.DELETED),
}
PAIRS = list(product(RoomState, RoomState))
MARK = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def pair_id(pair) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_there_are_five_states_and_25_pairs():
    assert {state.value for state in RoomState} == {"CREATED", "LIVE", "GRACE", "EXPIRED", "DELETED"}
    assert len(PAIRS) == 25
    assert ALLOWED.issubset(PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_can_transition(pair):
    current, target = pair
    expected = pair in ALLOWED
    assert can_transition(current, target) is expected
    # The guard takes the stored string values too.
    assert can_transition(current.value, target.value) is expected


@pytest.mark.parametrize("state", [S.EXPIRED, S.DELETED])
def test_terminal_states_have_no_way_out(state):
    assert is_closed(state)
    assert not any(can_transition(state, target) for target in RoomState)


@pytest.mark.parametrize("state", [S.CREATED, S.LIVE, S.GRACE])
def test_every_open_state_can_be_deleted(state):
    assert not is_closed(state)
    assert can_transition(state, S.DELETED)


@pytest.mark.parametrize(
    ("current", "target"),
    [("created", "LIVE"), ("CREATED", "live"), ("NOPE", "LIVE"), ("LIVE", "NOPE"), ("", ""), (None, "LIVE")],
)
def test_unknown_states_are_refused(current, target):
    assert can_transition(current, target) is False


# Room.transition against a real row -------------------------------------------------


@pytest.fixture
def make_room(app):
    """Return make(state) -> room id: a fresh room forced into `state` (inside an app context)."""
    with app.app_context():
        # No password hashing: this host never logs in.
        host = User(
            email="host@example.com", email_key="host@example.com", display_name="Host", password_hash="-"
        )
        db.session.add(host)
        db.session.commit()

        def make(state: RoomState) -> int:
            room = create_room(host, "lifecycle", False, True, None)
            assert room.state == S.CREATED.value
            db.session.execute(update(Room).where(Room.id == room.id).values(state=state.value))
            db.session.commit()
            return room.id

        yield make


def stored(room_id: int) -> tuple[str, datetime | None]:
    """The row's state and closed_at, read from the database (not the identity map)."""
    db.session.expire_all()
    row = db.session.execute(select(Room.state, Room.closed_at).where(Room.id == room_id)).one()
    return row[0], row[1]


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_room_transition(make_room, pair):
    """Allowed pair: True and the row moves; otherwise, or with a stale `expected`: False, no change."""
    current, target = pair
    room_id = make_room(current)
    others = {state: make_room(state) for state in RoomState if state != current}

    changed = Room.transition(room_id, current, target, closed_at=MARK)

    if pair in ALLOWED:
        assert changed is True
        assert stored(room_id) == (target.value, MARK)
    else:
        assert changed is False
        assert stored(room_id) == (current.value, None)
    # A stale `expected` (the room is in another state) never moves a room, allowed pair or not.
    for actual, other_id in others.items():
        assert Room.transition(other_id, current, target, closed_at=MARK) is False
        assert stored(other_id) == (actual.value, None), f"{actual} room moved by {current}->{target}"


def test_room_transition_happens_once(make_room):
    """Two callers racing with the same `expected`: the first wins, the second gets False."""
    room_id = make_room(S.GRACE)
    assert Room.transition(room_id, S.GRACE, S.EXPIRED, closed_at=MARK) is True
    assert Room.transition(room_id, S.GRACE, S.EXPIRED) is False
    assert Room.transition(room_id, S.GRACE, S.DELETED) is False
    assert stored(room_id) == ("EXPIRED", MARK)


def test_room_transition_of_an_unknown_room_is_false(make_room):
    make_room(S.CREATED)
    assert Room.transition(999_999, S.CREATED, S.LIVE) is False


def test_a_full_lifecycle(make_room):
    room_id = make_room(S.CREATED)
    for current, target in [(S.CREATED, S.LIVE), (S.LIVE, S.GRACE), (S.GRACE, S.LIVE), (S.LIVE, S.GRACE)]:
        assert Room.transition(room_id, current, target) is True
        assert stored(room_id)[0] == target.value
    assert Room.transition(room_id, S.GRACE, S.EXPIRED, closed_at=MARK) is True
    for target in RoomState:
        assert Room.transition(room_id, S.EXPIRED, target) is False
    assert stored(room_id) == ("EXPIRED", MARK)


@pytest.mark.parametrize("state", [S.DELETED, S.EXPIRED], ids=str)
def test_a_snapshot_cached_once_the_room_closed_is_taken_back(make_room, state):
    """A host's last disconnect freezes playback (R40); if DELETE removed the keys meanwhile, none stays."""
    room_id = make_room(state)
    code = db.session.get(Room, room_id).code
    remember_snapshot(code, stored_snapshot(room_id))
    assert realtime.cached_playback(code) is None


def test_an_open_room_keeps_its_cached_snapshot(make_room):
    room_id = make_room(S.LIVE)
    code = db.session.get(Room, room_id).code
    remember_snapshot(code, stored_snapshot(room_id))
    assert realtime.cached_playback(code)["version"] == 0
