"""Reading roles from the database, and refusing what the permission table forbids (R100)."""

from sqlalchemy import bindparam, select

from watchparty.auth.models import User
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db
from watchparty.roles.permissions import Action, Role, can
from watchparty.rooms.models import Participant, Room


class Forbidden(DomainError):
    def __init__(self, message: str = "Your role in this room does not allow this."):
        super().__init__(Kind.FORBIDDEN, message)


def role_of(room: Room, user_id: int) -> Role | None:
    """The user's role in the room, or None for someone who is not a participant."""
    if user_id == room.host_id:
        return Role.HOST
    stored = db.session.scalar(
        select(Participant.role).where(Participant.room_id == room.id, Participant.user_id == user_id)
    )
    return stored_role(room, user_id, stored)


def stored_role(room: Room, user_id: int, stored: str | None) -> Role | None:
    """The role a participants row says (None: no row); the room's host_id decides who hosts."""
    if user_id == room.host_id:
        return Role.HOST
    return Role(stored) if stored is not None else None


def require(room: Room, user_id: int, action: Action, **conditions) -> Role:
    """Return the user's role if it allows `action`; 403 otherwise (R100)."""
    role = role_of(room, user_id)
    if not can(role, action, **conditions):
        raise Forbidden()
    return role


_COHOST_IDS = select(Participant.user_id).where(
    Participant.room_id == bindparam("room"), Participant.role == Role.COHOST.value
)


def cohost_ids(room_id: int) -> set[int]:
    """The ids of the room's cohosts, in one compiled query of one column (every connect reads them)."""
    return set(db.session.connection().execute(_COHOST_IDS, {"room": room_id}).scalars())


def cohosts(room_id: int) -> list[User]:
    """The room's cohosts in naming order (R100a, R101)."""
    query = (
        select(User)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.room_id == room_id, Participant.role == Role.COHOST.value)
        .order_by(Participant.named_at, Participant.id)
    )
    return list(db.session.scalars(query))
