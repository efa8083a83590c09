"""Block touches per second of the package's simulator, next to the plain reference simulation.

    PYTHONPATH=py:tests python3 bench/simulator_speed.py [--runs 5]

Prints medians over interleaved runs and their ratio (same machine, same run). The goal is
>= 1,000,000 block touches per second in CPython.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

from kvcache_calc.scenario import parse_scenario  # noqa: E402
from kvcache_calc.simulate import Simulation  # noqa: E402
from reference_sim import simulate_lru  # noqa: E402

SCENARIO = {"workload": {"arrival_rate": 2, "turns_mean": 5, "think_time_s": 30.0, "user_tokens": 120,
                         "output_tokens": 250, "system_prompt_tokens": 1000},
            "cache": {"capacity_tokens": 3000 * 16}}


def package_run() -> tuple[float, float]:
    """(block touches per second, requests per second) of the package's simulator."""
    sim = Simulation(parse_scenario(SCENARIO), seed=1, requests=30_000)
    start = time.perf_counter()
    while not sim.step(10**9):
        pass
    elapsed = time.perf_counter() - start
    requests = sim.plan.estimated_requests
    return sim.touches / elapsed, requests / elapsed


def reference_run() -> float:
    """Requests per second of the plain reference simulation on the same scenario."""
    start = time.perf_counter()
    result = simulate_lru(SCENARIO["workload"], 16, 3000 * 16, duration_s=3000, warmup_s=0, seed=1)
    return result["requests"] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    touches, ours, ref = [], [], []
    for _ in range(args.runs):
        t, r = package_run()
        touches.append(t)
        ours.append(r)
        ref.append(reference_run())
    print(f"package simulator: median {statistics.median(touches) / 1e6:.2f} M block touches/s, "
          f"{statistics.median(ours):,.0f} requests/s over {args.runs} runs")
    print(f"reference simulation: median {statistics.median(ref):,.0f} requests/s")
    print(f"ratio package / reference (requests/s): {statistics.median(ours) / statistics.median(ref):.2f}")


if __name__ == "__main__":
    main()
