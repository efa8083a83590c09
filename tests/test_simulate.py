"""The package's simulator: reproducible, agrees with the closed form and with tests/reference_sim.py."""

import json

import pytest

from kvcache_calc import api
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.simulate import Simulation, simulate_scenario
from reference_sim import simulate_lru

SMALL = {"workload": {"arrival_rate": 2, "turns_mean": 5, "think_time_s": 10.0, "user_tokens": 60,
                      "output_tokens": 100, "system_prompt_tokens": 500},
         "cache": {"capacity_tokens": 400 * 16}}
GRID = {
    "small cache, exponential": SMALL,
    "fixed turns, fixed think": {"workload": {"arrival_rate": 1, "turns_mean": 6, "turns_dist": "fixed",
                                              "think_time_s": 20.0, "think_dist": "fixed", "user_tokens": 50,
                                              "output_tokens": 150, "system_prompt_tokens": 200},
                                 "cache": {"capacity_tokens": 1500 * 16}},
    "no system prompt, 32-token blocks": {"workload": {"arrival_rate": 0.5, "turns_mean": 3, "think_time_s": 30.0,
                                                       "user_tokens": 200, "output_tokens": 300,
                                                       "system_prompt_tokens": 0},
                                          "cache": {"capacity_tokens": 600 * 32, "block_size": 32}},
}


def run(scenario, seed=1, requests=30_000):
    return simulate_scenario(parse_scenario(scenario), seed=seed, requests=requests)


def test_same_seed_same_result_other_seed_other_result():
    a, b, c = run(SMALL, 3, 5_000), run(SMALL, 3, 5_000), run(SMALL, 4, 5_000)
    assert a == b
    assert a["token_hit_rate"] != c["token_hit_rate"]


@pytest.mark.parametrize("name", list(GRID))
def test_simulation_agrees_with_the_closed_form(name):
    sim = run(GRID[name])
    pred = api.predict(GRID[name])
    for key in ("token_hit_rate", "request_hit_rate"):
        # the prediction sits within the simulation's interval (widened by the model's 0.5-point goal)
        assert abs(sim[key] - pred[key]) <= 2 * sim[key + "_ci"] + 0.005, (key, sim[key], sim[key + "_ci"], pred[key])


def test_simulation_agrees_with_the_independent_reference():
    sim = run(SMALL, requests=60_000)
    ref = simulate_lru(SMALL["workload"], 16, 400 * 16, duration_s=6000, warmup_s=500, seed=9)
    for key in ("token_hit_rate", "request_hit_rate"):
        assert abs(sim[key] - ref[key]) <= 3 * sim[key + "_ci"] + 0.003


def test_measured_traffic_matches_the_scenario():
    sim = run(SMALL)
    pred = api.predict(SMALL)
    assert sim["derived_qps"] == pytest.approx(pred["derived_qps"], rel=0.03)
    assert sim["prompt_tokens_per_s"] == pytest.approx(pred["prompt_tokens_per_s"], rel=0.05)
    assert 0.99 <= sim["cache_utilization"] <= 1.0


def test_other_policies_simulate_and_predict_says_why_not():
    lfu = {**SMALL, "cache": {**SMALL["cache"], "policy": "lfu"}}
    fifo = {**SMALL, "cache": {**SMALL["cache"], "policy": "fifo"}}
    lru = run(SMALL, requests=10_000)
    assert run(fifo, requests=10_000)["token_hit_rate"] < lru["token_hit_rate"]
    assert 0 < run(lfu, requests=10_000)["token_hit_rate"] < 1
    with pytest.raises(ValueError, match=r'^cache\.policy: "lfu" has no closed form'):
        api.predict(lfu)


def test_too_long_a_simulation_is_refused_with_an_estimate():
    with pytest.raises(ValueError, match=r"^simulation: about .* block touches exceed the limit .*fewer requests"):
        Simulation(parse_scenario(SMALL), requests=10**8)


def test_page_protocol_steps_and_cancels():
    start = json.loads(api.handle("simulate_start", json.dumps({"scenario": SMALL, "requests": 5_000})))
    run_id = start["result"]["run"]
    steps = 0
    while True:
        reply = json.loads(api.handle("simulate_step", json.dumps({"run": run_id, "touches": 100_000})))["result"]
        steps += 1
        if reply["done"]:
            break
        assert 0.0 <= reply["progress"] < 1.0
    assert steps > 1 and reply["result"]["prediction"]["token_hit_rate"] > 0
    again = json.loads(api.handle("simulate_start", json.dumps({"scenario": SMALL, "requests": 5_000})))["result"]["run"]
    cancelled = json.loads(api.handle("simulate_cancel", json.dumps({"run": again})))["result"]
    assert cancelled["cancelled"] is True
    gone = json.loads(api.handle("simulate_step", json.dumps({"run": again})))
    assert gone["ok"] is False and gone["error"]["field"] == "run"


@pytest.mark.parametrize("scenario", [
    SMALL,
    GRID["fixed turns, fixed think"],
    # a system prompt larger than the cache, and conversations that outgrow it
    {"workload": {"arrival_rate": 1, "turns_mean": 8, "think_time_s": 5.0, "user_tokens": 200,
                  "output_tokens": 300, "system_prompt_tokens": 3000}, "cache": {"capacity_tokens": 150 * 16}},
    {"workload": {"arrival_rate": 0.5, "turns_mean": 20, "think_time_s": 3.0, "user_tokens": 100,
                  "output_tokens": 200, "system_prompt_tokens": 100}, "cache": {"capacity_tokens": 120 * 16}},
], ids=["small", "fixed", "prompt larger than cache", "conversations outgrow the cache"])
def test_run_level_lru_equals_the_block_engine_exactly(scenario):
    s = parse_scenario(scenario)
    fast, blocks = Simulation(s, seed=2, requests=4_000), Simulation(s, seed=2, requests=4_000, block_engine=True)
    while not fast.step():
        pass
    while not blocks.step():
        pass
    assert fast.result() == blocks.result()
