"""Properties of the closed form that must hold for any valid scenario."""

import json

from hypothesis import assume, example, given, settings, strategies as st

from kvcache_calc.api import handle, predict
from kvcache_calc.presets import gpu_ids, model_ids

QUADRATURE = 1e-4  # the gap-length quadrature moves with T; differences below this are numerics

workloads = st.fixed_dictionaries({
    "arrival_rate": st.floats(0.01, 50),
    "turns_mean": st.floats(1, 30),
    "think_time_s": st.floats(0.5, 600),
    "think_dist": st.sampled_from(["exponential", "fixed"]),
    "user_tokens": st.integers(1, 2000),
    "output_tokens": st.integers(0, 2000),
    "system_prompt_tokens": st.integers(0, 8000),
})
capacities = st.integers(64, 5_000_000)


def scenario(workload, capacity, block=16):
    return {"workload": workload, "cache": {"capacity_tokens": capacity, "block_size": block}}


@settings(max_examples=60, deadline=None)
@given(workloads, capacities)
# tiny turns in a 6-block cache: the gamma approximation once let a history find a hair more than it holds
@example(workload={"arrival_rate": 1.0, "turns_mean": 2.0, "think_time_s": 1.0, "think_dist": "exponential",
                   "user_tokens": 1, "output_tokens": 2, "system_prompt_tokens": 0}, capacity=96)
def test_rates_are_probabilities_below_their_ceiling(workload, capacity):
    r = predict(scenario(workload, capacity))
    for key in ("token_hit_rate", "request_hit_rate", "ceiling_token_hit_rate", "ceiling_request_hit_rate",
                "cache_utilization", "occupancy_live", "occupancy_idle", "occupancy_finished"):
        assert 0.0 <= r[key] <= 1.0, key
    assert r["token_hit_rate"] <= r["ceiling_token_hit_rate"] + 1e-9
    assert r["request_hit_rate"] <= r["ceiling_request_hit_rate"] + 1e-9


@settings(max_examples=40, deadline=None)
@given(workloads, capacities, st.floats(1.05, 8))
def test_more_capacity_never_lowers_the_hit_rate(workload, capacity, factor):
    small = predict(scenario(workload, capacity))
    large = predict(scenario(workload, int(capacity * factor)))
    assert large["token_hit_rate"] >= small["token_hit_rate"] - QUADRATURE
    assert large["request_hit_rate"] >= small["request_hit_rate"] - QUADRATURE


@settings(max_examples=40, deadline=None)
@given(workloads, capacities, st.floats(1.05, 8))
def test_more_traffic_never_raises_the_hit_rate(workload, capacity, factor):
    slow = predict(scenario(workload, capacity))
    fast = predict(scenario({**workload, "arrival_rate": workload["arrival_rate"] * factor}, capacity))
    assert fast["token_hit_rate"] <= slow["token_hit_rate"] + QUADRATURE
    assert fast["request_hit_rate"] <= slow["request_hit_rate"] + QUADRATURE


deployments = st.fixed_dictionaries({
    "model": st.fixed_dictionaries({"preset": st.sampled_from(model_ids()),
                                    "kv_dtype": st.sampled_from(["bf16", "fp8", "fp4"])}),
    "hardware": st.fixed_dictionaries({"gpu": st.sampled_from(gpu_ids()), "num_gpus": st.sampled_from([1, 2, 8])}),
    "workload": workloads.map(lambda w: {**w, "turns_dist": "geometric"}) | workloads.map(
        lambda w: {**w, "turns_mean": round(w["turns_mean"]), "turns_dist": "fixed", "think_time_s": 0.0}),
    "cache": st.fixed_dictionaries({"block_size": st.sampled_from([1, 16, 64])}),
    "cluster": st.fixed_dictionaries({"replicas": st.sampled_from([1, 3]),
                                      "routing": st.sampled_from(["affinity", "random", "round_robin"])}),
    "tiers": st.lists(st.fixed_dictionaries({"name": st.just("cpu"), "capacity_gb": st.floats(1, 4000)}), max_size=1),
    "tiers_policy": st.sampled_from(["exclusive", "inclusive"]),
})


@settings(max_examples=25, deadline=None)
@given(deployments)
def test_every_scenario_that_predicts_also_gets_its_whole_panel(scenario_):
    # the panel's sweeps, swings, solves and advice move fields to values the scenario never had
    try:
        predict(scenario_, with_advice=False)
    except ValueError:
        assume(False)  # explained, not computed: the page shows that message instead
    reply = json.loads(handle("analyze", json.dumps({"scenario": scenario_})))
    assert reply["ok"], reply["error"]
    text = json.dumps(reply)
    assert "NaN" not in text and "Infinity" not in text
