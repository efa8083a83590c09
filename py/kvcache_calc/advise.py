"""The advisor: changes worth making, each priced by the model once applied, best first."""

from __future__ import annotations

from .evaluate import predict_scenario
from .memory import InfeasibleMemory
from .presets import gpu_arch, gpu_ids, gpu_preset
from .resolve import resolve
from .scenario import Scenario, parse_scenario
from .schema import FIELDS_BY_PATH, FP4_GPUS
from .sensitivity import solve_capacity

WIDE_KV_DTYPES = ("fp32", "fp16", "bf16")
KEEP_UP = "replicas_to_keep_up"
KV_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4, "fp4": 4}


def apply_patch(raw: dict, patch: dict) -> dict:
    """The scenario with the patch applied: {"section": {"key": value}} merges, lists and strings replace."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for key, value in patch.items():
        if isinstance(value, dict):
            out[key] = {**(out.get(key) or {}), **value}
        else:
            out[key] = value
    return out


def _target(current: dict) -> float | None:
    """Half-way from the current token hit rate to the ceiling, when that is worth a change."""
    gap = current["ceiling_token_hit_rate"] - current["token_hit_rate"]
    return current["token_hit_rate"] + gap / 2.0 if gap > 0.01 else None


OVERLOAD_WARNINGS = ("replica_overloaded", "prefill_overloaded")
REFUSED_WARNING = "first_prompt_exceeds_max_model_len"


def _overloaded(prediction: dict) -> bool:
    """Requests queue without bound: decode, the running requests' KV or prefill does not keep up."""
    return any(w["code"] in OVERLOAD_WARNINGS for w in prediction["warnings"])


def _replicas_to_keep_up(s: Scenario) -> int | None:
    """Fewest replicas at which none is overloaded, by doubling then bisection (None: not even the most allowed)."""
    most = int(FIELDS_BY_PATH["cluster.replicas"].maximum)

    def keeps_up(replicas: int) -> bool:
        patched = apply_patch(s.raw, {"cluster": {"replicas": replicas}})
        return not _overloaded(predict_scenario(parse_scenario(patched)))

    lo, hi = s.cluster.replicas, min(most, s.cluster.replicas * 2)
    while not keeps_up(hi):
        if hi == most:
            return None
        lo, hi = hi, min(most, hi * 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if keeps_up(mid) else (mid, hi)
    return hi


def replicas_needed(s: Scenario, current: dict) -> int | None:
    """When the prediction is overloaded, the fewest replicas that keep up (None otherwise, or when none do)."""
    return _replicas_to_keep_up(s) if _overloaded(current) else None


def status(s: Scenario, current: dict, needed: int | None) -> dict:
    """What the headline says in one sentence: whether the cluster keeps up, what would, and which model.

    state: "refused" (REFUSED_WARNING: the engine refuses first prompts longer than its max_model_len),
    else "overloaded" (one of OVERLOAD_WARNINGS: requests queue, the hit rates are no steady state),
    else "ok"; overload: the overload warnings' codes (whatever the state); replicas: the scenario's;
    replicas_needed: when overloaded, the fewest replicas that keep up (`needed`, from
    replicas_needed), None when ok or when even the most allowed do not (then cannot_keep_up);
    model: evaluate.model_identity's {preset, label, assumed_from, assumed_fields}, None without a model.
    """
    overload = [w["code"] for w in current["warnings"] if w["code"] in OVERLOAD_WARNINGS]
    refused = any(w["code"] == REFUSED_WARNING for w in current["warnings"])
    state = "refused" if refused else "overloaded" if overload else "ok"
    return {"state": state, "overload": overload, "replicas": s.cluster.replicas,
            "replicas_needed": needed if overload else None, "cannot_keep_up": bool(overload) and needed is None,
            "model": current["model"]}


def _candidates(s: Scenario, current: dict, keep_up: int | None) -> list[tuple[str, dict, str, str]]:
    """(id, patch, why in English, why in Chinese) for every change worth pricing in this scenario."""
    out = []
    if keep_up is not None:
        out.append((KEEP_UP, {"cluster": {"replicas": keep_up}},
                    f"{keep_up} replicas keep up with this traffic (prefill, decode and the running requests' KV "
                    f"fit each one); with fewer, requests queue without bound and no hit rate holds.",
                    f"{keep_up} 个副本才能跟上这些流量（每个副本的预填充、解码和运行中请求的 KV 都承受得住）；副本更少时"
                    f"请求无限排队，命中率无从谈起。"))
    if s.cluster.routing != "affinity" and s.cluster.replicas > 1:
        out.append(("affinity_routing", {"cluster": {"routing": "affinity"}},
                    "Prefix-aware routing (llm-d, Dynamo, SGLang router) sends a conversation back to the replica "
                    "that holds its history, instead of one that has to recompute it.",
                    "前缀感知路由（llm-d、Dynamo、SGLang router）把会话送回保存其历史的副本，而不是需要重新计算的副本。"))
    direct = s.cache.capacity_tokens is not None
    target = _target(current)
    if target is not None:
        need = solve_capacity(s, target)
        pct = f"{target * 100:.0f}%"
        if need["achievable"]:
            if direct or need["memory_gib_per_gpu"] is None:
                cap = need["capacity_tokens"]
                out.append(("capacity_for_target", {"cache": {"capacity_tokens": cap}},
                            f"A cache of {cap:,} tokens per replica reaches a {pct} token hit rate, half-way to the ceiling.",
                            f"每个副本 {cap:,} token 的缓存可达到 {pct} 的 token 命中率（到上限的一半）。"))
            else:
                mem = round(need["memory_gib_per_gpu"] + 0.05, 1)
                physical = _physical_memory_gib(s)
                if mem <= physical:
                    out.append(("memory_for_target", {"hardware": {"memory_gib": mem}},
                                f"{mem:g} GiB per GPU reaches a {pct} token hit rate, half-way to the ceiling.",
                                f"每卡 {mem:g} GiB 显存可达到 {pct} 的 token 命中率（到上限的一半）。"))
                else:
                    out.extend(_beyond_the_gpu(s, mem, physical, need["capacity_tokens"], pct))
            out.extend(_cpu_tier(s, current, need["capacity_tokens"], pct))
    if s.model is not None and not direct:
        out.extend(_kv_dtypes(s))
        hw = s.hardware
        if hw is not None and s.model.attention == "mla" and hw.tensor_parallel > 1:
            out.append(("mla_pipeline_layout", {"hardware": {"tensor_parallel": 1}},
                        f"MLA keeps one latent per token that every tensor-parallel rank replicates: pipeline "
                        f"parallel over the {hw.num_gpus} GPUs splits the layers instead and holds "
                        f"{hw.tensor_parallel}x the tokens.",
                        f"MLA 每个 token 一个潜向量，张量并行的每个 rank 都要复制一份：改为 {hw.num_gpus} 卡流水线并行"
                        f"按层切分，可容纳 {hw.tensor_parallel} 倍的 token。"))
        if hw is not None and hw.num_gpus * 2 <= 1024 and not any(c[0] == "gpus_for_target" and
                                                                  c[1]["hardware"]["num_gpus"] == hw.num_gpus * 2
                                                                  for c in out):
            out.append(("double_gpus", {"hardware": {"num_gpus": hw.num_gpus * 2,
                                                     "tensor_parallel": hw.tensor_parallel * 2}},
                        f"{hw.num_gpus * 2} GPUs per replica (tensor parallel {hw.tensor_parallel * 2}) spread the weights and free memory for KV.",
                        f"每副本 {hw.num_gpus * 2} 张 GPU（张量并行 {hw.tensor_parallel * 2}）分摊权重，腾出显存给 KV。"))
        if hw is not None and hw.gpu_memory_utilization < 0.95:
            out.append(("utilization", {"hardware": {"gpu_memory_utilization": 0.95}},
                        "--gpu-memory-utilization 0.95 gives vLLM more of each GPU for the KV cache.",
                        "--gpu-memory-utilization 0.95 让 vLLM 把更多显存用于 KV 缓存。"))
    n = s.cluster.replicas
    if s.cluster.routing == "affinity" and keep_up != n * 2:
        out.append(("more_replicas", {"cluster": {"replicas": n * 2}},
                    f"{n * 2} replicas with affinity routing each see half the conversations, so each cache "
                    f"keeps a conversation twice as long.",
                    f"{n * 2} 个副本配合亲和路由，每个副本只接一半会话，缓存可把会话保留两倍时间。"))
    if n > 1:
        gpus = s.hardware.num_gpus if s.hardware else 1
        fewer = f"{n - 1} replica serves" if n == 2 else f"{n - 1} replicas serve"
        out.append(("fewer_replicas", {"cluster": {"replicas": n - 1}},
                    f"{fewer} the same traffic with {gpus} GPU{'s' if gpus > 1 else ''} fewer, losing little: "
                    f"each cache then holds conversations for less time.",
                    f"{n - 1} 个副本即可承担同样流量，少用 {gpus} 张 GPU，命中率损失很小：每个缓存保留会话的时间变短。"))
    return out


def _physical_memory_gib(s: Scenario) -> float:
    """Memory one GPU has: its preset's (hardware.memory_gib may set less, not more), else the one given."""
    hw = s.hardware
    assert hw is not None
    return gpu_preset(hw.gpu)["memory_gib"] if hw.gpu in gpu_ids() else hw.memory_gib


def _gpu_name(s: Scenario) -> str:
    hw = s.hardware
    assert hw is not None
    return gpu_preset(hw.gpu)["name"] if hw.gpu in gpu_ids() else hw.gpu


def _beyond_the_gpu(s: Scenario, mem: float, physical: float, need_tokens: int,
                    pct: str) -> list[tuple[str, dict, str, str]]:
    """What reaches the target when it needs more memory per GPU than the GPU has: a preset GPU with
    that much, or more GPUs per replica (the CPU tier is offered beside, by _cpu_tier)."""
    hw = s.hardware
    assert hw is not None
    name = _gpu_name(s)
    needs_en = f"A {pct} token hit rate needs {mem:g} GiB per GPU, more than the {name} has ({physical:g} GiB)"
    needs_zh = f"要达到 {pct} 的 token 命中率，每卡需要 {mem:g} GiB 显存，超过 {name} 的 {physical:g} GiB"
    out = []
    gpu = _bigger_gpu(hw.gpu, mem)
    if gpu is not None:
        preset = gpu_preset(gpu)
        change = {"gpu": gpu}
        if "memory_gib" in (s.raw.get("hardware") or {}):
            change["memory_gib"] = preset["memory_gib"]  # a given size would otherwise stay
        out.append(("gpu_for_target", {"hardware": change},
                    f"{needs_en}: the {preset['name']} has {preset['memory_gib']:g} GiB.",
                    f"{needs_zh}：{preset['name']} 有 {preset['memory_gib']:g} GiB。"))
    for factor in (2, 4, 8):
        gpus, tp = hw.num_gpus * factor, hw.tensor_parallel * factor
        if gpus > int(FIELDS_BY_PATH["hardware.num_gpus"].maximum):
            break
        patch = {"hardware": {"num_gpus": gpus, "tensor_parallel": tp}}
        try:
            tokens = resolve(parse_scenario(apply_patch(s.raw, patch))).capacity.total_tokens
        except (InfeasibleMemory, ValueError):
            continue
        if tokens >= need_tokens:
            out.append(("gpus_for_target", patch,
                        f"{needs_en}: {gpus} GPUs per replica (tensor parallel {tp}) spread the weights and "
                        f"hold {tokens:,} tokens of KV per replica.",
                        f"{needs_zh}：每副本 {gpus} 张 GPU（张量并行 {tp}）分摊权重，每副本可容纳 {tokens:,} token 的 KV。"))
            break
    return out


def _bigger_gpu(current: str, mem: float) -> str | None:
    """The preset GPU with the least memory of at least `mem` GiB, of the same maker when one has it
    (workstation and desktop parts left out)."""
    amd = gpu_arch(current).startswith("cdna")
    fits = [g for g in gpu_ids() if gpu_preset(g)["memory_gib"] >= mem and not gpu_arch(g).endswith("-geforce")
            and gpu_preset(g).get("gpu_link") in ("nvlink", "xgmi")]
    same = [g for g in fits if gpu_arch(g).startswith("cdna") == amd]
    return min(same or fits, key=lambda g: gpu_preset(g)["memory_gib"], default=None)


def _kv_dtypes(s: Scenario) -> list[tuple[str, dict, str, str]]:
    assert s.model is not None
    bits = KV_BITS[s.model.kv_dtype]
    out = []
    if bits > 8:
        out.append(("kv_fp8", {"model": {"kv_dtype": "fp8"}},
                    f"An FP8 KV cache (vLLM --kv-cache-dtype fp8; INT8 is the same size) holds {bits // 8}x the "
                    f"tokens in the same memory, at a small accuracy cost.",
                    f"FP8 KV 缓存（vLLM --kv-cache-dtype fp8；INT8 大小相同）在相同显存中容纳 {bits // 8} 倍 token，精度损失很小。"))
    if bits > 4 and s.hardware is not None and s.hardware.gpu in FP4_GPUS:
        out.append(("kv_fp4", {"model": {"kv_dtype": "fp4"}},
                    f"An FP4 KV cache holds {bits // 4}x the tokens on Blackwell (NVFP4), where the engine "
                    f"supports it; check the accuracy first.",
                    f"FP4 KV 缓存在 Blackwell（NVFP4）上可容纳 {bits // 4} 倍 token（需引擎支持）；请先验证精度。"))
    return out


def _cpu_tier(s: Scenario, current: dict, need_tokens: int, pct: str) -> list[tuple[str, dict, str, str]]:
    """A CPU DRAM tier of the size that, below the GPU, reaches the target (exclusive tiers add up)."""
    if s.tiers_policy != "exclusive" or any(t.name != "cpu" for t in s.tiers):
        return []
    existing = s.tiers[0].capacity_tokens if s.tiers else 0
    kv_bytes = current["kv_bytes_per_token"]
    if s.tiers and s.tiers[0].capacity_gb is not None and kv_bytes:
        existing = int(s.tiers[0].capacity_gb * 1e9 // kv_bytes)
    tokens = need_tokens - current["cache_capacity_tokens"] + (existing or 0)
    if tokens <= (existing or 0):
        return []
    read = s.tiers[0].read_gb_per_s if s.tiers else None
    if kv_bytes:
        gb = max(1, round(tokens * kv_bytes / 1e9 + 0.5))
        tier = {"name": "cpu", "capacity_gb": gb}
        size_en, size_zh = f"{gb:,} GB", f"{gb:,} GB"
    else:
        tier = {"name": "cpu", "capacity_tokens": tokens}
        size_en, size_zh = f"{tokens:,} tokens", f"{tokens:,} token"
    if read is not None:
        tier["read_gb_per_s"] = read
    return [("cpu_tier_for_target", {"tiers": [tier], "tiers_policy": "exclusive"},
             f"A {size_en} CPU-memory tier per replica (LMCache, SGLang HiCache, vLLM offloading) reaches a "
             f"{pct} token hit rate; loading over PCIe is faster than recomputing.",
             f"每个副本加 {size_zh} 的 CPU 内存层（LMCache、SGLang HiCache、vLLM 卸载）可达到 {pct} 的 token 命中率；"
             f"经 PCIe 加载比重算更快。")]


_UNKNOWN = object()


def advice(s: Scenario, current: dict, needed: int | None | object = _UNKNOWN) -> list[dict]:
    """Changes that raise the token hit rate (or save GPUs for little loss), best first, each priced by the
    model (`needed`: replicas_needed(s, current), when the caller has it already)."""
    out = []
    price = s.latency.price_per_gpu_hour
    keep_up = replicas_needed(s, current) if needed is _UNKNOWN else needed
    for ident, patch, why_en, why_zh in _candidates(s, current, keep_up):
        try:
            r = predict_scenario(parse_scenario(apply_patch(s.raw, patch)))
        except (InfeasibleMemory, ValueError):
            continue
        gain = r["token_hit_rate"] - current["token_hit_rate"]
        gpus_delta = r["cluster_gpus"] - current["cluster_gpus"]
        if _overloaded(r):
            continue  # a replica that cannot keep up has no steady state: its hit rate is no figure to plan with
        if ident == KEEP_UP:
            pass  # wanted whatever its hit rate: the current one is no steady state either
        elif ident == "fewer_replicas":
            if gain < -0.01:
                continue
        elif ident == "cpu_tier_for_target" and not all(row["load_pays"] for row in r["tiers"]):
            continue  # its hits would load slower than they recompute: no time saved
        elif gain <= 1e-3:
            continue
        cost = None
        if price is not None and r["gpus_saved"] is not None and current["gpus_saved"] is not None:
            cost = price * 24.0 * (gpus_delta - (r["gpus_saved"] - current["gpus_saved"]))
        out.append({"id": ident, "change": patch, "token_hit_rate": r["token_hit_rate"],
                    "request_hit_rate": r["request_hit_rate"],
                    "ideal_prefill_speedup": r["ideal_prefill_speedup"],
                    "token_hit_rate_gain": gain, "ttft_s": r["ttft_s"], "gpus_saved": r["gpus_saved"],
                    "cluster_gpus_delta": gpus_delta, "cost_per_day_delta": cost,
                    "why": why_en, "why_zh": why_zh})
    # an overloaded cluster keeps up first; then the largest gain
    out.sort(key=lambda x: (x["id"] != KEEP_UP, -round(x["token_hit_rate_gain"], 12), x["id"]))
    return out
