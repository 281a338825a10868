"""Entry point: `python wsgi.py` serves HTTP and Socket.IO on HOST:PORT (SPEC R1).

`flask --app wsgi …` and gunicorn import `app` from here.
"""

import json
import os


def _async_mode_from_env() -> str:
    raw = os.environ.get("WATCHPARTY_ASYNC_MODE", "gevent")
    try:
        return str(json.loads(raw))
    except ValueError:
        return raw


# Patch before anything imports socket or redis, and only when serving: the
# flask CLI imports this module too late for patching to be safe (STACK.md).
if __name__ == "__main__" and _async_mode_from_env() == "gevent":
    from gevent import monkey

    monkey.patch_all()

from watchparty import create_app  # noqa: E402
from watchparty.server import serve  # noqa: E402

app = create_app()

if __name__ == "__main__":
    serve(app)
