"""A resolved scenario -> every predicted metric, as plain numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .analytic import ClassHits, LruModel, LruPrediction
from .blind_routing import BlindRoutingModel, GeneralBlindModel, textbook
from .engine_versions import HYBRID_PREFIX_CACHING_SINCE, VLLM_DEFAULT_VERSION, parse_version
from .latency import no_cache_prefill_flops
from .memory import MemoryPlan
from .resolve import ReplicaCapacity, Resolved, resolve
from .presets import model_preset
from .scenario import MODEL_ARCH_KEYS, Scenario, normalized
from .schema import FIELDS_BY_PATH
from .seed_formula import seed_hit_rate
from .traffic.resolved import Traffic
from .traffic.turns import MAX_TABLE_TURNS
from .traffic.spec import TrafficSpec
from .units import GIB


REFUSED_SHARE_SHOWN = 1e-6   # conversations cut by the context limit, below which no warning is worth it


@lru_cache(maxsize=256)
def lru_prediction(spec: TrafficSpec, block_size: int, admission: str, blocks: int, rate: float) -> LruPrediction:
    """The model for one replica (cached: sweeps, swings and solves revisit the same points)."""
    from .traffic.resolved import build_traffic

    return LruModel(build_traffic(spec, block_size, admission), blocks, rate).predict()


@lru_cache(maxsize=256)
def blind_prediction(spec: TrafficSpec, block_size: int, admission: str, blocks: int, rate: float,
                     replicas: int) -> LruPrediction:
    """The model for one of `replicas` replicas that every conversation reaches (prefix-blind routing)."""
    from .traffic.resolved import build_traffic

    traffic = build_traffic(spec, block_size, admission)
    model = BlindRoutingModel if textbook(traffic) else GeneralBlindModel
    return model(traffic, blocks, rate, replicas).predict()


def replica_prediction(r: Resolved, blocks: int) -> LruPrediction:
    """The closed form for one replica of `blocks` blocks under the scenario's routing."""
    s = r.scenario
    n = s.cluster.replicas
    spec, b, admission = r.traffic.spec, s.cache.block_size, s.cache.admission
    if s.cluster.routing == "affinity" or n == 1:
        return lru_prediction(spec, b, admission, blocks, r.replica_rate)
    return blind_prediction(spec, b, admission, blocks, r.replica_rate, n)


@dataclass(frozen=True)
class LevelHits:
    """Hit rates an LRU of one level's cumulative size gets (tiers up to that level together)."""

    token_hit_rate: float
    request_hit_rate: float
    follow_up_block_hit_rate: float
    characteristic_time_s: float   # how long an idle block stays within the tiers down to this level
    classes: tuple[ClassHits, ...] = ()


def _closed_form_policy(s: Scenario) -> None:
    if s.cache.policy != "lru":
        raise ValueError(f'cache.policy: "{s.cache.policy}" has no closed form; expected "lru" to predict '
                         f"(simulate answers fifo and lfu)")


def model_levels(r: Resolved) -> list[LevelHits]:
    """The closed form at every level: LRUs of each level's cumulative size under the scenario's routing."""
    _closed_form_policy(r.scenario)
    out = []
    for blocks in r.capacity.levels:
        p = replica_prediction(r, blocks)
        out.append(LevelHits(p.token_hit_rate, p.request_hit_rate, p.follow_up_block_hit_rate,
                             p.characteristic_time_s, p.classes))
    return out


def hit_rates(s: Scenario, what_if: bool = False, with_gpu: bool = False) -> dict:
    """The hit rates alone, as predict_scenario gives them (what sweeps, swings and solves need);
    `with_gpu` adds the GPU level's token hit rate (gpu_token_hit_rate), a second evaluation with tiers."""
    r = resolve(s, what_if)
    _closed_form_policy(s)
    levels = r.capacity.levels
    top = replica_prediction(r, levels[-1])  # a middle tier changes no figure here
    out = {"token_hit_rate": top.token_hit_rate, "request_hit_rate": top.request_hit_rate,
           "cache_capacity_tokens": r.capacity.total_tokens,
           "seed_formula_hit_rate": _seed_formula(r), "overloaded": r.capacity.overloaded,
           "classes": [{"name": c.name, "token_hit_rate": c.token_hit_rate, "request_hit_rate": c.request_hit_rate}
                       for c in top.classes]}
    if with_gpu:
        out["gpu_token_hit_rate"] = replica_prediction(r, levels[0]).token_hit_rate
    return out


def _seed_formula(r: Resolved) -> float:
    s, spec = r.scenario, r.traffic.spec
    classes = spec.classes
    turns = sum(c.share * c.turns.mean for c in classes)
    think = sum(c.share * c.think.mean for c in classes)
    per_turn = sum(c.share * (c.user.mean + c.output.mean) for c in classes)
    if spec.single:  # the seed's own inputs, exactly
        w = s.workload
        turns, think, per_turn = w.turns_mean, w.think_time_s, w.user_tokens + w.output_tokens
    return seed_hit_rate(r.capacity.total_tokens, spec.arrival_rate / s.cluster.replicas, turns, think, per_turn)


def predict_scenario(s: Scenario) -> dict:
    """The closed-form prediction for a scenario (see docs/model.md and docs/planning.md)."""
    return predict_resolved(resolve(s))


def predict_resolved(r: Resolved) -> dict:
    """Every predicted metric of a resolved scenario."""
    s, traffic, cap = r.scenario, r.traffic, r.capacity
    b = s.cache.block_size
    plan = cap.plan
    levels = model_levels(r)
    gpu = replica_prediction(r, cap.gpu_blocks)
    top = replica_prediction(r, cap.levels[-1])
    hits = levels[-1]

    conv_rate = traffic.arrival_rate
    prompt_per_conv = top.prompt_tokens_per_conversation
    follow_ups = traffic.mean_turns - 1.0
    idle_blocks = sum(c.share * c.table.block_power_sums[0][1] for c in traffic.classes)
    done_blocks = sum(c.share * c.table.block_power_sums[1][1] for c in traffic.classes)
    idle_blocks_mean = idle_blocks / follow_ups if follow_ups > 0 else 0.0
    conversation_blocks = idle_blocks_mean or (done_blocks or 1.0)
    occupancy = (gpu.occupancy_system_prompt, gpu.occupancy_live, gpu.occupancy_idle, gpu.occupancy_finished)
    kv_bpt = plan.kv_bytes_per_token if plan else None
    warnings = _warnings(r, gpu.characteristic_time_s)
    tier_names = ["gpu"] + [t.name for t in s.tiers]
    token_by_tier = _differences([lv.token_hit_rate for lv in levels])
    request_by_tier = _differences([lv.request_hit_rate for lv in levels])
    pinned_tokens = cap.total_tokens - cap.gpu_blocks * b if cap.running is not None else 0
    think_mean = sum(c.share * c.think.mean for c in traffic.spec.classes)
    result = {
        "token_hit_rate": hits.token_hit_rate,
        "request_hit_rate": hits.request_hit_rate,
        "tier_token_hit_rates": dict(zip(tier_names, token_by_tier)),
        "tier_request_hit_rates": dict(zip(tier_names, request_by_tier)),
        "ceiling_token_hit_rate": top.ceiling_token_hit_rate,
        "ceiling_request_hit_rate": top.ceiling_request_hit_rate,
        "seed_formula_hit_rate": _seed_formula(r),
        "characteristic_time_s": gpu.characteristic_time_s if math.isfinite(gpu.characteristic_time_s) else None,
        "follow_up_block_hit_rate": hits.follow_up_block_hit_rate,
        "kv_bytes_per_token": kv_bpt,
        "cache_capacity_tokens": cap.total_tokens,
        "cache_capacity_blocks": cap.total_tokens // b,
        "cache_capacity_gib": cap.total_tokens * kv_bpt / GIB if kv_bpt else None,
        "pinned_tokens": pinned_tokens,
        "evictable_capacity_tokens": cap.gpu_blocks * b,
        "running_requests": cap.running.running if cap.running else None,
        "usable_gib_per_gpu": plan.usable_gib_per_gpu if plan else None,
        "weights_gib_per_gpu": plan.weights_gib_per_gpu if plan else None,
        "activation_reserve_gib_per_gpu": plan.activation_reserve_gib_per_gpu if plan else None,
        "kv_gib_per_gpu": plan.kv_gib_per_gpu if plan else None,
        "memory_budget": memory_budget(plan) if plan else None,
        "engine_kv_tokens": plan.logged_tokens if plan else None,
        "max_model_len": plan.max_model_len or None if plan else None,
        "max_concurrency": plan.max_concurrency if plan and plan.max_model_len else None,
        "derived_qps": conv_rate * traffic.mean_turns,
        "prompt_tokens_per_s": conv_rate * prompt_per_conv,
        "cached_tokens_per_s": conv_rate * prompt_per_conv * hits.token_hit_rate,
        "ideal_prefill_speedup": 1.0 / max(1.0 - hits.token_hit_rate, 1e-9),
        "cache_utilization": min(1.0, sum(occupancy)),
        "occupancy_system_prompt": occupancy[0],
        "occupancy_live": occupancy[1],
        "occupancy_idle": occupancy[2],
        "occupancy_finished": occupancy[3],
        "concurrent_conversations": conv_rate * follow_ups * think_mean if traffic.spec.single else
        conv_rate * sum(c.share * c.table.follow_up_weight * c.think.mean for c in traffic.classes),
        "conversations_in_cache": max(0.0, (cap.gpu_blocks - traffic.hot_shared_blocks) / conversation_blocks)
        * s.cluster.replicas,
        "mean_turns": traffic.mean_turns,
        "mean_prompt_tokens": prompt_per_conv / traffic.mean_turns,
        "replicas": s.cluster.replicas,
        "routing": s.cluster.routing,
        "cluster_gpus": s.cluster.replicas * (s.hardware.num_gpus if s.hardware else 1),
        "classes": _class_rows(r, levels, gpu),
        "tiers": _tier_rows(r, levels),
        **latency_figures(r, levels),
        "warnings": warnings,
        "model": model_identity(s),
        "scenario": normalized(s),
    }
    big_blocks = _large_blocks_warning(b, result)
    if big_blocks is not None:
        warnings.append(big_blocks)
    if (result["prefill_utilization"] or 0.0) >= 1.0:
        warnings.append({"code": "prefill_overloaded",
                         "message_en": f"Prefill alone needs {result['prefill_utilization']:.0%} of the cluster's "
                                       f"compute at latency.mfu: requests queue. Add GPUs or replicas.",
                         "message_zh": f"仅预填充就需要集群 {result['prefill_utilization']:.0%} 的算力（按 latency.mfu）："
                                       f"请求会排队。请增加 GPU 或副本。"})
    return result


def _class_rows(r: Resolved, levels: list[LevelHits], gpu: LruPrediction) -> list[dict]:
    """Per class: its share of conversations and requests, its hit rates (all tiers, and GPU alone)."""
    traffic = r.traffic
    rows = []
    for ct, top, on_gpu in zip(traffic.classes, levels[-1].classes, gpu.classes):
        table = ct.table
        rows.append({
            "name": ct.name, "share": ct.share,
            "request_share": ct.share * table.mean_turns / traffic.mean_turns,
            "prompt_token_share": ct.share * table.conversation_prompt_tokens / traffic.conversation_prompt_tokens,
            "mean_turns": table.mean_turns, "mean_prompt_tokens": table.mean_prompt_tokens,
            "token_hit_rate": top.token_hit_rate, "request_hit_rate": top.request_hit_rate,
            "gpu_token_hit_rate": on_gpu.token_hit_rate,
            "ceiling_token_hit_rate": top.ceiling_token_hit_rate,
            "ceiling_request_hit_rate": top.ceiling_request_hit_rate,
            "shared_token_hit_rate": top.shared_token_hit_rate,
            "follow_up_block_hit_rate": top.follow_up_block_hit_rate,
            "characteristic_time_s": on_gpu.characteristic_time_s if math.isfinite(on_gpu.characteristic_time_s)
            else None,
        })
    return rows


def _differences(cumulative: list[float]) -> list[float]:
    return [max(0.0, v - (cumulative[i - 1] if i else 0.0)) for i, v in enumerate(cumulative)]


def _tier_rows(r: Resolved, levels: list[LevelHits]) -> list[dict]:
    """GPU first: size, hit rates, how long an idle block stays, and whether loading a hit beats recomputing it."""
    s, cap = r.scenario, r.capacity
    token_by_tier = _differences([lv.token_hit_rate for lv in levels])
    request_by_tier = _differences([lv.request_hit_rate for lv in levels])
    kv_bytes = cap.plan.kv_bytes_per_token if cap.plan else None
    recompute = cap.roof.recompute_s_per_token(r.traffic.mean_prompt_tokens) if cap.roof else None
    rows = [{"name": "gpu", "capacity_tokens": cap.total_tokens, "read_gb_per_s": None,
             "load_s_per_token": 0.0 if cap.roof else None, "recompute_s_per_token": recompute, "load_pays": True}]
    for tier, tokens in zip(s.tiers, cap.tier_tokens):
        load = cap.roof.load_s_per_token(tier.read_gb_per_s) if cap.roof else None
        rows.append({"name": tier.name, "capacity_tokens": tokens, "read_gb_per_s": tier.read_gb_per_s,
                     "load_s_per_token": load, "recompute_s_per_token": recompute,
                     "load_pays": load is None or recompute is None or load < recompute})
    for row, token, request, level in zip(rows, token_by_tier, request_by_tier, levels):
        # what idle prefixes can use: the GPU's capacity less what running requests pin
        row["evictable_capacity_tokens"] = row["capacity_tokens"] if row["name"] != "gpu" else cap.gpu_blocks * s.cache.block_size
        row["capacity_gb"] = row["capacity_tokens"] * kv_bytes / 1e9 if kv_bytes else None
        row["token_hit_rate"] = token
        row["request_hit_rate"] = request
        t_char = level.characteristic_time_s
        row["characteristic_time_s"] = t_char if math.isfinite(t_char) else None
    return rows


def _request_hits(traffic: Traffic, level: LevelHits) -> list[float]:
    """Expected cached tokens of each of traffic.request_prompts at one level: the class's shared-prefix
    hits per request plus its follow-up block hit rate times the history, scaled so each class's
    requests sum to its token hit rate."""
    out = []
    for ct, hits in zip(traffic.classes, level.classes):
        table = ct.table
        items = table.request_prompts
        shared = hits.shared_token_hit_rate * table.conversation_prompt_tokens / table.mean_turns
        raw = [shared + hits.follow_up_block_hit_rate * h for _, _, h in items]
        got = sum(w * x for (w, _, _), x in zip(items, raw))
        want = hits.token_hit_rate * table.mean_prompt_tokens
        scale = want / got if got > 0 else 0.0
        out.extend(x * scale for x in raw)
    return out


def latency_figures(r: Resolved, levels: list[LevelHits]) -> dict:
    """Mean TTFT with and without the cache, prefill GPUs and what the hits save (None without a roofline)."""
    s, traffic, cap = r.scenario, r.traffic, r.capacity
    keys = ("ttft_no_cache_s", "ttft_s", "ttft_saved_s", "prefill_gpus_no_cache", "prefill_gpus", "gpus_saved",
            "money_saved_per_day", "decode_step_s", "prefill_utilization_no_cache", "prefill_utilization",
            "decode_utilization")
    roof = cap.roof
    if roof is None or cap.running is None:
        return dict.fromkeys(keys)
    recompute = roof.recompute_s_per_token(traffic.mean_prompt_tokens)
    loads = [0.0] + [roof.load_s_per_token(t.read_gb_per_s) for t in s.tiers]
    per_level = [_request_hits(traffic, lv) for lv in levels]
    useful = [k for k, load in enumerate(loads) if load < recompute]  # slower loads are recomputed instead
    prompts = traffic.request_prompts
    flops0 = no_cache_prefill_flops(roof, traffic)
    flops1 = load_s = 0.0
    for j, (wt, p, _) in enumerate(prompts):
        used = 0.0
        for k in useful:
            got = per_level[k][j] - (per_level[k - 1][j] if k else 0.0)
            used += got
            load_s += wt * got * loads[k]
        flops1 += wt * roof.prefill_flops(p - used, used)
    ttft0, ttft1 = roof.prefill_s_of_flops(flops0), roof.prefill_s_of_flops(flops1) + load_s
    gpu0, gpu1 = flops0 / roof.flops_per_gpu, flops1 / roof.flops_per_gpu
    qps = traffic.request_rate
    saved = qps * (gpu0 - gpu1)
    price = s.latency.price_per_gpu_hour
    gpus = s.cluster.replicas * s.hardware.num_gpus if s.hardware else 1
    return dict(zip(keys, (ttft0, ttft1, ttft0 - ttft1, qps * gpu0, qps * gpu1, saved,
                           saved * 24.0 * price if price is not None else None, cap.running.decode_step_s,
                           qps * gpu0 / gpus, qps * gpu1 / gpus, cap.running.decode_utilization)))


def model_identity(s: Scenario) -> dict | None:
    """Which model the figures are for: {preset, label, assumed_from, assumed_fields} (None without a model).

    preset: the preset whose fields were used (given, or assumed for a model section that names none);
    label: that preset's name, else deploy.model_id, else None (a custom model with no name);
    assumed_from / assumed_fields: the preset and the model fields taken from it when none was chosen.
    """
    if s.model is None:
        return None
    given = (s.raw.get("model") or {}) if isinstance(s.raw.get("model"), dict) else {}
    preset = given.get("preset") or s.model_assumed_from
    if preset is None and s.cache.capacity_tokens is None and not given:
        preset = FIELDS_BY_PATH["model.preset"].default
    assumed_fields = []
    if s.model_assumed_from is not None:
        assumed_fields = [k for k in MODEL_ARCH_KEYS if k in model_preset(s.model_assumed_from) and k not in given]
    label = model_preset(preset)["name"] if preset else s.deploy.model_id
    return {"preset": preset, "label": label, "assumed_from": s.model_assumed_from, "assumed_fields": assumed_fields}


def _warnings(r: Resolved, t_char: float) -> list[dict]:
    s, traffic, cap = r.scenario, r.traffic, r.capacity
    out = []
    if s.model_assumed_from is not None:
        identity = model_identity(s)
        name, fields = identity["label"], identity["assumed_fields"]
        out.append({"code": "model_fields_assumed",
                    "params": {"preset": s.model_assumed_from, "fields": fields},
                    "message_en": f"No model preset is chosen and the model's architecture is not given: the figures "
                                  f"are for {name}, whose {len(fields)} model fields not given here were taken "
                                  f"(layers, heads, sizes, dtypes, context). Choose a preset, or give the model's "
                                  f"layers, KV heads and head size.",
                    "message_zh": f"未选择模型预设，也未给出模型结构：数字按 {name} 计算，此处未给出的 {len(fields)} 个模型"
                                  f"字段（层数、头数、尺寸、数据类型、上下文）取自该预设。请选择预设，或填写模型的层数、"
                                  f"KV 头数和头维度。"})
    blocks = cap.gpu_blocks
    run = cap.running
    if cap.overloaded:
        out.append({"code": "replica_overloaded",
                    "message_en": f"Each replica cannot keep up (decode needs {run.decode_utilization:.0%} of the "
                                  f"memory bandwidth, more than hardware.max_num_seqs requests run, or their KV does "
                                  f"not fit the cache): requests queue and the cache is mostly pinned. Add replicas.",
                    "message_zh": f"每个副本处理不过来（解码需要 {run.decode_utilization:.0%} 的显存带宽、并发超过 "
                                  f"hardware.max_num_seqs，或其 KV 放不进缓存）：请求会排队，缓存大多被占住。请增加副本。"})
    out.extend(_hybrid_warnings(s))
    if cap.unfit is not None:  # a plan was tried, so there is a GPU (the default one when none was named)
        named = bool(s.raw.get("hardware"))
        gpu = s.hardware.gpu
        out.append({"code": "capacity_given_model_does_not_fit",
                    "message_en": f"The cache size is given (cache.capacity_tokens), so the hit rates stand; but on this "
                                  f"GPU{'' if named else f' (no hardware given: the default {gpu})'} "
                                  f"{cap.unfit.removeprefix('hardware: ')}. Figures that need the GPU's "
                                  f"memory plan (prefill time, running requests, GPUs) are left out.",
                    "message_zh": f"缓存大小已直接给定（cache.capacity_tokens），命中率不受影响；但模型放不进这块 GPU"
                                  f"{'' if named else f'（未给出硬件，按默认 {gpu}）'}。"
                                  f"需要显存规划的数字（预填充时间、运行中请求、GPU 数）不计算。"})
    if run is not None and cap.total_tokens and run.pinned_tokens > 0.5 * cap.total_tokens:
        out.append({"code": "running_requests_pin_cache",
                    "message_en": "Running requests pin more than half of the GPU cache; little is left to keep idle conversations.",
                    "message_zh": "运行中的请求占住了超过一半的 GPU 缓存；留给空闲会话的空间很少。"})
    if cap.roof is not None and s.tiers:
        recompute = cap.roof.recompute_s_per_token(traffic.mean_prompt_tokens)
        for tier in s.tiers:
            if cap.roof.load_s_per_token(tier.read_gb_per_s) >= recompute:
                out.append({"code": "tier_slower_than_recompute",
                            "message_en": f"Loading from tier {tier.name} is slower than recomputing: its hits count in the hit rate but save no time.",
                            "message_zh": f"从 {tier.name} 层加载比重新计算还慢：其命中计入命中率，但不节省时间。"})
    if traffic.max_shared_blocks >= blocks:
        out.append({"code": "system_prompt_exceeds_cache",
                    "message_en": "The shared prefix alone fills the cache: conversations cannot keep any history.",
                    "message_zh": "仅共享前缀就占满了缓存：会话无法保留任何历史。"})
    if cap.levels[-1] < traffic.longest_blocks:
        out.append({"code": "conversation_exceeds_cache",
                    "message_en": "Some conversations grow larger than the whole cache; their early turns cannot stay cached.",
                    "message_zh": "部分会话的长度超过整个缓存；它们的早期轮次无法保留在缓存中。"})
    limit = traffic.spec.context_limit
    first = [(c.share, sum(c.table.prompts[0]) / len(c.table.prompts[0])) for c in traffic.classes]
    too_long = [(share, tokens) for share, tokens in first if limit and tokens > limit]
    if too_long:
        share = sum(w for w, _ in too_long)
        longest = max(t for _, t in too_long)
        out.append({"code": "first_prompt_exceeds_max_model_len",
                    "params": {"share": share, "max_model_len": limit, "first_prompt_tokens": longest},
                    "message_en": f"A first prompt of {longest:,.0f} tokens is longer than the engine's max_model_len "
                                  f"({limit:,}): the engine refuses {_percent(share)} of conversations outright, and "
                                  f"the figures for them are for traffic it would not serve. Raise "
                                  f"hardware.max_model_len (up to the model's context) or shorten the prompts.",
                    "message_zh": f"{longest:,.0f} token 的首轮提示超过引擎的 max_model_len（{limit:,}）：引擎会直接拒绝 "
                                  f"{_percent(share)} 的会话，这些会话的数字对应的是它不会服务的流量。请提高 "
                                  f"hardware.max_model_len（不超过模型的上下文）或缩短提示。"})
    refused = sum(c.share * c.table.refused_share for c in traffic.classes)
    if refused > REFUSED_SHARE_SHOWN:
        limit = traffic.spec.context_limit
        turns = max(len(c.table.reach) for c in traffic.classes if c.table.refused_share > 0.0)
        out.append({"code": "conversations_reach_context_limit",
                    "params": {"share": refused, "max_model_len": limit, "turns": turns},
                    "message_en": f"{_percent(refused)} of conversations would go on past a prompt of {limit:,} tokens "
                                  f"(the engine's max_model_len, after about {turns:,} turns): the engine refuses such "
                                  f"a request, so the figures end those conversations there.",
                    "message_zh": f"{_percent(refused)} 的会话会继续到超过 {limit:,} token 的提示（引擎的 max_model_len，"
                                  f"约 {turns:,} 轮之后）：引擎拒绝这样的请求，因此计算中这些会话在此结束。"})
    # conversations that still grow past the table's last turn are taken at that turn's size
    beyond = sum(c.share * c.table.beyond_share for c in traffic.classes
                 if any(kind != "branch" for kind, _ in c.spec.follow_ups))
    if beyond > REFUSED_SHARE_SHOWN:
        out.append({"code": "long_conversations_capped",
                    "params": {"share": beyond, "turns": MAX_TABLE_TURNS},
                    "message_en": f"{_percent(beyond)} of conversations have more than {MAX_TABLE_TURNS:,} turns; "
                                  f"their later turns are computed at the size of turn {MAX_TABLE_TURNS:,}, so the "
                                  f"figures understate how large they grow.",
                    "message_zh": f"{_percent(beyond)} 的会话超过 {MAX_TABLE_TURNS:,} 轮；其后各轮按第 {MAX_TABLE_TURNS:,} "
                                  f"轮的大小计算，因此低估了它们增长后的大小。"})
    if not math.isfinite(t_char):
        out.append({"code": "cache_never_full",
                    "message_en": "The cache never fills: every reusable prefix stays cached (hit rates equal the ceiling).",
                    "message_zh": "缓存永远不会被填满：所有可复用前缀都会保留（命中率等于上限）。"})
    return out


LARGE_BLOCK_SHARE = 0.25      # a block this share of the mean prompt or more rounds much of it away
HIT_RATE_GAP = 0.10          # request hit rate this far above the token hit rate


def _large_blocks_warning(b: int, result: dict) -> dict | None:
    """Why the request hit rate stands far above the token hit rate when a block is a large share of a
    prompt: only whole blocks are cached, so a request whose few whole blocks are all found counts as
    a hit while the partial block that holds most of its new history is recomputed."""
    prompt, token, request = result["mean_prompt_tokens"], result["token_hit_rate"], result["request_hit_rate"]
    if prompt <= 0 or b < LARGE_BLOCK_SHARE * prompt or request < token + HIT_RATE_GAP:
        return None
    ceiling = result["ceiling_token_hit_rate"]
    return {"code": "large_blocks_request_hits",
            "params": {"block_size": b, "mean_prompt_tokens": prompt, "block_share": b / prompt,
                       "token_hit_rate": token, "request_hit_rate": request, "ceiling_token_hit_rate": ceiling},
            "message_en": f"A block of {b:,} tokens is {b / prompt:.0%} of a mean prompt ({prompt:,.0f} tokens). Only "
                          f"whole blocks are cached, so the tokens in a prompt's last, partial block are always "
                          f"recomputed (even an unbounded cache would hit only {ceiling:.0%} of tokens), while a "
                          f"request counts as a hit when its few whole blocks are found: the request hit rate "
                          f"({request:.0%}) says little about the prefill saved (token hit rate {token:.0%}). "
                          f"A smaller cache.block_size caches more of each prompt.",
            "message_zh": f"{b:,} token 的块占平均提示（{prompt:,.0f} token）的 {b / prompt:.0%}。只有满块会被缓存，"
                          f"提示末尾不满一块的 token 总要重算（即使缓存无限大，token 命中率也只有 {ceiling:.0%}），"
                          f"而一个请求只要找到它仅有的几个满块就算命中：请求命中率（{request:.0%}）不能说明节省了多少"
                          f"预填充（token 命中率 {token:.0%}）。更小的 cache.block_size 能缓存提示的更多部分。"}


def _percent(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 else f"{share * 100:.2g}%"


def memory_budget(plan: MemoryPlan) -> dict:
    """The budget bar of one GPU with the tokens the engine will log, the prefix capacity and max_model_len."""
    return {
        **plan.budget.to_json(),
        "engine_kv_tokens": plan.logged_tokens,
        "prefix_capacity_tokens": plan.capacity_tokens,
        "num_blocks": plan.num_blocks,
        "max_model_len": plan.max_model_len or None,
        "max_concurrency": plan.max_concurrency if plan.max_model_len else None,
        # a window or linear layer keeps less than every token: the prefix cache holds more than the log says
        "differs_from_log": plan.logged_tokens != plan.capacity_tokens,
    }


def _hybrid_warnings(s: Scenario) -> list[dict]:
    """What vLLM does with a linear-attention hybrid's prefix cache: its block size, and whether it caches at all."""
    m, hw = s.model, s.hardware
    if m is None or hw is None or hw.engine != "vllm" or not m.linear_attention_layers:
        return []
    out = []
    asked = (s.raw.get("cache") or {}).get("block_size", FIELDS_BY_PATH["cache.block_size"].default)
    if s.cache.block_size > asked:
        b = s.cache.block_size
        out.append({"code": "hybrid_block_size",
                    "message_en": f"vLLM sets this hybrid model's attention block to {b} tokens so that one page holds "
                                  f"a linear layer's state (\"Setting attention block size to {b} tokens\"): prefixes "
                                  f"are cached and found in {b}-token blocks, and the hit rates are computed so.",
                    "message_zh": f"vLLM 把该混合模型的注意力块设为 {b} 个 token，使一页能容纳线性层的状态：前缀以 {b} "
                                  f"token 的块缓存和命中，命中率按此计算。"})
    if parse_version(hw.engine_version or VLLM_DEFAULT_VERSION) < HYBRID_PREFIX_CACHING_SINCE:
        out.append({"code": "hybrid_prefix_caching_off",
                    "message_en": "Before vLLM 0.26 a hybrid (linear-attention) model runs without prefix caching "
                                  "unless --enable-prefix-caching is given, and then it is experimental "
                                  "(vllm/config/model.py is_prefix_caching_supported); the hit rates assume it is on, "
                                  "as the deployment's command line sets it.",
                    "message_zh": "vLLM 0.26 之前，混合（线性注意力）模型默认不启用前缀缓存，除非传入 "
                                  "--enable-prefix-caching，且该功能为实验性；命中率按已启用计算（部署命令行会启用它）。"})
    return out
