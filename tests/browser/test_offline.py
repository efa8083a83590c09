"""Boot and caching: the page offline after a first visit, a new build replacing the cached one whole,
and a damaged snapshot or cache falling back to a normal boot without an error (docs/web.md)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import BOOT_TIMEOUT_MS, ROOT, SITE, PageWatch, _SiteHandler, _csp_of_index

TITLE = "KV-cache hit-rate calculator"
NEW_TITLE = "KV-cache hit-rate calculator, rebuilt"
SNAPSHOT_GZ = "snapshot/pyodide.bin.gz"
NO_SNAPSHOT = "booting Python without the snapshot"


class SwitchableSite:
    """An http server of one of several site directories, switchable between requests (a deploy)."""

    def __init__(self, directory: Path):
        self.handler = type("Handler", (_SiteHandler,), {"csp": _csp_of_index()})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self.server.daemon_threads = True
        self.serve(directory)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def serve(self, directory: Path):
        self.server.RequestHandlerClass = functools.partial(self.handler, directory=str(directory))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def copy_site(tmp: Path, name: str) -> Path:
    target = tmp / name
    shutil.copytree(SITE, target)
    return target


def rebuilt(site: Path) -> Path:
    """`site` as the next deploy: a changed UI string, then build.json's hash and sw.js redone as the
    build does it."""
    i18n = site / "js" / "i18n.js"
    text = i18n.read_text(encoding="utf-8")
    assert text.count(f'title: "{TITLE}"') == 1
    i18n.write_text(text.replace(f'title: "{TITLE}"', f'title: "{NEW_TITLE}"'), encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_hash.py"), str(site)], check=True)
    return site


def sha256_files(site: Path) -> dict[str, str]:
    return {path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in site.rglob("*") if path.is_file()}


# The page's code and the manifests: what a page of mixed builds would differ in.
CODE_SUFFIXES = (".html", ".js", ".json", ".css")


class RecordedResponses:
    """The site's code responses a page received while in the `with` block ({path: Response}); their
    bodies are read afterwards (never inside the event handler, which would hold up Playwright)."""

    def __init__(self, page, site_url: str):
        self.page, self.site_url, self.responses = page, site_url, {}

    def _record(self, response):
        path = response.url[len(self.site_url):].split("?")[0] or "index.html"
        if response.url.startswith(self.site_url) and path.endswith(CODE_SUFFIXES) and response.status == 200:
            self.responses[path] = response

    def __enter__(self):
        self.page.on("response", self._record)
        return self

    def __exit__(self, *exc):
        self.page.remove_listener("response", self._record)


def assert_one_build(recorded: RecordedResponses, site: Path):
    """Every code file the page received is `site`'s, byte for byte."""
    expected = sha256_files(site)
    assert {"index.html", "app.js", "js/i18n.js", "worker.js", "build.json"} <= recorded.responses.keys()
    digests = {path: hashlib.sha256(response.body()).hexdigest() for path, response in recorded.responses.items()}
    assert {path: digest for path, digest in digests.items() if digest != expected.get(path)} == {}


class Console:
    """Every console message of a page and its workers, by type."""

    def __init__(self, page):
        self.messages: list[tuple[str, str]] = []
        page.on("console", lambda message: self.messages.append((message.type, message.text)))

    def of_type(self, kind: str) -> list[str]:
        return [text for message_type, text in self.messages if message_type == kind]


def wait_for_service_worker(page):
    """The registration's worker is active (the build is cached)."""
    active = page.evaluate("""(timeout) => Promise.race([
        navigator.serviceWorker.ready.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), timeout)),
    ])""", BOOT_TIMEOUT_MS)
    assert active, "the service worker did not install"


def wait_for_waiting_worker(page):
    """A newer build's worker installed (its cache complete) and waiting."""
    installed = page.evaluate("""(timeout) => navigator.serviceWorker.getRegistration().then((registration) =>
        new Promise((resolve) => {
            const deadline = performance.now() + timeout;
            const check = () => {
                if (registration.waiting) resolve(true);
                else if (performance.now() > deadline) resolve(false);
                else setTimeout(check, 50);
            };
            check();
        }))""", BOOT_TIMEOUT_MS)
    assert installed, "the new build's service worker did not install"


def reload_and_wait(watch: PageWatch):
    watch.page.reload()
    try:
        watch.wait_ready()
        watch.wait_idle()
    except Exception:
        print("page state:", watch.page.evaluate("""() => navigator.serviceWorker.getRegistration().then((r) => JSON.stringify({
            readyState: document.readyState, stage: document.getElementById('boot-stage')?.dataset.stage,
            ready: document.body.dataset.ready, busy: document.body.dataset.busy,
            registration: [r?.active?.state, r?.waiting?.state, r?.installing?.state],
            controlled: navigator.serviceWorker.controller !== null,
            resources: performance.getEntriesByType('resource').map((e) => [e.name, Math.round(e.startTime), Math.round(e.responseEnd)]).slice(-15),
        }))"""))
        raise


def assert_numbers_on_screen(watch: PageWatch):
    values = watch.metric_values()
    assert 0 <= values["token_hit_rate"] <= 1
    assert 0 <= values["request_hit_rate"] <= 1
    watch.assert_clean()


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sites")
    return {"a": copy_site(tmp, "a"), "b": rebuilt(copy_site(tmp, "b"))}


@pytest.fixture(scope="module")
def server(sites):
    site = SwitchableSite(sites["a"])
    yield site
    site.close()


@pytest.fixture(scope="module")
def visited(browser, server, sites):
    """A context that visited build A once and has its service worker active."""
    server.serve(sites["a"])
    context = browser.new_context()
    page = context.new_page()
    console = Console(page)
    watch = PageWatch(page, server.url)
    page.goto(server.url)
    watch.wait_ready()
    wait_for_service_worker(page)
    yield context, watch, console
    context.close()


def test_first_visit_boots_from_the_snapshot(visited):
    _, watch, console = visited
    assert_numbers_on_screen(watch)
    requested = {url[len(watch.site_url):] for url in watch.requests}
    assert SNAPSHOT_GZ in requested
    assert not [text for text in console.of_type("info") if NO_SNAPSHOT in text]


def test_offline_reload_computes_numbers(visited, sites):
    context, watch, console = visited
    context.set_offline(True)
    try:
        reload_and_wait(watch)
        assert_numbers_on_screen(watch)
        assert watch.page.evaluate("navigator.serviceWorker.controller !== null")
        # the kept snapshot pages: the compressed file is not needed again
        assert not [text for text in console.of_type("info") if NO_SNAPSHOT in text]
        assert watch.page.text_content("h1") == TITLE
        # a different scenario is computed offline too
        watch.load_query("?rate=2.5")
        assert_numbers_on_screen(watch)
    finally:
        context.set_offline(False)


def test_damaged_kept_snapshot_falls_back_without_an_error(visited):
    _, watch, console = visited
    truncated = watch.page.evaluate("""async () => {
        const cache = await caches.open('kvcache-snapshot');
        const [request] = await cache.keys();
        const bytes = await (await cache.match(request)).arrayBuffer();
        await cache.put(request, new Response(bytes.slice(0, bytes.byteLength >> 1)));
        return bytes.byteLength >> 1;
    }""")
    assert truncated > 0
    console.messages.clear()
    reload_and_wait(watch)
    assert_numbers_on_screen(watch)
    assert any("stale or damaged" in text for text in console.of_type("info")), console.messages
    assert console.of_type("error") == []


def test_damaged_cached_file_is_fetched_again(visited, sites):
    """A truncated entry in the service worker's cache (the compressed snapshot, with the kept pages
    gone so the boot needs it) is fetched again and checked; the boot still uses the snapshot."""
    _, watch, console = visited
    watch.page.evaluate("""async (path) => {
        await caches.delete('kvcache-snapshot');
        const name = (await caches.keys()).find((key) => key.startsWith('kvcache-site-'));
        const cache = await caches.open(name);
        const url = new URL(path, location.href).href;
        const bytes = await (await cache.match(url)).arrayBuffer();
        await cache.put(url, new Response(bytes.slice(0, 1000)));
    }""", SNAPSHOT_GZ)
    console.messages.clear()
    reload_and_wait(watch)
    assert_numbers_on_screen(watch)
    assert not [text for text in console.of_type("info") if NO_SNAPSHOT in text]
    assert console.of_type("error") == []


def test_new_build_replaces_every_cached_file(visited, server, sites):
    """Deploy B over A: the reload that finds B installed runs B whole (every file B's bytes); once
    the tab is closed B's worker is active, and A's cache is gone. (The last test of `visited`.)"""
    context, watch, console = visited
    server.serve(sites["b"])
    try:
        reload_and_wait(watch)  # still A's worker: A's page, whole; the browser installs B meanwhile
        assert watch.page.text_content("h1") == TITLE
        wait_for_waiting_worker(watch.page)
        with RecordedResponses(watch.page, server.url) as recorded:
            reload_and_wait(watch)
        assert watch.page.text_content("h1") == NEW_TITLE
        assert_numbers_on_screen(watch)
        assert_one_build(recorded, sites["b"])
        watch.page.close()  # no page of A left: B's worker activates and deletes A's cache
        build_b = json.loads((sites["b"] / "build.json").read_text())["build_hash"][:16]
        site_caches = caches_once_settled(context, f"kvcache-site-{build_b}")
        assert sorted(site_caches) == sorted([f"kvcache-site-{build_b}", "kvcache-snapshot"])
    finally:
        server.serve(sites["a"])


def test_a_second_tab_keeps_the_old_build_until_it_closes(browser, server, sites):
    """With two tabs of build A open, a reload after B installed stays A, whole; once the other tab
    is closed, the reload runs B."""
    server.serve(sites["a"])
    context = browser.new_context()
    try:
        first = PageWatch(context.new_page(), server.url)
        first.page.goto(server.url)
        first.wait_ready()
        wait_for_service_worker(first.page)
        second = PageWatch(context.new_page(), server.url)
        second.page.goto(server.url)
        second.wait_ready()
        server.serve(sites["b"])
        reload_and_wait(first)
        wait_for_waiting_worker(first.page)
        with RecordedResponses(first.page, server.url) as recorded:
            reload_and_wait(first)
        assert first.page.text_content("h1") == TITLE
        assert_one_build(recorded, sites["a"])
        assert second.page.text_content("h1") == TITLE
        second.page.close()
        reload_and_wait(first)
        assert first.page.text_content("h1") == NEW_TITLE
        assert_numbers_on_screen(first)
    finally:
        context.close()
        server.serve(sites["a"])


def caches_once_settled(context, expected: str) -> list[str]:
    """The origin's caches, read in its service worker, once `expected` is the only site cache (or
    after a minute)."""
    names: list[str] = []
    for _ in range(600):
        for worker in context.service_workers:
            try:
                names = worker.evaluate("caches.keys()")
            except Exception:  # a worker that has just been stopped
                continue
            if [name for name in names if name.startswith("kvcache-site-")] == [expected]:
                return names
        time.sleep(0.1)
    return names


def truncate_snapshot(site: Path):
    """The snapshot file cut in half: it no longer matches build.json's sha256."""
    snapshot = site / SNAPSHOT_GZ
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])


def foreign_snapshot(site: Path):
    """A snapshot whose checksums are all in order but which Pyodide refuses (its header zeroed, as
    one from another runtime would fail its magic number and build id), build.json and sw.js redone."""
    snapshot = site / SNAPSHOT_GZ
    pages = bytearray(gzip.decompress(snapshot.read_bytes()))
    pages[:64] = bytes(64)
    snapshot.write_bytes(gzip.compress(bytes(pages)))
    manifest = json.loads((site / "build.json").read_text())
    manifest["snapshot"]["sha256"] = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    manifest["snapshot"]["pages_sha256"] = hashlib.sha256(bytes(pages)).hexdigest()
    (site / "build.json").write_text(json.dumps(manifest, indent=1))
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_hash.py"), str(site)], check=True)


@pytest.mark.parametrize(("damage", "reason"), [(truncate_snapshot, "does not match the sha256 in build.json"),
                                               (foreign_snapshot, "Snapshot has invalid magic number")],
                         ids=["truncated", "refused-by-pyodide"])
def test_damaged_snapshot_on_the_server_boots_normally(browser, server, sites, tmp_path, damage, reason):
    """A snapshot that does not match build.json's sha256 (truncated), or that Pyodide refuses, costs
    the attempt and a console.info line: Python boots as without one, and the numbers come."""
    site = copy_site(tmp_path, "damaged")
    damage(site)
    server.serve(site)
    context = browser.new_context()
    try:
        page = context.new_page()
        console = Console(page)
        watch = PageWatch(page, server.url)
        page.goto(server.url)
        watch.wait_ready()
        watch.wait_idle()
        assert_numbers_on_screen(watch)
        assert any(NO_SNAPSHOT in text and reason in text for text in console.of_type("info")), console.messages
        assert console.of_type("error") == []
    finally:
        context.close()
        server.serve(sites["a"])
