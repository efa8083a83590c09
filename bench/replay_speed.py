"""Cost of the whole one-pass LRU curve next to one plain per-capacity OrderedDict replay, and of
reading a gzip trace next to the same trace plain.

    PYTHONPATH=py python3 bench/replay_speed.py [--runs 5] [--requests 21500]

Traces: the two Mooncake samples (512-token blocks, full files) and a generated trace in the Qwen
Bailian format with 16-token blocks (a system prompt, a catalog of documents, multi-turn chats;
about --requests requests, written to a temporary file and read back through the Bailian reader).
For each it prints the median time of the 50-point curve (one stack-distance pass plus the
evaluation at every capacity), the median time of single-capacity OrderedDict replays at five of
those capacities (tests/reference_sim.py), and their ratio, all measured in the same run, runs
interleaved. The goal: the whole curve costs at most 2 single-capacity replays. Then the median
time of `replay` (what the CLI runs) on the generated trace plain and gzipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

from kvcache_calc.replay import capacity_axis, lru_pass, replay  # noqa: E402
from kvcache_calc.trace import TraceFile  # noqa: E402
from kvcache_calc.traffic.records import synthetic_trace, write_jsonl  # noqa: E402
from reference_sim import reference_lru  # noqa: E402

TRACES = ROOT / "examples" / "traces"
# Bailian-like: 16-token blocks, long shared prefixes, multi-turn chats (shared with the tests and traffic_traces.py)
CATALOG = json.loads((ROOT / "tests" / "data" / "document_catalog_scenario.json").read_text())
REQUESTS_PER_S = 3.19   # of CATALOG, to size the generated trace


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
    print(f"  curve / single replay: {c / s:.2f}x  (goal <= 2x; {len(axis)} single replays would be "
          f"{len(axis) * s:.1f} s)")
    print(f"  ceiling (unlimited capacity) token hit rate: {ceiling * 100:.2f}%")


def bench_gzip(path: Path, runs: int) -> None:
    packed = path.with_suffix(path.suffix + ".gz")
    with open(path, "rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst)
    times: dict[str, list[float]] = {"plain": [], "gzip": []}
    results = {}
    for _ in range(runs):
        for label, file in (("plain", path), ("gzip", packed)):
            start = time.perf_counter()
            results[label] = replay(str(file), capacities="16000,160000,inf")
            times[label].append(time.perf_counter() - start)
    assert results["plain"]["points"] == results["gzip"]["points"]
    p, g = statistics.median(times["plain"]), statistics.median(times["gzip"])
    print(f"replay (the CLI's call) of the generated trace, {path.stat().st_size / 1e6:.1f} MB plain, "
          f"{packed.stat().st_size / 1e6:.1f} MB gzipped:")
    print(f"  plain median {p * 1000:8.1f} ms, gzip median {g * 1000:8.1f} ms: gzip / plain {g / p:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=21_500)
    args = parser.parse_args()
    for file in ("mooncake_conversation_trace.jsonl", "mooncake_synthetic_trace.jsonl"):
        start = time.perf_counter()
        requests = list(TraceFile(str(TRACES / file)).requests())
        print(f"(read {file} in {time.perf_counter() - start:.2f} s)")
        bench(file, requests, 512, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog_bailian.jsonl"
        write_jsonl(synthetic_trace(CATALOG, args.requests / REQUESTS_PER_S, seed=1, fmt="bailian"), path)
        requests = list(TraceFile(str(path)).requests())
        print(f"(generated {path.name}: {path.stat().st_size / 1e6:.1f} MB)")
        bench("generated Bailian format (system prompt, document catalog, chats), 16-token blocks",
              requests, 16, args.runs)
        bench_gzip(path, args.runs)


if __name__ == "__main__":
    main()
