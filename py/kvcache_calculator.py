"""The original tool's Python API (KVCacheCalculator and its dataclasses), backed by kvcache_calc.

Field mapping onto the scenario JSON (docs/scenario.md, "Seed API"):
  ModelConfig.num_layers/num_kv_heads/head_dim/kvcache_dtype -> model.*; model_size_gb -> model.weights_gib
  SystemConfig.available_memory_gb -> hardware.memory_gib with gpu_memory_utilization 1.0 and an
      activation reserve of 0.2 x model_size_gb (the seed's 1.2x model-memory overhead)
  ConversationPattern.avg_conversation_length -> workload.turns_mean (geometric)
  conversation_arrival_rate -> workload.arrival_rate; within_conversation_interval -> think_time_s
  (exponential); avg_sequence_length -> workload.user_tokens (each turn adds that many tokens; no
  system prompt, no separate output). `hit_rate` is our request hit rate; the seed's own number is
  returned as `seed_formula_hit_rate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Dict

from kvcache_calc.evaluate import predict_scenario
from kvcache_calc.memory import kv_bytes_per_token
from kvcache_calc.scenario import ModelSpec, Scenario, parse_scenario
from kvcache_calc.sensitivity import solve_capacity
from kvcache_calc.units import GIB

RUNTIME_OVERHEAD = 0.2  # the seed reserved 1.2 x the model size

# scenario field -> (the seed's dataclass, its field): an error names what the seed's user typed
SEED_FIELDS = {
    "model.num_layers": ("ModelConfig", "num_layers"),
    "model.num_attention_heads": ("ModelConfig", "num_attention_heads"),
    "model.num_kv_heads": ("ModelConfig", "num_kv_heads"),
    "model.head_dim": ("ModelConfig", "head_dim"),
    "model.weight_dtype": ("ModelConfig", "model_dtype"),
    "model.kv_dtype": ("ModelConfig", "kvcache_dtype"),
    "model.weights_gib": ("ModelConfig", "model_size_gb"),
    "hardware.memory_gib": ("SystemConfig", "available_memory_gb"),
    "workload.turns_mean": ("ConversationPattern", "avg_conversation_length"),
    "workload.arrival_rate": ("ConversationPattern", "conversation_arrival_rate"),
    "workload.think_time_s": ("ConversationPattern", "within_conversation_interval"),
    "workload.user_tokens": ("ConversationPattern", "avg_sequence_length"),
}


def _latency_reduction(r: dict | None, token_hit_rate: float) -> float:
    """TTFT saved / TTFT without a cache, from the roofline when it is known."""
    if r and r.get("ttft_saved_s") is not None and r.get("ttft_no_cache_s"):
        return r["ttft_saved_s"] / r["ttft_no_cache_s"]
    return token_hit_rate


class ModelDtype(Enum):
    FP16 = "fp16"
    FP32 = "fp32"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"


class KVCacheDtype(Enum):
    FP16 = "fp16"
    FP32 = "fp32"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"


@dataclass
class ModelConfig:
    num_layers: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    model_dtype: ModelDtype
    kvcache_dtype: KVCacheDtype
    model_size_gb: float


@dataclass
class SystemConfig:
    available_memory_gb: float


@dataclass
class ConversationPattern:
    avg_conversation_length: float
    conversation_arrival_rate: float
    within_conversation_interval: float
    avg_sequence_length: int


def seed_scenario(model: ModelConfig, system: SystemConfig, conv: ConversationPattern) -> dict:
    """The scenario JSON the seed's three dataclasses describe."""
    return {
        "version": 1,
        "model": {"num_layers": model.num_layers, "num_attention_heads": model.num_attention_heads,
                  "num_kv_heads": model.num_kv_heads, "head_dim": model.head_dim,
                  "weight_dtype": model.model_dtype.value, "kv_dtype": model.kvcache_dtype.value,
                  "weights_gib": model.model_size_gb},
        "hardware": {"memory_gib": system.available_memory_gb, "gpu_memory_utilization": 1.0,
                     "activation_reserve_gib": RUNTIME_OVERHEAD * model.model_size_gb},
        "cache": {"block_size": 16},
        "workload": {"arrival_rate": conv.conversation_arrival_rate,
                     "turns_mean": conv.avg_conversation_length, "turns_dist": "geometric",
                     "think_time_s": conv.within_conversation_interval, "think_dist": "exponential",
                     "user_tokens": int(conv.avg_sequence_length), "output_tokens": 0,
                     "system_prompt_tokens": 0},
    }


# stand-ins where a call reads only some of the seed's inputs (any valid values will do)
ANY_SYSTEM = SystemConfig(available_memory_gb=80.0)
ANY_TRAFFIC = ConversationPattern(avg_conversation_length=1.0, conversation_arrival_rate=1.0,
                                  within_conversation_interval=0.0, avg_sequence_length=1)


def checked_scenario(model: ModelConfig, system: SystemConfig, conv: ConversationPattern) -> Scenario:
    """The seed's inputs parsed; a ValueError names the seed's own field and value, not the scenario's."""
    try:
        return parse_scenario(seed_scenario(model, system, conv))
    except ValueError as e:
        path, _, rest = str(e).partition(": ")
        if path not in SEED_FIELDS or " is not allowed" not in rest:
            raise
        cls, name = SEED_FIELDS[path]
        value = getattr({"ModelConfig": model, "SystemConfig": system, "ConversationPattern": conv}[cls], name)
        value = value.value if isinstance(value, Enum) else value
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        raise ValueError(f"{cls}.{name}: {shown}{rest[rest.index(' is not allowed'):]}") from None


def _kv_bytes_per_token(model: ModelConfig) -> int:
    """The seed's KV bytes per token (inputs already checked)."""
    spec = ModelSpec(num_layers=model.num_layers, num_kv_heads=model.num_kv_heads, head_dim=model.head_dim,
                     kv_dtype=model.kvcache_dtype.value)
    return int(kv_bytes_per_token(spec))


def _max_cached_tokens(model: ModelConfig, system: SystemConfig) -> int:
    """The seed's cache size: memory less 1.2 x the model, in tokens (inputs already checked)."""
    free = (system.available_memory_gb - (1 + RUNTIME_OVERHEAD) * model.model_size_gb) * GIB
    return int(free / _kv_bytes_per_token(model)) if free > 0 else 0


def _conversation_hit_rate(r: dict | None, conv_pattern: ConversationPattern) -> Dict[str, float]:
    """The seed's hit-rate dict from one prediction (None: the model does not fit)."""
    active = (conv_pattern.conversation_arrival_rate * conv_pattern.avg_conversation_length
              * conv_pattern.within_conversation_interval)
    if r is None:
        return {"hit_rate": 0.0, "token_hit_rate": 0.0, "seed_formula_hit_rate": 0.0,
                "avg_cached_conversations": 0.0, "cache_utilization": 0.0,
                "max_cached_tokens": 0, "active_conversations": active, "fits": False}
    return {
        "hit_rate": r["request_hit_rate"],
        "token_hit_rate": r["token_hit_rate"],
        "seed_formula_hit_rate": r["seed_formula_hit_rate"],
        "avg_cached_conversations": min(active, r["conversations_in_cache"]),
        "cache_utilization": r["cache_utilization"],
        "max_cached_tokens": r["cache_capacity_tokens"],
        "active_conversations": active,
        "fits": True,
    }


class KVCacheCalculator:
    """The seed's calculator; every number now comes from kvcache_calc's validated model."""

    def calculate_kvcache_memory_per_token(self, model_config: ModelConfig) -> int:
        checked_scenario(model_config, ANY_SYSTEM, ANY_TRAFFIC)
        return _kv_bytes_per_token(model_config)

    def calculate_derived_qps(self, conv_pattern: ConversationPattern) -> float:
        return conv_pattern.conversation_arrival_rate * conv_pattern.avg_conversation_length

    def calculate_max_cached_tokens(self, model_config: ModelConfig, system_config: SystemConfig) -> int:
        checked_scenario(model_config, system_config, ANY_TRAFFIC)
        return _max_cached_tokens(model_config, system_config)

    def _predict(self, model_config, system_config, conv_pattern) -> dict | None:
        # one parse, checked; the seed's results read no advice, so none is computed
        scenario = checked_scenario(model_config, system_config, conv_pattern)
        if _max_cached_tokens(model_config, system_config) <= 0:
            return None
        return predict_scenario(scenario)

    def calculate_conversation_hit_rate(self, model_config: ModelConfig, system_config: SystemConfig,
                                        conv_pattern: ConversationPattern) -> Dict[str, float]:
        return _conversation_hit_rate(self._predict(model_config, system_config, conv_pattern), conv_pattern)

    def calculate_detailed_metrics(self, model_config: ModelConfig, system_config: SystemConfig,
                                   conv_pattern: ConversationPattern) -> Dict[str, float]:
        r = self._predict(model_config, system_config, conv_pattern)  # one prediction serves every figure
        basic = _conversation_hit_rate(r, conv_pattern)
        per_token = _kv_bytes_per_token(model_config)
        qps = self.calculate_derived_qps(conv_pattern)
        tokens_per_s = r["prompt_tokens_per_s"] if r else qps * conv_pattern.avg_sequence_length
        return {
            **basic,
            "memory_per_token_bytes": per_token,
            "model_memory_gb": model_config.model_size_gb * (1 + RUNTIME_OVERHEAD),
            "cache_memory_gb": basic["max_cached_tokens"] * per_token / GIB,
            "derived_qps": qps,
            "tokens_per_second": tokens_per_s,
            "cache_hits_per_second": r["cached_tokens_per_s"] if r else 0.0,
            # Share of time-to-first-token the cache saves (roofline of the model's prefill); without
            # the model's size, the share of prefill tokens skipped.
            "estimated_latency_reduction": _latency_reduction(r, basic["token_hit_rate"]),
            "ideal_prefill_speedup": r["ideal_prefill_speedup"] if r else 1.0,
            "memory_efficiency": basic["cache_utilization"],
        }

    def optimize_memory_allocation(self, model_config: ModelConfig, system_config: SystemConfig,
                                   conv_pattern: ConversationPattern,
                                   target_hit_rate: float = 0.8) -> Dict[str, float]:
        current = self.calculate_conversation_hit_rate(model_config, system_config, conv_pattern)["hit_rate"]
        if current >= target_hit_rate:
            return {"recommended_memory_gb": system_config.available_memory_gb,
                    "current_hit_rate": current, "target_hit_rate": target_hit_rate,
                    "additional_memory_needed_gb": 0.0, "achievable": True}
        scenario = checked_scenario(model_config, system_config, conv_pattern)
        need = solve_capacity(scenario, target_hit_rate, "request_hit_rate")
        overhead = model_config.model_size_gb * (1 + RUNTIME_OVERHEAD)
        if not need["achievable"]:
            return {"recommended_memory_gb": None, "current_hit_rate": current,
                    "target_hit_rate": target_hit_rate, "additional_memory_needed_gb": None,
                    "achievable": False, "ceiling_hit_rate": need["ceiling"]}
        memory = need["capacity_tokens"] * self.calculate_kvcache_memory_per_token(model_config) / GIB + overhead
        return {"recommended_memory_gb": memory, "current_hit_rate": current,
                "target_hit_rate": target_hit_rate,
                "additional_memory_needed_gb": max(0.0, memory - system_config.available_memory_gb),
                "achievable": True}
