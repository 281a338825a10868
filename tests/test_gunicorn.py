"""Production serving: `gunicorn -c gunicorn.conf.py wsgi:app` beside `python wsgi.py`, one Redis."""

import redis

from tests.support import GUNICORN, ApiUser, wait_until


def test_gunicorn_process_serves_sockets_and_releases_them_on_stop(fleet, redis_url, open_socket):
    settings = {"PRESENCE_HEARTBEAT_SECONDS": 1, "PRESENCE_DEAD_AFTER_SECONDS": 60}
    plain = fleet.start(redis_url, **settings)
    unicorn = fleet.start(redis_url, command=GUNICORN, **settings)
    host = ApiUser(plain.url).register()
    code = host.post("/api/rooms/", json={}).json()["room"]["code"]
    viewer = ApiUser(unicorn.url).register()
    assert viewer.post(f"/api/rooms/{code}/join/").status_code == 200
    host_socket = open_socket(plain.url, host.token(), code)
    viewer_socket = open_socket(unicorn.url, viewer.token(), code)  # a WebSocket upgrade under gunicorn
    host_socket.wait_for("USER_JOINED")
    host_socket.emit("SEEK", {"time": 42})
    assert viewer_socket.wait_for("PLAYBACK_STATE", lambda s: s["version"] == 1)["time"] == 42
    client = redis.Redis.from_url(redis_url)
    wait_until(lambda: client.zcard("proc:heartbeats") == 2, message="both processes beating")

    unicorn.stop()  # SIGTERM: gunicorn's worker_exit releases the sockets
    assert host_socket.wait_for("USER_LEFT", timeout=15)["user"]["id"] == viewer.user["id"]
    wait_until(lambda: client.zcard("proc:heartbeats") == 1, message="the stopped process's heartbeat gone")
    assert "Traceback" not in unicorn.log_tail(300)
