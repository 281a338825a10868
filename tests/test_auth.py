"""Accounts, sessions, CSRF and JSON errors over real HTTP (SPEC R10-R16)."""

import jwt as pyjwt
import pytest
import requests

from tests.support import TEST_JWT_SECRET_KEY, ApiUser


def test_register_login_me_logout_token_round_trip(make_user, live_server):
    user = make_user(register=False)
    response = user.post(
        "/api/auth/register/",
        json={"email": "Alice@Example.com", "password": "correct horse", "display_name": "Alice"},
    )
    assert response.status_code == 201
    created = response.json()["user"]
    assert set(created) == {"id", "email", "display_name"}
    assert created["display_name"] == "Alice"
    assert user.get("/api/auth/me/").json() == {"user": created}

    token = user.post("/api/auth/token/").json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 300
    claims = pyjwt.decode(token["access_token"], TEST_JWT_SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == str(created["id"])

    assert user.post("/api/auth/logout/").status_code == 204
    assert user.get("/api/auth/me/").status_code == 401
    assert user.post("/api/auth/logout/").status_code == 204

    response = user.post("/api/auth/login/", json={"email": "alice@EXAMPLE.com", "password": "correct horse"})
    assert response.status_code == 200
    assert response.json() == {"user": created}
    assert user.get("/api/auth/me/").status_code == 200


def test_duplicate_email_is_409_whatever_the_case(make_user):
    first = make_user(email="bob@example.com")
    assert first.user["email"] == "bob@example.com"
    other = make_user(register=False)
    body = {"email": "BOB@example.COM", "password": "another one", "display_name": "Bob 2"}
    response = other.post("/api/auth/register/", json=body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_unknown_email_and_wrong_password_answer_identically(make_user):
    make_user(email="carol@example.com", password="right password")
    anon = make_user(register=False)
    unknown = anon.post("/api/auth/login/", json={"email": "nobody@example.com", "password": "whatever1"})
    wrong = anon.post("/api/auth/login/", json={"email": "carol@example.com", "password": "wrong password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({"email": "not-an-email", "password": "long enough", "display_name": "X"}, {"email"}),
        ({"email": "a@example.com", "password": "short", "display_name": "X"}, {"password"}),
        ({"email": "a@example.com", "password": "long enough", "display_name": ""}, {"display_name"}),
        ({"email": "a@example.com", "password": "long enough", "display_name": "x" * 41}, {"display_name"}),
        ({"email": "a@example.com", "password": "long enough", "display_name": "   "}, {"display_name"}),
        ({"email": 5, "password": ["x"], "display_name": {"a": 1}}, {"email", "password", "display_name"}),
        ({}, {"email", "password", "display_name"}),
        ({"email": "a@example.com" * 100, "password": "long enough", "display_name": "X"}, {"email"}),
    ],
)
def test_register_validation_errors_name_the_fields(make_user, body, bad_fields):
    response = make_user(register=False).post("/api/auth/register/", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == bad_fields


def test_form_bodies_work_like_json(make_user):
    user = make_user(register=False)
    csrf = user.fetch_csrf()
    form = {
        "email": "dora@example.com",
        "password": "form password",
        "display_name": "Dora",
        "csrf_token": csrf,
    }
    response = user.http.post(user.base_url + "/api/auth/register/", data=form, timeout=10)
    assert response.status_code == 201
    assert response.json()["user"]["email"] == "dora@example.com"
    user.post("/api/auth/logout/")
    form = {"email": "dora@example.com", "password": "form password", "csrf_token": user.fetch_csrf()}
    response = user.http.post(user.base_url + "/api/auth/login/", data=form, timeout=10)
    assert response.status_code == 200


@pytest.mark.parametrize("token", [None, "forged-token", ""])
def test_missing_or_forged_csrf_is_403(make_user, token):
    user = make_user(register=False)
    user.fetch_csrf()
    headers = {} if token is None else {"X-CSRFToken": token}
    body = {"email": "eve@example.com", "password": "long enough", "display_name": "Eve"}
    response = user.post("/api/auth/register/", csrf=False, json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_csrf_token_of_another_session_is_refused(make_user):
    victim = make_user()
    attacker_token = make_user(register=False).fetch_csrf()
    response = victim.post("/api/auth/token/", csrf=False, headers={"X-CSRFToken": attacker_token})
    assert response.status_code == 403


def test_bearer_token_alone_is_not_http_authentication(make_user):
    user = make_user()
    token = user.token()
    response = requests.get(
        user.base_url + "/api/auth/me/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_token_needs_a_session(make_user):
    anon = make_user(register=False)
    response = anon.post("/api/auth/token/")
    assert response.status_code == 401


@pytest.mark.parametrize("raw", [b"{not json", b'{"email": ', b"\xff\xfe", b"[1, 2"])
def test_malformed_json_is_400(make_user, raw):
    user = make_user(register=False)
    response = user.post("/api/auth/register/", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null", b"42"])
def test_json_that_is_not_an_object_is_400(make_user, body):
    user = make_user(register=False)
    response = user.post("/api/auth/login/", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_nan_and_infinity_never_500(make_user):
    user = make_user(register=False)
    raw = b'{"email": NaN, "password": Infinity, "display_name": -Infinity}'
    response = user.post("/api/auth/register/", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_body_over_the_limit_is_413_json(make_user):
    user = make_user(register=False)
    user.fetch_csrf()
    big = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    response = user.post("/api/auth/register/", data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_api_path_is_json_404(make_user):
    response = make_user(register=False).get("/api/no/such/thing/")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(make_user):
    response = make_user(register=False).get("/api/auth/login/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_session_cookie_is_httponly_and_samesite_lax(make_user):
    user = make_user(register=False)
    response = user.http.get(user.base_url + "/api/auth/csrf/", timeout=10)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_limit_holds_across_two_processes(fleet, redis_url):
    first, second = fleet.pair(redis_url, LOGIN_RATE_LIMIT='"3 per minute"')
    ApiUser(first.url).register(email="frank@example.com", password="right password")
    attacker_one, attacker_two = ApiUser(first.url), ApiUser(second.url)
    wrong = {"email": "frank@example.com", "password": "wrong password"}
    statuses = [attacker_one.post("/api/auth/login/", json=wrong).status_code for _ in range(2)]
    statuses.append(attacker_two.post("/api/auth/login/", json=wrong).status_code)
    assert statuses == [401, 401, 401]
    blocked = attacker_two.post("/api/auth/login/", json=wrong)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert attacker_one.post("/api/auth/login/", json=wrong).status_code == 429
    other_email = attacker_one.post(
        "/api/auth/login/", json={"email": "x@example.com", "password": "whatever1"}
    )
    assert other_email.status_code == 401


def test_health_reports_redis(live_server):
    body = requests.get(live_server.url + "/api/health/", timeout=5).json()
    assert body == {"status": "ok", "database": True, "realtime": True, "realtime_backend": "redis"}


def test_login_answers_quickly_with_redis_down(fleet, own_redis):
    import time

    server = fleet.start(own_redis.url)
    user = ApiUser(server.url).register(email="gus@example.com", password="right password")
    user.post("/api/auth/logout/")
    own_redis.stop()
    for password, status in (("wrong password", 401), ("right password", 200)):
        started = time.monotonic()
        response = user.post("/api/auth/login/", json={"email": "gus@example.com", "password": password})
        assert response.status_code == status
        assert time.monotonic() - started < 2.0
