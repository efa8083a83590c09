"""The page boots Pyodide under its CSP, from its own origin only, without console errors."""

import json
from pathlib import Path


def test_boots_offline_without_errors(booted, site_url):
    assert booted.foreign_requests() == []
    assert booted.problems() == []
    requested = {url[len(site_url):].split("?")[0] for url in booted.requests}
    for path in ("schema.json", "worker.js", "pyodide/pyodide.asm.wasm", "pyodide/pyodide-lock.json",
                 "vendor/chart.umd.min.js"):
        assert path in requested
    assert any(p.startswith("wheels/kvcache_calc-") for p in requested)
    assert not any("micropip" in p for p in requested)  # the wheel is unpacked, no installer


def test_progress_reaches_ready_and_results_show(booted):
    page = booted.page
    assert page.get_attribute("#boot-stage", "data-stage") == "ready"
    assert page.evaluate("document.getElementById('boot-progress').value") == 1
    values = booted.metric_values()
    assert 0 <= values["token_hit_rate"] <= 1
    assert 0 <= values["request_hit_rate"] <= 1
    assert page.evaluate("document.body.dataset.ready") == "true"


def test_csp_meta_is_strict(booted):
    csp = booted.page.get_attribute("meta[http-equiv='Content-Security-Policy']", "content")
    assert "default-src 'self'" in csp
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp


def test_worker_protocol_answers_errors_not_silence(booted):
    page = booted.page
    unknown = page.evaluate("window.kvcacheCalc.call('no-such-method', {})")
    assert unknown["ok"] is False and unknown["error"]["message"]
    schema = page.evaluate("window.kvcacheCalc.call('schema', {})")
    assert schema["ok"] is True
    assert schema["result"] == json.loads(page.evaluate("JSON.stringify(window.kvcacheCalc.schema)"))


def test_tampered_calculator_wheel_stops_the_boot_visibly(browser, site_url):
    """Integrity checks are on: a wheel that does not match build.json's sha256 is an error."""
    site = Path(__file__).resolve().parents[2] / "_site"
    manifest = json.loads((site / "build.json").read_text())
    real_wheel = (site / "wheels" / manifest["wheel"]).read_bytes()
    context = browser.new_context()
    try:
        # Still a valid zip (bytes after the archive are ignored), but not the file build.json hashed.
        context.route("**/wheels/kvcache_calc-*.whl",
                      lambda route: route.fulfill(status=200, body=real_wheel + b"\0",
                                                  content_type="application/octet-stream"))
        page = context.new_page()
        page.goto(site_url)
        page.wait_for_selector("#boot-stage[data-stage='error']", state="attached", timeout=60_000)
        stage = page.text_content("#boot-stage")
        assert manifest["wheel"] in stage and "sha256" in stage, stage
        page.wait_for_selector("body[data-ready='true']", state="attached", timeout=10_000)
        assert "Python" in page.text_content("#form-error")  # the pending calculation says so too
    finally:
        context.close()
