"""The "Diagnose my deployment" panel: a pasted vLLM scrape pair gives CPython's `diagnose` numbers
(the extra prometheus_client wheel loads on first use, same origin, checked by SRI); a bad scrape shows
Python's message; Apply on a suggestion sets the form field. One booted page for the module."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import BOOT_TIMEOUT_MS, cpython_answer

pytest.importorskip("prometheus_client")

METRICS = Path(__file__).resolve().parents[1] / "data" / "metrics"
BEFORE = (METRICS / "vllm-0.10.0-t0.prom").read_text()
AFTER = (METRICS / "vllm-0.10.0-t60.prom").read_text()


def diagnose(watch, scrape: str, before: str = "", interval: str = ""):
    page = watch.page
    page.fill("#diagnose-scrape", scrape)
    if before or interval:
        page.evaluate("document.querySelector('#diagnose-panel details').open = true")
    page.fill("#diagnose-before", before)
    page.fill("#diagnose-interval", interval)
    page.click("#diagnose-run")
    page.wait_for_selector("#diagnose-panel[data-state='done'], #diagnose-panel[data-state='error']",
                           state="attached", timeout=BOOT_TIMEOUT_MS)


def shown(watch) -> dict[str, float | None]:
    raw = watch.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '#diagnose-results [data-scope="diagnose"][data-metric]')].map((el) => [el.dataset.metric, el.dataset.value]))""")
    return {k: (float(v) if v != "" else None) for k, v in raw.items()}


def test_pair_of_scrapes_matches_cpython(booted):
    diagnose(booted, AFTER, BEFORE, "60")
    assert booted.page.get_attribute("#diagnose-panel", "data-state") == "done"
    expected = cpython_answer("diagnose", {"scenario": booted.scenario(), "scrape": AFTER, "scrape_before": BEFORE,
                                           "interval_s": 60})
    values = shown(booted)
    assert math.isclose(values["observed.token_hit_rate"], expected["observed"]["token_hit_rate"], rel_tol=1e-12)
    assert math.isclose(values["model.token_hit_rate"], expected["model"]["token_hit_rate"], rel_tol=1e-9)
    assert math.isclose(values["observed.cluster_requests_per_s"], expected["observed"]["cluster_requests_per_s"])
    text = booted.page.inner_text("#diagnose-compare tr[data-row='token_hit_rate']")
    assert f"{expected['observed']['token_hit_rate'] * 100:.2f}%" in text  # 30.00%
    stages = booted.page.eval_on_selector_all("#diagnose-split tr[data-stage]", "(rows) => rows.map((r) => r.dataset.stage)")
    assert stages == [s["stage"] for s in expected["loss_split"]]
    codes = booted.page.eval_on_selector_all("#diagnose-notes li", "(items) => items.map((li) => li.dataset.code)")
    assert codes == [n["code"] for n in expected["notes"]]
    wheel = [u for u in booted.requests if u.endswith("prometheus_client-0.26.0-py3-none-any.whl")]
    assert len(wheel) == 1 and booted.foreign_requests() == []
    booted.assert_clean()


def test_bad_scrape_shows_the_message(booted):
    diagnose(booted, "<html><body>not metrics</body></html>")
    assert booted.page.get_attribute("#diagnose-panel", "data-state") == "error"
    message = booted.page.text_content("#diagnose-error")
    assert "scrape: not Prometheus text format" in message
    diagnose(booted, AFTER, BEFORE, "0")
    assert "interval_s: 0 is not allowed" in booted.page.text_content("#diagnose-error")
    booted.assert_clean()


def test_apply_sets_the_form_field(booted):
    diagnose(booted, AFTER, BEFORE, "60")
    suggestion = booted.page.get_attribute("#diagnose-suggestions li[data-path='workload.arrival_rate']", "data-value")
    booted.page.click("#diagnose-suggestions button[data-path='workload.arrival_rate']")
    booted.wait_idle()
    assert booted.page.input_value("input[name='workload.arrival_rate']") == suggestion
    assert booted.scenario()["workload"]["arrival_rate"] == float(suggestion)
    booted.assert_clean()


def test_strings_in_both_languages(booted):
    booted.page.click("#language-switch")
    assert booted.page.text_content("#diagnose-title") == "诊断我的部署"
    assert booted.page.text_content("#diagnose-run") == "诊断"
    booted.page.click("#language-switch")
    assert booted.page.text_content("#diagnose-title") == "Diagnose my deployment"
    keys = booted.page.evaluate("import('./js/diagnose-i18n.js').then((m) => m.DIAGNOSE_STRING_KEYS)")
    assert sorted(keys["en"]) == sorted(keys["zh"])
    booted.assert_clean()
