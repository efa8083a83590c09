"""Fit: recover a known workload from a generated trace; the closed form tracks the replayed curve."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvcache_calc.api import handle, predict
from kvcache_calc.fit import fit, fit_details, synthetic_trace, write_jsonl
from kvcache_calc.replay import replay_requests
from kvcache_calc.trace import Request, TraceFile

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py")}
# u + o and S + u are whole 512-token blocks, so prompts have no partial last block, and the
# output's 200 tokens would not fill a block: trace replay and the vLLM model then cache the same blocks
KNOWN = dict(arrival_rate=0.5, turns_mean=4.0, think_time_s=60.0, user_tokens=312, output_tokens=200,
             system_prompt_tokens=2248)
BUSY = dict(arrival_rate=1.0, turns_mean=6.0, think_time_s=30.0, user_tokens=112, output_tokens=400,
            system_prompt_tokens=1424)


@pytest.fixture(scope="module")
def known_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "known.jsonl"
    write_jsonl(synthetic_trace(**KNOWN, duration_s=3000, seed=11), path)
    return path


def test_fit_recovers_the_generating_parameters(known_trace):
    details = fit_details(known_trace, capacity_tokens=300_000)
    s = details["scenario"]
    assert s["version"] == 1 and s["cache"] == {"block_size": 512, "capacity_tokens": 300_000}
    w = s["workload"]
    assert w["turns_dist"] == "geometric" and w["think_dist"] == "exponential"
    for key in ("arrival_rate", "turns_mean", "think_time_s", "user_tokens", "output_tokens",
                "system_prompt_tokens"):
        assert w[key] == pytest.approx(KNOWN[key], rel=0.10), key
    assert details["shared_blocks"] == 4
    predict(s)  # a valid scenario for the calculator


@pytest.mark.parametrize("params, seed", [(KNOWN, 3), (BUSY, 5)])
def test_closed_form_is_within_3_points_of_the_replayed_curve(params, seed):
    duration, warmup = 4000.0, 600.0   # shorter traces leave the replay a few points of noise
    requests = [Request(r["timestamp"] / 1000, r["input_length"], r["output_length"], r["hash_ids"], i)
                for i, r in enumerate(synthetic_trace(**params, duration_s=duration, seed=seed))]
    caps = [50_000, 150_000, 300_000, 600_000, 1_000_000]
    # measured over the arrival window after warm-up: the model is a steady state
    out = replay_requests(requests, 512, caps, window=(warmup, duration))
    for point in out["points"]:
        model = predict({"cache": {"block_size": 512, "capacity_tokens": point["capacity_tokens"]},
                         "workload": params})
        assert abs(model["token_hit_rate"] - point["token_hit_rate"]) < 0.03, point


def test_fitted_scenario_predicts_the_replayed_curve(known_trace):
    scenario = fit(known_trace)
    requests = list(TraceFile(str(known_trace)).requests())
    caps = [100_000, 300_000, 1_000_000]
    out = replay_requests(requests, 512, caps, window=(600.0, 3000.0))
    for point in out["points"]:
        model = predict({**scenario, "cache": {**scenario["cache"], "capacity_tokens": point["capacity_tokens"]}})
        assert abs(model["token_hit_rate"] - point["token_hit_rate"]) < 0.03, point


def test_bailian_turns_are_linked_by_chat_id(tmp_path):
    rows, chat = [], 0
    for conv, start in enumerate([0.0, 10.0, 20.0, 30.0]):
        parent, length, t = -1, 100, start
        for turn in range(1, 3 + conv % 2):   # 2 or 3 turns
            chat += 1
            rows.append({"chat_id": chat, "parent_chat_id": parent, "timestamp": t, "input_length": length,
                         "output_length": 40, "type": "text", "turn": turn,
                         "hash_ids": list(range(conv * 100, conv * 100 + length // 16 + 1))})
            parent, length, t = chat, length + 40 + 60, t + 5.0
    rows.sort(key=lambda r: r["timestamp"])
    path = tmp_path / "b.jsonl"
    write_jsonl(rows, path)
    d = fit_details(path)
    w = d["scenario"]["workload"]
    assert d["conversations"] == 4 and d["scenario"]["cache"]["block_size"] == 16
    assert w["turns_mean"] == pytest.approx(10 / 4) and w["think_time_s"] == pytest.approx(5.0)
    assert w["arrival_rate"] == pytest.approx(3 / 30) and w["user_tokens"] == 60
    assert w["output_tokens"] == 40


def test_fit_through_the_api_and_cli(known_trace):
    reply = json.loads(handle("fit", json.dumps({"path": str(known_trace)})))
    assert reply["ok"] and reply["result"]["version"] == 1
    out = subprocess.run([sys.executable, "-m", "kvcache_calc", "fit", str(known_trace), "--json"],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == reply["result"]
    table = subprocess.run([sys.executable, "-m", "kvcache_calc", "fit", str(known_trace)],
                           capture_output=True, text=True, env=ENV, timeout=120)
    assert table.returncode == 0 and "conversations" in table.stdout and "arrival_rate" in table.stdout
