"""Auth endpoints (SPEC R12-R16)."""

from urllib.parse import quote

from flask import Blueprint, redirect, request
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from watchparty.auth import services
from watchparty.auth.rate_limits import login_failed, login_limit, login_limit_key
from watchparty.auth.schemas import LoginBody, RegisterBody
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import limiter, login_manager
from watchparty.validation import parse_body

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@login_manager.user_loader
def _load_user(user_id: str):
    return services.load_user(int(user_id)) if user_id.isdigit() else None


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
def register():
    """Create an account and log it in."""
    body = parse_body(RegisterBody)
    user = services.register_user(body.email, body.password, body.display_name)
    login_user(user)
    return {"user": user.to_dict()}, 201


@bp.post("/login/")
@limiter.limit(login_limit, key_func=login_limit_key, deduct_when=login_failed)
def login():
    """Log in with email and password."""
    body = parse_body(LoginBody)
    user = services.authenticate(body.email, body.password)
    if user is None:
        raise DomainError(Kind.UNAUTHENTICATED, "The email or password is wrong.", code="invalid_credentials")
    login_user(user)
    return {"user": user.to_dict()}


@bp.post("/logout/")
def logout():
    """End the session; succeeds also when nobody is logged in."""
    logout_user()
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
