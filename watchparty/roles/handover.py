"""A new host: handed over by the host (R103) or a successor when grace lapses (R104)."""

import contextlib

from watchparty.auth.models import User
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.roles.participants import NotConnected, connected_user_ids, find_participant, swap_host
from watchparty.roles.permissions import Role
from watchparty.roles.services import cohosts, role_of
from watchparty.rooms import broadcast
from watchparty.rooms.lifecycle import RoomState, can_transition
from watchparty.rooms.models import Room
from watchparty.rooms.services import room_payload

RETURN_TO_LIVE = {"state": RoomState.LIVE.value, "host_disconnected_at": None}


def hand_over(room: Room, host: User, user_id: int) -> None:
    """The host makes a connected participant host and becomes a cohost (R103)."""
    if user_id == host.id:
        raise DomainError(Kind.INVALID_INPUT, "You are already the host.", {"user_id": "is you"})
    _, successor = find_participant(room, user_id)
    if user_id not in connected_user_ids(room.code):
        raise NotConnected()
    in_grace = room.state == RoomState.GRACE and can_transition(room.state, RoomState.LIVE)
    values = RETURN_TO_LIVE if in_grace else {}
    if not swap_host(room.id, host.id, successor.id, expected_state=room.state, **values):
        raise DomainError(Kind.CONFLICT, "The room changed meanwhile; try again.")
    announce_new_host(room, successor, host, ended_grace=in_grace)


def hand_to_successor(room: Room) -> bool:
    """A lapsed GRACE room goes to its earliest-named connected cohost; True if this call did it (R104)."""
    connected = connected_user_ids(room.code)
    successor = next((user for user in cohosts(room.id) if user.id in connected), None)
    if successor is None:
        return False
    previous = db.session.get(User, room.host_id)
    if not swap_host(
        room.id, room.host_id, successor.id, expected_state=RoomState.GRACE.value, **RETURN_TO_LIVE
    ):
        return False
    announce_new_host(room, successor, previous, ended_grace=True)
    return True


def notice_lapse(room: Room, user_id: int) -> bool:
    """Any event of a connected cohost notices a lapsed grace (R104); True if this handed the room over."""
    if room.state != RoomState.GRACE or role_of(room, user_id) is not Role.COHOST:
        return False
    try:
        if realtime.grace_active(room.code):
            return False
    except RealtimeUnavailable:
        return False  # never act on a grace we cannot see
    return hand_to_successor(room)


def has_connected_cohost(room: Room) -> bool:
    """Whether a successor is at hand (for `expire-rooms --dry-run`)."""
    connected = connected_user_ids(room.code)
    return any(user.id in connected for user in cohosts(room.id))


def announce_new_host(room: Room, host: User, previous: User, ended_grace: bool) -> None:
    """HOST_CHANGED, then ROOM_UPDATED, then HOST_RECONNECTED when grace ended (R103, R104)."""
    db.session.refresh(room)
    if ended_grace:
        with contextlib.suppress(RealtimeUnavailable):  # the database already says LIVE
            realtime.end_grace(room.code)
    broadcast.host_changed(room.code, host.to_public_dict(), previous.to_public_dict())
    broadcast.room_updated(room.code, room_payload(room))
    if ended_grace:
        broadcast.host_reconnected(room.code)
