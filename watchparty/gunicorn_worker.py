"""gunicorn's gevent WebSocket worker with watchparty's leaner request handler (see gevent_handler)."""

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker

from watchparty.gevent_handler import LeanHandler


class LeanWebSocketWorker(GeventWebSocketWorker):
    """Serves with LeanHandler: Nagle off, a small read buffer, one send() per frame."""

    wsgi_handler = LeanHandler
