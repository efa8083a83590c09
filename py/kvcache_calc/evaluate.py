"""A validated scenario -> every predicted metric, as plain numbers."""

from __future__ import annotations

import math
from functools import lru_cache

from .analytic import LruModel, LruPrediction, ThinkTime
from .memory import MemoryPlan, plan_memory
from .scenario import Scenario, WorkloadSpec, normalized
from .seed_formula import seed_hit_rate
from .units import GIB
from .workload import Traffic, build_traffic


def capacity_tokens(s: Scenario, traffic: Traffic) -> tuple[int, MemoryPlan | None]:
    """Cache capacity per replica in tokens, and the memory plan when the memory model sets it."""
    plan = None
    if s.model is not None and s.hardware is not None:
        context = traffic.prompt_tokens_per_conversation() / traffic.mean_turns
        plan = plan_memory(s.model, s.hardware, context_tokens=context)
    if s.cache.capacity_tokens is not None:
        return s.cache.capacity_tokens, plan
    assert plan is not None
    return plan.capacity_tokens, plan


@lru_cache(maxsize=256)
def lru_prediction(w: WorkloadSpec, block_size: int, blocks: int, rate: float) -> LruPrediction:
    """The model for one replica (cached: sweeps, swings and solves revisit the same points)."""
    traffic = build_traffic(w, block_size)
    return LruModel(traffic, blocks, rate, ThinkTime(w.think_dist, w.think_time_s)).predict()


def predict_scenario(s: Scenario) -> dict:
    """The closed-form prediction for a scenario (see docs/model.md)."""
    if s.cache.policy != "lru":
        raise ValueError(f'cache.policy: "{s.cache.policy}" has no closed form; expected "lru" to predict '
                         f"(simulate answers fifo and lfu)")
    w = s.workload
    b = s.cache.block_size
    traffic = build_traffic(w, b)
    cap_tokens, plan = capacity_tokens(s, traffic)
    blocks = cap_tokens // b
    per_replica_rate = w.arrival_rate / s.cluster.replicas
    p = lru_prediction(w, b, blocks, per_replica_rate)
    idle, done = traffic.block_power_sums

    conv_rate = w.arrival_rate
    prompt_per_s = conv_rate * p.prompt_tokens_per_conversation
    cached_per_s = conv_rate * p.hit_tokens_per_conversation
    follow_ups = traffic.mean_turns - 1.0
    idle_blocks_mean = idle[1] / follow_ups if follow_ups > 0 else 0.0
    conversation_blocks = idle_blocks_mean or (done[1] or 1.0)
    occupancy = (p.occupancy_system_prompt, p.occupancy_live, p.occupancy_idle, p.occupancy_finished)
    kv_bpt = plan.kv_bytes_per_token if plan else None
    warnings = _warnings(s, traffic, blocks, p.characteristic_time_s)
    result = {
        "token_hit_rate": p.token_hit_rate,
        "request_hit_rate": p.request_hit_rate,
        "ceiling_token_hit_rate": p.ceiling_token_hit_rate,
        "ceiling_request_hit_rate": p.ceiling_request_hit_rate,
        "seed_formula_hit_rate": seed_hit_rate(cap_tokens, per_replica_rate, w.turns_mean,
                                               w.think_time_s, w.user_tokens + w.output_tokens),
        "characteristic_time_s": p.characteristic_time_s if math.isfinite(p.characteristic_time_s) else None,
        "follow_up_block_hit_rate": p.follow_up_block_hit_rate,
        "kv_bytes_per_token": kv_bpt,
        "cache_capacity_tokens": cap_tokens,
        "cache_capacity_blocks": blocks,
        "cache_capacity_gib": cap_tokens * kv_bpt / GIB if kv_bpt else None,
        "usable_gib_per_gpu": plan.usable_gib_per_gpu if plan else None,
        "weights_gib_per_gpu": plan.weights_gib_per_gpu if plan else None,
        "activation_reserve_gib_per_gpu": plan.activation_reserve_gib_per_gpu if plan else None,
        "kv_gib_per_gpu": plan.kv_gib_per_gpu if plan else None,
        "derived_qps": conv_rate * traffic.mean_turns,
        "prompt_tokens_per_s": prompt_per_s,
        "cached_tokens_per_s": cached_per_s,
        "ideal_prefill_speedup": 1.0 / max(1.0 - p.token_hit_rate, 1e-9),
        "cache_utilization": min(1.0, sum(occupancy)),
        "occupancy_system_prompt": occupancy[0],
        "occupancy_live": occupancy[1],
        "occupancy_idle": occupancy[2],
        "occupancy_finished": occupancy[3],
        "concurrent_conversations": conv_rate * follow_ups * w.think_time_s,
        "conversations_in_cache": max(0.0, (blocks - traffic.shared_blocks) / conversation_blocks) * s.cluster.replicas,
        "mean_turns": traffic.mean_turns,
        "mean_prompt_tokens": p.prompt_tokens_per_conversation / traffic.mean_turns,
        "replicas": s.cluster.replicas,
        "warnings": warnings,
        "scenario": normalized(s),
    }
    return result


def _warnings(s: Scenario, traffic: Traffic, blocks: int, t_char: float) -> list[dict]:
    out = []
    if traffic.shared_blocks >= blocks:
        out.append({"code": "system_prompt_exceeds_cache",
                    "message_en": "The shared system prompt alone fills the cache: conversations cannot keep any history.",
                    "message_zh": "仅共享系统提示就占满了缓存：会话无法保留任何历史。"})
    longest = traffic.turns[-1].private_blocks + traffic.shared_blocks if traffic.turns else 0
    if blocks < longest and traffic.turns[-1].p_reach > 1e-3:
        out.append({"code": "conversation_exceeds_cache",
                    "message_en": "Some conversations grow larger than the whole cache; their early turns cannot stay cached.",
                    "message_zh": "部分会话的长度超过整个缓存；它们的早期轮次无法保留在缓存中。"})
    if not math.isfinite(t_char):
        out.append({"code": "cache_never_full",
                    "message_en": "The cache never fills: every reusable prefix stays cached (hit rates equal the ceiling).",
                    "message_zh": "缓存永远不会被填满：所有可复用前缀都会保留（命中率等于上限）。"})
    return out
