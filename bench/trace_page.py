"""A big fine-grained trace in the page: time to the curve and to the fit, an edit answered during
the replay, the trace worker's memory, and Cancel.

    bash scripts/build_site.sh && python3 bench/trace_page.py [--mb 100]

Generates a Qwen Bailian-format trace with 16-token blocks of about --mb MB (bench/replay_speed.py's
catalog traffic), serves _site/, opens the page in Chromium (/usr/bin/chromium) and picks the file.
While the replay reads the file it changes the arrival rate and times the calculator's answer (the
trace runs in a worker of its own). Prints when the curve and the fit appeared, the trace worker's
WebAssembly memory (it never shrinks: the peak), then opens the trace again and cancels it at about
a third of the file, checking that the worker was replaced and the page is idle.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "bench")]
from kvcache_calc.traffic.records import synthetic_trace, write_jsonl  # noqa: E402
from replay_speed import CATALOG  # noqa: E402

MB_PER_S = 30.9 / 6000   # CATALOG in the Bailian format: MB of trace per second of traffic
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PANEL = """() => { const c = document.querySelector('#trace-panel');
    return { state: c.dataset.state, stage: c.dataset.stage, progress: Number(c.dataset.progress || 0),
             heap: Number(c.dataset.heapBytes || 0), curve: c.dataset.curve === 'drawn', worker: c.dataset.traceWorker }; }"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(ROOT / "_site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog_bailian.jsonl"
        write_jsonl(synthetic_trace(CATALOG, args.mb / MB_PER_S, seed=1, fmt="bailian"), path)
        lines = sum(1 for _ in open(path))
        print(f"trace: {path.stat().st_size / 1e6:.1f} MB, {lines:,} requests; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        server, url = serve()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page()
                page.goto(url)
                page.wait_for_selector("body[data-ready='true'][data-busy='false']", state="attached", timeout=120_000)
                start = time.monotonic()
                page.set_input_files("#trace-file", str(path))
                curve_s = edit_s = None
                while True:
                    state = page.evaluate(PANEL)
                    if edit_s is None and state["stage"] == "replay" and state["progress"] > 0.3:
                        before = time.monotonic()
                        page.fill("input[name='workload.arrival_rate']", "3.7")
                        page.wait_for_selector("body[data-busy='true']", state="attached", timeout=10_000)
                        page.wait_for_selector("body[data-busy='false']", state="attached", timeout=60_000)
                        edit_s = time.monotonic() - before
                        still = page.evaluate(PANEL)["state"]
                        print(f"edit during the replay (at {state['progress']:.0%} of the file): numbers after "
                              f"{edit_s:.2f} s (debounce included); trace still {still}")
                    if curve_s is None and state["curve"]:
                        curve_s = time.monotonic() - start
                        print(f"curve after {curve_s:.1f} s; trace worker memory {state['heap'] / 1e6:.0f} MB")
                    if state["state"] in ("done", "error"):
                        break
                    time.sleep(0.2)
                total_s = time.monotonic() - start
                print(f"fit and model after {total_s:.1f} s ({state['state']}); trace worker memory "
                      f"{state['heap'] / 1e6:.0f} MB")

                worker = page.evaluate(PANEL)["worker"]
                page.set_input_files("#trace-file", str(path))
                page.wait_for_selector("#trace-panel[data-stage='replay'][data-progress]", state="attached",
                                       timeout=120_000)
                while page.evaluate(PANEL)["progress"] < 0.3:
                    time.sleep(0.1)
                page.click("#trace-cancel")
                after = page.evaluate(PANEL)
                print(f"cancel at {after['progress']:.0%}: state {after['state']}, worker {worker} -> {after['worker']}")
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
