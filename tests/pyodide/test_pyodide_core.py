"""The calculator gives the same answers in the vendored Pyodide (Node) as in CPython.

Not bit for bit: Pyodide's libm (musl) and CPython's (glibc) differ in the last ulp of exp, expm1,
pow, erf and erfc for a few inputs in a thousand, so floats are compared to 1e-10 relative.
Everything else (keys, strings, integers, errors, the schema) must be identical; tornado bars
are compared by path because two bars with mathematically equal swings may swap places.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_site"
RUNNER = Path(__file__).with_name("run_core.mjs")

SCENARIOS = [
    {"version": 1},
    {"version": 1, "model": {"preset": "llama-3.1-70b"}, "hardware": {"gpu": "h100-sxm-80gb", "num_gpus": 4},
     "workload": {"arrival_rate": 3.5, "think_time_s": 30}},
    {"version": 1, "model": {"preset": "deepseek-v3"}, "hardware": {"gpu": "h200", "num_gpus": 8},
     "workload": {"turns_mean": 12, "turns_dist": "fixed", "think_dist": "fixed", "think_time_s": 45}},
    {"version": 1, "model": {"preset": "gemma-3-27b"}, "hardware": {"gpu": "a100-80gb"},
     "cache": {"policy": "fifo"}, "workload": {"system_prompt_tokens": 0, "user_tokens": 50}},
    {"version": 1, "model": {"preset": "gpt-oss-120b"}, "hardware": {"gpu": "b200", "gpu_memory_utilization": 0.92},
     "cluster": {"replicas": 4}, "workload": {"arrival_rate": 20}},
    {"version": 1, "model": {"preset": "qwen3-8b", "kv_dtype": "fp8"}, "hardware": {"memory_gib": 44.5},
     "cache": {"block_size": 32}, "workload": {"output_tokens": 0}},
    {"version": 1, "cache": {"capacity_tokens": 200000}, "workload": {"arrival_rate": 0.25, "think_time_s": 600}},
    # the memory plans of the other engine, an older release and a linear-attention hybrid; a refusal
    {"version": 1, "model": {"preset": "qwen3-30b-a3b-fp8"}, "hardware": {"gpu": "h100-sxm-80gb", "max_model_len": 32768},
     "deploy": {"engine": "sglang", "engine_version": "0.4.9"}},
    {"version": 1, "model": {"preset": "qwen3-next-80b-a3b"}, "hardware": {"gpu": "h200", "num_gpus": 2,
     "max_model_len": 65536}, "deploy": {"engine_version": "0.10.1", "flashinfer": "no"}},
    {"version": 1, "model": {"preset": "qwen3-32b"}},
    {"version": 1, "tiers": [{"name": "cpu", "capacity_gb": 200}, {"name": "ssd", "capacity_gb": 2000}],
     "cluster": {"replicas": 3, "routing": "random"}, "latency": {"price_per_gpu_hour": 2.5}},
    {"version": 1, "cache": {"capacity_tokens": 50000}, "tiers": [{"name": "cpu", "capacity_tokens": 200000}],
     "tiers_policy": "inclusive", "workload": {"turns_dist": "fixed", "turns_mean": 6},
     "cluster": {"replicas": 2, "routing": "round_robin"}},
    {"version": 1, "workload": {"arrival_rate": -1}},
    # mixed traffic: a catalog, heavy-tailed and empirical laws, branches, trace-replay admission
    {"version": 1, "cache": {"capacity_tokens": 300_000, "admission": "trace_replay"},
     "workload": {"arrival_rate": 1.2,
                  "prefixes": [{"name": "system", "tokens": 900}, {"name": "docs", "tokens": 2500, "count": 300, "zipf": 1.1}],
                  "classes": [
                      {"name": "chat", "share": 2, "prefix": ["system"],
                       "think_time_s": {"dist": "lognormal", "median": 25, "sigma": 1.2},
                       "user_tokens": {"dist": "gamma", "mean": 180, "shape": 1.5}, "output_tokens": 250,
                       "follow_ups": {"continue": 0.8, "branch": 0.2}},
                      {"name": "rag", "share": 1, "prefix": ["system", "docs"], "turns": {"dist": "empirical", "values": [1, 2, 4], "weights": [5, 3, 2]},
                       "think_time_s": {"dist": "exponential", "mean": 40},
                       "user_tokens": {"dist": "empirical", "quantiles": [20, 60, 100, 300]}, "output_tokens": 150}]}},
    {"version": 1, "workload": {"classes": [{"name": "a", "think_time_s": {"dist": "lognormal", "median": 5, "sigma": 0}}]}},
    {"version": 1, "hardware": {"num_gpus": 3, "tensor_parallel": 2}},
]


def _calls() -> list:
    calls = [["schema", {}]]
    calls += [["predict", {"scenario": scenario}] for scenario in SCENARIOS]
    calls.append(["analyze", {"scenario": SCENARIOS[1]}])
    calls.append(["compare_routing", {"scenario": SCENARIOS[4]}])
    mixed = SCENARIOS[-2]
    calls.append(["compare_routing", {"scenario": {**mixed, "cluster": {"replicas": 3, "routing": "random"}}}])
    calls.append(["tornado", {"scenario": mixed}])
    calls.append(["workload_as_classes", {"scenario": SCENARIOS[1]}])
    # a real config.json (DeepSeek-V3: MLA, block FP8, MTP layer) and a broken one
    config = (ROOT / "tests" / "data" / "hf_configs" / "deepseek-v3.json").read_text(encoding="utf-8")
    calls += [["import_hf_config", {"text": config}], ["import_hf_config", {"text": "{\"num_hidden_layers\": -2}"}]]
    return calls


@pytest.fixture(scope="module")
def pyodide_answers(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (SITE / "build.json").exists():
        pytest.fail("_site/ is not built; run `make site`")
    built_from = json.loads((SITE / "build.json").read_text()).get("source_sha256")
    hashed = subprocess.run([sys.executable, str(ROOT / "scripts" / "source_hash.py"), str(ROOT)],
                            capture_output=True, text=True, check=True).stdout.strip()
    if built_from != hashed:
        pytest.fail("_site/ was built from other Python sources than the working tree; run `make site`")
    calls_file = tmp_path_factory.mktemp("pyodide") / "calls.json"
    calls_file.write_text(json.dumps(_calls()))
    done = subprocess.run([node, str(RUNNER), str(SITE), str(calls_file)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def test_runs_on_pyodide_python(pyodide_answers):
    assert pyodide_answers["python"].startswith("3.14")


RELATIVE = 1e-10
ABSOLUTE = 1e-12


def _by_path(bars: list) -> list:
    return sorted(bars, key=lambda bar: bar["path"])


def assert_same(pyodide, cpython, where="result"):
    """Equal structure and values; floats equal to RELATIVE (libm ulps), everything else exactly."""
    if isinstance(cpython, dict):
        assert isinstance(pyodide, dict) and set(pyodide) == set(cpython), where
        for key in cpython:
            mine, theirs = pyodide[key], cpython[key]
            if key == "bars":
                mine, theirs = _by_path(mine), _by_path(theirs)
            assert_same(mine, theirs, f"{where}.{key}")
    elif isinstance(cpython, list):
        assert isinstance(pyodide, list) and len(pyodide) == len(cpython), where
        for index, (mine, theirs) in enumerate(zip(pyodide, cpython)):
            assert_same(mine, theirs, f"{where}[{index}]")
    elif isinstance(cpython, float) and isinstance(pyodide, float):
        assert math.isclose(pyodide, cpython, rel_tol=RELATIVE, abs_tol=ABSOLUTE), (where, pyodide, cpython)
    else:
        assert type(pyodide) is type(cpython) and pyodide == cpython, (where, pyodide, cpython)


@pytest.mark.parametrize("index", range(len(_calls())))
def test_same_answer_as_cpython(pyodide_answers, index):
    from kvcache_calc import api

    method, payload = _calls()[index]
    in_cpython = json.loads(api.handle(method, json.dumps(payload)))
    in_pyodide = json.loads(pyodide_answers["answers"][index])
    assert in_pyodide["ok"] == in_cpython["ok"]
    assert_same(in_pyodide, in_cpython)


def test_schema_and_errors_are_identical(pyodide_answers):
    from kvcache_calc import api

    for index, (method, payload) in enumerate(_calls()):
        in_cpython = api.handle(method, json.dumps(payload))
        if method == "schema" or not json.loads(in_cpython)["ok"]:
            assert pyodide_answers["answers"][index] == in_cpython

