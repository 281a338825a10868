"""Kick, ban, unban and the bans list (SPEC R105)."""

import time

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from watchparty.auth.models import User
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db, realtime
from watchparty.moderation.models import Ban
from watchparty.realtime import RealtimeUnavailable, socket_server
from watchparty.roles.participants import find_participant
from watchparty.roles.permissions import Action, can, moderation_action
from watchparty.roles.services import Forbidden, require, role_of
from watchparty.rooms import broadcast
from watchparty.rooms.models import Participant, Room

# How long a kick waits for the sockets' own processes to let them go before it
# removes what is left itself (a process that died keeps its records until swept).
DISCONNECT_PATIENCE_SECONDS = 5.0


class Banned(DomainError):
    def __init__(self):
        super().__init__(Kind.FORBIDDEN, "You are banned from this room.", code="banned")


def is_banned(room_id: int, user_id: int) -> bool:
    """Return True if the user is banned from the room."""
    return bool(db.session.scalar(select(exists().where(Ban.room_id == room_id, Ban.user_id == user_id))))


def refuse_if_banned(room: Room, user_id: int) -> None:
    """403 `banned` for reading, joining or opening the room's page (R105)."""
    if is_banned(room.id, user_id):
        raise Banned()


def checked_target(room: Room, actor: User, user_id: int) -> User:
    """R105's checks after login, in order: caller's role, participant, yourself, target's role."""
    actor_role = require(room, actor.id, Action.MODERATE_VIEWER)
    _, target = find_participant(room, user_id)
    if user_id == actor.id:
        raise DomainError(Kind.INVALID_INPUT, "You cannot remove yourself.", {"user_id": "is you"})
    needed = moderation_action(role_of(room, user_id))
    if needed is None or not can(actor_role, needed):
        raise Forbidden("Your role does not allow removing this participant.")
    return target


def remove(room: Room, actor: User, user_id: int, banned: bool) -> None:
    """Kick: disconnect the user's sockets, they may come back. Ban: also end their
    participation and refuse them until unbanned (R105)."""
    target = checked_target(room, actor, user_id)
    if banned:
        record_ban(room, actor, target)
    remove_sockets(room.code, target.id, "banned" if banned else "kicked")


def record_ban(room: Room, actor: User, target: User) -> None:
    """The target stops being a participant and is banned, in one transaction."""
    db.session.execute(
        delete(Participant).where(Participant.room_id == room.id, Participant.user_id == target.id)
    )
    db.session.add(Ban(room_id=room.id, user_id=target.id, banned_by_id=actor.id))
    try:
        db.session.commit()
    except IntegrityError:  # banned by someone else at the same moment
        db.session.rollback()


def unban(room: Room, actor: User, user_id: int) -> None:
    """Lift a ban; 404 if there is none (R105)."""
    require(room, actor.id, Action.MODERATE_VIEWER)
    removed = db.session.execute(delete(Ban).where(Ban.room_id == room.id, Ban.user_id == user_id)).rowcount
    db.session.commit()
    if removed == 0:
        raise DomainError(Kind.NOT_FOUND, "This user is not banned from the room.")


def list_bans(room: Room, actor: User) -> list[dict]:
    """The room's bans, oldest first (R105)."""
    require(room, actor.id, Action.MODERATE_VIEWER)
    bans = db.session.scalars(select(Ban).where(Ban.room_id == room.id).order_by(Ban.banned_at, Ban.id))
    return [ban.to_dict() for ban in bans]


def remove_sockets(code: str, user_id: int, reason: str) -> None:
    """KICKED to each of the user's sockets, then disconnect them; return once none is left.

    Each socket's own process lets it go as a normal disconnect (USER_LEFT for
    the user's last socket); sockets whose process does not answer in time are
    removed here, through the same path a dead process's sockets take.
    """
    from watchparty.rooms.presence import socket_gone  # presence imports moderation for `banned`

    try:
        records = realtime.user_sockets(code, user_id)
    except RealtimeUnavailable:
        return
    for record in records:
        broadcast.kicked(record.sid, reason)
    deadline = time.monotonic() + DISCONNECT_PATIENCE_SECONDS
    while realtime.user_sockets(code, user_id) and time.monotonic() < deadline:
        socket_server.sleep(0.02)
    for record in realtime.user_sockets(code, user_id):
        socket_gone(record.process_id, record.sid)
