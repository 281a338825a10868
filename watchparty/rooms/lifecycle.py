"""Room states and the one transition guard (SPEC R45). Pure Python: no Flask here."""

from enum import StrEnum


class RoomState(StrEnum):
    CREATED = "CREATED"
    LIVE = "LIVE"
    GRACE = "GRACE"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


ALLOWED_TRANSITIONS: dict[RoomState, frozenset[RoomState]] = {
    RoomState.CREATED: frozenset({RoomState.LIVE, RoomState.EXPIRED, RoomState.DELETED}),
    RoomState.LIVE: frozenset({RoomState.GRACE, RoomState.DELETED}),
    RoomState.GRACE: frozenset({RoomState.LIVE, RoomState.EXPIRED, RoomState.DELETED}),
    RoomState.EXPIRED: frozenset(),
    RoomState.DELETED: frozenset(),
}

CLOSED_STATES = frozenset({RoomState.EXPIRED, RoomState.DELETED})


def can_transition(current: RoomState | str, target: RoomState | str) -> bool:
    """Return True if a room in `current` may move to `target`."""
    try:
        current, target = RoomState(current), RoomState(target)
    except ValueError:
        return False
    return target in ALLOWED_TRANSITIONS[current]


def is_closed(state: RoomState | str) -> bool:
    """Return True for the terminal states: nothing leaves them."""
    return state in CLOSED_STATES
