"""The JSON boundary: analyze, sweeps, inverse solve, suggestions, and the worker protocol."""

import json
import re
from pathlib import Path

import pytest

from kvcache_calc import api
from kvcache_calc.advise import apply_patch
from kvcache_calc.traffic.spec import PER_CLASS

BASE = {"workload": {"arrival_rate": 1, "turns_mean": 5, "think_time_s": 60, "user_tokens": 200,
                     "output_tokens": 400, "system_prompt_tokens": 1000}}


def test_analyze_is_plain_finite_json():
    text = api.handle("analyze", json.dumps({"scenario": BASE}))
    reply = json.loads(text)
    assert reply["ok"] and "NaN" not in text and "Infinity" not in text
    result = reply["result"]
    assert set(result) == {"predict", "memory_curve", "sweeps", "tornado", "tier_curve", "routing", "advice",
                           "deploy"}


def test_memory_curve_rises_with_memory_and_marks_the_current_point():
    curve = api.analyze(BASE)["memory_curve"]
    rates = [p["token_hit_rate"] for p in curve["points"]]
    assert rates == sorted(rates)
    assert curve["current"]["token_hit_rate"] == pytest.approx(api.predict(BASE)["token_hit_rate"])


@pytest.mark.parametrize("path, default", [("think_time_s", 60), ("output_tokens", 400), ("system_prompt_tokens", 1000)])
def test_a_field_at_zero_is_swept_from_zero_to_four_times_its_default(path, default):
    # no system prompt, no think time, no output: common scenarios whose panel must still draw
    scenario = {"workload": {**BASE["workload"], path: 0}}
    reply = json.loads(api.handle("analyze", json.dumps({"scenario": scenario})))
    assert reply["ok"], reply
    sweep = next(sw for sw in reply["result"]["sweeps"] if sw["path"] == "workload." + path)
    assert sweep["current"] == 0
    assert [p["value"] for p in sweep["points"]] == pytest.approx([4 * default * i / 6 for i in range(7)], abs=0.5)
    at_zero = sweep["points"][0]
    assert at_zero["token_hit_rate"] == pytest.approx(api.predict(scenario)["token_hit_rate"], abs=1e-12)


def test_a_tiny_cache_is_swept_down_to_one_block_not_below():
    scenario = {**BASE, "cache": {"block_size": 64, "capacity_tokens": 130}}
    points = api.analyze(scenario)["memory_curve"]["points"]
    assert points[0]["x"] == 64 and all(p["x"] >= 64 for p in points)


def test_tornado_is_sorted_by_swing():
    bars = api.analyze(BASE)["tornado"]["bars"]
    widths = [abs(b["high_token_hit_rate"] - b["low_token_hit_rate"]) for b in bars]
    assert widths == sorted(widths, reverse=True) and len(bars) >= 6


def test_solve_capacity_brackets_the_target():
    reply = json.loads(api.handle("solve", json.dumps({"scenario": BASE, "target": 0.75})))["result"]
    cap = reply["capacity_tokens"]
    # the model stays: it sizes what running requests pin
    model = {"model": {"preset": "llama-3.1-8b"}}
    at = api.predict({**BASE, **model, "cache": {"capacity_tokens": cap}})["token_hit_rate"]
    below = api.predict({**BASE, **model, "cache": {"capacity_tokens": int(cap * 0.99)}})["token_hit_rate"]
    assert below < 0.75 <= at


def test_target_above_the_ceiling_is_not_achievable():
    reply = json.loads(api.handle("solve", json.dumps({"scenario": BASE, "target": 0.99})))["result"]
    assert reply["achievable"] is False and reply["capacity_tokens"] is None


def test_each_advice_item_delivers_what_it_promises():
    advice = api.analyze(BASE)["advice"]
    assert advice, "the default scenario leaves room to improve"
    assert advice == api.predict(BASE)["advice"]
    current = api.predict(BASE)["token_hit_rate"]
    for item in advice:
        applied = api.predict(apply_patch(BASE, item["change"]), with_advice=False)
        assert applied["token_hit_rate"] == pytest.approx(item["token_hit_rate"], rel=1e-12)
        assert applied["ideal_prefill_speedup"] == pytest.approx(item["ideal_prefill_speedup"], rel=1e-12)
        assert applied["token_hit_rate"] > current
        assert item["why"].endswith(".") and item["why_zh"]


def test_errors_come_back_as_messages_with_the_field():
    reply = json.loads(api.handle("predict", json.dumps({"scenario": {"cache": {"block_size": -1}}})))
    assert reply == {"ok": False, "error": {"field": "cache.block_size",
                                            "message": "cache.block_size: -1 is not allowed; expected an integer >= 1 and <= 4096"}}
    assert json.loads(api.handle("nope", "{}"))["ok"] is False
    assert json.loads(api.handle("predict", "[1]"))["ok"] is False


def test_the_page_refuses_the_same_version_1_fields_next_to_classes_as_python():
    # js/traffic.js keeps the list for patches that run without the schema; the schema carries Python's
    source = (Path(__file__).resolve().parents[1] / "js" / "traffic.js").read_text(encoding="utf-8")
    listed = re.search(r"PER_CLASS_FIELDS = \[([^\]]*)\]", source).group(1)
    assert re.findall(r'"([a-z_]+)"', listed) == list(PER_CLASS)
    assert api.schema()["traffic"]["per_class_fields"] == PER_CLASS


def test_workload_as_classes_keeps_each_class_rate_and_the_one_class_form_round_trips():
    rated = {"workload": {"classes": [{"name": "a", "rate": 2}, {"name": "b", "rate": 1, "turns": 3}]}}
    out = api.workload_as_classes(rated)["workload"]
    assert "arrival_rate" not in out and [c["rate"] for c in out["classes"]] == [2, 1]
    assert api.predict(rated)["derived_qps"] == pytest.approx(api.predict({**rated, "workload": out})["derived_qps"])
    v1 = {"workload": {"arrival_rate": 2, "turns_mean": 4, "think_time_s": 30, "user_tokens": 100,
                       "output_tokens": 50, "system_prompt_tokens": 800}}
    classes = api.workload_as_classes(v1)
    assert classes["workload"]["prefixes"] == [{"name": "system", "tokens": 800}]
    back = api.workload_as_one_class(classes)["workload"]
    assert {k: back[k] for k in v1["workload"]} == v1["workload"]
    assert api.predict(v1)["token_hit_rate"] == api.predict(classes)["token_hit_rate"]
    lognormal = {"workload": {"classes": [{"name": "a", "turns": {"dist": "lognormal", "median": 2, "sigma": 1}}]}}
    with pytest.raises(ValueError, match="workload.classes.0.turns.dist"):
        api.workload_as_one_class(lognormal)
    wide = {"workload": {"classes": [{"name": "a", "user_tokens": {"dist": "lognormal", "median": 200, "sigma": 1}}]}}
    with pytest.raises(ValueError, match="workload.classes.0.user_tokens: the one-class form needs"):
        api.workload_as_one_class(wide)


def test_model_vs_replay_gives_the_gap_at_each_capacity():
    scenario = {"workload": {"arrival_rate": 1}}
    points = [{"capacity_tokens": 100_000, "token_hit_rate": 0.5}, {"capacity_tokens": 1_000_000, "token_hit_rate": 0.8}]
    out = api.model_vs_replay(scenario, points)
    for row, p in zip(out["points"], points):
        model = api.predict({**scenario, "cache": {"capacity_tokens": p["capacity_tokens"]}})["token_hit_rate"]
        assert row["model"] == model and row["gap_points"] == pytest.approx((model - p["token_hit_rate"]) * 100)
    assert out["worst_gap_points"] == max(abs(r["gap_points"]) for r in out["points"])
    with pytest.raises(ValueError, match="points.0"):
        api.model_vs_replay(scenario, [{"capacity_tokens": "x"}])


def test_compare_gives_the_change_of_every_number_both_results_carry():
    base = json.loads(api.handle("predict", json.dumps({"scenario": {}, "advice": False})))["result"]
    bigger = json.loads(api.handle("predict", json.dumps(
        {"scenario": {"cache": {"capacity_tokens": 2_000_000}}, "advice": False})))["result"]
    reply = json.loads(api.handle("compare", json.dumps({"baseline": base, "current": bigger})))
    assert reply["ok"], reply
    deltas = reply["result"]["deltas"]
    hit = deltas["token_hit_rate"]
    assert hit["baseline"] == base["token_hit_rate"] and hit["current"] == bigger["token_hit_rate"]
    assert hit["change"] == bigger["token_hit_rate"] - base["token_hit_rate"] > 0
    assert hit["relative"] == pytest.approx(hit["change"] / base["token_hit_rate"])
    assert "cache_capacity_tokens" in deltas and "warnings" not in deltas
    assert all(isinstance(v["change"], float) for v in deltas.values())
    same = json.loads(api.handle("compare", json.dumps({"baseline": base, "current": base})))["result"]["deltas"]
    assert all(v["change"] == 0 for v in same.values())
    bad = json.loads(api.handle("compare", json.dumps({"baseline": base, "current": [1]})))
    assert bad["ok"] is False and "baseline, current" in bad["error"]["message"]
