"""Bans: a banned user is no participant and cannot come back until unbanned (R105)."""

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchparty.auth.models import User
from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db


class Ban(db.Model):
    """One user banned from one room, by whom and when."""

    __tablename__ = "bans"
    __table_args__ = (UniqueConstraint("room_id", "user_id", name="uq_bans_room_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    banned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    banned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    banned_by: Mapped[User | None] = relationship(foreign_keys=[banned_by_id], lazy="joined")

    def to_dict(self) -> dict:
        """The ban shape of R105's list."""
        return {
            "user": self.user.to_public_dict(),
            "banned_by": self.banned_by.to_public_dict() if self.banned_by else None,
            "banned_at": self.banned_at.isoformat(),
        }
