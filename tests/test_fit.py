"""Fit: recover a known workload's structure from generated traces (with and without conversation ids),
and the fitted scenario tracks the replayed curve."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvcache_calc.api import handle, predict
from kvcache_calc.fit import fit, fit_details
from kvcache_calc.replay import replay
from kvcache_calc.traffic.distributions import dist_from_json
from kvcache_calc.traffic.records import synthetic_trace, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py")}
KNOWN = {"cache": {"block_size": 64},
         "workload": {"arrival_rate": 0.6,
                      "prefixes": [{"name": "system", "tokens": 640}],
                      "classes": [
                          {"name": "chat", "share": 3, "prefix": ["system"], "turns": {"dist": "geometric", "mean": 5},
                           "think_time_s": {"dist": "lognormal", "median": 30, "sigma": 0.8},
                           # a first turn under one block past the prompt would share only the prompt with its
                           # follow-up in a Mooncake trace (the partial block's hash changes): no link to find
                           "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 0.5}, "output_tokens": 150},
                          {"name": "docqa", "share": 1, "prefix": ["system"], "turns": 4,
                           "think_time_s": {"dist": "exponential", "mean": 40},
                           "context_tokens": {"dist": "gamma", "mean": 3000, "shape": 4}, "user_tokens": 60,
                           "output_tokens": 200, "follow_ups": {"branch": 1}},
                          {"name": "single", "share": 2, "prefix": ["system"], "turns": 1,
                           "user_tokens": {"dist": "lognormal", "median": 800, "sigma": 1.0}, "output_tokens": 100}]}}


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    base = tmp_path_factory.mktemp("fit")
    out = {}
    for fmt in ("mooncake", "bailian"):
        out[fmt] = base / f"{fmt}.jsonl"
        write_jsonl(synthetic_trace(KNOWN, 2500, seed=3, fmt=fmt, warmup_s=2400), out[fmt])
    return out


def test_fit_finds_the_prefix_the_classes_and_their_laws(traces):
    d = fit_details(traces["mooncake"])
    s = d["scenario"]
    assert s["cache"] == {"block_size": 64, "admission": "trace_replay"}
    w = s["workload"]
    assert w["prefixes"] == [{"name": "system", "tokens": 640}]
    by = {c["name"]: c for c in w["classes"]}
    assert set(by) == {"one-shot", "chat", "doc-qa"}
    # shares: chat 3/6; single 2/6 plus the chats of one turn (1/5 of them); docqa 1/6
    assert by["chat"]["share"] == pytest.approx(0.5 * 0.8, abs=0.05)
    assert by["one-shot"]["share"] == pytest.approx(2 / 6 + 0.5 * 0.2, abs=0.05)
    assert by["doc-qa"]["share"] == pytest.approx(1 / 6, abs=0.04)
    assert by["doc-qa"]["follow_ups"] == {"branch": 1.0}
    # 4 turns each: the conversations the window's edges cut (or show under way) are left out of the fit
    assert by["doc-qa"]["turns"] == 4
    assert by["chat"]["follow_ups"]["continue"] > 0.95
    assert w["arrival_rate"] == pytest.approx(0.6, rel=0.1)
    assert d["conversations"] + d["follow_ups"] == d["requests"]
    predict(s)  # a valid scenario


@pytest.mark.parametrize("fmt", ["mooncake", "bailian"])
def test_fitted_scenario_tracks_the_replayed_curve(traces, fmt):
    path = traces[fmt]
    s = fit(path)
    unique = replay(path, 64)["stats"]["unique_blocks"]
    caps = [int(unique * f) * 64 for f in (0.02, 0.1, 0.3, 1.0)]
    for point in replay(path, 64, caps)["points"]:
        model = predict({**s, "cache": {**s["cache"], "capacity_tokens": point["capacity_tokens"]}},
                        with_advice=False)
        assert abs(model["token_hit_rate"] - point["token_hit_rate"]) < 0.03, (fmt, point)


def test_bailian_ids_link_every_turn_to_its_conversation(traces):
    d = fit_details(traces["bailian"])
    records = [json.loads(line) for line in open(traces["bailian"])]
    roots = sum(1 for r in records if r["parent_chat_id"] == -1)
    assert d["format"] == "bailian" and d["conversations"] == roots
    assert d["block_size"] == 64   # inferred from the ids: prompts of n ids hold at most n x 64 tokens


def test_aiperf_sessions_are_read_and_fitted(tmp_path):
    scenario = {"cache": {"block_size": 512},
                "workload": {"arrival_rate": 0.5, "prefixes": [{"name": "system", "tokens": 1024}],
                             "classes": [{"name": "chat", "prefix": ["system"], "turns": {"dist": "geometric", "mean": 4},
                                          "think_time_s": {"dist": "exponential", "mean": 20},
                                          "user_tokens": 300, "output_tokens": 200}]}}
    records = synthetic_trace(scenario, 3000, seed=5, fmt="aiperf")
    assert "delay" in records[1] or any("delay" in r for r in records)
    path = tmp_path / "aiperf.jsonl"
    write_jsonl(records, path)
    d = fit_details(path)
    assert d["conversations"] == sum(1 for r in records if "timestamp" in r)
    # the same traffic as the Mooncake records of the same seed: the replays agree exactly
    write_jsonl(synthetic_trace(scenario, 3000, seed=5), tmp_path / "mooncake.jsonl")
    a = replay(path, 512, [200_000])["points"][0]
    b = replay(tmp_path / "mooncake.jsonl", 512, [200_000])["points"][0]
    assert a["token_hit_rate"] == pytest.approx(b["token_hit_rate"], abs=1e-12)
    chat = d["scenario"]["workload"]["classes"]
    assert {c["name"] for c in chat} <= {"chat", "one-shot"}


def test_agent_loops_and_people_are_split_by_pace_and_long_histories_are_not_shared_prefixes(tmp_path):
    # agents: 30 quick turns each (every history block is held by 30 requests, yet only its own
    # conversation's); people: a few slow turns. Same prompt, same follow-ups: only the pace differs.
    scenario = {"cache": {"block_size": 64},
                "workload": {"arrival_rate": 0.3, "prefixes": [{"name": "tools", "tokens": 2048}],
                             "classes": [
                                 {"name": "a", "share": 1, "prefix": ["tools"], "turns": 30,
                                  "think_time_s": {"dist": "gamma", "mean": 3, "shape": 3},
                                  "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 0.5}, "output_tokens": 100},
                                 {"name": "p", "share": 1, "prefix": ["tools"], "turns": 4,
                                  "think_time_s": {"dist": "exponential", "mean": 90},
                                  "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 0.5}, "output_tokens": 100}]}}
    path = tmp_path / "agents.jsonl"
    write_jsonl(synthetic_trace(scenario, 3000, seed=4, warmup_s=1000), path)
    w = fit(path)["workload"]
    assert w["prefixes"] == [{"name": "system", "tokens": 2048}]   # the trace has no names
    by = {c["name"]: c for c in w["classes"]}
    assert set(by) == {"agent", "chat"}
    # a person's conversation whose gaps all happen to be short passes for an agent's (about 6%); a few
    # of the slowest run past the trace's end
    for name, turns in (("agent", 30), ("chat", 4)):
        law = by[name]["turns"]
        assert dict(zip(law["values"], law["weights"]))[turns] > 0.9
    assert by["agent"]["share"] == pytest.approx(0.5, abs=0.05)
    assert dist_from_json(by["agent"]["think_time_s"], "t", "seconds").mean == pytest.approx(3, rel=0.15)
    assert dist_from_json(by["chat"]["think_time_s"], "t", "seconds").mean == pytest.approx(90, rel=0.2)


def test_a_line_in_another_format_is_an_error_naming_it(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"timestamp": 0, "input_length": 100, "output_length": 5, "hash_ids": [1]}) + "\n"
                    + json.dumps({"chat_id": 1, "parent_chat_id": -1, "timestamp": 1, "input_length": 100,
                                  "output_length": 5, "turn": 1, "type": "text", "hash_ids": [1]}) + "\n")
    with pytest.raises(ValueError, match="line 2: has chat_id"):
        fit(path)
    with pytest.raises(ValueError, match="line 2"):
        replay(path)


def test_aiperf_lines_that_cannot_be_placed_are_skipped_with_their_reason(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [{"session_id": "a", "timestamp": 0, "input_length": 600, "output_length": 10, "hash_ids": [1, 2]},
             {"session_id": "b", "input_length": 600, "output_length": 10, "hash_ids": [1, 3]},
             {"delay": 5, "input_length": 100, "output_length": 10, "hash_ids": [4]},
             {"session_id": "a", "delay": 1000, "input_length": 100, "output_length": 10}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = replay(path, 512)
    messages = out["skipped"]["messages"]
    assert out["skipped"]["count"] == 2
    assert messages[0].startswith("line 2: timestamp: missing on the first turn of session 'b'")
    assert messages[1].startswith("line 3: delay: only allowed with session_id")
    assert out["stats"]["requests"] == 2


def test_fit_through_the_api_and_cli(traces):
    path = traces["mooncake"]
    reply = json.loads(handle("fit", json.dumps({"path": str(path)})))
    assert reply["ok"] and reply["result"]["version"] == 1
    out = subprocess.run([sys.executable, "-m", "kvcache_calc", "fit", str(path), "--json"],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == reply["result"]
    table = subprocess.run([sys.executable, "-m", "kvcache_calc", "fit", str(path)],
                           capture_output=True, text=True, env=ENV, timeout=120)
    assert table.returncode == 0 and "class chat" in table.stdout and "prefix system" in table.stdout
