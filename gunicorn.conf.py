"""gunicorn settings for one watchparty process: `gunicorn -c gunicorn.conf.py wsgi:app`.

One worker per gunicorn process (Socket.IO sockets live in their process);
run several processes behind a load balancer with sticky sessions (SPEC R3).
"""

import os

worker_class = "watchparty.serving.worker.Worker"
workers = 1
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
graceful_timeout = 10


def post_worker_init(worker):
    """Migrate if asked, then start the queue listener and the heartbeat, as `python wsgi.py` does."""
    from watchparty.server import prepare_to_serve

    prepare_to_serve(worker.wsgi)


def worker_exit(server, worker):
    """Let this process's sockets go (USER_LEFT, grace) and drop its records."""
    from watchparty.rooms import liveness

    liveness.leave_all_local_sockets(worker.wsgi)
