"""Answers where the eye is: the headline's one sentence (model, keeping up or not, replicas needed) from Python's
`status`, a failure's reason above the numbers, and inputs that used to stall the page. One booted page."""

from __future__ import annotations

import pytest

from conftest import cpython_answer


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    return open_site(module_context, "")


def top(watch, selector: str) -> float:
    return watch.page.eval_on_selector(selector, "(n) => n.getBoundingClientRect().top")


def status_text(watch) -> str:
    return watch.page.text_content("#headline-status")


def test_a_cluster_that_keeps_up_says_so_with_its_model(watch):
    watch.load_query("")
    assert status_text(watch) == "Llama-3.1-8B: the cluster keeps up with this traffic."
    assert watch.page.get_attribute("#headline-status", "data-state") == "ok"
    watch.assert_clean()


def test_an_overloaded_cluster_says_how_many_replicas_before_any_hit_rate(watch):
    watch.load_query("?rate=3")
    status = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["status"]
    assert status["state"] == "overloaded" and status["replicas_needed"] >= 2
    text = status_text(watch)
    assert text.startswith(f"Llama-3.1-8B: cannot keep up — {status['replicas_needed']} replicas needed")
    assert top(watch, "#headline-status") < top(watch, "#results .headline")
    assert watch.page.get_attribute("#results .headline", "data-state") == "overloaded"
    watch.page.click("#language-switch")
    assert f"需要 {status['replicas_needed']} 个副本" in status_text(watch)
    watch.page.click("#language-switch")
    watch.assert_clean()


def test_no_preset_names_the_model_it_assumes(watch):
    watch.load_query("?preset=custom")
    assert "(assumed: no preset chosen)" in status_text(watch)
    codes = watch.page.eval_on_selector_all("#results li.warning", "(n) => n.map((x) => x.dataset.code)")
    assert "model_fields_assumed" in codes
    watch.assert_clean()


def test_a_model_that_does_not_fit_is_said_above_the_numbers(watch):
    watch.load_query("")
    watch.load_query("?preset=llama-3.1-70b")
    watch.page.wait_for_selector("#memory-refusal-budget:not([hidden])")
    assert top(watch, "#memory-refusal") < top(watch, "#results .headline")
    assert watch.page.is_hidden("#headline-status")  # the old scenario's sentence is not shown over stale numbers
    assert watch.page.is_hidden("#results-waiting")
    watch.assert_clean()


def test_ten_thousand_turns_cost_what_ten_do(watch):
    watch.load_query("?turns=10000")
    watch.page.wait_for_selector("body[data-busy='false']", state="attached", timeout=30_000)
    assert watch.page.is_hidden("#calc-problem")
    codes = watch.page.eval_on_selector_all("#results li.warning", "(n) => n.map((x) => x.dataset.code)")
    assert "conversations_reach_context_limit" in codes
    watch.load_query("")
    assert watch.page.get_attribute("#headline-status", "data-state") == "ok"
    watch.assert_clean()
