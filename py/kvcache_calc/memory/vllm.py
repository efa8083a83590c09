"""vLLM's memory profile: KV = total x utilisation - weights - activation peak - non-torch (- CUDA graphs).

V1 (0.9.1 to 0.19, vllm/v1/worker/gpu_worker.py determine_available_memory): the profile run is one
forward pass of max_num_batched_tokens tokens, attention skipped, then the sampler on
min(max_num_seqs, tokens) rows, the last token of each dummy request (gpu_model_runner.py profile_run,
_dummy_run, _dummy_sampler_run). The KV cache gets requested memory (total x gpu_memory_utilization)
minus the weights, the torch peak increase of that run and the non-torch increase (NCCL, cuBLAS and
allocator buffers). CUDA graphs are captured after the KV cache is allocated: their memory comes from the
share gpu_memory_utilization leaves out, until 0.20 estimates them in the profile and takes them from the
KV budget. 0.8.0-0.9.0 counted every non-torch byte on the device, the CUDA context included. V0 (before
0.8.0) profiles max_num_seqs prompts filling max_num_batched_tokens, attention included, and samples
max_num_seqs rows in fp32. engine_versions.py says which release does what.
"""

from __future__ import annotations

import math

from ..engine_versions import VllmRelease, vllm_release
from ..presets import gpu_arch, gpu_link
from ..scenario import HardwareSpec, ModelSpec
from ..units import GIB
from .budget import Budget, BudgetTerm, InfeasibleMemory
from .kv import KvLayout
from .weights import weight_bytes_per_gpu

FALLBACK_VOCAB = 128_000
BF16 = 2.0
# Live tensors of the forward pass per token: the residual stream and the layer input (2 x hidden),
# the MLP's gate/up output (2 x width) and its activated half (1 x width), all 16-bit.
HIDDEN_COPIES = 2.0
MLP_COPIES = 3.0
# The sampler on R rows of the vocabulary, bytes per logit at its peak. Without FlashInfer: bf16 logits,
# their fp32 copy, the sort of top-k/top-p (fp32 values + int64 indices) and the scatter back, softmax
# probabilities and the exponential draw of random_sample; measured 38.4 on four models of llm-d's
# H100 profiles (tests/data/memory_calibration, *-llmd). With FlashInfer's sampler: logits, their fp32
# copy and the probabilities, about 10 (vLLM 0.10.1.1 on A100, the dennislee22 cases).
SAMPLER_BYTES_NATIVE = 38.4
SAMPLER_BYTES_FLASHINFER = 10.0
# V0's sampler (vllm/model_executor/layers/sampler.py at 0.6.6): fp32 logits, the top-k/top-p sort,
# probabilities and log-probabilities in fp32, the exponential draw.
SAMPLER_BYTES_V0 = 34.0
# Non-torch memory the profile sees grow (cuBLAS workspaces, allocator slack): 0.13-0.14 GiB at TP 1 in
# llm-d's H100 profiles; tensor parallelism adds NCCL and custom all-reduce buffers, 0.42 GiB more at TP 2
# over NVLink there (0.55), taken to grow by as much per doubling of the ranks. Over PCIe NCCL opens few
# channels and custom all-reduce is off: 0.1 GiB per doubling (Qwen3-30B-A3B on 4 A10s).
# 0.8.0-0.9.0 also counted the CUDA context (gpu_worker.py:194-207 at 0.8.5: every non-torch byte in use).
NON_TORCH_GIB = 0.13
NON_TORCH_TP_LINKED_GIB = 0.42
NON_TORCH_TP_PCIE_GIB = 0.1
CUDA_CONTEXT_GIB = 0.45
# CUDA graphs of the decode batch sizes.
CUDA_GRAPH_GIB_PER_CAPTURED_SIZE = 0.0075
CAPTURE_SIZES_MAX = 67   # vLLM captures 1, 2, 4, 8..512 step 8 up to min(max_num_seqs x 2, 512)


def release_of(hw: HardwareSpec) -> VllmRelease:
    """The vLLM release the hardware's engine_version names."""
    return vllm_release(hw.engine_version)


def forward_peak_bytes(model: ModelSpec, hw: HardwareSpec, tokens: int) -> float:
    """Peak torch memory of one forward pass over `tokens` tokens on one GPU, attention skipped."""
    tp = hw.tensor_parallel
    hidden = model.hidden_size or (model.num_attention_heads or model.num_kv_heads) * model.head_dim
    residual = tokens * BF16 * HIDDEN_COPIES * hidden
    dense = tokens * BF16 * MLP_COPIES * (model.intermediate_size or 4 * hidden) / tp
    if not (model.num_experts and model.moe_intermediate_size):
        return residual + dense
    # fused MoE: per token and chosen expert, a buffer of max(gate/up width, hidden) and the activated half
    width = model.moe_intermediate_size / tp
    moe = tokens * max(1, model.num_experts_per_tok) * BF16 * (max(2 * width, hidden) + width)
    moe += tokens * BF16 * MLP_COPIES * model.shared_expert_intermediate_size / tp
    return residual + max(moe, dense if model.dense_layers else 0.0)


def samples_with_flashinfer(release: VllmRelease, hw: HardwareSpec) -> bool:
    """Whether the profile's sampler runs through FlashInfer (before 0.12 only where it is installed: an extra)."""
    return release.flashinfer_sampler and (hw.flashinfer or release.since >= (0, 12))


def activation_gib(model: ModelSpec, hw: HardwareSpec) -> float:
    """Peak torch memory of the profile run above the weights, per GPU."""
    if hw.activation_reserve_gib is not None:
        return hw.activation_reserve_gib
    release = release_of(hw)
    tokens = hw.max_num_batched_tokens
    hidden = model.hidden_size or (model.num_attention_heads or model.num_kv_heads) * model.head_dim
    rows = min(hw.max_num_seqs, tokens)
    vocab = model.vocab_size or FALLBACK_VOCAB
    forward = forward_peak_bytes(model, hw, tokens)
    if not release.v1:
        # V0 keeps the forward's activations of the batch while it samples
        return (forward + rows * vocab * SAMPLER_BYTES_V0) / GIB
    per_logit = SAMPLER_BYTES_FLASHINFER if samples_with_flashinfer(release, hw) else SAMPLER_BYTES_NATIVE
    # the sampler runs after the forward pass: only its output hidden states are still alive
    sampler = rows * vocab * per_logit + tokens * hidden * BF16
    return max(forward, sampler) / GIB


def non_torch_gib(hw: HardwareSpec) -> float:
    """Memory outside torch's allocator that the profile counts, per GPU."""
    if hw.activation_reserve_gib is not None:
        return 0.0
    context = CUDA_CONTEXT_GIB if release_of(hw).counts_context else 0.0
    per_doubling = NON_TORCH_TP_PCIE_GIB if gpu_link(hw.gpu) == "pcie" else NON_TORCH_TP_LINKED_GIB
    return NON_TORCH_GIB + per_doubling * math.log2(hw.tensor_parallel) + context


def cuda_graph_gib(hw: HardwareSpec) -> float:
    """Memory of the captured CUDA graphs (0 with cuda_graphs off)."""
    if hw.cuda_graphs == "off":
        return 0.0
    largest = min(2 * hw.max_num_seqs, 512)
    sizes = min(CAPTURE_SIZES_MAX, 3 + largest // 8)
    return sizes * CUDA_GRAPH_GIB_PER_CAPTURED_SIZE


def budget(model: ModelSpec, hw: HardwareSpec) -> Budget:
    """vLLM's budget on one GPU (kv_gib <= 0 when nothing is left for the KV cache)."""
    release = release_of(hw)
    pp = hw.num_gpus // hw.tensor_parallel
    requested = hw.memory_gib * hw.gpu_memory_utilization
    weights = weight_bytes_per_gpu(model, hw.tensor_parallel, pp, gpu_arch(hw.gpu)) / GIB
    activation = activation_gib(model, hw)
    non_torch = non_torch_gib(hw)
    graphs = cuda_graph_gib(hw)
    in_budget = graphs if release.graphs_in_budget else 0.0
    kv = requested - weights - activation - non_torch - in_budget
    headroom = hw.memory_gib - requested - (graphs - in_budget)
    where = f"vLLM {hw.engine_version or 'default release'}: {release.source}"
    profile = ("V0 profile: max_num_seqs prompts filling max_num_batched_tokens, then fp32 sampling of their "
               "last tokens" if not release.v1 else
               "profile run: forward pass of max_num_batched_tokens (attention skipped), then the sampler on "
               "min(max_num_seqs, max_num_batched_tokens) rows" + (" through FlashInfer" if samples_with_flashinfer(release, hw)
                                                                   else " with a sort of the vocabulary"))
    terms = (
        BudgetTerm("weights", weights, True, "parameters by role x their bytes (memory/weights.py)"),
        BudgetTerm("activation", activation, True, f"{profile} ({where})"),
        BudgetTerm("non_torch", non_torch, True, "NCCL, cuBLAS and allocator buffers"
                   + (", and the CUDA context (counted before 0.9.1)" if release.counts_context else "")),
        BudgetTerm("kv", max(0.0, kv), True, "gpu_memory_utilization x memory - the above"),
        BudgetTerm("cuda_graphs", graphs, release.graphs_in_budget,
                   "estimated in the profile and taken from the KV budget (from 0.20)" if release.graphs_in_budget
                   else "captured after the KV cache, outside the share"),
        BudgetTerm("headroom", max(0.0, headroom), False, "memory gpu_memory_utilization leaves free"),
    )
    settings = (("--gpu-memory-utilization", hw.gpu_memory_utilization, "gpu_memory_utilization" in hw.engine_defaulted),
                ("--max-num-batched-tokens", hw.max_num_batched_tokens, "max_num_batched_tokens" in hw.engine_defaulted),
                ("--max-num-seqs", hw.max_num_seqs, "max_num_seqs" in hw.engine_defaulted),
                *((("--enforce-eager", "", False),) if hw.cuda_graphs == "off" else ()))
    return Budget("vllm", hw.memory_gib, requested, weights, activation + non_torch + in_budget, kv, terms, settings)


def no_cache_message(b: Budget, hw: HardwareSpec) -> str:
    """vLLM's refusal when the profile leaves no memory for the KV cache, with what to change."""
    return (f"hardware: the model does not fit: {b.weights_gib:.2f} GiB of weights + {b.reserve_gib:.2f} GiB "
            f"activation and non-torch reserve per GPU exceed the {b.usable_gib:.2f} GiB vLLM may use "
            f"({hw.memory_gib:g} GiB x {hw.gpu_memory_utilization:g}). vLLM says: \"No available memory for "
            f"the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.\" Use more "
            f"GPUs per replica (hardware.num_gpus), a larger GPU, a quantized checkpoint or fewer batched tokens "
            f"(hardware.max_num_batched_tokens)")


def check_max_model_len(model: ModelSpec, hw: HardwareSpec, layout: KvLayout, b: Budget,
                        block_size: int, num_blocks: int) -> float:
    """vLLM's "Maximum concurrency for N tokens per request"; raises as vLLM does when one request does not fit."""
    length = hw.max_model_len or model.max_position_embeddings
    if not length:
        return 0.0
    kv_bytes = b.kv_gib * GIB
    needed = layout.request_bytes(length, hw, block_size)
    if needed > kv_bytes:
        fits = _longest_fitting(layout, hw, block_size, kv_bytes, length)
        estimate = (f" Based on the available memory, the estimated maximum model length is {fits}."
                    if fits > 0 else "")
        given = "" if hw.max_model_len else " (empty: the model's longest context)"
        raise InfeasibleMemory(
            f"hardware.max_model_len: {length}{given} is not allowed: one request of that length needs {needed / GIB:.2f} GiB of KV "
            f"cache per GPU and {kv_bytes / GIB:.2f} GiB are left. vLLM refuses to start with: \"To serve at least "
            f"one request with the models's max seq len ({length}), ({needed / GIB:.2f} GiB KV cache is needed, "
            f"which is larger than the available KV cache memory ({kv_bytes / GIB:.2f} GiB).{estimate} Try "
            f"increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.\" "
            f"Set hardware.max_model_len to at most {fits}, or give the KV cache more memory",
            {**b.to_json(), "refusal": "max_model_len", "max_model_len": length, "needed_gib": needed / GIB,
             "estimated_max_model_len": fits})
    # get_max_concurrency_for_kv_cache_config (kv_cache_utils.py:778)
    return num_blocks / max(1, layout.request_blocks(length, hw, block_size))


def _longest_fitting(layout: KvLayout, hw: HardwareSpec, block_size: int, kv_bytes: float, upper: int) -> int:
    """estimate_max_model_len (kv_cache_utils.py:618): the longest request whose KV fits, by bisection."""
    low, high, best = 1, upper, 0
    while low <= high:
        mid = (low + high) // 2
        if layout.request_bytes(mid, hw, block_size) <= kv_bytes:
            best, low = mid, mid + 1
        else:
            high = mid - 1
    return best
