"""Running the server process: migrations at start, then Socket.IO serving (SPEC R1)."""

import fcntl
import logging
import os

from flask import Flask
from flask_migrate import upgrade

from watchparty.extensions import socketio

log = logging.getLogger(__name__)


def apply_migrations(app: Flask) -> None:
    """Upgrade the database, one process at a time (several may start together)."""
    lock_path = os.path.join(app.instance_path, "migrate.lock")
    with open(lock_path, "w") as lock_file, app.app_context():
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            upgrade(directory=app.extensions["migrate"].directory)
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def serve(app: Flask) -> None:
    """Serve HTTP and Socket.IO until stopped."""
    if app.config.get("AUTO_MIGRATE"):
        apply_migrations(app)
    for start in app.extensions.get("watchparty_on_serve", []):
        start(app)
    host, port = app.config["HOST"], app.config["PORT"]
    log.info("serving on http://%s:%s (async mode %s)", host, port, socketio.async_mode)
    socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)
