"""Watch progress records."""

import hashlib
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db


class WatchProgress(db.Model):
    """How far one user got in one piece of content, in one room (R80)."""

    __tablename__ = "watch_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "room_id", "content_key", name="uq_watch_progress_user_room_content_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[str] = mapped_column(String(2048))
    # The unique key holds this digest, not content_id: 2,048 characters can take 8 KiB of
    # UTF-8, past PostgreSQL's B-tree row limit (about 2.7 KB).
    content_key: Mapped[str] = mapped_column(String(64))
    position_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Unknown until a player reports it: the host's PLAY/PAUSE/SEEK carry only a position (R63).
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def content_key(content_id: str) -> str:
    """The fixed-size digest of a content id that the unique key is built on."""
    return hashlib.sha256(content_id.encode()).hexdigest()
