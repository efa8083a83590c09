"""This tree's calculator against an earlier revision's, interleaved in one run.

    python3 bench/against_revision.py [--rev HEAD~1] [--runs 9] [--browser]

Checks the revision out in a temporary git worktree and asks both trees, in turn (the order
swapped every run), for the same calls, so machine noise hits both alike; prints each call's
median for both, the ratio this tree / revision, and the ratio of the fastest runs (steadier when
the machine is busy). CPython (default): one process per tree, cold calls (every cache cleared).
--browser: builds both sites (this tree's _site/ is rebuilt), opens both pages in one headless
Chromium and times worker round trips on scenarios the worker has not seen (a new arrival rate
or prompt size each run; other caches stay as warm as the page keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
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


@contextlib.contextmanager
def revision_tree(rev: str):
    """A worktree of `rev` beside a link to shared/ and this tree's node_modules (what a site build reads)."""
    with tempfile.TemporaryDirectory(prefix="kvcache-rev-") as tmp:
        tree = Path(tmp) / "main"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            os.symlink(ROOT.parent / "shared", Path(tmp) / "shared")
            os.symlink(ROOT / "node_modules", tree / "node_modules")
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def alternate(by_name: dict, run: int) -> list:
    """(name, item) pairs, the order reversed on odd runs: whichever goes first is not always the same."""
    items = list(by_name.items())
    return items[::-1] if run % 2 else items


def cpython_times(trees: dict[str, Path], runs: int) -> dict[tuple[str, str], list[float]]:
    procs = {name: subprocess.Popen([sys.executable, __file__, "--worker", str(tree)], text=True,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name, tree in trees.items()}
    times: dict[tuple[str, str], list[float]] = {}
    for run in range(runs):
        for call in CALLS:
            for name, proc in alternate(procs, run):
                proc.stdin.write(call + "\n")
                proc.stdin.flush()
                times.setdefault((name, call), []).append(float(proc.stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    return times


BROWSER_CALLS = {  # name: (method, scenario changes, payload, workload field made new each run)
    "predict (no advice)": ("predict", {}, {"advice": False}, "arrival_rate"),
    "analyze": ("analyze", {}, {}, "arrival_rate"),
    "analyze, new prompt sizes": ("analyze", {}, {}, "user_tokens"),
    "analyze, two tiers, random routing": ("analyze", {**TIERED, **BLIND}, {}, "arrival_rate"),
}
ROUND_TRIP_JS = """async ([method, extra, payload, field, value]) => {
    const scenario = JSON.parse(document.querySelector('[data-scenario-json]').textContent);
    const fresh = { ...scenario, ...extra, workload: { ...scenario.workload, ...(extra.workload || {}), [field]: value } };
    const start = performance.now();
    await window.kvcacheCalc.call(method, { scenario: fresh, ...payload });
    return performance.now() - start;
}"""


@contextlib.contextmanager
def site_pages(trees: dict[str, Path]):
    """Each tree's site built and served, one booted Chromium page per tree: yields ({name: page}, browser version)."""
    sys.path[:0] = [str(ROOT / "bench")]
    from browser_bench import ARGS, CHROMIUM, serve, wait  # noqa: PLC0415  (playwright only when asked)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    for tree in trees.values():
        subprocess.run(["bash", "scripts/build_site.sh"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    servers = {name: serve(tree / "_site") for name, tree in trees.items()}
    try:
        with sync_playwright() as playwright:
            launch = {"args": ARGS, **({"executable_path": CHROMIUM} if Path(CHROMIUM).exists() else {})}
            browser = playwright.chromium.launch(**launch)
            pages = {}
            for name, (_, url) in servers.items():
                pages[name] = browser.new_context().new_page()
                pages[name].goto(url)
                wait(pages[name], "body[data-ready='true'][data-busy='false']")
            yield pages, browser.version
            browser.close()
    finally:
        for server, _ in servers.values():
            server.shutdown()


def browser_times(trees: dict[str, Path], runs: int) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    with site_pages(trees) as (pages, _):
        for run in range(runs):
            for call, (method, extra, payload, field) in BROWSER_CALLS.items():
                value = 2.0 + 0.013 * run if field == "arrival_rate" else 150 + 7 * run
                for name, page in alternate(pages, run):
                    ms = page.evaluate(ROUND_TRIP_JS, [method, extra, payload, field, value])
                    times.setdefault((name, call), []).append(ms / 1000.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD~1")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with revision_tree(args.rev) as old:
        trees = {"this tree": ROOT, args.rev: old}
        times = (browser_times if args.browser else cpython_times)(trees, args.runs)
    calls = BROWSER_CALLS if args.browser else CALLS
    print(f"{'call':<36} {args.rev + ' ms':>14} {'this tree ms':>14} {'ratio':>7} {'ratio of minima':>16}")
    for call in calls:
        before, now = times[(args.rev, call)], times[("this tree", call)]
        print(f"{call:<36} {statistics.median(before) * 1000:14.1f} {statistics.median(now) * 1000:14.1f} "
              f"{statistics.median(now) / statistics.median(before):7.2f} {min(now) / min(before):16.2f}")


if __name__ == "__main__":
    main()
