"""Settings in layers: defaults, then WATCHPARTY_* environment values, then the
conventional unprefixed names (SPEC R4)."""

import json
import logging
import os
import secrets
from pathlib import Path

from watchparty.database import engine_options

log = logging.getLogger(__name__)

ENV_PREFIX = "WATCHPARTY_"
UNPREFIXED = ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "HOST", "PORT")

DEFAULTS = {
    "GRACE_PERIOD_SECONDS": 600,
    "CHAT_MAX_LENGTH": 500,
    "CHAT_RATE_LIMIT_COUNT": 5,
    "CHAT_RATE_LIMIT_WINDOW_SECONDS": 3,
    "CHAT_DUPLICATE_WINDOW_SECONDS": 10,
    "CHAT_HISTORY_LIMIT": 500,
    "CHAT_BOOTSTRAP_COUNT": 50,
    "SYNC_DRIFT_THRESHOLD_SECONDS": 1.0,
    "JWT_ACCESS_TOKEN_EXPIRES": 300,
    "CREATED_ROOM_TTL_SECONDS": 86400,
    "ASYNC_MODE": "gevent",
    "MAX_CONTENT_LENGTH": 1048576,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "REQUEST_READ_TIMEOUT_SECONDS": 30,
    "PRESENCE_HEARTBEAT_SECONDS": 2,
    "PRESENCE_DEAD_AFTER_SECONDS": 10,
    # Section 6-7 settings (R108), named once here for every feature that reads them.
    "VIEWER_PAUSE_WINDOW_SECONDS": 600,
    "QUEUE_MAX_ITEMS": 100,
    "READY_TIMEOUT_SECONDS": 8,
    "PLAYBACK_LEAD_SECONDS": "auto",
    "SYNC_HEALTH_INTERVAL_SECONDS": 2,
    "REGISTER_RATE_LIMIT": "10 per hour",
    "SOCKET_EVENTS_PER_SECOND": 20,
    "SOCKET_EVENTS_BURST": 40,
    "MAX_SOCKETS_PER_USER": 5,
    "MAX_OPEN_ROOMS_PER_USER": 20,
    "TRUSTED_PROXY_HOPS": 0,
    "METRICS_TOKEN": None,
    "LOG_FORMAT": "text",
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "AUTO_MIGRATE": False,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
    "DRAIN_LINGER_SECONDS": 1.0,
    "ADMIN_UI_PASSWORD": None,
    "ADMIN_UI_USERNAME": "admin",
    "ADMIN_UI_ORIGIN": "https://admin.socket.io",
    "ADMIN_UI_READ_ONLY": True,
}


def parse_env_value(raw: str):
    """Return the JSON value of raw when it parses, else raw itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def settings_from_env(environ=os.environ) -> dict:
    """Collect WATCHPARTY_* values, then the unprefixed names, from the environment."""
    found = {
        name[len(ENV_PREFIX) :]: parse_env_value(value)
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX)
    }
    for name in UNPREFIXED:
        if environ.get(name):
            found[name] = parse_env_value(environ[name]) if name == "PORT" else environ[name]
    return found


def load_or_create_secret(instance_path: str, name: str) -> str:
    """Read a development secret kept in instance/, creating it once if needed."""
    path = Path(instance_path) / f"{name.lower()}.txt"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:  # created readable by the owner only, never world-readable for a moment
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as secret_file:
        secret_file.write(value)
    log.warning("%s is not set: generated a development key in %s", name, path)
    return value


def finalize(config: dict, instance_path: str) -> None:
    """Derive the settings that depend on others (database URI, secrets, JWT)."""
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        if not config.get(name):
            config[name] = load_or_create_secret(instance_path, name)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = config.get("DATABASE_URL") or (
            "sqlite:///" + os.path.join(instance_path, "watchparty.sqlite3")
        )
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config["SQLALCHEMY_DATABASE_URI"]))
    config["JWT_TOKEN_LOCATION"] = ["headers"]
    config["PORT"] = int(config["PORT"])
