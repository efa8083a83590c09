"""Model + hardware -> the engine's memory budget per GPU -> KV cache tokens, as vLLM or SGLang count them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from ..scenario import HardwareSpec, ModelSpec
from ..units import GIB
from . import sglang, vllm
from .budget import Budget, BudgetTerm, InfeasibleMemory
from .kv import kv_bytes_per_token, vllm_layout
from .weights import weight_bytes_per_gpu


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU memory split of one replica and the cache capacity it yields."""

    kv_bytes_per_token: float          # whole replica, all layers, incl. replication under TP
    kv_bytes_per_token_per_gpu: float
    usable_gib_per_gpu: float          # what the engine's share lets weights, reserves and KV use
    weights_gib_per_gpu: float
    activation_reserve_gib_per_gpu: float   # activation peak + non-torch memory
    kv_gib_per_gpu: float
    capacity_tokens: int               # prefix the cache holds (window layers discounted)
    budget: Budget                     # the budget bar: every term with where it comes from
    logged_tokens: int                 # what the engine's log says: vLLM "GPU KV cache size", SGLang "#tokens"
    num_blocks: int
    max_model_len: int
    max_concurrency: float             # requests of max_model_len the cache holds at once, as vLLM logs it

    @property
    def engine(self) -> str:
        return self.budget.engine


def kv_bytes_per_token_per_gpu(model: ModelSpec, hw: HardwareSpec, context_tokens: float | None = None) -> float:
    """One GPU's share of a token's KV in a replica of `hw` (its KV heads and its pipeline stage's layers)."""
    return kv_bytes_per_token(model, hw.tensor_parallel, hw.num_gpus // hw.tensor_parallel, context_tokens)


def weights_gib(model: ModelSpec) -> float:
    """Total weight memory of the model (one copy, no replication)."""
    return weight_bytes_per_gpu(model, 1, 1) / GIB


def max_model_len(model: ModelSpec, hw: HardwareSpec) -> int:
    """The engine's max_model_len: the one set, else the checkpoint's longest context."""
    return hw.max_model_len or model.max_position_embeddings or 0


@lru_cache(maxsize=256)
def plan_memory(model: ModelSpec, hw: HardwareSpec, context_tokens: float | None = None,
                block_size: int = 16) -> MemoryPlan:
    """The per-GPU budget of `hw.engine` and the KV tokens it leaves; raises InfeasibleMemory as the engine refuses.

    Cached (the plan is immutable): the panel's traffic sweeps and swings keep the model and the GPU.
    """
    per_gpu = kv_bytes_per_token_per_gpu(model, hw, context_tokens)
    engine = sglang if hw.engine == "sglang" else vllm
    budget = engine.budget(model, hw)
    if budget.kv_gib <= 0.0:
        raise InfeasibleMemory(engine.no_cache_message(budget, hw), {**budget.to_json(), "refusal": "no_cache"})
    kv_bytes = budget.kv_gib * GIB
    length = max_model_len(model, hw)
    if hw.engine == "sglang":
        # page size 1; a window model's prefix lives in its full-attention pool
        logged = sglang.logged_tokens(model, hw, budget.kv_gib)
        capacity = logged
        blocks = logged // block_size
        concurrency = logged / length if length else 0.0
    else:
        layout = vllm_layout(model, hw)
        blocks = layout.num_blocks(kv_bytes, block_size)
        logged = layout.logged_tokens(kv_bytes, block_size)
        capacity = layout.prefix_tokens(kv_bytes, block_size, context_tokens)
        concurrency = vllm.check_max_model_len(model, hw, layout, budget, block_size, blocks)
    return MemoryPlan(per_gpu * hw.num_gpus, per_gpu, budget.usable_gib, budget.weights_gib,
                      budget.reserve_gib, budget.kv_gib, capacity, budget, logged, blocks, length, concurrency)


def memory_for_capacity_gib(model: ModelSpec, hw: HardwareSpec, capacity_tokens: float,
                            context_tokens: float | None = None) -> float:
    """Memory per GPU (as the driver reports it) needed to hold `capacity_tokens` of KV."""
    per_gpu = kv_bytes_per_token_per_gpu(model, hw, context_tokens)
    budget = (sglang if hw.engine == "sglang" else vllm).budget(model, hw)
    fixed = budget.weights_gib + budget.reserve_gib
    share = budget.usable_gib / hw.memory_gib
    return (capacity_tokens * per_gpu / GIB + fixed) / share


__all__ = ["MemoryPlan", "InfeasibleMemory", "BudgetTerm", "plan_memory", "memory_for_capacity_gib",
           "kv_bytes_per_token", "kv_bytes_per_token_per_gpu", "weights_gib", "max_model_len"]
