"""Socket tokens: which user a JWT from POST /api/auth/token/ names (R16, R30)."""

from flask_jwt_extended import decode_token

from watchparty.auth.sessions import SESSION_CLAIM, SocketUser, user_for_session_id

MAX_TOKEN_LENGTH = 4096


def user_from_token(token) -> SocketUser | None:
    """Return the user a valid access token names, while the session that minted it lives (R170)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = decode_token(token)
    except Exception:  # expired, forged, malformed: all the same to the client
        return None
    subject, session_id = claims.get("sub"), claims.get(SESSION_CLAIM)
    if claims.get("type") != "access" or not (isinstance(subject, str) and subject.isdigit()):
        return None
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return None
    return user_for_session_id(session_id, int(subject))
