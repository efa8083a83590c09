"""The memory plan on the page: the budget bar, the engine and its release, the max_model_len check, the engine's
refusal where the eye is, hybrid models' two token counts, the folded architecture groups. One booted page."""

from __future__ import annotations

import math

import pytest

from conftest import cpython_answer, reveal


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    return open_site(module_context, "")


def budget_values(watch, root: str) -> dict[str, float]:
    raw = watch.page.eval_on_selector_all(
        f"{root} [data-metric^='memory_budget.'], {root} [data-metric='engine_kv_tokens'], "
        f"{root} [data-metric='max_concurrency']",
        "(nodes) => nodes.map((n) => [n.dataset.metric, n.dataset.value])")
    return {key: float(value) for key, value in raw if value != ""}


def assert_bar_is_pythons(watch, root: str, budget: dict) -> None:
    shown = budget_values(watch, root)
    for term in budget["terms"]:
        assert math.isclose(shown[f"memory_budget.{term['name']}"], term["gib"], rel_tol=1e-9), term["name"]
    widths = watch.page.eval_on_selector_all(f"{root} .budget-bar .segment",
                                             "(nodes) => nodes.map((n) => [n.dataset.term, n.style.width])")
    assert [name for name, _ in widths] == [t["name"] for t in budget["terms"]]
    for (_, width), term in zip(widths, budget["terms"]):
        assert float(width.rstrip("%")) == pytest.approx(min(1.0, term["share"]) * 100, abs=1e-3)  # CSS rounds


def test_the_budget_bar_and_the_engines_defaults_are_pythons(watch):
    watch.load_query("?preset=qwen3-8b&maxlen=32768")
    expected = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["memory_budget"]
    assert_bar_is_pythons(watch, "#memory-budget", expected)
    shown = budget_values(watch, "#memory-budget")
    assert shown["engine_kv_tokens"] == expected["engine_kv_tokens"]
    assert shown["max_concurrency"] == pytest.approx(expected["max_concurrency"], rel=1e-12)
    assert "Maximum concurrency for 32,768 tokens per request" in watch.page.text_content("#memory-budget")
    settings = watch.page.text_content("#memory-budget .budget-settings")
    assert "--max-num-seqs 1024 (the engine's default for this GPU)" in settings  # vLLM's H100 default
    assert watch.page.is_hidden("#memory-refusal-budget")
    assert watch.page.is_hidden("[data-path='hardware.mem_fraction_static']")  # SGLang's, not vLLM's
    watch.assert_clean()


def test_sglang_is_selectable_and_counts_its_own_way(watch):
    reveal(watch.page, "select[name='deploy.engine']")  # folded under the GPU
    watch.page.select_option("select[name='deploy.engine']", "sglang")
    watch.wait_idle()
    watch.page.wait_for_selector("#memory-budget h3:has-text('SGLang')")
    assert watch.page.is_visible("[data-path='hardware.mem_fraction_static']")
    expected = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["memory_budget"]
    assert expected["engine"] == "sglang" and any(t["name"] == "dynamic" for t in expected["terms"])
    assert_bar_is_pythons(watch, "#memory-budget", expected)
    assert "--mem-fraction-static" in watch.page.text_content("#memory-budget .budget-settings")
    watch.page.select_option("select[name='deploy.engine']", "vllm")
    watch.wait_idle()
    watch.assert_clean()


def test_a_release_changes_the_profile_as_the_engine_did(watch):
    watch.load_query("?preset=qwen3-8b&maxlen=32768&ver=0.10.1&fi=no")
    old_pip = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["memory_budget"]
    assert_bar_is_pythons(watch, "#memory-budget", old_pip)
    watch.load_query("?preset=qwen3-8b&maxlen=32768&ver=0.10.1")
    old_image = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["memory_budget"]
    activation = {name: next(t["gib"] for t in b["terms"] if t["name"] == "activation")
                  for name, b in (("pip", old_pip), ("image", old_image))}
    assert activation["image"] < activation["pip"]  # FlashInfer samples without sorting the vocabulary
    assert_bar_is_pythons(watch, "#memory-budget", old_image)
    reveal(watch.page, "input[name='deploy.engine_version']")
    watch.page.fill("input[name='deploy.engine_version']", "0.x")
    watch.page.dispatch_event("input[name='deploy.engine_version']", "input")
    watch.wait_idle()
    watch.page.wait_for_selector("#field-deploy-engine_version-error:not(:empty)")
    assert "release number" in watch.page.text_content("#field-deploy-engine_version-error")
    watch.assert_clean()


def test_a_model_that_does_not_fit_is_refused_with_the_engines_words_above_the_numbers(watch):
    watch.load_query("?preset=llama-3.1-70b")
    watch.page.wait_for_selector("#memory-refusal-budget:not([hidden])")
    refusal = watch.page.text_content("#memory-refusal-budget")
    assert "vLLM would refuse to start" in refusal and "No available memory for the cache blocks" in refusal
    # the bar is longer than the GPU (131 GiB of weights on 79 GiB): a mark where the memory ends
    assert watch.page.locator("#memory-refusal-budget .budget-edge").count() == 1
    reply = cpython_answer_error(watch.scenario())
    assert_bar_is_pythons(watch, "#memory-refusal-budget", reply["details"]["memory_budget"])
    top = watch.page.eval_on_selector("#memory-refusal-budget", "(n) => n.getBoundingClientRect().top")
    results = watch.page.eval_on_selector("#results", "(n) => n.getBoundingClientRect().top")
    assert top < results  # where the eye is: above the (stale) numbers
    watch.assert_clean()


def cpython_answer_error(scenario: dict) -> dict:
    import json

    from kvcache_calc import api

    reply = json.loads(api.handle("predict", json.dumps({"scenario": scenario, "advice": False})))
    assert not reply["ok"]
    return reply["error"]


def test_max_model_len_is_checked_as_vllm_checks_it(watch):
    watch.load_query("?preset=qwen3-32b")  # 40,960 tokens of context do not fit beside 61 GiB of weights
    watch.page.wait_for_selector("#memory-refusal-budget:not([hidden])")
    error = cpython_answer_error(watch.scenario())
    assert error["field"] == "hardware.max_model_len"
    estimate = error["details"]["memory_budget"]["estimated_max_model_len"]
    text = watch.page.text_content("#memory-refusal-budget")
    assert "To serve at least one request" in text and f"estimated maximum model length is {estimate}" in text
    assert watch.page.text_content("#field-hardware-max_model_len-error")
    watch.page.fill("input[name='hardware.max_model_len']", str(estimate))
    watch.page.dispatch_event("input[name='hardware.max_model_len']", "input")
    watch.wait_idle()
    watch.page.wait_for_selector("#memory-refusal-budget", state="hidden")
    expected = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})
    assert expected["max_concurrency"] == pytest.approx(1.0, abs=0.05)  # exactly one such request fits
    assert budget_values(watch, "#memory-budget")["max_concurrency"] == expected["max_concurrency"]
    watch.assert_clean()


def test_a_window_model_shows_the_logged_and_the_prefix_capacity(watch):
    watch.load_query("?preset=gemma-3-27b&maxlen=32768")
    expected = cpython_answer("predict", {"scenario": watch.scenario(), "advice": False})["memory_budget"]
    assert expected["differs_from_log"] and expected["prefix_capacity_tokens"] > expected["engine_kv_tokens"]
    shown = budget_values(watch, "#memory-budget")
    assert shown["engine_kv_tokens"] == expected["engine_kv_tokens"]
    assert shown["memory_budget.prefix_capacity_tokens"] == expected["prefix_capacity_tokens"]
    assert watch.page.is_visible("#memory-budget .budget-hybrid")
    watch.assert_clean()


def test_the_rare_architecture_fields_fold_until_a_model_uses_them(watch):
    watch.load_query("?preset=llama-3.1-8b")
    assert not watch.page.eval_on_selector("details.fold-moe", "(d) => d.open")
    watch.load_query("?preset=qwen3-30b-a3b&maxlen=32768")
    assert watch.page.eval_on_selector("details.fold-moe", "(d) => d.open")
    assert watch.page.get_attribute("input[name='model.num_experts']", "placeholder") == "128"
    watch.assert_clean()
