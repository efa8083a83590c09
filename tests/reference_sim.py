"""Deliberately plain block-level LRU references (synthetic traffic, trace replay), kept apart from the package.

It shares no code with kvcache_calc so that it can check the closed form (and, later, the
package's own simulator) independently.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict


def _turns(rng: random.Random, dist: str, mean: float) -> int:
    if dist == "fixed":
        return int(mean)
    p = 1.0 / mean
    n = 1
    while rng.random() >= p:
        n += 1
    return n


def _think(rng: random.Random, dist: str, mean: float) -> float:
    if dist == "fixed" or mean == 0:
        return mean
    return rng.expovariate(1.0 / mean)


def admit_lru(cache: OrderedDict, blocks, capacity: int) -> None:
    """Touch a request's blocks tail first (its head ends most recently used), then evict LRU blocks."""
    for key in reversed(blocks):
        if key in cache:
            cache.move_to_end(key)
        else:
            cache[key] = None
    while len(cache) > capacity:
        cache.popitem(last=False)


def simulate_lru(workload: dict, block_size: int, capacity_tokens: int, *, duration_s: float,
                 warmup_s: float, seed: int = 1) -> dict:
    """Token and request hit rates of requests arriving in [warmup_s, duration_s)."""
    rng = random.Random(seed)
    rate = workload["arrival_rate"]
    s_tok = workload.get("system_prompt_tokens", 0)
    u = workload["user_tokens"]
    o = workload["output_tokens"]
    b = block_size
    capacity = capacity_tokens // b
    shared = s_tok // b

    events: list = []  # (time, tie, conversation, turn, turns_total)
    t, conv = 0.0, 0
    while True:
        t += rng.expovariate(rate)
        if t >= duration_s:
            break
        heapq.heappush(events, (t, conv, conv, 1, _turns(rng, workload.get("turns_dist", "geometric"),
                                                          workload["turns_mean"])))
        conv += 1

    cache: OrderedDict = OrderedDict()  # block id -> None; first = least recently used
    prompt_tokens = hit_tokens = requests = request_hits = 0

    def block_id(c: int, k: int):
        return ("s", k) if k < shared else (c, k)

    while events:
        now, _, c, j, total = heapq.heappop(events)
        prompt = s_tok + (j - 1) * (u + o) + u
        reusable = (prompt - 1) // b
        hits = 0
        while hits < reusable and block_id(c, hits) in cache:
            hits += 1
        history = (s_tok + (j - 1) * (u + o)) // b
        if now >= warmup_s:
            requests += 1
            prompt_tokens += prompt
            hit_tokens += hits * b
            if j > 1 and hits >= history:
                request_hits += 1
        full = (s_tok + j * (u + o)) // b
        admit_lru(cache, [block_id(c, k) for k in range(full)], capacity)
        if j < total:
            nxt = now + _think(rng, workload.get("think_dist", "exponential"), workload["think_time_s"])
            if nxt < duration_s:
                heapq.heappush(events, (nxt, c + (j << 40), c, j + 1, total))
    return {
        "token_hit_rate": hit_tokens / prompt_tokens if prompt_tokens else 0.0,
        "request_hit_rate": request_hits / requests if requests else 0.0,
        "requests": requests,
    }


def reference_lru(requests, capacity: int, block_size: int) -> tuple[int, int, int]:
    """(hit tokens, prompt tokens, whole-prefix hits): the obvious replay, one capacity at a time."""
    cache, ever = OrderedDict(), set()
    hit = prompt = whole = 0
    for r in requests:
        k = 0
        for x in r.blocks:
            if x not in cache:
                break
            k += 1
        reusable = 0
        for x in r.blocks:
            if x not in ever:
                break
            reusable += 1
        hit += min(k * block_size, r.input_length)
        prompt += r.input_length
        whole += 1 if reusable and k >= reusable else 0
        ever.update(r.blocks)
        admit_lru(cache, r.blocks, capacity)
    return hit, prompt, whole
