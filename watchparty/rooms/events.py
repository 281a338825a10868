"""The /room Socket.IO namespace: parse what clients send, call a service, nothing else (R34)."""

import logging
import time

from flask import request
from flask_socketio import ConnectionRefusedError

from watchparty.chat import messaging as chat_messaging
from watchparty.chat.payloads import SendChat
from watchparty.ops import metrics
from watchparty.realtime import socket_server
from watchparty.realtime.event_rate import RateLimitedNamespace, sent_by_client
from watchparty.realtime.local_sockets import SocketContext, local_sockets
from watchparty.realtime.payloads import SocketPayload, parse
from watchparty.rooms import grace, payloads, playback_commands, presence
from watchparty.rooms.refusals import ConnectionRefused
from watchparty.sync import control as sync
from watchparty.sync.clock import time_sync_answer

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
        """Count and time every event this namespace receives (R181), then handle it unless malformed."""
        with metrics.observe_event(self, event):
            if len(args) > 2 and sent_by_client(event, args[0]):
                return socket_server.unanswered()  # (sid, payload): a second argument is malformed (R36)
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
        """Host or cohost plays, optionally from `time` at `rate`; the room gets PLAYBACK_STATE (R38)."""
        self._playback_command(payloads.Play, payload, "play")

    def on_PAUSE(self, payload=None):
        """Host or cohost pauses, optionally at `time`; the room gets PLAYBACK_STATE."""
        self._playback_command(payloads.Pause, payload, "pause")

    def on_SEEK(self, payload=None):
        """Host or cohost seeks to `time`, keeping is_playing; the room gets PLAYBACK_STATE."""
        self._playback_command(payloads.Seek, payload, "seek")

    def on_RATE(self, payload=None):
        """Host or cohost changes the speed; the room gets PLAYBACK_STATE (R123)."""
        context, command = self._accept(payloads.ChangeRate, payload)
        if context is not None:
            playback_commands.playback_command(context, "rate", None, command.rate)

    def on_TIME_SYNC(self, payload=None):
        """A client's clock exchange, answered from memory (R120); nothing without an ack."""
        received_at = time.time()
        if local_sockets.get(request.sid) is None:
            return None
        return time_sync_answer(payload, received_at)

    def on_SYNC_CHECK(self, payload=None):
        """A client reports its position, rtt and buffering; it alone may get SYNC_CORRECTION (R60, R130)."""
        context, check = self._accept(payloads.SyncCheck, payload)
        if context is None:
            return None
        return sync.sync_check(context, check)

    def on_READY(self, payload=None):
        """A client says whether its player can play on (R110)."""
        context, report = self._accept(payloads.Ready, payload)
        if context is not None:
            sync.set_ready(context, report.ready)

    def on_RESYNC(self, payload=None):
        """Host or cohost makes one user's players seek exactly to the room (R132)."""
        context, request_ = self._accept(payloads.Resync, payload)
        if context is not None:
            sync.resync(context, request_.user_id)

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

    def _playback_command(self, model, payload, kind):
        context, command = self._accept(model, payload)
        if context is not None:
            playback_commands.playback_command(context, kind, command.time, getattr(command, "rate", None))

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
