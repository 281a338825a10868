"""Chat messages, kept per room up to CHAT_HISTORY_LIMIT (R55)."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchparty.auth.models import User, public_user
from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db


class ChatMessage(db.Model):
    """One message as sent: plain text, never markup (R93)."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_room_id_id", "room_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where the room's media was when the message was accepted (R57); null without media.
    media_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    media_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    def to_dict(self) -> dict:
        """The ChatMessage shape of the SPEC."""
        return message_dict(self.id, self.user.id, self.user.display_name, self.message, self.created_at,
                            self.media_time, self.media_version)  # fmt: skip


def message_dict(message_id, user_id, display_name, text, created_at, media_time, media_version) -> dict:
    """The ChatMessage shape of the SPEC, from its values (a model, or a row read without the ORM)."""
    return {
        "id": message_id,
        "user": public_user(user_id, display_name),
        "message": text,
        "created_at": created_at.isoformat(),
        "media_time": media_time,
        "media_version": media_version,
    }
