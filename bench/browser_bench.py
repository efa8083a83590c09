"""Browser benchmark (not a test): how long the page takes, next to a bare Pyodide page.

Prints medians over RUNS interleaved runs (app, bare, app, bare, ...), each in a fresh browser
context (empty cache and storage):
  - cold load to first numbers / to the full analysis, versus a bare page that boots the same
    vendored Pyodide in a module worker and runs `1+1` (the ratio is the page's own overhead);
  - the same cold load with the memory snapshot unavailable (the fallback: a normal boot);
  - warm reload once the service worker is active (the build and the snapshot's pages cached,
    compiled wasm in the code cache) to first numbers, and the same reload offline;
  - a form change to updated numbers and to updated charts (includes the 150 ms debounce and the
    300 ms pause before the full analysis);
  - worker round trips for `predict` (with and without the advisor), the full `analyze` panel
    (plain, and with tiers and prefix-blind routing) and a simulated routing comparison;
  - then (unless --skip-traces) bench/replay_speed.py (the replay curve against one plain replay on
    512- and 16-token blocks, gzip against plain) and bench/trace_page.py (a 100 MB trace in the page).

Usage: make site && python3 bench/browser_bench.py [--runs 5] [--write-docs] [--skip-traces]
--write-docs replaces the "## Browser" section of docs/performance.md with the figures.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from planning_speed import MIXED

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_site"
DOCS = ROOT / "docs" / "performance.md"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000

BARE_HTML = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>bare pyodide</title><script type="module" src="bench-bare.js"></script></head><body></body></html>"""
BARE_PAGE_JS = """const worker = new Worker("bench-bare-worker.js", { type: "module" });
worker.onmessage = (event) => {
  performance.mark("bare:ready");
  document.body.dataset.answer = String(event.data);
  document.body.dataset.ready = "true";
};"""
BARE_WORKER_JS = """import { loadPyodide } from "./pyodide/pyodide.mjs";
const root = new URL("pyodide/", self.location.href).href;
const pyodide = await loadPyodide({ indexURL: root, lockFileURL: root + "pyodide-lock.json" });
self.postMessage(pyodide.runPython("1+1"));"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def bench_root() -> tempfile.TemporaryDirectory:
    """_site/ (symlinked) plus the bare page, so both load the very same Pyodide files."""
    tmp = tempfile.TemporaryDirectory(prefix="kvcache-bench-")
    for entry in SITE.iterdir():
        os.symlink(entry, Path(tmp.name) / entry.name)
    (Path(tmp.name) / "bench-bare.html").write_text(BARE_HTML)
    (Path(tmp.name) / "bench-bare.js").write_text(BARE_PAGE_JS)
    (Path(tmp.name) / "bench-bare-worker.js").write_text(BARE_WORKER_JS)
    return tmp


def mark(page, name: str) -> float:
    return page.evaluate(f"performance.getEntriesByName('{name}')[0]?.startTime ?? null")


def wait(page, selector: str):
    page.wait_for_selector(selector, state="attached", timeout=TIMEOUT_MS)


def no_snapshot_run(browser, url: str) -> dict:
    """A cold load whose snapshot download fails: the worker boots Python normally."""
    context = browser.new_context()
    try:
        context.route("**/snapshot/pyodide.bin.gz", lambda route: route.abort())
        page = context.new_page()
        page.goto(url)
        wait(page, "body[data-ready='true'][data-busy='false']")
        return {"cold_no_snapshot_numbers_ms": mark(page, "kvcache:first-result")}
    finally:
        context.close()


def app_run(browser, url: str) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        wait(page, "body[data-ready='true'][data-busy='false']")
        out = {"cold_numbers_ms": mark(page, "kvcache:first-result"),
               "cold_analysis_ms": mark(page, "kvcache:first-analysis"),
               "python_ready_ms": mark(page, "kvcache:stage:ready")}
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the build is cached
        page.reload()
        wait(page, "body[data-ready='true'][data-busy='false']")
        out["warm_numbers_ms"] = mark(page, "kvcache:first-result")
        out["warm_analysis_ms"] = mark(page, "kvcache:first-analysis")
        context.set_offline(True)
        page.reload()
        wait(page, "body[data-ready='true'][data-busy='false']")
        out["offline_numbers_ms"] = mark(page, "kvcache:first-result")
        context.set_offline(False)
        out.update(page.evaluate("""async (mixed) => {
            const settled = (flag) => new Promise((resolve) => {
                const check = () => (document.body.dataset[flag] === 'false' ? resolve() : setTimeout(check, 1));
                setTimeout(check, 0);
            });
            const input = document.querySelector("input[name='workload.arrival_rate']");
            input.value = '1.7';
            const start = performance.now();
            input.dispatchEvent(new Event('input', { bubbles: true }));
            await settled('numbersBusy');
            const numbers = performance.now() - start;
            await settled('busy');
            const charts = performance.now() - start;
            const scenario = JSON.parse(document.querySelector('[data-scenario-json]').textContent);
            // a scenario Python has not seen yet: the worker caches model evaluations
            const time = async (method, rate, extra = {}, payload = {}) => {
                const fresh = { ...scenario, ...extra, workload: { ...scenario.workload, arrival_rate: rate } };
                const t0 = performance.now();
                await window.kvcacheCalc.call(method, { scenario: fresh, ...payload });
                return performance.now() - t0;
            };
            // the page's fast path skips the advisor
            const predict = await time('predict', 1.71, {}, { advice: false });
            const advised = await time('predict', 1.72);
            const analyze = await time('analyze', 1.73);
            const planned = { tiers: [{ name: 'cpu', capacity_gb: 200 }, { name: 'ssd', capacity_gb: 2000 }],
                              cluster: { replicas: 4, routing: 'random' } };
            const analyzePlanned = await time('analyze', 1.74, planned);
            const compare = await time('compare_routing', 1.75, planned, { simulate: true });
            const t1 = performance.now();
            await window.kvcacheCalc.call('predict', { scenario: mixed, advice: false });
            const mixedPredict = performance.now() - t1;
            const t2 = performance.now();
            await window.kvcacheCalc.call('analyze', { scenario: { ...mixed, workload: { ...mixed.workload, arrival_rate: 1.49 } } });
            const mixedAnalyze = performance.now() - t2;
            return { edit_to_numbers_ms: numbers, edit_to_charts_ms: charts,
                     mixed_predict_round_trip_ms: mixedPredict, mixed_analyze_round_trip_ms: mixedAnalyze,
                     predict_round_trip_ms: predict, predict_advice_round_trip_ms: advised,
                     analyze_round_trip_ms: analyze, analyze_planned_round_trip_ms: analyzePlanned,
                     compare_routing_round_trip_ms: compare };
        }""", MIXED))
        return out
    finally:
        context.close()


def bare_run(browser, url: str) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url + "bench-bare.html")
        wait(page, "body[data-ready='true']")
        assert page.evaluate("document.body.dataset.answer") == "2"
        return {"bare_ready_ms": mark(page, "bare:ready")}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--skip-traces", action="store_true",
                        help="leave out the replay figures (bench/replay_speed.py, bench/trace_page.py)")
    args = parser.parse_args()
    if not (SITE / "build.json").exists():
        raise SystemExit("build the site first: make site")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    tmp = bench_root()
    server, url = serve(Path(tmp.name))
    runs: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            launch = {"args": ARGS}
            if Path(CHROMIUM).exists():
                launch["executable_path"] = CHROMIUM
            browser = playwright.chromium.launch(**launch)
            for index in range(args.runs):
                for result in (app_run(browser, url), bare_run(browser, url), no_snapshot_run(browser, url)):
                    for key, value in result.items():
                        runs.setdefault(key, []).append(value)
                print(f"run {index + 1}/{args.runs} done", flush=True)
            version = browser.version
            browser.close()
    finally:
        server.shutdown()
        tmp.cleanup()
    medians = {key: statistics.median(values) for key, values in runs.items()}
    medians["load_before"] = load_before
    medians["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    medians["cold_numbers_over_bare"] = medians["cold_numbers_ms"] / medians["bare_ready_ms"]
    medians["cold_no_snapshot_over_bare"] = medians["cold_no_snapshot_numbers_ms"] / medians["bare_ready_ms"]
    medians["warm_numbers_over_bare"] = medians["warm_numbers_ms"] / medians["bare_ready_ms"]
    medians["offline_numbers_over_bare"] = medians["offline_numbers_ms"] / medians["bare_ready_ms"]
    medians["cold_analysis_over_bare"] = medians["cold_analysis_ms"] / medians["bare_ready_ms"]
    report = render(medians, args.runs, version)
    print(report)
    if args.write_docs:
        write_docs(report)
    if not args.skip_traces:
        # issue 14's replay figures, in the same sitting: the curve against one plain replay on 512- and
        # 16-token blocks, gzip against plain (CPython), and a 100 MB trace in the page
        for script in ("replay_speed.py", "trace_page.py"):
            print(f"\n## {script}", flush=True)
            subprocess.run([sys.executable, str(ROOT / "bench" / script)], check=True)


def render(m: dict, runs: int, version: str) -> str:
    return "\n".join([
        f"Measured by `python3 bench/browser_bench.py` (medians of {runs} interleaved runs, each in a fresh",
        f"browser context; Chromium {version}, headless, {os.cpu_count()} CPUs, {platform.machine()}; local",
        f"http.server, so network time is ~0; 1-minute load average {m['load_before']:.1f} at the start and",
        f"{m['load_average']:.1f} at the end, i.e. other work shared the CPUs). Figures include the page's",
        "150 ms edit debounce and the 300 ms pause before the full analysis where noted.",
        "",
        "| what | median |",
        "|---|---|",
        f"| bare page: boot the same Pyodide in a worker and run `1+1` | {m['bare_ready_ms']:.0f} ms |",
        f"| cold load to Python ready (runtime + wheel) | {m['python_ready_ms']:.0f} ms |",
        f"| cold load to first numbers on screen | {m['cold_numbers_ms']:.0f} ms "
        f"({m['cold_numbers_over_bare']:.2f}x bare) |",
        f"| cold load to the full analysis (charts, advice) | {m['cold_analysis_ms']:.0f} ms "
        f"({m['cold_analysis_over_bare']:.2f}x bare) |",
        f"| cold load to first numbers without the snapshot (its download fails: a normal boot) | "
        f"{m['cold_no_snapshot_numbers_ms']:.0f} ms ({m['cold_no_snapshot_over_bare']:.2f}x bare) |",
        f"| warm reload to first numbers (service worker active, snapshot pages kept) | "
        f"{m['warm_numbers_ms']:.0f} ms ({m['warm_numbers_over_bare']:.2f}x bare) |",
        f"| warm reload to the full analysis | {m['warm_analysis_ms']:.0f} ms |",
        f"| offline reload to first numbers (the browser offline) | {m['offline_numbers_ms']:.0f} ms "
        f"({m['offline_numbers_over_bare']:.2f}x bare) |",
        f"| form change to updated numbers (incl. 150 ms debounce) | {m['edit_to_numbers_ms']:.0f} ms |",
        f"| form change to updated charts (incl. debounce + 300 ms pause) | {m['edit_to_charts_ms']:.0f} ms |",
        f"| worker round trip, `predict` without the advisor (the page's fast path) | {m['predict_round_trip_ms']:.1f} ms |",
        f"| worker round trip, `predict` with the advisor | {m['predict_advice_round_trip_ms']:.0f} ms |",
        f"| worker round trip, `analyze` (the full panel) | {m['analyze_round_trip_ms']:.0f} ms |",
        f"| worker round trip, `analyze` with two tiers and 4 replicas under random routing | "
        f"{m['analyze_planned_round_trip_ms']:.0f} ms |",
        f"| worker round trip, `compare_routing` simulating 4 routings of that cluster | "
        f"{m['compare_routing_round_trip_ms']:.0f} ms |",
        f"| worker round trip, `predict` of mixed traffic (3 classes, a 500-document catalog, a CPU tier; "
        f"bench/planning_speed.py `MIXED`) | {m['mixed_predict_round_trip_ms']:.0f} ms |",
        f"| worker round trip, `analyze` of that mixed traffic | {m['mixed_analyze_round_trip_ms']:.0f} ms |",
        "",
    ])


BEGIN, END = "<!-- browser-bench: begin -->", "<!-- browser-bench: end -->"


def write_docs(section: str) -> None:
    """Replace the measured part of docs/performance.md's Browser section (between its markers); the
    commentary around it is written by hand."""
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start == -1 or end == -1:
        raise SystemExit(f"{DOCS}: no {BEGIN} ... {END} markers to write between")
    DOCS.write_text(text[:start] + BEGIN + "\n" + section + END + text[end + len(END):], encoding="utf-8")
    print(f"wrote the Browser section of {DOCS}")


if __name__ == "__main__":
    main()
