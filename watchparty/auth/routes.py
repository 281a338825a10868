"""Auth endpoints (SPEC R12-R16)."""

from urllib.parse import quote

from flask import Blueprint, current_app, redirect, request
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from watchparty.auth import services, sessions
from watchparty.auth.schemas import LoginBody, RegisterBody
from watchparty.errors import ApiError
from watchparty.extensions import limiter, login_manager
from watchparty.validation import parse_body, request_data

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@login_manager.user_loader
def _load_user(session_key: str):
    return sessions.user_for_session_key(session_key)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise ApiError(401, "unauthorized", "Log in first.")
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")


def login_limit_key() -> str:
    """Failed logins are counted per client address and email (SPEC R14)."""
    try:
        email = str(request_data().get("email", ""))[:254]
    except ApiError:
        email = ""
    return f"login:{request.remote_addr}:{email.strip().casefold()}"


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def register_limit_key() -> str:
    """Registrations are counted per client address, API and form together (SPEC R172)."""
    return f"register:{request.remote_addr}"


# The form's registrations share this bucket: limits are scoped by the endpoint's name.
REGISTER_SCOPE = "auth.register"


@bp.get("/csrf/")
def csrf_token():
    """Return a CSRF token bound to the caller's session cookie."""
    return {"csrf_token": generate_csrf()}


@bp.post("/register/")
@limiter.shared_limit(register_limit, scope=REGISTER_SCOPE, key_func=register_limit_key)
def register():
    """Create an account and log it in, in a new session."""
    body = parse_body(RegisterBody)
    user = services.register_user(body.email, body.password, body.display_name)
    sessions.log_in(user)
    return {"user": user.to_dict()}, 201


@bp.post("/login/")
@limiter.limit(login_limit, key_func=login_limit_key, deduct_when=lambda r: r.status_code == 401)
def login():
    """Log in with email and password."""
    body = parse_body(LoginBody)
    user = services.authenticate(body.email, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
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
