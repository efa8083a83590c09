"""The model's hot loops, rewritten for speed, against the plain calls and formulas they replaced."""

import math

import pytest

from kvcache_calc.analytic import LruModel, View
from kvcache_calc.blind_routing import GeneralBlindModel
from kvcache_calc.resolve import resolve
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.traffic.distributions import Gamma, LogNormal, gamma_p, gamma_p_pair
from kvcache_calc.traffic.resolved import build_traffic

CATALOG = {"cluster": {"replicas": 2}, "tiers": [{"name": "cpu", "capacity_gb": 100}],
           "workload": {"arrival_rate": 1.5,
                        "prefixes": [{"name": "sys", "tokens": 1200},
                                     {"name": "docs", "tokens": 2000, "count": 500, "zipf": 1.0}],
                        "classes": [
                            {"name": "chat", "share": 3, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 6},
                             "think_time_s": {"dist": "lognormal", "median": 20, "sigma": 1},
                             "user_tokens": {"dist": "lognormal", "median": 150, "sigma": 0.8},
                             "output_tokens": 300},
                            {"name": "rag", "share": 1, "prefix": ["sys", "docs"],
                             "turns": {"dist": "geometric", "mean": 2},
                             "think_time_s": {"dist": "exponential", "mean": 40}, "user_tokens": 100,
                             "output_tokens": 200},
                            {"name": "agent", "share": 1, "prefix": ["sys"], "turns": {"dist": "geometric", "mean": 15},
                             "think_time_s": {"dist": "gamma", "mean": 2, "shape": 2}, "context_tokens": 800,
                             "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 1.2},
                             "output_tokens": 100}]}}
NESTED = {"cache": {"capacity_tokens": 400000}, "workload": {"arrival_rate": 4,
                       "prefixes": [{"name": "tools", "tokens": 3000, "count": 4},
                                    {"name": "docs", "tokens": 6000, "count": 40, "zipf": 0.8}],
                       "classes": [{"name": "rag", "share": 1, "prefix": ["tools", "docs"],
                                    "turns": {"dist": "geometric", "mean": 3}, "think_time_s": 30,
                                    "user_tokens": 200, "output_tokens": 300},
                                   {"name": "tool", "share": 1, "prefix": ["tools"], "turns": 4,
                                    "think_time_s": {"dist": "gamma", "mean": 10, "shape": 0.5},
                                    "user_tokens": 100, "output_tokens": 100}]}}
AGES = [1e-18 * 4.0 ** i for i in range(30)] + [0.1 * 1.45 ** i for i in range(50)]


def _traffic(scenario: dict):
    r = resolve(parse_scenario(scenario))
    s = r.scenario
    return r, build_traffic(r.traffic.spec, s.cache.block_size, s.cache.admission)


def _node_views(model: LruModel):
    return [(View(model, ct, profile, level), model.traffic.kinds[kind].blocks)
            for ct in model.traffic.classes for profile in ct.profiles for level, kind in enumerate(ct.levels)]


@pytest.mark.parametrize("scenario", [CATALOG, NESTED])
@pytest.mark.parametrize("fraction", [0.02, 0.3, 1.0])
def test_node_hits_over_ages_are_the_plain_calls_to_the_last_bit(scenario, fraction):
    r, traffic = _traffic(scenario)
    model = LruModel(traffic, max(1, int(r.capacity.levels[-1] * fraction)), r.replica_rate)
    seen = {"gamma": 0, "point": 0, "flushed": 0}
    for view, size in _node_views(model):
        if model._empty_view(view) or view.room - size < 0:
            continue
        values, fits = model._node_found(view, AGES, size)
        for a, value, fit in zip(AGES, values, fits):
            d = model.other_blocks(a, view)
            assert (value, fit) == d.found_and_fit(view.room, size)
            seen["gamma" if d.k else "point"] += 1
            seen["flushed"] += d.keep != 1.0
    assert seen["gamma"] > 0 and seen["point"] > 0
    if fraction < 0.1:
        assert seen["flushed"] > 0   # a small cache: conversations bigger than the room flush it


def test_node_hits_of_the_textbook_che_form_are_the_plain_calls():
    r, traffic = _traffic(CATALOG)
    model = LruModel(traffic, r.capacity.levels[0], r.replica_rate, plain_che=True)
    for view, size in _node_views(model):
        if model._empty_view(view) or view.room - size < 0:
            continue
        values, fits = model._node_found(view, AGES[::7], size)
        assert list(zip(values, fits)) == [model.other_blocks(a, view).found_and_fit(view.room, size)
                                           for a in AGES[::7]]


@pytest.mark.parametrize("a", [0.3, 1.0, 2.0, 7.5, 28.0, 300.0, 9999.0])
def test_gamma_p_pair_is_p_at_a_and_at_a_plus_one(a):
    for e in range(-400, 401, 3):
        x = a * 10 ** (e / 100)
        lower, upper = gamma_p_pair(a, x)
        for got, want in ((lower, gamma_p(a, x)), (upper, gamma_p(a + 1.0, x))):
            # both take e^-x x^a / Γ(a) from logs of size a log x: about 1e-16 of that, relative
            assert abs(got - want) <= 1e-10 * want + 1e-300, (x, got, want)


def test_gamma_p_where_its_front_factor_underflows_is_its_limit():
    assert gamma_p(5.0, 2000.0) == 1.0 and gamma_p(800.0, 1e-3) == 0.0
    assert gamma_p_pair(5.0, 2000.0) == (1.0, 1.0) and gamma_p_pair(800.0, 1e-3) == (0.0, 0.0)
    # just inside the cut the long way already gives the limit to double precision
    assert gamma_p(5.0, 760.0) == 1.0 and gamma_p(300.0, 8.0) < 1e-300


@pytest.mark.parametrize("law", [Gamma(2.0, 2.0), Gamma(57.0, 0.4), Gamma(30.0, 28.0), Gamma(1.0, 9000.0),
                                 LogNormal(20.0, 1.0), LogNormal(0.3, 2.5), LogNormal(1e4, 0.05)])
def test_mean_min_in_one_pass_is_partial_mean_plus_the_tail(law):
    for e in range(-40, 31):
        t = law.mean * 10 ** (e / 10)
        want = law.partial_mean(t) + t * (1.0 - law.cdf(t))
        assert law.mean_min(t) == pytest.approx(want, rel=1e-11, abs=0.0)


def test_blind_window_sums_are_the_per_lag_sums_they_replaced():
    r, traffic = _traffic(CATALOG)
    model = GeneralBlindModel(traffic, r.capacity.levels[0], r.replica_rate, 3)
    for t in (0.5, 7.0, 60.0, 900.0, 4e4):
        got = model._window_sums(t)
        for lt, sums, row in zip(model.lag_tables, model.lag_sums, got):
            m = sums.mean_min(t)
            lat = [sum(a[i] * mg for a, mg in zip(lt.by_lag, m)) for i in range(5)]
            rest = [lt.total[i] - sum(a[i] for a in lt.by_lag) for i in range(5)]
            latest = [model.p * (lat[i] + t * rest[i]) for i in range(5)]
            dead = [model.p * sum(a[i] * (t - mg) for a, mg in zip(lt.by_lag, m)) for i in (5, 6, 7)]
            assert list(row) == [latest[0], *latest, *dead]
            assert math.isfinite(sum(row))


def _quantile_by_bisection_to_the_end(law: Gamma, v: float) -> float:
    """Gamma.quantile as it was: Newton inside a bracket, bisection whenever a step leaves it, to 1e-13."""
    k = law.shape
    x = k * max(1.0 - 1.0 / (9.0 * k), 0.3) ** 3
    lo, hi = 0.0, max(x, k)
    while gamma_p(k, hi) < v:
        lo, hi = hi, hi * 2.0
    for _ in range(400):
        f = gamma_p(k, x) - v
        if f > 0:
            hi = x
        else:
            lo = x
        pdf = math.exp(-x + (k - 1.0) * math.log(x) - math.lgamma(k))
        nxt = x - f / pdf if pdf > 0 else math.nan
        if not lo < nxt < hi:
            nxt = math.sqrt(lo * hi) if lo > 0 and hi > 4.0 * lo else 0.5 * (lo + hi)
        if abs(nxt - x) <= 1e-13 * x:
            return nxt * law.theta
        x = nxt
    raise AssertionError("no convergence")


@pytest.mark.parametrize("law", [Gamma(2.0, 2.0), Gamma(3.0, 0.5), Gamma(40.0, 28.0), Gamma(7.0, 300.0)])
def test_gamma_quantile_stopping_at_an_exact_root_is_where_bisection_ends(law):
    calls = 0

    def counted(a, x):
        nonlocal calls
        calls += 1
        return gamma_p(a, x)

    for i in range(1, 40):
        v = i / 40.0
        assert law.quantile(v) == pytest.approx(_quantile_by_bisection_to_the_end(law, v), rel=1e-12, abs=0.0)
    import kvcache_calc.traffic.distributions as distributions
    original = distributions.gamma_p
    distributions.gamma_p = counted
    try:
        for i in range(1, 40):
            law.quantile(i / 40.0)
    finally:
        distributions.gamma_p = original
    assert calls < 7 * 39   # Newton's few steps each (bisecting on from an exact root took up to 20 more)


def test_an_edit_of_a_prompt_size_keeps_the_tables_the_next_panel_needs():
    from kvcache_calc import api
    from kvcache_calc.traffic import turns

    def edited(sys_tokens: int, rate: float) -> dict:
        prefixes = [{**g, "tokens": sys_tokens} if g["name"] == "sys" else g for g in CATALOG["workload"]["prefixes"]]
        return {**CATALOG, "workload": {**CATALOG["workload"], "prefixes": prefixes, "arrival_rate": rate}}

    api.analyze(edited(1200, 1.5))
    api.analyze(edited(1300, 1.5))   # every sweep point's tables built anew
    built = turns._table.cache_info().misses
    api.analyze(edited(1200, 1.6))   # back to the first sizes at a new rate: a rate moves no table
    assert turns._table.cache_info().misses == built
