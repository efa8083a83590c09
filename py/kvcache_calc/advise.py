"""Suggested changes, each with the hit rates the model predicts once it is applied."""

from __future__ import annotations

from .evaluate import predict_scenario
from .memory import InfeasibleMemory
from .scenario import Scenario, parse_scenario
from .sensitivity import solve_capacity

WIDE_KV_DTYPES = ("fp32", "fp16", "bf16")


def apply_patch(raw: dict, patch: dict) -> dict:
    """The scenario with each {"section": {"key": value}} of the patch set."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for section, values in patch.items():
        out[section] = {**(out.get(section) or {}), **values}
    return out


def _candidates(s: Scenario, current: dict) -> list[tuple[str, dict, str, str]]:
    """(id, patch, English, Chinese) for every change worth pricing in this scenario."""
    out = []
    direct = s.cache.capacity_tokens is not None
    gap = current["ceiling_token_hit_rate"] - current["token_hit_rate"]
    if gap > 0.01:
        target = current["token_hit_rate"] + gap / 2.0
        need = solve_capacity(s, target)
        if need["achievable"]:
            pct = f"{target * 100:.0f}%"
            if direct or need["memory_gib_per_gpu"] is None:
                cap = need["capacity_tokens"]
                out.append(("capacity_for_target", {"cache": {"capacity_tokens": cap}},
                            f"A cache of {cap:,} tokens per replica reaches a {pct} token hit rate, half-way to the ceiling.",
                            f"每个副本 {cap:,} token 的缓存可达到 {pct} 的 token 命中率（到上限的一半）。"))
            else:
                mem = round(need["memory_gib_per_gpu"] + 0.05, 1)
                out.append(("memory_for_target", {"hardware": {"memory_gib": mem}},
                            f"{mem:g} GiB per GPU reaches a {pct} token hit rate, half-way to the ceiling.",
                            f"每卡 {mem:g} GiB 显存可达到 {pct} 的 token 命中率（到上限的一半）。"))
    if s.model is not None and not direct:
        if s.model.kv_dtype in WIDE_KV_DTYPES:
            out.append(("kv_fp8", {"model": {"kv_dtype": "fp8"}},
                        f"An FP8 KV cache (--kv-cache-dtype fp8) holds {2 if s.model.kv_dtype != 'fp32' else 4}x the tokens in the same memory.",
                        "FP8 KV 缓存（--kv-cache-dtype fp8）在相同显存中可容纳更多 token。"))
        hw = s.hardware
        if hw is not None and hw.num_gpus * 2 <= 1024:
            out.append(("double_gpus", {"hardware": {"num_gpus": hw.num_gpus * 2,
                                                     "tensor_parallel": hw.tensor_parallel * 2}},
                        f"{hw.num_gpus * 2} GPUs per replica (tensor parallel {hw.tensor_parallel * 2}) spread the weights and free memory for KV.",
                        f"每副本 {hw.num_gpus * 2} 张 GPU（张量并行 {hw.tensor_parallel * 2}）分摊权重，腾出显存给 KV。"))
        if hw is not None and hw.gpu_memory_utilization < 0.95:
            out.append(("utilization", {"hardware": {"gpu_memory_utilization": 0.95}},
                        "--gpu-memory-utilization 0.95 gives vLLM more of each GPU for the KV cache.",
                        "--gpu-memory-utilization 0.95 让 vLLM 把更多显存用于 KV 缓存。"))
    return out


def suggestions(s: Scenario, current: dict | None = None) -> list[dict]:
    """Changes that raise the token hit rate, best first, each priced by the model."""
    current = current or predict_scenario(s)
    out = []
    for ident, patch, text_en, text_zh in _candidates(s, current):
        try:
            r = predict_scenario(parse_scenario(apply_patch(s.raw, patch)))
        except (InfeasibleMemory, ValueError):
            continue
        gain = r["token_hit_rate"] - current["token_hit_rate"]
        if gain <= 1e-3:
            continue
        out.append({"id": ident, "change": patch, "token_hit_rate": r["token_hit_rate"],
                    "request_hit_rate": r["request_hit_rate"],
                    "ideal_prefill_speedup": r["ideal_prefill_speedup"],
                    "token_hit_rate_gain": gain, "text_en": text_en, "text_zh": text_zh})
    out.sort(key=lambda x: (-round(x["token_hit_rate_gain"], 12), x["id"]))
    return out
