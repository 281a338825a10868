"""Password hashing off the event loop (SPEC R172), with a dummy hash for unknown emails (R173)."""

import functools

from werkzeug.security import check_password_hash, generate_password_hash


def gevent_is_serving() -> bool:
    """True in a process whose socket module gevent has patched (python wsgi.py, gunicorn)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def run_off_loop(function, *args):
    """Run a CPU-heavy call in gevent's threadpool, so the event loop keeps serving.

    hashlib's scrypt releases the GIL, so other greenlets run while it hashes.
    Without gevent (threading mode, the CLI) the call runs where it is.
    """
    if not gevent_is_serving():
        return function(*args)
    import gevent

    return gevent.get_hub().threadpool.spawn(function, *args).get()


@functools.cache
def dummy_hash() -> str:
    """A hash of nothing anyone knows, checked when the email is unknown."""
    return run_off_loop(generate_password_hash, "no account has this password")


def check_against_dummy(password: str) -> None:
    """Spend the time a wrong password would, for an email with no account (R173)."""
    run_off_loop(check_password_hash, dummy_hash(), password)
