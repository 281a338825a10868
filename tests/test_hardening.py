"""Input hardening, trusted proxies and private instance files (SPEC R176, R178)."""

import stat
from pathlib import Path

import pytest

from tests.support import TEST_JWT_SECRET_KEY, TEST_SECRET_KEY
from watchparty import create_app
from watchparty.config import load_or_create_secret
from watchparty.extensions import db


@pytest.mark.parametrize(
    "name", ["Bob\u202eevil", "Eve\u200b", "tab\there", "bell\x07", "Ann\u2066x\u2069", "soft\u00adhyphen"]
)
def test_display_names_refuse_control_and_format_characters(make_user, name):
    user = make_user(register=False)
    response = user.post(
        "/api/auth/register/",
        json={"email": "x@example.com", "password": "long enough", "display_name": name},
    )
    assert response.status_code == 400
    assert "display_name" in response.json()["error"]["fields"]


def test_display_names_keep_joiners_and_other_scripts(make_user):
    name = "Zoë 👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert make_user(display_name=name).user["display_name"] == name


def api_app(tmp_path, **settings):
    """An app with CSRF off, its own database and in-process rate limits."""
    config = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
        "SECRET_KEY": TEST_SECRET_KEY,
        "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
        "ASYNC_MODE": "threading",
        "REDIS_URL": None,
        "LOGIN_RATE_LIMIT": "1 per minute",
        **settings,
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def failed_login_from(client, address: str) -> int:
    body = {"email": "who@example.com", "password": "wrong password"}
    return client.post("/api/auth/login/", json=body, headers={"X-Forwarded-For": address}).status_code


def test_trusted_proxy_hops_give_each_client_its_own_bucket(tmp_path):
    client = api_app(tmp_path, TRUSTED_PROXY_HOPS=1).test_client()
    assert failed_login_from(client, "203.0.113.1") == 401
    assert failed_login_from(client, "203.0.113.1") == 429
    assert failed_login_from(client, "203.0.113.2") == 401


def test_forwarded_headers_are_ignored_without_trusted_proxies(tmp_path):
    client = api_app(tmp_path).test_client()
    assert failed_login_from(client, "203.0.113.1") == 401
    assert failed_login_from(client, "203.0.113.2") == 429


def test_trusted_proxy_sets_the_request_scheme(tmp_path):
    app = api_app(tmp_path, TRUSTED_PROXY_HOPS=1)

    @app.get("/scheme-probe")
    def scheme_probe():
        from flask import request

        return {"scheme": request.scheme}

    response = app.test_client().get("/scheme-probe", headers={"X-Forwarded-Proto": "https"})
    assert response.json == {"scheme": "https"}


def test_instance_dir_and_generated_secrets_are_private(app, tmp_path):
    assert stat.S_IMODE(Path(app.instance_path).stat().st_mode) == 0o700
    load_or_create_secret(str(tmp_path / "instance"), "SECRET_KEY")
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key.txt").stat().st_mode) == 0o600
