"""What capacity planning adds to each call, in CPython: medians of cold calls (every cache cleared).

    PYTHONPATH=py python3 bench/planning_speed.py [--runs 7]

Prints each call's median and its ratio to a plain `predict` measured in the same run; the page
pays about the same ratios in Pyodide (docs/performance.md has the browser's own figures).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py")]

from kvcache_calc import api  # noqa: E402

TIERED = {"tiers": [{"name": "cpu", "capacity_gb": 200}, {"name": "ssd", "capacity_gb": 2000}]}
BLIND = {"cluster": {"replicas": 4, "routing": "random"}, "workload": {"arrival_rate": 4}}
MIXED = {"model": {"preset": "qwen3-8b"}, "cluster": {"replicas": 2}, "tiers": [{"name": "cpu", "capacity_gb": 100}],
         "workload": {"arrival_rate": 1.5,
                      "prefixes": [{"name": "sys", "tokens": 1200}, {"name": "docs", "tokens": 2000, "count": 500, "zipf": 1.0}],
                      "classes": [
                          {"name": "chat", "share": 3, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 6},
                           "think_time_s": {"dist": "lognormal", "median": 20, "sigma": 1},
                           "user_tokens": {"dist": "lognormal", "median": 150, "sigma": 0.8}, "output_tokens": 300},
                          {"name": "rag", "share": 1, "prefix": ["sys", "docs"], "turns": {"dist": "geometric", "mean": 2},
                           "think_time_s": {"dist": "exponential", "mean": 40}, "user_tokens": 100, "output_tokens": 200},
                          {"name": "agent", "share": 1, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 15},
                           "think_time_s": {"dist": "gamma", "mean": 2, "shape": 2}, "context_tokens": 800,
                           "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 1.2}, "output_tokens": 100}]}}
CALLS = {
    "predict (no advice)": lambda: api.predict({}, with_advice=False),
    "predict + advice": lambda: api.predict({}),
    "predict, two tiers": lambda: api.predict(TIERED, with_advice=False),
    "predict, random routing": lambda: api.predict(BLIND, with_advice=False),
    "analyze": lambda: api.analyze({}),
    "analyze, two tiers": lambda: api.analyze(TIERED),
    "analyze, random routing": lambda: api.analyze(BLIND),
    "compare_routing + simulation": lambda: api.compare_routing(BLIND, simulate=True),
    "predict, 3 classes, catalog, CPU tier": lambda: api.predict(MIXED, with_advice=False),
    "analyze, 3 classes, catalog, CPU tier": lambda: api.analyze(MIXED),
}


def cold(call) -> float:
    for name, module in list(sys.modules.items()):  # every cache the model keeps, not only the predictions
        if name.startswith("kvcache_calc"):
            for value in vars(module).values():
                if isinstance(value, functools._lru_cache_wrapper) and value.__module__ == name:
                    value.cache_clear()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CALLS}
    for run in range(args.runs):
        for name, call in CALLS.items():  # interleaved: machine noise hits every call alike
            if (name.startswith("compare") or "3 classes" in name) and run >= 3:
                continue
            times[name].append(cold(call))
    base = statistics.median(times["predict (no advice)"])
    print(f"{'call':<32} {'median ms':>10} {'x predict':>10}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<32} {med * 1000:10.1f} {med / base:10.1f}")


if __name__ == "__main__":
    main()
