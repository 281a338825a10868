"""HTML error pages outside /api/."""

from flask import render_template
from werkzeug.exceptions import HTTPException, InternalServerError

TITLES = {
    404: "Not found",
    410: "Room closed",
}


def render_error_page(exc: Exception):
    """Render an error page that says what happened, without internals."""
    if not isinstance(exc, HTTPException):
        exc = InternalServerError()
    status = exc.code or 500
    title = TITLES.get(status, exc.name)
    return render_template("error.html", status=status, title=title, message=exc.description), status
