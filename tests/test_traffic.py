"""Traffic classes: laws, validation, the one-class equivalence, the engines' exactness, and the closed form
against the simulator on mixed traffic."""

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from kvcache_calc import api
from kvcache_calc.replay import replay_requests
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.sensitivity import sweep
from kvcache_calc.simulate import Simulation
from kvcache_calc.trace import Request
from kvcache_calc.traffic.distributions import (Atoms, Exponential, Fixed, Gamma, Geometric, LogNormal, Mixture,
                                                Quantiles, dist_from_json, reach_probabilities)
from kvcache_calc.traffic import turns
from kvcache_calc.traffic.records import synthetic_trace

ROOT = Path(__file__).resolve().parents[1]
LAWS = [Fixed(3.0), Exponential(10.0), LogNormal(100.0, 1.2), Gamma(50.0, 0.7), Quantiles((1.0, 5.0, 20.0, 200.0)),
        Atoms((1.0, 2.0, 5.0), (0.5, 0.3, 0.2)), Geometric(4.0),
        Mixture(((0.5, LogNormal(10.0, 0.5)), (0.5, Exponential(100.0))))]


@pytest.mark.parametrize("law", LAWS, ids=lambda d: d.kind)
def test_every_law_keeps_its_mean_in_strata_and_its_quantiles_invert_its_cdf(law):
    assert sum(law.strata(16)) / 16 == pytest.approx(law.mean, rel=1e-9)
    for v in (0.1, 0.5, 0.9):
        q = law.quantile(v)
        assert law.below(q) - 1e-9 <= v <= law.cdf(q) + 1e-9
    assert law.mean_min(1e12) == pytest.approx(law.mean, rel=1e-6)
    assert law.mean_min(law.quantile(0.5)) <= law.mean
    rng = random.Random(1)
    samples = [law.sample(rng) for _ in range(40_000)]
    assert sum(samples) / len(samples) == pytest.approx(law.mean, rel=0.05)
    assert sum(w for w, _ in law.nodes(law.quantile(0.5))) == pytest.approx(1.0)


def test_turn_laws_give_reach_probabilities():
    mix = dist_from_json({"dist": "mixture", "components": [{"weight": 3, "dist": "fixed", "value": 1},
                                                            {"weight": 1, "dist": "fixed", "value": 3}]}, "t", "turns")
    assert reach_probabilities(mix) == [(1.0, 0.25), (0.25, 0.25), (0.25, 0.0)]
    assert sum(r for r, _ in reach_probabilities(Geometric(5.0))) == pytest.approx(5.0)


@pytest.mark.parametrize("value, role, message", [
    ({"dist": "lognormal", "median": 10, "sigma": 0}, "tokens", "x.sigma: 0 is not allowed; expected a number > 0"),
    ({"dist": "empirical", "values": [1, 2], "weights": [1, -1]}, "tokens", "x.weights.1: -1 is not allowed"),
    ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "tokens", "positive sum"),
    ({"dist": "empirical", "quantiles": [5, 3]}, "tokens", "x.quantiles.1: 3 is not allowed"),
    ({"dist": "gamma", "mean": 5}, "seconds", "x.shape: required"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "mixture", "components": []}]}, "tokens",
     "not itself a mixture"),
    ({"dist": "lognormal", "median": 5, "sigma": 1, "mode": 2}, "tokens", "x.mode: unknown key"),
    (2.5, "turns", "a whole number"),
    ({"dist": "geometric", "mean": 3}, "tokens", 'x.dist: "geometric" is not allowed'),
])
def test_a_bad_law_is_refused_naming_the_field(value, role, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        dist_from_json(value, "x", role)


MIXED = {"workload": {"arrival_rate": 1.0,
                      "prefixes": [{"name": "sys", "tokens": 700},
                                   {"name": "docs", "tokens": 1500, "count": 300, "zipf": 1.1}],
                      "classes": [
                          {"name": "chat", "share": 2, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 5},
                           "think_time_s": {"dist": "lognormal", "median": 8, "sigma": 1.0},
                           "user_tokens": {"dist": "lognormal", "median": 80, "sigma": 0.8},
                           "output_tokens": {"dist": "gamma", "mean": 150, "shape": 2},
                           "follow_ups": {"continue": 0.8, "resend": 0.1, "branch": 0.1}},
                          {"name": "rag", "share": 1, "prefix": ["sys", "docs"], "turns": 2,
                           "think_time_s": {"dist": "exponential", "mean": 20}, "user_tokens": 60,
                           "output_tokens": 100},
                          {"name": "agent", "share": 1, "prefix": ["sys"],
                           "turns": {"dist": "empirical", "values": [4, 8, 16], "weights": [1, 1, 1]},
                           "think_time_s": {"dist": "gamma", "mean": 1.5, "shape": 2},
                           "context_tokens": 400, "user_tokens": {"dist": "exponential", "mean": 250},
                           "output_tokens": 60}]},
         "cache": {"block_size": 32, "capacity_tokens": 60_000}}


@pytest.mark.parametrize("patch, message", [
    ({"classes": [{"name": "a", "prefix": ["nope"]}]}, "workload.classes.0.prefix.0: \"nope\" is not allowed"),
    ({"prefixes": [{"name": "d", "tokens": 10, "count": 0}], "classes": [{"name": "a", "prefix": ["d"]}]},
     "workload.prefixes.0.count: 0 is not allowed"),
    ({"classes": [{"name": "a", "share": 1}, {"name": "b", "rate": 2}]}, "every class a share, or every class a rate"),
    ({"arrival_rate": 2, "classes": [{"name": "a", "rate": 1}]}, "workload.arrival_rate: not allowed"),
    ({"turns_mean": 3, "classes": [{"name": "a"}]}, "workload.turns_mean: not allowed with workload.classes"),
    ({"prefixes": [{"name": "s", "tokens": 10}]}, "workload.prefixes: needs workload.classes"),
    ({"classes": [{"name": "a"}, {"name": "a"}]}, "workload.classes.1.name: \"a\" is not allowed"),
    ({"classes": [{"name": "a", "think_time_s": {"dist": "lognormal", "median": 3, "sigma": -1}}]},
     "workload.classes.0.think_time_s.sigma: -1 is not allowed"),
    ({"classes": [{"name": "a", "follow_ups": {"continue": 0}}]}, "workload.classes.0.follow_ups"),
])
def test_bad_classes_are_refused_naming_the_field(patch, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_scenario({"workload": patch})


def test_shares_are_normalised_and_rates_add_up():
    s = parse_scenario(MIXED)
    assert [c.share for c in s.traffic.classes] == [0.5, 0.25, 0.25]
    rated = {"workload": {"classes": [{"name": "a", "rate": 0.3}, {"name": "b", "rate": 0.1}]}}
    t = parse_scenario(rated).traffic
    assert t.arrival_rate == pytest.approx(0.4) and t.classes[0].share == pytest.approx(0.75)
    # a sweep of the arrival rate scales every class
    doubled = parse_scenario(rated).with_value("workload.arrival_rate", 0.8)
    assert [c["rate"] for c in doubled.raw["workload"]["classes"]] == pytest.approx([0.6, 0.2])
    out = api.predict(MIXED)["scenario"]["workload"]
    assert [c["share"] for c in out["classes"]] == [0.5, 0.25, 0.25]
    assert parse_scenario({**MIXED, "workload": out}).traffic == s.traffic   # the normalized form round-trips


@pytest.mark.parametrize("extra", [{}, {"cluster": {"replicas": 3, "routing": "random"}},
                                   {"tiers": [{"name": "cpu", "capacity_tokens": 200_000}]}])
def test_one_class_written_out_predicts_exactly_the_version_one_workload(extra):
    v1 = {"workload": {"arrival_rate": 2, "turns_mean": 6, "think_time_s": 30, "user_tokens": 120,
                       "output_tokens": 300, "system_prompt_tokens": 900}, "cache": {"capacity_tokens": 80_000}, **extra}
    classes = {"workload": {"arrival_rate": 2, "prefixes": [{"name": "system", "tokens": 900}],
                            "classes": [{"name": "default", "prefix": ["system"],
                                         "turns": {"dist": "geometric", "mean": 6},
                                         "think_time_s": {"dist": "exponential", "mean": 30},
                                         "user_tokens": 120, "output_tokens": 300}]},
               "cache": {"capacity_tokens": 80_000}, **extra}
    a, b = api.predict(v1, with_advice=False), api.predict(classes, with_advice=False)
    for key in ("token_hit_rate", "request_hit_rate", "ceiling_token_hit_rate", "characteristic_time_s"):
        assert a[key] == pytest.approx(b[key], rel=1e-12), key


def run(scenario, seed=1, requests=20_000, block_engine=False):
    sim = Simulation(parse_scenario(scenario), seed, requests, block_engine=block_engine)
    while not sim.step():
        pass
    return sim.result()


@pytest.mark.parametrize("admission", ["engine", "trace_replay"])
@pytest.mark.parametrize("cluster", [{}, {"cluster": {"replicas": 3, "routing": "random"}}])
def test_the_run_engine_is_the_block_engine_request_for_request(admission, cluster):
    s = {**MIXED, **cluster, "cache": {**MIXED["cache"], "admission": admission}}
    if cluster:
        s["workload"] = {**MIXED["workload"], "arrival_rate": 3.0}
    assert run(s, 4, 6_000) == run(s, 4, 6_000, block_engine=True)


def test_a_generated_trace_replays_as_the_simulation_of_its_traffic():
    s = {**MIXED, "cache": {**MIXED["cache"], "admission": "trace_replay"}}
    sim = Simulation(parse_scenario(s), 3, 5_000)
    while not sim.step():
        pass
    result = sim.result()
    warm, end = sim.plan.warmup_s, sim.plan.warmup_s + sim.plan.window_s
    records = synthetic_trace(s, end, seed=3)
    requests = [Request(r["timestamp"] / 1000.0, r["input_length"], r["output_length"], r["hash_ids"], i)
                for i, r in enumerate(records)]
    point = replay_requests(requests, 32, [60_000], window=(warm, end))["points"][0]
    assert point["token_hit_rate"] == pytest.approx(result["token_hit_rate"], abs=1e-12)


CHECKED = {
    "mixed classes, small cache": MIXED,
    "tenant catalog, heavy tails": {
        "workload": {"arrival_rate": 2.0,
                     "prefixes": [{"name": "tenants", "tokens": 1200, "count": 40, "zipf": 1.0}],
                     "classes": [{"name": "chat", "prefix": ["tenants"], "turns": {"dist": "geometric", "mean": 4},
                                  "think_time_s": {"dist": "lognormal", "median": 15, "sigma": 1.4},
                                  "user_tokens": {"dist": "lognormal", "median": 200, "sigma": 1.3},
                                  "output_tokens": {"dist": "lognormal", "median": 120, "sigma": 1.0}},
                                 {"name": "oneshot", "prefix": ["tenants"], "turns": 1,
                                  "user_tokens": {"dist": "empirical", "quantiles": [50, 200, 800, 3000, 9000]},
                                  "output_tokens": 80}]},
        "cache": {"block_size": 16, "capacity_tokens": 400_000, "admission": "trace_replay"}},
    "document questions": {
        "workload": {"arrival_rate": 0.5,
                     "prefixes": [{"name": "sys", "tokens": 400}],
                     "classes": [{"name": "docqa", "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 6},
                                  "think_time_s": {"dist": "gamma", "mean": 30, "shape": 0.8},
                                  "context_tokens": {"dist": "gamma", "mean": 3000, "shape": 3},
                                  "user_tokens": 50, "output_tokens": 200, "follow_ups": {"branch": 1}}]},
        "cache": {"block_size": 16, "capacity_tokens": 150_000}},
}


@pytest.mark.parametrize("name", list(CHECKED))
def test_the_closed_form_agrees_with_the_simulation_on_mixed_traffic(name):
    s = CHECKED[name]
    sim = run(s, 1, 40_000)
    pred = api.predict(s, with_advice=False)
    for key in ("token_hit_rate", "request_hit_rate"):
        assert abs(sim[key] - pred[key]) <= 2 * sim[key + "_ci"] + 0.015, (key, sim[key], sim[key + "_ci"], pred[key])
    for got, want in zip(pred["classes"], sim["classes"]):
        assert got["name"] == want["name"]
        assert abs(got["token_hit_rate"] - want["token_hit_rate"]) <= 2 * want["token_hit_rate_ci"] + 0.02, got["name"]


def test_the_page_calls_work_on_mixed_traffic():
    s = {**MIXED, "tiers": [{"name": "cpu", "capacity_tokens": 100_000}], "cluster": {"replicas": 2}}
    out = api.analyze(s)
    assert [c["name"] for c in out["predict"]["classes"]] == ["chat", "rag", "agent"]
    assert all(math.isfinite(c["token_hit_rate"]) for c in out["predict"]["classes"])
    rates = {p["value"]: p["token_hit_rate"] for p in out["sweeps"][0]["points"]}
    assert out["sweeps"][0]["path"] == "workload.arrival_rate" and len(rates) >= 5
    user = next(sw for sw in out["sweeps"] if sw["path"] == "workload.user_tokens")
    assert user["current"] == pytest.approx(0.5 * 80 * math.exp(0.32) + 0.25 * 60 + 0.25 * 250, rel=1e-6)
    assert {r["routing"] for r in out["routing"]["rows"]} == {"affinity", "random", "round_robin", "least_loaded"}
    json.dumps(api.finite_json(out), allow_nan=False)
    # more traffic per class means a lower hit rate: the sweep scaled every class
    lo, hi = min(rates), max(rates)
    assert rates[lo] > rates[hi]
    think = sweep(parse_scenario(s), "workload.think_time_s", points=3)
    assert think["points"][0]["token_hit_rate"] > think["points"][-1]["token_hit_rate"]


def test_aiperf_traces_cannot_hold_branching_conversations():
    with pytest.raises(ValueError, match="AIPerf session continues"):
        synthetic_trace(MIXED, 100, fmt="aiperf")


def test_a_prediction_does_not_depend_on_what_was_predicted_before():
    # the strata's pairings are drawn once per process and extended as scenarios need more: the i-th
    # pairing must be the same however the pool grew (a fresh interpreter gives the same answer)
    short = {"workload": {"classes": [{"name": "a", "turns": 2, "user_tokens": {"dist": "exponential", "mean": 90}}]},
             "cache": {"capacity_tokens": 60_000}}
    long = {"workload": {"classes": [{"name": "b", "turns": {"dist": "geometric", "mean": 30},
                                      "think_time_s": {"dist": "lognormal", "median": 5, "sigma": 1},
                                      "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 1}}]},
            "cache": {"capacity_tokens": 400_000}}
    turns._PERMUTATIONS.clear()   # this process's pairings start now: the short scenario draws the first few
    api.predict(short, with_advice=False)
    here = api.predict(long, with_advice=False)["token_hit_rate"]
    code = ("import json, sys; from kvcache_calc.api import predict; "
            "print(repr(predict(json.loads(sys.argv[1]), with_advice=False)['token_hit_rate']))")
    fresh = subprocess.run([sys.executable, "-c", code, json.dumps(long)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "py")}, timeout=120).stdout
    assert float(fresh) == here
