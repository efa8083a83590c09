"""Sweeps, one-at-a-time swings (tornado) and inverse solves on top of the prediction."""

from __future__ import annotations

import math
from typing import Any

from .evaluate import hit_rates, predict_scenario
from .memory import InfeasibleMemory, memory_for_capacity_gib
from .resolve import traffic_of
from .scenario import Scenario, get_path, normalized, parse_scenario
from .schema import FIELDS_BY_PATH
from .traffic.distributions import scale_turns

SWEEP_PATHS = ("workload.arrival_rate", "workload.think_time_s", "workload.turns_mean",
               "workload.user_tokens", "workload.output_tokens", "workload.system_prompt_tokens")
# With classes, a traffic field stands for every class's law of it (or every prefix group's tokens),
# its value for their mean over conversations; moving it scales them all by the same factor.
CLASS_LAWS = {"workload.think_time_s": "think", "workload.turns_mean": "turns", "workload.user_tokens": "user",
              "workload.output_tokens": "output"}


def current_value(s: Scenario, path: str) -> Any:
    """A field's effective value: the normalized scenario's (presets and defaults resolved); with
    classes, a traffic field's mean over conversations."""
    if s.multi_class and (path in CLASS_LAWS or path == "workload.system_prompt_tokens"):
        spec = s.traffic
        if path == "workload.system_prompt_tokens":
            return sum(c.share * spec.prefix_tokens(c) for c in spec.classes)
        return sum(c.share * getattr(c, CLASS_LAWS[path]).mean for c in spec.classes)
    if path == "workload.arrival_rate":
        return s.traffic.arrival_rate
    section, key = path.split(".", 1)
    if section == "workload" and s.multi_class:
        return get_path(normalized(s), path)
    # what normalized(s) holds there, without building it for every sweep and swing
    spec = getattr(s, section, None)
    return getattr(spec, key, None) if spec is not None and path in FIELDS_BY_PATH else None


def with_value(s: Scenario, path: str, value: Any) -> Scenario:
    """The scenario with one field at `value` (with classes, a traffic field scales every class's law)."""
    if not (s.multi_class and (path in CLASS_LAWS or path == "workload.system_prompt_tokens")):
        return s.with_value(path, value)
    base = current_value(s, path)
    factor = value / base if base else 0.0
    workload = normalized(s)["workload"]
    if path == "workload.system_prompt_tokens":
        workload["prefixes"] = [{**g, "tokens": max(1, round(g["tokens"] * factor))} for g in workload["prefixes"]]
    else:
        key = CLASS_LAWS[path]
        for raw, cls in zip(workload["classes"], s.traffic.classes):
            law = getattr(cls, key)
            scaled = scale_turns(law, factor) if key == "turns" else law.scaled(factor)
            raw[{"think": "think_time_s", "turns": "turns", "user": "user_tokens", "output": "output_tokens"}[key]] \
                = scaled.to_json()
    return parse_scenario({**s.raw, "workload": workload})


def fit_value(path: str, value: float, s: Scenario) -> float | int:
    """A value clipped into the field's range and type (integers rounded, fixed turns whole)."""
    f = FIELDS_BY_PATH[path]
    if f.maximum is not None:
        value = min(value, f.maximum)
    if f.minimum is not None:
        floor = f.minimum * (1 + 1e-9) + (1e-9 if f.exclusive_minimum else 0.0)
        value = max(value, floor)
    if path == "cache.capacity_tokens":  # at least one block, as parse_scenario requires
        value = max(value, s.cache.block_size)
    if path == "workload.turns_mean" and not s.multi_class and s.workload.turns_dist == "fixed":
        return max(1, round(value))
    if f.kind == "int":
        return max(int(math.ceil(f.minimum or 0)), round(value))
    return float(value)


def _metrics(s: Scenario, what_if: bool = True) -> dict:
    r = hit_rates(s, what_if)
    # overloaded: a replica cannot keep up there (the replica_overloaded warning): its cache is pinned
    return {"token_hit_rate": r["token_hit_rate"], "request_hit_rate": r["request_hit_rate"],
            "seed_formula_hit_rate": r["seed_formula_hit_rate"],
            "cache_capacity_tokens": r["cache_capacity_tokens"], "overloaded": r["overloaded"]}


TORNADO_SWING = 0.2
# The panel's sweeps: 1/4x to 4x of the value, with the tornado's two swings among the points, so that
# the panel evaluates those twice-asked scenarios once (the model caches its evaluations).
PANEL_FACTORS = (0.25, 0.5, 1.0 - TORNADO_SWING, 1.0, 1.0 + TORNADO_SWING, 2.0, 4.0)
PANEL_TIER_POINTS = 9   # the panel's tier curve: every 2x the GPU cache (the curve is smooth and concave)


def sweep(s: Scenario, path: str, values: list[float] | None = None, points: int = 13,
          factors: tuple[float, ...] | None = None) -> dict:
    """Hit rates as one field varies (default: 1/4x to 4x of its value, log-spaced, or at `factors` of
    it; from 0 to 4x the field's default, evenly spaced, when the value is 0, as with no system prompt
    or no think time)."""
    if path not in FIELDS_BY_PATH or FIELDS_BY_PATH[path].kind == "enum":
        raise ValueError(f"sweep path: {path!r} is not a numeric scenario field")
    base = current_value(s, path)
    if factors is not None:
        points = len(factors)
    if values is None:
        default = FIELDS_BY_PATH[path].default
        if base and factors is not None:
            values = [base * f for f in factors]
        elif base:
            values = [base * 4.0 ** (2.0 * i / (points - 1) - 1.0) for i in range(points)]
        elif default:
            values = [4.0 * default * i / (points - 1) for i in range(points)]
        else:
            raise ValueError(f"{path}: cannot sweep around {base!r}; give explicit values")
    out = []
    seen = set()
    for v in values:
        fitted = fit_value(path, v, s)
        if fitted in seen:
            continue
        seen.add(fitted)
        try:
            row = _metrics(with_value(s, path, fitted))
        except InfeasibleMemory:
            continue
        out.append({"value": fitted, **row})
    f = FIELDS_BY_PATH[path]
    return {"path": path, "label_en": f.label_en, "label_zh": f.label_zh, "unit": f.unit,
            "current": base, "points": out}


def tornado_paths(s: Scenario) -> tuple[str, ...]:
    """The traffic fields plus whatever sets the cache size in this scenario."""
    if s.cache.capacity_tokens is not None:
        return (*SWEEP_PATHS, "cache.capacity_tokens")
    return (*SWEEP_PATHS, "hardware.memory_gib", "hardware.gpu_memory_utilization")


def tornado(s: Scenario, swing: float = TORNADO_SWING) -> dict:
    """Token hit rate when each main field moves by -swing and +swing, largest effect first."""
    base = hit_rates(s)["token_hit_rate"]
    bars = []
    for path in tornado_paths(s):
        value = current_value(s, path)
        if not value:
            continue
        lo, hi = fit_value(path, value * (1 - swing), s), fit_value(path, value * (1 + swing), s)
        try:
            low = _metrics(with_value(s, path, lo))
        except InfeasibleMemory:
            low = {"token_hit_rate": 0.0, "overloaded": False}  # no room for the KV at all
        high = _metrics(with_value(s, path, hi))
        f = FIELDS_BY_PATH[path]
        bars.append({"path": path, "label_en": f.label_en, "label_zh": f.label_zh, "value": value,
                     "low_value": lo, "high_value": hi,
                     "low_token_hit_rate": low["token_hit_rate"], "high_token_hit_rate": high["token_hit_rate"],
                     "low_overloaded": low["overloaded"], "high_overloaded": high["overloaded"]})
    # rounded so equal swings sort alike in CPython and Pyodide (their libm differ in the last digits)
    bars.sort(key=lambda b: (-round(abs(b["high_token_hit_rate"] - b["low_token_hit_rate"]), 12), b["path"]))
    return {"swing": swing, "base": base, "bars": bars}


SOLVE_MAX_TOKENS = 10**13   # per replica: a cache the target needs beyond this is "not achievable"


def _rate_at_capacity(s: Scenario, capacity: int, metric: str) -> float:
    return hit_rates(s.with_value("cache.capacity_tokens", capacity), what_if=True)[metric]


def solve_capacity(s: Scenario, target: float, metric: str = "token_hit_rate") -> dict:
    """Smallest cache (tokens per replica) whose predicted `metric` reaches `target`, by bisection."""
    if metric not in ("token_hit_rate", "request_hit_rate"):
        raise ValueError(f'metric: "{metric}" is not allowed; expected "token_hit_rate" or "request_hit_rate"')
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target < 1.0:
        raise ValueError(f"target: {target!r} is not allowed; expected a number > 0 and < 1")
    current = predict_scenario(s)
    ceiling = current["ceiling_" + metric]
    out = {"metric": metric, "target": target, "ceiling": ceiling,
           "current_capacity_tokens": current["cache_capacity_tokens"], "current": current[metric]}
    if target >= ceiling - 1e-9:
        return {**out, "achievable": False, "capacity_tokens": None, "memory_gib_per_gpu": None}
    b = s.cache.block_size
    rates: dict[int, float] = {}

    def rate(capacity: int) -> float:
        if capacity not in rates:
            rates[capacity] = _rate_at_capacity(s, capacity, metric)
        return rates[capacity]

    def reaches(capacity: int) -> bool:
        # the hit rate rises with the cache: a size priced on either side may decide it already
        if any(x <= capacity and r >= target for x, r in rates.items()):
            return True
        if any(x >= capacity and r < target for x, r in rates.items()):
            return False
        return rate(capacity) >= target

    lo, hi = b, max(b, current["cache_capacity_tokens"])
    # the largest size the doubling would try: short of the target there, every smaller size is too (as when
    # prefix-blind routing caps the rate below it), so after a second doubling that one is priced first
    largest = hi << max(0, (SOLVE_MAX_TOKENS // hi).bit_length() - 1)
    doublings = 0
    while not reaches(hi):
        lo, hi = hi, hi * 2
        doublings += 1
        if hi > SOLVE_MAX_TOKENS or (doublings == 2 and not reaches(largest)):
            return {**out, "achievable": False, "capacity_tokens": None, "memory_gib_per_gpu": None}
    if lo in rates:
        _narrow(rate, lo, hi, target, b)
    # the bisection's answer, its steps decided by the sizes priced so far wherever they can be
    while hi - lo > max(b, hi // 500):  # 0.2% of the capacity
        mid = (lo + hi) // 2
        if reaches(mid):
            hi = mid
        else:
            lo = mid
    memory = None
    if s.model is not None and s.hardware is not None:
        memory = memory_for_capacity_gib(s.model, s.hardware, hi, traffic_of(s).mean_prompt_tokens)
    return {**out, "achievable": True, "capacity_tokens": hi, "memory_gib_per_gpu": memory}


def _narrow(rate, lo: int, hi: int, target: float, block: int, steps: int = 5) -> None:
    """Price a few sizes that close in on where the rate crosses `target` between lo (short of it) and hi
    (at or past it): false position with the Illinois fix, on whole tokens. The hit rate is smooth in the
    cache size, so a handful of sizes leaves the bisection's later steps decided without a new evaluation.
    """
    f_lo, f_hi = rate(lo) - target, rate(hi) - target
    side = 0
    for _ in range(steps):
        if hi - lo <= max(block, hi // 1000):
            return
        x = min(max(round(hi - f_hi * (hi - lo) / (f_hi - f_lo)), lo + 1), hi - 1)
        fx = rate(x) - target
        if fx < 0.0:
            lo, f_lo = x, fx
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = x, fx
            if side == 1:
                f_lo *= 0.5
            side = 1


def memory_curve(s: Scenario, points: int = 13) -> dict:
    """Hit rates against memory per GPU (or cache tokens when capacity is given directly)."""
    by_memory = s.cache.capacity_tokens is None
    path = "hardware.memory_gib" if by_memory else "cache.capacity_tokens"
    base = current_value(s, path)
    values = [base * 4.0 ** (2.0 * i / (points - 1) - 1.0) for i in range(points)]
    curve = sweep(s, path, values)
    current = _metrics(s, what_if=False)
    return {"x_path": path, "x_unit": "GiB" if by_memory else "tokens",
            "points": [{"x": p["value"], **{k: v for k, v in p.items() if k != "value"}}
                       for p in curve["points"]],
            "current": {"x": base, **current}}


def tier_curve(s: Scenario, points: int = 13) -> dict:
    """Token and request hit rates against the size of the first tier below the GPU (a CPU tier when none).

    Sizes run from nothing to 16x the GPU cache, in GB when the model sizes the KV, else in tokens.
    """
    current = predict_scenario(s)
    kv_bytes = current["kv_bytes_per_token"]
    gpu_tokens = current["cache_capacity_tokens"]
    first = s.tiers[0] if s.tiers else None
    by_gb = kv_bytes is not None and (first is None or first.capacity_tokens is None)
    scale = kv_bytes / 1e9 if by_gb else 1.0
    inclusive = s.tiers_policy == "inclusive" and first is not None
    low = gpu_tokens if inclusive else 0
    sizes = [low + (16 * gpu_tokens - low) * i / (points - 1) for i in range(points)]
    name = first.name if first else "cpu"
    rest = [dict(t) for t in (s.raw.get("tiers") or [])[1:]]
    out = []
    for tokens in sizes:
        tier: dict = {"name": name}
        if first is not None:
            tier["read_gb_per_s"] = first.read_gb_per_s
        if by_gb:
            tier["capacity_gb"] = max(tokens * scale, 1e-9)
        else:
            tier["capacity_tokens"] = max(int(tokens), s.cache.block_size)
        raw = {**s.raw, "tiers": [tier, *rest] if tokens > 0 or inclusive else rest}
        try:
            r = hit_rates(parse_scenario(raw), with_gpu=True)
        except ValueError:
            continue
        out.append({"x": tokens * scale, "token_hit_rate": r["token_hit_rate"],
                    "request_hit_rate": r["request_hit_rate"], "gpu_token_hit_rate": r["gpu_token_hit_rate"]})
    here = None
    if first is not None:
        here = first.capacity_gb if by_gb else first.capacity_tokens
    return {"tier": name, "x_unit": "GB" if by_gb else "tokens", "points": out,
            "current": {"x": here or 0.0, "token_hit_rate": current["token_hit_rate"],
                        "request_hit_rate": current["request_hit_rate"]}}
