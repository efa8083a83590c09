"""Traffic classes on the page: a multi-class share link round-trips and its per-class numbers are
CPython's; the classes editor adds, renames and removes a class and changes a law; bad class values
name their field; malformed classes= links give notices; one class -> classes -> one class gives the
version-1 scenario back. One booted page (opened on the multi-class link) for the module."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from conftest import BOOT_TIMEOUT_MS, cpython_answer

RELATIVE = 1e-9
PREFIXES = [{"name": "system", "tokens": 1000}, {"name": "docs", "tokens": 3000, "count": 2000, "zipf": 1.1}]
CLASSES = [
    {"name": "chat", "share": 2, "prefix": ["system"], "turns": {"dist": "geometric", "mean": 5},
     "think_time_s": {"dist": "lognormal", "median": 30, "sigma": 0.9}, "context_tokens": 0,
     "user_tokens": {"dist": "lognormal", "median": 150, "sigma": 0.8}, "output_tokens": 300,
     "follow_ups": {"continue": 0.9, "branch": 0.1}},
    {"name": "rag", "share": 1, "prefix": ["system", "docs"], "turns": 3,
     "think_time_s": {"dist": "exponential", "mean": 45}, "user_tokens": 80, "output_tokens": 250},
]
LINK = f"?cap=400000&rate=1.5&prefixes={quote(json.dumps(PREFIXES))}&classes={quote(json.dumps(CLASSES))}"
CLASS_KEYS = ("share", "request_share", "prompt_token_share", "token_hit_rate", "request_hit_rate", "mean_turns",
              "mean_prompt_tokens")
PER_CLASS_FIELDS = ("turns_mean", "turns_dist", "think_time_s", "think_dist", "user_tokens", "output_tokens",
                    "system_prompt_tokens")

SCOPED = """(scope) => Object.fromEntries([...document.querySelectorAll(`[data-scope="${scope}"][data-metric]`)]
  .map((el) => [el.dataset.metric, el.dataset.value]))"""


def cpython_predict(scenario: dict) -> dict:
    return cpython_answer("predict", {"scenario": scenario, "advice": False})


def close(a: float | None, b: float | None) -> bool:
    if b is None:
        return a is None
    return a is not None and math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)


def class_values(page) -> dict[str, float | None]:
    raw = page.evaluate(SCOPED, "class")
    return {key: (float(value) if value != "" else None) for key, value in raw.items()}


def assert_matches_cpython(watch):
    """The page's headline and per-class numbers are CPython's predict of the scenario the form reads."""
    scenario = watch.scenario()
    expected = cpython_predict(scenario)
    shown = watch.metric_values()
    for key in ("token_hit_rate", "request_hit_rate", "ceiling_token_hit_rate", "cache_capacity_tokens"):
        assert close(shown[key], expected[key]), key
    rows = class_values(watch.page)
    assert [r["name"] for r in expected["classes"]] == watch.page.eval_on_selector_all(
        "#class-split tr[data-class]", "(rows) => rows.map((r) => r.dataset.class)")
    for row in expected["classes"]:
        for key in CLASS_KEYS:
            assert close(rows[f"class.{row['name']}.{key}"], row[key]), (row["name"], key)
    return scenario, expected


def link_scenario(page, query: str) -> dict:
    """The scenario js/url.js reads from a query (what opening the link gives)."""
    return page.evaluate("""async (query) => {
        const { parse } = await import('/js/url.js');
        return parse(query, window.kvcacheCalc.schema).scenario;
    }""", query)


@pytest.fixture(scope="module")
def linked(module_context, open_site):
    """One page, booted on the multi-class link."""
    return open_site(module_context, LINK)


@pytest.fixture()
def at_link(linked):
    """Each test starts from the multi-class link (loaded like a Back, without a reboot)."""
    linked.load_query(LINK)
    return linked


def test_multi_class_link_round_trips_and_matches_cpython(linked):
    page = linked.page
    assert page.locator("#notices li").count() == 0
    scenario = linked.scenario()
    assert scenario["workload"] == {"arrival_rate": 1.5, "prefixes": PREFIXES, "classes": CLASSES}
    assert scenario["cache"]["capacity_tokens"] == 400000
    assert scenario == link_scenario(page, LINK)
    # The editor shows the classes; the version-1 per-class inputs are hidden.
    assert page.is_visible(".classes-body") and not page.is_visible("#workload-to-classes")
    assert page.input_value("input[name='workload.classes.0.name']") == "chat"
    assert page.input_value("input[name='workload.classes.1.name']") == "rag"
    assert page.input_value("select[name='workload.classes.0.think_time_s.dist']") == "lognormal"
    assert page.input_value("input[name='workload.classes.0.think_time_s.sigma']") == "0.9"
    assert page.input_value("select[name='workload.classes.1.turns.dist']") == "fixed"
    assert page.input_value("input[name='workload.classes.1.turns.value']") == "3"
    assert page.input_value("select[name='workload.classes.1.context_tokens.dist']") == ""  # absent: the default
    assert page.input_value("input[name='workload.prefixes.1.count']") == "2000"
    assert not page.is_visible(".field[data-path='workload.turns_mean']")
    assert page.is_visible(".field[data-path='workload.arrival_rate']")
    assert page.is_visible("#class-split")
    _, expected = assert_matches_cpython(linked)
    assert len(expected["classes"]) == 2

    # Calculate: the address is the same scenario, with no version-1 per-class parameter.
    address = page.url
    page.click("#calculate")
    linked.wait_idle()
    assert linked.scenario() == scenario
    query = "?" + urlsplit(page.url).query
    assert link_scenario(page, query) == scenario
    params = parse_qs(urlsplit(page.url).query)
    assert json.loads(params["classes"][0]) == CLASSES and json.loads(params["prefixes"][0]) == PREFIXES
    assert not {"turns", "tdist", "think", "zdist", "user", "out", "sys"} & set(params)
    assert page.url == address  # the page had already written this address when it opened the link
    linked.assert_clean()


def test_editor_adds_renames_removes_a_class_and_changes_a_law(at_link):
    page = at_link.page
    page.click(".class-add")
    at_link.wait_idle()
    assert page.locator(".class-card").count() == 3
    assert page.input_value("input[name='workload.classes.2.name']") == "class-3"
    page.fill("input[name='workload.classes.2.name']", "agent")
    page.fill("input[name='workload.classes.2.share']", "0.5")
    page.select_option("select[name='workload.classes.2.prefix.0']", label="system")
    page.select_option("select[name='workload.classes.2.think_time_s.dist']", "gamma")
    page.fill("input[name='workload.classes.2.think_time_s.mean']", "20")
    page.fill("input[name='workload.classes.2.think_time_s.shape']", "0.5")
    page.select_option("select[name='workload.classes.2.user_tokens.dist']", "fixed")
    page.fill("input[name='workload.classes.2.user_tokens.value']", "400")
    page.fill("input[name='workload.classes.2.follow_ups.resend']", "0.25")
    page.fill("input[name='workload.classes.2.follow_ups.continue']", "0.75")
    at_link.wait_idle()
    assert page.text_content("#form-error") == ""
    scenario, _ = assert_matches_cpython(at_link)
    classes = scenario["workload"]["classes"]
    assert [c["name"] for c in classes] == ["chat", "rag", "agent"]
    assert classes[2] == {"name": "agent", "share": 0.5, "prefix": ["system"],
                          "think_time_s": {"dist": "gamma", "mean": 20, "shape": 0.5}, "user_tokens": 400,
                          "follow_ups": {"continue": 0.75, "resend": 0.25}}
    assert classes[:2] == CLASSES
    assert not set(PER_CLASS_FIELDS) & set(scenario["workload"])

    # Laws of existing classes: the rag class's turns become geometric with mean 4, the chat class's
    # (varying) user tokens get a wider spread.
    page.select_option("select[name='workload.classes.1.turns.dist']", "geometric")
    page.fill("input[name='workload.classes.1.turns.mean']", "4")
    page.fill("input[name='workload.classes.0.user_tokens.sigma']", "1.1")
    # Rename a prefix group: the classes that start with it follow.
    page.fill("input[name='workload.prefixes.1.name']", "manuals")
    at_link.wait_idle()
    scenario, _ = assert_matches_cpython(at_link)
    assert scenario["workload"]["classes"][1]["turns"] == {"dist": "geometric", "mean": 4}
    assert scenario["workload"]["classes"][1]["prefix"] == ["system", "manuals"]
    assert scenario["workload"]["prefixes"][1]["name"] == "manuals"

    # Remove the middle class: the rows renumber, the scenario and the numbers follow.
    page.locator(".class-card[data-index='1'] .class-remove").click()
    at_link.wait_idle()
    scenario, expected = assert_matches_cpython(at_link)
    assert [c["name"] for c in scenario["workload"]["classes"]] == ["chat", "agent"]
    assert page.input_value("input[name='workload.classes.1.name']") == "agent"
    assert [r["name"] for r in expected["classes"]] == ["chat", "agent"]
    # The address carries the edited classes.
    params = parse_qs(urlsplit(page.url).query)
    assert [c["name"] for c in json.loads(params["classes"][0])] == ["chat", "agent"]
    at_link.assert_clean()


def test_bad_class_values_name_the_field(at_link):
    page = at_link.page
    good = at_link.metric_values()
    good_classes = class_values(page)
    # the messages name a field by its label in its row, not by its path
    cases = [
        ("input[name='workload.classes.0.think_time_s.sigma']", "0", "workload.classes.0.think_time_s",
         "Class 1 · Think time · Sigma"),
        ("input[name='workload.classes.0.think_time_s.sigma']", "abc", "workload.classes.0.think_time_s",
         "Class 1 · Think time · Sigma"),
        ("input[name='workload.classes.1.share']", "-2", "workload.classes.1.share", "Class 2 · Share"),
        ("input[name='workload.prefixes.1.tokens']", "1.5", "workload.prefixes.1.tokens", "Prefix group 2 · Tokens"),
        ("input[name='workload.classes.1.name']", "Bad Name", "workload.classes.1.name", "Class 2 · Class"),
        ("input[name='workload.classes.1.turns.value']", "0", "workload.classes.1.turns", "Class 2 · Turns per conversation"),
    ]
    for selector, bad, box, field in cases:
        before = page.input_value(selector)
        page.fill(selector, bad)
        at_link.wait_idle()
        message = page.text_content(f".field[data-path='{box}'] .field-error")
        assert field in message, (selector, message)
        assert page.get_attribute(selector, "aria-invalid") == "true", selector
        assert field in page.text_content("#form-error")
        assert page.is_visible("#stale-note")
        assert at_link.metric_values() == good and class_values(page) == good_classes
        at_link.assert_clean()
        page.fill(selector, before)
        at_link.wait_idle()
        assert page.text_content("#form-error") == ""
        assert page.get_attribute(selector, "aria-invalid") is None

    # A kind without its parameter: Python asks for it, at that input.
    page.select_option("select[name='workload.classes.1.think_time_s.dist']", "lognormal")
    at_link.wait_idle()
    assert page.get_attribute("input[name='workload.classes.1.think_time_s.median']", "placeholder") == "required"
    assert "Class 2 · Think time · Median" in page.text_content("#form-error")
    assert page.get_attribute("input[name='workload.classes.1.think_time_s.median']", "aria-invalid") == "true"
    at_link.assert_clean()


def test_malformed_classes_link_gives_a_notice_and_the_page_calculates(at_link):
    page = at_link.page
    at_link.load_query("?classes=%5B%7B%22name%22%3A&rate=2")
    notices = page.locator("#notices li").all_text_contents()
    assert len(notices) == 1 and "classes=" in notices[0] and "JSON list" in notices[0], notices
    scenario = at_link.scenario()
    assert "classes" not in scenario["workload"] and scenario["workload"]["arrival_rate"] == 2
    assert page.text_content("#form-error") == ""
    assert page.is_visible("#workload-to-classes") and not page.is_visible(".classes-body")
    assert page.is_visible(".field[data-path='workload.turns_mean']")
    assert not page.is_visible("#class-split")
    assert at_link.metric_values()["token_hit_rate"] is not None
    assert "classes=" not in page.url

    hostile = [{"name": "<img src=x onerror=alert(1)>", "share": 1}]
    cases = {
        "not_json": "?classes=%7Bnope",
        "not_a_list": "?classes=%7B%22name%22%3A%22a%22%7D",
        "empty": "?classes=%5B%5D",
        "unknown_key": "?classes=" + quote(json.dumps([{"name": "a", "bogus": 1}])),
        "bad_law": "?classes=" + quote(json.dumps([{"name": "a", "turns": "three"}])),
        "share_and_rate": "?classes=" + quote(json.dumps([{"name": "a", "share": 1, "rate": 2}])),
        "too_many": "?classes=" + quote(json.dumps([{"name": f"c{i}"} for i in range(9)])),
        "too_long": "?classes=" + quote(json.dumps([{"name": "a", "user_tokens": {"dist": "empirical",
                                                                                  "quantiles": list(range(5000))}}])),
        "proto": "?classes=" + quote('[{"__proto__": {"polluted": 1}}]'),
        "prefixes_alone": "?prefixes=" + quote(json.dumps(PREFIXES)),
        "with_v1_fields": "?turns=7&classes=" + quote(json.dumps([{"name": "a"}])),
        "hostile_name": "?classes=" + quote(json.dumps(hostile)),
    }
    parsed = page.evaluate("""async (cases) => {
        const { parse } = await import('/js/url.js');
        const schema = window.kvcacheCalc.schema;
        const out = {};
        for (const [name, query] of Object.entries(cases)) {
            const { scenario, notices } = parse(query, schema);
            out[name] = { workload: scenario.workload, notices: notices.map((n) => [n.code, n.key, n.needs || null]) };
        }
        out.polluted = Object.prototype.polluted !== undefined;
        return out;
    }""", cases)
    assert parsed.pop("polluted") is False
    for name in ("not_json", "not_a_list", "empty", "unknown_key", "bad_law", "share_and_rate", "too_many", "too_long",
                 "proto"):
        assert "classes" not in parsed[name]["workload"], name
        assert parsed[name]["notices"] == [["invalid", "classes", None]], name
    assert "prefixes" not in parsed["prefixes_alone"]["workload"]
    assert parsed["prefixes_alone"]["notices"] == [["unused", "prefixes", "classes"]]
    assert parsed["with_v1_fields"]["workload"] == {"arrival_rate": 1, "classes": [{"name": "a"}]}
    assert parsed["with_v1_fields"]["notices"] == [["unused", "turns", "one_class"]]
    # Values are Python's to check: a hostile name reaches the editor as text and Python names it.
    assert parsed["hostile_name"]["workload"]["classes"] == hostile and parsed["hostile_name"]["notices"] == []
    census = page.evaluate("document.querySelectorAll('script, img, svg, iframe').length")
    at_link.load_query(cases["hostile_name"])
    assert page.input_value("input[name='workload.classes.0.name']") == hostile[0]["name"]
    assert "Class 1 · Class" in page.text_content(".field[data-path='workload.classes.0.name'] .field-error")
    assert page.evaluate("document.querySelectorAll('script, img, svg, iframe').length") == census
    at_link.load_query(cases["with_v1_fields"])
    assert "with classes it is set per class" in page.text_content("#notices")
    at_link.assert_clean()


def test_one_class_to_classes_and_back_is_the_same_scenario(at_link):
    page = at_link.page
    at_link.load_query("?rate=0.7&turns=4&think=45&user=150&out=300&sys=2000&block=32")
    one = at_link.scenario()
    numbers = at_link.metric_values()
    address = page.url
    assert page.is_visible("#workload-to-classes") and not page.is_visible("#class-split")
    page.click("#workload-to-classes")
    page.wait_for_selector(".classes-body:not([hidden])", timeout=BOOT_TIMEOUT_MS)
    at_link.wait_idle()
    scenario = at_link.scenario()
    assert scenario["workload"]["prefixes"] == [{"name": "system", "tokens": 2000}]
    assert [c["name"] for c in scenario["workload"]["classes"]] == ["default"]
    assert scenario["workload"]["classes"][0]["turns"] == {"dist": "geometric", "mean": 4}
    assert scenario["workload"]["arrival_rate"] == 0.7
    assert not set(PER_CLASS_FIELDS) & set(scenario["workload"])
    assert "classes=" in page.url and "turns=" not in page.url
    # One class written out is the version-1 workload: the same numbers.
    for key in ("token_hit_rate", "request_hit_rate", "ceiling_token_hit_rate"):
        assert close(at_link.metric_values()[key], numbers[key]), key
    assert_matches_cpython(at_link)

    page.click("#workload-to-one-class")
    page.wait_for_selector(".classes-body[hidden]", state="attached", timeout=BOOT_TIMEOUT_MS)
    at_link.wait_idle()
    assert at_link.scenario() == one
    assert page.url == address
    assert at_link.metric_values() == numbers
    assert page.input_value("input[name='workload.turns_mean']") == "4"

    # Classes the version-1 fields cannot say: Python's reason, and the editor stays.
    page.click("#workload-to-classes")
    page.wait_for_selector(".classes-body:not([hidden])", timeout=BOOT_TIMEOUT_MS)
    page.select_option("select[name='workload.classes.0.user_tokens.dist']", "lognormal")
    page.fill("input[name='workload.classes.0.user_tokens.median']", "150")
    page.fill("input[name='workload.classes.0.user_tokens.sigma']", "1")
    at_link.wait_idle()
    kept = at_link.scenario()
    page.click("#workload-to-one-class")
    page.wait_for_selector("#workload-switch-status:not(:empty)", timeout=BOOT_TIMEOUT_MS)
    assert "workload.classes.0.user_tokens" in page.text_content("#workload-switch-status")
    assert page.is_visible(".classes-body")
    assert at_link.scenario() == kept
    at_link.assert_clean()


def test_strings_in_both_languages(at_link):
    page = at_link.page
    keys = page.evaluate("async () => (await import('/js/i18n.js')).STRING_KEYS")
    assert sorted(keys["en"]) == sorted(keys["zh"])
    page.click("#language-switch")
    page.wait_for_selector("html[lang='zh-CN']", state="attached")
    assert page.text_content(".field[data-path='workload.prefixes.0.name'] .field-label") == "前缀组"
    assert page.text_content(".field[data-path='workload.classes.0.think_time_s'] .field-label") == "思考时间"
    assert page.text_content("#workload-to-one-class") == "改回单一类别"
    assert page.text_content("#class-split h3") == "按流量类别"
    options = page.eval_on_selector("select[name='workload.classes.0.think_time_s.dist']",
                                    "(s) => [...s.options].map((o) => o.textContent)")
    assert "对数正态" in options
    page.click("#language-switch")
    page.wait_for_selector("html[lang='en']", state="attached")
    assert page.text_content(".field[data-path='workload.classes.0.think_time_s'] .field-label") == "Think time"
    at_link.assert_clean()
