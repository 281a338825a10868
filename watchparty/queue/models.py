"""Queue items: the media a room plays next, in `position` order (R150)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchparty.auth.models import User, public_user
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
        return item_dict(
            self.id, self.media, self.title, self.added_by.id, self.added_by.display_name, self.added_at
        )


def item_dict(item_id, media, title, user_id, display_name, added_at) -> dict:
    """The QueueItem shape of R150, from its values (a model, or a row read without the ORM)."""
    return {
        "id": item_id,
        "media": media,
        "title": title,
        "added_by": public_user(user_id, display_name),
        "added_at": added_at.isoformat(),
    }
