"""Eviction policies on hand-made block sequences with known answers."""

import pytest

from kvcache_calc.cache import BeladyCache, FIFOCache, LFUCache, LRUCache, make_cache


def test_lru_eats_a_prefix_from_its_tail():
    cache = LRUCache(4)
    cache.admit(["a0", "a1", "a2"])
    cache.admit(["b0", "b1"])  # 5 blocks: the oldest is a's tail
    assert cache.cached_prefix(["a0", "a1", "a2"]) == 2
    assert "a2" not in cache


def test_lru_keeps_the_shared_system_prompt_hot():
    cache = LRUCache(5)
    for conv in range(20):
        cache.admit(["sys0", "sys1", f"c{conv}.0", f"c{conv}.1"])
    assert cache.cached_prefix(["sys0", "sys1", "x"]) == 2
    assert cache.cached_prefix(["sys0", "sys1", "c19.0", "c19.1"]) == 4
    assert cache.cached_prefix(["sys0", "sys1", "c18.0", "c18.1"]) == 3  # c18's tail went first


def test_lru_hit_refreshes_a_block():
    cache = LRUCache(3)
    cache.admit(["a"])
    cache.admit(["b"])
    cache.admit(["a"])
    cache.admit(["c"])
    cache.admit(["d"])  # evicts b, the least recently used
    assert "a" in cache and "b" not in cache


def test_fifo_hit_does_not_refresh():
    cache = FIFOCache(3)
    cache.admit(["a"])
    cache.admit(["b"])
    cache.admit(["a"])  # a hit: stays first in line
    cache.admit(["c"])
    cache.admit(["d"])  # evicts a, the oldest admitted
    assert "a" not in cache and "b" in cache


def test_lfu_evicts_least_frequent_then_least_recent():
    cache = LFUCache(3)
    cache.admit(["a"])
    cache.admit(["a"])
    cache.admit(["b"])
    cache.admit(["c"])
    cache.admit(["d"])  # b and c used once; b is older
    assert set(cache._order) == {"a", "c", "d"}
    cache.admit(["e"])  # c and d once; c older
    assert set(cache._order) == {"a", "d", "e"}


def test_lfu_counts_restart_after_eviction():
    cache = LFUCache(2)
    for _ in range(3):
        cache.admit(["a"])
    cache.admit(["b"])
    cache.admit(["c"])  # evicts b (count 1)
    cache.admit(["b"])  # b is back with count 1; evicts c (count 1, older)
    assert set(cache._order) == {"a", "b"}


def test_lfu_heap_stays_bounded():
    cache = LFUCache(4)
    for i in range(10_000):
        cache.admit([f"k{i % 6}"])
    assert len(cache._heap) <= 4 * len(cache) + 64 + 1


def test_belady_evicts_the_block_used_farthest_ahead():
    cache = BeladyCache(2)
    cache.admit(["a"], [5])
    cache.admit(["b"], [2])
    cache.admit(["c"], [3])  # a is needed last
    assert set(cache._order) == {"b", "c"}
    cache.admit(["d"], [None])  # never again: d goes
    assert set(cache._order) == {"b", "c"}


def test_belady_ties_evict_the_tail_first():
    cache = BeladyCache(2)
    cache.admit(["p0", "p1", "p2"], [7, 7, 7])
    assert cache.cached_prefix(["p0", "p1", "p2"]) == 2


def test_unknown_policy_and_empty_cache_are_refused():
    with pytest.raises(ValueError, match='policy: "mru" is not allowed'):
        make_cache("mru", 4)
    with pytest.raises(ValueError, match="capacity: 0 is not allowed"):
        make_cache("lru", 0)
