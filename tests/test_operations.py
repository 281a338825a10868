"""Operating a process: probes, draining on SIGTERM, metrics and logs (SPEC R180-R182, R184)."""

import json
import signal

import pytest
import requests
import socketio

from tests.support import GUNICORN, ApiUser, RoomSocket, create_room, join, wait_until
from watchparty import create_app

METRIC_NAMES = (
    "watchparty_sockets_connected",
    "watchparty_rooms_with_sockets",
    "watchparty_events_received_total",
    "watchparty_events_dropped_total",
    "watchparty_emits_total",
    "watchparty_command_seconds_bucket",
    "watchparty_db_seconds_bucket",
    "watchparty_redis_seconds_bucket",
    "watchparty_dead_processes_swept_total",
)


def test_healthz_and_readyz_without_redis(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "not configured"}


def test_readyz_names_each_failing_part(tmp_path, redis_server):
    dead_redis = "redis://127.0.0.1:1/0"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}",
            "ASYNC_MODE": "threading",
            "REDIS_URL": dead_redis,
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "error", "redis": "error"}


def test_metrics_are_hidden_without_a_token_and_need_the_bearer(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "watchparty_sockets_connected" in response.text


@pytest.mark.parametrize("server_kind", ["wsgi", "gunicorn"])
def test_sigterm_drains_releases_presence_and_drops_every_socket(fleet, redis_url, open_socket, server_kind):
    """R184 for `python wsgi.py` and gunicorn: /readyz says draining, USER_LEFT, the sockets drop."""
    settings = {"DRAIN_LINGER_SECONDS": 30, "GRACE_PERIOD_SECONDS": 60}
    staying = fleet.start(redis_url, **settings)
    leaving = fleet.start(redis_url, command=GUNICORN if server_kind == "gunicorn" else None, **settings)
    host = ApiUser(staying.url).register()
    code = create_room(host)
    viewer = ApiUser(leaving.url).register()
    join(viewer, code)
    host_socket = open_socket(staying.url, host.token(), code)
    viewer_sockets = [open_socket(leaving.url, viewer.token(), code) for _ in range(2)]
    host_socket.wait_for("USER_JOINED")

    leaving.process.send_signal(signal.SIGTERM)
    wait_until(lambda: readiness(leaving.url) == (503, {"status": "draining"}), message="draining")
    assert host_socket.wait_for("USER_LEFT")["user"]["id"] == viewer.user["id"]
    wait_until(lambda: not any(s.connected for s in viewer_sockets), message="sockets dropped")
    assert leaving.process.poll() is None, "the sockets dropped before the linger ended"
    refused = requests.get(leaving.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert refused.status_code == 503
    assert readiness(staying.url)[0] == 200
    assert "Traceback" not in leaving.log_tail(300)


def readiness(url: str) -> tuple[int, dict] | None:
    try:
        response = requests.get(url + "/readyz", timeout=5)
    except requests.RequestException:
        return None
    return response.status_code, response.json()


def test_json_logs_carry_request_ids_and_no_secret(fleet, redis_url, open_socket):
    """R182: a whole session through two processes; no password, token, cookie or CSRF value in any log."""
    settings = {"LOG_FORMAT": "json", "METRICS_TOKEN": "metrics-bearer-secret-0123"}
    a = fleet.start(redis_url, **settings)
    b = fleet.start(redis_url, command=GUNICORN, **settings)
    host = ApiUser(a.url).register(password="host password 4 logs")
    viewer = ApiUser(b.url).register(password="viewer password 4 logs")
    code = create_room(host, title="logged room")
    join(viewer, code)
    secrets = {host.password, viewer.password, host.csrf_token, viewer.csrf_token}
    tokens = [host.token(), viewer.token()]
    secrets.update(tokens)
    host_socket = open_socket(a.url, tokens[0], code)
    viewer_socket = RoomSocket(b.url, tokens[1], code, via_query=True)  # the token in the query string
    viewer_socket.connect()
    try:
        host_socket.emit("PLAY", {"time": 3})
        viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["is_playing"])
        viewer_socket.emit("CHAT", {"message": "hello logs"})
        host_socket.wait_for("CHAT")
    finally:
        viewer_socket.disconnect()
    bad_login = ApiUser(a.url)
    wrong = {"email": "x@example.com", "password": "wrong pw 42"}
    assert bad_login.post("/api/auth/login/", json=wrong).status_code == 401
    secrets.update({"wrong pw 42", bad_login.csrf_token})
    requests.get(
        a.url + "/metrics", headers={"Authorization": "Bearer metrics-bearer-secret-0123"}, timeout=5
    )
    assert host.post("/api/auth/logout/").status_code in (200, 204)
    for user in (host, viewer, bad_login):
        secrets.update(cookie.value for cookie in user.http.cookies)
    secrets.add("metrics-bearer-secret-0123")

    for server in (a, b):
        server.stop()
        lines = server.log_path.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        assert records, "the server logged nothing"
        assert all("request_id" in record for record in records)
        assert any(record["request_id"] != "-" for record in records)
        for secret in filter(None, secrets):
            assert secret not in "\n".join(lines), f"a secret reached {server.log_path.name}"


def admin_client(url: str, password: str, origin: str | None = None):
    client = socketio.Client(reconnection=False)
    headers = {"Origin": origin} if origin else {}
    client.connect(url, namespaces=["/admin"], auth={"username": "admin", "password": password},
                   headers=headers, transports=["polling"], wait_timeout=10)  # fmt: skip
    return client


def test_the_admin_ui_is_off_by_default_and_behind_the_operator_password(fleet, redis_url):
    plain = fleet.start(redis_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        admin_client(plain.url, "anything")
    watched = fleet.start(redis_url, ADMIN_UI_PASSWORD="operator pw 77")
    with pytest.raises(socketio.exceptions.ConnectionError):
        admin_client(watched.url, "wrong")
    client = admin_client(watched.url, "operator pw 77", origin="https://admin.socket.io")
    try:
        assert client.connected and "/admin" in client.namespaces
    finally:
        client.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        admin_client(watched.url, "operator pw 77", origin="https://elsewhere.example")
    host = ApiUser(watched.url).register()
    RoomSocket(watched.url, host.token(), create_room(host)).connect().disconnect()  # same origin still works


def scrape(url: str, token: str) -> dict[str, float]:
    response = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_a_live_room_and_a_swept_process(fleet, redis_url, open_socket):
    """R181 on a serving process: sockets, events, commands, emits, SQL, Redis, and a dead process swept."""
    settings = {
        "METRICS_TOKEN": "scrape-token",
        "PRESENCE_HEARTBEAT_SECONDS": 0.5,
        "PRESENCE_DEAD_AFTER_SECONDS": 2,
    }
    a = fleet.start(redis_url, **settings)
    b = fleet.start(redis_url, **settings)
    host = ApiUser(a.url).register()
    code = create_room(host)
    host_socket = open_socket(a.url, host.token(), code)
    host_socket.emit("SEEK", {"time": 5})
    host_socket.wait_for("PLAYBACK_STATE", lambda s: s["time"] == 5)
    host_socket.emit("NO_SUCH_EVENT", {})
    b.kill()  # a process that dies without a word: a survivor sweeps it (R35)
    samples = wait_until(
        lambda: (s := scrape(a.url, "scrape-token")).get("watchparty_dead_processes_swept_total") and s,
        message="the dead process swept",
    )
    assert all(any(key.startswith(name) for key in samples) for name in METRIC_NAMES)
    assert samples["watchparty_sockets_connected"] == 1
    assert samples["watchparty_rooms_with_sockets"] == 1
    assert samples['watchparty_events_received_total{event="SEEK"}'] == 1
    assert samples['watchparty_events_received_total{event="unknown"}'] == 1
    assert samples['watchparty_command_seconds_count{event="SEEK"}'] == 1
    assert samples["watchparty_emits_total"] >= 1
    assert samples["watchparty_db_seconds_count"] > 0
    assert samples["watchparty_redis_seconds_count"] > 0


def test_readyz_answers_when_redis_hangs(fleet, own_redis):
    """A Redis that accepts nothing (SIGSTOP) makes /readyz a prompt 503, not a hung probe (R180)."""
    server = fleet.start(own_redis.url)
    assert readiness(server.url) == (200, {"database": "ok", "redis": "ok"})
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        assert readiness(server.url) == (503, {"database": "ok", "redis": "error"})
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    wait_until(
        lambda: readiness(server.url) == (200, {"database": "ok", "redis": "ok"}), message="ready again"
    )
