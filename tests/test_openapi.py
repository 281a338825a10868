"""The OpenAPI document: served, in step with the routes, and true of a live server (issue 13)."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    positive_data_acceptance,
    unsupported_method,
)

from tests.support import ApiUser, LiveServer, server_env
from watchparty.openapi.document import build_document

# A schema-valid body may still break a rule the document cannot state (a media
# object must match its provider; a room code must exist): such 4xx are fine.
# Flask answers OPTIONS and HEAD itself (and lists them in Allow); the document leaves them out.
EXCLUDED_CHECKS = [positive_data_acceptance, unsupported_method, allow_header_conformance]
SESSION_PATHS = ("/api/auth/register/", "/api/auth/login/", "/api/auth/logout/")
schema = schemathesis.openapi.from_dict(build_document())
FUZZ_SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


def api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every /api/ route the app serves."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.update((method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_the_document_is_served_as_openapi_3_1(client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document == build_document()


def test_the_document_lists_exactly_the_apps_routes(app):
    documented = {(method, path) for path, item in build_document()["paths"].items() for method in item}
    assert documented == api_routes(app)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, redis_server):
    """A server with rate limits out of the way, and a logged-in user who hosts a room."""
    workdir = tmp_path_factory.mktemp("openapi")
    env = server_env(
        f"sqlite:///{workdir / 'fuzz.sqlite3'}", redis_server.url, LOGIN_RATE_LIMIT='"100000 per minute"'
    )
    server = LiveServer(env=env, log_path=workdir / "server.log").start()
    yield server
    server.stop()
    log = server.log_tail(2000)
    assert "Traceback" not in log, log


@pytest.fixture(scope="module")
def logged_in(fuzz_server) -> ApiUser:
    user = ApiUser(fuzz_server.url).register()
    user.post("/api/rooms/", json={"title": "fuzzed"})
    user.http.headers["X-CSRFToken"] = user.fetch_csrf()
    return user


@schema.exclude(path=list(SESSION_PATHS)).parametrize()
@FUZZ_SETTINGS
def test_logged_in_requests_never_fail_or_break_the_document(case, fuzz_server, logged_in):
    case.call_and_validate(base_url=fuzz_server.url, session=logged_in.http, excluded_checks=EXCLUDED_CHECKS)


@schema.include(path=list(SESSION_PATHS)).parametrize()
@FUZZ_SETTINGS
def test_session_requests_never_fail_or_break_the_document(case, fuzz_server):
    anonymous = ApiUser(fuzz_server.url)
    anonymous.http.headers["X-CSRFToken"] = anonymous.fetch_csrf()
    case.call_and_validate(base_url=fuzz_server.url, session=anonymous.http, excluded_checks=EXCLUDED_CHECKS)
