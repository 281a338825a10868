"""HTML error pages outside /api/, and the HTTP errors of the room page (R92)."""

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError, NotFound

from watchparty.rooms.lifecycle import RoomState

TITLES = {
    403: "Not allowed",
    404: "Not found",
    410: "Room closed",
    429: "Too many attempts",
}
MESSAGES = {
    429: "Too many attempts in a short time. Wait a minute, then try again.",
}


class FormExpired(Forbidden):
    """A form came without a valid CSRF token (SPEC R12 answers 403 too)."""

    title = "Form expired"
    description = (
        "This form has expired or did not come from this site. Go back, reload the page and try again."
    )


CLOSED_MESSAGES = {
    RoomState.DELETED: "This room was closed: the host deleted it.",
    RoomState.EXPIRED: "This room was closed: it expired.",
}


class NoSuchRoom(NotFound):
    title = "No such room"
    description = "There is no room with this code. Check the code and try again."


class RoomGone(HTTPException):
    code = 410
    title = "Room closed"

    def __init__(self, state: str):
        super().__init__(CLOSED_MESSAGES.get(RoomState(state), "This room was closed."))


class BannedFromRoom(Forbidden):
    title = "Banned"
    description = "You were removed and banned from this room."


def render_error_page(exc: Exception):
    """Render an error page that says what happened, without internals."""
    if isinstance(exc, CSRFError):
        exc = FormExpired()
    if not isinstance(exc, HTTPException):
        exc = InternalServerError()
    status = exc.code or 500
    title = getattr(exc, "title", None) or TITLES.get(status, exc.name)
    message = MESSAGES.get(status, exc.description)
    # A 5xx may come from the database: the header must not load the user again.
    show_account = status < 500
    page = render_template(
        "error.html", status=status, title=title, message=message, show_account=show_account
    )
    return page, status
