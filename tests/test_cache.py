"""The one rule for process-wide caches: bounded, locked, evicted."""

import threading

import pytest

from mnistviz.runs.cache import BoundedCache


def test_it_never_holds_more_than_its_size_and_evicts_the_least_recently_used():
    cache = BoundedCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert len(cache) == 2 and "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3


def test_get_or_compute_computes_a_missing_value_once():
    cache = BoundedCache(size=4)
    calls = []
    for _ in range(3):
        assert cache.get_or_compute("key", lambda: calls.append(1) or "value") == "value"
    assert len(calls) == 1


def test_a_cached_none_is_a_value_not_a_miss():
    cache = BoundedCache(size=4)
    calls = []
    for _ in range(2):
        assert cache.get_or_compute("key", lambda: calls.append(1)) is None
    assert len(calls) == 1


def test_discard_drops_the_entries_whose_source_is_gone():
    cache = BoundedCache(size=8)
    for run in ("kept", "deleted", "also deleted"):
        cache.put(run, run.upper())
    cache.discard(lambda key: key == "kept")
    assert len(cache) == 1 and cache.get("kept") == "KEPT"


def test_many_threads_at_once_leave_it_consistent_and_bounded():
    cache = BoundedCache(size=16)
    errors = []

    def hammer(offset: int) -> None:
        try:
            for i in range(3000):
                key = (offset + i) % 40
                cache.get_or_compute(key, lambda key=key: key * 2)
                assert cache.get(key, key * 2) == key * 2
                if i % 100 == 0:
                    cache.discard(lambda k: k % 7)
        except Exception as error:  # noqa: BLE001 - any error in a thread is the failure
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(n * 13,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(cache) <= 16


@pytest.mark.parametrize(
    "use",
    [
        lambda cache: cache.get("a"),
        lambda cache: cache.put("b", 2),
        lambda cache: cache.discard(lambda key: True),
        lambda cache: len(cache),
    ],
)
def test_every_access_waits_for_the_lock(use):
    cache = BoundedCache(size=4)
    cache.put("a", 1)
    done = threading.Event()
    with cache._lock:  # another session in the middle of a change
        worker = threading.Thread(target=lambda: (use(cache), done.set()))
        worker.start()
        assert not done.wait(0.2)
    assert done.wait(5)
    worker.join()


def test_a_cache_holds_at_least_one_entry():
    with pytest.raises(ValueError):
        BoundedCache(size=0)
