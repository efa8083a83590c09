"""Roofline latency and cost against hand calculations, the pinned-KV split, and load-vs-recompute."""

import pytest

from kvcache_calc import api
from kvcache_calc.resolve import replica_capacity, traffic_of
from kvcache_calc.scenario import parse_scenario

H100_BF16 = 989e12 * 0.4          # peak x default MFU
H100_BYTES = 3.35e12 * 0.7        # bandwidth x default MBU
LLAMA_KV = 2 * 32 * 8 * 128 * 2   # bytes per token


def roof_of(scenario):
    s = parse_scenario(scenario)
    return replica_capacity(s, traffic_of(s)).roof


def test_llama_8b_on_an_h100_by_hand():
    roof = roof_of({})
    flops = 2 * 8.03e9 * 2000 + 4 * (32 * 128) * 32 * 2000 * 1000  # weights + causal attention
    assert roof.prefill_s(2000, 0) == pytest.approx(flops / H100_BF16, rel=1e-12)
    assert roof.prefill_s(2000, 0) == pytest.approx(0.08384, abs=1e-5)
    assert roof.decode_step_s(10, 3000) == pytest.approx((8.03e9 * 2 + 10 * 3000 * LLAMA_KV) / H100_BYTES, rel=1e-12)
    assert roof.load_s_per_token(50) == pytest.approx(LLAMA_KV / 50e9, rel=1e-12)


def test_deepseek_v3_on_eight_h200s_by_hand():
    roof = roof_of({"model": {"preset": "deepseek-v3"}, "hardware": {"gpu": "h200", "num_gpus": 8}})
    fp8 = 1979e12 * 0.4  # FP8 weights run on the FP8 tensor cores
    width = 128 * (512 / 4 + 64 / 2)  # MLA prefill: 128 heads over (qk 192 + v 128) / 2 dims
    flops = 2 * 37e9 * 4000 + 4 * width * 61 * 4000 * 2000
    assert roof.prefill_s(4000, 0) == pytest.approx(flops / (8 * fp8), rel=1e-12)
    assert roof.prefill_s(4000, 0) == pytest.approx(0.05305, abs=1e-5)
    assert roof.prefill_gpu_s(4000, 0) == pytest.approx(8 * roof.prefill_s(4000, 0), rel=1e-12)
    assert roof.kv_bytes_per_token_per_gpu == 61 * 576 * 2  # the latent, replicated on every rank
    # block-FP8 experts and layers (1 byte and a scale per 128 x 128), 16-bit embeddings and output head
    assert 671e9 < roof.weight_bytes < 671e9 * 1.01
    assert roof.decode_step_s(0, 0) == pytest.approx(roof.weight_bytes / 8 / (4.8e12 * 0.7), rel=1e-12)


@pytest.mark.parametrize("preset", ["llama-3.1-8b", "gemma-3-27b", "gpt-oss-20b"])
def test_the_mean_prefill_without_a_cache_weighs_every_turns_prefill(preset):
    # 32K of context: Gemma 3 27B's whole 131,072 does not fit beside its weights on one H100 (vLLM refuses)
    s = parse_scenario({"model": {"preset": preset}, "hardware": {"max_model_len": 32768},
                        "workload": {"system_prompt_tokens": 500}})
    traffic = traffic_of(s)
    roof = replica_capacity(s, traffic).roof
    prompts = [(w, p) for w, p, _ in traffic.request_prompts]
    if preset == "gemma-3-27b":  # window layers attend to min(window, p / 2): prompts on both sides of it
        assert min(p for _, p in prompts) < 2 * roof.window < max(p for _, p in prompts)
    by_turn = sum(share * roof.prefill_flops(p, 0.0) for share, p in prompts)
    assert roof.mean_prefill_flops(prompts) == pytest.approx(by_turn, rel=1e-12)


ONE_TURN = {"workload": {"arrival_rate": 2.0, "turns_mean": 1, "turns_dist": "fixed", "user_tokens": 1000,
                         "output_tokens": 400, "system_prompt_tokens": 1000},
            "latency": {"price_per_gpu_hour": 3.0}}


def test_ttft_gpus_and_money_saved_by_hand():
    r = api.predict(ONE_TURN, with_advice=False)
    roof = roof_of(ONE_TURN)
    cached = 1000 // 16 * 16  # the system prompt's full blocks
    assert r["token_hit_rate"] == pytest.approx(cached / 2000, rel=1e-9)
    no_cache, with_cache = roof.prefill_s(2000, 0), roof.prefill_s(2000 - cached, cached)
    assert r["ttft_no_cache_s"] == pytest.approx(no_cache, rel=1e-9)
    assert r["ttft_s"] == pytest.approx(with_cache, rel=1e-9)
    assert r["ttft_saved_s"] == pytest.approx(no_cache - with_cache, rel=1e-9)
    saved = 2.0 * (roof.prefill_gpu_s(2000, 0) - roof.prefill_gpu_s(2000 - cached, cached))
    assert r["gpus_saved"] == pytest.approx(saved, rel=1e-9)
    assert r["money_saved_per_day"] == pytest.approx(saved * 24 * 3.0, rel=1e-9)
    assert r["prefill_utilization_no_cache"] == pytest.approx(2.0 * roof.prefill_gpu_s(2000, 0), rel=1e-9)


def test_running_requests_pin_their_kv_by_littles_law():
    r = api.predict(ONE_TURN, with_advice=False)
    roof = roof_of(ONE_TURN)
    context = 2000 + 400 / 2
    base = 8.03e9 * 2 / H100_BYTES
    per_request = context * LLAMA_KV / H100_BYTES
    load = 2.0 * 400 * per_request
    running = 2.0 * (roof.prefill_s(2000, 0) + 400 * base) / (1 - load)
    assert r["running_requests"] == pytest.approx(running, rel=1e-9)
    assert r["decode_utilization"] == pytest.approx(load, rel=1e-9)
    pinned_blocks = -(-running * context // 16)
    assert r["pinned_tokens"] == r["cache_capacity_tokens"] - r["evictable_capacity_tokens"]
    assert r["evictable_capacity_tokens"] == (r["cache_capacity_tokens"] // 16 - pinned_blocks) * 16


def test_a_replica_that_cannot_keep_up_is_flagged_and_pins_at_most_max_num_seqs():
    r = api.predict({"workload": {"arrival_rate": 40}, "hardware": {"max_num_seqs": 256}}, with_advice=False)
    assert {"replica_overloaded", "prefill_overloaded"} <= {w["code"] for w in r["warnings"]}
    assert r["prefill_utilization"] > 1
    assert r["running_requests"] == 256
    assert r["evictable_capacity_tokens"] >= 16


def test_a_tier_slower_than_recompute_counts_hits_but_saves_no_time():
    base = {"workload": {"arrival_rate": 1, "think_time_s": 60}}
    fast = api.predict({**base, "tiers": [{"name": "cpu", "capacity_gb": 100}]}, with_advice=False)
    slow = api.predict({**base, "tiers": [{"name": "cpu", "capacity_gb": 100, "read_gb_per_s": 0.5}]},
                       with_advice=False)
    gpu_only = api.predict(base, with_advice=False)
    assert slow["token_hit_rate"] == pytest.approx(fast["token_hit_rate"])
    assert slow["token_hit_rate"] > gpu_only["token_hit_rate"] + 0.1
    assert slow["tiers"][1]["load_pays"] is False and fast["tiers"][1]["load_pays"] is True
    assert "tier_slower_than_recompute" in [w["code"] for w in slow["warnings"]]
    assert slow["ttft_saved_s"] == pytest.approx(gpu_only["ttft_saved_s"], rel=1e-9)
    assert slow["gpus_saved"] == pytest.approx(gpu_only["gpus_saved"], rel=1e-9)
    assert fast["ttft_saved_s"] > gpu_only["ttft_saved_s"]
    # loads cost latency but no GPU compute
    assert 0 < fast["tiers"][1]["load_s_per_token"] < fast["tiers"][1]["recompute_s_per_token"]


def test_without_a_model_there_is_no_latency_and_nothing_is_pinned():
    r = api.predict({"cache": {"capacity_tokens": 100_000}}, with_advice=False)
    assert r["ttft_s"] is None and r["gpus_saved"] is None and r["running_requests"] is None
    assert r["pinned_tokens"] == 0 and r["evictable_capacity_tokens"] == 100_000


def test_the_seed_api_latency_reduction_comes_from_the_roofline():
    from kvcache_calculator import ConversationPattern, KVCacheCalculator, KVCacheDtype, ModelConfig, ModelDtype, \
        SystemConfig, seed_scenario
    args = (ModelConfig(32, 32, 32, 128, ModelDtype.FP16, KVCacheDtype.FP16, 14.0), SystemConfig(80.0),
            ConversationPattern(5.0, 2.0, 30.0, 100))
    metrics = KVCacheCalculator().calculate_detailed_metrics(*args)
    r = api.predict(seed_scenario(*args), with_advice=False)
    assert metrics["estimated_latency_reduction"] == pytest.approx(r["ttft_saved_s"] / r["ttft_no_cache_s"])
    assert metrics["estimated_latency_reduction"] != 0.3


@pytest.mark.parametrize("path, value, message", [
    ("latency.mfu", 0, "latency.mfu: 0 is not allowed; expected a number > 0 and <= 1"),
    ("latency.mfu", 1.5, "latency.mfu: 1.5 is not allowed"),
    ("latency.price_per_gpu_hour", -1, "latency.price_per_gpu_hour: -1 is not allowed; expected a number >= 0"),
    ("hardware.tflops", 0, "hardware.tflops: 0 is not allowed"),
    ("hardware.max_num_seqs", 0, "hardware.max_num_seqs: 0 is not allowed"),
    ("cluster.routing", "sticky", 'cluster.routing: "sticky" is not allowed; expected one of "affinity", "random"'),
    ("cluster.replicas", 0, "cluster.replicas: 0 is not allowed"),
])
def test_bad_latency_and_cluster_fields_are_named(path, value, message):
    section, key = path.split(".")
    with pytest.raises(ValueError) as err:
        api.predict({section: {key: value}})
    assert str(err.value).startswith(message), str(err.value)


def test_tp_larger_than_the_gpus_of_a_replica_is_explained():
    with pytest.raises(ValueError, match=r"hardware.tensor_parallel: 4 is not allowed; expected a divisor of hardware.num_gpus \(2\)"):
        api.predict({"hardware": {"num_gpus": 2, "tensor_parallel": 4}})


@pytest.mark.parametrize("dtype,gpu,rate", [
    ("bf16", "h100-sxm-80gb", 989e12), ("fp8", "h100-sxm-80gb", 1979e12), ("int8", "l40s", 733e12),
    ("int4", "h100-sxm-80gb", 989e12),  # weight-only: dequantised, BF16 matrix multiplies
    ("fp4", "h100-sxm-80gb", 989e12), ("fp4", "b200", 4500e12), ("fp8", "a100-80gb", 312e12)])
def test_the_peak_follows_the_weights_dtype_and_the_gpus_tensor_cores(dtype, gpu, rate):
    roof = roof_of({"model": {"weight_dtype": dtype}, "hardware": {"gpu": gpu}})
    assert roof.flops_per_gpu == pytest.approx(rate * 0.4, rel=1e-12)


def test_requests_whose_kv_does_not_fit_overload_the_replica_too():
    # decode keeps up, but the requests Little's law asks for need more KV than the cache holds
    r = api.predict({"model": {"preset": "llama-3.1-8b"}, "cache": {"capacity_tokens": 20_000}}, with_advice=False)
    assert r["decode_utilization"] < 1 and r["running_requests"] < 256
    assert r["running_requests"] * (r["mean_prompt_tokens"] + 200) > 20_000
    assert "replica_overloaded" in {w["code"] for w in r["warnings"]}
    assert r["evictable_capacity_tokens"] == (1000 // 16 + 1) * 16  # the system prompt and one block


def test_every_curve_point_says_whether_a_replica_keeps_up_there():
    panel = api.analyze({})
    checked = {True: 0, False: 0}
    curves = [(sw["path"], sw["points"], "value") for sw in panel["sweeps"]]
    curves.append((panel["memory_curve"]["x_path"], panel["memory_curve"]["points"], "x"))
    for path, points, key in curves:
        section, field = path.split(".")
        for point in points:
            alone = api.predict({section: {field: point[key]}}, with_advice=False)
            assert point["overloaded"] == ("replica_overloaded" in {w["code"] for w in alone["warnings"]}), (path, point)
            checked[point["overloaded"]] += 1
    assert checked[True] and checked[False]


def test_every_swing_says_whether_a_replica_keeps_up_there():
    near = {"arrival_rate": 1.6}  # keeps up; 20% more traffic does not
    flagged = []
    for bar in api.analyze({"workload": near})["tornado"]["bars"]:
        section, field = bar["path"].split(".")
        for end in ("low", "high"):
            patch = {section: {**(near if section == "workload" else {}), field: bar[f"{end}_value"]}}
            alone = api.predict({"workload": near, **patch}, with_advice=False)
            assert bar[f"{end}_overloaded"] == ("replica_overloaded" in {w["code"] for w in alone["warnings"]}), bar
            flagged.append(bar[f"{end}_overloaded"])
    assert any(flagged) and not all(flagged)
