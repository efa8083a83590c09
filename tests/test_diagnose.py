"""Diagnose a running deployment (docs/diagnose.md): the sample scrapes parse, two scrapes give rates,
each bad input is a ValueError naming its field, the loss split adds up, a suggestion moves the model
toward the observation, the CLI, and the core imports without prometheus_client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvcache_calc import api

pytest.importorskip("prometheus_client")

from kvcache_calc.diagnose import diagnose, observe, read_scrape  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "tests" / "data" / "metrics"
T0 = (METRICS / "vllm-0.10.0-t0.prom").read_text()
T60 = (METRICS / "vllm-0.10.0-t60.prom").read_text()
SGLANG = (METRICS / "sglang.prom").read_text()
SCENARIO = json.loads((ROOT / "examples" / "chat-h100.json").read_text())
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py")}


def test_samples_say_where_they_come_from():
    for path in METRICS.glob("*.prom"):
        head = path.read_text().splitlines()[:3]
        assert head[0].startswith("# source: ") and any(line.startswith("# lines: ") for line in head), path


def test_one_vllm_scrape_gives_totals_since_start():
    obs = observe(read_scrape(T60))
    assert obs.engine == "vllm" and obs.window == "since_start" and obs.interval_s is None
    assert obs.token_hit_rate == pytest.approx(15_846_000 / 49_620_000)
    assert obs.hit_rate_metric == "vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total"
    assert obs.requests == 13_810 and obs.requests_per_s is None and obs.prompt_tokens_per_s is None
    assert obs.kv_cache_usage == pytest.approx(0.98) and obs.running_requests == 36
    codes = [n["code"] for n in diagnose(SCENARIO, T60)["notes"]]
    assert codes[0] == "totals_since_start"


def test_two_scrapes_give_rates_over_the_interval():
    r = diagnose(SCENARIO, T60, T0, 60)
    o = r["observed"]
    assert o["window"] == "interval" and o["interval_s"] == 60
    assert o["token_hit_rate"] == pytest.approx(486_000 / 1_620_000)  # 30%, not the 32% since start
    assert o["requests_per_s"] == pytest.approx(460 / 60) and o["prompt_tokens_per_s"] == pytest.approx(27_000)
    assert r["model"]["token_hit_rate"] == pytest.approx(api.predict(SCENARIO)["token_hit_rate"])


def test_older_vllm_names_and_sglang():
    old = "\n".join(line.replace("vllm:prefix_cache", "vllm:gpu_prefix_cache_x").replace("vllm:kv_cache_usage", "vllm:x")
                    for line in T60.splitlines())
    obs = observe(read_scrape(old))
    assert obs.hit_rate_metric == "vllm:gpu_prefix_cache_hits_total / vllm:gpu_prefix_cache_queries_total"
    assert obs.kv_cache_usage == pytest.approx(0.98)  # from vllm:gpu_cache_usage_perc
    sg = observe(read_scrape(SGLANG))
    assert sg.engine == "sglang" and sg.token_hit_rate == pytest.approx(0.65) and sg.requests == 900
    gauge_only = "\n".join(line for line in SGLANG.splitlines() if "cached_tokens" not in line)
    assert observe(read_scrape(gauge_only)).token_hit_rate == pytest.approx(0.63)
    assert "sglang_gauge" in [n["code"] for n in diagnose(SCENARIO, gauge_only)["notes"]]


def test_engines_metrics_are_summed_over_engines():
    two = T60 + T60.replace('engine="0"', 'engine="1"').split("\n", 3)[3]
    obs = observe(read_scrape(two))
    assert obs.prefix_cache_queries == 2 * 49_620_000 and obs.kv_cache_usage == pytest.approx(0.98)


@pytest.mark.parametrize("kwargs, message", [
    ({"scrape": "<html><body>oops</body></html>"}, "scrape: not Prometheus text format"),
    ({"scrape": ""}, "scrape: expected the text of a /metrics scrape"),
    ({"scrape": T60, "scrape_before": "hello"}, "scrape_before: not Prometheus text format"),
    ({"scrape": "# HELP tgi_request_count x\n# TYPE tgi_request_count counter\ntgi_request_count 5\n"},
     "scrape: no vllm: or sglang: metrics"),
    ({"scrape": "\n".join(l for l in T60.splitlines() if "prefix_cache" not in l)}, "scrape: no prefix-cache counters"),
    ({"scrape": "\n".join(l.rsplit(" ", 1)[0] + " 0.0" if l.startswith("vllm:") and "prefix_cache" in l and "_total" in l
                           else l for l in T60.splitlines())}, "prefix caching is off"),
    ({"scrape": T0, "scrape_before": T60, "interval_s": 60}, "went down from"),
    ({"scrape": T60, "scrape_before": T0}, "interval_s: None is not allowed"),
    ({"scrape": T60, "scrape_before": T0, "interval_s": 0}, "interval_s: 0 is not allowed"),
    ({"scrape": T60, "scrape_before": T0, "interval_s": -60}, "the earlier scrape must be taken before"),
    ({"scrape": T60, "interval_s": 60}, "interval_s: given without scrape_before"),
    ({"scrape": T60, "scrape_before": SGLANG, "interval_s": 60}, "scrape_before: is a sglang scrape"),
])
def test_bad_input_names_the_field(kwargs, message):
    with pytest.raises(ValueError) as info:
        diagnose(SCENARIO, **kwargs)
    assert message in str(info.value)
    assert str(info.value).split(":")[0] in ("scrape", "scrape_before", "interval_s")
    reply = json.loads(api.handle("diagnose", json.dumps({"scenario": SCENARIO, **kwargs})))
    assert reply["ok"] is False and message in reply["error"]["message"]


def test_restart_reports_the_counter():
    with pytest.raises(ValueError, match=r"^scrape: counter vllm:prefix_cache_queries_total went down .* restarted"):
        diagnose(SCENARIO, T0, T60, 60)


def test_loss_split_adds_up_to_the_observed_rate():
    for scenario in (SCENARIO, {**SCENARIO, "cluster": {"replicas": 4, "routing": "random"}}):
        r = diagnose(scenario, T60, T0, 60)
        split = {s["stage"]: s["token_hit_rate"] for s in r["loss_split"]}
        assert list(split) == ["traffic_allows", "lost_to_capacity", "lost_to_routing", "unexplained", "observed"]
        assert split["traffic_allows"] == pytest.approx(r["model"]["ceiling_token_hit_rate"])
        assert split["traffic_allows"] - split["lost_to_capacity"] - split["lost_to_routing"] - split["unexplained"] \
            == pytest.approx(split["observed"], abs=1e-12)
        assert split["observed"] == r["observed"]["token_hit_rate"]
    assert split["lost_to_routing"] > 0  # random routing on 4 replicas loses hits
    assert r["observed"]["cluster_requests_per_s"] == pytest.approx(4 * 460 / 60)
    assert "one_replica_scraped" in [n["code"] for n in r["notes"]]


def test_suggestions_move_the_model_toward_the_observation():
    r = diagnose(SCENARIO, T60, T0, 60)
    assert [n["code"] for n in r["notes"]] == ["below_model", "request_rate_differs"]
    observed, model = r["observed"]["token_hit_rate"], r["model"]["token_hit_rate"]
    by_path = {s["path"]: s for s in r["suggestions"]}
    rate = by_path["workload.arrival_rate"]
    assert rate["value"] == pytest.approx(460 / 60 / 5, rel=1e-3)  # requests/s / turns mean
    for s in r["suggestions"]:
        section, key = s["path"].split(".")
        changed = {**SCENARIO, section: {**SCENARIO[section], key: s["value"]}}
        after = api.predict(changed)["token_hit_rate"]
        assert after == pytest.approx(s["token_hit_rate"])
        assert abs(after - observed) < abs(model - observed)
    assert by_path["workload.think_time_s"]["token_hit_rate"] == pytest.approx(observed, abs=0.005)
    for s in r["suggestions"]:
        assert s["why_en"] and s["why_zh"]


def test_above_ceiling_and_agreement_notes():
    high = T60.replace("15846000.0", "49000000.0")
    codes = [n["code"] for n in diagnose(SCENARIO, high)["notes"]]
    assert "above_ceiling" in codes
    for n in diagnose(SCENARIO, high)["notes"]:
        assert n["message_en"] and n["message_zh"]


def test_result_is_json_through_the_api():
    reply = json.loads(api.handle("diagnose", json.dumps({"scenario": SCENARIO, "scrape": T60, "scrape_before": T0,
                                                          "interval_s": 60})))
    assert reply["ok"] and set(reply["result"]) == {"observed", "model", "loss_split", "notes", "suggestions"}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "kvcache_calc", *args], capture_output=True, text=True, env=ENV,
                          timeout=120)


def test_cli_table_json_and_bad_input():
    ex, a, b = str(ROOT / "examples" / "chat-h100.json"), str(METRICS / "vllm-0.10.0-t60.prom"), str(METRICS / "vllm-0.10.0-t0.prom")
    out = run_cli("diagnose", ex, a, "--before", b, "--interval", "60")
    assert out.returncode == 0, out.stderr
    assert "30.00%" in out.stdout and "lost to capacity" in out.stdout and "suggest: workload.arrival_rate" in out.stdout
    out = run_cli("diagnose", ex, a, "--before", b, "--interval", "60", "--json")
    assert json.loads(out.stdout)["observed"]["token_hit_rate"] == pytest.approx(0.3)
    out = run_cli("diagnose", ex, str(ROOT / "README.md"))
    assert out.returncode == 2 and out.stderr.startswith("error: scrape: not Prometheus text format")
    out = run_cli("diagnose", ex, a, "--before", b)
    assert out.returncode == 2 and "interval_s:" in out.stderr


def test_core_imports_without_prometheus_client():
    code = ("import sys; sys.modules['prometheus_client'] = None; import kvcache_calc.api, kvcache_calc.diagnose, "
            "json; r = json.loads(kvcache_calc.api.handle('diagnose', json.dumps({'scrape': 'x 1'}))); "
            "print(r['error']['message'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'prometheus_client==0.26.0'" in out.stdout
    cli = ("import sys; sys.modules['prometheus_client'] = None; from kvcache_calc.cli import main; "
           f"sys.exit(main(['diagnose', {str(ROOT / 'examples' / 'chat-h100.json')!r}, {str(METRICS / 'sglang.prom')!r}]))")
    out = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True, env=ENV, timeout=60)
    assert out.returncode == 2 and "pip install 'prometheus_client==0.26.0'" in out.stderr
