"""What each engine release does when it sizes its KV cache: its defaults for a GPU and how it counts memory.

Read in the released sources (the wheels on PyPI, file:line at the release named):
vLLM  vllm/engine/arg_utils.py (batch defaults), vllm/config/cache.py (gpu_memory_utilization),
      vllm/v1/worker/gpu_worker.py (determine_available_memory), vllm/v1/sample/ops/topk_topp_sampler.py,
      vllm/envs.py, vllm/worker/worker.py and vllm/config.py for V0 (before 0.8.0);
SGLang python/sglang/srt/server_args.py (mem_fraction_static, chunked_prefill_size, cuda_graph_max_bs).
A release not listed behaves as the latest listed one before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, ...]
GIB_TO_MIB = 1024.0


def parse_version(text: str) -> Version:
    """"0.10.1.1" -> (0, 10, 1, 1); ".postN" and "rcN" suffixes are ignored."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        raise ValueError(f"deploy.engine_version: {text!r} is not a version like 0.13.0")
    return tuple(int(part) for part in match.groups() if part is not None)


# --- vLLM ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VllmRelease:
    """How a range of vLLM releases (from `since` to the next entry) profiles and sizes the KV cache."""

    since: Version
    v1: bool                       # V1 engine; False: V0's profile (max_num_seqs prompts, no chunking by default)
    gpu_memory_utilization: float  # default of --gpu-memory-utilization
    large_gpu: str                 # which GPUs get the large step budget, see vllm_batch_defaults
    flashinfer_sampler: bool       # top-k/top-p sampled by FlashInfer (no sort of the vocabulary in the profile)
    counts_context: bool           # the profile counts all device memory in use (0.8.0-0.9.0), not its increase
    graphs_in_budget: bool         # CUDA graph memory estimated during the profile and taken from the KV budget
    source: str


VLLM_RELEASES: tuple[VllmRelease, ...] = (
    # V0: worker.py:177-248 and model_runner.py:1231-1330 at 0.6.6.post1; config.py:1426-1442 (batch tokens)
    VllmRelease((0, 0), False, 0.9, "none", False, False, False,
                "V0 engine (vllm/worker/worker.py determine_num_available_blocks, 0.6.6.post1)"),
    # arg_utils.py:1693-1717 at 0.8.0: H100/H200 by name get 8192 tokens; max_num_seqs 1024 everywhere.
    # gpu_worker.py:139-185: available = total x util - (torch peak + every non-torch byte on the device).
    # FlashInfer samples top-k/top-p whenever it is installed (topk_topp_sampler.py:26-60; vLLM's image has it).
    VllmRelease((0, 8, 0), True, 0.9, "h100_name", True, True, False, "vllm 0.8.0 gpu_worker.py:139-185"),
    # arg_utils.py:1596-1609 at 0.8.5: >= 70 GiB gets 8192 tokens / 1024 requests, else 2048 / 256
    VllmRelease((0, 8, 5), True, 0.9, "70gib", True, True, False, "vllm 0.8.5 arg_utils.py:1596-1609"),
    # arg_utils.py:1495 at 0.9.0: ... and the device name does not contain "a100"
    VllmRelease((0, 9, 0), True, 0.9, "70gib_not_a100", True, True, False, "vllm 0.9.0 arg_utils.py:1495"),
    # gpu_worker.py:201-219 at 0.9.1: requested = total x util; KV = requested - weights - torch peak increase
    # - non-torch increase since start (utils memory_profiling)
    VllmRelease((0, 9, 1), True, 0.9, "70gib_not_a100", True, False, False, "vllm 0.9.1 gpu_worker.py:201-219"),
    # topk_topp_sampler.py:35-58 at 0.12.0: FlashInfer sampling only with VLLM_USE_FLASHINFER_SAMPLER=1
    VllmRelease((0, 12, 0), True, 0.9, "70gib_not_a100", False, False, False,
                "vllm 0.12.0 topk_topp_sampler.py:35-58"),
    # envs.py:1724-1725 and cache.py at 0.20.0: CUDA graphs estimated in the profile (gpu_worker.py:385-424),
    # gpu_memory_utilization 0.92
    VllmRelease((0, 20, 0), True, 0.92, "70gib_not_a100", False, False, True, "vllm 0.20.0 gpu_worker.py:385-424"),
    # envs.py:820-823 at 0.23.0 (first release read with it): FlashInfer sampling on by default again
    VllmRelease((0, 23, 0), True, 0.92, "70gib_not_a100", True, False, True, "vllm 0.23.0 envs.py:820-823"),
    # arg_utils.py:2858 at 0.31.0: >= 160 GiB gets 16384 tokens
    VllmRelease((0, 31, 0), True, 0.92, "160gib", True, False, True, "vllm 0.31.0 arg_utils.py:2858"),
)
VLLM_DEFAULT_VERSION = "0.13.0"   # the release deploy/flags.py checks the command line against
# vllm/config/model.py is_prefix_caching_supported: "Hybrid models do not support prefix caching" through
# 0.25.0 (line 1885), "Generative hybrid models support prefix caching" from 0.26.0 (line 1895)
HYBRID_PREFIX_CACHING_SINCE = (0, 26, 0)


def vllm_release(version: str | None) -> VllmRelease:
    """The behaviour of vLLM `version` (None: VLLM_DEFAULT_VERSION)."""
    wanted = parse_version(version or VLLM_DEFAULT_VERSION)
    return [r for r in VLLM_RELEASES if r.since <= wanted][-1]


# --- SGLang ------------------------------------------------------------------------------------------

SGLANG_DEFAULT_VERSION = "0.5.6"  # deploy/flags.py's SGLang release (v0.5.6.post2)
# 0.5.3+ server_args.py _handle_gpu_memory_settings (0.5.6: lines 752-835): (upper bound of GPU memory in
# MiB, chunked_prefill_size, cuda_graph_max_bs below TP 4, at TP >= 4)
SGLANG_BY_MEMORY = (
    (20 * 1024, 2048, 8, 8),
    (35 * 1024, 2048, 24, 80),
    (60 * 1024, 4096, 32, 160),
    (90 * 1024, 8192, 256, 512),
    (160 * 1024, 8192, 256, 512),
    (float("inf"), 16384, 512, 512),
)
# 0.5.6 server_args.py:848-887: reserved MiB = 512 + 1.5 x max(chunk, 2048) + 2 x cuda_graph_max_bs
# + tp x pp / 8 x 1024, at least 10 GiB on GPUs above 60 GiB; the static share is (gpu_mem - reserved) /
# gpu_mem rounded to 3 places.
SGLANG_CONSTANT_MIB = 512.0
SGLANG_MIB_PER_CHUNK_TOKEN = 1.5
SGLANG_MIB_PER_GRAPH_BATCH = 2.0
SGLANG_MIB_PER_EIGHTH_OF_WORLD = 1024.0
SGLANG_LARGE_GPU_MIB = 60 * 1024
SGLANG_LARGE_GPU_MIN_RESERVED_MIB = 10 * 1024
# 0.4.9 server_args.py:280-329 (to 0.5.1): reserved GiB by GPU memory (MiB upper bound, constant, per P/n)
SGLANG_049_RESERVED = ((35 * 1024, 2.8, 10.0), (90 * 1024, 9.5, 2.0), (160 * 1024, 12.0, 2.0), (float("inf"), 32.0, 0.0))
# 0.4.0 server_args.py:158-168 (to 0.4.6 at 81920 MiB and below): the static share by tensor parallel size
SGLANG_040_BY_TP = ((16, 0.79), (8, 0.81), (4, 0.85), (2, 0.87), (1, 0.88))
# model_runner.py:1672-1681 and tp_worker.py:292-300 at 0.5.6: min(max(tokens / context_len x 512, 2048), 4096)
# requests; with a KV pool under 2048 x context_len / 512 tokens that is 2048.
SGLANG_MAX_RUNNING_REQUESTS = 2048


@dataclass(frozen=True)
class EngineDefaults:
    """The step budget, request cap and static memory share an engine picks for a GPU."""

    max_num_batched_tokens: int        # vLLM max_num_batched_tokens, SGLang chunked_prefill_size
    max_num_seqs: int                  # vLLM max_num_seqs, SGLang max_running_requests
    gpu_memory_utilization: float      # vLLM's share (SGLang: unused)
    mem_fraction_static: float | None  # SGLang's share of weights + KV pool


def vllm_batch_defaults(release: VllmRelease, memory_gib: float, gpu_name: str,
                        max_model_len: int | None) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) `vllm serve` picks on this GPU (the OpenAI server context)."""
    name = gpu_name.lower()
    if not release.v1:
        # V0 chunks prefills by default only past 32K of context (arg_utils.py:1081-1110 at 0.6.6.post1)
        length = max_model_len or 2048
        return (2048 if length > 32768 else max(length, 2048)), 256
    if release.large_gpu == "h100_name":
        large, seqs = ("h100" in name or "h200" in name), 1024
    else:
        large = memory_gib >= 70 and not (release.large_gpu != "70gib" and "a100" in name)
        seqs = 1024 if large else 256
    tokens = 8192 if large else 2048
    if release.large_gpu == "160gib" and memory_gib >= 160:
        tokens = 16384
    if max_model_len:
        tokens = min(tokens, seqs * max_model_len)
    return tokens, min(seqs, tokens)


def _sglang_fraction(version: Version, gpu_mib: float, tp: int, pp: int, chunk: int, graph_bs: int) -> float:
    """SGLang's default mem_fraction_static for this GPU and parallelism, by release."""
    world = tp * pp
    if version < (0, 4, 9):
        if version >= (0, 4, 6) and gpu_mib > 81920:  # server_args.py:225-238 at 0.4.6
            return (gpu_mib - 13 * GIB_TO_MIB) / gpu_mib
        return next(share for least, share in SGLANG_040_BY_TP if tp >= least)
    if version < (0, 5, 3):
        _, constant, per = next(row for row in SGLANG_049_RESERVED if gpu_mib < row[0])
        reserved_gib = constant + (world / per if per else 0.0)
        return round((gpu_mib - reserved_gib * GIB_TO_MIB) / gpu_mib, 3)
    reserved = (SGLANG_CONSTANT_MIB + SGLANG_MIB_PER_CHUNK_TOKEN * max(chunk, 2048)
                + SGLANG_MIB_PER_GRAPH_BATCH * graph_bs + world / 8 * SGLANG_MIB_PER_EIGHTH_OF_WORLD)
    if gpu_mib > SGLANG_LARGE_GPU_MIB:
        reserved = max(reserved, SGLANG_LARGE_GPU_MIN_RESERVED_MIB)
    return round((gpu_mib - reserved) / gpu_mib, 3)


def sglang_defaults(version: str | None, memory_gib: float, tensor_parallel: int, pipeline_parallel: int,
                    chunked_prefill_size: int | None = None) -> EngineDefaults:
    """SGLang's defaults on a GPU of this memory (nvidia-smi's total, which we take as the driver's)."""
    release = parse_version(version or SGLANG_DEFAULT_VERSION)
    gpu_mib = memory_gib * GIB_TO_MIB
    if release < (0, 4, 9):
        chunk, graph_bs = (2048 if gpu_mib < 25 * 1000 else 8192), 160
    elif release < (0, 5, 3):
        chunk = 2048 if gpu_mib < 35 * 1024 else 8192 if gpu_mib < 160 * 1024 else 16384
        graph_bs = 160
    else:
        _, chunk, small_bs, large_bs = next(row for row in SGLANG_BY_MEMORY if gpu_mib < row[0])
        graph_bs = small_bs if tensor_parallel < 4 else large_bs
    chunk = chunked_prefill_size or chunk
    fraction = _sglang_fraction(release, gpu_mib, tensor_parallel, pipeline_parallel, chunk, graph_bs)
    return EngineDefaults(chunk, SGLANG_MAX_RUNNING_REQUESTS, 0.9, fraction)


def engine_defaults(engine: str, version: str | None, memory_gib: float, gpu_name: str, tensor_parallel: int,
                    pipeline_parallel: int, max_num_batched_tokens: int | None = None,
                    max_model_len: int | None = None) -> EngineDefaults:
    """The defaults of `engine` ("vllm" or "sglang") at `version` for one GPU of a replica."""
    if engine == "sglang":
        return sglang_defaults(version, memory_gib, tensor_parallel, pipeline_parallel, max_num_batched_tokens)
    release = vllm_release(version)
    tokens, seqs = vllm_batch_defaults(release, memory_gib, gpu_name, max_model_len)
    return EngineDefaults(tokens, seqs, release.gpu_memory_utilization, None)
