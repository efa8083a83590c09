"""CLI contract: `python -m kvcache_calc predict FILE|- [--json]`, exit 2 with the field on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py")}
SCENARIO = {"model": {"preset": "qwen3-8b"}, "hardware": {"gpu": "h100-sxm-80gb"},
            "workload": {"arrival_rate": 2, "think_time_s": 30}}


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kvcache_calc", *args], input=stdin, capture_output=True,
                          text=True, env=ENV, timeout=60)


def test_predict_json_from_file_matches_the_api(tmp_path):
    from kvcache_calc.api import finite_json, predict
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCENARIO))
    out = run("predict", str(path), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(json.dumps(finite_json(predict(SCENARIO))))


def test_predict_reads_stdin_and_prints_every_required_key():
    out = run("predict", "-", "--json", stdin=json.dumps(SCENARIO))
    result = json.loads(out.stdout)
    for key in ("token_hit_rate", "request_hit_rate", "ceiling_token_hit_rate", "characteristic_time_s",
                "kv_bytes_per_token", "cache_capacity_tokens", "derived_qps", "prompt_tokens_per_s",
                "cached_tokens_per_s", "ideal_prefill_speedup", "cache_utilization", "occupancy_live",
                "occupancy_idle", "occupancy_finished", "occupancy_system_prompt", "seed_formula_hit_rate"):
        assert key in result, key


def test_predict_table_is_readable():
    out = run("predict", "-", stdin=json.dumps(SCENARIO))
    assert out.returncode == 0
    assert "Token hit rate" in out.stdout and "%" in out.stdout


def test_predict_table_of_a_tiered_cluster_shows_tiers_routings_and_advice():
    cluster = {**SCENARIO, "cluster": {"replicas": 2, "routing": "random"},
               "tiers": [{"name": "cpu", "capacity_gb": 50}]}
    out = run("predict", "-", stdin=json.dumps(cluster))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("cpu ") for line in lines) and any(line.startswith("gpu ") for line in lines)
    start = next(i for i, line in enumerate(lines) if line.startswith("Routing")) + 1
    assert [line.split()[0] for line in lines[start:start + 4]] == ["affinity", "random", "round_robin", "least_loaded"]
    assert "simulated" not in out.stdout and "Advice" in out.stdout
    simulated = run("predict", "-", "--simulate-routing", stdin=json.dumps(cluster))
    assert simulated.returncode == 0, simulated.stderr
    assert "simulated token hits" in simulated.stdout and "±" in simulated.stdout


def test_bad_field_exits_2_naming_field_value_and_range():
    out = run("predict", "-", "--json", stdin='{"workload": {"arrival_rate": -3}}')
    assert out.returncode == 2
    assert out.stderr.startswith("error: workload.arrival_rate: -3 is not allowed; expected a number > 0")
    assert out.stdout == ""


def test_bad_json_and_missing_file_exit_2():
    assert run("predict", "-", stdin="{not json").returncode == 2
    missing = run("predict", "/nonexistent/scenario.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_solve_finds_capacity_for_a_target():
    out = run("solve", "-", "--target", "0.7", "--json", stdin=json.dumps(SCENARIO))
    result = json.loads(out.stdout)
    assert result["achievable"] and result["capacity_tokens"] > 0 and result["memory_gib_per_gpu"] > 0


def test_schema_lists_every_field():
    out = json.loads(run("schema", "--json").stdout)
    assert {f["path"] for f in out["fields"]} >= {"workload.arrival_rate", "cache.capacity_tokens", "model.preset"}


def test_simulate_json_reports_interval_and_prediction():
    scenario = {"workload": {"arrival_rate": 2, "turns_mean": 4, "think_time_s": 10, "user_tokens": 60,
                             "output_tokens": 100}, "cache": {"capacity_tokens": 8000}}
    out = run("simulate", "-", "--seed", "5", "--requests", "3000", "--json", stdin=json.dumps(scenario))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["seed"] == 5 and result["requests_measured"] >= 2500
    assert result["token_hit_rate_ci"] > 0 and "token_hit_rate" in result["prediction"]
    assert "simulating:" in out.stderr


def test_simulate_refuses_bad_lengths():
    out = run("simulate", "-", "--requests", "5", stdin="{}")
    assert out.returncode == 2 and "requests: 5 is not allowed" in out.stderr


def test_a_reader_that_stops_early_ends_the_output_quietly():
    # `kvcache-calc replay ... --json | head -1`: the pipe closes after one line of ~400 kB (more than
    # a pipe buffers); no traceback, exit 0
    trace = ROOT / "examples" / "traces" / "mooncake_synthetic_trace.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "kvcache_calc", "replay", str(trace), "--json",
                             "--curve-points", "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert proc.stdout.readline().strip() == b"{"
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == b"", err.decode()
