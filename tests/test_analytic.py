"""The closed form against tests/reference_sim.py, an independent block-level LRU simulation.

Scenarios cover a cache of a few hundred blocks, few conversations, fixed think times and long
conversations. The model's goal is 1.5 points at worst (docs/accuracy.md has the full grid).
"""

import pytest

from kvcache_calc.analytic import LruModel
from kvcache_calc.api import predict
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.resolve import traffic_of
from reference_sim import simulate_lru

TOLERANCE = 0.015

CASES = {
    "small cache (400 blocks)": (dict(arrival_rate=2, turns_mean=5, turns_dist="geometric", think_time_s=10.0,
                                      think_dist="exponential", user_tokens=60, output_tokens=100,
                                      system_prompt_tokens=500), 16, 400 * 16, 5000, 300),
    "medium cache": (dict(arrival_rate=1, turns_mean=4, turns_dist="geometric", think_time_s=30.0,
                          think_dist="exponential", user_tokens=100, output_tokens=200,
                          system_prompt_tokens=1000), 16, 2000 * 16, 6000, 600),
    "fixed think time near T": (dict(arrival_rate=2, turns_mean=6, turns_dist="fixed", think_time_s=20.0,
                                     think_dist="fixed", user_tokens=50, output_tokens=150,
                                     system_prompt_tokens=200), 16, 2600 * 16, 3500, 500),
    "long conversations": (dict(arrival_rate=1, turns_mean=20, turns_dist="fixed", think_time_s=5.0,
                                think_dist="exponential", user_tokens=30, output_tokens=60,
                                system_prompt_tokens=0), 16, 1500 * 16, 2500, 400),
    "few conversations in cache": (dict(arrival_rate=0.5, turns_mean=6, turns_dist="geometric", think_time_s=5.0,
                                        think_dist="exponential", user_tokens=200, output_tokens=200,
                                        system_prompt_tokens=300), 32, 150 * 32, 12000, 300),
}


@pytest.mark.parametrize("name", list(CASES))
def test_prediction_matches_block_level_simulation(name):
    workload, block, capacity, duration, warmup = CASES[name]
    sim = simulate_lru(workload, block, capacity, duration_s=duration, warmup_s=warmup, seed=1)
    got = predict({"workload": workload, "cache": {"block_size": block, "capacity_tokens": capacity}})
    assert got["token_hit_rate"] == pytest.approx(sim["token_hit_rate"], abs=TOLERANCE)
    assert got["request_hit_rate"] == pytest.approx(sim["request_hit_rate"], abs=TOLERANCE)


def test_huge_cache_reaches_the_ceiling():
    w = dict(arrival_rate=1, turns_mean=5, think_time_s=30.0, user_tokens=100, output_tokens=200,
             system_prompt_tokens=1000)
    r = predict({"workload": w, "cache": {"capacity_tokens": 10**9}})
    assert r["token_hit_rate"] == pytest.approx(r["ceiling_token_hit_rate"], abs=1e-9)
    assert r["request_hit_rate"] == pytest.approx(r["ceiling_request_hit_rate"], abs=1e-9)


def test_ceiling_counts_system_prompt_and_whole_histories():
    # Fixed 2 turns, S = 32, u = 16, o = 16, b = 16: prompts 48 and 80 tokens; the second reuses
    # 64 (2 shared + 2 history blocks), the first 32 (the system prompt): ceiling = 96 / 128.
    w = dict(arrival_rate=1, turns_mean=2, turns_dist="fixed", think_time_s=1.0, user_tokens=16,
             output_tokens=16, system_prompt_tokens=32)
    r = predict({"workload": w, "cache": {"capacity_tokens": 10**9}})
    assert r["ceiling_token_hit_rate"] == pytest.approx(96 / 128)
    assert r["ceiling_request_hit_rate"] == pytest.approx(0.5)


def test_replicas_with_affinity_equal_one_replica_at_a_share_of_the_load():
    w = dict(arrival_rate=4, turns_mean=5, think_time_s=30.0, user_tokens=100, output_tokens=200)
    four = predict({"workload": w, "cache": {"capacity_tokens": 50_000}, "cluster": {"replicas": 4}})
    one = predict({"workload": {**w, "arrival_rate": 1}, "cache": {"capacity_tokens": 50_000}})
    assert four["token_hit_rate"] == pytest.approx(one["token_hit_rate"], abs=1e-12)
    assert four["derived_qps"] == pytest.approx(4 * one["derived_qps"])


@pytest.mark.parametrize("gap_s", [0.5, 5.0, 30.0, 120.0, 600.0])
def test_history_hits_is_survival_stats_summed_over_the_groups(gap_s):
    # the model's hot loop inlines survival_stats; it must stay the same arithmetic (a group finds at
    # most its own n blocks, of which only the kept share)
    model = LruModel(traffic_of(parse_scenario({})), 3000, 1.0)
    d = model.other_blocks(gap_s)
    assert d.k > 0.0  # the gamma branch, not the point mass
    groups = model.groups[0]
    for room in (-3.0, 0.0, 40.0, 400.0, float(model.rooms[0]), 5000.0):
        base, _ = d.survival_stats(room)
        blocks = sum(w * min(d.keep * n, base - d.survival_stats(room - n)[0]) for w, n in groups)
        full = sum(w * d.survival_stats(room - n)[1] for w, n in groups)
        assert d.history_hits(room, groups) == pytest.approx((blocks, full), rel=1e-13, abs=1e-300)
