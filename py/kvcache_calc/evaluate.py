"""A validated scenario -> every predicted metric, as plain numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .analytic import LruModel, LruPrediction, ThinkTime
from .blind_routing import BlindRoutingModel
from .latency import Concurrency, Roofline, concurrency, roofline
from .memory import MemoryPlan, plan_memory
from .scenario import Scenario, WorkloadSpec, normalized
from .seed_formula import seed_hit_rate
from .units import GIB
from .workload import Traffic, build_traffic


def capacity_tokens(s: Scenario, traffic: Traffic) -> tuple[int, MemoryPlan | None]:
    """Cache capacity per replica in tokens, and the memory plan when the memory model sets it."""
    plan = None
    if s.model is not None and s.hardware is not None:
        context = traffic.mean_prompt_tokens
        plan = plan_memory(s.model, s.hardware, context_tokens=context)
    if s.cache.capacity_tokens is not None:
        return s.cache.capacity_tokens, plan
    assert plan is not None
    return plan.capacity_tokens, plan


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
    kv_bound: bool = False                 # the running requests' KV does not fit beside the system prompt

    @property
    def overloaded(self) -> bool:
        """A replica cannot keep up: decode saturates, or the requests it must run do not fit its KV."""
        return self.running is not None and (self.running.saturated or self.kv_bound)


def replica_capacity(s: Scenario, traffic: Traffic, what_if: bool = False) -> ReplicaCapacity:
    """Capacities of one replica's tiers, with the KV running requests pin taken out of the GPU's.

    An inclusive tier smaller than the one above is explained, not computed; at a `what_if` point (a
    sweep or a solve moving the GPU cache past it) it holds a subset of what is above and adds nothing.
    """
    b = s.cache.block_size
    total, plan = capacity_tokens(s, traffic)
    roof = roofline(s, plan)
    running = None
    pinned = 0
    kv_bound = False
    if roof is not None:
        running = _running(s, traffic, roof)
        # at least one block stays evictable beside the system prompt
        room = max(0, total // b - traffic.shared_blocks - 1)
        wanted = math.ceil(running.pinned_tokens / b)
        pinned, kv_bound = min(wanted, room), wanted > room
    gpu_blocks = max(1, total // b - pinned)
    kv_bytes = plan.kv_bytes_per_token if plan is not None else None
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
    return ReplicaCapacity(total, plan, roof, running, gpu_blocks, tuple(tier_tokens), tuple(levels), kv_bound)


def _size_text(tokens: int, kv_bytes: float | None) -> str:
    if kv_bytes is None:
        return f"{tokens:,} tokens"
    return f"{tokens:,} tokens ({tokens * kv_bytes / 1e9:,.1f} GB)"


def _running(s: Scenario, traffic: Traffic, roof: Roofline) -> Concurrency:
    assert s.hardware is not None
    prompt = traffic.mean_prompt_tokens
    prompt_s = roof.prefill_s_of_flops(roof.mean_prefill_flops(traffic.request_prompts))
    rate = traffic.request_rate / s.cluster.replicas
    return concurrency(roof, rate, prompt, prompt_s, s.workload.output_tokens, s.hardware.max_num_seqs)


@lru_cache(maxsize=256)
def lru_prediction(w: WorkloadSpec, block_size: int, blocks: int, rate: float) -> LruPrediction:
    """The model for one replica (cached: sweeps, swings and solves revisit the same points)."""
    traffic = build_traffic(w, block_size)
    return LruModel(traffic, blocks, rate, ThinkTime(w.think_dist, w.think_time_s)).predict()


@lru_cache(maxsize=256)
def blind_prediction(w: WorkloadSpec, block_size: int, blocks: int, rate: float, replicas: int) -> LruPrediction:
    """The model for one of `replicas` replicas that every conversation reaches (prefix-blind routing)."""
    traffic = build_traffic(w, block_size)
    return BlindRoutingModel(traffic, blocks, rate, ThinkTime(w.think_dist, w.think_time_s), replicas).predict()


def replica_prediction(s: Scenario, blocks: int) -> LruPrediction:
    """The closed form for one replica of `blocks` blocks under the scenario's routing."""
    w, b, n = s.workload, s.cache.block_size, s.cluster.replicas
    if s.cluster.routing == "affinity" or n == 1:
        return lru_prediction(w, b, blocks, w.arrival_rate / n)
    return blind_prediction(w, b, blocks, w.arrival_rate, n)


@dataclass(frozen=True)
class LevelHits:
    """Hit rates an LRU of one level's cumulative size gets (tiers up to that level together)."""

    token_hit_rate: float
    request_hit_rate: float
    follow_up_block_hit_rate: float
    characteristic_time_s: float   # how long an idle block stays within the tiers down to this level


def model_levels(s: Scenario, cap: ReplicaCapacity, ends_only: bool = False) -> list[LevelHits]:
    """The closed form at every level (or, `ends_only`, the GPU and all tiers together): LRUs of each
    level's cumulative size under the scenario's routing."""
    if s.cache.policy != "lru":
        raise ValueError(f'cache.policy: "{s.cache.policy}" has no closed form; expected "lru" to predict '
                         f"(simulate answers fifo and lfu)")
    out = []
    levels = cap.levels[:1] + cap.levels[-1:] if ends_only and len(cap.levels) > 2 else cap.levels
    for blocks in levels:
        p = replica_prediction(s, blocks)
        out.append(LevelHits(p.token_hit_rate, p.request_hit_rate, p.follow_up_block_hit_rate,
                             p.characteristic_time_s))
    return out


def hit_rates(s: Scenario, what_if: bool = False) -> dict:
    """The hit rates alone, as predict_scenario gives them (what sweeps, swings and solves need)."""
    w = s.workload
    traffic = build_traffic(w, s.cache.block_size)
    cap = replica_capacity(s, traffic, what_if)
    levels = model_levels(s, cap, ends_only=True)  # a middle tier changes neither figure
    return {"token_hit_rate": levels[-1].token_hit_rate, "request_hit_rate": levels[-1].request_hit_rate,
            "gpu_token_hit_rate": levels[0].token_hit_rate, "cache_capacity_tokens": cap.total_tokens,
            "seed_formula_hit_rate": _seed_formula(s, cap),
            "overloaded": cap.overloaded}


def _seed_formula(s: Scenario, cap: ReplicaCapacity) -> float:
    w = s.workload
    return seed_hit_rate(cap.total_tokens, w.arrival_rate / s.cluster.replicas, w.turns_mean, w.think_time_s,
                         w.user_tokens + w.output_tokens)


def predict_scenario(s: Scenario) -> dict:
    """The closed-form prediction for a scenario (see docs/model.md and docs/planning.md)."""
    w = s.workload
    b = s.cache.block_size
    traffic = build_traffic(w, b)
    cap = replica_capacity(s, traffic)
    plan = cap.plan
    levels = model_levels(s, cap)
    gpu = replica_prediction(s, cap.gpu_blocks)
    top = replica_prediction(s, cap.levels[-1])
    hits = levels[-1]
    idle, done = traffic.block_power_sums

    conv_rate = w.arrival_rate
    prompt_per_conv = top.prompt_tokens_per_conversation
    follow_ups = traffic.mean_turns - 1.0
    idle_blocks_mean = idle[1] / follow_ups if follow_ups > 0 else 0.0
    conversation_blocks = idle_blocks_mean or (done[1] or 1.0)
    occupancy = (gpu.occupancy_system_prompt, gpu.occupancy_live, gpu.occupancy_idle, gpu.occupancy_finished)
    kv_bpt = plan.kv_bytes_per_token if plan else None
    warnings = _warnings(s, traffic, cap, gpu.characteristic_time_s)
    tier_names = ["gpu"] + [t.name for t in s.tiers]
    token_by_tier = _differences([lv.token_hit_rate for lv in levels])
    request_by_tier = _differences([lv.request_hit_rate for lv in levels])
    pinned_tokens = cap.total_tokens - cap.gpu_blocks * b if cap.running is not None else 0
    result = {
        "token_hit_rate": hits.token_hit_rate,
        "request_hit_rate": hits.request_hit_rate,
        "tier_token_hit_rates": dict(zip(tier_names, token_by_tier)),
        "tier_request_hit_rates": dict(zip(tier_names, request_by_tier)),
        "ceiling_token_hit_rate": top.ceiling_token_hit_rate,
        "ceiling_request_hit_rate": top.ceiling_request_hit_rate,
        "seed_formula_hit_rate": _seed_formula(s, cap),
        "characteristic_time_s": gpu.characteristic_time_s if math.isfinite(gpu.characteristic_time_s) else None,
        "follow_up_block_hit_rate": hits.follow_up_block_hit_rate,
        "kv_bytes_per_token": kv_bpt,
        "cache_capacity_tokens": cap.total_tokens,
        "cache_capacity_blocks": cap.total_tokens // b,
        "cache_capacity_gib": cap.total_tokens * kv_bpt / GIB if kv_bpt else None,
        "pinned_tokens": pinned_tokens,
        "evictable_capacity_tokens": cap.gpu_blocks * b,
        "running_requests": cap.running.running if cap.running else None,
        "usable_gib_per_gpu": plan.usable_gib_per_gpu if plan else None,
        "weights_gib_per_gpu": plan.weights_gib_per_gpu if plan else None,
        "activation_reserve_gib_per_gpu": plan.activation_reserve_gib_per_gpu if plan else None,
        "kv_gib_per_gpu": plan.kv_gib_per_gpu if plan else None,
        "derived_qps": conv_rate * traffic.mean_turns,
        "prompt_tokens_per_s": conv_rate * prompt_per_conv,
        "cached_tokens_per_s": conv_rate * prompt_per_conv * hits.token_hit_rate,
        "ideal_prefill_speedup": 1.0 / max(1.0 - hits.token_hit_rate, 1e-9),
        "cache_utilization": min(1.0, sum(occupancy)),
        "occupancy_system_prompt": occupancy[0],
        "occupancy_live": occupancy[1],
        "occupancy_idle": occupancy[2],
        "occupancy_finished": occupancy[3],
        "concurrent_conversations": conv_rate * follow_ups * w.think_time_s,
        "conversations_in_cache": max(0.0, (cap.gpu_blocks - traffic.shared_blocks) / conversation_blocks) * s.cluster.replicas,
        "mean_turns": traffic.mean_turns,
        "mean_prompt_tokens": prompt_per_conv / traffic.mean_turns,
        "replicas": s.cluster.replicas,
        "routing": s.cluster.routing,
        "cluster_gpus": s.cluster.replicas * (s.hardware.num_gpus if s.hardware else 1),
        "tiers": _tier_rows(s, cap, levels, traffic),
        **latency_figures(s, traffic, cap, levels),
        "warnings": warnings,
        "scenario": normalized(s),
    }
    if (result["prefill_utilization"] or 0.0) >= 1.0:
        warnings.append({"code": "prefill_overloaded",
                         "message_en": f"Prefill alone needs {result['prefill_utilization']:.0%} of the cluster's "
                                       f"compute at latency.mfu: requests queue. Add GPUs or replicas.",
                         "message_zh": f"仅预填充就需要集群 {result['prefill_utilization']:.0%} 的算力（按 latency.mfu）："
                                       f"请求会排队。请增加 GPU 或副本。"})
    return result


def _differences(cumulative: list[float]) -> list[float]:
    return [max(0.0, v - (cumulative[i - 1] if i else 0.0)) for i, v in enumerate(cumulative)]


def _tier_rows(s: Scenario, cap: ReplicaCapacity, levels: list[LevelHits], traffic: Traffic) -> list[dict]:
    """GPU first: size, hit rates, how long an idle block stays, and whether loading a hit beats recomputing it."""
    token_by_tier = _differences([lv.token_hit_rate for lv in levels])
    request_by_tier = _differences([lv.request_hit_rate for lv in levels])
    kv_bytes = cap.plan.kv_bytes_per_token if cap.plan else None
    context = traffic.mean_prompt_tokens
    recompute = cap.roof.recompute_s_per_token(context) if cap.roof else None
    rows = [{"name": "gpu", "capacity_tokens": cap.total_tokens, "read_gb_per_s": None,
             "load_s_per_token": 0.0 if cap.roof else None, "recompute_s_per_token": recompute, "load_pays": True}]
    for tier, tokens in zip(s.tiers, cap.tier_tokens):
        load = cap.roof.load_s_per_token(tier.read_gb_per_s) if cap.roof else None
        rows.append({"name": tier.name, "capacity_tokens": tokens, "read_gb_per_s": tier.read_gb_per_s,
                     "load_s_per_token": load, "recompute_s_per_token": recompute,
                     "load_pays": load is None or recompute is None or load < recompute})
    for row, token, request, level in zip(rows, token_by_tier, request_by_tier, levels):
        # what idle prefixes can use: the GPU's capacity less what running requests pin
        row["evictable_capacity_tokens"] = row["capacity_tokens"] if row["name"] != "gpu" else cap.gpu_blocks * s.cache.block_size
        row["capacity_gb"] = row["capacity_tokens"] * kv_bytes / 1e9 if kv_bytes else None
        row["token_hit_rate"] = token
        row["request_hit_rate"] = request
        t_char = level.characteristic_time_s
        row["characteristic_time_s"] = t_char if math.isfinite(t_char) else None
    return rows


def _turn_hits(traffic: Traffic, level: LevelHits) -> list[float]:
    """Expected cached tokens of each turn's prompt at one level: the system prompt, then the
    follow-up block hit rate of the history, scaled so the turns sum to the level's token hit rate."""
    b = traffic.block_size
    shared = traffic.shared_blocks * b
    raw = []
    for t in traffic.turns:
        reusable = (t.prompt_tokens - 1) // b * b
        history = reusable - shared if t.index > 1 else 0
        raw.append(min(shared, reusable) + level.follow_up_block_hit_rate * max(0, history))
    got = sum(t.p_reach * h for t, h in zip(traffic.turns, raw))
    want = level.token_hit_rate * traffic.prompt_tokens_per_conversation()
    scale = want / got if got > 0 else 0.0
    return [h * scale for h in raw]


def latency_figures(s: Scenario, traffic: Traffic, cap: ReplicaCapacity, levels: list[LevelHits]) -> dict:
    """Mean TTFT with and without the cache, prefill GPUs and what the hits save (None without a roofline)."""
    keys = ("ttft_no_cache_s", "ttft_s", "ttft_saved_s", "prefill_gpus_no_cache", "prefill_gpus", "gpus_saved",
            "money_saved_per_day", "decode_step_s", "prefill_utilization_no_cache", "prefill_utilization",
            "decode_utilization")
    roof = cap.roof
    if roof is None or cap.running is None:
        return dict.fromkeys(keys)
    context = traffic.mean_prompt_tokens
    recompute = roof.recompute_s_per_token(context)
    loads = [0.0] + [roof.load_s_per_token(t.read_gb_per_s) for t in s.tiers]
    per_level = [_turn_hits(traffic, lv) for lv in levels]
    useful = [k for k, load in enumerate(loads) if load < recompute]  # slower loads are recomputed instead
    flops0 = roof.mean_prefill_flops(traffic.request_prompts)
    flops1 = load_s = 0.0
    for j, (wt, p) in enumerate(traffic.request_prompts):
        used = 0.0
        for k in useful:
            got = per_level[k][j] - (per_level[k - 1][j] if k else 0.0)
            used += got
            load_s += wt * got * loads[k]
        flops1 += wt * roof.prefill_flops(p - used, used)
    ttft0, ttft1 = roof.prefill_s_of_flops(flops0), roof.prefill_s_of_flops(flops1) + load_s
    gpu0, gpu1 = flops0 / roof.flops_per_gpu, flops1 / roof.flops_per_gpu
    qps = traffic.request_rate
    saved = qps * (gpu0 - gpu1)
    price = s.latency.price_per_gpu_hour
    gpus = s.cluster.replicas * s.hardware.num_gpus if s.hardware else 1
    return dict(zip(keys, (ttft0, ttft1, ttft0 - ttft1, qps * gpu0, qps * gpu1, saved,
                           saved * 24.0 * price if price is not None else None, cap.running.decode_step_s,
                           qps * gpu0 / gpus, qps * gpu1 / gpus, cap.running.decode_utilization)))


def _warnings(s: Scenario, traffic: Traffic, cap: ReplicaCapacity, t_char: float) -> list[dict]:
    out = []
    blocks = cap.gpu_blocks
    run = cap.running
    if cap.overloaded:
        out.append({"code": "replica_overloaded",
                    "message_en": f"Each replica cannot keep up (decode needs {run.decode_utilization:.0%} of the "
                                  f"memory bandwidth, more than hardware.max_num_seqs requests run, or their KV does "
                                  f"not fit the cache): requests queue and the cache is mostly pinned. Add replicas.",
                    "message_zh": f"每个副本处理不过来（解码需要 {run.decode_utilization:.0%} 的显存带宽、并发超过 "
                                  f"hardware.max_num_seqs，或其 KV 放不进缓存）：请求会排队，缓存大多被占住。请增加副本。"})
    if run is not None and cap.total_tokens and run.pinned_tokens > 0.5 * cap.total_tokens:
        out.append({"code": "running_requests_pin_cache",
                    "message_en": "Running requests pin more than half of the GPU cache; little is left to keep idle conversations.",
                    "message_zh": "运行中的请求占住了超过一半的 GPU 缓存；留给空闲会话的空间很少。"})
    if cap.roof is not None and s.tiers:
        context = traffic.mean_prompt_tokens
        recompute = cap.roof.recompute_s_per_token(context)
        for tier in s.tiers:
            if cap.roof.load_s_per_token(tier.read_gb_per_s) >= recompute:
                out.append({"code": "tier_slower_than_recompute",
                            "message_en": f"Loading from tier {tier.name} is slower than recomputing: its hits count in the hit rate but save no time.",
                            "message_zh": f"从 {tier.name} 层加载比重新计算还慢：其命中计入命中率，但不节省时间。"})
    if traffic.shared_blocks >= blocks:
        out.append({"code": "system_prompt_exceeds_cache",
                    "message_en": "The shared system prompt alone fills the cache: conversations cannot keep any history.",
                    "message_zh": "仅共享系统提示就占满了缓存：会话无法保留任何历史。"})
    longest = traffic.turns[-1].private_blocks + traffic.shared_blocks if traffic.turns else 0
    if cap.levels[-1] < longest and traffic.turns[-1].p_reach > 1e-3:
        out.append({"code": "conversation_exceeds_cache",
                    "message_en": "Some conversations grow larger than the whole cache; their early turns cannot stay cached.",
                    "message_zh": "部分会话的长度超过整个缓存；它们的早期轮次无法保留在缓存中。"})
    if not math.isfinite(t_char):
        out.append({"code": "cache_never_full",
                    "message_en": "The cache never fills: every reusable prefix stays cached (hit rates equal the ceiling).",
                    "message_zh": "缓存永远不会被填满：所有可复用前缀都会保留（命中率等于上限）。"})
    return out
