"""Discrete-event simulation of a scenario's traffic against the block cache.

Seeded and reproducible. The requests come from traffic.generate (the same generator writes
synthetic traces, so a simulation and a generated trace with one seed are the same traffic). Each
request looks up its prompt's blocks, then admits what the engine caches, tail first. Measurement
starts once the conversations that hold 99% of the idle blocks have had time to reach their length
(long conversations hold most of the cache, so a shorter warm-up measures a cache that is still
filling) and stops at the end of the arrival window; the drain is never measured. Confidence
intervals come from batch means. With affinity routing, replicas are independent and alike, so one
replica is simulated at its share of the load; other routings simulate every replica at the whole
load, each request sent where the router says. Tiers below the GPU are simulated as LRUs of each
level's cumulative size fed the same requests (exact: see cache.TieredLRU); the GPU level is what
running requests leave.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from .cache import RunLRU, TieredLRU, make_cache
from .evaluate import replica_prediction
from .resolve import Resolved, resolve
from .scenario import Scenario
from .traffic.distributions import Fixed
from .traffic.generate import Request, TrafficGenerator

MAX_TOUCHES = 10**8
MAX_ROUTED_REPLICAS = 256
DEFAULT_REQUESTS = 100_000
MIN_BATCHES, MAX_BATCHES = 5, 20
# Student t 97.5% quantiles by degrees of freedom (batches - 1)
T_975 = {4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179,
         13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093}
RUN_COST = 10   # one run touched costs about what ten blocks touched cost the block engine
SLOTS = 7   # per batch: prompt tokens, hit tokens, requests, full hits, history blocks, history hits, fill


@dataclass(frozen=True)
class SimulationPlan:
    """Windows and the work they cost, known before the simulation starts."""

    warmup_s: float
    window_s: float
    replica_rate: float                # conversations per second simulated: a replica's share (affinity) or all
    capacity_blocks: int               # GPU blocks left evictable
    levels: tuple[int, ...]            # cumulative LRU sizes: GPU, then each tier below
    replicas: int                      # replicas simulated (1 under affinity routing)
    estimated_requests: float
    estimated_touches: float
    batches: int                       # batch means for the interval, each about a conversation long


def plan_simulation(r: Resolved, requests: int | None = None, window_s: float | None = None,
                    block_engine: bool = False) -> SimulationPlan:
    """Warm-up and measurement windows for a scenario; refuses runs over MAX_TOUCHES block touches."""
    s, traffic, cap = r.scenario, r.traffic, r.capacity
    if s.tiers and s.cache.policy != "lru":
        raise ValueError(f'cache.policy: "{s.cache.policy}" is not allowed with tiers; expected "lru" '
                         f"(tiers are simulated as LRU levels)")
    routed = s.cluster.routing != "affinity" and s.cluster.replicas > 1
    if routed and s.cluster.replicas > MAX_ROUTED_REPLICAS:
        raise ValueError(f"cluster.replicas: {s.cluster.replicas} is not allowed with routing "
                         f'"{s.cluster.routing}"; expected at most {MAX_ROUTED_REPLICAS} to simulate every replica')
    replicas = s.cluster.replicas if routed else 1
    rate = r.replica_rate
    request_rate = rate * traffic.mean_turns
    if window_s is None:
        window_s = (requests or DEFAULT_REQUESTS) / request_rate
    # the prediction's T only sizes the warm-up
    t_char = replica_prediction(r, cap.levels[-1]).characteristic_time_s
    settle = 3.0 * t_char if math.isfinite(t_char) else 0.0
    warmup = correlation = 0.0
    for ct in traffic.classes:
        long_turns = ct.table.turns_holding()
        spread = 0.0 if isinstance(ct.think, Fixed) else 3.0 * math.sqrt(long_turns)
        warmup = max(warmup, (long_turns + spread) * ct.think.mean)
        correlation = max(correlation, (ct.table.mean_turns - 1.0) * ct.think.mean)
    warmup += settle + 10.0
    total_requests = request_rate * (warmup + window_s)
    blocks_per_request = sum(
        ct.share * sum(reach * (sum(ms) / len(ms) + ct.shared_blocks) for (reach, _), ms in
                       zip(ct.table.reach, ct.table.touched))
        for ct in traffic.classes) / traffic.mean_turns
    # admits during warm-up; lookups and admits while measuring
    touches = request_rate * (warmup + 2.0 * window_s) * max(blocks_per_request, 1.0)
    # the run engine's work is per run of blocks, the block engine's per block
    runs = total_requests * (2 + max(len(ct.levels) for ct in traffic.classes)) * len(cap.levels)
    work = touches if block_engine or s.cache.policy != "lru" else runs * RUN_COST
    if work > MAX_TOUCHES:
        raise ValueError(
            f"simulation: about {work:,.0f} block touches exceed the limit of {MAX_TOUCHES:,}; "
            f"ask for fewer requests or a shorter duration, or a larger cache.block_size")
    # Requests of one conversation, and the cache state, stay correlated for about a conversation's
    # life plus T: batches at least that long keep the interval honest.
    correlation_s = correlation + (t_char if math.isfinite(t_char) else 0.0)
    batches = int(min(MAX_BATCHES, max(MIN_BATCHES, window_s // max(correlation_s, 1e-9))))
    return SimulationPlan(warmup, window_s, rate, cap.gpu_blocks, cap.levels, replicas, total_requests, touches,
                          batches)


class RunLevels:
    """One RunLRU per level (GPU, GPU + tiers below): by LRU inclusion, what a tiered cache finds."""

    def __init__(self, levels: tuple[int, ...]):
        self.levels = [RunLRU(c) for c in levels]
        self.capacity = levels[0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def lookup_levels(self, r: Request) -> list[int]:
        return [level.lookup(r.nodes, r.conv, r.common, r.limit) for level in self.levels]

    def admit(self, r: Request) -> None:
        for level in self.levels:
            level.admit(r.nodes, r.conv, r.generation, r.private, r.common)


class BlockLevels:
    """The block engine (cache.py) fed the requests' block ids: any policy, tiers block by block."""

    def __init__(self, cache):
        self.cache = cache
        self.capacity = cache.capacity

    def __len__(self) -> int:
        return len(self.cache)

    def lookup_levels(self, r: Request) -> list[int]:
        blocks = r.ids[:r.limit]
        if not isinstance(self.cache, TieredLRU):
            return [self.cache.cached_prefix(blocks)]
        counts = self.cache.prefix_by_tier(blocks)
        return [sum(counts[:i + 1]) for i in range(len(counts))]

    def admit(self, r: Request) -> None:
        self.cache.admit(r.admitted)


class Router:
    """Which replica serves each request: affinity keeps a conversation's replica, the others ignore it."""

    def __init__(self, routing: str, replicas: int, rng: random.Random, service_s=None):
        self.routing = routing
        self.replicas = replicas
        self.rng = rng
        self.service_s = service_s  # (prompt tokens, cached tokens, output tokens) -> seconds in flight
        self.next = 0
        self.in_flight: list[list[float]] = [[] for _ in range(replicas)]

    def route(self, conv: int, now: float) -> int:
        n = self.replicas
        if n == 1:
            return 0
        if self.routing == "affinity":
            return conv % n
        if self.routing == "random":
            return self.rng.randrange(n)
        if self.routing == "round_robin":
            self.next = (self.next + 1) % n
            return self.next
        # least_loaded: fewest requests in flight; ties go round-robin from the last choice
        for heap in self.in_flight:
            while heap and heap[0] <= now:
                heapq.heappop(heap)
        start = self.next + 1
        best = min(range(n), key=lambda i: (len(self.in_flight[(start + i) % n]), i))
        self.next = (start + best) % n
        return self.next

    def served(self, replica: int, now: float, prompt: int, cached: int, output: int) -> None:
        if self.routing == "least_loaded" and self.service_s is not None:
            heapq.heappush(self.in_flight[replica], now + self.service_s(prompt, cached, output))


class Simulation:
    """A simulation that advances in steps, so a caller can report progress and cancel."""

    def __init__(self, s: Scenario, seed: int = 1, requests: int | None = None, window_s: float | None = None,
                 block_engine: bool = False):
        self.scenario = s
        self.seed = seed
        self.resolved = r = resolve(s)
        self.plan = plan_simulation(r, requests, window_s, block_engine)
        levels = self.plan.levels
        blocks = block_engine or s.cache.policy != "lru"
        self.caches: list = []
        for _ in range(self.plan.replicas):
            if not blocks:
                self.caches.append(RunLevels(levels))
            elif len(levels) > 1:
                self.caches.append(BlockLevels(TieredLRU(_tier_sizes(levels, s.tiers_policy),
                                                         s.tiers_policy == "exclusive")))
            else:
                self.caches.append(BlockLevels(make_cache(s.cache.policy, levels[0])))
        self.router = Router(s.cluster.routing, self.plan.replicas, random.Random(seed + 1), _service_time(r))
        self.end = self.plan.warmup_s + self.plan.window_s
        self.requests = TrafficGenerator(r.traffic, self.plan.replica_rate, seed, self.end, with_ids=blocks)
        self.now = 0.0
        self.touches = 0
        self.done = False
        classes = len(r.traffic.classes)
        # per batch: SLOTS totals, then per level (hit tokens, full hits), then per class (prompt, hit, requests, full)
        self.width = SLOTS + 2 * len(levels) + 4 * classes
        self.batches = [[0.0] * self.width for _ in range(self.plan.batches)]

    @property
    def estimated_touches(self) -> float:
        return self.plan.estimated_touches

    @property
    def cache(self):
        """The first replica's cache."""
        return self.caches[0]

    @property
    def progress(self) -> float:
        return min(1.0, self.now / self.end)

    def step(self, max_touches: int = 200_000) -> bool:
        """Advance by about `max_touches` block touches; True once the arrival window has ended."""
        b = self.scenario.cache.block_size
        caches, router = self.caches, self.router
        warm = self.plan.warmup_s
        batches = self.plan.batches
        batch_len = self.plan.window_s / batches
        levels_base = SLOTS
        class_base = SLOTS + 2 * len(self.plan.levels)
        budget = self.touches + max_touches
        requests = self.requests
        while not self.done and self.touches < budget:
            try:
                r = next(requests)
            except StopIteration:
                self.done = True
                break
            now = self.now = r.time
            replica = router.route(r.conv, now)
            cache = caches[replica]
            measured = now >= warm
            found = cache.lookup_levels(r) if measured or router.service_s else None
            hits = found[-1] if found else 0
            router.served(replica, now, r.prompt, found[0] * b if found else 0, r.output)
            cache.admit(r)
            self.touches += hits + r.shared + r.private
            if measured:
                history = r.shared + r.kept   # every block the prompt could find
                row = self.batches[min(batches - 1, int((now - warm) / batch_len))]
                row[0] += r.prompt
                row[1] += hits * b
                row[2] += 1
                k = class_base + 4 * r.cls
                row[k] += r.prompt
                row[k + 1] += hits * b
                row[k + 2] += 1
                if r.turn > 1:
                    whole = hits >= history
                    row[3] += whole
                    row[k + 3] += whole
                    row[4] += r.kept
                    row[5] += max(0, min(hits, history) - r.shared)
                    for i, got in enumerate(found):
                        row[levels_base + 1 + 2 * i] += got >= history
                row[6] += len(cache) / cache.capacity
                for i, got in enumerate(found):
                    row[levels_base + 2 * i] += got * b
        return self.done

    def result(self) -> dict:
        """Measured metrics with 95% batch-means confidence half-widths."""
        rows = [r for r in self.batches if r[2] > 0]
        tot = [sum(r[i] for r in rows) for i in range(self.width)]
        if tot[2] == 0:
            raise ValueError("simulation: no request was measured; ask for more requests or a longer duration")
        token = tot[1] / tot[0]
        request = tot[3] / tot[2]
        s = self.scenario
        # under affinity one replica stands for all of them
        scale = s.cluster.replicas if self.plan.replicas == 1 else 1
        window = self.plan.window_s
        names = ["gpu"] + [t.name for t in s.tiers]
        base = SLOTS
        level_tokens = [tot[base + 2 * k] / tot[0] for k in range(len(names))]
        level_requests = [tot[base + 1 + 2 * k] / tot[2] for k in range(len(names))]
        class_base = SLOTS + 2 * len(names)
        classes = []
        for i, ct in enumerate(self.resolved.traffic.classes):
            k = class_base + 4 * i
            classes.append({"name": ct.name, "requests": int(tot[k + 2]),
                            "token_hit_rate": tot[k + 1] / tot[k] if tot[k] else None,
                            "request_hit_rate": tot[k + 3] / tot[k + 2] if tot[k + 2] else None,
                            "token_hit_rate_ci": _half_width([r[k + 1] / r[k] for r in rows if r[k]]),
                            "request_hit_rate_ci": _half_width([r[k + 3] / r[k + 2] for r in rows if r[k + 2]])})
        return {
            "token_hit_rate": token,
            "request_hit_rate": request,
            "token_hit_rate_ci": _half_width([r[1] / r[0] for r in rows]),
            "request_hit_rate_ci": _half_width([r[3] / r[2] for r in rows]),
            "tier_token_hit_rates": dict(zip(names, _steps(level_tokens))),
            "tier_request_hit_rates": dict(zip(names, _steps(level_requests))),
            "gpu_token_hit_rate_ci": _half_width([r[base] / r[0] for r in rows]),
            "follow_up_block_hit_rate": tot[5] / tot[4] if tot[4] else 1.0,
            "classes": classes,
            "derived_qps": tot[2] / window * scale,
            "prompt_tokens_per_s": tot[0] / window * scale,
            "cached_tokens_per_s": tot[1] / window * scale,
            "ideal_prefill_speedup": 1.0 / max(1.0 - token, 1e-9),
            "cache_utilization": tot[6] / tot[2],
            "cache_capacity_blocks": self.plan.capacity_blocks,
            "requests_measured": int(tot[2]),
            "block_touches": self.touches,
            "warmup_s": self.plan.warmup_s,
            "window_s": window,
            "seed": self.seed,
            "policy": s.cache.policy,
            "routing": s.cluster.routing,
            "replicas_simulated": self.plan.replicas,
        }


def _steps(cumulative: list[float]) -> list[float]:
    return [v - (cumulative[i - 1] if i else 0.0) for i, v in enumerate(cumulative)]


def _tier_sizes(levels: tuple[int, ...], policy: str) -> list[int]:
    """Each tier's own size from the cumulative levels."""
    if policy == "inclusive":
        return list(levels)
    return [levels[0]] + [b - a for a, b in zip(levels, levels[1:])]


def _service_time(r: Resolved):
    """Seconds a request stays in flight (prefill of what the GPU misses, then decode), or None."""
    if r.scenario.cluster.routing != "least_loaded":
        return None
    cap = r.capacity
    if cap.roof is None or cap.running is None:
        return None
    roof, step = cap.roof, cap.running.decode_step_s
    return lambda prompt, cached, output: roof.prefill_s(prompt - cached, cached) + output * step


def _half_width(values: list[float]) -> float:
    """95% half-width of the mean of batch means, widened for what correlation remains between neighbours.

    Batches shorter than a conversation share its requests and the cache state, so their means are
    correlated; the variance of their average grows by (1 + ρ) / (1 - ρ) for lag-1 correlation ρ.
    """
    n = len(values)
    if n < MIN_BATCHES:
        return math.nan
    mean = sum(values) / n
    dev = [v - mean for v in values]
    var = sum(d * d for d in dev) / (n - 1)
    if var == 0.0:
        return 0.0
    rho = sum(a * b for a, b in zip(dev, dev[1:])) / (var * (n - 1))
    rho = min(max(rho, 0.0), 0.9)
    return T_975[n - 1] * math.sqrt(var / n * (1.0 + rho) / (1.0 - rho))


def simulate_scenario(s: Scenario, seed: int = 1, requests: int | None = None, window_s: float | None = None,
                      progress=None) -> dict:
    """Run a whole simulation; `progress(fraction)` is called between steps."""
    sim = Simulation(s, seed, requests, window_s)
    while not sim.step():
        if progress is not None:
            progress(sim.progress)
    return sim.result()
