"""Replicas and routing: the affinity identity, the simulated routings, and what random routing loses."""

import json

import pytest

from kvcache_calc import api
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.simulate import Simulation, simulate_scenario

WORKLOAD = {"arrival_rate": 2, "turns_mean": 5, "think_time_s": 10.0, "user_tokens": 60,
            "output_tokens": 100, "system_prompt_tokens": 500}


def cluster(replicas, routing="affinity", rate=2.0, blocks=300):
    return {"workload": {**WORKLOAD, "arrival_rate": rate}, "cache": {"capacity_tokens": blocks * 16},
            "cluster": {"replicas": replicas, "routing": routing}}


def test_affinity_over_n_replicas_is_one_replica_at_a_nth_of_the_load():
    four = api.predict(cluster(4, rate=8.0), with_advice=False)
    one = api.predict(cluster(1, rate=2.0), with_advice=False)
    for key in ("token_hit_rate", "request_hit_rate", "characteristic_time_s", "cache_utilization"):
        assert four[key] == pytest.approx(one[key], rel=1e-12), key
    assert four["derived_qps"] == pytest.approx(4 * one["derived_qps"])


def test_affinity_simulates_one_replica_and_agrees_with_the_model():
    sim = simulate_scenario(parse_scenario(cluster(4, rate=8.0)), seed=1, requests=30_000)
    pred = api.predict(cluster(4, rate=8.0), with_advice=False)
    assert sim["replicas_simulated"] == 1
    for key in ("token_hit_rate", "request_hit_rate"):
        assert abs(sim[key] - pred[key]) <= 2 * sim[key + "_ci"] + 0.005


@pytest.mark.parametrize("routing", ["random", "round_robin", "least_loaded"])
def test_one_replica_routes_like_affinity(routing):
    a = simulate_scenario(parse_scenario(cluster(1)), seed=3, requests=5_000)
    b = simulate_scenario(parse_scenario(cluster(1, routing)), seed=3, requests=5_000)
    assert {k: v for k, v in a.items() if k != "routing"} == {k: v for k, v in b.items() if k != "routing"}


def test_affinity_simulated_replica_by_replica_agrees_with_one_replica():
    # a router that keeps each conversation on conv % N, every replica simulated, is the same process
    s = parse_scenario(cluster(3, rate=6.0))
    sim = Simulation(s, seed=2, requests=30_000)
    assert sim.plan.replicas == 1
    pred = api.predict(cluster(3, rate=6.0), with_advice=False)
    while not sim.step():
        pass
    assert abs(sim.result()["token_hit_rate"] - pred["token_hit_rate"]) <= 2 * sim.result()["token_hit_rate_ci"] + 0.005


@pytest.mark.parametrize("routing", ["random", "round_robin", "least_loaded"])
def test_prefix_blind_routing_loses_hits_and_follow_ups_land_on_a_new_replica(routing):
    replicas = 4
    sim = simulate_scenario(parse_scenario(cluster(replicas, routing, rate=8.0, blocks=3000)), seed=1,
                            requests=20_000)
    affinity = api.predict(cluster(replicas, rate=8.0, blocks=3000), with_advice=False)
    assert sim["replicas_simulated"] == replicas
    assert sim["token_hit_rate"] < affinity["token_hit_rate"] - 0.1
    # a follow-up finds its whole history only when it lands where its previous turn ran (1/N)
    # and that copy survived: at most about 1/N of the follow-ups, i.e. (E[N]-1)/E[N]/N of requests
    assert sim["request_hit_rate"] <= (4 / 5) / replicas + 3 * sim["request_hit_rate_ci"] + 0.01
    assert sim["derived_qps"] == pytest.approx(affinity["derived_qps"], rel=0.05)


def test_random_and_round_robin_lose_alike():
    r = simulate_scenario(parse_scenario(cluster(4, "random", rate=8.0)), seed=1, requests=20_000)
    rr = simulate_scenario(parse_scenario(cluster(4, "round_robin", rate=8.0)), seed=1, requests=20_000)
    assert abs(r["token_hit_rate"] - rr["token_hit_rate"]) <= 2 * (r["token_hit_rate_ci"] + rr["token_hit_rate_ci"]) + 0.005


def test_least_loaded_spreads_requests_over_the_replicas():
    scenario = {"model": {"preset": "llama-3.1-8b"}, "workload": {**WORKLOAD, "arrival_rate": 2.0},
                "cluster": {"replicas": 3, "routing": "least_loaded"}}
    sim = Simulation(parse_scenario(scenario), seed=1, requests=6_000)
    assert sim.router.service_s is not None
    counts = [0, 0, 0]
    route = sim.router.route

    def counting(conv, now):
        replica = route(conv, now)
        counts[replica] += 1
        return replica

    sim.router.route = counting
    while not sim.step():
        pass
    assert min(counts) > 0.25 * sum(counts)


def test_prefix_blind_routing_has_a_closed_form_and_the_advisor_offers_affinity():
    blind = api.predict(cluster(4, "random", rate=8.0, blocks=3000))
    affinity = api.predict(cluster(4, rate=8.0, blocks=3000), with_advice=False)
    assert blind["token_hit_rate"] < affinity["token_hit_rate"] - 0.1
    item = next(a for a in blind["advice"] if a["id"] == "affinity_routing")
    assert item["token_hit_rate"] == pytest.approx(affinity["token_hit_rate"], rel=1e-12)
    for routing in ("round_robin", "least_loaded"):
        same = api.predict(cluster(4, routing, rate=8.0, blocks=3000), with_advice=False)
        assert same["token_hit_rate"] == blind["token_hit_rate"]
    analysis = api.analyze(cluster(4, "random", rate=8.0))
    assert analysis["sweeps"] and analysis["memory_curve"] and analysis["tier_curve"]
    assert api.simulate(cluster(4, "random", rate=8.0), requests=2_000)["prediction"] is not None


GRID = {
    "random, geometric": cluster(4, "random", rate=8.0, blocks=1000),
    "random, large cache": cluster(4, "random", rate=8.0, blocks=3000),
    "round robin, 8 replicas, long conversations": {**cluster(8, "round_robin", rate=4.0, blocks=4000),
                                                    "workload": {**WORKLOAD, "arrival_rate": 4.0, "turns_mean": 12}},
    "random, fixed turns": {**cluster(3, "random", rate=4.0, blocks=1500),
                            "workload": {**WORKLOAD, "arrival_rate": 4.0, "turns_dist": "fixed"}},
    "random, fixed think": {**cluster(2, "random", rate=2.0, blocks=2500),
                            "workload": {**WORKLOAD, "think_dist": "fixed", "think_time_s": 5.0}},
}


@pytest.mark.parametrize("name", list(GRID))
def test_prefix_blind_model_agrees_with_the_simulation(name):
    sim = simulate_scenario(parse_scenario(GRID[name]), seed=1, requests=30_000)
    pred = api.predict(GRID[name], with_advice=False)
    assert sim["replicas_simulated"] == GRID[name]["cluster"]["replicas"]
    for key in ("token_hit_rate", "request_hit_rate"):
        assert abs(sim[key] - pred[key]) <= 2 * sim[key + "_ci"] + 0.005, (key, sim[key], sim[key + "_ci"], pred[key])


def test_routing_comparison_puts_affinity_first_and_says_what_the_others_lose():
    result = api.compare_routing(cluster(2, "random", rate=4.0, blocks=3000), simulate=True, requests=5_000)
    rows = result["rows"]
    assert result["current"] == "random"
    assert [r["routing"] for r in rows] == ["affinity", "random", "round_robin", "least_loaded"]
    assert rows[0]["token_hit_rate_loss"] == 0
    assert all(r["token_hit_rate_loss"] > 0.02 for r in rows[1:])
    for r in rows:
        assert abs(r["simulated_token_hit_rate"] - r["token_hit_rate"]) <= 3 * r["simulated_token_hit_rate_ci"] + 0.01
    assert [r["routing"] for r in api.compare_routing(cluster(1))["rows"]] == ["affinity"]
    assert api.analyze(cluster(2, rate=4.0))["routing"] == api.compare_routing(cluster(2, rate=4.0))


def test_the_page_steps_the_routing_comparison_to_the_same_result_and_can_cancel_it():
    scenario = cluster(2, "random", rate=4.0, blocks=3000)
    whole = api.compare_routing(scenario, simulate=True, requests=2_000, seed=3)

    def call(method, payload):
        reply = json.loads(api.handle(method, json.dumps(payload)))
        assert reply["ok"], reply
        return reply["result"]

    run = call("compare_routing_start", {"scenario": scenario, "requests": 2_000, "seed": 3})["run"]
    progress = []
    while not (reply := call("simulate_step", {"run": run, "touches": 50_000}))["done"]:
        progress.append(reply["progress"])
    assert len(progress) > 4 and progress == sorted(progress) and 0 <= progress[0] and progress[-1] < 1
    assert reply["result"] == json.loads(json.dumps(whole))
    again = call("compare_routing_start", {"scenario": scenario, "requests": 2_000})["run"]
    assert call("simulate_cancel", {"run": again})["cancelled"] is True
    assert call("simulate_cancel", {"run": [again]})["cancelled"] is False


def test_too_many_replicas_to_simulate_is_explained():
    with pytest.raises(ValueError, match="cluster.replicas: 300 is not allowed with routing \"random\""):
        api.simulate(cluster(300, "random", rate=8.0))
