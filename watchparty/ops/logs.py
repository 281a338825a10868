"""Logs: text or one JSON object per line (LOG_FORMAT=json), each with a request id (R182).

Nothing secret is logged: requests are logged by path only (no query string,
where a socket token may travel), and a filter masks anything that looks
like a token, password, cookie or CSRF value that a message might carry.
"""

import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

access_log = logging.getLogger("watchparty.access")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# A JWT, or name=value / "name": "value" pairs whose name says secret.
_SECRETS = re.compile(
    r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|(?i:(?:token|password|passwd|secret|csrf[a-z_]*|session|cookie|authorization)"
    r"[\"']?\s*[=:]\s*[\"']?)[^\s\"'&;,]+"
)


def configure(log_format: str | None) -> None:
    """Install one stderr handler on the root logger, in text or JSON, unless one is there."""
    # gevent-websocket's access lines carry query strings, where a socket token may travel.
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def mask_secrets(text: str) -> str:
    """Replace every secret-looking value in text with ***."""
    return _SECRETS.sub(lambda match: _masked(match.group(0)), text)


def _masked(found: str) -> str:
    if found.startswith("eyJ"):
        return "***"
    name = re.match(r"^[^=:]*[=:]\s*[\"']?", found)
    return (name.group(0) if name else "") + "***"


class RequestContextFilter(logging.Filter):
    """Add the request id to every record and mask secrets in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def current_request_id() -> str:
    """The HTTP request's id, or the socket's sid inside a Socket.IO event, else "-"."""
    if not has_request_context():
        return "-"
    return g.get("request_id") or getattr(request, "sid", None) or "-"


def init_app(app: Flask) -> None:
    """Give every request an id (the proxy's X-Request-ID when sane) and log it when done."""

    @app.before_request
    def _start():
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        access_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
        return response
