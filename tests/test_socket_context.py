"""What a socket's events carry and check (R16, R30).

A token's signature is checked once per process, its expiry on every use;
Socket.IO events never open the cookie session they do not use; a socket keeps
one WSGI environ, not a copy of it.
"""

import datetime
import inspect

import pytest
from flask import session
from flask_jwt_extended import create_access_token
from werkzeug.test import EnvironBuilder

from tests.support import TEST_JWT_SECRET_KEY
from watchparty import create_app
from watchparty.auth import tokens
from watchparty.extensions import socketio
from watchparty.ops import draining


def _token(app, seconds: float = 300) -> str:
    with app.app_context():
        return create_access_token("7", additional_claims={"session": 3},
                                   expires_delta=datetime.timedelta(seconds=seconds))  # fmt: skip


@pytest.fixture
def decodes(monkeypatch):
    """How many times a signature was checked."""
    calls = []
    real = tokens.decode_token
    monkeypatch.setattr(tokens, "decode_token", lambda token: calls.append(token) or real(token))
    return calls


def test_a_token_is_verified_once_then_remembered(app, decodes):
    token = _token(app)
    with app.app_context():
        first = tokens.verified_claims(token)
        again = tokens.verified_claims(token)
    assert first == again and first["sub"] == "7" and first["session"] == 3
    assert decodes == [token]


def test_a_remembered_token_still_expires(app, decodes, monkeypatch):
    token = _token(app, seconds=60)
    with app.app_context():
        assert tokens.verified_claims(token) is not None
        later = tokens.time.time() + 61
        monkeypatch.setattr(tokens.time, "time", lambda: later)
        assert tokens.verified_claims(token) is None
        assert tokens.verified_claims(token) is None  # checked again, and refused by the library too
    assert decodes == [token, token]


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "e30.e30.e30"])
def test_malformed_tokens_are_refused_and_not_remembered(app, token):
    with app.app_context():
        assert tokens.verified_claims(token) is None
        assert token not in app.extensions.get("watchparty.verified_tokens", {})


def test_what_one_app_verified_another_with_another_secret_refuses(app, tmp_path):
    token = _token(app)
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite3'}",
            "SECRET_KEY": "another secret key for another app",
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY[::-1],
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        assert tokens.verified_claims(token) is not None
    with other.app_context():
        assert tokens.verified_claims(token) is None


@pytest.mark.parametrize(("path", "opened"), [("/rooms/", {"mark": 1}), ("/socket.io/", {})])
def test_socket_events_do_not_open_the_cookie_session(app, path, opened):
    """Socket.IO events authenticate by token; their request contexts skip the cookie (R30)."""
    cookie = app.session_interface.get_signing_serializer(app).dumps({"mark": 1})
    headers = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
    with app.test_request_context(path, headers=headers):
        assert dict(session) == opened


def test_requests_keep_their_own_environ_no_copy(app):
    """python-engineio keeps a socket's environ as long as gevent's handler keeps its own: one dict."""
    environ = EnvironBuilder(path="/api/health/").get_environ()
    statuses = []
    body = socketio.sockio_mw(environ, lambda status, headers: statuses.append(status))
    b"".join(body)
    assert statuses == ["200 OK"]
    assert environ["flask.app"] is app


def test_the_wsgi_layers_under_flask_are_plain_python_calls(app):
    """Each callable object a socket's request passes through costs a C frame, kept by every idle greenlet.

    Flask's own call is one (bare python-socketio has the same one); the draining
    wrapper and the Socket.IO middleware below it are a function and a bound method.
    """
    outer = app.wsgi_app
    assert inspect.isfunction(outer) and outer.__name__ == "refuse_or_serve"
    inner = inspect.getclosurevars(outer).nonlocals["wsgi_app"]
    assert inspect.ismethod(inner) and inner.__self__ is socketio.sockio_mw


def test_a_draining_process_refuses_handshakes_and_serves_the_rest(app, monkeypatch):
    monkeypatch.setattr(draining, "is_draining", lambda: True)
    client = app.test_client()
    refused = client.get("/socket.io/?EIO=4&transport=polling")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert client.get("/api/health/").status_code == 200
