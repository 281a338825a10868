"""JSON errors under /api/ (SPEC R10): never an HTML page or a stack trace.

The one place where a domain error kind becomes an HTTP status. Pages outside
/api/ are rendered by whatever the web package registers (render_pages_with).
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db
from watchparty.realtime import RealtimeUnavailable

log = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "room_closed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


STATUS_BY_KIND: dict[Kind, int] = {
    Kind.INVALID_INPUT: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.GONE: 410,
    Kind.UNAVAILABLE: 503,
}
PAGE_RENDERER = "watchparty.error_pages"


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error's kind."""
    return STATUS_BY_KIND[error.kind]


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """Build the SPEC R10 error body."""
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return jsonify({"error": error}), status


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Map a pydantic error to {dotted.field: message}."""
    fields: dict[str, str] = {}
    for item in exc.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, item["msg"])
    return fields


def wants_json() -> bool:
    """Return True for requests whose errors must be JSON."""
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(OperationalError, handle_dependency_down)
    app.register_error_handler(RealtimeUnavailable, handle_dependency_down)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def render_pages_with(app: Flask, renderer: Callable[[Exception], tuple]) -> None:
    """Let a higher layer (the web pages) render the errors of requests outside /api/."""
    app.extensions[PAGE_RENDERER] = renderer


def handle_domain_error(exc: DomainError):
    return error_response(status_for(exc), exc.code, exc.message, exc.fields)


def handle_validation_error(exc: ValidationError):
    fields = validation_fields(exc)
    return error_response(400, "validation_error", "The request has invalid fields.", fields)


def handle_csrf_error(exc: CSRFError):
    if not wants_json():
        return handle_page_error(exc)
    return error_response(403, "csrf_failed", exc.description or "The CSRF token is missing or wrong.")


def handle_http_exception(exc: HTTPException):
    if not wants_json():
        return handle_page_error(exc)
    status = exc.code or 500
    code = CODES_BY_STATUS.get(status, "error")
    response, status = error_response(status, code, exc.description or exc.name)
    if status == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        response.headers.update(getattr(exc, "headers", None) or {})
    return response, status


def handle_dependency_down(exc: Exception):
    """The database or Redis did not answer: 503, not a 500 (R10)."""
    log.warning("dependency unavailable on %s %s: %s", request.method, request.path, exc)
    db.session.rollback()
    if not wants_json():
        return handle_page_error(ServiceUnavailable())
    message = "A service this request needs is not answering; try again."
    return error_response(503, "service_unavailable", message)


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    if not wants_json():
        return handle_page_error(exc)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def handle_page_error(exc: Exception):
    """Render an error page outside /api/: the registered renderer's, else plain text."""
    renderer = current_app.extensions.get(PAGE_RENDERER)
    if renderer is not None:
        return renderer(exc)
    status = getattr(exc, "code", None) if isinstance(exc, HTTPException) else None
    return f"{status or 500} {getattr(exc, 'name', 'Internal Server Error')}", status or 500
