"""Real processes for tests: redis-server and `python wsgi.py` on free ports."""

import inspect
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import redis
import requests
import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-not-for-production"
TEST_JWT_SECRET_KEY = "test-jwt-secret-key-not-for-production-000"
# How long a test waits for something that must NOT happen (an event, a write-back).
QUIET_SECONDS = 0.5


#: Below Linux's ephemeral range (32768-60999), where the kernel picks the source ports of the
#: tests' own client connections: a port the kernel handed out as free could become one of them
#: before the server meant for it bound it (suspected when a sentinel and nginx failed to start
#: in the same CI run).
SERVER_PORTS = range(20_000, 32_000)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now, outside the ephemeral range."""
    for port in random.sample(SERVER_PORTS, 50):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVER_PORTS}")


def described(message) -> str:
    """A failure message given as text, or as a callable that builds it only on failure."""
    return message() if callable(message) else message


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message="condition"):
    """Poll predicate until it returns a truthy value, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {described(message)}")
        time.sleep(interval)


def wait_out(seconds: float) -> None:
    """Let a server-side timer (a token lifetime, a TTL) run out: the lapse is the behaviour under test."""
    time.sleep(seconds)


def assert_stays(predicate: Callable[[], bool], seconds: float = QUIET_SECONDS, message="") -> None:
    """Assert predicate holds at every poll for a whole quiet window (nothing undoes it meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        assert predicate(), described(message) or "condition stopped holding during the quiet window"
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def assert_nothing_arrives(
    *sockets: "RoomSocket", seconds: float = QUIET_SECONDS, names: Iterable = ()
) -> None:
    """Assert that no socket receives any event (or any of `names`) during one quiet window."""
    watched = set(names)
    seen = [len(sock.names()) for sock in sockets]

    def arrived() -> list:
        new = [(sock.base_url, n) for sock, k in zip(sockets, seen, strict=True) for n in sock.names()[k:]]
        return [item for item in new if not watched or item[1] in watched]

    report = lambda: f"arrived during the quiet window: {arrived()}"  # noqa: E731
    assert_stays(lambda: not arrived(), seconds, message=report)


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
                "--appendonly", "no", "--dir", str(self.workdir), *self.extra_args()]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, message=f"redis-server on port {self.port}")
        return self

    def extra_args(self) -> list[str]:
        """More redis-server options, for subclasses."""
        return []

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
    cwd: Path = ROOT  # the checkout whose wsgi.py runs (benches point it at an older one)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "LiveServer":
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            list(self.command), cwd=self.cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        report = lambda: f"server on port {self.port}\n{self.log_tail()}"  # noqa: E731
        wait_until(self._healthy, timeout=timeout, message=report)
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
    # Tests send bursts (garbage, SEEK storms): each limit is tested with its own settings.
    env["WATCHPARTY_SOCKET_EVENTS_PER_SECOND"] = env["WATCHPARTY_SOCKET_EVENTS_BURST"] = "1000"
    env["WATCHPARTY_MAX_OPEN_ROOMS_PER_USER"] = "100000"  # tests that create many rooms as one host
    for name, value in settings.items():
        env[f"WATCHPARTY_{name}"] = str(value)
    return env


def start_all(servers: list) -> list:
    """Start servers (anything with start() and stop()) at once; stop them all if one fails."""
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.start(), servers))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


class ServerFleet:
    """`python wsgi.py` processes sharing one database (and a Redis if given); stop() ends them all."""

    def __init__(self, workdir: Path, database_url: str):
        self.workdir, self.database_url = workdir, database_url
        self.servers: list[LiveServer] = []

    def start_many(self, count: int, redis_url: str | None, command: tuple | None = None, **settings) -> list:
        """Start `count` processes at once with these settings (WATCHPARTY_<NAME>=value)."""
        env = server_env(self.database_url, redis_url, **settings)
        logs = [self.workdir / f"server-{len(self.servers) + i}.log" for i in range(count)]
        new = [LiveServer(env=env, log_path=log, command=command or LiveServer.command) for log in logs]
        self.servers.extend(new)
        return start_all(new)

    def start(self, redis_url: str | None, command: tuple | None = None, **settings) -> "LiveServer":
        """Start one process."""
        return self.start_many(1, redis_url, command, **settings)[0]

    def pair(self, redis_url: str | None, **settings) -> list:
        """Start two processes at once: the setup of every cross-process test."""
        return self.start_many(2, redis_url, **settings)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


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

    def __init__(
        self,
        base_url: str,
        token: str | None,
        room: str | None,
        via_query: bool = False,
        transports: tuple = ("websocket",),
        **client_options,
    ):
        import socketio

        self.base_url, self.token, self.room, self.via_query = base_url, token, room, via_query
        self.transports = list(transports)
        self.events: list[tuple[str, object]] = []
        self.connect_error: dict | None = None
        self._lock = threading.Lock()
        self.client = socketio.Client(**{"reconnection": False, **client_options})
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
        self.client.connect(url, namespaces=["/room"], auth=auth, transports=self.transports, wait_timeout=10)
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

        report = lambda: f"{name} on {self.base_url}; got {self.names()}"  # noqa: E731
        return wait_until(find, timeout=timeout, message=report)[0]

    def emit(self, name: str, data=None) -> None:
        self.client.emit(name, data, namespace="/room")

    def call(self, name: str, data=None, timeout: float = 10.0):
        return self.client.call(name, data, namespace="/room", timeout=timeout)

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    def disconnect(self) -> None:
        """Disconnect, and stop any reconnection loop: a leftover one keeps drawing from `random`."""
        self.client.shutdown()


def create_room(host: ApiUser, **fields) -> str:
    """Create a room as host (R20) and return its code."""
    response = host.post("/api/rooms/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()["room"]["code"]


def join(user: ApiUser, code: str) -> None:
    """Join the room as user (R22)."""
    response = user.post(f"/api/rooms/{code}/join/")
    assert response.status_code == 200, response.text


def hosted_room(base_url: str, **fields) -> tuple[ApiUser, str]:
    """A new user and the room they created."""
    host = ApiUser(base_url).register()
    return host, create_room(host, **fields)


def joined_user(base_url: str, code: str) -> ApiUser:
    """A newly registered user who joined the room."""
    user = ApiUser(base_url).register()
    join(user, code)
    return user


def connected(open_socket, base_url: str, user: ApiUser, code: str) -> RoomSocket:
    """A socket of user's in the room, once its whole bootstrap arrived (SKIP_VOTES comes last, R100a)."""
    sock = open_socket(base_url, user.token(), code)
    sock.wait_for("SKIP_VOTES")
    return sock


@dataclass
class ConnectedRoom:
    """A room, its host and one viewer, each with a bootstrapped socket; unpacks in that order."""

    code: str
    host: ApiUser
    viewer: ApiUser
    host_sock: RoomSocket
    viewer_sock: RoomSocket

    def __iter__(self):
        return iter((self.code, self.host, self.viewer, self.host_sock, self.viewer_sock))


def connected_room(
    open_socket, host_server, viewer_server, host: ApiUser | None = None, **fields
) -> ConnectedRoom:
    """A new room with its host's socket on host_server and a new viewer's on viewer_server.

    The host is a new user unless given. Returns once both sockets are bootstrapped and the
    host heard USER_JOINED for the viewer.
    """
    host, code = (host, create_room(host, **fields)) if host else hosted_room(host_server.url, **fields)
    viewer = joined_user(viewer_server.url, code)
    host_sock = connected(open_socket, host_server.url, host, code)
    viewer_sock = connected(open_socket, viewer_server.url, viewer, code)
    host_sock.wait_for("USER_JOINED", lambda p: p["user"]["id"] == viewer.user["id"])
    return ConnectedRoom(code, host, viewer, host_sock, viewer_sock)


def stored_row(database_url: str, sql: str, **params) -> tuple | None:
    """The first row of a query, read straight from the database (any backend)."""
    engine = sqlalchemy.create_engine(database_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(sqlalchemy.text(sql), params).fetchone()
    finally:
        engine.dispose()
    return tuple(row) if row is not None else None


def stored_value(database_url: str, sql: str, **params):
    """The first column of the first row of a query, read straight from the database (any backend)."""
    row = stored_row(database_url, sql, **params)
    assert row is not None, f"no row for {sql} {params}"
    return row[0]


def stored_column(database_url: str, code: str, column: str):
    """One column of the room's row, read straight from the database."""
    return stored_value(database_url, f"SELECT {column} FROM rooms WHERE code = :code", code=code)


DURABLE_TABLES = ("users", "rooms", "participants", "playback", "chat_messages", "watch_progress")


def durable_rows(database_url: str) -> dict[str, int]:
    """How many rows each table of durable state holds: a fault of Redis must lose none (R46)."""
    counts = ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in DURABLE_TABLES)
    return dict(zip(DURABLE_TABLES, stored_row(database_url, f"SELECT {counts}"), strict=True))


# Redis keys -------------------------------------------------------------------------------------------


def known_key_patterns() -> list[re.Pattern]:
    """One pattern per key that watchparty/realtime/keys.py names (its *_prefix helpers are not keys)."""
    from watchparty.realtime import keys

    slot = "\x00"
    patterns = []
    for name, value in vars(keys).items():
        if isinstance(value, str) and name.isupper():
            patterns.append(prefix_pattern(value) if name.endswith("_PREFIX") else re.escape(value))
        elif inspect.isfunction(value) and value.__module__ == keys.__name__ and not name.endswith("_prefix"):
            template = value(*[slot] * len(inspect.signature(value).parameters))
            patterns.append(re.escape(template).replace(re.escape(slot), "[^:]+"))
    return [re.compile(pattern) for pattern in patterns]


def prefix_pattern(prefix: str) -> str:
    """Keys with `prefix` as a whole segment: a library may put its own namespace first (LIMITS:LIMITER/…)."""
    return "(?:.*[:/])?" + re.escape(prefix) + "[:/].*"


def unknown_keys(redis_url: str) -> list[str]:
    """Every key in Redis that no name of keys.py accounts for."""
    patterns = known_key_patterns()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return [key for key in client.scan_iter("*") if not any(p.fullmatch(key) for p in patterns)]
    finally:
        client.close()


def keys_naming(redis_url: str, code: str) -> list[str]:
    """Every Redis key whose name contains the code, and every process-table entry that does."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = [key for key in client.scan_iter("*") if code in key]
        for table in client.scan_iter("proc:*:sockets"):
            found += [
                f"{table}[{sid}]={entry}" for sid, entry in client.hgetall(table).items() if code in entry
            ]
        return found
    finally:
        client.close()


def assert_redis_clean(redis_url: str, *closed_codes: str, seconds: float = QUIET_SECONDS) -> None:
    """For a quiet window: Redis holds only keys that keys.py names, and nothing of the closed rooms."""

    def problems() -> list[str]:
        return unknown_keys(redis_url) + [
            key for code in closed_codes for key in keys_naming(redis_url, code)
        ]

    assert_stays(lambda: not problems(), seconds, message=lambda: f"unexpected Redis keys: {problems()}")
