"""Queue items: the media a room plays next, in `position` order (R150)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchparty.auth.models import User
from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db


class QueueItem(db.Model):
    """One entry of a room's queue; positions are rewritten on every move."""

    __tablename__ = "queue_items"
    __table_args__ = (Index("ix_queue_items_room_id_position", "room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    media: Mapped[dict] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(100), default="")
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    added_by: Mapped[User] = relationship(lazy="joined")

    def to_dict(self) -> dict:
        """The QueueItem shape of R150."""
        return {
            "id": self.id,
            "media": self.media,
            "title": self.title,
            "added_by": self.added_by.to_public_dict(),
            "added_at": self.added_at.isoformat(),
        }
