"""gunicorn's gevent worker with the same connection handler as `python wsgi.py`."""

from gunicorn.workers.ggevent import GeventPyWSGIWorker

from watchparty.serving.handler import ConnectionHandler


class Worker(GeventPyWSGIWorker):
    wsgi_handler = ConnectionHandler
