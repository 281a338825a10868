"""SIGTERM: report draining, release presence, close every socket, then exit (R184)."""

import logging
import threading

from watchparty.realtime import socket_server

log = logging.getLogger(__name__)

_draining = threading.Event()


def is_draining() -> bool:
    """True once this process has been asked to stop."""
    return _draining.is_set()


def drain(app) -> None:
    """Stop taking sockets, let this process's sockets go (USER_LEFT, grace), drop them all."""
    from watchparty.rooms import liveness

    _draining.set()
    log.info("draining: releasing presence and dropping every socket")
    liveness.leave_all_local_sockets(app)
    socket_server.drop_every_transport()


def refuse_new_sockets_while_draining(wsgi_app):
    """WSGI wrapper: while draining, new Engine.IO handshakes get 503 (a proxy then tries another).

    A function, not a callable object: Python calls a function without a C
    stack frame of its own, and every idle socket's greenlet keeps a copy of
    its C stack (see realtime/socket_server.py).
    """

    def refuse_or_serve(environ, start_response):
        if is_draining() and is_handshake(environ):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
            return [b"draining"]
        return wsgi_app(environ, start_response)

    return refuse_or_serve


def is_handshake(environ) -> bool:
    """A Socket.IO request that opens a new connection (no Engine.IO sid yet)."""
    return environ.get("PATH_INFO", "").startswith("/socket.io") and "sid=" not in environ.get(
        "QUERY_STRING", ""
    )
