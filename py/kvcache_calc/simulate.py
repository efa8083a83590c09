"""Discrete-event simulation of a scenario's chat traffic against the block cache.

Seeded and reproducible. Conversations arrive as a Poisson process; each request looks up its
prompt's full blocks, then admits its whole sequence (prompt + output) tail first. Measurement
starts once the conversations that hold 99% of the idle blocks have had time to reach their length
(long conversations hold most of the cache, so a shorter warm-up measures a cache that is still
filling) and stops at the end of the arrival window; the drain is never measured. Confidence intervals come from batch means.
With affinity routing, replicas are independent and alike, so one replica is simulated at its
share of the load; other routings simulate every replica at the whole load, each request sent
where the router says. Tiers below the GPU are simulated as LRUs of each level's cumulative size
fed the same requests (exact: see cache.TieredLRU); the GPU level is what running requests leave.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict
from dataclasses import dataclass

from .cache import BlockCache, TieredLRU, make_cache
from .evaluate import replica_capacity, replica_prediction
from .scenario import Scenario
from .workload import Traffic, build_traffic

MAX_TOUCHES = 10**8
MAX_ROUTED_REPLICAS = 256
DEFAULT_REQUESTS = 100_000
MIN_BATCHES, MAX_BATCHES = 5, 20
# Student t 97.5% quantiles by degrees of freedom (batches - 1)
T_975 = {4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179,
         13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093}


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


def plan_simulation(s: Scenario, requests: int | None = None, window_s: float | None = None) -> SimulationPlan:
    """Warm-up and measurement windows for a scenario; refuses runs over MAX_TOUCHES block touches."""
    w = s.workload
    b = s.cache.block_size
    traffic = build_traffic(w, b)
    cap = replica_capacity(s, traffic)
    if s.tiers and s.cache.policy != "lru":
        raise ValueError(f'cache.policy: "{s.cache.policy}" is not allowed with tiers; expected "lru" '
                         f"(tiers are simulated as LRU levels)")
    routed = s.cluster.routing != "affinity" and s.cluster.replicas > 1
    if routed and s.cluster.replicas > MAX_ROUTED_REPLICAS:
        raise ValueError(f"cluster.replicas: {s.cluster.replicas} is not allowed with routing "
                         f'"{s.cluster.routing}"; expected at most {MAX_ROUTED_REPLICAS} to simulate every replica')
    replicas = s.cluster.replicas if routed else 1
    rate = w.arrival_rate if routed else w.arrival_rate / s.cluster.replicas
    request_rate = rate * traffic.mean_turns
    if window_s is None:
        window_s = (requests or DEFAULT_REQUESTS) / request_rate
    long_turns = _turns_holding_most_blocks(traffic)
    spread = 0.0 if w.think_dist == "fixed" else 3.0 * math.sqrt(long_turns)
    # the prediction's T only sizes the warm-up
    t_char = replica_prediction(s, cap.levels[-1]).characteristic_time_s
    warmup = (long_turns + spread) * w.think_time_s + (3.0 * t_char if math.isfinite(t_char) else 0.0) + 10.0
    total_requests = request_rate * (warmup + window_s)
    blocks_per_request = sum(t.p_reach * (t.private_blocks + traffic.shared_blocks) for t in traffic.turns) / traffic.mean_turns
    # admits during warm-up; lookups and admits while measuring
    touches = request_rate * (warmup + 2.0 * window_s) * max(blocks_per_request, 1.0)
    if touches > MAX_TOUCHES:
        raise ValueError(
            f"simulation: about {touches:,.0f} block touches exceed the limit of {MAX_TOUCHES:,}; "
            f"ask for fewer requests or a shorter duration, or a larger cache.block_size")
    # Requests of one conversation, and the cache state, stay correlated for about a conversation's
    # life plus T: batches at least that long keep the interval honest.
    correlation_s = (traffic.mean_turns - 1.0) * w.think_time_s + (t_char if math.isfinite(t_char) else 0.0)
    batches = int(min(MAX_BATCHES, max(MIN_BATCHES, window_s // max(correlation_s, 1e-9))))
    return SimulationPlan(warmup, window_s, rate, cap.gpu_blocks, cap.levels, replicas, total_requests, touches,
                          batches)


def _turns_holding_most_blocks(traffic: Traffic, share: float = 0.99) -> int:
    """Turn index j* such that turns up to j* hold `share` of the blocks conversations keep idle."""
    weights = [t.p_reach * max(t.private_blocks, 1) for t in traffic.turns]
    total = sum(weights)
    acc = 0.0
    for j, wgt in enumerate(weights, start=1):
        acc += wgt
        if acc >= share * total:
            return j
    return len(weights)


class ConversationBlocks:
    """A request's blocks in the shared block engine: the system prompt's, then the conversation's own."""

    def __init__(self, cache: BlockCache | TieredLRU, shared: int):
        self.cache = cache
        self.capacity = cache.capacity
        self.shared = list(range(shared))

    def __len__(self) -> int:
        return len(self.cache)

    def _blocks(self, conv: int, count: int) -> list[int]:
        s = len(self.shared)
        base = conv << 32  # above every shared id
        return self.shared + list(range(base + s, base + count)) if count > s else self.shared[:count]

    def lookup(self, conv: int, reusable: int) -> int:
        """Leading cached blocks among the first `reusable` of the conversation's prompt."""
        return self.cache.cached_prefix(self._blocks(conv, reusable))

    def lookup_levels(self, conv: int, reusable: int) -> list[int]:
        """Leading cached blocks found within each level (GPU, GPU + next tier, ...): cumulative."""
        blocks = self._blocks(conv, reusable)
        if not isinstance(self.cache, TieredLRU):
            return [self.cache.cached_prefix(blocks)]
        counts = self.cache.prefix_by_tier(blocks)
        return [sum(counts[:i + 1]) for i in range(len(counts))]

    def admit(self, conv: int, full: int) -> None:
        self.cache.admit(self._blocks(conv, full))


class ConversationLRU:
    """LRU over whole runs of blocks: exact for this traffic, and O(1) per request.

    Every request touches the shared prompt and its conversation's blocks tail first, so after it
    the stack reads: shared blocks, then this conversation's head to tail, then the others in the
    order of their last turn, each still a head-first run (eviction only ever eats tails). The
    stack is therefore a list of (conversation, cached run length); evicting eats the oldest run's
    tail. tests/test_simulate.py checks it against the block engine, result for result.
    """

    def __init__(self, capacity: int, shared: int):
        self.capacity = capacity
        self.shared = shared
        self.room = max(0, capacity - shared)
        self.shared_cached = 0
        self.runs: OrderedDict = OrderedDict()  # conversation -> cached private blocks, oldest first
        self.private = 0

    def __len__(self) -> int:
        return self.shared_cached + self.private

    def lookup(self, conv: int, reusable: int) -> int:
        shared_hit = min(self.shared_cached, reusable)
        if shared_hit < self.shared:
            return shared_hit
        return shared_hit + min(self.runs.get(conv, 0), reusable - self.shared)

    def admit(self, conv: int, full: int) -> None:
        runs = self.runs
        self.shared_cached = min(self.shared, full, self.capacity)
        self.private -= runs.pop(conv, 0)
        count = min(max(full - self.shared, 0), self.room)
        if count:
            runs[conv] = count
            self.private += count
        excess = self.private - self.room
        while excess > 0:
            oldest, held = next(iter(runs.items()))
            if held <= excess:
                del runs[oldest]
                self.private -= held
                excess -= held
            else:
                runs[oldest] = held - excess
                self.private -= excess
                excess = 0


class NestedLRU:
    """One ConversationLRU per level (GPU, GPU + tiers below): by LRU inclusion, what a tiered cache finds."""

    def __init__(self, levels: tuple[int, ...], shared: int):
        self.levels = [ConversationLRU(c, shared) for c in levels]
        self.capacity = levels[0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def lookup_levels(self, conv: int, reusable: int) -> list[int]:
        return [level.lookup(conv, reusable) for level in self.levels]

    def admit(self, conv: int, full: int) -> None:
        for level in self.levels:
            level.admit(conv, full)


class Router:
    """Which replica serves each request: affinity keeps a conversation's replica, the others ignore it."""

    def __init__(self, routing: str, replicas: int, rng: random.Random, service_s=None):
        self.routing = routing
        self.replicas = replicas
        self.rng = rng
        self.service_s = service_s  # (prompt tokens, cached tokens) -> seconds in flight; least_loaded
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

    def served(self, replica: int, now: float, prompt: int, cached: int) -> None:
        if self.routing == "least_loaded" and self.service_s is not None:
            heapq.heappush(self.in_flight[replica], now + self.service_s(prompt, cached))


class Simulation:
    """A simulation that advances in steps, so a caller can report progress and cancel."""

    def __init__(self, s: Scenario, seed: int = 1, requests: int | None = None, window_s: float | None = None,
                 block_engine: bool = False):
        self.scenario = s
        self.seed = seed
        self.plan = plan_simulation(s, requests, window_s)
        self.traffic: Traffic = build_traffic(s.workload, s.cache.block_size)
        levels, shared = self.plan.levels, self.traffic.shared_blocks
        self.caches: list = []
        for _ in range(self.plan.replicas):
            if s.cache.policy == "lru" and not block_engine:
                self.caches.append(NestedLRU(levels, shared))
            elif len(levels) > 1:
                self.caches.append(ConversationBlocks(TieredLRU(_tier_sizes(levels, s.tiers_policy),
                                                                s.tiers_policy == "exclusive"), shared))
            else:
                self.caches.append(ConversationBlocks(make_cache(s.cache.policy, levels[0]), shared))
        self.rng = random.Random(seed)
        self.router = Router(s.cluster.routing, self.plan.replicas, random.Random(seed + 1), _service_time(s, self.traffic))
        self.end = self.plan.warmup_s + self.plan.window_s
        self.now = 0.0
        self.next_arrival = self.rng.expovariate(self.plan.replica_rate)
        self.events: list = []  # (time, conversation, turn, turns in total)
        self.conversations = 0
        self.touches = 0
        self.done = False
        # per batch: prompt tokens, hit tokens, requests, full hits, history blocks, history hits, fill,
        # then per level: hit tokens, full hits
        self.batches = [[0.0] * (7 + 2 * len(levels)) for _ in range(self.plan.batches)]
        w = s.workload
        self._turns_p = 1.0 / w.turns_mean

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

    def _turns(self) -> int:
        w = self.scenario.workload
        if w.turns_dist == "fixed" or self._turns_p >= 1.0:
            return int(w.turns_mean)
        # geometric on {1, 2, ...} by inversion
        u = 1.0 - self.rng.random()
        return 1 + int(math.log(u) / math.log1p(-self._turns_p))

    def _think(self) -> float:
        w = self.scenario.workload
        if w.think_dist == "fixed" or w.think_time_s == 0.0:
            return w.think_time_s
        return self.rng.expovariate(1.0 / w.think_time_s)

    def step(self, max_touches: int = 200_000) -> bool:
        """Advance by about `max_touches` block touches; True once the arrival window has ended."""
        w = self.scenario.workload
        b = self.scenario.cache.block_size
        s_tok, u, o = w.system_prompt_tokens, w.user_tokens, w.output_tokens
        s_blocks = self.traffic.shared_blocks
        caches, router = self.caches, self.router
        events = self.events
        warm, end = self.plan.warmup_s, self.end
        batches = self.plan.batches
        batch_len = self.plan.window_s / batches
        budget = self.touches + max_touches
        while not self.done and self.touches < budget:
            if self.next_arrival <= (events[0][0] if events else math.inf):
                now = self.next_arrival
                if now >= end:
                    self.done = True
                    break
                self.conversations += 1
                conv, turn, total = self.conversations, 1, self._turns()
                self.next_arrival = now + self.rng.expovariate(self.plan.replica_rate)
            else:
                now, conv, turn, total = heapq.heappop(events)
                if now >= end:
                    self.done = True
                    break
            self.now = now
            prompt = s_tok + (turn - 1) * (u + o) + u
            full = (s_tok + turn * (u + o)) // b
            replica = router.route(conv, now)
            cache = caches[replica]
            measured = now >= warm
            found = cache.lookup_levels(conv, (prompt - 1) // b) if measured or router.service_s else None
            hits = found[-1] if found else 0
            router.served(replica, now, prompt, found[0] * b if found else 0)
            cache.admit(conv, full)
            self.touches += hits + full
            if measured:
                history = (s_tok + (turn - 1) * (u + o)) // b
                row = self.batches[min(batches - 1, int((now - warm) / batch_len))]
                row[0] += prompt
                row[1] += hits * b
                row[2] += 1
                if turn > 1:
                    row[3] += hits >= history
                    row[4] += history - s_blocks
                    row[5] += max(0, min(hits, history) - s_blocks)
                    for k, got in enumerate(found):
                        row[8 + 2 * k] += got >= history
                row[6] += len(cache) / cache.capacity
                for k, got in enumerate(found):
                    row[7 + 2 * k] += got * b
            if turn < total:
                heapq.heappush(events, (now + self._think(), conv, turn + 1, total))
        return self.done

    def result(self) -> dict:
        """Measured metrics with 95% batch-means confidence half-widths."""
        rows = [r for r in self.batches if r[2] > 0]
        tot = [sum(r[i] for r in rows) for i in range(len(self.batches[0]))]
        if tot[2] == 0:
            raise ValueError("simulation: no request was measured; ask for more requests or a longer duration")
        token = tot[1] / tot[0]
        request = tot[3] / tot[2]
        s = self.scenario
        # under affinity one replica stands for all of them
        scale = s.cluster.replicas if self.plan.replicas == 1 else 1
        window = self.plan.window_s
        names = ["gpu"] + [t.name for t in s.tiers]
        level_tokens = [tot[7 + 2 * k] / tot[0] for k in range(len(names))]
        level_requests = [tot[8 + 2 * k] / tot[2] for k in range(len(names))]
        return {
            "token_hit_rate": token,
            "request_hit_rate": request,
            "token_hit_rate_ci": _half_width([r[1] / r[0] for r in rows]),
            "request_hit_rate_ci": _half_width([r[3] / r[2] for r in rows]),
            "tier_token_hit_rates": dict(zip(names, _steps(level_tokens))),
            "tier_request_hit_rates": dict(zip(names, _steps(level_requests))),
            "gpu_token_hit_rate_ci": _half_width([r[7] / r[0] for r in rows]),
            "follow_up_block_hit_rate": tot[5] / tot[4] if tot[4] else 1.0,
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


def _service_time(s: Scenario, traffic: Traffic):
    """Seconds a request stays in flight (prefill of what the GPU misses, then decode), or None."""
    if s.cluster.routing != "least_loaded":
        return None
    cap = replica_capacity(s, traffic)
    if cap.roof is None or cap.running is None:
        return None
    roof, decode = cap.roof, s.workload.output_tokens * cap.running.decode_step_s
    return lambda prompt, cached: roof.prefill_s(prompt - cached, cached) + decode


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
