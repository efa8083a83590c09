"""Cost of the whole one-pass LRU curve next to one plain per-capacity OrderedDict replay.

    PYTHONPATH=py python3 bench/replay_speed.py [--runs 3]

For each trace (the two Mooncake samples, full files, and a generated 16-token-block multi-turn
trace) it prints the median time of the 50-point curve (one stack-distance pass plus the
evaluation at every capacity), the median time of single-capacity OrderedDict replays at five of
those capacities, and their ratio, all measured in the same run. The goal: the whole curve costs
less than 5 single-capacity replays. It also prints the unlimited-capacity ceiling (the Mooncake
samples: about 37.4% and 65.1% with a token-level LRU replay).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

from kvcache_calc.fit import synthetic_trace  # noqa: E402
from kvcache_calc.replay import capacity_axis, lru_pass  # noqa: E402
from kvcache_calc.trace import Request, TraceFile  # noqa: E402
from reference_sim import reference_lru  # noqa: E402

TRACES = ROOT / "examples" / "traces"


def curve(requests, block_size: int, points: int = 50) -> tuple[list[int], list[int], float]:
    lp = lru_pass(requests, block_size)
    axis = capacity_axis(lp.max_distance, points)
    tokens = lp.curve.tokens_at(axis)
    return axis, tokens, lp.curve.ceiling_tokens / lp.curve.prompt_tokens


def bench(name: str, requests, block_size: int, runs: int) -> None:
    blocks = sum(len(r.blocks) for r in requests)
    curve_times, single_times = [], []
    axis, tokens, ceiling = curve(requests, block_size)
    picks = [axis[i] for i in (10, 20, 30, 40, 49)]
    for _ in range(runs):   # interleaved, so machine load hits both alike
        start = time.perf_counter()
        axis, tokens, ceiling = curve(requests, block_size)
        curve_times.append(time.perf_counter() - start)
        for cap in picks:
            start = time.perf_counter()
            hit = reference_lru(requests, cap, block_size)[0]
            single_times.append(time.perf_counter() - start)
            assert hit == tokens[axis.index(cap)], (name, cap)   # the curve is exact
    c, s = statistics.median(curve_times), statistics.median(single_times)
    print(f"{name}: {len(requests):,} requests, {blocks:,} block ids, block size {block_size}")
    print(f"  {len(axis)}-point LRU curve (one pass): median {c * 1000:8.1f} ms")
    print(f"  one OrderedDict replay (one capacity):  median {s * 1000:8.1f} ms")
    print(f"  curve / single replay: {c / s:.2f}x  (goal < 5x; {len(axis)} single replays would be "
          f"{len(axis) * s:.1f} s)")
    print(f"  ceiling (unlimited capacity) token hit rate: {ceiling * 100:.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for file in ("mooncake_conversation_trace.jsonl", "mooncake_synthetic_trace.jsonl"):
        start = time.perf_counter()
        requests = list(TraceFile(str(TRACES / file)).requests())
        print(f"(read {file} in {time.perf_counter() - start:.2f} s)")
        bench(file, requests, 512, args.runs)
    records = synthetic_trace(arrival_rate=1.0, turns_mean=6, think_time_s=30, user_tokens=150,
                              output_tokens=300, system_prompt_tokens=1000, duration_s=1200,
                              block_size=16, seed=1)
    requests = [Request(r["timestamp"] / 1000, r["input_length"], r["output_length"], r["hash_ids"], i)
                for i, r in enumerate(records)]
    bench("generated multi-turn, 16-token blocks", requests, 16, args.runs)


if __name__ == "__main__":
    main()
