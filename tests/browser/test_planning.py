"""Capacity planning on the page: the advisor's apply, offload tiers (form, per-tier figures, bad
values, share links), latency figures and the routing comparison. One booted page for the module."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

RELATIVE = 1e-9
ROUTING_TIMEOUT_MS = 120_000
ROUTINGS = ["affinity", "random", "round_robin", "least_loaded"]

SCOPED_METRICS = """(scope) => Object.fromEntries([...document.querySelectorAll(`[data-scope="${scope}"][data-metric][data-value]`)]
  .map((el) => [el.dataset.metric, el.dataset.value]))"""

CHART = """(name) => {
  const chart = window.Chart.getChart(document.querySelector(`canvas[data-chart="${name}"]`));
  if (!chart) return null;
  return { labels: chart.data.labels || [], datasets: chart.data.datasets.map((d) => ({
    label: d.label, role: d.role || null, intervals: d.intervals || null,
    data: d.data.map((p) => (p !== null && typeof p === 'object' ? { x: p.x, y: p.y } : p)) })) };
}"""


def cpython(method: str, payload: dict) -> dict:
    from kvcache_calc import api

    reply = json.loads(api.handle(method, json.dumps(payload)))
    assert reply["ok"], reply
    return reply["result"]


def close(a: float | None, b: float | None) -> bool:
    if b is None:
        return a is None
    return a is not None and math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)


def scoped(page, scope: str) -> dict[str, float | None]:
    raw = page.evaluate(SCOPED_METRICS, scope)
    return {key: (float(value) if value != "" else None) for key, value in raw.items()}


@pytest.fixture(scope="module")
def page(booted):
    return booted.page


@pytest.fixture(scope="module")
def schema(page):
    return page.evaluate("window.kvcacheCalc.schema")


@pytest.fixture()
def default_scenario(booted):
    """Each test starts from the page's default scenario (loaded like a Back, without a reboot)."""
    booted.load_query("")
    return booted.scenario()


def test_advice_apply_gives_the_promised_hit_rate(booted, page, schema, default_scenario):
    top = page.locator("#advice .advice-item").first
    ident = top.get_attribute("data-advice")
    promised = float(top.locator("[data-scope='advice'][data-metric='token_hit_rate']").get_attribute("data-value"))
    advice = cpython("analyze", {"scenario": default_scenario})["advice"]
    item = next(a for a in advice if a["id"] == ident)
    assert close(promised, item["token_hit_rate"])
    assert default_scenario == booted.scenario()

    top.locator("button.apply").click()
    booted.wait_idle()
    shown = booted.metric_values()["token_hit_rate"]
    assert shown == pytest.approx(promised, abs=1e-9)
    scenario = booted.scenario()
    url_keys = {field["path"]: field["url_key"] for field in schema["fields"]}
    for key, patch in item["change"].items():
        if isinstance(patch, dict):
            for name, value in patch.items():
                assert scenario[key][name] == value
                assert f"{url_keys[f'{key}.{name}']}={value}" in page.url
        else:
            assert scenario[key] == patch
    if "tiers" in item["change"]:
        assert "tier=" in page.url
    booted.assert_clean()


def test_cpu_tier_from_the_form_shows_per_tier_figures(booted, page, default_scenario):
    assert not page.is_visible("#tier-split")
    assert not page.is_visible(".tier-policy")
    page.click(".tier-add")
    assert page.input_value("input[name='tiers.0.name']") == "cpu"
    assert page.input_value("select[name='tiers.0.capacity_unit']") == "capacity_gb"
    assert page.get_attribute("input[name='tiers.0.read_gb_per_s']", "placeholder") == "50"
    booted.wait_idle()  # a tier not typed in yet is no error, and not yet a tier
    assert page.text_content("#form-error") == "" and page.text_content(".tier-row .field-error") == ""
    assert "tiers" not in booted.scenario()
    page.fill("input[name='tiers.0.capacity_gb']", "100")
    booted.wait_idle()
    scenario = booted.scenario()
    assert scenario["tiers"] == [{"name": "cpu", "capacity_gb": 100}]
    assert scenario["tiers_policy"] == "exclusive"
    assert "tier=cpu:100gb" in page.url and "tierpol" not in page.url
    assert page.is_visible("#tier-split") and page.is_visible(".tier-policy")

    expected = cpython("predict", {"scenario": scenario, "advice": False})
    shown = scoped(page, "tier")
    assert list(expected["tier_token_hit_rates"]) == ["gpu", "cpu"]
    for kind in ("tier_token_hit_rates", "tier_request_hit_rates"):
        for name, value in expected[kind].items():
            assert close(shown[f"{kind}.{name}"], value), (kind, name)
    for row in expected["tiers"]:
        for key in ("capacity_tokens", "evictable_capacity_tokens", "capacity_gb", "token_hit_rate",
                    "request_hit_rate", "characteristic_time_s", "read_gb_per_s", "load_s_per_token",
                    "recompute_s_per_token"):
            assert close(shown[f"tier.{row['name']}.{key}"], row[key]), (row["name"], key)
    # The GPU row is the whole GPU cache; its evictable part is what running requests leave.
    gpu = expected["tiers"][0]
    assert gpu["capacity_tokens"] == expected["cache_capacity_tokens"]
    assert gpu["evictable_capacity_tokens"] == expected["evictable_capacity_tokens"] < gpu["capacity_tokens"]
    assert page.locator("#tier-split th[data-tier]").count() == 2
    assert close(booted.metric_values()["token_hit_rate"], expected["token_hit_rate"])
    widths = page.evaluate("""() => [...document.querySelectorAll('[data-bar="tier_token_hit_rates"] .segment')]
        .map((el) => el.getBoundingClientRect().width)""")
    assert len(widths) == 2 and all(w > 0 for w in widths)

    # The hit-rate-vs-tier-size chart marks this tier's size.
    booted.wait_idle()
    chart = page.evaluate(CHART, "tier")
    curve = cpython("analyze", {"scenario": scenario})["tier_curve"]
    assert curve["tier"] == "cpu" and curve["x_unit"] == "GB"
    assert len(chart["datasets"][0]["data"]) == len(curve["points"])
    current = next(d for d in chart["datasets"] if d["role"] == "current")["data"][0]
    assert current["x"] == 100 and close(current["y"], expected["token_hit_rate"])
    assert "cpu" in page.text_content("#chart-tier-title")

    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert ["scenario", "tiers.0.name", "cpu"] in rows and ["scenario", "tiers_policy", "exclusive"] in rows
    assert any(row[:2] == ["tier", "cpu.token_hit_rate"] for row in rows)
    assert any(row[0] == "result" and row[1] == "ttft_s" for row in rows)

    page.click("#language-switch")
    assert page.text_content(".section-tiers legend") == "卸载层级"
    assert page.text_content("#tier-split h3") == "命中来自哪里"
    page.click("#language-switch")

    page.click(".tier-remove")
    booted.wait_idle()
    assert "tiers" not in booted.scenario() and "tier=" not in page.url
    assert not page.is_visible("#tier-split")
    booted.assert_clean()


def test_bad_tier_value_names_the_field(booted, page, default_scenario):
    page.click(".tier-add")
    page.fill("input[name='tiers.0.capacity_gb']", "100")
    booted.wait_idle()
    good = booted.metric_values()
    for bad in ("-5", "abc", ""):
        page.fill("input[name='tiers.0.capacity_gb']", bad)
        booted.wait_idle()
        message = page.text_content(".field[data-path='tiers.0.capacity_gb'] .field-error")
        assert "Tier 1 · Capacity" in message and "tiers.0" not in message, message
        assert page.get_attribute("input[name='tiers.0.capacity_gb']", "aria-invalid") == "true"
        assert "Tier 1 · Capacity" in page.text_content("#form-error")
        assert page.is_visible("#stale-note")
        assert booted.metric_values() == good
        booted.assert_clean()

    page.fill("input[name='tiers.0.capacity_gb']", "100")
    page.fill("input[name='tiers.0.name']", "Bad Name")
    booted.wait_idle()
    assert "Tier 1 · Tier" in page.text_content(".field[data-path='tiers.0.name'] .field-error")
    page.fill("input[name='tiers.0.name']", "nvram")  # no default bandwidth: Python asks for one
    booted.wait_idle()
    assert page.get_attribute("input[name='tiers.0.read_gb_per_s']", "placeholder") == "required"
    assert "Tier 1 · Read bandwidth per GPU" in page.text_content(".field[data-path='tiers.0.read_gb_per_s'] .field-error")
    page.fill("input[name='tiers.0.read_gb_per_s']", "20")
    booted.wait_idle()
    assert page.text_content("#form-error") == ""
    assert page.get_attribute("input[name='tiers.0.capacity_gb']", "aria-invalid") is None
    assert booted.scenario()["tiers"] == [{"name": "nvram", "capacity_gb": 100, "read_gb_per_s": 20}]

    # A capacity in tokens is the other key; the unit select renames the input.
    page.select_option("select[name='tiers.0.capacity_unit']", "capacity_tokens")
    page.fill("input[name='tiers.0.capacity_tokens']", "1.5")
    booted.wait_idle()
    assert "Tier 1 · Capacity: 1.5 is not allowed; enter a whole number" in page.text_content(".field[data-path='tiers.0.capacity_tokens'] .field-error")
    page.fill("input[name='tiers.0.capacity_tokens']", "500000")
    booted.wait_idle()
    assert booted.scenario()["tiers"] == [{"name": "nvram", "capacity_tokens": 500000, "read_gb_per_s": 20}]
    assert "tier=nvram:500000tok:20" in page.url
    booted.assert_clean()


def test_tier_links_round_trip(booted, page, schema, default_scenario):
    # Inclusive tiers keep a copy of the GPU's contents, so each must be larger than the GPU cache.
    query = "?preset=llama-3.1-8b&gpu=h100-sxm-80gb&tier=cpu:100gb:50&tier=ssd:5000000tok&tierpol=inclusive"
    booted.load_query(query)
    assert page.locator("#notices li").count() == 0
    scenario = booted.scenario()
    assert scenario["tiers"] == [{"name": "cpu", "capacity_gb": 100, "read_gb_per_s": 50},
                                 {"name": "ssd", "capacity_tokens": 5000000}]
    assert scenario["tiers_policy"] == "inclusive"
    assert page.url.endswith(query)  # rewritten to the same, readable text
    assert page.input_value("input[name='tiers.1.capacity_tokens']") == "5000000"
    assert page.input_value("select[name='tiers.1.capacity_unit']") == "capacity_tokens"
    assert page.input_value("select[name='tiers_policy']") == "inclusive"
    expected = cpython("predict", {"scenario": scenario, "advice": False})
    assert list(expected["tier_token_hit_rates"]) == ["gpu", "cpu", "ssd"]
    assert close(booted.metric_values()["token_hit_rate"], expected["token_hit_rate"])

    codec = page.evaluate("""async (cases) => {
        const { parse, encode } = await import('/js/url.js');
        const schema = window.kvcacheCalc.schema;
        const scenario = JSON.parse(document.querySelector('[data-scenario-json]').textContent);
        const again = parse(encode(scenario, schema), schema);
        const bad = cases.map((query) => {
            const { scenario, notices } = parse(query, schema);
            return { query, tiers: scenario.tiers ?? null, policy: scenario.tiers_policy ?? null,
                     notices: notices.map((n) => n.code + ':' + n.key) };
        });
        return { encoded: encode(scenario, schema), same: JSON.stringify(again.scenario) === JSON.stringify(scenario),
                 notices: again.notices.length, bad };
    }""", ["?tier=cpu", "?tier=cpu:abc", "?tier=CPU:5gb", "?tier=cpu:-5gb", "?tier=cpu:0gb", "?tier=cpu:5gb:0",
           "?tier=cpu:5xb", "?tier=cpu:1.5tok", "?tier=a:1gb:2:3", "?tier=%3Cscript%3E:1gb", "?tier=cpu:1e999gb",
           "?tier=a:1gb&tier=b:1gb&tier=c:1gb&tier=d:1gb", "?tierpol=inclusive", "?tier=cpu:5gb&tierpol=bogus",
           "?tier=__proto__:1gb", "?tier=cpu:5GB:7.5"])
    assert codec["same"] and codec["notices"] == 0
    assert codec["encoded"].endswith("tier=cpu:100gb:50&tier=ssd:5000000tok&tierpol=inclusive")
    by_query = {case["query"]: case for case in codec["bad"]}
    for query in ["?tier=cpu", "?tier=cpu:abc", "?tier=CPU:5gb", "?tier=cpu:-5gb", "?tier=cpu:0gb", "?tier=cpu:5gb:0",
                  "?tier=cpu:5xb", "?tier=cpu:1.5tok", "?tier=a:1gb:2:3", "?tier=%3Cscript%3E:1gb", "?tier=cpu:1e999gb"]:
        assert by_query[query]["tiers"] is None and by_query[query]["notices"] == ["invalid:tier"], query
    four = by_query["?tier=a:1gb&tier=b:1gb&tier=c:1gb&tier=d:1gb"]
    assert [t["name"] for t in four["tiers"]] == ["a", "b", "c"] and four["notices"] == ["invalid:tier"]
    assert by_query["?tierpol=inclusive"]["tiers"] is None and by_query["?tierpol=inclusive"]["notices"] == ["unused:tierpol"]
    assert by_query["?tier=cpu:5gb&tierpol=bogus"]["policy"] == "exclusive"
    assert by_query["?tier=cpu:5gb&tierpol=bogus"]["notices"] == ["invalid:tierpol"]
    assert by_query["?tier=__proto__:1gb"]["tiers"] is None
    assert by_query["?tier=cpu:5GB:7.5"]["tiers"] == [{"name": "cpu", "capacity_gb": 5, "read_gb_per_s": 7.5}]

    # A malformed tier in a link is dropped with a visible notice; the rest of the link applies.
    booted.load_query("?tier=cpu:-5gb&tier=ssd:1000tok&rate=2")
    notices = page.locator("#notices li").all_text_contents()
    assert len(notices) == 1 and "tier=cpu:-5gb" in notices[0] and "cpu:48gb:50" in notices[0]
    assert booted.scenario()["tiers"] == [{"name": "ssd", "capacity_tokens": 1000}]
    assert booted.scenario()["workload"]["arrival_rate"] == 2
    booted.assert_clean()


def test_latency_figures_match_python_and_show_dashes_without_a_model(booted, page, default_scenario):
    page.fill("input[name='latency.price_per_gpu_hour']", "2.5")
    booted.wait_idle()
    expected = cpython("predict", {"scenario": booted.scenario(), "advice": False})
    shown = booted.metric_values()
    for key in ("ttft_no_cache_s", "ttft_s", "ttft_saved_s", "prefill_gpus_no_cache", "prefill_gpus", "gpus_saved",
                "money_saved_per_day", "running_requests", "pinned_tokens", "evictable_capacity_tokens"):
        assert expected[key] is not None and close(shown[key], expected[key]), key
    assert not page.is_visible(".needs-price")
    assert "/day" in page.text_content("[data-metric='money_saved_per_day']")

    # No model, the capacity given directly: nothing to time.
    page.select_option("select[name='model.preset']", "")
    page.fill("input[name='cache.capacity_tokens']", "100000")
    booted.wait_idle()
    shown = booted.metric_values()
    assert shown["ttft_s"] is None and shown["money_saved_per_day"] is None
    assert page.text_content("#results [data-metric='ttft_s']") == "—"
    assert page.is_visible(".latency-note")
    booted.assert_clean()


def test_routing_comparison_has_every_routing(booted, page, default_scenario):
    assert page.get_attribute("#routing-compare", "data-state") == "unavailable"
    assert page.is_disabled("#routing-start")
    page.fill("input[name='cluster.replicas']", "2")
    booted.wait_idle()
    assert page.is_enabled("#routing-start")
    # The analysis carries the model's comparison: no simulated columns, no whiskers yet.
    assert page.get_attribute("#routing-result", "data-origin") == "analysis"
    expected = cpython("analyze", {"scenario": booted.scenario()})["routing"]
    values = scoped(page, "routing")
    for row in expected["rows"]:
        assert row["simulated_token_hit_rate"] is None and row["simulated_requests"] is None
        for key in ("token_hit_rate", "request_hit_rate", "ttft_s", "token_hit_rate_loss"):
            assert close(values[f"routing.{row['routing']}.{key}"], row[key]), (row["routing"], key)
        assert f"routing.{row['routing']}.simulated_token_hit_rate" not in values
    assert page.locator("#routing-table th", has_text="Simulated").count() == 0
    assert "±" not in page.text_content("#routing-table")
    chart = page.evaluate(CHART, "routing")
    assert [d["role"] for d in chart["datasets"]] == ["token_hit_rate", "request_hit_rate"]
    page.click("#routing-start")
    assert page.get_attribute("#routing-compare", "data-state") == "busy"
    page.wait_for_selector("#routing-compare[data-state='done']", state="attached", timeout=ROUTING_TIMEOUT_MS)
    rows = page.eval_on_selector_all("#routing-table tr[data-routing]", "(rows) => rows.map((r) => r.dataset.routing)")
    assert rows == ROUTINGS
    values = scoped(page, "routing")
    # The page stepped the simulations; CPython runs them in one call: the same seeded figures.
    whole = cpython("compare_routing", {"scenario": booted.scenario(), "seed": 1, "simulate": True})
    for row in whole["rows"]:
        for key in ("simulated_token_hit_rate", "simulated_request_hit_rate", "simulated_token_hit_rate_ci"):
            assert close(values[f"routing.{row['routing']}.{key}"], row[key]), (row["routing"], key)
    assert values["routing.affinity.token_hit_rate_loss"] == 0
    assert values["routing_random_loss"] == values["routing.random.token_hit_rate_loss"] > 0
    assert values["routing.random.token_hit_rate"] < values["routing.affinity.token_hit_rate"]
    assert page.is_visible("#routing-loss") and "Random routing loses" in page.text_content("#routing-loss")
    for routing in ROUTINGS:
        assert values[f"routing.{routing}.simulated_requests"] > 0
        assert 0 < values[f"routing.{routing}.simulated_token_hit_rate_ci"] < 0.1
        assert abs(values[f"routing.{routing}.simulated_token_hit_rate"] - values[f"routing.{routing}.token_hit_rate"]) < 0.1
    assert "simulated (" in page.text_content("#routing-table tr[data-routing='random']")
    chart = page.evaluate(CHART, "routing")
    assert len(chart["labels"]) == 4 and all(len(d["data"]) == 4 for d in chart["datasets"])
    with_whiskers = [d["role"] for d in chart["datasets"] if d["intervals"] and any(v is not None for v in d["intervals"])]
    assert with_whiskers == ["simulated_token_hit_rate", "simulated_request_hit_rate"]

    # The comparison belongs to that scenario: an edit removes it.
    page.fill("input[name='workload.think_time_s']", "30")
    booted.wait_idle()
    assert page.get_attribute("#routing-compare", "data-state") == "idle"
    assert page.get_attribute("#routing-result", "data-origin") != "compare"
    booted.assert_clean()


def test_routing_comparison_shows_progress_and_cancels(booted, page, default_scenario):
    page.fill("input[name='cluster.replicas']", "2")
    booted.wait_idle()
    assert page.is_hidden("#routing-cancel")
    page.click("#routing-start")
    page.wait_for_function("() => Number(document.querySelector('#routing-compare').dataset.progress) > 0",
                           timeout=ROUTING_TIMEOUT_MS)
    assert page.get_attribute("#routing-compare", "data-state") == "busy"
    assert "%" in page.text_content("#routing-status") and page.is_visible("#routing-cancel")
    page.click("#routing-cancel")
    assert page.get_attribute("#routing-compare", "data-state") == "cancelled"
    assert page.is_hidden("#routing-cancel") and page.is_enabled("#routing-start")
    assert page.get_attribute("#routing-result", "data-origin") == "analysis"
    # The worker dropped the run: an edit is answered at once, and no comparison result arrives later.
    page.fill("input[name='workload.think_time_s']", "30")
    booted.wait_idle()
    page.wait_for_timeout(500)
    assert page.get_attribute("#routing-compare", "data-state") == "cancelled"
    assert page.get_attribute("#routing-result", "data-origin") == "analysis"
    booted.assert_clean()


def test_non_affinity_routing_curves_follow_the_analysis(booted, page, default_scenario):
    page.fill("input[name='cluster.replicas']", "2")
    page.select_option("select[name='cluster.routing']", "random")
    booted.wait_idle()
    scenario = booted.scenario()
    analysis = cpython("analyze", {"scenario": scenario})
    assert close(booted.metric_values()["token_hit_rate"], analysis["predict"]["token_hit_rate"])
    # Every routing has a closed form: the curves are drawn under random routing too.
    assert analysis["memory_curve"] is not None
    for name in ("memory_curve", "tier_curve", "sweeps", "tornado"):
        assert page.is_visible(f"figure[data-figure='{name}']"), name
    chart = page.evaluate(CHART, "memory")
    token = chart["datasets"][0]["data"]
    assert len(token) == len(analysis["memory_curve"]["points"])
    assert all(close(p["y"], q["token_hit_rate"]) for p, q in zip(token, analysis["memory_curve"]["points"]))
    assert page.locator("#curves-note, #hit-rate-source").count() == 0
    ids = page.eval_on_selector_all(".advice-item", "(items) => items.map((i) => i.dataset.advice)")
    assert ids == [a["id"] for a in analysis["advice"]] or sorted(ids) == sorted(a["id"] for a in analysis["advice"])
    booted.assert_clean()


def test_verify_compares_each_tier(booted, page, default_scenario):
    # A small cache with large blocks and a CPU tier in tokens: a simulation of a few steps.
    page.fill("input[name='cache.capacity_tokens']", "20000")
    page.fill("input[name='cache.block_size']", "64")
    page.click(".tier-add")
    page.select_option("select[name='tiers.0.capacity_unit']", "capacity_tokens")
    page.fill("input[name='tiers.0.capacity_tokens']", "20000")
    booted.wait_idle()
    assert booted.scenario()["tiers"] == [{"name": "cpu", "capacity_tokens": 20000}]
    page.fill("#sim-requests", "2000")
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='done']", state="attached", timeout=ROUTING_TIMEOUT_MS)
    sim = scoped(page, "simulation")
    shown = scoped(page, "tier")
    for name in ("gpu", "cpu"):
        assert sim[f"sim_predicted_tier_{name}_token_hit_rate"] == shown[f"tier_token_hit_rates.{name}"]
        assert abs(sim[f"sim_tier_{name}_token_hit_rate"] - sim[f"sim_predicted_tier_{name}_token_hit_rate"]) < 0.05
        assert sim[f"sim_tier_{name}_token_hit_rate_difference"] == pytest.approx(
            sim[f"sim_tier_{name}_token_hit_rate"] - sim[f"sim_predicted_tier_{name}_token_hit_rate"], abs=1e-15)
    assert 0 < sim["sim_tier_gpu_token_hit_rate_ci"] < 0.05
    assert page.locator("#verify-result tr.sim-tier-row").count() == 2
    booted.assert_clean()
