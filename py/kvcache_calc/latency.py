"""Roofline times of one replica: prefill from the GPU's FLOP/s, decode from its memory bandwidth.

Prefill of `new` tokens after `cached` ones costs 2 x active parameters x new FLOPs for the
matrix multiplies plus 4 x attention width x layers x new x (cached + new / 2) for QK^T and AV
(causal: the new tokens see the cached context and half of each other on average). One request's
prefill runs on the tensor-parallel GPUs at once and through the pipeline stages in turn, so its
latency is FLOPs / (TP x peak x MFU); the GPU-seconds it costs are FLOPs / (peak x MFU).
A decode step reads the weights and every running request's KV: (weights + batch x context x KV
bytes) / (bandwidth x MBU) per stage, stages in turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .memory import MemoryPlan, weights_gib
from .presets import gpu_preset
from .scenario import Scenario
from .schema import FP4_GPUS, FP4_QUANTIZATIONS, FP8_RATE_DTYPES, FP8_RATE_QUANTIZATIONS
from .units import DTYPE_BYTES, GIB

if TYPE_CHECKING:
    from .traffic.resolved import Traffic


@dataclass(frozen=True)
class Roofline:
    """What one replica's prefill and decode cost, from its model and GPUs."""

    active_params: float           # parameters used per token
    attention_width: float         # query heads x the head dimension attention multiplies over
    full_layers: int               # layers attending to the whole context
    window_layers: int             # sliding-window layers (attend to at most `window` tokens)
    window: int
    tensor_parallel: int
    pipeline_parallel: int
    flops_per_gpu: float           # achieved: peak x MFU
    bytes_per_s_per_gpu: float     # achieved: HBM bandwidth x MBU
    weight_bytes: float            # whole model
    kv_bytes_per_token_per_gpu: float

    def prefill_flops(self, new: float, cached: float) -> float:
        """FLOPs to prefill `new` tokens that follow `cached` ones."""
        mid = cached + new / 2.0
        pairs = self.full_layers * new * mid + self.window_layers * new * min(self.window, mid)
        return 2.0 * self.active_params * new + 4.0 * self.attention_width * pairs

    def mean_prefill_flops(self, prompts: Iterable[tuple[float, float]]) -> float:
        """Σ share x prefill_flops(new, 0) over (share, new) pairs: the mean prefill without a cache."""
        linear = full = window = 0.0
        for share, new in prompts:  # one pass, no call per pair: every sweep point needs it
            linear += share * new
            full += share * new * new
            if self.window_layers:
                window += share * new * min(self.window, new / 2.0)
        pairs = self.full_layers * full / 2.0 + self.window_layers * window
        return 2.0 * self.active_params * linear + 4.0 * self.attention_width * pairs

    def prefill_s(self, new: float, cached: float) -> float:
        """Latency of one request's prefill (tensor-parallel GPUs together, pipeline stages in turn)."""
        return self.prefill_s_of_flops(self.prefill_flops(new, cached))

    def prefill_s_of_flops(self, flops: float) -> float:
        """Latency of a prefill of `flops` FLOPs."""
        return flops / (self.tensor_parallel * self.flops_per_gpu)

    def prefill_gpu_s(self, new: float, cached: float) -> float:
        """GPU-seconds one request's prefill occupies."""
        return self.prefill_flops(new, cached) / self.flops_per_gpu

    def recompute_s_per_token(self, context: float) -> float:
        """Marginal prefill latency of one more token at this context length."""
        return self.prefill_s(1.0, context)

    def load_s_per_token(self, read_gb_per_s: float) -> float:
        """Latency to load one token's KV into every GPU, each over its own link."""
        return self.kv_bytes_per_token_per_gpu * self.pipeline_parallel / (read_gb_per_s * 1e9)

    def decode_step_s(self, batch: float, context: float) -> float:
        """One decode step for `batch` running requests of `context` tokens."""
        weights = self.weight_bytes / self.tensor_parallel
        kv = batch * context * self.kv_bytes_per_token_per_gpu * self.pipeline_parallel
        return (weights + kv) / self.bytes_per_s_per_gpu


def _attention_width(s: Scenario) -> float:
    m = s.model
    assert m is not None
    heads = m.num_attention_heads or m.num_kv_heads
    if m.attention == "mla":
        # MLA prefill runs as plain attention over qk_nope + rope (QK) and v (AV) dims; DeepSeek-V3
        # and Kimi-K2 have qk_nope = v = kv_lora_rank / 4, so the mean of the two is this.
        return heads * (m.kv_lora_rank / 4.0 + m.qk_rope_head_dim / 2.0)
    return heads * m.head_dim


def _peak_and_bandwidth(s: Scenario) -> tuple[float, float] | None:
    hw, m = s.hardware, s.model
    assert hw is not None and m is not None
    preset = gpu_preset(hw.gpu) if hw.gpu is not None else {}
    tflops = hw.tflops
    if tflops is None and preset:
        fp4 = m.weight_dtype == "fp4" or m.quantization in FP4_QUANTIZATIONS
        fp8_rate = (m.weight_dtype in FP8_RATE_DTYPES or m.quantization in FP8_RATE_QUANTIZATIONS
                    or (fp4 and hw.gpu in FP4_GPUS))
        fp8 = fp8_rate and preset.get("fp8_tflops")
        tflops = preset["fp8_tflops"] if fp8 else preset.get("bf16_tflops")
    bandwidth = hw.hbm_tb_per_s if hw.hbm_tb_per_s is not None else preset.get("bandwidth_tb_s")
    if tflops is None or bandwidth is None:
        return None
    return tflops * 1e12, bandwidth * 1e12


@lru_cache(maxsize=256)
def no_cache_prefill_flops(roof: Roofline, traffic: Traffic) -> float:
    """The traffic's mean prefill FLOPs per request without a cache (cached: every sweep point of the
    rate, the think time or the capacity asks it again)."""
    return roof.mean_prefill_flops(traffic.prompt_shares)


def roofline(s: Scenario, plan: MemoryPlan | None) -> Roofline | None:
    """The replica's roofline, or None without a model, GPU figures or the memory plan."""
    if s.model is None or s.hardware is None or plan is None:
        return None
    rates = _peak_and_bandwidth(s)
    if rates is None:
        return None
    m, hw = s.model, s.hardware
    weight_bytes = weights_gib(m) * GIB
    # without a parameter count, the weights' size and dtype give it
    active = (m.active_params_b or m.params_b or weight_bytes / DTYPE_BYTES[m.weight_dtype] / 1e9)
    window_layers = m.sliding_window_layers
    return Roofline(
        active_params=active * 1e9, attention_width=_attention_width(s),
        full_layers=m.num_layers - window_layers - m.linear_attention_layers, window_layers=window_layers,
        window=m.sliding_window, tensor_parallel=hw.tensor_parallel,
        pipeline_parallel=hw.num_gpus // hw.tensor_parallel,
        flops_per_gpu=rates[0] * s.latency.mfu, bytes_per_s_per_gpu=rates[1] * s.latency.mbu,
        weight_bytes=weight_bytes, kv_bytes_per_token_per_gpu=plan.kv_bytes_per_token_per_gpu)


@dataclass(frozen=True)
class Concurrency:
    """Running requests of one replica (Little's law) and the KV they pin."""

    running: float            # mean requests in flight
    pinned_tokens: float      # their KV, out of the evictable cache
    service_s: float          # prefill (no cache) + decode of one request
    decode_step_s: float
    decode_utilization: float   # share of time the running requests' KV reads take; >= 1 cannot keep up
    saturated: bool             # the queue grows: running capped at max_num_seqs


def concurrency(roof: Roofline, request_rate: float, prompt_tokens: float, prompt_s: float,
                output_tokens: int, max_num_seqs: int) -> Concurrency:
    """Requests in flight per replica: B = rate x (prefill + output x step(B)), step linear in B.

    `prompt_tokens`, `prompt_s`: means over requests, prefill without a cache (the conservative
    side: cached prefixes only shorten a service that decode dominates).
    """
    context = prompt_tokens + output_tokens / 2.0
    base = roof.decode_step_s(0.0, context)
    per_request = roof.decode_step_s(1.0, context) - base
    load = request_rate * output_tokens * per_request
    running = float(max_num_seqs)
    if load < 1.0:
        running = min(running, request_rate * (prompt_s + output_tokens * base) / (1.0 - load))
    saturated = load >= 1.0 or running >= max_num_seqs
    step = roof.decode_step_s(running, context)
    return Concurrency(running, running * context, prompt_s + output_tokens * step, step, load, saturated)
