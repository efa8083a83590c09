"""How long the page's full analysis (`analyze`) and its fast path (`predict` without advice) take, in
headless Chromium through the built page and in CPython, on scenarios the calculator has not seen.

    python3 bench/analyze_speed.py [--runs 5] [--rev REV] [--no-browser]

Each run asks for a new arrival rate (the worker caches model evaluations, so a repeated scenario
would cost nothing; turn tables and memory plans stay as warm as the page keeps them), or, in the
"new ... size" rows, new prompt sizes (every sweep point's turn tables are built anew: an edit of a
token count). Browser: the
worker round trip of `window.kvcacheCalc.call(...)` on the page served from _site/ (rebuilt here).
CPython: the same calls in one warm process per tree. Prints medians (and minima, steadier when the
machine is busy); with --rev, the revision's figures beside this tree's, interleaved run by run in
one browser and in two processes so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench")]
from against_revision import alternate, revision_tree, site_pages  # noqa: E402  (standard library only; playwright loads in site_pages)


def _planning_scenarios() -> dict:
    """bench/planning_speed.py's scenarios, read without importing it (that imports this tree's package,
    and a worker must import the package of the tree it measures)."""
    tree = ast.parse((ROOT / "bench" / "planning_speed.py").read_text())
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("TIERED", "BLIND", "MIXED")}


_PLANNING = _planning_scenarios()
TIERED, BLIND, MIXED = _PLANNING["TIERED"], _PLANNING["BLIND"], _PLANNING["MIXED"]

SCENARIOS = {  # name: (method, payload besides the scenario, scenario, what each run changes)
    "predict, no advice (edit -> numbers)": ("predict", {"advice": False}, {}, "rate"),
    "analyze, default": ("analyze", {}, {}, "rate"),
    "analyze, default, new prompt size": ("analyze", {}, {}, "tokens"),
    "analyze, two tiers + 4 random replicas": ("analyze", {}, {**TIERED, "cluster": BLIND["cluster"]}, "rate"),
    "predict, 3 classes, no advice": ("predict", {"advice": False}, MIXED, "rate"),
    "analyze, 3 classes, catalog, CPU tier": ("analyze", {}, MIXED, "rate"),
    "analyze, 3 classes, new system prompt size": ("analyze", {}, MIXED, "tokens"),
}
GOALS_MS = {"predict, no advice (edit -> numbers)": 30, "analyze, default": 100,
            "analyze, two tiers + 4 random replicas": 300, "analyze, 3 classes, catalog, CPU tier": 100}
ROUND_TRIP_JS = """async ([method, payload, scenario]) => {
    const start = performance.now();
    await window.kvcacheCalc.call(method, { scenario, ...payload });
    return performance.now() - start;
}"""


def fresh(scenario: dict, change: str, run: int, tree_index: int) -> dict:
    """The scenario at an arrival rate no earlier call used (each tree gets its own), or ("tokens") with
    prompts of a new size, so that every sweep point's turn tables are built anew too."""
    workload = dict(scenario.get("workload", {}))
    if change == "rate":
        workload["arrival_rate"] = round(1.3 + 0.0173 * run + 0.0007 * tree_index, 6)
    elif "prefixes" in workload:
        tokens = 1200 + 37 * run + 3 * tree_index
        workload["prefixes"] = [{**g, "tokens": tokens} if g["name"] == "sys" else g for g in workload["prefixes"]]
    else:
        workload["user_tokens"] = 150 + 7 * run + tree_index
    return {**scenario, "workload": workload}


def worker(tree: str) -> None:
    """Answer 'name run index' lines with the seconds the call took in the package under `tree`."""
    sys.path[:0] = [str(Path(tree) / "py")]
    from kvcache_calc import api  # noqa: PLC0415  (the tree to measure is known only now)

    for method, payload, scenario, _ in SCENARIOS.values():  # warm-up: tables and plans, as the page has
        call(api, method, payload, scenario)
    for line in sys.stdin:
        name, run, index = line.rsplit(" ", 2)
        method, payload, scenario, change = SCENARIOS[name]
        start = time.perf_counter()
        call(api, method, payload, fresh(scenario, change, int(run), int(index)))
        print(time.perf_counter() - start, flush=True)


def call(api, method: str, payload: dict, scenario: dict) -> None:
    if method == "predict":
        api.predict(json.loads(json.dumps(scenario)), with_advice=payload.get("advice", True))
    else:
        api.analyze(json.loads(json.dumps(scenario)))


def cpython_times(trees: dict[str, Path], runs: int) -> dict[tuple[str, str], list[float]]:
    procs = {name: subprocess.Popen([sys.executable, __file__, "--worker", str(tree)], text=True,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name, tree in trees.items()}
    times: dict[tuple[str, str], list[float]] = {}
    for run in range(runs):
        for name in SCENARIOS:
            for index, (tree, proc) in enumerate(alternate(procs, run)):
                proc.stdin.write(f"{name} {run} {index}\n")
                proc.stdin.flush()
                times.setdefault((tree, name), []).append(float(proc.stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    return times


def browser_times(trees: dict[str, Path], runs: int) -> tuple[dict[tuple[str, str], list[float]], str]:
    times: dict[tuple[str, str], list[float]] = {}
    with site_pages(trees) as (pages, version):
        for page in pages.values():
            for method, payload, scenario, _ in SCENARIOS.values():  # warm-up, as in CPython
                page.evaluate(ROUND_TRIP_JS, [method, payload, scenario])
        for run in range(runs):
            for name, (method, payload, scenario, change) in SCENARIOS.items():
                for index, (tree, page) in enumerate(alternate(pages, run)):
                    ms = page.evaluate(ROUND_TRIP_JS, [method, payload, fresh(scenario, change, run, index)])
                    times.setdefault((tree, name), []).append(ms / 1000.0)
    return times, version


def table(title: str, times: dict[tuple[str, str], list[float]], trees: list[str]) -> str:
    head = "| call | " + " | ".join(f"{t}: median (min) ms" for t in trees) + " | goal |"
    lines = [f"{title}", "", head, "|---|" + "---|" * len(trees) + "---|"]
    for name in SCENARIOS:
        cells = []
        for tree in trees:
            values = times[(tree, name)]
            cells.append(f"{statistics.median(values) * 1000:.0f} ({min(values) * 1000:.0f})")
        goal = f"<= {GOALS_MS[name]} ms" if name in GOALS_MS else ""
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {goal} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rev", help="an earlier revision to measure beside this tree")
    parser.add_argument("--no-browser", action="store_true", help="CPython only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    trees = {"this tree": ROOT}
    with contextlib_revision(args.rev) as old:
        if old is not None:
            trees = {args.rev: old, **trees}
        cpython = cpython_times(trees, args.runs)
        browser = version = None
        if not args.no_browser:
            browser, version = browser_times(trees, args.runs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.runs} runs; load average {load:.1f} on {os.cpu_count()} cores")
    if browser is not None:
        print(table(f"Chromium {version}, worker round trips:", browser, list(trees)))
        print()
    print(table(f"CPython {sys.version.split()[0]}, in-process:", cpython, list(trees)))


def contextlib_revision(rev: str | None):
    """A temporary worktree of `rev` (bench/against_revision.py's), or nothing without one."""
    import contextlib  # noqa: PLC0415

    if rev is None:
        return contextlib.nullcontext(None)
    return revision_tree(rev)


if __name__ == "__main__":
    main()
