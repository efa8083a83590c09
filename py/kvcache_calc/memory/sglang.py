"""SGLang's memory pool (v0.5.6.post2): KV tokens = (free memory at start x mem_fraction_static - weights) / cell.

python/sglang/srt/model_executor/model_runner.py:1363-1443 (profile_max_num_token): after loading,
rest = free now - free at start x (1 - mem_fraction_static), and the pool holds rest / cell tokens,
cell = KV heads per GPU x head_dim x layers x 2 x dtype bytes (MLA: (kv_lora_rank + rope) x layers,
plus the indexer keys of DeepSeek-V3.2). Page size 1: the radix cache matches token by token. The
share 1 - mem_fraction_static is what activations and CUDA graphs use later; SGLang's default for it
is in engine_versions.py. Models with sliding-window layers split the pool between a full and a
window pool with swa_full_tokens_ratio 0.8 (lines 1521-1598, server_args.py:300).
"""

from __future__ import annotations

from ..presets import gpu_arch, gpu_link
from ..scenario import HardwareSpec, ModelSpec
from ..units import GIB
from .budget import Budget, BudgetTerm
from .kv import layer_bytes_per_token
from .weights import weight_bytes_per_gpu

# Memory in use before the weights load, what "Load weight begin. avail mem=..." leaves of the total: the
# CUDA context, by GPU family (tests/data/memory_calibration/sglang*.json: H100 0.70, B200 0.78, MI300X 0.36,
# L4 at TP 4 0.41 GiB), and, across GPUs joined by NVLink or xGMI, the custom all-reduce buffers of tensor
# parallelism (1.0 GiB: Qwen3-235B-FP8 on 4 H100s, DeepSeek-R1 on 16 H20s).
CONTEXT_GIB = {"hopper": 0.70, "blackwell": 0.78, "cdna3": 0.36, "cdna4": 0.36, "ada": 0.41}
CONTEXT_DEFAULT_GIB = 0.6
TP_LINKED_GIB = 1.0
# At TP > 1 loading also leaves communicator buffers: "mem usage" exceeds the weights by 0.20-0.28 GiB on
# the three TP-4 logs that print it (QwQ-32B on L4, Qwen3-14B on RTX 4090, Qwen3-32B on RTX 5090).
TP_LOADING_GIB = 0.25
SWA_FULL_TOKENS_RATIO = 0.8


def start_free_gib(hw: HardwareSpec) -> float:
    """Free memory per GPU when SGLang starts loading (the "total" its formula scales)."""
    context = CONTEXT_GIB.get(gpu_arch(hw.gpu), CONTEXT_DEFAULT_GIB)
    if hw.tensor_parallel > 1 and gpu_link(hw.gpu) in ("nvlink", "xgmi"):
        context += TP_LINKED_GIB
    return hw.memory_gib - context


def cell_bytes(model: ModelSpec, hw: HardwareSpec) -> float:
    """Bytes of one token in the pool on one GPU (every attention layer of its pipeline stage)."""
    layers = model.num_layers - model.linear_attention_layers
    return layer_bytes_per_token(model, hw.tensor_parallel) * layers / (hw.num_gpus // hw.tensor_parallel)


def full_pool_share(model: ModelSpec) -> float:
    """Tokens of the full-attention pool per token of a pool that gave every layer the same size."""
    window = model.sliding_window_layers + model.chunked_local_layers
    if not window:
        return 1.0
    layers = model.num_layers - model.linear_attention_layers
    return layers / (SWA_FULL_TOKENS_RATIO * window + (layers - window))


def budget(model: ModelSpec, hw: HardwareSpec) -> Budget:
    """SGLang's pool on one GPU (kv_gib <= 0 when the static share leaves none)."""
    fraction = hw.mem_fraction_static  # parse_scenario fills SGLang's default for the GPU and release
    assert fraction is not None
    free = start_free_gib(hw)
    static = free * fraction
    weights = weight_bytes_per_gpu(model, hw.tensor_parallel, hw.num_gpus // hw.tensor_parallel, gpu_arch(hw.gpu)) / GIB
    loading = TP_LOADING_GIB if hw.tensor_parallel > 1 else 0.0
    kv = static - weights - loading
    dynamic = free - static
    terms = (
        BudgetTerm("weights", weights, True, "parameters by role x their bytes (memory/weights.py)"),
        *((BudgetTerm("non_torch", loading, True, "communicator buffers left by loading at tensor parallel > 1"),)
          if loading else ()),
        BudgetTerm("kv", max(0.0, kv), True, "free at start x mem_fraction_static - weights "
                   "(model_runner.py profile_max_num_token)"),
        BudgetTerm("dynamic", dynamic, False, "1 - mem_fraction_static of the free memory: activations and "
                   "CUDA graphs (server_args.py)"),
        BudgetTerm("context", hw.memory_gib - free, False, "CUDA context and communicators before loading"),
    )
    settings = (("--mem-fraction-static", fraction, "mem_fraction_static" in hw.engine_defaulted),
                ("--chunked-prefill-size", hw.max_num_batched_tokens, "max_num_batched_tokens" in hw.engine_defaulted),
                *((("--disable-cuda-graph", "", False),) if hw.cuda_graphs == "off" else ()))
    return Budget("sglang", hw.memory_gib, static, weights, loading, kv, terms, settings)


def no_cache_message(b: Budget, hw: HardwareSpec) -> str:
    """SGLang's refusal when the static share leaves no KV pool, with what to change."""
    return (f"hardware.mem_fraction_static: {hw.mem_fraction_static:g} leaves no KV pool: {b.weights_gib:.2f} GiB "
            f"of weights per GPU exceed the {b.usable_gib:.2f} GiB static share. SGLang says: \"Not enough memory. Please try to "
            f"increase --mem-fraction-static.\" Use more GPUs per replica (hardware.num_gpus), a larger GPU or a "
            f"quantized checkpoint")


def logged_tokens(model: ModelSpec, hw: HardwareSpec, kv_gib: float) -> int:
    """SGLang's "KV Cache is allocated. #tokens: N" (the full-attention pool of a window model)."""
    if kv_gib <= 0:
        return 0
    return int(int(kv_gib * GIB // cell_bytes(model, hw)) * full_pool_share(model))
