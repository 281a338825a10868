"""Changing the room's media from the queue: next, auto-advance and skip (SPEC R150a, R154-R156).

Each advance is conditional on the media version the actor saw, so each media
is advanced at most once, whichever process or event tries first.
"""

import contextlib
import time

from sqlalchemy import select, update

from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db
from watchparty.queue.models import QueueItem
from watchparty.queue.services import bump_version, committed
from watchparty.queue.voting import announce_votes
from watchparty.roles.settings import effective_settings
from watchparty.rooms import broadcast, playback
from watchparty.rooms.models import Room
from watchparty.rooms.services import room_payload
from watchparty.sync import readiness
from watchparty.sync.timeline import speeds_allowed

# An `ended` further than this from the authoritative position is not the end (R150a).
ENDED_TOLERANCE_SECONDS = 5.0
NEXT_ATTEMPTS = 5


class QueueEmpty(DomainError):
    def __init__(self):
        super().__init__(Kind.CONFLICT, "The queue is empty.", code="queue_empty")


def claim_media_version(room_id: int, seen: int) -> bool:
    """Bump media_version if it is still `seen`; the first statement of the transaction (R150a)."""
    statement = (
        update(Room)
        .where(Room.id == room_id, Room.media_version == seen)
        .values(media_version=Room.media_version + 1)
    )
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1


def advance(room: Room, seen: int, playing: bool) -> bool:
    """Make the first item the media if the media is still version `seen`; False if it moved on.

    Raises QueueEmpty (nothing changed) when there is no item.
    """
    if not claim_media_version(room.id, seen):
        db.session.rollback()
        return False
    version = bump_version(room.id)
    first = db.session.scalar(
        select(QueueItem)
        .where(QueueItem.room_id == room.id)
        .order_by(QueueItem.position, QueueItem.id)
        .limit(1)
    )
    if first is None:
        db.session.rollback()
        raise QueueEmpty()
    db.session.execute(update(Room).where(Room.id == room.id).values(media=first.media))
    db.session.delete(first)
    db.session.flush()
    committed(room, version)
    media_changed(room, playing)
    return True


def clear_media(room: Room, seen: int) -> bool:
    """A skip with an empty queue: no media, paused at 0, a new media version (R156)."""
    if not claim_media_version(room.id, seen):
        db.session.rollback()
        return False
    db.session.execute(update(Room).where(Room.id == room.id).values(media=None))
    db.session.commit()
    media_changed(room, playing=False)
    return True


def play_next(room: Room) -> None:
    """POST …/queue/next/: advance from whatever media the room has now (R154)."""
    for _ in range(NEXT_ATTEMPTS):
        db.session.refresh(room)
        playing = playback.current_snapshot(room.code, room.id).is_playing
        if advance(room, room.media_version, playing):
            return
    raise DomainError(Kind.CONFLICT, "The room's media kept changing; try again.")


def media_changed(room: Room, playing: bool) -> None:
    """Like a PATCH of media: one PLAYBACK_STATE at 0, ROOM_UPDATED, and the votes reset (R23, R154).

    With start_when_ready the new item starts through a ready check (R111).
    """
    db.session.refresh(room)
    when_ready = playing and effective_settings(room.settings)["start_when_ready"]
    rate = None if speeds_allowed(room.media) else 1.0  # R123
    start = playing and not when_ready
    kind, lead = ("restart", readiness.lead(room.code)) if start else ("reset", 0.0)
    change = playback.Change(kind, position=0.0, rate=rate, lead=lead)
    snapshot = playback.change_playback(room.id, change)
    readiness.announce_playback(room.code, snapshot)
    broadcast.room_updated(room.code, room_payload(room))
    announce_votes(room)
    if when_ready:
        readiness.start_or_play(room.code, room.id, snapshot.version, 0.0, None)


def ended(room: Room, position: float, seen: int) -> None:
    """The host's player reached the end of media version `seen`: advance once if auto_advance (R155)."""
    snapshot = playback.current_snapshot(room.code, room.id)
    if abs(snapshot.time_at(time.time()) - position) > ENDED_TOLERANCE_SECONDS:
        return
    if not effective_settings(room.settings)["auto_advance"]:
        return
    with contextlib.suppress(QueueEmpty):
        advance(room, seen, playing=True)


def skip(room: Room, seen: int) -> bool:
    """Enough votes: advance once, or clear the media when the queue is empty (R156)."""
    playing = playback.current_snapshot(room.code, room.id).is_playing
    try:
        return advance(room, seen, playing)
    except QueueEmpty:
        return clear_media(room, seen)
