"""Auth endpoints (SPEC R12-R16)."""

from urllib.parse import quote

from flask import Blueprint, redirect, request
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from watchparty.auth import services, sessions
from watchparty.auth.rate_limits import limit_failed_logins, limit_registrations
from watchparty.auth.schemas import LoginBody, RegisterBody
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import login_manager
from watchparty.validation import parse_body

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@login_manager.user_loader
def _load_user(session_key: str):
    return sessions.user_for_session_key(session_key)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise DomainError(Kind.UNAUTHENTICATED, "Log in first.")
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")


@bp.get("/csrf/")
def csrf_token():
    """Return a CSRF token bound to the caller's session cookie."""
    return {"csrf_token": generate_csrf()}


@bp.post("/register/")
@limit_registrations()
def register():
    """Create an account and log it in, in a new session."""
    body = parse_body(RegisterBody)
    user = services.register_user(body.email, body.password, body.display_name)
    sessions.log_in(user)
    return {"user": user.to_dict()}, 201


@bp.post("/login/")
@limit_failed_logins()
def login():
    """Log in with email and password."""
    body = parse_body(LoginBody)
    user = services.authenticate(body.email, body.password)
    if user is None:
        raise DomainError(Kind.UNAUTHENTICATED, "The email or password is wrong.", code="invalid_credentials")
    sessions.log_in(user)
    return {"user": user.to_dict()}


@bp.post("/logout/")
def logout():
    """End the session everywhere (cookie, tokens, sockets); succeeds also when nobody is logged in."""
    sessions.log_out()
    return "", 204


@bp.get("/me/")
@login_required
def me():
    """Return the logged-in user."""
    return {"user": current_user.to_dict()}


@bp.post("/token/")
@login_required
def token():
    """Mint the socket token for the logged-in user."""
    return services.issue_socket_token(current_user)
