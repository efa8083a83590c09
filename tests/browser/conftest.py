"""Browser-test fixtures: serve _site/ on 127.0.0.1, run system Chromium, share one booted page.

The server also sends the page's Content-Security-Policy as an HTTP header, so the worker (which
a <meta> policy does not cover) boots under the same policy.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import math
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_site"
SYSTEM_CHROMIUM = "/usr/bin/chromium"
BOOT_TIMEOUT_MS = 60_000

if importlib.util.find_spec("playwright") is None:
    # a missing browser stack fails the run: a skip would turn every browser test green unseen
    raise ImportError("the browser tests need playwright: run `make test-deps` "
                      "(or pip install -r requirements-test.txt)")


def assert_site_is_current():
    """_site/ exists and was built from the Python sources in the working tree."""
    if not (SITE / "index.html").exists() or not (SITE / "build.json").exists():
        pytest.fail("_site/ is not built; run `make site` (make test does it first)")
    spec = importlib.util.spec_from_file_location("source_hash", ROOT / "scripts" / "source_hash.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built_from = json.loads((SITE / "build.json").read_text()).get("source_sha256")
    if built_from != module.source_hash(ROOT):
        pytest.fail("_site/ was built from other Python sources than the working tree; run `make site`")


def cpython_answer(method: str, payload: dict) -> dict:
    """CPython's `api.handle(method, payload)` result (the same call the page's worker makes)."""
    from kvcache_calc import api

    reply = json.loads(api.handle(method, json.dumps(payload)))
    assert reply["ok"], reply
    return reply["result"]


def _csp_of_index() -> str:
    html = (SITE / "index.html").read_text(encoding="utf-8")
    match = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert match, "index.html has no CSP meta tag"
    return match.group(1)


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    csp = ""
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
                      ".json": "application/json", ".whl": "application/octet-stream",
                      ".zip": "application/zip"}

    def end_headers(self):
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="session")
def site_url():
    """Base URL ("http://127.0.0.1:PORT/") of _site/ served from a background thread."""
    assert_site_is_current()
    handler = functools.partial(type("Handler", (_SiteHandler,), {"csp": _csp_of_index()}), directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """System Chromium when installed (never `playwright install`), sandbox and network extras off."""
    args = {**browser_type_launch_args}
    if Path(SYSTEM_CHROMIUM).exists():
        args["executable_path"] = SYSTEM_CHROMIUM
    elif not shutil.which("chromium"):
        pass  # fall back to Playwright's own browser if it is installed
    args["args"] = [*args.get("args", []), "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return args


class PageWatch:
    """Everything a page did that a test may want to assert on."""

    def __init__(self, page, site_url: str):
        self.page = page
        self.site_url = site_url
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._on_dialog)

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests
                if not url.startswith(self.site_url) and not url.startswith(("data:", "blob:"))]

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + [f"dialog: {d}" for d in self.dialogs]

    def assert_clean(self) -> None:
        """No NaN, undefined or Infinity on screen, every data-value a finite number (or empty), and no
        console error, page error or dialog."""
        text = self.page.inner_text("body")
        for word in ("NaN", "undefined", "Infinity"):
            assert word not in text, word
        values = self.page.evaluate("[...document.querySelectorAll('[data-value]')].map((el) => el.dataset.value)")
        assert all(v == "" or math.isfinite(float(v)) for v in values)
        assert self.problems() == []



    # --- waiting and reading ----------------------------------------------------------------

    def wait_ready(self):
        """Python booted and the first result (or error) on screen, nothing pending."""
        # Selectors, not wait_for_function: its polling evals a string, which the CSP forbids.
        self.page.wait_for_selector("body[data-ready='true'][data-busy='false']", state="attached",
                                    timeout=BOOT_TIMEOUT_MS)
        self.page.wait_for_selector("#boot[data-stage='ready']", state="attached", timeout=BOOT_TIMEOUT_MS)

    def wait_idle(self):
        """No calculation pending (debounce elapsed and the worker answered)."""
        self.page.wait_for_selector("body[data-busy='false']", state="attached", timeout=BOOT_TIMEOUT_MS)

    def metric_values(self) -> dict[str, float | None]:
        """{metric: data-value as float, None when empty} of the main results (not suggestions)."""
        raw = self.page.evaluate("""() => Object.fromEntries(
            [...document.querySelectorAll('#results [data-metric]:not([data-scope])')]
              .map(el => [el.dataset.metric, el.dataset.value]))""")
        return {key: (float(value) if value != "" else None) for key, value in raw.items()}

    def scenario(self) -> dict:
        return json.loads(self.page.text_content("[data-scenario-json]"))

    def load_query(self, query: str):
        """Load a share-link query in this page the way Back/Forward do (no reboot), then wait."""
        self.page.evaluate("""(query) => {
            history.pushState(null, '', query || location.pathname);
            window.dispatchEvent(new PopStateEvent('popstate'));
        }""", query)
        self.wait_idle()


def reveal(page, selector: str) -> None:
    """Open, by clicking their summaries as a person would, the closed folds around `selector`."""
    closed = page.locator(f"details:not([open]):has({selector}) > summary")
    while closed.count():
        closed.first.click()


def open_page(context, site_url: str, query: str = "") -> PageWatch:
    """A new page on the site, booted: Python ready and the first result on screen."""
    page = context.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url + query)
    watch.wait_ready()
    return watch


@pytest.fixture(scope="session")
def open_site(site_url):
    """open_site(context, query="") -> PageWatch of a booted page."""
    return lambda context, query="": open_page(context, site_url, query)


@pytest.fixture(scope="module")
def module_context(browser, site_url):
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture(scope="module")
def booted(module_context, site_url) -> PageWatch:
    """One booted page shared by a test module (each boot costs a few seconds)."""
    return open_page(module_context, site_url)
