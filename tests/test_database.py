"""The engine's pool on SQLite, and the Redis clients' reply parser."""

import threading

import pytest
from sqlalchemy import event, text

from tests.support import TEST_JWT_SECRET_KEY, TEST_SECRET_KEY
from watchparty import create_app
from watchparty.database import SQLITE_FILE_POOL, engine_options
from watchparty.extensions import db
from watchparty.realtime.connection import redis_client


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:////srv/watchparty.sqlite3", SQLITE_FILE_POOL),
        ("sqlite:///relative.sqlite3", SQLITE_FILE_POOL),
        ("sqlite://", {}),
        ("sqlite:///:memory:", {}),
        ("sqlite:///file:shared?mode=memory&uri=true", {}),
        ("postgresql+psycopg://watchparty@db/watchparty", {}),
    ],
)
def test_engine_options_keep_a_pool_only_for_an_sqlite_file(uri, expected):
    assert engine_options(uri) == expected


def test_explicit_engine_options_win(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'own.sqlite3'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2},
            "SECRET_KEY": TEST_SECRET_KEY,
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
        }
    )
    with app.app_context():
        assert db.engine.pool.size() == 2


def test_a_burst_of_sqlite_checkouts_opens_each_connection_once(app):
    """Fifteen connections held at once are all kept, so a second burst opens none."""
    with app.app_context():
        engine = db.engine
        engine.dispose()  # forget the connection create_all opened
        opened = []
        event.listen(engine, "connect", lambda *_: opened.append(1))
        burst = SQLITE_FILE_POOL["pool_size"]
        for _ in range(2):
            connections = [engine.connect() for _ in range(burst)]
            for connection in connections:
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                connection.close()
        assert len(opened) == burst
        assert engine.pool.checkedin() == burst


def test_a_checkout_past_the_pool_waits_for_a_connection(app):
    """The pool's size is also the cap: a sixteenth checkout waits for a return, as before."""
    with app.app_context():
        engine = db.engine
        held = [engine.connect() for _ in range(SQLITE_FILE_POOL["pool_size"])]
        got = threading.Event()

        def checkout():
            with engine.connect():
                got.set()

        waiter = threading.Thread(target=checkout)
        waiter.start()
        assert not got.wait(0.3)
        held.pop().close()
        assert got.wait(5)
        waiter.join()
        for connection in held:
            connection.close()


def test_redis_replies_are_parsed_by_hiredis(redis_server):
    """requirements.txt pins hiredis: redis-py's C reply parser, which the admission script's replies need."""
    client = redis_client(redis_server.url, decode_responses=True)
    connection = client.connection_pool.get_connection()
    try:
        assert type(connection._parser).__name__ == "_HiredisParser"
    finally:
        client.connection_pool.release(connection)
    client.rpush("parser-check", "a", "é")
    assert client.lrange("parser-check", 0, -1) == ["a", "é"]
    client.delete("parser-check")
