"""The one module that talks to the Socket.IO server: rooms, emits, disconnects, tasks.

Inside a server process calls go to the app's Socket.IO server; from the CLI
emits and disconnects go through a write-only emitter on the message queue
(STACK.md). Every socket of ours lives in the /room namespace (R30).
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import socketio as python_socketio
from flask import Flask, current_app
from flask_socketio import SocketIO

from watchparty.extensions import socketio
from watchparty.ops import admin_ui
from watchparty.realtime.event_sessions import CookieSessionsForPagesOnly
from watchparty.realtime.packets import ClientPacket, IgnoredPacket
from watchparty.realtime.queue import QUEUE_CHANNEL, PromptRedisManager, queue_manager, start_listening

NAMESPACE = "/room"
SOCKETIO_PATH = "socket.io"

_external: SocketIO | None = None
_emit_counter = None  # R181's emits counter, for emits delivered without server.emit


class ConnectHooks:
    """A client manager that runs a callback once the server has marked a sid connected.

    python-socketio marks a sid connected only after its connect handler
    returns, and ignores a disconnect asked for before that (STACK.md).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._when_connected: dict[str, Callable[[], None]] = {}

    def when_connected(self, sid: str, callback: Callable[[], None]) -> None:
        self._when_connected[sid] = callback

    def connect(self, sid, namespace):
        sid = super().connect(sid, namespace)
        callback = self._when_connected.pop(sid, None)
        if callback is not None:
            callback()
        return sid

    def disconnect(self, sid, namespace=None, **kwargs):
        self._when_connected.pop(sid, None)  # refused, or gone: nothing to confirm
        return super().disconnect(sid, namespace, **kwargs)


class RoomDisconnects:
    """A client manager that disconnects every member of a Socket.IO room, on every process.

    python-socketio can disconnect one sid across processes but not a room;
    the request travels as a `close_room` message marked `disconnect`.
    """

    def disconnect_room(self, room: str, namespace: str) -> None:
        self._disconnect_members(room, namespace)

    def _disconnect_members(self, room: str, namespace: str) -> None:
        sids = [sid for sid, _ in self.get_participants(namespace, room)]
        for sid in sids:
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class LocalManager(ConnectHooks, RoomDisconnects, python_socketio.Manager):
    """One process, no message queue."""


class RedisManager(ConnectHooks, RoomDisconnects, PromptRedisManager):
    """Several processes sharing the Redis message queue."""

    def room_emit_message(self, event: str, data, room: str) -> dict:
        """The queue message of a plain emit to a room, as PubSubManager.emit builds it (JSON, no ack)."""
        return {"method": "emit", "event": event, "data": [data], "binary": False, "namespace": NAMESPACE,
                "room": room, "skip_sid": None, "callback": None, "host_id": self.host_id}  # fmt: skip

    def disconnect_room(self, room: str, namespace: str) -> None:
        self._disconnect_members(room, namespace)
        message = {"method": "close_room", "room": room, "namespace": namespace, "host_id": self.host_id}
        self._publish({**message, "disconnect": True})

    def _handle_close_room(self, message):
        if message.get("disconnect"):
            self._disconnect_members(message.get("room"), message.get("namespace"))
        else:
            super()._handle_close_room(message)


def init_app(app: Flask) -> None:
    """Bind the Socket.IO server to the app, with the Redis queue when REDIS_URL is set."""
    redis_url = app.config.get("REDIS_URL")
    manager = RedisManager(redis_url, channel=QUEUE_CHANNEL) if redis_url else LocalManager()
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        # One socket's events are handled one after another, in the order sent: a greenlet per
        # event let a host's burst of SEEKs commit out of order, so an older one could win (R38).
        async_handlers=False,
        cors_allowed_origins=admin_ui.socket_origins(app.config),
        client_manager=manager,
        serializer=ClientPacket,
        path=SOCKETIO_PATH,
        # Events get an empty cookie session (CookieSessionsForPagesOnly), so there is none to copy
        # and keep per socket.
        manage_session=False,
    )
    socketio.sockio_mw = OneEnvironPerSocket(app.wsgi_app)
    # Its bound method, not the object: calling an object costs a C stack frame, which the
    # greenlet of every idle socket keeps a copy of (with the draining wrapper's, about
    # 1.6 KiB per idle socket: README, Performance).
    app.wsgi_app = socketio.sockio_mw.__call__
    app.session_interface = CookieSessionsForPagesOnly(SOCKETIO_PATH)
    drop_ignored_packets(socketio.server)


class OneEnvironPerSocket(python_socketio.WSGIApp):
    """Flask-SocketIO's middleware (5.7), without its copy of every request's environ.

    python-engineio keeps a socket's environ for as long as the socket lives,
    and so does gevent's WSGI handler with the environ it made: the copy was a
    second dict of some forty entries for every idle socket.
    """

    def __init__(self, flask_socketio_middleware):
        self.flask_app = flask_socketio_middleware.flask_app
        super().__init__(
            flask_socketio_middleware.engineio_app,
            flask_socketio_middleware.wsgi_app,
            socketio_path=flask_socketio_middleware.engineio_path.strip("/"),
        )

    def __call__(self, environ, start_response):
        environ["flask.app"] = self.flask_app  # where Flask-SocketIO finds the app of a socket's events
        return super().__call__(environ, start_response)


def drop_ignored_packets(server: python_socketio.Server) -> None:
    """Let the server's Engine.IO message handler drop a packet ClientPacket refused (R36)."""
    handle_message = server._handle_eio_message  # what python-socketio registered for "message"

    def handle_or_drop(eio_sid, data):
        with contextlib.suppress(IgnoredPacket):
            handle_message(eio_sid, data)

    server.eio.on("message", handle_or_drop)


def register_namespace(namespace: python_socketio.Namespace, on_error: Callable) -> None:
    """Attach a namespace handler and its error handler, once per process."""
    if any(handler.namespace == namespace.namespace for handler in socketio.namespace_handlers):
        return
    socketio.on_namespace(namespace)
    socketio.on_error(namespace.namespace)(on_error)


def use_external_emitter(redis_url: str) -> None:
    """Send events from outside the server (the CLI) through the Redis message queue."""
    global _external
    _external = SocketIO(
        message_queue=redis_url,
        async_mode="threading",
        client_manager=queue_manager(redis_url, write_only=True),
    )


def _emitter() -> SocketIO:
    return _external or socketio


def emit(event: str, payload: dict, to: str, skip_sid: str | None = None) -> None:
    """Send an event to a Socket.IO room or a sid, on every process."""
    _emitter().emit(event, payload, to=to, skip_sid=skip_sid, namespace=NAMESPACE)


@dataclass(frozen=True)
class QueuedEmit:
    """An emit to a room, encoded for the Redis message queue by this process's manager."""

    channel: str
    encoded: str
    message: dict


def queued_room_emit(event: str, payload: dict, to: str) -> QueuedEmit | None:
    """The emit, for a caller that publishes it in a Redis script of its own, right after its own
    writes (one round trip instead of two); None when this process does not use the queue."""
    manager = socketio.server.manager if _external is None and socketio.server is not None else None
    if not isinstance(manager, RedisManager):
        return None
    message = manager.room_emit_message(event, payload, to)
    return QueuedEmit(manager.channel, manager.json.dumps(message), message)


def deliver_locally(emit: QueuedEmit) -> None:
    """Send a published emit to this process's own sockets (its queue listener skips its own)."""
    if _emit_counter is not None:
        _emit_counter.inc()
    socketio.server.manager._handle_emit(emit.message)


def emit_to_own_socket(event: str, payload: dict, sid: str) -> None:
    """Send to one socket of this process without publishing it to every other process."""
    socketio.emit(event, payload, to=sid, namespace=NAMESPACE, ignore_queue=True)


def disconnect(sid: str) -> None:
    """Disconnect one socket, on whichever process holds it."""
    _emitter().server.disconnect(sid, namespace=NAMESPACE)


def session_room(session_id: int) -> str:
    """The Socket.IO room of every socket opened with one login session's tokens (R170)."""
    return f"session:{session_id}"


def disconnect_room(room: str) -> None:
    """Disconnect every socket in a Socket.IO room, on every process (this one included)."""
    socketio.server.manager.disconnect_room(room, NAMESPACE)


def enter_room(sid: str, room: str) -> None:
    """Put a socket of this process into a Socket.IO room."""
    socketio.server.enter_room(sid, room, namespace=NAMESPACE)


def is_connected(sid: str) -> bool:
    """True once the server has finished connecting this sid (its connect handler returned)."""
    return socketio.server.manager.is_connected(sid, NAMESPACE)


def app_of(sid: str) -> Flask | None:
    """The Flask app serving a connected sid, or None for a sid we do not know."""
    environ = socketio.server.get_environ(sid, namespace=NAMESPACE) or {}
    return environ.get("flask.app")


def unanswered():
    """What an event handler returns for python-socketio to send no acknowledgement."""
    return socketio.server.not_handled


def when_connected(sid: str, task: Callable, *args) -> None:
    """Run task(*args) in the background, with this app's context, once the sid is connected."""
    app = current_app._get_current_object()
    socketio.server.manager.when_connected(sid, lambda: start_background(in_context, app, task, *args))


def start_task(task: Callable, *args) -> None:
    """Run task(*args) in the background, with the current app's context."""
    start_background(in_context, current_app._get_current_object(), task, *args)


def in_context(app: Flask, task: Callable, *args) -> None:
    with app.app_context():
        task(*args)


def start_background(task: Callable, *args):
    """Run task(*args) in the background as it is (a long task opens app contexts itself); return it."""
    return socketio.start_background_task(task, *args)


def drop_every_transport() -> None:
    """Drop every Engine.IO connection of this process without a close packet (R184).

    A server-side Socket.IO or Engine.IO disconnect tells clients not to
    reconnect; a dropped transport makes them reconnect at once (elsewhere).
    """
    for engine_socket in list(socketio.server.eio.sockets.values()):
        engine_socket.close(wait=False, abort=True)


def count_emits(counter) -> None:
    """Increment counter on every emit of this process's server (R181)."""
    global _emit_counter
    _emit_counter = counter
    emit = socketio.server.emit

    def counted_emit(*args, **kwargs):
        counter.inc()
        return emit(*args, **kwargs)

    socketio.server.emit = counted_emit


def instrument(**options) -> None:
    """Report to the Socket.IO Admin UI (python-socketio's instrument())."""
    socketio.server.instrument(**options)


def sleep(seconds: float) -> None:
    """Yield to other tasks for a while (a gevent-friendly sleep)."""
    socketio.sleep(seconds)


def start_queue_listener() -> None:
    """Listen on the message queue now, not on the first client's connection (STACK.md)."""
    start_listening(socketio.server)


def async_mode() -> str:
    """The server's async mode: "gevent" or "threading"."""
    return socketio.async_mode


def run_development_server(app: Flask, host: str, port: int) -> None:
    """Serve with Flask-SocketIO's own runner (threading mode)."""
    socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)
