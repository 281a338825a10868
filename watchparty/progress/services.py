"""Progress rules: clamping, completion, the idempotent upsert and resume points (SPEC R80-R82, R63)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from watchparty import providers
from watchparty.database import utcnow
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db
from watchparty.progress.models import WatchProgress, content_key

COMPLETION_MARGIN_SECONDS = 1.0
NOT_STARTED = {"progress_percent": 0.0, "last_position_seconds": 0.0, "completed": False}
# A finished record resumes from the beginning (R82).
FINISHED = {"progress_percent": 100.0, "last_position_seconds": 0.0, "completed": True}


class ContentIdRequired(DomainError):
    def __init__(self):
        super().__init__(
            Kind.INVALID_INPUT,
            "This room has no media: say which content the progress is for.",
            {"content_id": "required when the room has no media"},
        )


# writing ---------------------------------------------------------------------


def record_progress(
    user_id: int,
    room,
    position: float,
    duration: float | None,
    content_id: str | None = None,
    ended: bool = False,
) -> WatchProgress:
    """Write the user's progress in the room's content; the same call twice writes once (R80, R62, R63)."""
    content_id = content_id or providers.content_id_for(room.media)
    if not content_id:
        raise ContentIdRequired()
    room_id = room.id
    record = find_record(user_id, room_id, content_id, for_update=True)
    if record is None:
        try:
            return insert_record(user_id, room_id, content_id, position, duration, ended)
        except IntegrityError:
            db.session.rollback()  # another process inserted it first: update that record
            record = find_record(user_id, room_id, content_id, for_update=True)
    return update_record(record, position, duration, ended)


def settle(position: float, duration: float | None, ended: bool) -> tuple[float, bool]:
    """Clamp the position to [0, duration] and decide whether it completes the content."""
    position = max(0.0, float(position))
    if duration is None:
        return position, ended
    position = duration if ended else min(position, duration)
    # A zero duration is what players report before they know the length: it completes nothing.
    near_end = duration > 0 and duration - position <= COMPLETION_MARGIN_SECONDS
    return position, ended or near_end


def insert_record(user_id, room_id, content_id, position, duration, ended) -> WatchProgress:
    """Add a new record and commit; IntegrityError if it already exists."""
    duration = None if duration is None else float(duration)
    position, completed = settle(position, duration, ended)
    record = WatchProgress(
        user_id=user_id,
        room_id=room_id,
        content_id=content_id,
        content_key=content_key(content_id),
        position_seconds=position,
        duration_seconds=duration,
        completed=completed,
        updated_at=utcnow(),
    )
    db.session.add(record)
    db.session.commit()
    return record


def update_record(record: WatchProgress, position, duration, ended) -> WatchProgress:
    """Apply new values and commit; unchanged values keep the record (and updated_at) as it was."""
    # Only a position, as from the host's PLAY/PAUSE/SEEK: the last known duration still holds (R63).
    duration = record.duration_seconds if duration is None else float(duration)
    position, completed = settle(position, duration, ended)
    values = {"position_seconds": position, "duration_seconds": duration, "completed": completed}
    if any(getattr(record, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = utcnow()
    db.session.commit()
    return record


# reading ---------------------------------------------------------------------


def find_record(
    user_id: int, room_id: int, content_id: str, for_update: bool = False
) -> WatchProgress | None:
    """Return the record of this user, room and content, or None."""
    query = select(WatchProgress).where(
        WatchProgress.user_id == user_id,
        WatchProgress.room_id == room_id,
        WatchProgress.content_key == content_key(content_id),
        WatchProgress.content_id == content_id,
    )
    return db.session.scalar(query.with_for_update() if for_update else query)


def latest_record(user_id: int, room_id: int) -> WatchProgress | None:
    """Return the user's most recently updated record in the room, or None."""
    query = (
        select(WatchProgress)
        .where(WatchProgress.user_id == user_id, WatchProgress.room_id == room_id)
        .order_by(WatchProgress.updated_at.desc(), WatchProgress.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def own_progress(user_id: int, room) -> WatchProgress | None:
    """The caller's record for the room's current content; without media, their latest in the room (R81)."""
    content_id = providers.content_id_for(room.media)
    if content_id is None:
        return latest_record(user_id, room.id)
    return find_record(user_id, room.id, content_id)


def resume_point(user_id: int, room) -> dict:
    """Where the caller should resume the room's content (R82); read-only."""
    record = own_progress(user_id, room)
    if record is None:
        return dict(NOT_STARTED)
    if record.completed:
        return dict(FINISHED)
    percent = progress_percent(record)
    return {"progress_percent": percent, "last_position_seconds": record.position_seconds, "completed": False}


# shapes ----------------------------------------------------------------------


def progress_percent(record: WatchProgress) -> float:
    """0-100 with two decimals; 100 only when completed, 0 while the duration is unknown or 0."""
    if record.completed:
        return 100.0
    if not record.duration_seconds:
        return 0.0
    # Rounding must not claim 100 % for a record that is not completed.
    return min(round(100 * (record.position_seconds / record.duration_seconds), 2), 99.99)


def progress_payload(record: WatchProgress) -> dict:
    """The Progress shape of the SPEC."""
    return {
        "content_id": record.content_id,
        "position_seconds": record.position_seconds,
        "duration_seconds": record.duration_seconds,
        "progress_percent": progress_percent(record),
        "completed": record.completed,
        "updated_at": record.updated_at.isoformat(),
    }
