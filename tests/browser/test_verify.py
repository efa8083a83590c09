"""Verify by simulation: progress, simulated rates next to the formula, chart overlay, cancel,
a scenario change during a run, and fifo (no formula, simulation only)."""

from __future__ import annotations

import csv
import io
import json

import pytest

RUN_TIMEOUT_MS = 90_000
# A small cache with large blocks: about a million block touches, a few simulate_step calls.
SMALL = {"cache.capacity_tokens": "20000", "cache.block_size": "64"}
SMALL_REQUESTS = "2000"
LONG_REQUESTS = "1000000"  # the same small scenario, about 125 million block touches (seconds of runs): time to interrupt it

RECORD_PROGRESS = """() => {
  window.__progressSeen = [];
  const bar = document.getElementById('verify-progress');
  new MutationObserver(() => window.__progressSeen.push(bar.dataset.progress))
    .observe(bar, { attributes: true, attributeFilter: ['data-progress'] });
}"""

SIM_METRICS = """() => Object.fromEntries([...document.querySelectorAll('#verify [data-metric]')]
  .map((el) => [el.dataset.metric, el.dataset.value]))"""

MEMORY_DATASETS = """() => {
  const chart = window.Chart.getChart(document.querySelector('canvas[data-chart="memory"]'));
  return chart.data.datasets.map((d) => ({ role: d.role || null, label: d.label, type: d.type || null,
                                           data: d.data.map((p) => ({ x: p.x, y: p.y })) }));
}"""


@pytest.fixture(scope="module")
def page(booted):
    return booted.page


def set_fields(booted, fields: dict[str, str]):
    for path, value in fields.items():
        booted.page.fill(f"input[name='{path}']", value)
    booted.wait_idle()


def wait_numbers(page):
    """The numbers (predict) match the form; the slower analysis may still be running."""
    page.wait_for_selector("body[data-numbers-busy='false']", state="attached", timeout=RUN_TIMEOUT_MS)


def sim_metrics(page) -> dict[str, float | None]:
    raw = page.evaluate(SIM_METRICS)
    return {key: (float(value) if value != "" else None) for key, value in raw.items()}


def assert_run_gone(page, run: str):
    reply = page.evaluate(f"window.kvcacheCalc.call('simulate_step', {{run: {int(run)}, touches: 1000}})")
    assert reply["ok"] is False and "not a running simulation" in reply["error"]["message"]


def start_long_run(booted):
    """A run of tens of steps, interrupted by the caller; returns its run id."""
    page = booted.page
    page.fill("#sim-requests", LONG_REQUESTS)
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='running']", state="attached", timeout=RUN_TIMEOUT_MS)
    assert page.is_visible("#verify-cancel") and page.is_disabled("#verify-start")
    return page.get_attribute("#verify", "data-run")


def test_verify_shows_progress_result_and_chart_point(booted, page):
    set_fields(booted, SMALL)
    page.fill("#sim-requests", SMALL_REQUESTS)
    page.evaluate(RECORD_PROGRESS)
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='done']", state="attached", timeout=RUN_TIMEOUT_MS)

    seen = [float(v) for v in page.evaluate("window.__progressSeen") if v != ""]
    assert any(0 < v < 1 for v in seen), seen
    assert seen == sorted(seen) and seen[-1] == 1, seen
    assert not page.is_visible("#verify-cancel") and page.is_enabled("#verify-start")

    sim = sim_metrics(page)
    predicted = booted.metric_values()
    assert sim["sim_predicted_token_hit_rate"] == predicted["token_hit_rate"]
    assert sim["sim_predicted_request_hit_rate"] == predicted["request_hit_rate"]
    assert abs(sim["sim_token_hit_rate"] - sim["sim_predicted_token_hit_rate"]) < 0.03, sim
    assert abs(sim["sim_request_hit_rate"] - sim["sim_predicted_request_hit_rate"]) < 0.03, sim
    assert 0 < sim["sim_token_hit_rate_ci"] < 0.05
    assert sim["sim_token_hit_rate_difference"] == pytest.approx(
        sim["sim_token_hit_rate"] - sim["sim_predicted_token_hit_rate"], abs=1e-15)
    assert sim["sim_requests_measured"] > 0 and sim["sim_block_touches"] > 0
    assert "± " in page.text_content("#verify-result tr[data-rate='token_hit_rate']")

    booted.wait_idle()
    datasets = page.evaluate(MEMORY_DATASETS)
    by_role = {d["role"]: d for d in datasets if d["role"]}
    current = next(d for d in datasets if d["type"] == "scatter" and not d["role"])["data"][0]
    point = by_role["simulated-token"]["data"]
    assert point == [{"x": current["x"], "y": sim["sim_token_hit_rate"]}]
    bar = by_role["simulated-token-interval"]["data"]
    assert [p["x"] for p in bar] == [current["x"]] * 2
    assert bar[1]["y"] - bar[0]["y"] == pytest.approx(2 * sim["sim_token_hit_rate_ci"], abs=1e-12)
    assert "simulated-request" in by_role

    # the exports carry the simulation of the scenario they export
    with page.expect_download() as info:
        page.click("#download-json")
    exported = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert exported["simulation"]["token_hit_rate"] == sim["sim_token_hit_rate"]
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert ["simulation", "token_hit_rate", repr(sim["sim_token_hit_rate"])] in rows

    page.click("#language-switch")
    assert "仿真完成" in page.text_content("#verify-status")
    assert "个百分点" in page.text_content("#verify-result")
    page.click("#language-switch")
    assert "Simulation finished" in page.text_content("#verify-status")
    booted.assert_clean()

    # The result belongs to this scenario only: an edit removes it and its chart point.
    page.fill("input[name='workload.think_time_s']", "30")
    wait_numbers(page)
    assert page.get_attribute("#verify", "data-state") == "idle"
    assert sim_metrics(page) == {}
    assert not any(d["role"] for d in page.evaluate(MEMORY_DATASETS))


def test_cancel_stops_the_run(booted, page):
    run = start_long_run(booted)
    page.click("#verify-cancel")
    page.wait_for_selector("#verify[data-state='cancelled']", state="attached")
    assert "cancelled" in page.text_content("#verify-status").lower()
    assert not page.is_visible("#verify-cancel") and page.is_enabled("#verify-start")
    assert not page.is_visible("#verify-progress")
    assert sim_metrics(page) == {}
    assert_run_gone(page, run)
    booted.assert_clean()


def test_scenario_change_cancels_the_run(booted, page):
    run = start_long_run(booted)
    page.fill("input[name='workload.think_time_s']", "")
    page.wait_for_selector("#verify[data-state='outdated']", state="attached")
    assert "scenario changed" in page.text_content("#verify-status")
    assert not page.is_visible("#verify-cancel") and page.is_enabled("#verify-start")
    # The live update that follows is for the new scenario (it queued behind a step; that is fine).
    booted.wait_idle()
    assert json.loads(page.get_attribute("#results-panel", "data-result-scenario")) == booted.scenario()
    assert booted.scenario()["workload"].get("think_time_s", 60) == 60
    assert_run_gone(page, run)
    booted.assert_clean()


def test_bad_simulation_input_is_reported(booted, page):
    page.fill("#sim-requests", "abc")
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='error']", state="attached")
    assert "requests" in page.text_content("#verify-status")
    page.fill("#sim-requests", "100000000")
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='error']", state="attached")
    assert "block touches exceed the limit" in page.text_content("#verify-status")
    assert page.text_content("#form-error") == ""
    booted.assert_clean()


def test_fifo_has_no_formula_but_simulates(booted, page):
    assert booted.scenario()["cache"]["block_size"] == 64  # still the small scenario
    page.select_option("select[name='cache.policy']", "fifo")
    booted.wait_idle()
    note = page.text_content("#policy-note")
    assert page.is_visible("#policy-note") and "cache.policy" in note and "no closed form" in note
    assert page.text_content(".field[data-path='cache.policy'] .field-error") == ""
    assert page.get_attribute("select[name='cache.policy']", "aria-invalid") is None
    assert page.text_content("#form-error") == ""
    assert page.is_enabled("#verify-start")

    page.fill("#sim-requests", SMALL_REQUESTS)
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='done']", state="attached", timeout=RUN_TIMEOUT_MS)
    assert "fifo" in page.text_content("#verify-status")
    sim = sim_metrics(page)
    assert 0 < sim["sim_token_hit_rate"] < 1
    assert sim["sim_predicted_token_hit_rate"] is None and sim["sim_token_hit_rate_difference"] is None
    assert page.is_visible(".sim-no-prediction")
    booted.assert_clean()

    page.select_option("select[name='cache.policy']", "lru")
    wait_numbers(page)
    assert not page.is_visible("#policy-note")
    assert "stale" not in page.get_attribute("#results-panel", "class")
