"""Compare two scenarios: pin a baseline, every metric shows its change (Python's `compare`), the share link
carries both scenarios, and removing the baseline removes the deltas. One booted page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from conftest import cpython_answer


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    return open_site(module_context, "")


def deltas_on_screen(watch) -> dict[str, float]:
    raw = watch.page.eval_on_selector_all(
        "#results [data-delta-metric]:not([hidden])", "(nodes) => nodes.map((n) => [n.dataset.deltaMetric, n.dataset.change])")
    return {key: float(value) for key, value in raw if value != ""}


def test_pinned_baseline_gives_every_metric_its_change_and_the_link_carries_both(watch):
    page = watch.page
    watch.wait_idle()
    assert page.is_hidden("#unpin-baseline")
    baseline = watch.scenario()
    page.click("#pin-baseline")
    page.wait_for_selector("#results-panel[data-baseline='ready']", state="attached")
    assert "Baseline pinned" in page.text_content("#baseline-summary")

    page.fill("input[name='workload.arrival_rate']", "2")
    watch.wait_idle()
    page.wait_for_selector("#results [data-delta-metric='token_hit_rate']:not([hidden])")
    current = watch.scenario()
    expected = cpython_answer("compare", {
        "baseline": cpython_answer("predict", {"scenario": baseline, "advice": False}),
        "current": cpython_answer("predict", {"scenario": current, "advice": False})})["deltas"]
    shown = deltas_on_screen(watch)
    assert shown["token_hit_rate"] == pytest.approx(expected["token_hit_rate"]["change"], rel=1e-9)  # Pyodide libm
    assert set(shown) <= set(expected) and len(shown) >= 10
    assert " pp vs baseline" in page.text_content("#results [data-delta-metric='token_hit_rate']")
    summary = page.text_content("#baseline-summary")
    assert "Conversation arrival rate 1 → 2" in summary

    query = parse_qs(urlparse(page.url).query)
    assert query["rate"] == ["2"] and "rate=" not in query["base"][0]  # the baseline keeps the default rate

    # the same link opened again pins the same baseline and shows the same deltas
    link = "?" + urlparse(page.url).query
    watch.load_query("")
    assert page.is_hidden("#unpin-baseline")
    watch.load_query(link)
    page.wait_for_selector("#results-panel[data-baseline='ready']", state="attached")
    page.wait_for_selector("#results [data-delta-metric='token_hit_rate']:not([hidden])")
    watch.wait_idle()
    assert deltas_on_screen(watch)["token_hit_rate"] == pytest.approx(expected["token_hit_rate"]["change"], rel=1e-9)

    page.click("#language-switch")
    assert "相对基准" in page.text_content("#results [data-delta-metric='token_hit_rate']")
    assert "与基准相比" in page.text_content("#baseline-summary")
    page.click("#language-switch")

    page.click("#unpin-baseline")
    assert deltas_on_screen(watch) == {}
    assert "base" not in parse_qs(urlparse(page.url).query)
    watch.assert_clean()


def test_a_broken_baseline_in_a_link_is_a_notice(watch):
    watch.load_query("?rate=2&base=" + "rate%3D-4")
    notices = watch.page.locator("#notices li").all_text_contents()
    assert any("base.rate" in text for text in notices), notices
    watch.assert_clean()


def test_the_charts_draw_the_baseline_too(watch):
    page = watch.page
    watch.load_query("")
    page.click("#pin-baseline")
    page.wait_for_selector("#results-panel[data-baseline='ready']", state="attached")
    page.fill("input[name='workload.think_time_s']", "20")
    watch.wait_idle()
    labels = page.evaluate("""() => window.Chart.getChart(document.querySelector('canvas[data-chart="memory"]'))
        .data.datasets.map((d) => d.label)""")
    assert any(label.startswith("Baseline") for label in labels), labels
    page.click("#unpin-baseline")
    watch.wait_idle()
    labels = page.evaluate("""() => window.Chart.getChart(document.querySelector('canvas[data-chart="memory"]'))
        .data.datasets.map((d) => d.label)""")
    assert not any(label.startswith("Baseline") for label in labels), labels
    watch.assert_clean()


def test_a_baseline_python_refuses_is_said_in_the_compare_bar(watch):
    # parses (every value in range) but does not run: 3 GPUs cannot be split into tensor parallel 2
    watch.load_query("?rate=2&base=" + "gpus%3D3%26tp%3D2")
    watch.page.wait_for_selector("#baseline-summary:has-text('cannot be calculated')")
    assert "Tensor parallel" in watch.page.text_content("#baseline-summary")
    assert watch.page.is_hidden("#unpin-baseline")  # nothing is pinned
    assert "base=" not in watch.page.url  # the link no longer carries a baseline that cannot run
    watch.page.wait_for_selector("#results [data-metric='token_hit_rate']")
    assert watch.page.is_hidden("#calc-problem")  # the current scenario itself calculates
    watch.load_query("")
    assert watch.page.text_content("#baseline-summary") == ""
    watch.assert_clean()
