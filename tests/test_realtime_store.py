"""The realtime store's semantics, run against the in-process and the Redis backend."""

import threading
import time

import pytest

from tests.support import wait_out, wait_until
from watchparty.realtime import RealtimeUnavailable, SocketRecord, SocketRemoval, TooManySockets, create_store
from watchparty.realtime.base import RoomView
from watchparty.realtime.memory_store import MemoryStore
from watchparty.realtime.redis_store import RedisStore

CODE = "ABC123"
OTHER = "XYZ789"


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """A fresh store of each backend."""
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore.from_url(request.getfixturevalue("redis_url"))  # emptied for the test
    yield redis_store
    redis_store.client.close()


def _record(sid: str, user_id: int = 1, code: str = CODE, process: str = "p1") -> SocketRecord:
    return SocketRecord(sid=sid, room_code=code, user_id=user_id, process_id=process)


def _redis_keys_containing(store, text: str) -> list[str]:
    if not isinstance(store, RedisStore):
        return []
    return list(store.client.scan_iter(match=f"*{text}*"))


def _in_threads(count: int, work) -> list:
    """Run work(i) in `count` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


# presence ------------------------------------------------------------------
def test_ping(store):
    assert store.ping() is True


def test_first_and_last_socket_flags_with_two_tabs(store):
    assert store.add_socket(_record("tab1")) is True
    assert store.add_socket(_record("tab2", process="p2")) is False
    assert store.viewer_count(CODE) == 1

    assert store.remove_socket("p1", "tab1") == SocketRemoval(CODE, 1, was_last_of_user=False)
    assert store.viewer_count(CODE) == 1
    assert store.remove_socket("p2", "tab2") == SocketRemoval(CODE, 1, was_last_of_user=True)
    assert store.viewer_count(CODE) == 0
    assert store.present_user_ids(CODE) == []
    assert _redis_keys_containing(store, CODE) == []


def test_add_socket_is_idempotent(store):
    assert store.add_socket(_record("s1")) is True
    assert store.add_socket(_record("s1")) is False
    assert store.room_sids(CODE) == ["s1"]
    assert store.has_socket(CODE, "s1") is True
    assert store.has_socket(CODE, "nope") is False
    assert store.has_socket(OTHER, "s1") is False
    assert store.remove_socket("p1", "s1").was_last_of_user is True
    assert store.viewer_count(CODE) == 0


def test_admit_socket_records_it_and_reads_the_room_view_after(store):
    assert store.admit_socket(_record("s1", user_id=2), 0, 7) == (True, RoomView([2], None, None, 0))
    store.cache_playback(CODE, {"version": 3})
    store.save_ready_check(CODE, {"version": 1, "deadline": 9.5}, 30)
    store.add_skip_vote(CODE, 7, 2, 30)
    first, view = store.admit_socket(_record("s2", user_id=1, process="p2"), 0, 7)
    assert first is True
    check = {"version": 1, "deadline": 9.5}
    assert view == RoomView([1, 2], {"version": 3}, check, 1)
    another_tab = store.admit_socket(_record("s3", user_id=1), 0, 8)
    assert another_tab == (False, RoomView([1, 2], {"version": 3}, check, 0))  # votes of version 8: none
    assert sorted(store.room_sids(CODE)) == ["s1", "s2", "s3"]


def test_admit_socket_refuses_past_the_cap_and_records_nothing(store):
    store.admit_socket(_record("s1"), 2, 1)
    store.admit_socket(_record("s2"), 2, 1)
    with pytest.raises(TooManySockets):
        store.admit_socket(_record("s3"), 2, 1)
    assert sorted(store.room_sids(CODE)) == ["s1", "s2"]


def test_remove_unknown_sid_returns_none(store):
    store.add_socket(_record("s1"))
    assert store.remove_socket("p1", "nope") is None
    assert store.remove_socket("other-process", "s1") is None
    assert store.viewer_count(CODE) == 1


def test_counts_users_and_sids(store):
    store.add_socket(_record("a1", user_id=1))
    store.add_socket(_record("a2", user_id=1))
    store.add_socket(_record("b1", user_id=2, process="p2"))
    store.add_socket(_record("c1", user_id=3, code=OTHER))

    assert store.viewer_counts([CODE, OTHER, "EMPTY1"]) == {CODE: 2, OTHER: 1, "EMPTY1": 0}
    assert store.viewer_counts([]) == {}
    assert sorted(store.present_user_ids(CODE)) == [1, 2]
    assert sorted(store.room_sids(CODE)) == ["a1", "a2", "b1"]
    assert store.room_sids("EMPTY1") == []


def test_concurrent_tabs_of_one_user_announce_one_join(store):
    firsts = _in_threads(8, lambda i: store.add_socket(_record(f"s{i}", process=f"p{i % 2}")))
    assert firsts.count(True) == 1
    lasts = _in_threads(8, lambda i: store.remove_socket(f"p{i % 2}", f"s{i}").was_last_of_user)
    assert lasts.count(True) == 1
    assert store.viewer_count(CODE) == 0


# process liveness ----------------------------------------------------------
def test_beat_and_silent_processes(store):
    assert store.beat("p1", 100.0) is True
    assert store.beat("p1", 105.0) is False
    assert store.beat("p2", 110.0) is True
    assert store.silent_processes(105.0) == []
    assert store.silent_processes(106.0) == ["p1"]
    assert sorted(store.silent_processes(200.0)) == ["p1", "p2"]


def test_claim_dead_process_then_replay_disconnects(store):
    store.beat("dead", 1.0)
    store.add_socket(_record("d1", user_id=1, process="dead"))
    store.add_socket(_record("d2", user_id=2, process="dead", code=OTHER))
    store.add_socket(_record("live", user_id=1, process="alive"))

    records = store.claim_dead_process("dead")
    assert sorted(records, key=lambda r: r.sid) == [
        _record("d1", user_id=1, process="dead"),
        _record("d2", user_id=2, process="dead", code=OTHER),
    ]
    assert store.claim_dead_process("dead") is None
    assert store.silent_processes(10.0) == []

    removals = [store.remove_socket("dead", record.sid) for record in records]
    assert sorted(r.was_last_of_user for r in removals) == [False, True]
    assert store.present_user_ids(CODE) == [1]
    assert store.viewer_count(OTHER) == 0
    assert store.room_sids(CODE) == ["live"]


def test_claim_of_process_without_sockets_returns_empty_list(store):
    store.beat("idle", 1.0)
    assert store.claim_dead_process("idle") == []
    assert store.claim_dead_process("never-beat") is None


def test_concurrent_claimers_get_the_sockets_once(store):
    store.beat("dead", 1.0)
    for index in range(5):
        store.add_socket(_record(f"d{index}", user_id=index, process="dead"))

    claims = _in_threads(8, lambda _: store.claim_dead_process("dead"))
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    assert sorted(record.sid for record in winners[0]) == [f"d{i}" for i in range(5)]


def test_forget_process_drops_its_sockets_only(store):
    store.beat("gone", 1.0)
    store.beat("stays", 1.0)
    store.add_socket(_record("g1", user_id=1, process="gone"))
    store.add_socket(_record("g2", user_id=2, process="gone"))
    store.add_socket(_record("s1", user_id=2, process="stays"))

    store.forget_process("gone")
    assert store.silent_processes(10.0) == ["stays"]
    assert store.present_user_ids(CODE) == [2]
    assert store.room_sids(CODE) == ["s1"]
    assert store.remove_socket("gone", "g1") is None
    store.forget_process("gone")  # twice is harmless


# grace ---------------------------------------------------------------------
def test_grace_expires_by_ttl(store):
    assert store.grace_active(CODE) is False
    store.start_grace(CODE, 0.2)
    assert store.grace_active(CODE) is True
    wait_until(lambda: store.grace_active(CODE) is False, timeout=5, message="the grace TTL to lapse")
    assert store.end_grace(CODE) is False


def test_end_grace(store):
    store.start_grace(CODE, 30)
    assert store.end_grace(CODE) is True
    assert store.grace_active(CODE) is False
    assert store.end_grace(CODE) is False


# chat ----------------------------------------------------------------------
def test_chat_rate_counter_window_expires(store):
    assert [store.count_chat_message(CODE, 1, 0.2) for _ in range(3)] == [1, 2, 3]
    assert store.count_chat_message(CODE, 2, 0.2) == 1
    assert store.count_chat_message(OTHER, 1, 0.2) == 1
    wait_out(0.4)  # the 0.2 s window ends by TTL (counting again would start a new one)
    assert store.count_chat_message(CODE, 1, 0.2) == 1


def test_claim_chat_text(store):
    assert store.claim_chat_text(CODE, 1, "d1", 0.2) is True
    assert store.claim_chat_text(CODE, 1, "d1", 0.2) is False
    assert store.claim_chat_text(CODE, 2, "d1", 0.2) is True
    assert store.claim_chat_text(CODE, 1, "d2", 0.2) is True
    wait_out(0.4)  # the 0.2 s mark ends by TTL (claiming again would set a new one)
    assert store.claim_chat_text(CODE, 1, "d1", 0.2) is True


# playback cache --------------------------------------------------------------
def test_playback_cache_accepts_only_newer_versions(store):
    assert store.cached_playback(CODE) is None
    assert store.cache_playback(CODE, {"version": 2, "position": 10.5}) is True
    assert store.cache_playback(CODE, {"version": 1, "position": 1.0}) is False
    assert store.cache_playback(CODE, {"version": 2, "position": 99.0}) is False
    assert store.cached_playback(CODE) == {"version": 2, "position": 10.5}
    assert store.cache_playback(CODE, {"version": 3, "position": 12.0}) is True
    assert store.cached_playback(CODE) == {"version": 3, "position": 12.0}


def test_concurrent_playback_writes_keep_the_newest(store):
    results = _in_threads(8, lambda i: store.cache_playback(CODE, {"version": i}))
    assert results[7] is True
    assert store.cached_playback(CODE) == {"version": 7}


# closing -------------------------------------------------------------------
def _fill_room(store, code: str, process: str) -> None:
    store.add_socket(_record(f"{code}-1", user_id=1, code=code, process=process))
    store.add_socket(_record(f"{code}-2", user_id=2, code=code, process=process))
    store.start_grace(code, 30)
    store.count_chat_message(code, 1, 30)
    store.claim_chat_text(code, 1, "digest", 30)
    store.cache_playback(code, {"version": 1})


def test_forget_room_removes_every_trace(store):
    _fill_room(store, CODE, "p1")
    _fill_room(store, OTHER, "p1")

    records = store.forget_room(CODE)
    assert sorted(records, key=lambda r: r.sid) == [
        _record(f"{CODE}-1", user_id=1),
        _record(f"{CODE}-2", user_id=2),
    ]
    assert _redis_keys_containing(store, CODE) == []
    assert store.viewer_count(CODE) == 0
    assert store.room_sids(CODE) == []
    assert store.has_socket(CODE, f"{CODE}-1") is False
    assert store.grace_active(CODE) is False
    assert store.cached_playback(CODE) is None
    assert store.claim_chat_text(CODE, 1, "digest", 30) is True
    assert store.count_chat_message(CODE, 1, 30) == 1
    assert store.viewer_count(OTHER) == 2
    assert store.cached_playback(OTHER) == {"version": 1}


def test_remove_socket_after_forget_room_creates_nothing(store):
    _fill_room(store, CODE, "p1")
    store.add_socket(_record("elsewhere", code=OTHER))
    store.forget_room(CODE)

    assert store.remove_socket("p1", f"{CODE}-1") is None
    assert store.remove_socket("p1", f"{CODE}-2") is None
    assert _redis_keys_containing(store, CODE) == []
    assert store.viewer_count(CODE) == 0
    assert store.remove_socket("p1", "elsewhere").room_code == OTHER


def test_forget_empty_room(store):
    assert store.forget_room("NOROOM") == []


# backends ------------------------------------------------------------------
def test_create_store_picks_the_backend(redis_url):
    assert isinstance(create_store(None), MemoryStore)
    assert create_store(None).is_shared is False
    shared = create_store(redis_url)
    assert isinstance(shared, RedisStore)
    assert shared.is_shared is True


def test_redis_stores_share_state(redis_url):
    first, second = RedisStore.from_url(redis_url), RedisStore.from_url(redis_url)
    assert first.add_socket(_record("s1", process="p1")) is True
    assert second.add_socket(_record("s2", process="p2")) is False
    assert second.remove_socket("p1", "s1").was_last_of_user is False


def test_redis_client_fails_fast():
    kwargs = RedisStore.from_url("redis://127.0.0.1:1/0").client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == 0.5
    assert kwargs["socket_timeout"] == 2
    assert kwargs["decode_responses"] is True
    assert kwargs["retry"].get_retries() == 1


def test_redis_down_raises_realtime_unavailable_quickly(own_redis):
    store = RedisStore.from_url(own_redis.url)
    store.add_socket(_record("s1"))
    own_redis.stop()

    calls = [
        lambda: store.viewer_count(CODE),
        lambda: store.add_socket(_record("s2")),
        lambda: store.remove_socket("p1", "s1"),
        lambda: store.forget_room(CODE),
        lambda: store.viewer_counts([CODE]),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(RealtimeUnavailable):
            call()
        assert time.monotonic() - started < 2.0
    started = time.monotonic()
    assert store.ping() is False
    assert time.monotonic() - started < 2.0


def test_redis_scripts_survive_a_flushed_script_cache(redis_url):
    store = RedisStore.from_url(redis_url)
    store.add_socket(_record("s1"))
    store.add_socket(_record("s2", user_id=2))
    store.client.script_flush()
    assert store.remove_socket("p1", "s1").was_last_of_user is True
    store.client.script_flush()
    store.forget_process("p1")
    assert store.viewer_count(CODE) == 0


def test_user_sockets_names_one_users_sockets_on_every_process(store):
    store.add_socket(SocketRecord("s1", CODE, 7, "p1"))
    store.add_socket(SocketRecord("s2", CODE, 7, "p2"))
    store.add_socket(SocketRecord("s3", CODE, 8, "p1"))
    store.add_socket(SocketRecord("s4", OTHER, 7, "p1"))
    found = sorted(store.user_sockets(CODE, 7), key=lambda record: record.sid)
    assert found == [SocketRecord("s1", CODE, 7, "p1"), SocketRecord("s2", CODE, 7, "p2")]
    assert store.user_sockets(CODE, 9) == []


def test_pause_budget_counts_up_to_the_limit_and_the_window_ends_by_ttl(store):
    assert [store.count_pause(CODE, 7, 2, 0.3) for _ in range(3)] == [True, True, False]
    assert store.count_pause(CODE, 8, 2, 0.3) is True  # per user
    assert store.count_pause(CODE, 9, 0, 0.3) is False  # limit 0 counts nothing
    time.sleep(0.4)
    assert store.count_pause(CODE, 7, 2, 0.3) is True


def test_concurrent_pauses_never_exceed_the_budget(store):
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(store.count_pause(CODE, 7, 5, 30))) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5


def test_skip_votes_one_per_user_per_media_version(store):
    assert store.add_skip_vote(CODE, 1, 7, 30) == (True, 1)
    assert store.add_skip_vote(CODE, 1, 7, 30) == (False, 1)
    assert store.add_skip_vote(CODE, 1, 8, 30) == (True, 2)
    assert store.add_skip_vote(CODE, 2, 7, 30) == (True, 1)
    assert (store.skip_votes(CODE, 1), store.skip_votes(CODE, 2), store.skip_votes(CODE, 3)) == (2, 1, 0)
    store.forget_room(CODE)
    assert store.skip_votes(CODE, 1) == 0
