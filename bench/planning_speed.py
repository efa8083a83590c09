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
CALLS = {
    "predict (no advice)": lambda: api.predict({}, with_advice=False),
    "predict + advice": lambda: api.predict({}),
    "predict, two tiers": lambda: api.predict(TIERED, with_advice=False),
    "predict, random routing": lambda: api.predict(BLIND, with_advice=False),
    "analyze": lambda: api.analyze({}),
    "analyze, two tiers": lambda: api.analyze(TIERED),
    "analyze, random routing": lambda: api.analyze(BLIND),
    "compare_routing + simulation": lambda: api.compare_routing(BLIND, simulate=True),
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
            if name.startswith("compare") and run >= 3:
                continue
            times[name].append(cold(call))
    base = statistics.median(times["predict (no advice)"])
    print(f"{'call':<32} {'median ms':>10} {'x predict':>10}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<32} {med * 1000:10.1f} {med / base:10.1f}")


if __name__ == "__main__":
    main()
