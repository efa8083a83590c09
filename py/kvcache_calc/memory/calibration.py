"""The memory model against an engine's own startup log: one calibration case in, predicted vs logged out.

A case (tests/data/memory_calibration/*.json, format in the README there) holds what a public log says:
its URL, the exact lines, the launch configuration as stated and the figures the engine printed; under
"calc", how the calculator describes that deployment (model preset or fields, GPU preset or its memory).
The comparison is on the KV cache the engine reported: tokens when the log gives them (or blocks x block
size), else GiB. A case that did not start is compared on that alone: the calculator must refuse it too.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..scenario import parse_scenario
from .budget import InfeasibleMemory
from .plan import plan_memory

HARDWARE_KEYS = ("num_gpus", "tensor_parallel", "gpu_memory_utilization", "max_num_batched_tokens",
                 "max_num_seqs", "max_model_len", "mem_fraction_static")
# A V0 log that does not say its release is read as the last V0 release read (engine_versions.py)
V0_VERSION = "0.6.6"
# The goal: median and worst relative error on the cases of engines the calculator models (vLLM V1, SGLang)
GOAL_MEDIAN = 0.02
GOAL_WORST = 0.08


@dataclass(frozen=True)
class CaseResult:
    """One case: what the engine logged, what the calculator predicts, and the relative error."""

    case_id: str
    kind: str                      # vllm-v1, vllm-v0, sglang
    version: str | None            # the release the scenario was computed for (None: the default release)
    model: str
    gpu: str                       # as the post states it
    gpu_id: str                    # the preset the calculator used
    tensor_parallel: int
    url: str
    started: bool                  # the engine started
    predicted_start: bool
    observed_kv_gib: float | None
    predicted_kv_gib: float | None
    observed_tokens: int | None
    predicted_tokens: int | None
    observed_weights_gib: float | None
    predicted_weights_gib: float | None
    error: float | None            # (predicted - observed) / observed, on tokens if logged, else GiB
    message: str = ""
    refused_at: str = ""           # a refusal after the KV cache was sized (cuda_graph_capture): not a memory plan's
    unscored: str = ""             # why the case is shown but not counted (its figures or checkpoint are uncertain)

    @property
    def agrees_on_start(self) -> bool:
        return self.started == self.predicted_start

    @property
    def in_goal(self) -> bool:
        """Counted in the goal: vLLM V1 and SGLang with certain figures (V0 is shown, not modelled to the goal)."""
        return self.kind != "vllm-v0" and not self.unscored

    @property
    def plan_decides_start(self) -> bool:
        """Whether starting is the memory plan's call (not a crash after the KV cache was sized)."""
        return not self.refused_at


def kind_of(case: dict) -> str:
    """vllm-v1, vllm-v0 or sglang."""
    if case["engine"] == "sglang":
        return "sglang"
    return "vllm-v0" if case.get("vllm_engine") == "v0" else "vllm-v1"


def engine_version(case: dict) -> str | None:
    """The release the case's engine ran: as the post states it, else the V0 we read for a V0 log, else None."""
    stated = case.get("engine_version")
    if stated:
        match = re.match(r"^\d+\.\d+(\.\d+)*", str(stated))
        if match:
            return match.group(0)
    return V0_VERSION if kind_of(case) == "vllm-v0" else None


def scenario_of(case: dict) -> dict:
    """The scenario JSON the case's "calc" block and stated configuration describe."""
    calc = case["calc"]
    config = case["config"]
    hardware = dict(calc.get("hardware", {}))
    for key in HARDWARE_KEYS:
        value = config.get(key)
        if value is not None and key not in hardware:
            hardware[key] = value
    if config.get("enforce_eager"):
        hardware.setdefault("cuda_graphs", "off")
    hardware.setdefault("num_gpus", config.get("num_gpus") or 1)
    model = dict(calc["model"])
    if str(config.get("kv_cache_dtype") or "").startswith("fp8"):
        model.setdefault("kv_dtype", "fp8")
    deploy = {"engine": case["engine"], **calc.get("deploy", {})}
    version = engine_version(case)
    if version:
        deploy.setdefault("engine_version", version)
    return {"model": model, "hardware": hardware, "cache": {"block_size": config.get("block_size") or 16},
            "deploy": deploy}


def observed_tokens(case: dict) -> int | None:
    """The KV tokens the log states: its token count, or V0's blocks x block size."""
    observed = case["observed"]
    if observed.get("kv_cache_tokens"):
        return int(observed["kv_cache_tokens"])
    if observed.get("num_gpu_blocks"):
        return int(observed["num_gpu_blocks"]) * int(case["config"].get("block_size") or 16)
    return None


def evaluate_case(case: dict) -> CaseResult:
    """Predict the case's KV cache and compare it with the log."""
    observed = case["observed"]
    scenario = scenario_of(case)
    s = parse_scenario(scenario)
    assert s.model is not None and s.hardware is not None
    started = observed.get("started", True)
    tokens = observed_tokens(case)
    kv = observed.get("available_kv_gib")
    head = (case["id"], kind_of(case), scenario["deploy"].get("engine_version"), case["config"]["model"],
            case["config"]["gpu"], s.hardware.gpu or "", s.hardware.tensor_parallel, case["url"], started)
    tail = {"refused_at": observed.get("refused_at") or "", "unscored": case.get("unscored") or ""}
    try:
        plan = plan_memory(s.model, s.hardware, None, s.cache.block_size)
    except InfeasibleMemory as e:
        weights = (e.budget or {}).get("terms", [])
        predicted_weights = next((t["gib"] for t in weights if t["name"] == "weights"), None)
        return CaseResult(*head, False, kv, None, tokens, None, observed.get("weights_gib"), predicted_weights,
                          None, str(e), **tail)
    error = None
    # the KV cache was sized when the engine started, or failed only after that (CUDA graph capture)
    if started or tail["refused_at"]:
        if tokens:
            error = (plan.logged_tokens - tokens) / tokens
        elif kv:
            error = (plan.kv_gib_per_gpu - kv) / kv
    return CaseResult(*head, True, kv, plan.kv_gib_per_gpu, tokens, plan.logged_tokens,
                      observed.get("weights_gib"), plan.weights_gib_per_gpu, error, **tail)


def load_cases(folder: Path) -> list[dict]:
    """Every case of every JSON file in `folder`, in file then listed order."""
    cases: list[dict] = []
    for path in sorted(folder.glob("*.json")):
        cases.extend(json.loads(path.read_text(encoding="utf-8")))
    return cases


@dataclass(frozen=True)
class Summary:
    """The goal's figures over the cases it counts."""

    cases: int
    scored: int                   # in the goal, with a KV figure to compare
    median_error: float
    worst_error: float
    worst_case: str
    start_agreements: int
    start_cases: int

    @property
    def meets_goal(self) -> bool:
        return (self.median_error <= GOAL_MEDIAN and self.worst_error <= GOAL_WORST
                and self.start_agreements == self.start_cases)


def summarize(results: list[CaseResult]) -> Summary:
    """Median and worst |error| of the scored cases, and how often the calculator agrees on starting."""
    counted = [r for r in results if r.in_goal]
    scored = [r for r in counted if r.error is not None]
    errors = [abs(r.error) for r in scored if r.error is not None]
    worst = max(scored, key=lambda r: abs(r.error or 0.0)) if scored else None
    decided = [r for r in counted if r.plan_decides_start]
    return Summary(len(counted), len(scored), statistics.median(errors) if errors else 0.0,
                   max(errors) if errors else 0.0, worst.case_id if worst else "",
                   sum(r.agrees_on_start for r in decided), len(decided))
