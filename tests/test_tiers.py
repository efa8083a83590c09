"""Offload tiers: the tiered cache, its identities, and model vs simulation per tier."""

import random

import pytest

from kvcache_calc import api
from kvcache_calc.cache import LRUCache, TieredLRU
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.simulate import Simulation, simulate_scenario

WORKLOAD = {"arrival_rate": 2, "turns_mean": 5, "think_time_s": 10.0, "user_tokens": 60,
            "output_tokens": 100, "system_prompt_tokens": 500}


def tiered(gpu_blocks, tiers, policy="exclusive", block_size=16, **workload):
    return {"workload": {**WORKLOAD, **workload},
            "cache": {"capacity_tokens": gpu_blocks * block_size, "block_size": block_size},
            "tiers": [{"name": f"t{i}", "capacity_tokens": blocks * block_size, "read_gb_per_s": 10}
                      for i, blocks in enumerate(tiers)],
            "tiers_policy": policy}


def random_requests(seed, count=3000):
    """Prefix-chained block lists: a few conversations growing, plus a shared head."""
    rng = random.Random(seed)
    lengths = {}
    for _ in range(count):
        conv = rng.randrange(40)
        lengths[conv] = lengths.get(conv, 0) + rng.randint(1, 6)
        yield [("s", 0), ("s", 1)] + [(conv, i) for i in range(lengths[conv])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exclusive_two_tier_lru_is_one_lru_of_the_summed_size(seed):
    tiers, one, gpu_alone = TieredLRU([50, 120]), LRUCache(170), LRUCache(50)
    for blocks in random_requests(seed):
        assert tiers.cached_prefix(blocks) == one.cached_prefix(blocks)
        assert tiers.prefix_by_tier(blocks)[0] == gpu_alone.cached_prefix(blocks)
        for cache in (tiers, one, gpu_alone):
            cache.admit(blocks)
        assert set(tiers.levels[0]._order) | set(tiers.levels[1]._order) == set(one._order)
        assert not set(tiers.levels[0]._order) & set(tiers.levels[1]._order)
        assert list(tiers.levels[0]._order) == list(gpu_alone._order)


def test_inclusive_tiers_are_independent_lrus_each_holding_the_gpus_blocks():
    tiers, big = TieredLRU([50, 200], exclusive=False), LRUCache(200)
    for blocks in random_requests(4):
        assert tiers.cached_prefix(blocks) == big.cached_prefix(blocks)
        tiers.admit(blocks)
        big.admit(blocks)
        assert set(tiers.levels[0]._order) <= set(tiers.levels[1]._order)


@pytest.mark.parametrize("policy", ["exclusive", "inclusive"])
def test_simulated_tiers_equal_the_block_engine_with_a_real_tiered_cache(policy):
    s = parse_scenario(tiered(150, [300], policy) if policy == "exclusive" else tiered(150, [450], policy))
    fast, blocks = Simulation(s, seed=5, requests=3_000), Simulation(s, seed=5, requests=3_000, block_engine=True)
    while not fast.step():
        pass
    while not blocks.step():
        pass
    assert fast.result() == blocks.result()


def test_exclusive_tiers_predict_like_one_cache_of_the_summed_size():
    with_tier = api.predict(tiered(150, [300]), with_advice=False)
    summed = api.predict({"workload": WORKLOAD, "cache": {"capacity_tokens": 450 * 16}}, with_advice=False)
    gpu_only = api.predict({"workload": WORKLOAD, "cache": {"capacity_tokens": 150 * 16}}, with_advice=False)
    assert with_tier["token_hit_rate"] == pytest.approx(summed["token_hit_rate"], abs=1e-12)
    assert with_tier["tier_token_hit_rates"]["gpu"] == pytest.approx(gpu_only["token_hit_rate"], abs=1e-12)
    assert sum(with_tier["tier_token_hit_rates"].values()) == pytest.approx(with_tier["token_hit_rate"], abs=1e-12)
    assert sum(with_tier["tier_request_hit_rates"].values()) == pytest.approx(with_tier["request_hit_rate"], abs=1e-12)
    assert [t["name"] for t in with_tier["tiers"]] == ["gpu", "t0"]
    # an idle block stays on the GPU as long as in the GPU-only cache, and below it as long as in the summed one
    gpu_row, tier_row = with_tier["tiers"]
    assert gpu_row["characteristic_time_s"] == pytest.approx(gpu_only["characteristic_time_s"], rel=1e-12)
    assert tier_row["characteristic_time_s"] == pytest.approx(summed["characteristic_time_s"], rel=1e-12)
    assert tier_row["characteristic_time_s"] > gpu_row["characteristic_time_s"]


GRID = {
    "exclusive cpu tier": tiered(150, [300]),
    "exclusive cpu + ssd": tiered(100, [150, 400]),
    "inclusive cpu tier": tiered(150, [600], "inclusive"),
    "fixed think, exclusive": tiered(200, [300], think_dist="fixed", think_time_s=12.0),
}


@pytest.mark.parametrize("name", list(GRID))
def test_model_agrees_with_the_simulation_tier_by_tier(name):
    sim = simulate_scenario(parse_scenario(GRID[name]), seed=1, requests=30_000)
    pred = api.predict(GRID[name], with_advice=False)
    for key in ("token_hit_rate", "request_hit_rate"):
        assert abs(sim[key] - pred[key]) <= 2 * sim[key + "_ci"] + 0.005, (key, sim[key], pred[key])
    gpu_sim, gpu_pred = sim["tier_token_hit_rates"]["gpu"], pred["tier_token_hit_rates"]["gpu"]
    assert abs(gpu_sim - gpu_pred) <= 2 * sim["gpu_token_hit_rate_ci"] + 0.005, (gpu_sim, gpu_pred)
    for tier, value in pred["tier_token_hit_rates"].items():
        assert abs(sim["tier_token_hit_rates"][tier] - value) <= 0.015, (tier, sim["tier_token_hit_rates"], value)


def test_gb_tiers_use_the_models_kv_bytes_per_token():
    r = api.predict({"tiers": [{"name": "cpu", "capacity_gb": 100}]}, with_advice=False)
    cpu = r["tiers"][1]
    assert cpu["capacity_tokens"] == int(100e9 // r["kv_bytes_per_token"])
    assert cpu["read_gb_per_s"] == 50.0 and cpu["load_pays"] is True
    assert cpu["capacity_gb"] == pytest.approx(100, rel=1e-5)


@pytest.mark.parametrize("tiers, policy, message", [
    ([{"name": "cpu", "capacity_gb": -5}], None, "tiers.0.capacity_gb: -5 is not allowed; expected a number > 0"),
    ([{"name": "cpu"}], None, "tiers.0.capacity_gb: give exactly one of capacity_gb and capacity_tokens"),
    ([{"name": "cpu", "capacity_gb": 1, "capacity_tokens": 10}], None, "tiers.0.capacity_gb: give exactly one"),
    ([{"name": "CPU<b>", "capacity_gb": 1}], None, 'tiers.0.name: "CPU<b>" is not allowed'),
    ([{"name": "pmem", "capacity_gb": 1}], None, "tiers.0.read_gb_per_s: required for a tier named"),
    ([{"name": "cpu", "capacity_gb": 1}, {"name": "cpu", "capacity_gb": 2}], None, "tiers.1.name"),
    ([{"name": "cpu", "capacity_gb": 1, "speed": 3}], None, "tiers.0.speed: unknown key"),
    ([{"name": f"t{i}", "capacity_gb": 1, "read_gb_per_s": 1} for i in range(4)], None, "tiers: "),
    ("cpu", None, 'tiers: "cpu" is not allowed'),
    ([{"name": "cpu", "capacity_gb": 10}], "inclusive", "tiers.0.capacity_gb: 10.0 is not allowed; an inclusive tier"),
    ([{"name": "cpu", "capacity_gb": 100}], "both", 'tiers_policy: "both" is not allowed'),
])
def test_bad_tiers_are_explained_not_computed(tiers, policy, message):
    scenario = {"tiers": tiers, **({"tiers_policy": policy} if policy else {})}
    with pytest.raises(ValueError) as err:
        api.predict(scenario)
    assert str(err.value).startswith(message), str(err.value)


def test_gb_tier_without_a_model_asks_for_tokens():
    with pytest.raises(ValueError, match="tiers.0.capacity_gb: sizing a tier in GB needs"):
        api.predict({"cache": {"capacity_tokens": 10_000}, "tiers": [{"name": "cpu", "capacity_gb": 10}]})


def test_tiers_simulate_with_lru_only():
    with pytest.raises(ValueError, match='cache.policy: "fifo" is not allowed with tiers'):
        api.simulate({**tiered(100, [100]), "cache": {"capacity_tokens": 1600, "policy": "fifo"}})


def test_tier_curve_rises_from_the_gpu_alone():
    curve = api.analyze({"tiers": [{"name": "cpu", "capacity_gb": 100}]})["tier_curve"]
    rates = [p["token_hit_rate"] for p in curve["points"]]
    assert curve["x_unit"] == "GB" and curve["points"][0]["x"] == 0
    assert all(b >= a - 1e-12 for a, b in zip(rates, rates[1:])) and rates[-1] > rates[0] + 0.2
    gpu = api.predict({}, with_advice=False)["token_hit_rate"]
    assert curve["points"][0]["token_hit_rate"] == pytest.approx(gpu, abs=1e-12)
    assert curve["current"]["x"] == 100


def test_an_inclusive_tier_the_gpu_outgrows_in_a_what_if_adds_nothing_there():
    # the scenario is valid; sweeps, swings and the advisor's solve move the GPU cache past the tier
    scenario = {"tiers": [{"name": "cpu", "capacity_gb": 100}], "tiers_policy": "inclusive"}
    panel = api.analyze(scenario)
    assert api.predict(scenario)["advice"]
    tier_only = panel["predict"]["token_hit_rate"]  # the GPU's blocks are all in the tier: an LRU of its size
    plain = {p["x"]: p["token_hit_rate"] for p in api.analyze({})["memory_curve"]["points"]}
    points = panel["memory_curve"]["points"]
    for point in points:  # past the tier, it holds a subset of the GPU's blocks: the GPU alone
        assert point["token_hit_rate"] == pytest.approx(max(tier_only, plain[point["x"]]), abs=1e-12)
    assert plain[points[0]["x"]] < tier_only < plain[points[-1]["x"]]  # both sides occur
