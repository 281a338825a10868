"""Participants and their roles: the list, role changes, host handover (SPEC R101-R103)."""

from sqlalchemy import select, update

from watchparty.auth.models import User
from watchparty.database import utcnow
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db, realtime
from watchparty.realtime import RealtimeUnavailable
from watchparty.roles.permissions import Role
from watchparty.rooms import broadcast
from watchparty.rooms.models import Participant, Room

ROLE_ORDER = {Role.HOST.value: 0, Role.COHOST.value: 1, Role.VIEWER.value: 2}


class NoSuchParticipant(DomainError):
    def __init__(self):
        super().__init__(Kind.NOT_FOUND, "This user is not a participant of the room.")


class NotConnected(DomainError):
    def __init__(self, message: str = "This user is not connected to the room."):
        super().__init__(Kind.CONFLICT, message, code="not_connected")


def connected_user_ids(code: str) -> set[int]:
    """The users with a socket in the room; nobody when the realtime store does not answer."""
    try:
        return set(realtime.present_user_ids(code))
    except RealtimeUnavailable:
        return set()


def participant_rows(room: Room) -> list[tuple[Participant, User]]:
    """Host first, then cohosts in naming order, then viewers by join time (R101)."""
    rows = db.session.execute(
        select(Participant, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.room_id == room.id)
    ).all()

    def order(row):
        participant = row[0]
        role = Role.HOST.value if participant.user_id == room.host_id else participant.role
        named = participant.named_at.timestamp() if participant.named_at and role == "cohost" else 0.0
        return ROLE_ORDER[role], named, participant.joined_at, participant.id

    return sorted(rows, key=order)


def participant_payload(room: Room, participant: Participant, user: User, connected: set[int]) -> dict:
    """One entry of R101's list."""
    role = Role.HOST.value if user.id == room.host_id else participant.role
    return {"user": user.to_public_dict(), "role": role, "connected": user.id in connected}


def list_participants(room: Room) -> list[dict]:
    """Every participant with their role and whether they are connected (R101)."""
    connected = connected_user_ids(room.code)
    return [participant_payload(room, p, u, connected) for p, u in participant_rows(room)]


def find_participant(room: Room, user_id: int) -> tuple[Participant, User]:
    """The participant row and user, or 404."""
    row = db.session.execute(
        select(Participant, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.room_id == room.id, Participant.user_id == user_id)
    ).first()
    if row is None:
        raise NoSuchParticipant()
    return row[0], row[1]


def set_role(room: Room, user_id: int, role: Role) -> dict:
    """Make a participant a cohost or a viewer; the room gets ROLE_CHANGED unless it had it (R102)."""
    participant, user = find_participant(room, user_id)
    if user_id == room.host_id:
        raise DomainError(Kind.INVALID_INPUT, "The host's role cannot be set.", {"user_id": "is the host"})
    named_at = utcnow() if role is Role.COHOST else None
    statement = (
        update(Participant)
        .where(Participant.id == participant.id, Participant.role != role.value, Participant.role != "host")
        .values(role=role.value, named_at=named_at)
    )
    changed = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1
    db.session.commit()
    if changed:
        broadcast.role_changed(room.code, user.to_public_dict(), role.value)
    db.session.refresh(participant)
    return participant_payload(room, participant, user, connected_user_ids(room.code))


def swap_host(room_id: int, previous_id: int, successor_id: int, expected_state: str | None = None,
              **values) -> bool:  # fmt: skip
    """Make the successor host if `previous_id` still is; the previous host becomes the last-named cohost.

    One transaction whose first statement is the conditional UPDATE of the
    room, so racing handovers (processes, CLI runs) change the room once.
    """
    conditions = [Room.id == room_id, Room.host_id == previous_id]
    if expected_state is not None:
        conditions.append(Room.state == expected_state)
    statement = update(Room).where(*conditions).values(host_id=successor_id, **values)
    if db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount != 1:
        db.session.rollback()
        return False
    set_participant_role(room_id, previous_id, Role.COHOST, utcnow())
    set_participant_role(room_id, successor_id, Role.HOST, None)
    db.session.commit()
    return True


def set_participant_role(room_id: int, user_id: int, role: Role, named_at) -> None:
    """Write one participant's role (inside the caller's transaction)."""
    db.session.execute(
        update(Participant)
        .where(Participant.room_id == room_id, Participant.user_id == user_id)
        .values(role=role.value, named_at=named_at),
        execution_options={"synchronize_session": False},
    )
