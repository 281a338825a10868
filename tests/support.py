"""Real processes for tests: redis-server and `python wsgi.py` on free ports."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-not-for-production"
TEST_JWT_SECRET_KEY = "test-jwt-secret-key-not-for-production-000"


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll predicate until it returns a truthy value, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class RedisServer:
    """A real redis-server bound to 127.0.0.1 on a free port, with no persistence."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (README's test command installs it)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, message=f"redis-server on port {self.port}")
        return self

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server for real (SIGKILL): nothing is saved."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart_empty(self) -> None:
        """Kill the server and start a fresh, empty one on the same port."""
        self.stop()
        self.start()


@dataclass
class LiveServer:
    """One `python wsgi.py` process on a free port."""

    env: dict
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    command: tuple = (sys.executable, "wsgi.py")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "LiveServer":
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            list(self.command), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_until(self._healthy, timeout=timeout, message=f"server on port {self.port}\n{self.log_tail()}")
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}\n{self.log_tail()}")
        try:
            return requests.get(self.url + "/api/health/", timeout=1).status_code in (200, 503)
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """Kill the process with SIGKILL, as a crash would."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the process with SIGTERM, then SIGKILL if it lingers."""
        self._end(signal.SIGTERM)

    def _end(self, sig) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None


GUNICORN = (sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app")


def server_env(database_url: str, redis_url: str | None = None, **settings) -> dict:
    """Environment for a server process: test secrets, auto-migrate, and the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHPARTY_")}
    for name in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET_KEY,
        JWT_SECRET_KEY=TEST_JWT_SECRET_KEY,
        WATCHPARTY_AUTO_MIGRATE="1",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env["WATCHPARTY_REGISTER_RATE_LIMIT"] = TEST_REGISTER_RATE_LIMIT
    for name, value in settings.items():
        env[f"WATCHPARTY_{name}"] = str(value)
    return env


SESSION_RENEWING_PATHS = ("/api/auth/register/", "/api/auth/login/", "/api/auth/logout/")
# Tests register many users from one address: the limit itself is tested on a server of its own.
TEST_REGISTER_RATE_LIMIT = "100000 per hour"


class ApiUser:
    """An HTTP client with its own cookie jar that sends the CSRF header (SPEC R12)."""

    counter = 0

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf_token: str | None = None
        self.user: dict | None = None
        self.password: str | None = None

    def fetch_csrf(self) -> str:
        response = self.http.get(self.base_url + "/api/auth/csrf/", timeout=10)
        response.raise_for_status()
        self.csrf_token = response.json()["csrf_token"]
        return self.csrf_token

    def request(self, method: str, path: str, csrf: bool = True, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers.setdefault("X-CSRFToken", self.csrf_token or self.fetch_csrf())
        kwargs.setdefault("timeout", 15)
        response = self.http.request(method, self.base_url + path, headers=headers, **kwargs)
        if path in SESSION_RENEWING_PATHS:
            self.csrf_token = None  # register, login and logout issue a new CSRF secret (R173)
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def register(
        self, email: str | None = None, password: str = "correct horse", display_name: str | None = None
    ):
        """Register a new account (unique email by default) and stay logged in."""
        ApiUser.counter += 1
        suffix = f"{os.getpid()}-{ApiUser.counter}-{time.monotonic_ns()}"
        email = email or f"user-{suffix}@example.com"
        display_name = display_name or f"User {ApiUser.counter}"
        response = self.post(
            "/api/auth/register/", json={"email": email, "password": password, "display_name": display_name}
        )
        assert response.status_code == 201, response.text
        self.user, self.password = response.json()["user"], password
        return self

    def token(self) -> str:
        """Return a socket token for this user (SPEC R16)."""
        response = self.post("/api/auth/token/")
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


class RoomSocket:
    """A real python-socketio client on the /room namespace that records what it receives."""

    def __init__(self, base_url: str, token: str | None, room: str | None, via_query: bool = False):
        import socketio

        self.base_url, self.token, self.room, self.via_query = base_url, token, room, via_query
        self.events: list[tuple[str, object]] = []
        self.connect_error: dict | None = None
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record, namespace="/room")
        self.client.on("connect_error", self._refused, namespace="/room")

    def _record(self, event, data=None):
        with self._lock:
            self.events.append((event, data))

    def _refused(self, data=None):
        self.connect_error = data

    def connect(self) -> "RoomSocket":
        values = {k: v for k, v in (("token", self.token), ("room", self.room)) if v is not None}
        url = self.base_url + ("?" + urlencode(values) if self.via_query else "")
        auth = None if self.via_query else values
        self.client.connect(url, namespaces=["/room"], auth=auth, transports=["websocket"], wait_timeout=10)
        return self

    @property
    def connected(self) -> bool:
        return self.client.connected and "/room" in self.client.namespaces

    def received(self, name: str) -> list:
        with self._lock:
            return [data for event, data in self.events if event == name]

    def names(self) -> list[str]:
        with self._lock:
            return [event for event, _ in self.events]

    def wait_for(self, name: str, predicate=None, timeout: float = 10.0):
        """Return the first payload of `name` matching predicate, waiting up to timeout."""

        def find():
            for data in self.received(name):
                if predicate is None or predicate(data):
                    return [data]
            return None

        return wait_until(find, timeout=timeout, message=f"{name} on {self.base_url}; got {self.names()}")[0]

    def emit(self, name: str, data=None) -> None:
        self.client.emit(name, data, namespace="/room")

    def call(self, name: str, data=None, timeout: float = 10.0):
        return self.client.call(name, data, namespace="/room", timeout=timeout)

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def create_room(host: ApiUser, **fields) -> str:
    """Create a room as host (R20) and return its code."""
    response = host.post("/api/rooms/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()["room"]["code"]


def join(user: ApiUser, code: str) -> None:
    """Join the room as user (R22)."""
    response = user.post(f"/api/rooms/{code}/join/")
    assert response.status_code == 200, response.text
