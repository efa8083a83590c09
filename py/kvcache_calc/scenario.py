"""Scenario JSON -> validated, preset-merged dataclasses; every error names field, value and range."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields as dc_fields, replace
from functools import lru_cache
from typing import Any

from .engine_versions import engine_defaults
from .presets import gpu_ids, gpu_preset, model_ids, model_preset
from .traffic.spec import PER_CLASS, TrafficSpec, parse_traffic, single_class
from .schema import (FIELDS_BY_PATH, MAX_TIERS, SCENARIO_VERSION, SECTIONS, TIER_FIELDS, TIER_NAME_PATTERN,
                     TIER_READ_DEFAULTS, TIERS_POLICY, Field, default_scenario)

MODEL_ARCH_KEYS = (
    "num_layers", "num_attention_heads", "num_kv_heads", "head_dim", "hidden_size",
    "intermediate_size", "vocab_size", "attention", "kv_lora_rank", "qk_rope_head_dim",
    "sliding_window", "sliding_window_layers", "linear_attention_layers", "params_b",
    "active_params_b", "weight_dtype", "kv_dtype", "tie_word_embeddings", "max_position_embeddings",
    "num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size",
    "dense_layers", "q_lora_rank", "qk_nope_head_dim", "v_head_dim", "index_head_dim",
    "chunked_local_layers", "attention_chunk_size", "linear_state_bytes", "quantization", "quant_bits",
    "quant_group_size",
)
_ARCH_KEY_SET = frozenset(MODEL_ARCH_KEYS)


@dataclass(frozen=True)
class ModelSpec:
    """Architecture and dtypes of the served model."""

    num_layers: int
    num_kv_heads: int
    head_dim: int
    num_attention_heads: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    vocab_size: int | None = None
    attention: str = "gqa"
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    sliding_window: int = 0
    sliding_window_layers: int = 0
    linear_attention_layers: int = 0
    params_b: float | None = None
    active_params_b: float | None = None
    weight_dtype: str = "bf16"
    kv_dtype: str = "bf16"
    weights_gib: float | None = None
    tie_word_embeddings: int = 0           # 1: the output head reuses the input embedding
    max_position_embeddings: int = 0       # the longest context the checkpoint declares (0 = unknown)
    num_experts: int = 0                   # routed experts per MoE layer (0 = dense)
    num_experts_per_tok: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    dense_layers: int = 0                  # MoE models: layers that keep a dense MLP
    q_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    index_head_dim: int = 0                # DeepSeek-V3.2 sparse-attention indexer keys (0 = none)
    chunked_local_layers: int = 0
    attention_chunk_size: int = 0
    linear_state_bytes: int = 0            # recurrent state one request holds per linear layer, TP 1
    quantization: str = "none"
    quant_bits: int = 0
    quant_group_size: int = 0
    preset: str | None = None


MODEL_SPEC_KEYS = frozenset(f.name for f in dc_fields(ModelSpec))


@dataclass(frozen=True)
class HardwareSpec:
    """GPUs of one replica and vLLM's memory settings."""

    memory_gib: float
    num_gpus: int = 1
    tensor_parallel: int = 1
    gpu_memory_utilization: float = 0.9    # parse_scenario fills the release's default
    max_num_batched_tokens: int = 8192     # parse_scenario fills the engine's default for the GPU
    max_num_seqs: int = 256
    max_model_len: int | None = None       # None: the model's max_position_embeddings
    cuda_graphs: str = "on"
    mem_fraction_static: float | None = None   # SGLang; None: its default for the GPU
    engine: str = "vllm"
    engine_version: str | None = None          # deploy.engine_version (None: engine_versions' default release)
    flashinfer: bool = True                    # deploy.flashinfer
    engine_defaulted: tuple[str, ...] = ()      # the settings above that took the engine's default for the GPU
    activation_reserve_gib: float | None = None
    tflops: float | None = None
    hbm_tb_per_s: float | None = None
    gpu: str | None = None


@dataclass(frozen=True)
class CacheSpec:
    block_size: int = 16
    capacity_tokens: int | None = None
    policy: str = "lru"
    admission: str = "engine"


@dataclass(frozen=True)
class WorkloadSpec:
    arrival_rate: float = 1.0
    turns_mean: float = 5.0
    turns_dist: str = "geometric"
    think_time_s: float = 60.0
    think_dist: str = "exponential"
    user_tokens: int = 200
    output_tokens: int = 400
    system_prompt_tokens: int = 1000


@dataclass(frozen=True)
class ClusterSpec:
    replicas: int = 1
    routing: str = "affinity"


@dataclass(frozen=True)
class DeploySpec:
    """Which engine's command line to write, and the checkpoint it loads (None: the preset's repository)."""

    engine: str = "vllm"
    model_id: str | None = None
    engine_version: str | None = None      # None: the release deploy/flags.py checks (engine_versions.py)
    flashinfer: str | None = None          # "no": not installed (vLLM before 0.12 then sorts to sample)


@dataclass(frozen=True)
class LatencySpec:
    """Roofline efficiencies (prefill MFU, decode MBU) and the optional price of a GPU-hour."""

    mfu: float = 0.4
    mbu: float = 0.7
    price_per_gpu_hour: float | None = None


@dataclass(frozen=True)
class TierSpec:
    """A cache tier below the GPU, per replica: size in GB or tokens, and each GPU's read bandwidth."""

    name: str
    read_gb_per_s: float
    capacity_gb: float | None = None
    capacity_tokens: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; `model`/`hardware` are None only when capacity is given directly."""

    model: ModelSpec | None
    hardware: HardwareSpec | None
    cache: CacheSpec
    workload: WorkloadSpec
    cluster: ClusterSpec
    raw: dict
    latency: LatencySpec = LatencySpec()
    tiers: tuple[TierSpec, ...] = ()
    tiers_policy: str = "exclusive"
    traffic: TrafficSpec | None = None   # the workload's classes (one for a version-1 workload)
    deploy: DeploySpec = DeploySpec()
    model_assumed_from: str | None = None   # the preset a model section without one took its fields from

    @property
    def multi_class(self) -> bool:
        return self.traffic is not None and not self.traffic.single

    def with_value(self, path: str, value: Any) -> "Scenario":
        """This scenario with one field changed (re-validated).

        Setting the cache size keeps the model and GPUs the memory model had filled in: they still
        size tiers in GB and the KV that running requests pin.
        """
        raw = self.raw
        if path == "cache.capacity_tokens":
            resolved = normalized(self)
            raw = {**raw, **{k: resolved[k] for k in ("model", "hardware") if k in resolved and not raw.get(k)}}
        if path == "workload.arrival_rate" and rates_per_class(raw):
            # the classes give their own rates: scale them all, keeping their proportions
            factor = value / self.traffic.arrival_rate
            workload = dict(raw["workload"])
            workload["classes"] = [{**c, "rate": c["rate"] * factor} for c in workload["classes"]]
            return parse_scenario({**raw, "workload": workload})
        return parse_scenario(set_path(raw, path, value))


def rates_per_class(raw: dict) -> bool:
    classes = (raw.get("workload") or {}).get("classes")
    return isinstance(classes, list) and bool(classes) and all(isinstance(c, dict) and "rate" in c for c in classes)


SECTION_DEFAULTS = default_scenario()


def set_path(scenario: dict, path: str, value: Any) -> dict:
    """A copy of a scenario dict with `section.key` set."""
    section, key = path.split(".", 1)
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in scenario.items()}
    out.setdefault(section, {})[key] = value
    return out


def get_path(scenario: dict, path: str) -> Any:
    section, key = path.split(".", 1)
    return (scenario.get(section) or {}).get(key)


def _fail(path: str, value: Any, allowed: str) -> ValueError:
    shown = repr(value) if not isinstance(value, str) else f'"{value}"'
    return ValueError(f"{path}: {shown} is not allowed; expected {allowed}")


def _check_value(field: Field, value: Any, choices: tuple[str, ...] | None = None) -> Any:
    """The value converted to the field's type, or a ValueError naming field, value and range."""
    if field.kind == "text" and field.pattern:
        if not isinstance(value, str) or len(value) > (field.maximum or 200) or not re.match(field.pattern, value):
            raise _fail(field.path, value, field.pattern_text)
        return value
    if field.kind == "text":
        if not isinstance(value, str) or not re.match(TIER_NAME_PATTERN, value):
            raise _fail(field.path, value, "lower-case letters, digits, - or _, starting with a letter, "
                                           "at most 24 characters")
        return value
    if field.kind == "enum":
        allowed = choices if choices is not None else field.choices
        if not isinstance(value, str) or value not in allowed:
            raise _fail(field.path, value, "one of " + ", ".join(f'"{c}"' for c in allowed))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(field.path, value, field.range_text())
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(field.path, value, field.range_text())
    given = value
    if field.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise _fail(field.path, given, field.range_text())
            value = int(value)
    else:
        value = float(value)
    too_low = field.minimum is not None and (
        value <= field.minimum if field.exclusive_minimum else value < field.minimum)
    too_high = field.maximum is not None and value > field.maximum
    if too_low or too_high:
        raise _fail(field.path, given, field.range_text())
    return value


def _read_section(raw: dict, section: str) -> dict:
    """Validated values of one section, keyed by field name; absent and null values left out."""
    body = raw.get(section, {})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _fail(section, body, "an object")
    out = {}
    for key, value in body.items():
        path = f"{section}.{key}"
        field = FIELDS_BY_PATH.get(path)
        if field is None:
            allowed = ", ".join(f.key for f in FIELDS_BY_PATH.values() if f.section == section)
            raise ValueError(f"{path}: unknown key; allowed keys in {section}: {allowed}")
        if value is None:
            if not field.optional:
                raise _fail(path, value, field.range_text())
            continue
        choices = model_ids() if path == "model.preset" else gpu_ids() if path == "hardware.gpu" else None
        out[key] = _check_value(field, value, choices)
    return out


def _tiers(raw: Any, direct_without_model: bool) -> tuple[TierSpec, ...]:
    """Validated tiers below the GPU; each error names tiers.<i>.<key>."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_TIERS:
        raise _fail("tiers", raw if not isinstance(raw, list) else f"{len(raw)} tiers",
                    f"a list of at most {MAX_TIERS} tier objects")
    fields = {f.key: f for f in TIER_FIELDS}
    out, names = [], set()
    for i, item in enumerate(raw):
        where = f"tiers.{i}"
        if not isinstance(item, dict):
            raise _fail(where, item, "an object with name, capacity_gb or capacity_tokens, read_gb_per_s")
        values = {}
        for key, value in item.items():
            field = fields.get(key)
            if field is None:
                raise ValueError(f"{where}.{key}: unknown key; allowed keys in a tier: " + ", ".join(fields))
            if value is None and field.optional:
                continue
            values[key] = _check_value(replace(field, path=f"{where}.{key}"), value)
        if "name" not in values:
            raise ValueError(f"{where}.name: required (for example \"cpu\" or \"ssd\")")
        if values["name"] in names:
            raise _fail(f"{where}.name", values["name"], "a name no other tier uses")
        names.add(values["name"])
        if ("capacity_gb" in values) == ("capacity_tokens" in values):
            raise ValueError(f"{where}.capacity_gb: give exactly one of capacity_gb and capacity_tokens")
        if "capacity_gb" in values and direct_without_model:
            raise ValueError(f"{where}.capacity_gb: sizing a tier in GB needs the model's KV bytes per token; "
                             f"give capacity_tokens, or a model instead of cache.capacity_tokens")
        if "read_gb_per_s" not in values:
            default = TIER_READ_DEFAULTS.get(values["name"])
            if default is None:
                raise ValueError(f"{where}.read_gb_per_s: required for a tier named \"{values['name']}\" "
                                 f"(defaults exist for " + ", ".join(TIER_READ_DEFAULTS) + ")")
            values["read_gb_per_s"] = default
        out.append(TierSpec(**values))
    return tuple(out)


def _model(values: dict, need_weights: bool) -> ModelSpec:
    # validated values are scalars: the same model section gives the same (immutable) spec, and every sweep
    # point and advice item re-reads it
    return _model_of(tuple(values.items()), need_weights)


@lru_cache(maxsize=64)
def _model_of(items: tuple, need_weights: bool) -> ModelSpec:
    values = dict(items)
    preset = values.get("preset")
    merged: dict = {}
    if preset is not None:
        merged.update({k: v for k, v in model_preset(preset).items() if k in _ARCH_KEY_SET})
    merged.update(values)
    if merged.get("attention") == "mla":
        merged.setdefault("num_kv_heads", 1)
        merged.setdefault("head_dim", merged.get("kv_lora_rank", 0) + merged.get("qk_rope_head_dim", 0))
    for key in ("num_layers", "num_kv_heads", "head_dim"):
        if key not in merged:
            raise ValueError(f"model.{key}: required when model.preset is not given "
                             f"(or give cache.capacity_tokens and omit the model)")
    if need_weights and "params_b" not in merged and "weights_gib" not in merged:
        raise ValueError("model.params_b: required to size the weights (or set model.weights_gib, "
                         "or give cache.capacity_tokens)")
    spec = ModelSpec(**{k: v for k, v in merged.items() if k in MODEL_SPEC_KEYS})
    if spec.attention == "mla" and spec.kv_lora_rank + spec.qk_rope_head_dim <= 0:
        raise ValueError("model.kv_lora_rank: MLA needs kv_lora_rank + qk_rope_head_dim > 0")
    if spec.num_attention_heads is not None and spec.num_kv_heads > spec.num_attention_heads \
            and spec.attention != "mla":
        raise _fail("model.num_kv_heads", spec.num_kv_heads,
                    f"an integer <= model.num_attention_heads ({spec.num_attention_heads})")
    if spec.sliding_window_layers + spec.linear_attention_layers > spec.num_layers:
        raise _fail("model.sliding_window_layers", spec.sliding_window_layers,
                    f"sliding-window + linear-attention layers <= model.num_layers ({spec.num_layers})")
    if spec.sliding_window_layers > 0 and spec.sliding_window <= 0:
        raise _fail("model.sliding_window", spec.sliding_window,
                    "a window > 0 tokens when model.sliding_window_layers > 0")
    if spec.active_params_b is not None and spec.params_b is not None \
            and spec.active_params_b > spec.params_b:
        raise _fail("model.active_params_b", spec.active_params_b,
                    f"a number <= model.params_b ({spec.params_b:g})")
    return spec


def _hardware(values: dict, deploy: DeploySpec, model: ModelSpec | None) -> HardwareSpec:
    # the preset still gives compute and bandwidth when memory is overridden
    gpu = values.get("gpu") or FIELDS_BY_PATH["hardware.gpu"].default
    if "memory_gib" not in values:
        values = {**values, "memory_gib": gpu_preset(gpu)["memory_gib"]}
    engine = deploy.engine
    values = {**values, "gpu": gpu, "engine": engine, "engine_version": deploy.engine_version,
              "flashinfer": deploy.flashinfer != "no"}
    values.setdefault("tensor_parallel", values.get("num_gpus", 1))
    tp = values["tensor_parallel"]
    pp = max(1, values.get("num_gpus", 1) // tp) if isinstance(tp, int) and tp > 0 else 1
    length = values.get("max_model_len") or (model.max_position_embeddings if model else None) or None
    defaults = engine_defaults(engine, deploy.engine_version, values["memory_gib"],
                               gpu_preset(gpu)["name"] if gpu in gpu_ids() else gpu, tp, pp,
                               values.get("max_num_batched_tokens"), length)
    chosen = {"max_num_batched_tokens": defaults.max_num_batched_tokens, "max_num_seqs": defaults.max_num_seqs,
              "gpu_memory_utilization": defaults.gpu_memory_utilization}
    if engine == "sglang":
        chosen["mem_fraction_static"] = defaults.mem_fraction_static
    unset = tuple(key for key in chosen if key not in values)
    values = {**chosen, **values, "engine_defaulted": unset}
    spec = HardwareSpec(**values)
    if spec.tensor_parallel > spec.num_gpus or spec.num_gpus % spec.tensor_parallel:
        raise _fail("hardware.tensor_parallel", spec.tensor_parallel,
                    f"a divisor of hardware.num_gpus ({spec.num_gpus})")
    if model is not None:
        _check_against_model(spec, model)
    return spec


def _check_against_model(hw: HardwareSpec, model: ModelSpec) -> None:
    """What the engine checks of the model against the parallelism and the context, in its own words."""
    tp, heads = hw.tensor_parallel, model.num_attention_heads
    if heads and heads % tp:
        # vllm/config/model.py verify_with_parallel_config (1142-1147 at 0.12.0); SGLang checks the same
        raise ValueError(f"hardware.tensor_parallel: {tp} is not allowed; vLLM says \"Total number of attention "
                         f"heads ({heads}) must be divisible by tensor parallel size ({tp}).\" Expected a divisor "
                         f"of {heads}")
    limit = model.max_position_embeddings
    if hw.max_model_len and limit and hw.max_model_len > limit:
        # vllm/config/model.py _get_and_verify_max_len (2254-2273 at 0.12.0)
        raise ValueError(f"hardware.max_model_len: {hw.max_model_len} is not allowed; vLLM says \"User-specified "
                         f"max_model_len ({hw.max_model_len}) is greater than the derived max_model_len "
                         f"(max_position_embeddings={limit} ...)\" and refuses to start unless "
                         f"VLLM_ALLOW_LONG_MAX_MODEL_LEN=1. Expected at most {limit} (model.max_position_embeddings)")


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario JSON object and merge presets and defaults into it."""
    if not isinstance(raw, dict):
        raise _fail("scenario", raw, "a JSON object")
    for key in raw:
        if key not in ("version", "tiers", "tiers_policy") and key not in SECTIONS:
            raise ValueError(f"{key}: unknown key; allowed top-level keys: version, "
                             + ", ".join(SECTIONS) + ", tiers, tiers_policy")
    version = raw.get("version", SCENARIO_VERSION)
    if version != SCENARIO_VERSION or isinstance(version, bool):
        raise _fail("version", version, f"{SCENARIO_VERSION}")
    workload_raw = raw.get("workload")
    nested = {k: workload_raw[k] for k in TRAFFIC_KEYS if k in workload_raw} if isinstance(workload_raw, dict) else {}
    if nested:
        raw_flat = {**raw, "workload": {k: v for k, v in workload_raw.items() if k not in TRAFFIC_KEYS}}
    else:
        raw_flat = raw
    values = {s: _read_section(raw_flat, s) for s in SECTIONS}
    defaults = SECTION_DEFAULTS
    cache = CacheSpec(**{**defaults["cache"], **values["cache"]})
    workload = WorkloadSpec(**{**defaults["workload"], **values["workload"]})
    cluster = ClusterSpec(**{**defaults["cluster"], **values["cluster"]})
    latency = LatencySpec(**{**defaults["latency"], **values["latency"]})
    deploy = DeploySpec(**{**defaults["deploy"], **values["deploy"]})
    tiers_policy = raw.get("tiers_policy")
    tiers_policy = TIERS_POLICY.default if tiers_policy is None else _check_value(TIERS_POLICY, tiers_policy)
    if cache.capacity_tokens is not None and cache.capacity_tokens < cache.block_size:
        raise _fail("cache.capacity_tokens", cache.capacity_tokens,
                    f"at least one block (>= cache.block_size = {cache.block_size})")
    if nested:
        traffic = _classes(nested, values["workload"])
    else:
        if workload.turns_dist == "fixed" and not float(workload.turns_mean).is_integer():
            raise _fail("workload.turns_mean", workload.turns_mean, 'an integer when workload.turns_dist is "fixed"')
        traffic = single_class(workload.arrival_rate, workload.turns_mean, workload.turns_dist, workload.think_time_s,
                               workload.think_dist, workload.user_tokens, workload.output_tokens,
                               workload.system_prompt_tokens)
    direct = cache.capacity_tokens is not None
    model_values = values["model"]
    explicit_arch = any(k in model_values for k in ("num_layers", "num_kv_heads", "head_dim"))
    assumed_from = None
    if "preset" not in model_values and not explicit_arch and (model_values or not direct):
        # No preset and no architecture: the default model, with any dtype or size overrides given.
        model_values = {"preset": FIELDS_BY_PATH["model.preset"].default, **model_values}
        if isinstance(raw.get("model"), dict):  # a model section was given, so this is no chosen default
            assumed_from = model_values["preset"]
    model = _model(model_values, need_weights=not direct) if model_values else None
    hardware = None
    if not direct or values["hardware"] or model is not None:
        # a model runs on some GPU: the default one sizes its latency when none is given
        hardware = _hardware(values["hardware"], deploy, model)
    cache = _engine_block_size(cache, model, hardware)
    tiers = _tiers(raw.get("tiers"), direct_without_model=model is None)
    if model is not None and hardware is not None:
        limit = hardware.max_model_len or model.max_position_embeddings
        traffic = replace(traffic, context_limit=limit or None)
    return Scenario(model, hardware, cache, workload, cluster, raw, latency, tiers, tiers_policy, traffic, deploy,
                    assumed_from)


def _engine_block_size(cache: CacheSpec, model: ModelSpec | None, hardware: HardwareSpec | None) -> CacheSpec:
    """vLLM raises a linear-attention hybrid's block size to fit its recurrent state: prefix hits come in those."""
    if model is None or hardware is None or hardware.engine != "vllm":
        return cache
    from .memory.kv import hybrid_block_size  # memory reads the specs defined here

    forced = hybrid_block_size(model, hardware.tensor_parallel)
    return replace(cache, block_size=forced) if forced > cache.block_size else cache


TRAFFIC_KEYS = ("classes", "prefixes")


def _classes(nested: dict, flat: dict) -> TrafficSpec:
    """The classes of a workload that has them; its version-1 per-conversation fields are refused."""
    if "classes" not in nested:
        raise ValueError("workload.prefixes: needs workload.classes (each class names the groups its prompts "
                         "start with)")
    for key in flat:
        if key in PER_CLASS:
            raise ValueError(f"workload.{key}: not allowed with workload.classes; set it per class "
                             f"(workload.classes.<i>.{PER_CLASS[key]})")
    return parse_traffic(nested, flat.get("arrival_rate"))


def normalized(s: Scenario) -> dict:
    """The scenario as JSON with presets resolved and defaults filled in."""
    out: dict = {"version": SCENARIO_VERSION}
    for name in SECTIONS:
        spec = getattr(s, name)
        if spec is None:
            continue
        # fields outside the contract (the hardware's engine, copied from deploy) stay out
        out[name] = {f.name: getattr(spec, f.name) for f in dc_fields(spec)
                     if getattr(spec, f.name) is not None and f"{name}.{f.name}" in FIELDS_BY_PATH}
    if s.multi_class:
        out["workload"] = s.traffic.to_json()
    if s.tiers:
        out["tiers"] = [{f.name: getattr(t, f.name) for f in dc_fields(t) if getattr(t, f.name) is not None}
                        for t in s.tiers]
        out["tiers_policy"] = s.tiers_policy
    return out


__all__ = ["Scenario", "ModelSpec", "HardwareSpec", "CacheSpec", "WorkloadSpec", "ClusterSpec",
           "LatencySpec", "TierSpec",
           "parse_scenario", "normalized", "set_path", "get_path"]
