"""The JSON boundary: scenario JSON in, result JSON out, for the page's worker, the CLI and Python users."""

from __future__ import annotations

import json
import math
import re
import statistics
from typing import Any, Callable

from .advise import advice, apply_patch, replicas_needed, status
from .compare import compare_results
from .evaluate import predict_scenario
from .memory import InfeasibleMemory
from .presets import gpu_ids, load_presets, model_ids
from .scenario import parse_scenario, rates_per_class
from .routing_comparison import RoutingSimulation, model_comparison
from .schema import schema_json
from .sensitivity import PANEL_FACTORS, PANEL_TIER_POINTS, SWEEP_PATHS, memory_curve, solve_capacity, sweep, tier_curve, tornado
from .simulate import Simulation, simulate_scenario
from .traffic.spec import PER_CLASS


def predict(scenario: dict, with_advice: bool = True) -> dict:
    """Every predicted metric for a scenario, and the advisor's list (raises ValueError naming the bad field)."""
    s = parse_scenario(scenario)
    result = predict_scenario(s)
    needed = replicas_needed(s, result)
    result["status"] = status(s, result, needed)
    if with_advice:
        result["advice"] = advice(s, result, needed)
    return result


def analyze(scenario: dict) -> dict:
    """What the page draws after each change: prediction, curves, swings, tiers, routings and advice."""
    s = parse_scenario(scenario)
    current = predict_scenario(s)
    needed = replicas_needed(s, current)
    current["status"] = status(s, current, needed)
    items = advice(s, current, needed)
    return {
        "predict": current,
        "memory_curve": memory_curve(s),
        "sweeps": [sweep(s, path, factors=PANEL_FACTORS) for path in SWEEP_PATHS],
        "tornado": tornado(s),
        "tier_curve": tier_curve(s, points=PANEL_TIER_POINTS),
        "routing": compare_routing(scenario),
        "advice": items,
        "deploy": deployments(s, items),
    }


def deploy(scenario: dict, engine: str | None = None) -> dict:
    """The engine command lines of the scenario and of each advice item (`engine` overrides deploy.engine)."""
    if engine is not None:
        scenario = apply_patch(scenario, {"deploy": {"engine": engine}})
    s = parse_scenario(scenario)
    return deployments(s, advice(s, predict_scenario(s)))


def deployments(s, items: list[dict]) -> dict:
    """The scenario's deployment and, by advice id, each advised scenario's."""
    from .deploy import deployment  # its flag tables load with the first analysis, not with every boot

    return {"current": deployment(s),
            "advice": {item["id"]: deployment(parse_scenario(apply_patch(s.raw, item["change"]))) for item in items}}


def compare_routing(scenario: dict, simulate: bool = False, seed: int = 1, requests: int | None = None) -> dict:
    """Hit rates of this cluster under every routing, from the model; with `simulate`, also simulated
    (the simulated_* keys are null otherwise)."""
    s = parse_scenario(scenario)
    if not simulate:
        return model_comparison(s)
    return RoutingSimulation(s, _seed(seed), _count("requests", requests)).run()


def simulate(scenario: dict, seed: int = 1, requests: int | None = None,
             duration_s: float | None = None) -> dict:
    """Simulated metrics (with 95% confidence half-widths) next to the prediction."""
    s = parse_scenario(scenario)
    result = simulate_scenario(s, _seed(seed), _count("requests", requests), _seconds(duration_s))
    return _with_prediction(s, result)


def _with_prediction(s, result: dict) -> dict:
    if s.cache.policy != "lru":
        return {**result, "prediction": None}
    p = predict_scenario(s)
    keys = ("token_hit_rate", "request_hit_rate", "tier_token_hit_rates", "tier_request_hit_rates")
    return {**result, "prediction": {k: p[k] for k in keys}}


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"seed: {value!r} is not allowed; expected an integer >= 0")
    return value


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 10**8:
        raise ValueError(f"{name}: {value!r} is not allowed; expected an integer >= 100 and <= 1e8")
    return value


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1e9 \
            or value != value:
        raise ValueError(f"duration_s: {value!r} is not allowed; expected a number > 0 and <= 1e9")
    return float(value)


class SimulationRuns:
    """Simulations the page runs step by step (start, step, cancel), so it can show progress and cancel:
    one scenario's (simulate_start) or every routing's (compare_routing_start), stepped alike."""

    def __init__(self) -> None:
        self.runs: dict[int, tuple[Simulation | RoutingSimulation, Callable[[], dict]]] = {}
        self.next_id = 1

    def _add(self, run: Simulation | RoutingSimulation, finish: Callable[[], dict]) -> dict:
        run_id, self.next_id = self.next_id, self.next_id + 1
        self.runs[run_id] = (run, finish)
        return {"run": run_id, "estimated_touches": run.estimated_touches}

    def start(self, p: dict) -> dict:
        s = parse_scenario(_payload_scenario(p))
        sim = Simulation(s, _seed(p.get("seed", 1)), _count("requests", p.get("requests")),
                         _seconds(p.get("duration_s")))
        return self._add(sim, lambda: _with_prediction(sim.scenario, sim.result()))

    def start_routing(self, p: dict) -> dict:
        s = parse_scenario(_payload_scenario(p))
        run = RoutingSimulation(s, _seed(p.get("seed", 1)), _count("requests", p.get("requests")))
        return self._add(run, run.result)

    def step(self, p: dict) -> dict:
        run_id = p.get("run")
        if not isinstance(run_id, int) or run_id not in self.runs:
            raise ValueError(f"run: {run_id!r} is not a running simulation")
        run, finish = self.runs[run_id]
        if not run.step(int(p.get("touches", 300_000))):
            return {"run": run_id, "done": False, "progress": run.progress}
        del self.runs[run_id]
        return {"run": run_id, "done": True, "progress": 1.0, "result": finish()}

    def cancel(self, p: dict) -> dict:
        run_id = p.get("run")
        return {"run": run_id, "cancelled": isinstance(run_id, int) and self.runs.pop(run_id, None) is not None}


RUNS = SimulationRuns()


def model_vs_replay(scenario: dict, points: list) -> dict:
    """The model at each replayed capacity next to the replay: {capacity_tokens, replay, model, gap} in
    token hit rate (gap: model - replay, in points), and the worst and median |gap|."""
    if not isinstance(points, list) or not points:
        raise ValueError("points: expected a non-empty list of replay points (capacity_tokens, token_hit_rate)")
    base = parse_scenario(scenario)
    cache = dict(scenario.get("cache") or {})
    rows = []
    for i, p in enumerate(points):
        cap, hit = (p.get("capacity_tokens"), p.get("token_hit_rate")) if isinstance(p, dict) else (None, None)
        if not isinstance(cap, (int, float)) or isinstance(cap, bool) or not math.isfinite(cap) or cap < 1 \
                or not isinstance(hit, (int, float)) or isinstance(hit, bool) or not 0 <= hit <= 1:
            raise ValueError(f"points.{i}: expected capacity_tokens >= 1 and token_hit_rate from 0 to 1")
        cache["capacity_tokens"] = max(int(cap), base.cache.block_size)
        model = predict_scenario(parse_scenario({**scenario, "cache": cache}))["token_hit_rate"]
        rows.append({"capacity_tokens": cap, "replay": hit, "model": model, "gap_points": (model - hit) * 100})
    gaps = [abs(r["gap_points"]) for r in rows]
    return {"points": rows, "worst_gap_points": max(gaps), "median_gap_points": statistics.median(gaps)}


def workload_as_classes(scenario: dict) -> dict:
    """The scenario with its workload written as prefix groups and classes (a version-1 workload is one
    class), for the page's classes editor."""
    s = parse_scenario(scenario)
    workload = {k: v for k, v in (scenario.get("workload") or {}).items() if k not in PER_CLASS}
    traffic = s.traffic.to_json()
    classes = traffic["classes"]
    if rates_per_class(scenario):
        # classes with their own rates keep them (the total is their sum)
        classes = [{("rate" if k == "share" else k): (v * traffic["arrival_rate"] if k == "share" else v)
                    for k, v in c.items()} for c in classes]
    else:
        workload["arrival_rate"] = traffic["arrival_rate"]
    workload.update(prefixes=traffic["prefixes"], classes=classes)
    return {**scenario, "workload": workload}


def workload_as_one_class(scenario: dict) -> dict:
    """The scenario with its classes written as the version-1 fields, when it has one class those can
    say (fixed tokens, geometric or fixed turns, exponential or fixed think time, at most one system
    prompt, continuing follow-ups); ValueError naming what they cannot say otherwise."""
    s = parse_scenario(scenario)
    fields = s.traffic.single_fields()
    workload = {k: v for k, v in (scenario.get("workload") or {}).items() if k not in ("classes", "prefixes")}
    workload.update(arrival_rate=s.traffic.arrival_rate, **fields)
    return {**scenario, "workload": workload}


def schema() -> dict:
    """The field table, with preset ids as the choices of model.preset and hardware.gpu."""
    out = schema_json()
    for field in out["fields"]:
        if field["path"] == "model.preset":
            field["choices"] = list(model_ids())
        elif field["path"] == "hardware.gpu":
            field["choices"] = list(gpu_ids())
    return out


def _payload_scenario(payload: dict) -> dict:
    return payload.get("scenario", {})


def import_hf_config(text: Any) -> dict:
    """A Hugging Face config.json text -> the model fields it gives, with what was read, ignored and wrong."""
    from .hf_config import import_hf_config_text  # the importer loads with its first use, not with every boot

    if not isinstance(text, str):
        raise ValueError(f"text: expected the config.json text as a string, not {type(text).__name__}")
    if len(text) > 1_000_000:
        raise ValueError(f"text: {len(text):,} characters is not allowed; a config.json is at most 1,000,000")
    imported = import_hf_config_text(text)
    return {"fields": imported.fields, "family": imported.family, "read": imported.read,
            "ignored": imported.ignored, "problems": imported.problems, "notes": imported.notes,
            "estimated": imported.estimated}


METHODS: dict[str, Callable[[dict], Any]] = {
    "import_hf_config": lambda p: import_hf_config(p.get("text")),
    "schema": lambda p: schema(),
    "presets": lambda p: load_presets(),
    "predict": lambda p: predict(_payload_scenario(p), p.get("advice", True) is not False),
    "compare_routing": lambda p: compare_routing(_payload_scenario(p), p.get("simulate") is True, p.get("seed", 1),
                                                 p.get("requests")),
    "tier_curve": lambda p: tier_curve(parse_scenario(_payload_scenario(p))),
    "analyze": lambda p: analyze(_payload_scenario(p)),
    "compare": lambda p: compare_results(p.get("baseline"), p.get("current")),
    "sweep": lambda p: sweep(parse_scenario(_payload_scenario(p)), p.get("path", ""), p.get("values")),
    "tornado": lambda p: tornado(parse_scenario(_payload_scenario(p)), float(p.get("swing", 0.2))),
    "memory_curve": lambda p: memory_curve(parse_scenario(_payload_scenario(p))),
    "simulate": lambda p: simulate(_payload_scenario(p), p.get("seed", 1), p.get("requests"),
                                   p.get("duration_s")),
    "simulate_start": RUNS.start,
    "compare_routing_start": RUNS.start_routing,
    "simulate_step": RUNS.step,
    "simulate_cancel": RUNS.cancel,
    "model_vs_replay": lambda p: model_vs_replay(_payload_scenario(p), p.get("points")),
    "workload_as_classes": lambda p: workload_as_classes(_payload_scenario(p)),
    "workload_as_one_class": lambda p: workload_as_one_class(_payload_scenario(p)),
    "deploy": lambda p: deploy(_payload_scenario(p), p.get("engine")),
    "solve": lambda p: solve_capacity(parse_scenario(_payload_scenario(p)), p.get("target", 0.8),
                                      p.get("metric", "token_hit_rate")),
}


# Trace replay and fit (docs/trace.md): payload {"path", "name"? (the user's file name, for messages),
# "block_size"?, "format"?, ...}. Imported on
# first use: with blind_routing's statistics import also deferred, the package imports in half the
# time in Pyodide (about 310 -> 155 ms of every page boot).
def _replay_call(p: dict) -> Any:
    from .replay import replay

    return replay(p.get("path", ""), p.get("block_size"), p.get("capacity_tokens") or (), p.get("policy", "lru"),
                  p.get("curve_points", 50), p.get("format"), p.get("kv_bytes_per_token"), p.get("name"))


def _fit_call(p: dict) -> Any:
    from .fit import fit

    return fit(p.get("path", ""), p.get("block_size"), p.get("format"), p.get("capacity_tokens"), p.get("name"))


METHODS["replay"] = _replay_call
METHODS["fit"] = _fit_call


# Diagnose a running deployment (docs/diagnose.md): payload {"scenario", "scrape", "scrape_before"?,
# "interval_s"?}; prometheus_client is imported only inside this call.
def _diagnose_call(p: dict) -> Any:
    from .diagnose import diagnose

    return diagnose(_payload_scenario(p), p.get("scrape"), p.get("scrape_before"), p.get("interval_s"))


METHODS["diagnose"] = _diagnose_call

_FIELD_IN_MESSAGE = re.compile(r"^([a-z_]+(?:\.[a-z_0-9]+)*):")


def finite_json(value: Any) -> Any:
    """The value with every non-finite float replaced by None, so JSON never carries NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def handle(method: str, payload_json: str) -> str:
    """One call of the worker protocol: {"ok": true, "result"} or {"ok": false, "error": {message, field[, details]}}."""
    try:
        payload = json.loads(payload_json) if payload_json else {}
        if not isinstance(payload, dict):
            raise ValueError("payload: expected a JSON object")
        if method not in METHODS:
            raise ValueError(f"method: {method!r} is not one of {', '.join(METHODS)}")
        result = finite_json(METHODS[method](payload))
        return json.dumps({"ok": True, "result": result}, allow_nan=False)
    except (ValueError, TypeError, KeyError) as exc:
        message = str(exc)
        match = _FIELD_IN_MESSAGE.match(message)
        error = {"message": message, "field": match.group(1) if match else None}
        if isinstance(exc, InfeasibleMemory) and exc.budget is not None:
            error["details"] = {"memory_budget": finite_json(exc.budget)}  # the bar that did not fit, for the page
        return json.dumps({"ok": False, "error": error}, allow_nan=False)
