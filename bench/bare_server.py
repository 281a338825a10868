"""A bare python-socketio server: the baseline for bench/fanout.py.

Same stack as `python wsgi.py` under gevent (monkey-patched, gevent pywsgi with
gevent-websocket's WebSocketHandler, as Flask-SocketIO's `run()` picks when it
is installed, and a Redis message queue), but no application logic: every
socket joins the room named by its auth's `room` (one shared room without it)
on connect, and a "SEEK" event `{time}` makes the server emit a
PLAYBACK_STATE-shaped payload to the sender's room.

    .venv/bin/python bench/bare_server.py --port 5100 --redis redis://127.0.0.1:6379/0
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

NAMESPACE = "/room"
ROOM = "bench"


def build_server(redis_url: str, channel: str) -> socketio.Server:
    """The Socket.IO server with its handlers; its queue listener already running."""
    manager = socketio.RedisManager(redis_url, channel=channel)
    sio = socketio.Server(async_mode="gevent", client_manager=manager, cors_allowed_origins="*")
    versions = itertools.count(1)

    @sio.on("connect", namespace=NAMESPACE)
    def connect(sid, environ, auth=None):
        room = auth.get("room") if isinstance(auth, dict) else None
        room = room if isinstance(room, str) else ROOM
        sio.save_session(sid, {"room": room}, namespace=NAMESPACE)
        sio.enter_room(sid, room, namespace=NAMESPACE)

    @sio.on("SEEK", namespace=NAMESPACE)
    def seek(sid, data=None):
        if not isinstance(data, dict) or not isinstance(data.get("time"), int | float):
            return
        room = sio.get_session(sid, namespace=NAMESPACE)["room"]
        now = time.time()
        payload = {
            "is_playing": False,
            "time": round(float(data["time"]), 3),
            "version": next(versions),
            "server_time": now,
        }
        sio.emit("PLAYBACK_STATE", payload, to=room, namespace=NAMESPACE)

    # As the real server does: listen on the queue before the first client comes.
    sio.manager_initialized = True
    sio.manager.initialize()
    return sio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True, help="Redis URL of the message queue")
    parser.add_argument("--channel", default="bench-bare", help="Redis channel of the message queue")
    args = parser.parse_args()
    sio = build_server(args.redis, args.channel)
    app = socketio.WSGIApp(sio)
    server = pywsgi.WSGIServer((args.host, args.port), app, handler_class=WebSocketHandler, log=None)
    server.serve_forever()


if __name__ == "__main__":
    main()
