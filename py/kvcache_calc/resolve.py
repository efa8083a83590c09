"""A validated scenario resolved once: its traffic, memory plan, roofline and each replica's cache levels.

Everything downstream (the prediction, sweeps, the advisor, the simulator) starts from this object
instead of rebuilding the traffic and the capacity for each figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .latency import Concurrency, Roofline, concurrency, no_cache_prefill_flops, roofline
from .memory import InfeasibleMemory, MemoryPlan, kv_bytes_per_token_per_gpu, plan_memory
from .scenario import Scenario
from .traffic.resolved import Traffic, build_traffic


@dataclass(frozen=True)
class ReplicaCapacity:
    """One replica's cache: GPU capacity, what running requests pin, the tiers below."""

    total_tokens: int                      # GPU KV capacity
    plan: MemoryPlan | None
    roof: Roofline | None
    running: Concurrency | None
    gpu_blocks: int                        # evictable GPU blocks (capacity less pinned)
    tier_tokens: tuple[int, ...]           # each tier's own size
    levels: tuple[int, ...]                # GPU first: an LRU of this many blocks hits what tiers up to here hit
    kv_bound: bool = False                 # the running requests' KV does not fit beside the shared prefix
    unfit: str | None = None               # capacity given, but the model does not fit the GPU: why

    @property
    def overloaded(self) -> bool:
        """A replica cannot keep up: decode saturates, or the requests it must run do not fit its KV."""
        return self.running is not None and (self.running.saturated or self.kv_bound)


@dataclass(frozen=True)
class Resolved:
    """A scenario with its traffic (at the cache's block size) and one replica's capacity."""

    scenario: Scenario
    traffic: Traffic
    capacity: ReplicaCapacity

    @property
    def replica_rate(self) -> float:
        """Conversations per second one replica's model sees: a share under affinity, all otherwise."""
        s = self.scenario
        if s.cluster.routing == "affinity" or s.cluster.replicas == 1:
            return self.traffic.arrival_rate / s.cluster.replicas
        return self.traffic.arrival_rate


def traffic_of(s: Scenario) -> Traffic:
    """The scenario's traffic at its block size and admission rule."""
    assert s.traffic is not None
    return build_traffic(s.traffic, s.cache.block_size, s.cache.admission)


def resolve(s: Scenario, what_if: bool = False) -> Resolved:
    """The scenario's traffic and capacity (`what_if`: a sweep or solve point, see replica_capacity)."""
    traffic = traffic_of(s)
    return Resolved(s, traffic, replica_capacity(s, traffic, what_if))


def memory_plan(s: Scenario, context_tokens: float | None) -> tuple[MemoryPlan | None, str | None]:
    """The memory plan (None without a model and GPU), or, when a given cache size makes it optional and
    the model does not fit, None and why; a model that does not fit without a given size raises.

    A given capacity overrides the memory model: a model that does not fit the (perhaps default) GPU
    then only loses the figures that need the plan (latency, GPUs), not the hit rate.
    """
    if s.model is None or s.hardware is None:
        return None, None
    try:
        return plan_memory(s.model, s.hardware, context_tokens, s.cache.block_size), None
    except InfeasibleMemory as e:
        if s.cache.capacity_tokens is None:
            raise
        return None, str(e)


def capacity_tokens(s: Scenario, traffic: Traffic) -> tuple[int, MemoryPlan | None, str | None]:
    """Cache capacity per replica in tokens, the memory plan when there is one, and why there is none."""
    plan, unfit = memory_plan(s, traffic.mean_prompt_tokens)
    if s.cache.capacity_tokens is not None:
        return s.cache.capacity_tokens, plan, unfit
    assert plan is not None
    return plan.capacity_tokens, plan, None


def replica_capacity(s: Scenario, traffic: Traffic, what_if: bool = False) -> ReplicaCapacity:
    """Capacities of one replica's tiers, with the KV running requests pin taken out of the GPU's.

    An inclusive tier smaller than the one above is explained, not computed; at a `what_if` point (a
    sweep or a solve moving the GPU cache past it) it holds a subset of what is above and adds nothing.
    """
    b = s.cache.block_size
    total, plan, unfit = capacity_tokens(s, traffic)
    roof = roofline(s, plan)
    running = None
    pinned = 0
    kv_bound = False
    if roof is not None:
        running = _running(s, traffic, roof)
        # at least one block stays evictable beside the shared prefix every request uses
        room = max(0, total // b - traffic.hot_shared_blocks - 1)
        wanted = math.ceil(running.pinned_tokens / b)
        pinned, kv_bound = min(wanted, room), wanted > room
    gpu_blocks = max(1, total // b - pinned)
    kv_bytes = plan.kv_bytes_per_token if plan is not None else None
    if kv_bytes is None and unfit is not None:
        # no plan because the weights do not fit: a token's KV still has its size for the tiers
        kv_bytes = s.hardware.num_gpus * kv_bytes_per_token_per_gpu(s.model, s.hardware, traffic.mean_prompt_tokens)
    tier_tokens = []
    levels = [gpu_blocks]
    above = total
    for i, tier in enumerate(s.tiers):
        if tier.capacity_tokens is not None:
            tokens = tier.capacity_tokens
        else:
            assert kv_bytes is not None and tier.capacity_gb is not None
            tokens = int(tier.capacity_gb * 1e9 // kv_bytes)
        key = "capacity_tokens" if tier.capacity_tokens is not None else "capacity_gb"
        if tokens < b:
            raise ValueError(f"tiers.{i}.{key}: {getattr(tier, key)!r} is not allowed; expected at least one "
                             f"block ({b} tokens) of KV")
        if s.tiers_policy == "inclusive":
            if tokens < above and not what_if:
                raise ValueError(
                    f"tiers.{i}.{key}: {getattr(tier, key)!r} is not allowed; an inclusive tier keeps a copy "
                    f"of everything above it, so it needs at least {_size_text(above, kv_bytes)} per replica")
            levels.append(max(levels[-1], tokens // b))
            above = max(above, tokens)
        else:
            levels.append(levels[-1] + tokens // b)
        tier_tokens.append(tokens)
    return ReplicaCapacity(total, plan, roof, running, gpu_blocks, tuple(tier_tokens), tuple(levels), kv_bound,
                           unfit)


def _size_text(tokens: int, kv_bytes: float | None) -> str:
    if kv_bytes is None:
        return f"{tokens:,} tokens"
    return f"{tokens:,} tokens ({tokens * kv_bytes / 1e9:,.1f} GB)"


def _running(s: Scenario, traffic: Traffic, roof: Roofline) -> Concurrency:
    assert s.hardware is not None
    prompt_s = roof.prefill_s_of_flops(no_cache_prefill_flops(roof, traffic))
    rate = traffic.request_rate / s.cluster.replicas
    return concurrency(roof, rate, traffic.mean_prompt_tokens, prompt_s, traffic.mean_output_tokens,
                       s.hardware.max_num_seqs)
