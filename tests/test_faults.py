"""Faults with real processes: a frozen Redis (issue 13, SPEC R10).

Redis is frozen with SIGSTOP while HTTP requests arrive: each one answers (200, or a JSON 503)
instead of hanging, and everything works again after SIGCONT. Nothing here asserts on timing:
requests carry a generous client timeout only so that a hang fails instead of blocking the run.
"""

import os
import signal
import time

from tests.support import ApiUser, connected, wait_until

HANG_GUARD_SECONDS = 60
PATHS = ("/healthz", "/readyz", "/api/rooms/public/", "/")
FROZEN_SECONDS = 5


def requests_while_frozen(host: ApiUser, code: str) -> list[int]:
    """Reads, a room page and a write; a 503 must be R10's JSON error."""
    statuses = [host.get(path, timeout=HANG_GUARD_SECONDS).status_code for path in PATHS]
    statuses.append(host.get(f"/api/rooms/{code}/", timeout=HANG_GUARD_SECONDS).status_code)
    created = host.post("/api/rooms/", json={"title": "During"}, timeout=HANG_GUARD_SECONDS)
    if created.status_code == 503:
        assert created.json()["error"]["code"]
    return [*statuses, created.status_code]


def test_a_frozen_redis_gives_answers_not_hangs_and_all_resumes(fleet, own_redis, open_socket):
    server = fleet.start(own_redis.url)
    host = ApiUser(server.url).register()
    code = host.post("/api/rooms/", json={"title": "Frozen"}).json()["room"]["code"]
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    frozen_until, statuses = time.monotonic() + FROZEN_SECONDS, []
    try:
        while not statuses or time.monotonic() < frozen_until:  # at least one round, 5 s frozen
            statuses += requests_while_frozen(host, code)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    print("statuses while frozen:", sorted(set(statuses)), len(statuses))
    assert set(statuses) <= {200, 201, 503}, statuses
    wait_until(lambda: host.get("/readyz").status_code == 200, timeout=60, message="ready again")
    sock = connected(open_socket, server.url, host, code)
    sock.emit("CHAT", {"message": "back"})
    sock.wait_for("CHAT", lambda payload: payload["message"] == "back")
