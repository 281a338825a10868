"""Socket tokens: which user a JWT from POST /api/auth/token/ names (R16, R30)."""

import time

from flask import current_app
from flask_jwt_extended import decode_token

from watchparty.auth.sessions import SESSION_CLAIM, SocketUser, user_for_session_id

MAX_TOKEN_LENGTH = 4096
VERIFIED_TOKENS_KEPT = 2_000  # a storm of reconnects fits; under a megabyte


def user_from_token(token) -> SocketUser | None:
    """Return the user a valid access token names, while the session that minted it lives (R170)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    claims = verified_claims(token)
    if claims is None:
        return None
    subject, session_id = claims.get("sub"), claims.get(SESSION_CLAIM)
    if claims.get("type") != "access" or not (isinstance(subject, str) and subject.isdigit()):
        return None
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return None
    return user_for_session_id(session_id, int(subject))


def verified_claims(token: str) -> dict | None:
    """The claims of a token whose signature checked out and which has not expired; else None.

    A page's token comes back on every reconnect of its socket, so this process
    remembers the claims of the tokens it verified, per app, until they expire:
    a storm of reconnects checks each signature once. The session the token
    names is still looked up on every connect (R170).
    """
    verified = current_app.extensions.setdefault("watchparty.verified_tokens", {})
    claims = verified.get(token)
    if claims is None:
        try:
            claims = decode_token(token)
        except Exception:  # expired, forged, malformed: all the same to the client
            return None
        if len(verified) >= VERIFIED_TOKENS_KEPT:
            verified.clear()
        verified[token] = claims
    expires = claims.get("exp")  # none when JWT_ACCESS_TOKEN_EXPIRES is False
    if expires is not None and expires <= time.time():
        verified.pop(token, None)
        return None
    return claims
