"""How few model evaluations the full panel (`analyze`) makes, and that the shortcuts behind that
answer exactly what the plain searches answer."""

import math

import pytest

from kvcache_calc import analytic, api, evaluate, sensitivity
from kvcache_calc.resolve import resolve
from kvcache_calc.scenario import parse_scenario

TWO_TIERS_RANDOM = {"tiers": [{"name": "cpu", "capacity_gb": 200}, {"name": "ssd", "capacity_gb": 2000}],
                    "cluster": {"replicas": 4, "routing": "random"}, "workload": {"arrival_rate": 1.7}}
THREE_CLASSES = {"workload": {"arrival_rate": 0.8, "prefixes": [{"name": "sys", "tokens": 900}],
                              "classes": [
                                  {"name": "chat", "share": 2, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 5},
                                   "think_time_s": {"dist": "lognormal", "median": 20, "sigma": 1},
                                   "user_tokens": 150, "output_tokens": 300},
                                  {"name": "agent", "share": 1, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 9},
                                   "think_time_s": {"dist": "gamma", "mean": 3, "shape": 2}, "user_tokens": 300,
                                   "output_tokens": 100},
                                  {"name": "batch", "share": 1, "prefix": [], "turns": 1, "user_tokens": 2000,
                                   "output_tokens": 50}]}}


def _evaluations(call) -> int:
    """Model evaluations a call makes from empty caches (each is one closed form at one cache size)."""
    for cached in (evaluate.lru_prediction, evaluate.blind_prediction):
        cached.cache_clear()
    call()
    return evaluate.lru_prediction.cache_info().misses + evaluate.blind_prediction.cache_info().misses


def _bisection_t(model: analytic.LruModel, view) -> float:
    """characteristic_time as plain bisection finds it (the search it replaced)."""
    target = view.room
    hi = 1.0
    while model.mean_other_blocks(hi, view) < target:
        hi *= 2.0
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if model.mean_other_blocks(mid, view) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("scenario", [{}, {"workload": {"think_time_s": 400, "arrival_rate": 3}},
                                      {"workload": {"think_dist": "fixed", "turns_dist": "fixed", "turns_mean": 4}},
                                      THREE_CLASSES])
def test_characteristic_time_is_where_bisection_puts_it_in_a_third_of_the_steps(scenario):
    r = resolve(parse_scenario(scenario))
    for blocks in (r.capacity.gpu_blocks, r.capacity.gpu_blocks // 7, r.capacity.gpu_blocks * 5):
        model = analytic.LruModel(r.traffic, blocks, r.replica_rate)
        for view in model.views:
            if view.room <= 0:   # the shared prefix alone fills the cache
                assert model.characteristic_time(view) == 0.0
                continue
            calls = []
            plain = model.mean_other_blocks
            model.mean_other_blocks = lambda t, v=None: calls.append(t) or plain(t, v)
            fast = model.characteristic_time(view)
            del model.mean_other_blocks
            reference = _bisection_t(model, view)
            assert math.isfinite(fast) and fast == pytest.approx(reference, rel=1e-11)
            doublings = math.ceil(math.log2(max(reference, 1.0))) + 1
            assert len(calls) <= doublings + 20   # bisection takes about 40 steps past the doubling


def _plain_solve(s, target: float, metric: str) -> int | None:
    """solve_capacity's answer by doubling and plain bisection (the search it replaced)."""
    b = s.cache.block_size
    current = evaluate.predict_scenario(s)
    if target >= current["ceiling_" + metric] - 1e-9:
        return None
    lo, hi = b, max(b, current["cache_capacity_tokens"])
    while sensitivity._rate_at_capacity(s, hi, metric) < target:
        lo, hi = hi, hi * 2
        if hi > sensitivity.SOLVE_MAX_TOKENS:
            return None
    while hi - lo > max(b, hi // 500):
        mid = (lo + hi) // 2
        if sensitivity._rate_at_capacity(s, mid, metric) >= target:
            hi = mid
        else:
            lo = mid
    return hi


@pytest.mark.parametrize("scenario", [{}, {"workload": {"think_time_s": 200}},
                                      {"cache": {"capacity_tokens": 60_000}}, THREE_CLASSES])
def test_solve_capacity_answers_what_plain_bisection_answers(scenario):
    s = parse_scenario(scenario)
    for metric in ("token_hit_rate", "request_hit_rate"):
        for target in (0.2, 0.45, 0.6, 0.75, 0.9):
            found = sensitivity.solve_capacity(s, target, metric)
            assert found["capacity_tokens"] == _plain_solve(s, target, metric), (metric, target)
            assert found["achievable"] is (found["capacity_tokens"] is not None)


def test_the_advisors_solve_takes_fewer_evaluations_than_bisection():
    s = parse_scenario({"workload": {"arrival_rate": 1.3}})
    target = 0.5 * (evaluate.predict_scenario(s)["token_hit_rate"] + evaluate.predict_scenario(s)["ceiling_token_hit_rate"])
    fast = _evaluations(lambda: sensitivity.solve_capacity(s, target))
    plain = _evaluations(lambda: _plain_solve(s, target, "token_hit_rate"))
    assert fast <= plain - 3


def test_a_target_random_routing_caps_below_is_given_up_after_a_few_sizes():
    s = parse_scenario(TWO_TIERS_RANDOM)
    current = evaluate.predict_scenario(s)
    target = 0.5 * (current["token_hit_rate"] + current["ceiling_token_hit_rate"])
    assert sensitivity._rate_at_capacity(s, 10**12, "token_hit_rate") < target  # the rate is capped below it
    calls = []
    rate = sensitivity._rate_at_capacity
    try:
        sensitivity._rate_at_capacity = lambda *a: calls.append(a[1]) or rate(*a)
        found = sensitivity.solve_capacity(s, target)
    finally:
        sensitivity._rate_at_capacity = rate
    assert found["achievable"] is False and found["capacity_tokens"] is None
    assert len(calls) <= 4   # doubling up to 10^13 tokens took 25


def test_panel_sweeps_hold_the_tornado_swings_and_agree_with_them():
    analysis = api.analyze({"workload": {"arrival_rate": 1.37}})
    sweeps = {sw["path"]: {p["value"]: p for p in sw["points"]} for sw in analysis["sweeps"]}
    shared = [bar for bar in analysis["tornado"]["bars"] if bar["path"] in sweeps]
    assert {bar["path"] for bar in shared} == {sw["path"] for sw in analysis["sweeps"] if sw["current"]}
    for bar in shared:
        low, high = sweeps[bar["path"]][bar["low_value"]], sweeps[bar["path"]][bar["high_value"]]
        assert low["token_hit_rate"] == bar["low_token_hit_rate"]
        assert high["token_hit_rate"] == bar["high_token_hit_rate"]
    for sw in analysis["sweeps"]:
        factors = [p["value"] / sw["current"] for p in sw["points"]]
        assert factors[0] == pytest.approx(0.25) and factors[-1] == pytest.approx(4.0)
        assert len(sw["points"]) == len(sensitivity.PANEL_FACTORS)


def test_the_tornado_evaluates_only_what_the_sweeps_did_not():
    s = parse_scenario({"workload": {"arrival_rate": 1.41}})
    for cached in (evaluate.lru_prediction, evaluate.blind_prediction):
        cached.cache_clear()
    for path in sensitivity.SWEEP_PATHS:
        sensitivity.sweep(s, path, factors=sensitivity.PANEL_FACTORS)
    before = evaluate.lru_prediction.cache_info().misses
    sensitivity.tornado(s)
    # only the fields that set the cache size (memory, its utilization) swing outside the sweeps
    assert evaluate.lru_prediction.cache_info().misses - before == 2 * (len(sensitivity.tornado_paths(s))
                                                                        - len(sensitivity.SWEEP_PATHS))


@pytest.mark.parametrize("scenario, budget", [({}, 75), (TWO_TIERS_RANDOM, 85), (THREE_CLASSES, 75)])
def test_the_panel_evaluates_the_model_within_its_budget(scenario, budget):
    # before: 88 for the default scenario, 201 with two tiers and prefix-blind routing
    assert _evaluations(lambda: api.analyze(scenario)) <= budget


def test_with_tiers_a_sweep_point_is_one_evaluation_and_the_gpu_level_comes_when_asked():
    s = parse_scenario({"tiers": [{"name": "cpu", "capacity_gb": 300}], "workload": {"arrival_rate": 1.9}})
    assert _evaluations(lambda: evaluate.hit_rates(s)) == 1
    plain = evaluate.hit_rates(s)
    assert "gpu_token_hit_rate" not in plain
    both = evaluate.hit_rates(s, with_gpu=True)
    full = evaluate.predict_scenario(s)
    assert both["gpu_token_hit_rate"] == full["tier_token_hit_rates"]["gpu"]
    assert both["token_hit_rate"] == plain["token_hit_rate"] == full["token_hit_rate"]
    assert both["request_hit_rate"] == full["request_hit_rate"]


def test_a_bad_model_section_is_refused_every_time_it_is_read():
    # the model spec is cached by its section: a refusal is not, so a second read refuses again
    for _ in range(2):
        with pytest.raises(ValueError, match="model.num_kv_heads"):
            parse_scenario({"model": {"num_layers": 4, "head_dim": 64}})


def test_tier_curve_of_the_panel_runs_every_2x_the_gpu_cache():
    analysis = api.analyze({"workload": {"arrival_rate": 1.43}})
    points = analysis["tier_curve"]["points"]
    gpu_gb = analysis["predict"]["cache_capacity_gib"] * 2**30 / 1e9
    assert len(points) == sensitivity.PANEL_TIER_POINTS == 9
    assert [p["x"] / gpu_gb for p in points] == pytest.approx([2.0 * i for i in range(9)])
