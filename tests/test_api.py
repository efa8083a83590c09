"""The JSON boundary: analyze, sweeps, inverse solve, suggestions, and the worker protocol."""

import json

import pytest

from kvcache_calc import api
from kvcache_calc.advise import apply_patch

BASE = {"workload": {"arrival_rate": 1, "turns_mean": 5, "think_time_s": 60, "user_tokens": 200,
                     "output_tokens": 400, "system_prompt_tokens": 1000}}


def test_analyze_is_plain_finite_json():
    text = api.handle("analyze", json.dumps({"scenario": BASE}))
    reply = json.loads(text)
    assert reply["ok"] and "NaN" not in text and "Infinity" not in text
    result = reply["result"]
    assert set(result) == {"predict", "memory_curve", "sweeps", "tornado", "tier_curve", "routing", "advice"}


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
