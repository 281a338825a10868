"""JSON errors under /api/ (SPEC R10): never an HTML page or a stack trace."""

import logging

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

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


class ApiError(Exception):
    """A failure with a status, a snake_case code and a human message."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


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
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(OperationalError, handle_dependency_down)
    app.register_error_handler(RealtimeUnavailable, handle_dependency_down)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def handle_api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.fields)


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
    """Render a plain error page outside /api/ (the web blueprint may replace it)."""
    from watchparty.web.errors import render_error_page

    return render_error_page(exc)
