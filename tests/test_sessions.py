"""Server-side sessions, session renewal and registration limits (SPEC R170-R173)."""

import subprocess
import sys
import textwrap

import requests

from tests.support import ApiUser
from watchparty.auth import hashing, services


def copy_of(user: ApiUser) -> requests.Session:
    """Another client holding a copy of user's cookies, as a thief would."""
    thief = requests.Session()
    thief.cookies.update(user.http.cookies)
    return thief


def test_a_copied_cookie_is_refused_after_logout(make_user):
    user = make_user()
    thief = copy_of(user)
    assert thief.get(user.base_url + "/api/auth/me/", timeout=10).status_code == 200
    assert user.post("/api/auth/logout/").status_code == 204
    response = thief.get(user.base_url + "/api/auth/me/", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_logging_in_over_a_session_ends_it(make_user):
    user = make_user()
    earlier = copy_of(user)
    response = user.post("/api/auth/login/", json={"email": user.user["email"], "password": user.password})
    assert response.status_code == 200
    assert user.get("/api/auth/me/").status_code == 200
    assert earlier.get(user.base_url + "/api/auth/me/", timeout=10).status_code == 401


def test_logging_in_twice_from_two_clients_keeps_both(make_user):
    user = make_user()
    laptop = ApiUser(user.base_url)
    body = {"email": user.user["email"], "password": user.password}
    assert laptop.post("/api/auth/login/", json=body).status_code == 200
    assert user.get("/api/auth/me/").status_code == 200
    assert laptop.get("/api/auth/me/").status_code == 200


def test_register_login_and_logout_issue_a_new_csrf_secret(make_user):
    user = make_user(register=False)
    before = user.fetch_csrf()
    user.register()
    stale = user.post("/api/auth/token/", headers={"X-CSRFToken": before})
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "csrf_failed"
    assert user.post("/api/auth/token/").status_code == 200


def test_sessions_survive_a_redis_restart(fleet, own_redis):
    server = fleet.start(own_redis.url)
    user = ApiUser(server.url).register()
    own_redis.restart_empty()
    assert user.get("/api/auth/me/").status_code == 200


def test_registration_is_limited_per_address_api_and_form_together(fleet, redis_url):
    server = fleet.start(redis_url, REGISTER_RATE_LIMIT='"3 per hour"')
    first = ApiUser(server.url)
    assert first.post("/api/auth/register/", json={"email": "bad"}).status_code == 400
    first.register()
    form = ApiUser(server.url)
    fields = {"email": "f@example.com", "password": "short", "display_name": "F"}
    page = form.http.post(
        server.url + "/register", data={**fields, "csrf_token": form.fetch_csrf()}, timeout=10
    )
    assert page.status_code == 400  # refused, yet counted
    blocked = ApiUser(server.url).post(
        "/api/auth/register/", json={"email": "g@example.com", "password": "long enough", "display_name": "G"}
    )
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    again = form.http.post(server.url + "/register", data={"csrf_token": form.fetch_csrf()}, timeout=10)
    assert again.status_code == 429


def test_an_unknown_email_checks_a_dummy_hash(app, monkeypatch):
    checked = []
    real_check = hashing.check_password_hash
    monkeypatch.setattr(
        hashing, "check_password_hash", lambda *args: checked.append(args) or real_check(*args)
    )
    with app.app_context():
        assert services.authenticate("nobody@example.com", "some password") is None
    assert [args[1] for args in checked] == ["some password"]


def test_the_event_loop_serves_while_a_password_hashes():
    """Run in a gevent-patched process, as the server does: another greenlet runs during the hash."""
    script = textwrap.dedent(
        """
        from gevent import monkey
        monkey.patch_all()
        import gevent
        from watchparty.auth.models import User

        ticks = []
        def tick():
            while True:
                ticks.append(1)
                gevent.sleep(0.001)
        ticker = gevent.spawn(tick)
        gevent.sleep(0)
        ticks.clear()
        User().set_password("correct horse battery")
        print(len(ticks))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 0
