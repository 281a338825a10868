"""gunicorn settings for one watchparty process: `gunicorn -c gunicorn.conf.py wsgi:app`.

One worker per gunicorn process (Socket.IO sockets live in their process);
run several processes behind a load balancer with sticky sessions (SPEC R3).
"""

import json
import os

# The worker class lives in watchparty, so the master imports the app's modules
# (ssl, redis, …) before it forks: patch first, as `python wsgi.py` does (STACK.md).
if os.environ.get("WATCHPARTY_ASYNC_MODE", "gevent").strip('"') == "gevent":
    from gevent import monkey

    monkey.patch_all()

worker_class = "watchparty.serving.worker.Worker"
workers = 1
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
graceful_timeout = 10


def _log_format() -> str:
    raw = os.environ.get("WATCHPARTY_LOG_FORMAT", "text")
    return json.loads(raw) if raw.startswith('"') else raw


if _log_format() == "json":
    # gunicorn's own lines as JSON too (R182); the app configures its loggers itself.
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "static_fields": {"request_id": "-"},
    }
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": []},  # the app adds its own JSON handler
        "formatters": {"json": _json},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def post_worker_init(worker):
    """Migrate if asked, start the listener and heartbeat, drain on SIGTERM: as `python wsgi.py` does."""
    from watchparty.server import prepare_to_serve, stop_on_signal

    prepare_to_serve(worker.wsgi)

    def stop_worker():
        worker.alive = False  # gunicorn's own exit path then closes the listener and runs worker_exit

    stop_on_signal(worker.wsgi, then=stop_worker)


def child_exit(server, worker):
    """Forget a dead worker's live gauges when metrics are shared between workers (R181)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Let this process's sockets go (USER_LEFT, grace) and drop its records."""
    from watchparty.rooms import liveness

    liveness.leave_all_local_sockets(worker.wsgi)
