"""The advisor: every item is priced by the model and delivers what it promises once applied."""

import pytest

from kvcache_calc import api
from kvcache_calc.advise import apply_patch


def ids(scenario):
    return [a["id"] for a in api.predict(scenario)["advice"]]


def test_the_default_scenarios_top_item_applied_moves_the_hit_rate_by_what_it_promised():
    current = api.predict({})
    top = current["advice"][0]
    applied = api.predict(apply_patch({}, top["change"]), with_advice=False)
    assert applied["token_hit_rate"] == pytest.approx(top["token_hit_rate"], rel=1e-12)
    assert applied["token_hit_rate"] - current["token_hit_rate"] == pytest.approx(top["token_hit_rate_gain"])
    assert applied["ideal_prefill_speedup"] == pytest.approx(top["ideal_prefill_speedup"], rel=1e-12)
    assert applied["ttft_s"] == pytest.approx(top["ttft_s"], rel=1e-12)
    gains = [a["token_hit_rate_gain"] for a in current["advice"]]
    assert gains == sorted(gains, reverse=True)


def test_a_cpu_tier_is_sized_to_reach_half_way_to_the_ceiling():
    current = api.predict({})
    item = next(a for a in current["advice"] if a["id"] == "cpu_tier_for_target")
    target = current["token_hit_rate"] + (current["ceiling_token_hit_rate"] - current["token_hit_rate"]) / 2
    assert item["token_hit_rate"] >= target - 1e-3
    tier = item["change"]["tiers"][0]
    smaller = api.predict(apply_patch({}, {"tiers": [{**tier, "capacity_gb": tier["capacity_gb"] * 0.9}]}),
                          with_advice=False)
    assert smaller["token_hit_rate"] < target
    assert "CPU-memory tier" in item["why"] and item["cluster_gpus_delta"] == 0


def test_a_cpu_tier_that_loads_slower_than_it_recomputes_is_not_advised():
    small = {"tiers": [{"name": "cpu", "capacity_gb": 1, "read_gb_per_s": 50}]}
    assert "cpu_tier_for_target" in ids(small)
    slow = {"tiers": [{"name": "cpu", "capacity_gb": 1, "read_gb_per_s": 0.05}]}
    assert not api.predict(slow, with_advice=False)["tiers"][1]["load_pays"]
    assert "cpu_tier_for_target" not in ids(slow)


def test_fp8_kv_is_offered_for_wide_kv_and_fp4_only_on_blackwell():
    assert "kv_fp8" in ids({}) and "kv_fp4" not in ids({})
    assert "kv_fp4" in ids({"hardware": {"gpu": "b200"}, "workload": {"arrival_rate": 3}})
    assert "kv_fp8" not in ids({"model": {"kv_dtype": "fp8"}})


def test_mla_under_tensor_parallel_is_told_to_split_layers_instead():
    # from 1 conversation/s the layout overloads: a decode step streams every stage's weights in turn
    scenario = {"model": {"preset": "deepseek-v3"}, "hardware": {"gpu": "h200", "num_gpus": 8},
                "workload": {"arrival_rate": 0.5}}
    current = api.predict(scenario)
    item = next(a for a in current["advice"] if a["id"] == "mla_pipeline_layout")
    applied = api.predict(apply_patch(scenario, item["change"]), with_advice=False)
    # 8 stages hold one latent each instead of 8 copies; the busiest stage has ceil(61 / 8) = 8 layers (vLLM's
    # get_pp_indices) and the output head, so a little less than 8x
    ratio = applied["cache_capacity_tokens"] / current["cache_capacity_tokens"]
    assert 61 / 8 * 0.97 < ratio < 8
    assert item["cluster_gpus_delta"] == 0 and "replicates" in item["why"]


def test_an_over_provisioned_cluster_is_told_it_can_drop_a_replica():
    scenario = {"workload": {"arrival_rate": 0.2}, "cluster": {"replicas": 4}, "latency": {"price_per_gpu_hour": 2}}
    current = api.predict(scenario)
    item = next(a for a in current["advice"] if a["id"] == "fewer_replicas")
    assert item["cluster_gpus_delta"] == -1
    assert item["token_hit_rate_gain"] >= -0.01
    assert item["cost_per_day_delta"] < 0  # one GPU fewer costs less, even net of the prefill it saved
    assert "more_replicas" not in [a["id"] for a in current["advice"]]  # nothing left to gain
    busy = api.predict({"latency": {"price_per_gpu_hour": 2}})
    more = next(a for a in busy["advice"] if a["id"] == "more_replicas")
    assert more["cluster_gpus_delta"] == 1 and more["cost_per_day_delta"] > 0


def test_every_item_explains_itself_in_both_languages():
    for item in api.predict({"cluster": {"replicas": 2}})["advice"]:
        assert item["why"].endswith(".") and len(item["why"]) < 240 and item["why_zh"]
        assert set(item) >= {"change", "token_hit_rate", "ideal_prefill_speedup", "why"}


def overloaded(prediction):
    """Requests queue without bound: decode, the running requests' KV or prefill does not keep up."""
    return bool({"replica_overloaded", "prefill_overloaded"} & {w["code"] for w in prediction["warnings"]})


@pytest.mark.parametrize("scenario, replicas", [
    ({"workload": {"arrival_rate": 8.0}}, 5),  # decode saturates
    ({"workload": {"arrival_rate": 2.0}}, 2),  # the running requests' KV does not fit
    ({"workload": {"arrival_rate": 40.0}, "cluster": {"replicas": 3, "routing": "random"}}, 24),
    ({"workload": {"arrival_rate": 1.5, "output_tokens": 20}, "latency": {"mfu": 0.05}}, 2),  # prefill alone
])
def test_an_overloaded_cluster_is_told_first_how_many_replicas_keep_up(scenario, replicas):
    current = api.predict(scenario)
    assert overloaded(current)
    top = current["advice"][0]
    assert top["id"] == "replicas_to_keep_up" and top["change"] == {"cluster": {"replicas": replicas}}
    assert not overloaded(api.predict(apply_patch(scenario, top["change"]), with_advice=False))
    one_fewer = apply_patch(scenario, {"cluster": {"replicas": replicas - 1}})
    assert overloaded(api.predict(one_fewer, with_advice=False))  # the fewest that keep up
    for item in current["advice"]:  # nothing is advised whose replicas would still not keep up
        applied = api.predict(apply_patch(scenario, item["change"]), with_advice=False)
        assert not overloaded(applied) and applied["token_hit_rate"] == pytest.approx(item["token_hit_rate"], rel=1e-12)
