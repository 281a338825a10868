"""Server-side login sessions (SPEC R170, R173): a row per login, its key in the cookie."""

import secrets
from dataclasses import dataclass

from flask import current_app, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, select

from watchparty.auth.models import AuthSession, User, public_user
from watchparty.database import utcnow
from watchparty.extensions import db
from watchparty.realtime import socket_server

# The socket token's claim naming the session that minted it.
SESSION_CLAIM = "session"


def log_in(user: User) -> None:
    """End the caller's current session, then start a fresh one for user, with a new CSRF secret."""
    end_current_session()
    row = AuthSession(key=secrets.token_urlsafe(32), user_id=user.id)
    db.session.add(row)
    db.session.commit()
    user.session_key, user.session_id = row.key, row.id
    login_user(user)


def log_out() -> None:
    """End the caller's session, if any, and renew the cookie session (R170, R173)."""
    end_current_session()


def end_current_session() -> None:
    """Delete the caller's session row, tell its sockets, and clear the cookie (CSRF secret too)."""
    session_id = current_user.session_id if current_user.is_authenticated else None
    logout_user()
    session.clear()
    if session_id is not None:
        end_session(session_id)


def end_session(session_id: int) -> None:
    """Delete one session row; its cookie and socket tokens stop working, its sockets are told."""
    db.session.execute(delete(AuthSession).where(AuthSession.id == session_id))
    db.session.commit()
    room = socket_server.session_room(session_id)
    socket_server.emit("KICKED", {"reason": "logged_out"}, to=room)
    socket_server.disconnect_room(room)


def user_for_session_key(key: str) -> User | None:
    """The user logged in through this session key, or None if it ended or lapsed."""
    row = db.session.scalar(select(AuthSession).where(AuthSession.key == key))
    return _user_of(row)


@dataclass(frozen=True, slots=True)
class SocketUser:
    """Who a socket token names: what admitting a socket needs, read without the ORM."""

    id: int
    display_name: str
    session_id: int

    def to_public_dict(self) -> dict:
        return public_user(self.id, self.display_name)


_SESSION_USER = (
    select(AuthSession.created_at, User.display_name)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.id == bindparam("session"), AuthSession.user_id == bindparam("user"))
)


def user_for_session_id(session_id: int, user_id: int) -> SocketUser | None:
    """The user of a live session with this id, if it belongs to user_id (socket tokens, R170).

    One compiled query: every socket connect asks it.
    """
    row = db.session.connection().execute(_SESSION_USER, {"session": session_id, "user": user_id}).first()
    if row is None or _lapsed(row.created_at):
        return None
    return SocketUser(user_id, row.display_name, session_id)


def _lapsed(created_at) -> bool:
    """A session lives as long as its cookie would."""
    return created_at < utcnow() - current_app.permanent_session_lifetime


def _user_of(row: AuthSession | None) -> User | None:
    if row is None or _lapsed(row.created_at):
        return None
    user = row.user  # the session's lifetime is the cookie's own
    user.session_key, user.session_id = row.key, row.id
    return user
