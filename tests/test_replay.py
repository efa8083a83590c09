"""Trace replay: the one-pass LRU curve equals a plain per-capacity OrderedDict replay, exactly."""

import gzip
import json
import os
import random
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

from kvcache_calc.cache import make_cache
from kvcache_calc.traffic.records import synthetic_trace as scenario_trace
from kvcache_calc.traffic.records import write_jsonl
from kvcache_calc.replay import REUSE_BINS, capacity_axis, lru_pass, replay, replay_requests
from kvcache_calc.trace import Request
from reference_sim import reference_lru

ROOT = Path(__file__).resolve().parents[1]
TRACES = Path(__file__).resolve().parents[1] / "examples" / "traces"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py")}


def synthetic_trace(arrival_rate, turns_mean, think_time_s, user_tokens, output_tokens, system_prompt_tokens,
                    duration_s, block_size=512, seed=1):
    """Records of a one-class chat workload (geometric turns, exponential think times)."""
    workload = dict(arrival_rate=arrival_rate, turns_mean=turns_mean, think_time_s=think_time_s,
                    user_tokens=user_tokens, output_tokens=output_tokens, system_prompt_tokens=system_prompt_tokens)
    return scenario_trace({"workload": workload, "cache": {"block_size": block_size}}, duration_s, seed)


def as_requests(records):
    return [Request(r["timestamp"] / 1000.0, r["input_length"], r["output_length"], r["hash_ids"], i + 1)
            for i, r in enumerate(records)]


def head(path: Path, lines: int):
    assert path.exists(), f"sample trace missing: {path} (it ships in examples/traces)"
    with open(path) as f:
        return as_requests([json.loads(next(f)) for _ in range(lines)])


def assert_curve_exact(requests, block_size, every=1):
    lp = lru_pass(requests, block_size)
    axis = capacity_axis(lp.max_distance, 50)
    assert len(axis) >= 50
    tokens, whole = lp.curve.tokens_at(axis), lp.curve.requests_at(axis)
    for c, t, w in list(zip(axis, tokens, whole))[::every]:
        ref_hit, ref_prompt, ref_whole = reference_lru(requests, c, block_size)
        assert abs(t / lp.curve.prompt_tokens - ref_hit / ref_prompt) < 1e-9, c
        assert t == ref_hit and w == ref_whole, c
    big = reference_lru(requests, 10**9, block_size)
    assert lp.curve.ceiling_tokens == big[0]


@pytest.mark.parametrize("seed", [1, 2])
def test_curve_matches_per_capacity_replay_on_generated_multi_turn_traces(seed):
    records = synthetic_trace(arrival_rate=0.4, turns_mean=4, think_time_s=40, user_tokens=150 * seed,
                              output_tokens=120, system_prompt_tokens=700, duration_s=400, block_size=64,
                              seed=seed)
    assert_curve_exact(as_requests(records), 64, every=2)


def test_curve_is_exact_for_ids_that_are_not_prefix_chained():
    # repeated ids, reused blocks after a miss, shuffled heads: the general path must stay exact
    rng = random.Random(7)
    requests = []
    for i in range(400):
        n = rng.randint(1, 12)
        blocks = [rng.randint(0, 60) for _ in range(n)]
        requests.append(Request(float(i), rng.randint(1, n * 16), 5, blocks, i + 1))
    assert_curve_exact(requests, 16)


@pytest.mark.parametrize("name", ["mooncake_conversation_trace.jsonl", "mooncake_synthetic_trace.jsonl"])
def test_curve_matches_per_capacity_replay_on_mooncake_samples(name):
    requests = head(TRACES / name, 2000)
    assert_curve_exact(requests, 512, every=4)


def plain_reused_blocks(requests):
    """Blocks found again in some request's leading run of blocks seen before (a set, per block)."""
    ever, reused = set(), set()
    for r in requests:
        for x in r.blocks:
            if x not in ever:
                break
            reused.add(x)
        ever.update(r.blocks)
    return len(ever), len(reused)


def test_curve_is_exact_on_long_16_token_prompts():
    # prompts of hundreds of blocks: segments are cut in front as they empty, runs span many blocks
    scenario = {"cache": {"block_size": 16},
                "workload": {"arrival_rate": 0.5,
                             "prefixes": [{"name": "system", "tokens": 900},
                                          {"name": "docs", "tokens": 2500, "count": 40, "zipf": 1.1}],
                             "classes": [{"name": "rag", "share": 1, "prefix": ["system", "docs"],
                                          "turns": {"dist": "geometric", "mean": 4},
                                          "think_time_s": {"dist": "exponential", "mean": 30},
                                          "user_tokens": 90, "output_tokens": 200}]}}
    requests = as_requests(scenario_trace(scenario, 300, seed=3, fmt="mooncake"))
    assert max(len(r.blocks) for r in requests) > 300
    assert_curve_exact(requests, 16, every=3)
    stats = replay_requests(requests, 16)["stats"]
    assert (stats["unique_blocks"], stats["reused_blocks"]) == plain_reused_blocks(requests)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_curve_and_reuse_are_exact_when_chained_and_scattered_requests_mix(seed):
    # prefixes of earlier prompts (cut anywhere), then new or old blocks, sometimes reversed or repeated
    rng = random.Random(seed)
    requests = []
    for i in range(1500):
        if requests and rng.random() < 0.6:
            base = rng.choice(requests[-40:]).blocks
            blocks = base[:rng.randint(1, len(base))] + [rng.randint(0, 4000) for _ in range(rng.randint(0, 6))]
            if rng.random() < 0.2:
                blocks = blocks[::-1]
            if rng.random() < 0.1:
                blocks += blocks[:2]
        else:
            blocks = [rng.randint(0, 200) for _ in range(rng.randint(1, 90))]
        requests.append(Request(float(i // 2), rng.randint(1, len(blocks) * 16), 3, blocks, i + 1))
    assert_curve_exact(requests, 16, every=5)
    stats = replay_requests(requests, 16)["stats"]
    assert (stats["unique_blocks"], stats["reused_blocks"]) == plain_reused_blocks(requests)


def test_lru_points_come_from_the_curve_and_other_policies_from_the_engine():
    requests = head(TRACES / "mooncake_synthetic_trace.jsonl", 600)
    caps = [100 * 512, 1000 * 512, float("inf")]
    lru = replay_requests(requests, 512, caps)
    for p, cap in zip(lru["points"], caps[:2]):
        hit, prompt, whole = reference_lru(requests, int(cap) // 512, 512)
        assert p["token_hit_rate"] == pytest.approx(hit / prompt, abs=1e-12)
        assert p["request_hit_rate"] == pytest.approx(whole / len(requests), abs=1e-12)
    assert lru["points"][2]["token_hit_rate"] == lru["ceiling"]["token_hit_rate"]
    for policy in ("fifo", "lfu", "optimal"):
        out = replay_requests(requests, 512, caps[:2], policy=policy)
        for p, cap in zip(out["points"], caps[:2]):
            cache = make_cache(policy, int(cap) // 512)
            uses = _next_uses(requests)
            hit = 0
            for i, r in enumerate(requests):
                hit += min(cache.cached_prefix(r.blocks) * 512, r.input_length)
                cache.admit(r.blocks, uses[i]) if policy == "optimal" else cache.admit(r.blocks)
            assert p["token_hit_rate"] == pytest.approx(hit / lru["stats"]["prompt_tokens"], abs=1e-12)
            assert p["token_hit_rate"] <= lru["ceiling"]["token_hit_rate"] + 1e-12
        if policy == "optimal":
            for p, q in zip(out["points"], lru["points"]):
                assert p["token_hit_rate"] >= q["token_hit_rate"] - 1e-12


def _next_uses(requests):
    nxt, out = {}, [None] * len(requests)
    for i in range(len(requests) - 1, -1, -1):
        out[i] = [nxt.get(x) for x in requests[i].blocks]
        for x in requests[i].blocks:
            nxt[x] = i
    return out


def test_stats_unique_blocks_reuse_histogram_and_gb_axis():
    requests = [Request(0.0, 40, 1, [1, 2, 3], 1), Request(0.5, 40, 1, [1, 2, 4], 2),
                Request(30.0, 20, 1, [1, 2], 3), Request(4000.0, 50, 1, [1, 2, 3, 9], 4)]
    out = replay_requests(requests, 16, [32], kv_bytes_per_token=1e6)
    s = out["stats"]
    assert s["unique_blocks"] == 5 and s["reused_blocks"] == 3
    assert s["prompt_tokens"] == 150
    # hits: r2 32 tokens (<1 s), r3 20 (10-60 s), r4 48 (1 h+: blocks 1, 2 from 30 s, block 3 from 0 s)
    assert out["ceiling"]["token_hit_rate"] == pytest.approx(100 / 150)
    assert s["reused_token_share"] == pytest.approx(100 / 150)
    tokens = {h["bin"]: h["tokens"] for h in s["reuse_time_histogram"]}
    assert [label for _, label in REUSE_BINS] == list(tokens)
    assert tokens == {"<1 s": 32, "1-10 s": 0, "10-60 s": 20, "1-10 min": 0, "10-60 min": 0, "1 h+": 48}
    assert out["points"][0]["capacity_gb"] == pytest.approx(32 * 1e6 / 1e9)
    assert s["unique_gb"] == pytest.approx(5 * 16 * 1e6 / 1e9)


def test_unsorted_file_is_replayed_in_timestamp_order(tmp_path):
    records = synthetic_trace(0.5, 3, 20, 100, 50, 300, 200, block_size=32, seed=4)
    write_jsonl(records, tmp_path / "sorted.jsonl")
    shuffled = list(records)
    random.Random(1).shuffle(shuffled)
    write_jsonl(shuffled, tmp_path / "shuffled.jsonl")
    a = replay(tmp_path / "sorted.jsonl", 32, "640,6400,inf")
    b = replay(tmp_path / "shuffled.jsonl", 32, "640,6400,inf")
    assert a["points"] == b["points"] and a["curve"] == b["curve"]


def test_replay_reads_gz_and_reports_skipped_lines(tmp_path):
    records = synthetic_trace(0.5, 3, 20, 100, 50, 300, 100, block_size=32, seed=2)
    lines = [json.dumps(r) for r in records]
    lines.insert(3, "{not json")
    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as f:
        f.write("\n".join(lines) + "\n")
    out = replay(tmp_path / "t.jsonl.gz", 32, [3200])
    assert out["skipped"]["count"] == 1 and out["skipped"]["messages"][0].startswith("line 4:")
    assert out["stats"]["requests"] == len(records)


def run(*args):
    return subprocess.run([sys.executable, "-m", "kvcache_calc", *args], capture_output=True, text=True,
                          env=ENV, timeout=120)


def test_cli_replay_json_and_table(tmp_path):
    write_jsonl(synthetic_trace(0.5, 3, 20, 300, 100, 600, 300, seed=3), tmp_path / "t.jsonl")
    out = run("replay", str(tmp_path / "t.jsonl"), "--block-size", "512", "--capacity-tokens",
              "5120,51200,inf", "--curve-points", "50", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [p["capacity_tokens"] for p in result["points"]] == [5120, 51200, None]
    assert len(result["curve"]) >= 50 or result["curve"][-1]["capacity_blocks"] < 50
    for key in ("ceiling", "stats", "skipped"):
        assert key in result
    table = run("replay", str(tmp_path / "t.jsonl"), "--capacity-tokens", "5120,inf", "--policy", "fifo")
    assert table.returncode == 0 and "fifo" in table.stdout and "ceiling" in table.stdout.lower()
    bad = run("replay", str(tmp_path / "t.jsonl"), "--capacity-tokens", "-5")
    assert bad.returncode == 2 and "capacity_tokens" in bad.stderr
    missing = run("replay", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
