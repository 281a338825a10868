"""Session pages: the index, register, login, logout and the room pages (SPEC R90-R92)."""

from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from watchparty import errors
from watchparty.auth import services, sessions
from watchparty.auth.rate_limits import limit_failed_logins, limit_registrations
from watchparty.domain_errors import DomainError
from watchparty.moderation.services import Banned
from watchparty.rooms import services as rooms
from watchparty.rooms.codes import normalize_code
from watchparty.rooms.lifecycle import is_closed
from watchparty.web import filters, public_rooms, room_form
from watchparty.web.errors import BannedFromRoom, NoSuchRoom, RoomGone, render_error_page
from watchparty.web.forms import CreateRoomForm, LoginForm, LogoutForm, RegisterForm
from watchparty.web.navigation import safe_next_path
from watchparty.web.security import add_security_headers

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web"
)
bp.after_app_request(add_security_headers)
bp.record_once(lambda state: errors.render_pages_with(state.app, render_error_page))
filters.register(bp)

AUTH_PATHS = ("/login", "/register", "/logout")


@bp.app_context_processor
def navigation_context() -> dict:
    """Give the header's "Log in" link a way back to the current page."""
    if not has_request_context():
        return {"login_next": None}
    here = request.full_path.rstrip("?")
    return {"login_next": None if request.path == "/" or request.path in AUTH_PATHS else here}


def next_path() -> str | None:
    """Return the request's `next` if it is a local path."""
    return safe_next_path(request.args.get("next"))


def redirect_back():
    """Send the user to a safe `next`, else to the index."""
    return redirect(next_path() or url_for("web.index"))


@bp.get("/")
def index():
    """List the public rooms, with the join and create forms (SPEC R90)."""
    return render_index()


@bp.get("/join")
def join():
    """Go to the room page of a typed room code, or say why the code is wrong."""
    raw = request.args.get("code", "")
    code = normalize_code(raw)
    if code is None:
        message = (
            "A room code is 8 letters and digits, like ABCD2345." if raw.strip() else "Enter a room code."
        )
        return render_index(join_error=message, join_code=raw[:100], status=400)
    return redirect(f"/rooms/{code}")


def render_index(
    join_error: str | None = None,
    join_code: str = "",
    status: int = 200,
    create_form: CreateRoomForm | None = None,
    create_error: str | None = None,
):
    """Render the index page with the server's first copy of the public list."""
    if create_form is None and current_user.is_authenticated:
        create_form = CreateRoomForm()
    page = render_template(
        "index.html",
        rooms=public_rooms.initial_public_rooms(),
        create_form=create_form,
        create_error=create_error,
        join_error=join_error,
        join_code=join_code,
    )
    return page, status


@bp.post("/rooms/new")
@login_required
def new_room():
    """Create a room from the index form and open its page; errors go next to the fields (R20, R90)."""
    form = CreateRoomForm()
    if not form.validate_on_submit():
        return render_index(status=400, create_form=form)
    try:
        room = rooms.create_room(
            current_user,
            (form.title.data or "").strip(),
            bool(form.is_private.data),
            True,
            room_form.media_from_form(form),
        )
    except DomainError as error:
        message = room_form.show_field_errors(form, error)
        return render_index(status=errors.status_for(error), create_form=form, create_error=message)
    return redirect(url_for("web.room_page", code=room.code))


@bp.get("/rooms/<code>")
@login_required
def room_page(code: str):
    """The room page: join if needed, then the player, the chat and who is here (R92)."""
    room = rooms.find_room(code)
    if room is None:
        raise NoSuchRoom()
    if is_closed(room.state):
        raise RoomGone(room.state)
    if room.code != code:
        return redirect(url_for("web.room_page", code=room.code))
    try:
        room, _ = rooms.join_room(room.code, current_user)
    except rooms.RoomClosed:
        raise RoomGone(rooms.room_or_404(room.code).state) from None
    except Banned:
        raise BannedFromRoom() from None
    return render_template(
        "room.html",
        room=rooms.room_payload_for(room, current_user),
        user_id=current_user.id,
        is_host=room.host_id == current_user.id,
        room_url=url_for("web.room_page", code=room.code, _external=True),
    )


@bp.route("/register", methods=["GET", "POST"])
@limit_registrations(methods=["POST"])
def register():
    """Create an account from the form, log it in and go back (SPEC R13, R91)."""
    form, answer = submitted_auth_form(RegisterForm, "register.html")
    if form is None:
        return answer
    try:
        user = services.register_user(form.body.email, form.body.password, form.body.display_name)
    except services.EmailTaken:
        form.email.errors.append("An account with this email already exists.")
        return render_auth_page("register.html", form, 409)
    sessions.log_in(user)
    return redirect_back()


@bp.route("/login", methods=["GET", "POST"])
@limit_failed_logins(methods=["POST"])
def login():
    """Log in from the form and go back; one generic error for any wrong credentials (SPEC R14)."""
    form, answer = submitted_auth_form(LoginForm, "login.html")
    if form is None:
        return answer
    user = services.authenticate(form.body.email, form.body.password)
    if user is None:
        return render_auth_page("login.html", form, 401, error="The email or password is wrong.")
    sessions.log_in(user)
    return redirect_back()


def submitted_auth_form(form_class, template: str) -> tuple:
    """(form, None) for a valid submission; else (None, the answer): back when logged in, or the page."""
    if request.method == "GET" and current_user.is_authenticated:
        return None, redirect_back()
    form = form_class()
    if not form.validate_on_submit():
        return None, render_auth_page(template, form, 400 if form.is_submitted() else 200)
    return form, None


def render_auth_page(template: str, form, status: int, error: str | None = None):
    """Render a register or login page that keeps `next` in its links."""
    return render_template(template, form=form, error=error, next=next_path()), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET shows a one-button form; POST (with CSRF) logs out (SPEC R91)."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return render_template("logout.html", form=form)
    sessions.log_out()
    flash("You are logged out.")
    return redirect(url_for("web.index"))
