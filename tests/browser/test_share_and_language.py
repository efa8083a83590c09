"""Share links restore the exact scenario and numbers; back/forward; the language switch."""

from __future__ import annotations

import pytest

from conftest import reveal

SHARED_FIELDS = {
    "select[name='model.preset']": "mistral-7b-v0.1",
    "select[name='hardware.gpu']": "a100-80gb",
    "input[name='hardware.gpu_memory_utilization']": "0.85",
    "input[name='workload.arrival_rate']": "0.37",
    "input[name='workload.turns_mean']": "7.5",
    "input[name='workload.think_time_s']": "42.25",
    "select[name='workload.think_dist']": "fixed",
    "input[name='cache.block_size']": "32",
    "select[name='model.kv_dtype']": "fp8",
}


def fill(page, fields: dict):
    for selector, value in fields.items():
        reveal(page, selector)  # the model's and the engine's details are folded
        if selector.startswith("select"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


@pytest.fixture(scope="module")
def shared(booted):
    """The booted page after a Calculate on a non-default scenario: (url, scenario, numbers)."""
    fill(booted.page, SHARED_FIELDS)
    booted.page.click("#calculate")
    booted.wait_idle()
    return booted.page.url, booted.scenario(), booted.metric_values()


def test_address_bar_is_readable(shared):
    url, scenario, _ = shared
    query = url.split("?", 1)[1]
    assert "preset=mistral-7b-v0.1" in query and "gpu=a100-80gb" in query
    assert "rate=0.37" in query and "kvdtype=fp8" in query and "zdist=fixed" in query
    assert "rate=1&" not in query  # defaults are left out


JUNK = "&bogus=%3Cscript%3Ealert(1)%3C%2Fscript%3E&rate=-5&gpu=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"


@pytest.fixture(scope="module")
def fresh(browser, open_site, shared):
    """The shared link (plus hostile junk) opened in a fresh browser context (empty storage)."""
    url = shared[0]
    context = browser.new_context()
    yield open_site(context, "?" + url.split("?", 1)[1] + JUNK)
    context.close()


def test_share_link_round_trip_in_fresh_context(fresh, shared):
    _, scenario, numbers = shared
    assert fresh.scenario() == scenario
    assert fresh.metric_values() == numbers
    notices = fresh.page.locator("#notices li").all_text_contents()
    assert len(notices) == 3
    assert any("bogus" in n for n in notices)
    assert any("rate=-5" in n for n in notices)
    assert any("<img src=x onerror=alert(1)>" in n for n in notices)  # shown as text
    assert fresh.page.evaluate("document.querySelectorAll('script, img').length") == 2  # chart.js + app.js
    assert "bogus" not in fresh.page.url  # the address bar is rewritten to the clean scenario
    assert fresh.problems() == []
    assert fresh.foreign_requests() == []


def test_back_and_forward_restore_scenarios(booted, shared):
    page = booted.page
    url_a, scenario_a, numbers_a = shared
    page.fill("input[name='workload.arrival_rate']", "5")
    page.click("#calculate")
    booted.wait_idle()
    url_b, numbers_b = page.url, booted.metric_values()
    assert url_b != url_a and numbers_b != numbers_a
    page.go_back()
    booted.wait_idle()
    assert page.url == url_a
    assert page.input_value("input[name='workload.arrival_rate']") == "0.37"
    assert booted.scenario() == scenario_a
    assert booted.metric_values() == numbers_a
    page.go_forward()
    booted.wait_idle()
    assert page.url == url_b
    assert booted.metric_values() == numbers_b
    assert booted.problems() == []


def test_url_codec_round_trips_exactly(booted):
    result = booted.page.evaluate("""async () => {
        const { parse, encode } = await import('/js/url.js');
        const schema = window.kvcacheCalc.schema;
        const scenario = JSON.parse(document.querySelector('[data-scenario-json]').textContent);
        const again = parse(encode(scenario, schema), schema);
        return { same: JSON.stringify(again.scenario) === JSON.stringify(scenario), notices: again.notices.length };
    }""")
    assert result == {"same": True, "notices": 0}


def test_language_switch_is_remembered(fresh):
    page = fresh.page
    assert page.text_content(".field[data-path='workload.arrival_rate'] .field-label") == "Conversation arrival rate"
    page.click("#language-switch")
    assert page.text_content(".field[data-path='workload.arrival_rate'] .field-label") == "会话到达率"
    assert page.text_content("#calculate") == "计算"
    assert page.text_content("h1") == "KV 缓存命中率计算器"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "忽略" in page.text_content("#notices")  # notices are translated too
    page.reload()
    fresh.wait_ready()
    assert page.text_content(".field[data-path='workload.arrival_rate'] .field-help") == "每秒新开始的会话数（泊松到达）。"
    assert page.text_content(".headline-card h3") == "Token 命中率"
    # ?lang= wins over the remembered choice.
    assert page.evaluate("import('/js/i18n.js').then((m) => m.chooseLanguage('?lang=en'))") == "en"
    assert page.evaluate("import('/js/i18n.js').then((m) => m.chooseLanguage(''))") == "zh"
    text = page.inner_text("body")
    assert "NaN" not in text and "undefined" not in text
    assert fresh.problems() == []
