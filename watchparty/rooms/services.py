"""Room rules: creation, lookup, joining, changes, deletion and the public list."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from watchparty import chat, providers
from watchparty.auth.models import User
from watchparty.database import utcnow
from watchparty.domain_errors import DomainError, Kind, invalid_input
from watchparty.extensions import db, realtime
from watchparty.moderation.models import Ban
from watchparty.moderation.services import refuse_if_banned
from watchparty.queue.voting import announce_votes
from watchparty.realtime import RealtimeUnavailable
from watchparty.roles import services as roles
from watchparty.roles.permissions import Action, Role
from watchparty.roles.settings import effective_settings
from watchparty.rooms import broadcast, closing, playback
from watchparty.rooms.codes import new_code, normalize_code
from watchparty.rooms.lifecycle import CLOSED_STATES, RoomState, is_closed
from watchparty.rooms.models import Participant, Playback, Room
from watchparty.sync import readiness
from watchparty.sync.timeline import speeds_allowed

CODE_ATTEMPTS = 10
# The public list ranks at most this many of the newest LIVE public rooms by viewers (R177).
PUBLIC_ROOMS_SCAN_LIMIT = 1000


class RoomClosed(DomainError):
    def __init__(self):
        super().__init__(Kind.GONE, "This room was closed.")


ROOM_NOT_FOUND = "There is no room with this code."


# lookup ----------------------------------------------------------------------


def find_room(code: str) -> Room | None:
    """Return the room with this code (any case), or None."""
    canonical = normalize_code(code)
    if canonical is None:
        return None
    return db.session.scalar(select(Room).where(Room.code == canonical))


def room_or_404(code: str) -> Room:
    """Return the room, or refuse: not found."""
    room = find_room(code)
    if room is None:
        raise DomainError(Kind.NOT_FOUND, ROOM_NOT_FOUND)
    return room


def open_room(code: str) -> Room:
    """Return the room unless it is unknown (not found) or closed (RoomClosed)."""
    room = room_or_404(code)
    if is_closed(room.state):
        raise RoomClosed()
    return room


_ROOM_STATE = select(Room.state).where(Room.id == bindparam("room"))


def room_state(room_id: int) -> str | None:
    """Read the room's state afresh from the database (compiled once: every connect and command reads it)."""
    return db.session.connection().execute(_ROOM_STATE, {"room": room_id}).scalar_one_or_none()


@dataclass(frozen=True)
class RoomRow:
    """What a connect or a playback command reads of its room: a row, not an ORM object (the hot paths)."""

    id: int
    code: str
    host_id: int
    state: str
    media: dict | None
    media_version: int
    queue_version: int
    settings: dict | None


_ROOM_ROW = (Room.id, Room.code, Room.host_id, Room.state, Room.media, Room.media_version, Room.queue_version,
             Room.settings)  # fmt: skip
_MEMBER = and_(Participant.room_id == Room.id, Participant.user_id == bindparam("user"))

_ADMISSION = (
    select(
        *_ROOM_ROW, Participant.role, exists().where(Ban.room_id == Room.id, Ban.user_id == bindparam("user"))
    )
    .outerjoin(Participant, _MEMBER)
    .where(Room.code == bindparam("code"))
)


def socket_admission(code: str, user_id: int) -> tuple[RoomRow, Role | None, bool] | None:
    """The room, the user's role in it (None: not a participant) and whether they are banned.

    One compiled query for what a connecting socket needs checked (R31, R105); None if no room
    has the code.
    """
    canonical = normalize_code(code)
    if canonical is None:
        return None
    row = db.session.connection().execute(_ADMISSION, {"code": canonical, "user": user_id}).first()
    if row is None:
        return None
    room = RoomRow(*row[: len(_ROOM_ROW)])
    stored, is_banned = row[len(_ROOM_ROW) :]
    return room, roles.stored_role(room, user_id, stored), bool(is_banned)


_COMMAND_ROOM = (
    select(*_ROOM_ROW, Participant.role, Playback.is_playing)
    .outerjoin(Participant, _MEMBER)
    .outerjoin(Playback, Playback.room_id == Room.id)
    .where(Room.id == bindparam("room"))
)


def command_room(room_id: int, user_id: int) -> tuple[RoomRow, Role | None, bool | None] | None:
    """The room, the sender's role and whether it plays, read afresh in one compiled query (R100).

    None if the room is gone; `is_playing` is None without a playback row.
    """
    row = db.session.connection().execute(_COMMAND_ROOM, {"room": room_id, "user": user_id}).first()
    if row is None:
        return None
    room = RoomRow(*row[: len(_ROOM_ROW)])
    stored, is_playing = row[len(_ROOM_ROW) :]
    return room, roles.stored_role(room, user_id, stored), is_playing


def is_participant(room_id: int, user_id: int) -> bool:
    """Return True if the user joined the room."""
    query = select(exists().where(Participant.room_id == room_id, Participant.user_id == user_id))
    return bool(db.session.scalar(query))


def participant_room(code: str, user: User) -> Room:
    """Return the open room if the user is a participant; else refuse (not found, closed, forbidden)."""
    room = open_room(code)
    if not is_participant(room.id, user.id):
        raise DomainError(Kind.FORBIDDEN, "Join the room first.")
    return room


def room_allowing(code: str, user: User, action: Action, **conditions) -> Room:
    """Return the open room if the user's role allows `action` (R100); 404, 410 or 403 otherwise."""
    room = open_room(code)
    roles.require(room, user.id, action, **conditions)
    return room


# shapes ----------------------------------------------------------------------


def viewer_count(code: str) -> int:
    """Distinct connected users (R35); 0 when the realtime store does not answer."""
    try:
        return realtime.viewer_count(code)
    except RealtimeUnavailable:
        return 0


def room_payload(room: Room) -> dict:
    """The Room shape of the SPEC."""
    if is_closed(room.state):
        snapshot = playback.stored_snapshot(room.id)
    else:
        snapshot = playback.current_snapshot(room.code, room.id)
    return {
        "code": room.code,
        "title": room.title,
        "host": room.host.to_public_dict(),
        "is_private": room.is_private,
        "is_chat_enabled": room.is_chat_enabled,
        "state": room.state,
        "created_at": room.created_at.isoformat(),
        "viewer_count": 0 if is_closed(room.state) else viewer_count(room.code),
        "media": room.media,
        "embed_url": providers.embed_url_for(room.media),
        "playback": snapshot.summary(),
        "cohosts": [user.to_public_dict() for user in roles.cohosts(room.id)],
        "media_version": room.media_version,
        "settings": effective_settings(room.settings),
    }


def room_payload_for(room: Room, user: User) -> dict:
    """The Room shape an HTTP caller gets: with the caller's own role, null if not a participant (R100a)."""
    role = roles.role_of(room, user.id)
    return {**room_payload(room), "role": role.value if role else None}


def public_room_payload(room: Room, viewers: int) -> dict:
    """The PublicRoom shape of R25."""
    return {
        "code": room.code,
        "title": room.title,
        "host": room.host.to_public_dict(),
        "viewer_count": viewers,
        "created_at": room.created_at.isoformat(),
    }


# actions ---------------------------------------------------------------------


def create_room(host: User, title: str, is_private: bool, is_chat_enabled: bool, media: dict | None,
                settings: dict | None = None) -> Room:  # fmt: skip
    """Create a room with a unique code; its host is its first participant (R20, R107)."""
    media = providers.validate_media(media) if media is not None else None
    for _ in range(CODE_ATTEMPTS):
        room = Room(code=new_code(), title=title, host_id=host.id, is_private=is_private,
                    is_chat_enabled=is_chat_enabled, media=media, settings=settings or {})  # fmt: skip
        db.session.add(room)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        enforce_room_limit(host.id)
        db.session.add(Participant(room_id=room.id, user_id=host.id, role="host"))
        playback.create_playback(room.id)
        db.session.commit()
        return room
    raise DomainError(Kind.UNAVAILABLE, "Could not allocate a room code; try again.")


def enforce_room_limit(host_id: int) -> None:
    """Refuse a room past MAX_OPEN_ROOMS_PER_USER, counted in the creating transaction (R177).

    Called after the new room's INSERT: on SQLite that write already holds the
    database's write lock; on PostgreSQL the host's row lock serialises the count.
    FOR NO KEY UPDATE, not FOR UPDATE: the INSERT already holds FOR KEY SHARE on
    that row (its foreign key), and two creators each upgrading to FOR UPDATE deadlock.
    """
    db.session.execute(select(User.id).where(User.id == host_id).with_for_update(key_share=True))
    open_rooms = db.session.scalar(
        select(func.count())
        .select_from(Room)
        .where(Room.host_id == host_id, Room.state.not_in([state.value for state in CLOSED_STATES]))
    )
    if open_rooms > int(current_app.config["MAX_OPEN_ROOMS_PER_USER"]):
        db.session.rollback()
        raise DomainError(
            Kind.CONFLICT, "You host as many open rooms as allowed; close one first.", code="room_limit"
        )


def join_room(code: str, user: User) -> tuple[Room, bool]:
    """Make the user a participant; idempotent, True only the first time (R22); 403 if banned (R105)."""
    room = open_room(code)
    refuse_if_banned(room, user.id)
    if is_participant(room.id, user.id):
        return room, False
    db.session.add(Participant(room_id=room.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return room, False
    return room, True


HOST_ONLY_FIELDS = frozenset({"title", "is_private", "media", "settings"})


def update_room(code: str, user: User, changes: dict) -> Room:
    """Apply a PATCH the caller's role allows; a media change resets playback (R23, R100, R107)."""
    action = Action.EDIT_ROOM if HOST_ONLY_FIELDS & changes.keys() else Action.TOGGLE_CHAT
    room = room_allowing(code, user, action)
    media_changed = "media" in changes
    if media_changed:
        changes["media"] = (
            providers.validate_media(changes["media"]) if changes["media"] is not None else None
        )
        room.media_version = Room.media_version + 1  # in SQL: concurrent changes each count (R150a)
    if "settings" in changes:
        changes["settings"] = {**locked_settings(room), **changes["settings"]}
    for name, value in changes.items():
        setattr(room, name, value)
    db.session.commit()
    if media_changed:
        rate = None if speeds_allowed(room.media) else 1.0  # R123
        snapshot = playback.change_playback(room.id, playback.Change("reset", position=0.0, rate=rate))
        readiness.announce_playback(room.code, snapshot)
    broadcast.room_updated(room.code, room_payload(room))
    if media_changed:
        announce_votes(room)  # a new media version starts with no votes (R156)
    return room


def locked_settings(room: Room) -> dict:
    """The room's stored settings, read under its write lock until this transaction commits (R107).

    A no-op UPDATE first takes PostgreSQL's row lock and SQLite's write lock, so
    the merge that follows cannot lose a key written by a concurrent PATCH.
    """
    db.session.execute(update(Room).where(Room.id == room.id).values(settings=Room.settings))
    db.session.refresh(room, ["settings"])
    return dict(room.settings or {})


def delete_room(code: str, user: User) -> None:
    """Close the room for good and let every connected client go (R24)."""
    room = room_allowing(code, user, Action.DELETE_ROOM)
    if not mark_deleted(room):
        raise RoomClosed()
    closing.close_room(room.code, reason="deleted")


def mark_deleted(room: Room) -> bool:
    """Move the room to DELETED from whatever open state it is in; False once it is closed.

    The state may move under us (the host connecting, grace starting), so
    re-read and try again rather than fail the host's delete.
    """
    for _ in range(5):
        if Room.transition(room.id, RoomState(room.state), RoomState.DELETED, closed_at=utcnow()):
            return True
        db.session.refresh(room)
        if is_closed(room.state):
            return False
    return False


def list_public_rooms(limit: int = 50) -> list[dict]:
    """LIVE public rooms, most viewers first, then newest (R25); read-only."""
    rooms = db.session.scalars(
        select(Room)
        .where(Room.state == RoomState.LIVE.value, Room.is_private.is_(False))
        .order_by(Room.created_at.desc())
        .limit(PUBLIC_ROOMS_SCAN_LIMIT)
    ).all()
    try:
        counts = realtime.viewer_counts([room.code for room in rooms])
    except RealtimeUnavailable:
        counts = {}
    ranked = sorted(rooms, key=lambda r: (counts.get(r.code, 0), r.created_at), reverse=True)
    return [public_room_payload(room, counts.get(room.code, 0)) for room in ranked[:limit]]


def recent_messages(room: Room, limit: int | None) -> list[dict]:
    """The newest `limit` chat messages, oldest first (R26)."""
    cap = int(current_app.config["CHAT_HISTORY_LIMIT"])
    if limit is not None and limit > cap:
        raise invalid_input("limit is too large.", {"limit": f"at most {cap}"})
    return chat.recent_messages(room, limit)
