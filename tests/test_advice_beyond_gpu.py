"""Advice that needs more memory than the GPU has offers what has it instead, never the impossible size."""

import pytest

from kvcache_calc import api
from kvcache_calc.advise import _target, apply_patch
from kvcache_calc.presets import gpu_preset
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.sensitivity import solve_capacity


def _need(scenario):
    s = parse_scenario(scenario)
    return solve_capacity(s, _target(api.predict(scenario, with_advice=False)))


def test_the_default_h100_is_never_told_to_have_more_memory_than_it_has():
    advice = api.predict({})["advice"]
    need = _need({})
    assert need["memory_gib_per_gpu"] > gpu_preset("h100-sxm-80gb")["memory_gib"]
    for item in advice:
        memory = item["change"].get("hardware", {}).get("memory_gib")
        assert memory is None or memory <= gpu_preset("h100-sxm-80gb")["memory_gib"]
    by_id = {item["id"]: item for item in advice}
    gpu = by_id["gpu_for_target"]
    preset = gpu_preset(gpu["change"]["hardware"]["gpu"])
    assert preset["memory_gib"] >= need["memory_gib_per_gpu"]
    assert "more than the H100 SXM 80GB has" in gpu["why"] and "超过" in gpu["why_zh"]
    # the smallest such NVIDIA part: the H200, not a B300 or an AMD one
    assert gpu["change"]["hardware"]["gpu"] == "h200"
    more = by_id["gpus_for_target"]
    applied = api.predict(apply_patch({}, more["change"]), with_advice=False)
    assert applied["cache_capacity_tokens"] >= need["capacity_tokens"]
    assert applied["token_hit_rate"] == pytest.approx(more["token_hit_rate"], rel=1e-12)
    assert "double_gpus" not in by_id  # the same patch, said once
    assert "cpu_tier_for_target" in by_id


def test_a_gpu_given_less_memory_than_it_has_may_be_told_to_use_more():
    scenario = {"hardware": {"memory_gib": 40, "max_model_len": 32768}, "workload": {"think_time_s": 20}}
    item = next(a for a in api.predict(scenario)["advice"] if a["id"] == "memory_for_target")
    assert 40 < item["change"]["hardware"]["memory_gib"] <= gpu_preset("h100-sxm-80gb")["memory_gib"]


def test_a_bigger_gpu_replaces_a_given_memory_size_too():
    scenario = {"hardware": {"memory_gib": 79}}
    item = next(a for a in api.predict(scenario)["advice"] if a["id"] == "gpu_for_target")
    preset = gpu_preset(item["change"]["hardware"]["gpu"])
    assert item["change"]["hardware"]["memory_gib"] == preset["memory_gib"]


def test_more_memory_than_any_preset_gpu_has_offers_more_gpus_only():
    scenario = {"hardware": {"gpu": "mi300x"}, "workload": {"think_time_s": 1200}}
    need = _need(scenario)
    assert need["memory_gib_per_gpu"] > max(gpu_preset(g)["memory_gib"] for g in ("mi355x", "b300"))
    ids = [a["id"] for a in api.predict(scenario)["advice"]]
    assert "gpu_for_target" not in ids and "memory_for_target" not in ids
    assert "gpus_for_target" in ids
