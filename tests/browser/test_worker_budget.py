"""A worker that cannot be broken: every call has a budget, a call over it (or cancelled) ends the worker and a
fresh one takes over, a dead worker is replaced by itself, and the page says which input made a calculation slow.
One booted page; budgets are tightened through the page's own client (window.kvcacheCalc.setBudget)."""

from __future__ import annotations

import pytest

# a run long enough to outlive any budget below (tens of seconds in the browser)
LONG_SIMULATION = {"scenario": {}, "requests": 3_000_000, "seed": 1}


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    return open_site(module_context, "")


def fill(watch, path: str, value: str) -> None:
    watch.page.fill(f"[name='{path}']", value)
    watch.page.dispatch_event(f"[name='{path}']", "input")


def wait_numbers(watch) -> None:
    watch.wait_idle()
    watch.page.wait_for_selector("#boot[data-stage='ready']", state="attached", timeout=60_000)
    watch.wait_idle()


def test_a_call_over_its_budget_is_stopped_and_the_worker_replaced(watch):
    reply = watch.page.evaluate("(p) => window.kvcacheCalc.call('simulate', p, {budgetMs: 300})", LONG_SIMULATION)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "timeout"
    assert reply["error"]["method"] == "simulate" and reply["error"]["budget_ms"] == 300
    # the next call runs in a fresh worker and answers normally
    again = watch.page.evaluate("() => window.kvcacheCalc.call('predict', {scenario: {}, advice: false})")
    assert again["ok"] is True and 0 <= again["result"]["token_hit_rate"] <= 1
    assert watch.problems() == []


def test_a_slow_input_is_named_with_its_allowed_range_and_the_page_recovers(watch):
    # the full analysis (~100 ms or more) over a 1 ms budget: stopped for sure, whatever the machine's speed
    wait_numbers(watch)
    watch.page.evaluate("() => window.kvcacheCalc.setBudget('analyze', 1)")
    try:
        fill(watch, "workload.arrival_rate", "3")
        watch.page.wait_for_selector("#calc-problem:not([hidden])", timeout=30_000)
        text = watch.page.text_content("#calc-problem")
        assert text.startswith("Stopped after 0.001 s")
        assert "Conversation arrival rate 1 → 3" in text  # the field's label, not its path, and the change
        assert "workload.arrival_rate" not in text
        assert "allowed: a number above 0 and at most 1,000,000" in text
        assert watch.page.get_attribute("#calc-problem", "data-kind") == "timeout"
        # the numbers (predict) are this scenario's: only the charts and advice are not
        watch.wait_idle()
        assert "stale" not in watch.page.get_attribute("#results-panel", "class")
        assert watch.scenario()["workload"]["arrival_rate"] == 3
    finally:
        watch.page.evaluate("() => window.kvcacheCalc.setBudget('analyze', 20000)")
    wait_numbers(watch)
    fill(watch, "workload.arrival_rate", "2")
    watch.page.wait_for_selector("#calc-problem", state="hidden", timeout=60_000)
    wait_numbers(watch)
    assert "stale" not in watch.page.get_attribute("#results-panel", "class")
    assert watch.metric_values()["token_hit_rate"] is not None
    watch.assert_clean()


def test_cancel_stops_what_runs_and_the_page_calculates_on(watch):
    wait_numbers(watch)
    # started, not awaited (evaluate would wait for the promise)
    watch.page.evaluate("(p) => { window.longRun = window.kvcacheCalc.call('simulate', p, {budgetMs: 120000}); }",
                        LONG_SIMULATION)
    fill(watch, "workload.arrival_rate", "2.5")  # queued behind the simulation: the page is busy
    watch.page.wait_for_selector("#calc-status:not([hidden])", timeout=10_000)
    assert watch.page.text_content("#calc-cancel") == "Cancel"
    watch.page.click("#calc-cancel")
    reply = watch.page.evaluate("() => window.longRun")
    assert reply["ok"] is False and reply["error"]["code"] == "cancelled"
    wait_numbers(watch)  # the queued predict ran in the new worker
    assert watch.page.is_hidden("#calc-status")
    assert watch.scenario()["workload"]["arrival_rate"] == 2.5
    assert "stale" not in watch.page.get_attribute("#results-panel", "class")
    watch.assert_clean()


def test_a_worker_that_died_is_replaced_by_itself(watch):
    wait_numbers(watch)
    # a worker replaced by an earlier test may still be shutting down (a fresh one boots in well under
    # a second from the snapshot): wait until only the calculator's current worker is listed
    for _ in range(200):
        if len(watch.page.workers) <= 1:
            break
        watch.page.wait_for_timeout(50)
    workers = watch.page.workers
    assert len(workers) == 1, "the calculator's worker is visible to the browser"
    for worker in workers:
        worker.evaluate("() => self.close()")  # gone without a word: no error event reaches the page
    fill(watch, "workload.arrival_rate", "1.5")
    wait_numbers(watch)
    assert watch.scenario()["workload"]["arrival_rate"] == 1.5
    value = watch.page.get_attribute("#results [data-metric='token_hit_rate']", "data-value")
    assert value not in ("", None)
    watch.assert_clean()


def test_field_errors_use_the_label_and_a_range_in_words(watch):
    wait_numbers(watch)
    fill(watch, "workload.arrival_rate", "-1")
    watch.page.wait_for_selector("#form-error:not(:empty)", timeout=30_000)
    wait_numbers(watch)
    text = watch.page.text_content("#form-error")
    assert "workload.arrival_rate" not in text
    assert "Conversation arrival rate" in text and "above 0 and at most 1,000,000" in text
    assert watch.page.is_visible("#calc-problem")  # the reason also sits above the numbers
    watch.page.click("#language-switch")
    assert "到达率" in watch.page.text_content("#calc-problem")
    watch.page.click("#language-switch")
    fill(watch, "workload.arrival_rate", "2")
    watch.page.wait_for_selector("#calc-problem", state="hidden", timeout=30_000)
    wait_numbers(watch)
    watch.assert_clean()


def test_link_notices_are_capped_and_dismissable(watch):
    query = "?" + "&".join(f"junk{i}=1" for i in range(20))
    watch.load_query(query)
    items = watch.page.locator("#notices li")
    assert items.count() == 9  # eight and "… and 12 more"
    assert "12 more" in watch.page.text_content("#notices .notice-more")
    watch.page.click("#notices-dismiss")
    assert watch.page.locator("#notices li").count() == 0 and watch.page.is_hidden("#notices-dismiss")
    watch.assert_clean()


def test_message_and_unit_tables_cover_both_languages_and_every_unit(watch):
    tables = watch.page.evaluate("""async () => ({
        messages: (await import('./js/messages-i18n.js')).MESSAGE_KEYS,
        units: (await import('./js/units-i18n.js')).UNIT_KEYS,
        schemaUnits: window.kvcacheCalc.schema.fields.map((f) => f.unit).filter(Boolean),
    })""")
    for name in ("messages", "units"):
        assert sorted(tables[name]["en"]) == sorted(tables[name]["zh"]), name
    assert set(tables["schemaUnits"]) <= set(tables["units"]["en"])  # every unit a field shows is translated
    watch.page.click("#language-switch")
    assert "（会话/秒）" in watch.page.text_content("label[for='field-workload-arrival_rate']") or \
        "(会话/秒)" in watch.page.text_content("label[for='field-workload-arrival_rate']")
    watch.page.click("#language-switch")
