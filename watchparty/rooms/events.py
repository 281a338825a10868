"""The /room Socket.IO namespace: parse what clients send, call a service, nothing else (R34)."""

import logging

from flask import request
from flask_socketio import ConnectionRefusedError

from watchparty.chat import messaging as chat_messaging
from watchparty.chat.payloads import SendChat
from watchparty.ops import metrics
from watchparty.realtime import socket_server
from watchparty.realtime.event_rate import RateLimitedNamespace
from watchparty.realtime.local_sockets import SocketContext, local_sockets
from watchparty.realtime.payloads import SocketPayload, parse
from watchparty.rooms import grace, payloads, playback_commands, presence
from watchparty.rooms.refusals import ConnectionRefused

log = logging.getLogger(__name__)


def is_spoofed(sid: str) -> bool:
    """A `connect`/`disconnect` event sent by a client arrives while the sid is connected (R36)."""
    return socket_server.is_connected(sid)


def connection_values(auth) -> tuple:
    """Token and room from the auth payload, else from the query string (R30)."""
    auth = auth if isinstance(auth, dict) else {}
    token = auth.get("token", request.args.get("token"))
    room = auth.get("room", request.args.get("room"))
    return token, room


def refused(refusal: ConnectionRefused) -> ConnectionRefusedError:
    """The exception that makes python-socketio send R31's CONNECT_ERROR payload."""
    error = ConnectionRefusedError(refusal.message)
    error.error_args = refusal.payload()
    return error


def sender_in_open_room() -> SocketContext | None:
    """The sending socket's context; None for a socket we do not hold, or whose room is closed.

    Without Redis this reads the room's state from the database and, when the
    CLI closed the room, closes its sockets now (R44).
    """
    context = local_sockets.get(request.sid)
    if context is None or grace.closed_by_offline_cli(context):
        return None
    return context


class RoomNamespace(RateLimitedNamespace):
    """One connection is one viewer in one room; each socket's event rate is limited (R174)."""

    def trigger_event(self, event, *args):
        """Count and time every event this namespace receives (R181), then handle it."""
        with metrics.observe_event(self, event):
            return super().trigger_event(event, *args)

    def on_connect(self, auth=None):
        """A client connects with its token and room code; refused with R31's payload."""
        if is_spoofed(request.sid):
            return None
        try:
            presence.connect(request.sid, *connection_values(auth))
        except ConnectionRefused as refusal:
            raise refused(refusal) from None
        return None

    def on_disconnect(self, reason=None):
        """The socket is gone: USER_LEFT for a user's last socket, grace for the host's (R33, R40)."""
        if not is_spoofed(request.sid):
            presence.disconnect(request.sid)

    def on_PLAY(self, payload=None):
        """The host plays, optionally from `time`; the room gets PLAYBACK_STATE."""
        self._host_command(payloads.PlayPause, payload, is_playing=True)

    def on_PAUSE(self, payload=None):
        """The host pauses, optionally at `time`; the room gets PLAYBACK_STATE."""
        self._host_command(payloads.PlayPause, payload, is_playing=False)

    def on_SEEK(self, payload=None):
        """The host seeks to `time`, keeping is_playing; the room gets PLAYBACK_STATE."""
        self._host_command(payloads.Seek, payload, is_playing=None)

    def on_SYNC_CHECK(self, payload=None):
        """A client reports its position; it alone may get SYNC_CORRECTION (R60)."""
        context, check = self._accept(payloads.SyncCheck, payload)
        if context is None:
            return None
        return playback_commands.sync_check(context, check.time)

    def on_PLAYER_EVENT(self, payload=None):
        """The host's player reports progress (R62)."""
        context, report = self._accept(payloads.PlayerEvent, payload)
        if context is not None:
            playback_commands.player_event(
                context, report.event, report.currentTime, report.duration, report.media_version
            )

    def on_CHAT(self, payload=None):
        """A participant chats; the whole room gets CHAT, or the sender an ERROR (R50-R56)."""
        context, chat = self._accept(SendChat, payload)
        if context is not None:
            chat_messaging.send_chat(context, chat.message)

    def _host_command(self, model, payload, is_playing):
        context, command = self._accept(model, payload)
        if context is not None:
            playback_commands.playback_command(context, is_playing, command.time)

    @staticmethod
    def _accept(model: type[SocketPayload], payload) -> tuple:
        """(sender, parsed payload) for a socket in an open room, else (None, None) (R36)."""
        context = sender_in_open_room()
        parsed = parse(model, payload) if context is not None else None
        return (context, parsed) if parsed is not None else (None, None)


def log_handler_error(exc: Exception) -> None:
    log.exception("error in a /room handler; the client is left connected", exc_info=exc)


def register_namespace() -> None:
    """Attach the /room namespace and its error handler to the Socket.IO server, once."""
    socket_server.register_namespace(RoomNamespace(socket_server.NAMESPACE), log_handler_error)
