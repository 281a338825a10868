"""Chat rules (R50-R56): checks in the order disabled, length, rate, duplicate."""

import hashlib

from flask import current_app
from sqlalchemy import bindparam, delete, select

from watchparty.auth.models import User
from watchparty.chat.models import ChatMessage, message_dict
from watchparty.extensions import db, realtime

CHAT_DISABLED = ("chat_disabled", "Chat is disabled in this room")
CHAT_TOO_LONG = ("chat_too_long", "Messages can be at most {limit} characters")
CHAT_RATE_LIMITED = ("chat_rate_limited", "You are sending messages too fast; wait a few seconds")
CHAT_DUPLICATE = ("chat_duplicate", "You just sent this message")


class ChatRefused(Exception):
    """A chat message the sender must be told about (an ERROR event)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def payload(self) -> dict:
        return {"code": self.code, "message": self.message}


def normalized_digest(text: str) -> str:
    """Fingerprint of a text after trimming, case folding and collapsing white space (R54)."""
    normalized = " ".join(text.casefold().split())
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]


def check_message(room, user_id: int, text: str) -> None:
    """Raise ChatRefused for the first rule the message breaks, in R56's order."""
    config = current_app.config
    if not room.is_chat_enabled:
        raise ChatRefused(*CHAT_DISABLED)
    limit = int(config["CHAT_MAX_LENGTH"])
    if len(text) > limit:
        raise ChatRefused(CHAT_TOO_LONG[0], CHAT_TOO_LONG[1].format(limit=limit))
    window = float(config["CHAT_RATE_LIMIT_WINDOW_SECONDS"])
    if realtime.count_chat_message(room.code, user_id, window) > int(config["CHAT_RATE_LIMIT_COUNT"]):
        raise ChatRefused(*CHAT_RATE_LIMITED)
    duplicate_window = float(config["CHAT_DUPLICATE_WINDOW_SECONDS"])
    if not realtime.claim_chat_text(room.code, user_id, normalized_digest(text), duplicate_window):
        raise ChatRefused(*CHAT_DUPLICATE)


def post_message(room, user_id: int, raw_text: str, media_time: float | None = None) -> dict | None:
    """Store a message and return its payload; None for an empty one (R50); ChatRefused (R51-R54).

    `media_time` is the room's position when the message was accepted (R57); kept only with media.
    """
    text = raw_text.strip()
    if not text:
        return None
    check_message(room, user_id, text)
    with_media = room.media is not None
    message = ChatMessage(room_id=room.id, user_id=user_id, message=text,
                          media_time=round(media_time, 3) if with_media and media_time is not None else None,
                          media_version=room.media_version)  # fmt: skip
    db.session.add(message)
    db.session.commit()
    drop_old_messages(room.id)
    return message.to_dict()


def drop_old_messages(room_id: int) -> None:
    """Keep only the newest CHAT_HISTORY_LIMIT messages of the room (R55)."""
    keep = int(current_app.config["CHAT_HISTORY_LIMIT"])
    oldest_kept = (
        select(ChatMessage.id)
        .where(ChatMessage.room_id == room_id)
        .order_by(ChatMessage.id.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    db.session.execute(
        delete(ChatMessage).where(ChatMessage.room_id == room_id, ChatMessage.id < oldest_kept)
    )
    db.session.commit()


_NEWEST_MESSAGES = (
    select(
        ChatMessage.id,
        User.id,
        User.display_name,
        ChatMessage.message,
        ChatMessage.created_at,
        ChatMessage.media_time,
        ChatMessage.media_version,
    )
    .join(User, User.id == ChatMessage.user_id)
    .where(ChatMessage.room_id == bindparam("room"))
    .order_by(ChatMessage.id.desc())
    .limit(bindparam("count"))
)


def recent_messages(room, limit: int | None) -> list[dict]:
    """The newest `limit` messages (1 to CHAT_HISTORY_LIMIT), oldest first (R26).

    Rows from one compiled query, not ORM objects: every connecting socket reads these (R32).
    """
    cap = int(current_app.config["CHAT_HISTORY_LIMIT"])
    count = cap if limit is None else max(1, min(limit, cap))
    rows = db.session.connection().execute(_NEWEST_MESSAGES, {"room": room.id, "count": count}).all()
    return [message_dict(*row) for row in reversed(rows)]


def bootstrap_messages(room) -> list[dict]:
    """The newest CHAT_BOOTSTRAP_COUNT messages, oldest first, for CHAT_HISTORY (R32)."""
    return recent_messages(room, int(current_app.config["CHAT_BOOTSTRAP_COUNT"]))
