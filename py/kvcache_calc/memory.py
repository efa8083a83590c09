"""Model + hardware -> KV bytes per token -> vLLM's KV budget -> cache capacity in tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .scenario import HardwareSpec, ModelSpec
from .units import DTYPE_BYTES, GIB

# vLLM's profiling run keeps the logits of a whole max_num_batched_tokens batch in fp32 and the
# MLP's gate/up activations in bf16; CUDA context, NCCL and allocator slack add about 0.5 GiB.
# With Llama-3.1-8B on an H100 this gives 4.85 GiB (vLLM measured 4.76 activation + 0.13 non-torch).
LOGIT_BYTES = 4.0
MLP_ACTIVATION_BYTES = 4.0  # 2 tensors (gate, up) x 2 bytes per element
FIXED_OVERHEAD_GIB = 0.5
FALLBACK_VOCAB = 128_000


class InfeasibleMemory(ValueError):
    """The weights and reserves leave no memory for the KV cache."""


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU memory split of one replica and the cache capacity it yields."""

    kv_bytes_per_token: float          # whole replica, all layers, incl. replication under TP
    kv_bytes_per_token_per_gpu: float
    usable_gib_per_gpu: float          # memory x gpu_memory_utilization
    weights_gib_per_gpu: float
    activation_reserve_gib_per_gpu: float
    kv_gib_per_gpu: float
    capacity_tokens: int


def _layer_bytes_per_token(model: ModelSpec, kv_heads: int) -> float:
    dtype = DTYPE_BYTES[model.kv_dtype]
    if model.attention == "mla":
        return (model.kv_lora_rank + model.qk_rope_head_dim) * dtype
    return 2.0 * kv_heads * model.head_dim * dtype


def kv_heads_per_gpu(model: ModelSpec, tensor_parallel: int) -> int:
    """KV heads each GPU stores: split across TP ranks, replicated when there are fewer than ranks."""
    if model.attention == "mla":
        return 1
    return max(1, model.num_kv_heads // tensor_parallel)


def kv_bytes_per_token(model: ModelSpec, tensor_parallel: int = 1, pipeline_parallel: int = 1,
                       context_tokens: float | None = None) -> float:
    """KV bytes one token costs on one GPU.

    Sliding-window layers hold at most `sliding_window` tokens per request, so over a cached
    sequence of `context_tokens` they cost window/context of a full layer per token; without a
    context they count in full. Linear-attention layers keep a per-request state, not per-token KV.
    """
    per_layer = _layer_bytes_per_token(model, kv_heads_per_gpu(model, tensor_parallel))
    full_layers = model.num_layers - model.sliding_window_layers - model.linear_attention_layers
    window_share = 1.0
    if model.sliding_window_layers and context_tokens and context_tokens > model.sliding_window:
        window_share = model.sliding_window / context_tokens
    layers = full_layers + model.sliding_window_layers * window_share
    return per_layer * layers / pipeline_parallel


def weights_gib(model: ModelSpec) -> float:
    """Total weight memory of the model."""
    if model.weights_gib is not None:
        return model.weights_gib
    assert model.params_b is not None
    return model.params_b * 1e9 * DTYPE_BYTES[model.weight_dtype] / GIB


def activation_reserve_gib(model: ModelSpec, hw: HardwareSpec) -> float:
    """vLLM's profiled activation peak plus non-torch memory, per GPU."""
    if hw.activation_reserve_gib is not None:
        return hw.activation_reserve_gib
    hidden = model.hidden_size or (model.num_attention_heads or model.num_kv_heads) * model.head_dim
    inter = model.intermediate_size or 4 * hidden
    vocab = model.vocab_size or FALLBACK_VOCAB
    per_token = LOGIT_BYTES * vocab + MLP_ACTIVATION_BYTES * inter / hw.tensor_parallel
    return hw.max_num_batched_tokens * per_token / GIB + FIXED_OVERHEAD_GIB


def kv_bytes_per_token_per_gpu(model: ModelSpec, hw: HardwareSpec, context_tokens: float | None = None) -> float:
    """One GPU's share of a token's KV in a replica of `hw` (its KV heads and its pipeline stage's layers)."""
    return kv_bytes_per_token(model, hw.tensor_parallel, hw.num_gpus // hw.tensor_parallel, context_tokens)


def plan_memory(model: ModelSpec, hw: HardwareSpec, context_tokens: float | None = None) -> MemoryPlan:
    """The per-GPU budget: memory x utilisation - weights - activation reserve -> KV tokens."""
    per_gpu = kv_bytes_per_token_per_gpu(model, hw, context_tokens)
    usable = hw.memory_gib * hw.gpu_memory_utilization
    weights = weights_gib(model) / hw.num_gpus
    reserve = activation_reserve_gib(model, hw)
    kv = usable - weights - reserve
    if kv <= 0.0:
        raise InfeasibleMemory(
            f"hardware: the model does not fit: {weights:.2f} GiB of weights + {reserve:.2f} GiB "
            f"activation reserve per GPU exceed the {usable:.2f} GiB vLLM may use "
            f"({hw.memory_gib:g} GiB x {hw.gpu_memory_utilization:g}); use more GPUs per replica "
            f"(hardware.num_gpus), a larger GPU, or a smaller weight dtype")
    capacity = int(math.floor(kv * GIB / per_gpu)) if per_gpu > 0 else 0
    return MemoryPlan(per_gpu * hw.num_gpus, per_gpu, usable, weights, reserve, kv, capacity)


def memory_for_capacity_gib(model: ModelSpec, hw: HardwareSpec, capacity_tokens: float,
                            context_tokens: float | None = None) -> float:
    """Memory per GPU (as the driver reports it) needed to hold `capacity_tokens` of KV."""
    pipeline = hw.num_gpus // hw.tensor_parallel
    per_gpu = kv_bytes_per_token(model, hw.tensor_parallel, pipeline, context_tokens)
    need = capacity_tokens * per_gpu / GIB + weights_gib(model) / hw.num_gpus + activation_reserve_gib(model, hw)
    return need / hw.gpu_memory_utilization
