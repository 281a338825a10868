"""Running the server process: migrations at start, then Socket.IO serving (SPEC R1)."""

import fcntl
import gc
import logging
import os
import signal

from flask import Flask
from flask_migrate import upgrade

from watchparty.ops import draining
from watchparty.realtime import socket_server
from watchparty.rooms import liveness

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


def start_background_work(app: Flask) -> None:
    """Listen on the message queue now, and keep this process's heartbeat (R35)."""
    if app.config.get("REDIS_URL"):
        socket_server.start_queue_listener()
    liveness.start_heartbeats(app)


def stop_on_signal(app: Flask, then=None) -> None:
    """On SIGTERM/SIGINT: drain (R184), linger for the probes to see it, then `then()` or exit."""

    def drain_and_stop():
        draining.drain(app)
        socket_server.sleep(float(app.config["DRAIN_LINGER_SECONDS"]))
        if then is not None:
            then()  # gunicorn's worker_exit then lets go of what is left
            return
        liveness.leave_all_local_sockets(app)  # a beat that was under way re-added our record
        logging.shutdown()
        os._exit(0)

    def shut_down(signum, _frame):
        # Under gevent a signal handler runs in the event loop, where blocking
        # calls (Redis) are not allowed: do the work in a task of its own.
        if draining.is_draining():
            return
        log.info("signal %s: draining", signum)
        socket_server.start_background(drain_and_stop)

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)


def prepare_to_serve(app: Flask) -> None:
    """Everything a serving process does before taking requests (here and in gunicorn.conf.py)."""
    if app.config.get("AUTO_MIGRATE"):
        apply_migrations(app)
    if socket_server.async_mode() == "gevent":
        from watchparty.serving.handler import configure_connections

        configure_connections(
            int(app.config["MAX_CONTENT_LENGTH"]), float(app.config["REQUEST_READ_TIMEOUT_SECONDS"])
        )
    start_background_work(app)
    tune_garbage_collection()


#: Middle-generation collections between two full ones (CPython's default: 10). A full collection
#: walks every object the process keeps, a second and more at 10,000 sockets, and while sockets
#: arrive CPython's other condition for one (a quarter more long-lived objects) keeps holding.
FULL_COLLECTION_EVERY = 100


def tune_garbage_collection() -> None:
    """Leave what start-up built out of the cycle search, and make full collections rarer.

    What start-up built (modules, the app, the ORM's mappings) lives as long as
    the process, and a full collection over it took about 150 ms: a stall every
    socket of the process felt (the p99 of bench/fanout.py at N=10). Admitting
    10,000 sockets ran 33 full collections of up to 1.8 s (26 s in all) with
    CPython's thresholds, and 5 (4.7 s) with a full collection at most every
    100 middle ones (bench/capacity.py, README). Frozen objects are still freed
    by reference counting; only the cycle search skips them.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


#: Connections the kernel queues while the process is busy (gunicorn's default; gevent's is 128). A
#: reconnect storm of a thousand viewers overflowed 128 while sockets were being admitted: the refused
#: ones fell back to the client's doubling backoff (bench/storm.py).
LISTEN_BACKLOG = 2048


def serve(app: Flask) -> None:
    """Serve HTTP and Socket.IO until stopped."""
    prepare_to_serve(app)
    stop_on_signal(app)
    host, port = app.config["HOST"], app.config["PORT"]
    log.info("serving on http://%s:%s (async mode %s)", host, port, socket_server.async_mode())
    if socket_server.async_mode() == "gevent":
        serve_with_gevent(app, host, port)
    else:
        socket_server.run_development_server(app, host, port)


def serve_with_gevent(app: Flask, host: str, port: int) -> None:
    """Serve as Flask-SocketIO would under gevent, with our connection handler."""
    from gevent import pywsgi

    from watchparty.serving.handler import ConnectionHandler

    server = pywsgi.WSGIServer(
        (host, port), app, handler_class=ConnectionHandler, log=None, backlog=LISTEN_BACKLOG
    )
    server.serve_forever()
