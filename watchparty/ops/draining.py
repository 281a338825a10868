"""SIGTERM: report draining, release presence, close every socket, then exit (R184)."""

import logging
import threading

from watchparty.extensions import socketio

log = logging.getLogger(__name__)

_draining = threading.Event()


def is_draining() -> bool:
    """True once this process has been asked to stop."""
    return _draining.is_set()


def drain(app) -> None:
    """Stop taking sockets, let this process's sockets go (USER_LEFT, grace), close them all."""
    from watchparty.rooms import presence

    _draining.set()
    log.info("draining: releasing presence and closing every socket")
    presence.leave_all_local_sockets(app)
    close_every_socket()


def close_every_socket() -> None:
    """Drop every Engine.IO connection without a close packet, so that clients reconnect elsewhere.

    A server-side Socket.IO or Engine.IO disconnect tells clients not to
    reconnect; a dropped transport makes them reconnect at once.
    """
    engine = socketio.server.eio
    for engine_socket in list(engine.sockets.values()):
        try:
            engine_socket.close(wait=False, abort=True)
        except Exception:  # a socket closing on its own meanwhile is fine
            log.debug("socket %s was already closing", engine_socket.sid)


class RefuseNewSocketsWhileDraining:
    """WSGI wrapper: while draining, new Engine.IO handshakes get 503 (a proxy then tries another)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if is_draining() and is_handshake(environ):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
            return [b"draining"]
        return self.wsgi_app(environ, start_response)


def is_handshake(environ) -> bool:
    """A Socket.IO request that opens a new connection (no Engine.IO sid yet)."""
    return environ.get("PATH_INFO", "").startswith("/socket.io") and "sid=" not in environ.get(
        "QUERY_STRING", ""
    )
