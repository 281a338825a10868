"""Account rules: registration, credentials and socket tokens."""

from flask import current_app
from flask_jwt_extended import create_access_token
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from watchparty.auth.hashing import check_against_dummy
from watchparty.auth.models import User, email_key
from watchparty.auth.sessions import SESSION_CLAIM
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db


class EmailTaken(DomainError):
    def __init__(self):
        super().__init__(
            Kind.CONFLICT, "An account with this email already exists.", {"email": "already registered"}
        )


def register_user(email: str, password: str, display_name: str) -> User:
    """Create an account; EmailTaken if the email is in use in any case."""
    user = User(email=email.strip(), email_key=email_key(email), display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken() from None
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user with these credentials, or None (same for any failure)."""
    user = db.session.scalar(select(User).where(User.email_key == email_key(email)))
    if user is None:
        check_against_dummy(password)  # the same work as a wrong password (R173)
        return None
    return user if user.check_password(password) else None


def issue_socket_token(user: User) -> dict:
    """Mint the JWT a Socket.IO client presents (SPEC R16, R30)."""
    expires_in = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])
    token = create_access_token(identity=str(user.id), additional_claims={SESSION_CLAIM: user.session_id})
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
