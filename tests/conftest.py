"""Fixtures: the app and its clients, a real redis-server, real server processes."""

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.postgres import PostgresCluster, postgres_database
from tests.support import (
    TEST_JWT_SECRET_KEY,
    TEST_REGISTER_RATE_LIMIT,
    TEST_SECRET_KEY,
    ApiUser,
    LiveServer,
    RedisServer,
    RoomSocket,
    ServerFleet,
    server_env,
)
from watchparty import create_app
from watchparty.extensions import db


@pytest.fixture
def app(tmp_path):
    """An app on a fresh SQLite file, in threading mode, with CSRF on."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "SECRET_KEY": TEST_SECRET_KEY,
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "REGISTER_RATE_LIMIT": TEST_REGISTER_RATE_LIMIT,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One real redis-server for the session; tests get it flushed."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The shared redis-server's URL, emptied before the test."""
    if not redis_server.answers():
        redis_server.start()
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, for tests that kill or restart it."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


DATABASE_BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "all_databases: run the module on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc):
    """Run modules marked all_databases once per database backend (SPEC R2)."""
    if "db_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("all_databases"):
        metafunc.parametrize("db_backend", DATABASE_BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL URL whose user may create databases.

    WATCHPARTY_TEST_POSTGRES_URL when set, else a throwaway cluster for the session.
    """
    if os.environ.get("WATCHPARTY_TEST_POSTGRES_URL"):
        yield os.environ["WATCHPARTY_TEST_POSTGRES_URL"]
        return
    cluster = PostgresCluster().start()
    yield cluster.admin_url
    cluster.stop()


@pytest.fixture(scope="module")
def db_backend(request) -> str:
    """The database the test's servers use: SQLite unless parametrized (all_databases)."""
    return getattr(request, "param", "sqlite")


@contextmanager
def fresh_database(request, backend: str, directory: Path) -> Iterator[str]:
    """A new, empty database of the backend: a SQLite file in directory or a PostgreSQL database."""
    if backend == "postgresql":
        with postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
            yield url
    else:
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.sqlite3'}"


@pytest.fixture
def database_url(request, tmp_path, db_backend) -> Iterator[str]:
    """A fresh database shared by this test's server processes."""
    with fresh_database(request, db_backend, tmp_path) as url:
        yield url


@pytest.fixture
def fleet(tmp_path, database_url) -> Iterator[ServerFleet]:
    """Server processes sharing this test's database: fleet.pair(redis_url, **settings) and the like.

    Every process it starts is stopped after the test.
    """
    servers = ServerFleet(tmp_path, database_url)
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def module_fleet(request, tmp_path_factory, db_backend) -> Iterator[ServerFleet]:
    """Like fleet, on one database, for a module whose tests share long-running processes."""
    workdir = tmp_path_factory.mktemp("fleet")
    with fresh_database(request, db_backend, workdir) as url:
        servers = ServerFleet(workdir, url)
        yield servers
        servers.stop()


@pytest.fixture(scope="module")
def live_redis_url(redis_server) -> str:
    """The session's redis-server, not flushed: the module's servers keep running across tests."""
    if not redis_server.answers():
        redis_server.start()
    return redis_server.url


@pytest.fixture(scope="module")
def module_pair(module_fleet, live_redis_url) -> list[LiveServer]:
    """Two server processes with default settings and Redis, shared by a module's tests."""
    return module_fleet.pair(live_redis_url)


@pytest.fixture(scope="module")
def live_server(request, tmp_path_factory, redis_server, db_backend) -> Iterator[LiveServer]:
    """One real server process with a real Redis, shared by a test module."""
    workdir = tmp_path_factory.mktemp("live")
    with fresh_database(request, db_backend, workdir) as url:
        server = LiveServer(env=server_env(url, redis_server.url), log_path=workdir / "server.log").start()
        yield server
        server.stop()


@pytest.fixture
def make_user(live_server) -> Callable[..., ApiUser]:
    """Make HTTP users of live_server; make_user(register=False) for an anonymous one."""

    def make(base_url: str | None = None, register: bool = True, **fields) -> ApiUser:
        user = ApiUser(base_url or live_server.url)
        return user.register(**fields) if register else user

    return make


@pytest.fixture
def open_socket() -> Iterator[Callable[..., RoomSocket]]:
    """Connect real Socket.IO clients to /room; all disconnected after the test."""
    sockets: list[RoomSocket] = []

    def connect(base_url: str, token: str | None, room: str | None, **options) -> RoomSocket:
        socket = RoomSocket(base_url, token, room, **options)
        sockets.append(socket)
        return socket.connect()

    yield connect
    for socket in sockets:
        socket.disconnect()
