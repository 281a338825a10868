"""User accounts."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from watchparty.auth.hashing import run_off_loop
from watchparty.database import UTCDateTime, utcnow
from watchparty.extensions import db


class User(UserMixin, db.Model):
    """A person who can host or join rooms."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # The AuthSession this object was loaded through; Flask-Login stores it as the user's id.
    session_key = None
    session_id = None

    def get_id(self) -> str | None:
        """The key of the session this user is logged in through (SPEC R170)."""
        return self.session_key

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = run_off_loop(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        """Return True if the password matches the stored hash."""
        return run_off_loop(check_password_hash, self.password_hash, password)

    def to_dict(self) -> dict:
        """The User shape of SPEC R16, for the user themself."""
        return {"id": self.id, "email": self.email, "display_name": self.display_name}

    def to_public_dict(self) -> dict:
        """How other users see this user: no email."""
        return public_user(self.id, self.display_name)


def public_user(user_id: int, display_name: str) -> dict:
    """How other users see a user, from its id and name (also from rows read without the ORM)."""
    return {"id": user_id, "display_name": display_name}


def email_key(email: str) -> str:
    """Return the case-insensitive form of an email address."""
    return email.strip().casefold()


class AuthSession(db.Model):
    """One login: the cookie carries only `key`; socket tokens carry `id` (SPEC R170)."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user: Mapped[User] = relationship(lazy="joined")  # every session lookup wants its user too
