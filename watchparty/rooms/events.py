"""The /room Socket.IO namespace: parse what clients send, call a service, nothing else (R34)."""

import logging
import time

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace

from watchparty.extensions import socketio
from watchparty.realtime import RealtimeUnavailable
from watchparty.rooms import commands, control, presence
from watchparty.rooms.broadcast import NAMESPACE
from watchparty.rooms.refusals import SERVICE_UNAVAILABLE, ConnectionRefused
from watchparty.rooms.sockets import local_sockets
from watchparty.sync import control as sync

log = logging.getLogger(__name__)


def is_spoofed(sid: str) -> bool:
    """A `connect`/`disconnect` event sent by a client arrives while the sid is connected (R36)."""
    return socketio.server.manager.is_connected(sid, NAMESPACE)


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


class RoomNamespace(Namespace):
    """One connection is one viewer in one room."""

    def on_connect(self, auth=None):
        """A client connects with its token and room code; refused with R31's payload."""
        if is_spoofed(request.sid):
            return None
        token, code = connection_values(auth)
        try:
            presence.admit(request.sid, token, code)
            socketio.start_background_task(
                presence.confirm_admission, current_app._get_current_object(), request.sid
            )
        except ConnectionRefused as refusal:
            raise refused(refusal) from None
        except RealtimeUnavailable:
            presence.forget_local(request.sid)
            raise refused(ConnectionRefused(SERVICE_UNAVAILABLE)) from None
        return None

    def on_disconnect(self, reason=None):
        """The socket is gone: USER_LEFT for a user's last socket, grace for the host's (R33, R40)."""
        if is_spoofed(request.sid):
            return
        presence.disconnect_local(request.sid)

    def on_PLAY(self, payload=None):
        """The host plays, optionally from `time` at `rate`; the room gets PLAYBACK_STATE (R38, R122)."""
        self._host_command(commands.Play, payload, "play")

    def on_PAUSE(self, payload=None):
        """The host pauses, optionally at `time`; the room gets PLAYBACK_STATE."""
        self._host_command(commands.Pause, payload, "pause")

    def on_SEEK(self, payload=None):
        """The host seeks to `time`, keeping is_playing; the room gets PLAYBACK_STATE."""
        self._host_command(commands.Seek, payload, "seek")

    def on_RATE(self, payload=None):
        """Host or cohost changes the speed; the room gets PLAYBACK_STATE (R123)."""
        context, command = self._parse(commands.ChangeRate, payload)
        if context is not None:
            sync.change_rate(context, command.rate)

    def on_TIME_SYNC(self, payload=None):
        """A client's clock exchange, answered from memory (R120); nothing without an ack."""
        received_at = time.time()
        if local_sockets.get(request.sid) is None:
            return None
        return sync.time_sync(payload, received_at)

    def on_SYNC_CHECK(self, payload=None):
        """A client reports its position, rtt and buffering; it alone may get SYNC_CORRECTION (R60, R130)."""
        context, command = self._parse(commands.SyncCheck, payload)
        if context is None:
            return None
        return sync.sync_check(context, command)

    def on_READY(self, payload=None):
        """A client says whether its player can play on (R110)."""
        context, command = self._parse(commands.Ready, payload)
        if context is not None:
            sync.set_ready(context, command.ready)

    def on_RESYNC(self, payload=None):
        """Host or cohost makes one user's players seek exactly to the room (R132)."""
        context, command = self._parse(commands.Resync, payload)
        if context is not None:
            sync.resync(context, command.user_id)

    def on_PLAYER_EVENT(self, payload=None):
        """The host's player reports progress (R62)."""
        context, command = self._parse(commands.PlayerEvent, payload)
        if context is not None:
            control.player_event(context, command.event, command.currentTime, command.duration)

    def on_CHAT(self, payload=None):
        """A participant chats; the whole room gets CHAT, or the sender an ERROR (R50-R56)."""
        context, command = self._parse(commands.ChatMessage, payload)
        if context is not None:
            control.send_chat(context, command.message)

    def _host_command(self, model, payload, kind):
        context, command = self._parse(model, payload)
        if context is not None:
            control.host_command(context, kind, command.time, getattr(command, "rate", None))

    @staticmethod
    def _parse(model, payload):
        context = local_sockets.get(request.sid)
        if context is None or not presence.room_still_open(context):
            return None, None
        command = commands.parse(model, payload)
        return (context, command) if command is not None else (None, None)


def register_namespace() -> None:
    """Attach the /room namespace and its error handler to the Socket.IO server, once."""
    if any(handler.namespace == NAMESPACE for handler in socketio.namespace_handlers):
        return
    socketio.on_namespace(RoomNamespace(NAMESPACE))

    @socketio.on_error(NAMESPACE)
    def _log_handler_error(exc):
        log.exception("error in a /room handler; the client is left connected", exc_info=exc)
