"""The realtime store's sync-engine part, on the in-process and the Redis backend (R110-R131)."""

import time

import pytest

from watchparty.realtime.memory_store import MemoryStore
from watchparty.realtime.redis_store import RedisStore

CODE = "SYNC2345"


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    redis_url = request.getfixturevalue("redis_url")
    return RedisStore.from_url(redis_url)


def test_readiness_per_socket_and_user(store):
    assert store.not_ready_user_ids(CODE) == set()
    store.set_ready(CODE, "s1", 7, False)
    store.set_ready(CODE, "s2", 7, False)
    store.set_ready(CODE, "s3", 8, True)
    assert store.not_ready_user_ids(CODE) == {7}
    store.set_ready(CODE, "s1", 7, True)
    assert store.not_ready_user_ids(CODE) == {7}
    store.forget_socket_sync(CODE, "s2")
    assert store.not_ready_user_ids(CODE) == set()


def test_health_reports_are_kept_for_a_while(store):
    now = time.time()
    store.record_health(
        CODE, "s1", {"user_id": 7, "drift": 0.01, "rtt": 0.05, "buffering": False, "at": now}, 30
    )
    store.record_health(
        CODE, "s2", {"user_id": 8, "drift": 0.5, "rtt": 0.1, "buffering": True, "at": now - 40}, 30
    )
    assert set(store.health_reports(CODE, 30, now)) == {"s1"}
    store.forget_socket_sync(CODE, "s1")
    assert store.health_reports(CODE, 30, now) == {}


def test_a_slot_goes_to_one_caller_until_it_ends(store):
    key = f"room:{CODE}:health-sent"
    assert store.claim_slot(key, 0.3) == 0.0
    left = store.claim_slot(key, 0.3)
    assert 0 < left <= 0.3
    time.sleep(left + 0.05)
    assert store.claim_slot(key, 0.3) == 0.0


def test_the_ready_check_is_replaced_only_by_its_own_version(store):
    assert store.ready_check(CODE) is None
    store.save_ready_check(CODE, {"version": 4, "waiting": [1, 2]}, 10)
    assert store.replace_ready_check(CODE, 3, None) is False
    assert store.replace_ready_check(CODE, 4, {"version": 4, "waiting": [2]}) is True
    assert store.ready_check(CODE)["waiting"] == [2]
    assert store.replace_ready_check(CODE, 4, None) is True
    assert store.replace_ready_check(CODE, 4, None) is False
    assert store.ready_check(CODE) is None


def test_socket_users_name_each_socket_of_the_room(store):
    from watchparty.realtime import SocketRecord

    store.add_socket(SocketRecord("s1", CODE, 7, "p1"))
    store.add_socket(SocketRecord("s2", CODE, 8, "p2"))
    assert store.socket_users(CODE) == {"s1": 7, "s2": 8}
