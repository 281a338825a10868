"""Rooms, their participants and their playback state."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, and_, case, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchparty.auth.models import User
from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db
from watchparty.rooms.lifecycle import RoomState, can_transition


class Room(db.Model):
    """A watch party: one host, one piece of media, a lifecycle state."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    is_chat_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(10), default=RoomState.CREATED.value, index=True)
    media: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    host_disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Grows by one with every change of `media`; advancing is conditional on it (R150a).
    media_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Grows by one with every change of the queue, in the same transaction (R153).
    queue_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Only the settings a host changed; roles.settings fills in the defaults (R107).
    settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    host: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def transition(room_id: int, expected: RoomState, target: RoomState, **values) -> bool:
        """Move a room from `expected` to `target` if allowed; False if nothing changed (R45).

        One conditional UPDATE, so racing processes change (and announce) a room once.
        """
        if not can_transition(expected, target):
            return False
        statement = (
            update(Room)
            .where(Room.id == room_id, Room.state == expected.value)
            .values(state=target.value, **values)
        )
        changed = db.session.execute(statement).rowcount == 1
        db.session.commit()
        return changed


class Participant(db.Model):
    """A user who joined a room (R22) and their role in it (R100); the host is one from creation.

    `role` mirrors `Room.host_id` for the host; both change in one transaction.
    """

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("room_id", "user_id", name="uq_participants_room_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    role: Mapped[str] = mapped_column(String(10), default="viewer", server_default="viewer")
    # When the host named this cohost: cohosts are listed, and succeed, in this order (R101, R104).
    named_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Playback(db.Model):
    """The host-authoritative playback state; `version` only ever goes up (R38, R39).

    Times are epoch seconds. `position` holds until `effective_at` (a scheduled
    start, >= updated_at, R122); after it, while playing, the position at time t is
    position + rate x (t - effective_at) (R121), computed in SQL so no process
    reads then writes. `updated_at` is when the last command was applied.
    """

    __tablename__ = "playback"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    is_playing: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float)
    effective_at: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")


def current_position_sql(now):
    """SQL for the authoritative position at `now` (seconds, or a bound parameter), from the stored row."""
    started = and_(Playback.is_playing, Playback.effective_at < now)
    return case(
        (started, Playback.position + Playback.rate * (now - Playback.effective_at)), else_=Playback.position
    )
