"""Socket tokens: which user a JWT from POST /api/auth/token/ names (R16, R30)."""

from flask_jwt_extended import decode_token

from watchparty.auth.models import User
from watchparty.extensions import db

MAX_TOKEN_LENGTH = 4096


def user_from_token(token) -> User | None:
    """Return the user a valid access token names, or None (the caller refuses)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = decode_token(token)
    except Exception:  # expired, forged, malformed: all the same to the client
        return None
    subject = claims.get("sub")
    if claims.get("type") != "access" or not (isinstance(subject, str) and subject.isdigit()):
        return None
    return db.session.get(User, int(subject))
