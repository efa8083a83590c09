"""Work bounded by physics, not by the inputs: long conversations, and every field at its maximum."""

import itertools
import json
import math

import pytest

from kvcache_calc import api, evaluate
from kvcache_calc.resolve import traffic_of
from kvcache_calc.scenario import parse_scenario
from kvcache_calc.schema import CLASS_FIELDS, FIELDS, GROUP_FIELDS, TIER_FIELDS
from kvcache_calc.traffic import resolved, turns
from kvcache_calc.traffic.generate import TrafficGenerator


def _at_maximum(field):
    return int(field.maximum) if field.kind == "int" else float(field.maximum)


def _maximum_cases():
    """(field path, scenario) with that one field at its schema maximum and defaults elsewhere."""
    for f in FIELDS:
        if f.kind in ("int", "float") and f.maximum is not None:
            section, key = f.path.split(".", 1)
            yield f.path, {section: {key: _at_maximum(f)}}
    for f in TIER_FIELDS:
        if f.kind in ("int", "float") and f.maximum is not None:
            key = f.key
            tier = {"name": "cpu"} if key == "capacity_tokens" else {"name": "cpu", "capacity_gb": 100.0}
            yield f.path, {"tiers": [{**tier, key: _at_maximum(f)}]}
    for f in GROUP_FIELDS:
        if f.kind in ("int", "float") and f.maximum is not None:
            group = {"name": "sys", "tokens": 1000, "count": 1000, f.key: _at_maximum(f)}
            yield f.path, {"workload": {"prefixes": [group], "classes": [{"name": "a", "prefix": ["sys"]}]}}
    for f in CLASS_FIELDS:
        if f.kind in ("int", "float") and f.maximum is not None:
            yield f.path, {"workload": {"classes": [{"name": "a", "prefix": [], f.key: _at_maximum(f)}]}}
    law = {"turns": {"dist": "geometric", "mean": 10_000}, "context_tokens": 10_000_000,
           "user_tokens": {"dist": "lognormal", "median": 10_000_000, "sigma": 3},
           "output_tokens": 10_000_000, "think_time_s": 10_000_000}
    for key, value in law.items():
        yield f"classes.{key}", {"workload": {"classes": [{"name": "a", "prefix": [], key: value}]}}


@pytest.mark.parametrize("path,scenario", list(_maximum_cases()), ids=lambda x: x if isinstance(x, str) else "")
def test_analyze_answers_with_any_one_field_at_its_maximum(path, scenario):
    reply = json.loads(api.handle("analyze", json.dumps({"scenario": scenario})))
    if reply["ok"]:
        assert reply["result"]["predict"]["token_hit_rate"] is not None
    else:
        assert reply["error"]["message"] and reply["error"]["field"]


def test_a_conversation_ends_before_the_prompt_the_engine_refuses():
    reply = api.predict({"workload": {"turns_mean": 10_000}}, with_advice=False)
    limit = reply["max_model_len"]
    warning = next(w for w in reply["warnings"] if w["code"] == "conversations_reach_context_limit")
    last = warning["params"]["turns"]
    # turn j's prompt: the 1000-token system prompt, j user turns of 200 and j - 1 outputs of 400
    assert 1000 + 200 * last + 400 * (last - 1) <= limit < 1000 + 200 * (last + 1) + 400 * last
    q = 1.0 - 1.0 / 10_000
    assert warning["params"]["share"] == pytest.approx(q ** last)
    assert reply["mean_turns"] == pytest.approx((1.0 - q ** last) / (1.0 - q))


def test_the_turn_count_past_the_context_limit_changes_nothing():
    at = [api.predict({"workload": {"turns_mean": t}}, with_advice=False) for t in (5_000, 10_000)]
    s = parse_scenario({"workload": {"turns_mean": 10_000}})
    assert len(traffic_of(s).classes[0].table.reach) < 250
    last = [next(w["params"]["turns"] for w in r["warnings"] if w["code"] == "conversations_reach_context_limit")
            for r in at]
    assert last[0] == last[1]
    assert at[1]["mean_turns"] > at[0]["mean_turns"] > 200


def test_the_simulator_ends_conversations_where_the_model_does():
    s = parse_scenario({"hardware": {"max_model_len": 8192}, "workload": {
        "turns_mean": 1_000, "think_time_s": 1, "think_dist": "fixed", "arrival_rate": 0.05}})
    traffic = traffic_of(s)
    last_turn = len(traffic.classes[0].table.reach)
    requests = list(itertools.islice(TrafficGenerator(traffic, 0.05, seed=3), 3_000))
    assert max(r.prompt for r in requests) <= 8192
    ends = [r for r in requests if r.last]
    assert all(r.turn <= last_turn for r in requests)
    assert sum(r.turn == last_turn for r in ends) > 0.9 * len(ends) > 10


def _fresh_caches():
    for cached in (turns._table, resolved.build_traffic, evaluate.lru_prediction, evaluate.blind_prediction):
        cached.cache_clear()


def test_turns_past_the_table_share_its_last_row_exactly_when_conversations_stop_growing(monkeypatch):
    scenario = {"workload": {"classes": [{"name": "a", "prefix": [], "turns": {"dist": "geometric", "mean": 300},
                                          "think_time_s": 600, "follow_ups": {"branch": 1.0}}]},
                "cluster": {"replicas": 4}}
    _fresh_caches()
    lumped = api.predict(scenario, with_advice=False)
    assert len(traffic_of(parse_scenario(scenario)).classes[0].table.reach) == turns.MAX_TABLE_TURNS
    monkeypatch.setattr(turns, "MAX_TABLE_TURNS", 100_000)
    _fresh_caches()
    full = api.predict(scenario, with_advice=False)
    monkeypatch.undo()
    _fresh_caches()
    assert len(traffic_of(parse_scenario(scenario)).classes[0].table.reach) == turns.MAX_TABLE_TURNS
    for key in ("token_hit_rate", "request_hit_rate", "mean_turns", "cache_utilization", "prefill_gpus"):
        assert math.isclose(lumped[key], full[key], rel_tol=1e-9, abs_tol=1e-12), key
    assert not any(w["code"] == "long_conversations_capped" for w in lumped["warnings"])


def test_growing_conversations_past_the_table_are_flagged():
    reply = api.predict({"model": {}, "cache": {"capacity_tokens": 1_000_000}, "workload": {"turns_mean": 10_000}},
                        with_advice=False)
    warning = next(w for w in reply["warnings"] if w["code"] == "long_conversations_capped")
    q = 1.0 - 1.0 / 10_000
    assert warning["params"] == {"share": pytest.approx(q ** turns.MAX_TABLE_TURNS), "turns": turns.MAX_TABLE_TURNS}
    assert reply["mean_turns"] == pytest.approx(10_000, rel=1e-9)
