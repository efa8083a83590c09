"""This tree's calculator against an earlier revision's, in CPython, interleaved in one run.

    python3 bench/against_revision.py [--rev HEAD~1] [--runs 9]

Checks the revision out in a temporary git worktree, starts one Python process per tree and asks
both, in turn, for the same cold calls (every model cache cleared first), so machine noise hits
both alike. Prints each call's median for both trees and the ratio this tree / revision.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIERED = {"tiers": [{"name": "cpu", "capacity_gb": 200}, {"name": "ssd", "capacity_gb": 2000}]}
BLIND = {"cluster": {"replicas": 4, "routing": "random"}, "workload": {"arrival_rate": 4}}
CALLS = {  # name: (api function, scenario, keyword arguments)
    "predict (no advice)": ("predict", {}, {"with_advice": False}),
    "predict + advice": ("predict", {}, {}),
    "analyze": ("analyze", {}, {}),
    "analyze, two tiers": ("analyze", TIERED, {}),
    "analyze, random routing": ("analyze", BLIND, {}),
}


def worker(tree: str) -> None:
    """Answer call names on stdin with the seconds each took, cold, in the package under `tree`."""
    sys.path[:0] = [str(Path(tree) / "py")]
    from kvcache_calc import api  # noqa: PLC0415  (the tree to measure is known only now)

    def clear() -> None:
        for name, module in list(sys.modules.items()):
            if name.startswith("kvcache_calc"):
                for value in vars(module).values():
                    if isinstance(value, functools._lru_cache_wrapper) and value.__module__ == name:
                        value.cache_clear()

    for line in sys.stdin:
        method, scenario, kwargs = CALLS[line.strip()]
        clear()
        start = time.perf_counter()
        getattr(api, method)(json.loads(json.dumps(scenario)), **kwargs)
        print(time.perf_counter() - start, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD~1")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="kvcache-rev-") as tmp:
        old = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), args.rev], check=True)
        try:
            trees = {"this tree": ROOT, args.rev: old}
            procs = {name: subprocess.Popen([sys.executable, __file__, "--worker", str(tree)], text=True,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name, tree in trees.items()}
            times: dict[tuple[str, str], list[float]] = {}
            for _ in range(args.runs):
                for call in CALLS:
                    for name, proc in procs.items():
                        proc.stdin.write(call + "\n")
                        proc.stdin.flush()
                        times.setdefault((name, call), []).append(float(proc.stdout.readline()))
            for proc in procs.values():
                proc.stdin.close()
                proc.wait()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True)
    print(f"{'call':<28} {args.rev + ' ms':>14} {'this tree ms':>14} {'ratio':>7}")
    for call in CALLS:
        before = statistics.median(times[(args.rev, call)])
        now = statistics.median(times[("this tree", call)])
        print(f"{call:<28} {before * 1000:14.1f} {now * 1000:14.1f} {now / before:7.2f}")


if __name__ == "__main__":
    main()
