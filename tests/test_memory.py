"""Memory model against published numbers (DESIGN.md §4)."""

import re

import pytest

from kvcache_calc.memory import InfeasibleMemory, kv_bytes_per_token, plan_memory
from kvcache_calc.scenario import parse_scenario


def plan(model: dict, hardware: dict | None = None):
    s = parse_scenario({"model": model, "hardware": hardware or {"gpu": "h100-sxm-80gb"}})
    return plan_memory(s.model, s.hardware)


def test_llama_3_1_8b_is_128_kib_per_token_in_bf16():
    assert plan({"preset": "llama-3.1-8b"}).kv_bytes_per_token == 128 * 1024


def test_deepseek_v3_mla_is_61_layers_of_576_values():
    s = parse_scenario({"model": {"preset": "deepseek-v3", "kv_dtype": "bf16"},
                        "cache": {"capacity_tokens": 1000}})
    assert kv_bytes_per_token(s.model) == 61 * (512 + 64) * 2


def test_mla_latent_is_replicated_on_every_tensor_parallel_rank():
    p = plan({"preset": "deepseek-v3", "kv_dtype": "bf16"}, {"gpu": "h200", "num_gpus": 8})
    assert p.kv_bytes_per_token_per_gpu == 61 * 576 * 2
    assert p.kv_bytes_per_token == 8 * 61 * 576 * 2


def test_qwen3_8b_on_one_h100_holds_about_366k_tokens():
    # LMCache FAQ: Qwen3-8B on one H100 -> 366,400 tokens (vLLM, util 0.9)
    assert plan({"preset": "qwen3-8b"}).capacity_tokens == pytest.approx(366_400, rel=0.01)


def test_llama_3_1_8b_kv_budget_matches_vllm_log():
    # vLLM on H100 (79.18 GiB, util 0.9): weights 14.99 GiB, activation 4.76 GiB, KV 51.38 GiB
    p = plan({"preset": "llama-3.1-8b"})
    assert p.weights_gib_per_gpu == pytest.approx(14.99, abs=0.05)
    assert p.kv_gib_per_gpu == pytest.approx(51.38, abs=0.2)


def test_kv_heads_split_across_tp_and_replicated_past_them():
    eight = plan({"preset": "llama-3.1-70b"}, {"gpu": "h100-sxm-80gb", "num_gpus": 8})
    assert eight.kv_bytes_per_token_per_gpu == 80 * 1 * 128 * 2 * 2
    sixteen = plan({"preset": "llama-3.1-70b"}, {"gpu": "h100-sxm-80gb", "num_gpus": 16,
                                                  "tensor_parallel": 16})
    assert sixteen.kv_bytes_per_token_per_gpu == eight.kv_bytes_per_token_per_gpu  # 8 heads < 16 ranks


def test_pipeline_parallel_splits_layers():
    p = plan({"preset": "llama-3.1-70b"}, {"gpu": "h100-sxm-80gb", "num_gpus": 8, "tensor_parallel": 4})
    assert p.kv_bytes_per_token_per_gpu == 80 / 2 * 2 * 128 * 2 * 2


@pytest.mark.parametrize("dtype,factor", [("fp32", 2.0), ("fp8", 0.5), ("int8", 0.5), ("int4", 0.25),
                                          ("fp4", 0.25)])
def test_kv_dtype_scales_bytes(dtype, factor):
    assert plan({"preset": "llama-3.1-8b", "kv_dtype": dtype}).kv_bytes_per_token == 128 * 1024 * factor


def test_sliding_window_layers_cost_window_over_context():
    s = parse_scenario({"model": {"preset": "mistral-7b-v0.1"}})
    full = kv_bytes_per_token(s.model)
    assert kv_bytes_per_token(s.model, context_tokens=2048) == full
    assert kv_bytes_per_token(s.model, context_tokens=8192) == pytest.approx(full / 2)


def test_linear_attention_layers_hold_no_per_token_kv():
    s = parse_scenario({"model": {"preset": "llama-3.1-8b", "linear_attention_layers": 24}})
    assert kv_bytes_per_token(s.model) == 128 * 1024 / 4


def test_weights_that_do_not_fit_are_reported_plainly():
    with pytest.raises(InfeasibleMemory, match=r"hardware: the model does not fit: .*GiB of weights"):
        plan({"preset": "llama-3.1-405b"})


def test_a_given_capacity_needs_no_gpu_the_model_fits():
    # issue 16: deepseek-v3 with a cache size and no hardware was refused on a GPU the user never named
    from kvcache_calc.api import predict

    r = predict({"model": {"preset": "deepseek-v3"}, "cache": {"capacity_tokens": 1_000_000},
                 "tiers": [{"name": "cpu", "capacity_gb": 100, "read_gb_per_s": 20}]})
    assert r["cache_capacity_tokens"] == 1_000_000
    assert 0.0 < r["token_hit_rate"] < r["ceiling_token_hit_rate"]
    assert r["ttft_no_cache_s"] is None and r["kv_gib_per_gpu"] is None
    assert r["tiers"][1]["capacity_tokens"] > 0  # the tier's GB still turn into tokens
    warning, = [w for w in r["warnings"] if w["code"] == "capacity_given_model_does_not_fit"]
    assert "default h100-sxm-80gb" in warning["message_en"]
    assert re.search(r"the model does not fit: 6\d\d\.\d\d GiB of weights", warning["message_en"])
    with pytest.raises(InfeasibleMemory):  # without the cache size the refusal stands
        predict({"model": {"preset": "deepseek-v3"}})


# --- the engine's own refusals and defaults (docs/memory.md) ----------------------------------------------

def refusal(scenario: dict) -> dict:
    import json

    from kvcache_calc import api

    reply = json.loads(api.handle("predict", json.dumps({"scenario": scenario, "advice": False})))
    assert not reply["ok"]
    return reply["error"]


def test_a_context_that_does_not_fit_is_refused_in_vllms_words_with_the_longest_that_would():
    error = refusal({"model": {"preset": "qwen3-32b"}})
    assert error["field"] == "hardware.max_model_len"
    assert "40960 (empty: the model's longest context) is not allowed" in error["message"]
    assert "To serve at least one request with the models's max seq len (40960)" in error["message"]
    budget = error["details"]["memory_budget"]
    assert budget["refusal"] == "max_model_len" and budget["max_model_len"] == 40960
    fits = budget["estimated_max_model_len"]
    assert f"estimated maximum model length is {fits}" in error["message"]
    ok = plan({"preset": "qwen3-32b"}, {"gpu": "h100-sxm-80gb", "max_model_len": fits})
    assert ok.max_concurrency == pytest.approx(1.0, abs=0.02)  # exactly one such request, as vLLM sized it
    with pytest.raises(InfeasibleMemory, match="hardware.max_model_len"):
        plan({"preset": "qwen3-32b"}, {"gpu": "h100-sxm-80gb", "max_model_len": fits + 64})


def test_weights_that_leave_no_cache_are_refused_with_the_bar_that_did_not_fit():
    error = refusal({"model": {"preset": "llama-3.1-70b"}})
    assert error["field"] == "hardware" and "No available memory for the cache blocks" in error["message"]
    budget = error["details"]["memory_budget"]
    weights = next(t for t in budget["terms"] if t["name"] == "weights")
    assert weights["gib"] > budget["memory_gib"] and budget["scale_gib"] > budget["memory_gib"]
    assert sum(t["share"] for t in budget["terms"]) == pytest.approx(1.0)
    sglang = refusal({"model": {"preset": "llama-3.1-70b"}, "hardware": {"num_gpus": 2},
                      "deploy": {"engine": "sglang"}})
    assert sglang["field"] == "hardware.mem_fraction_static" and "Not enough memory" in sglang["message"]


@pytest.mark.parametrize("hardware,message", [
    ({"max_model_len": 200_000}, r"^hardware\.max_model_len: 200000 is not allowed; vLLM says \"User-specified "
                                 r"max_model_len \(200000\) is greater than the derived max_model_len "
                                 r"\(max_position_embeddings=131072 .*at most 131072"),
    ({"num_gpus": 3}, r"^hardware\.tensor_parallel: 3 is not allowed; vLLM says \"Total number of attention heads "
                      r"\(32\) must be divisible by tensor parallel size \(3\)\.\" Expected a divisor of 32"),
    ({"gpu_memory_utilization": 1.2}, r"^hardware\.gpu_memory_utilization: 1\.2 is not allowed; expected a number "
                                      r"> 0 and <= 1"),
])
def test_bad_engine_settings_name_the_field_and_what_is_allowed(hardware, message):
    with pytest.raises(ValueError, match=message):
        parse_scenario({"model": {"preset": "llama-3.1-8b"}, "hardware": hardware})


def test_an_unknown_quantization_names_the_methods():
    with pytest.raises(ValueError, match=r"^model\.quantization: \"int3\" is not allowed; expected one of .*\"awq\""):
        parse_scenario({"model": {"preset": "llama-3.1-8b", "quantization": "int3"}})


@pytest.mark.parametrize("version,gpu,expected", [
    ("0.8.0", "h100-sxm-80gb", (8192, 1024, 0.9)),      # H100 by name
    ("0.8.0", "a100-80gb", (2048, 1024, 0.9)),          # 0.8.0 kept 1024 sequences everywhere
    ("0.8.5", "a100-80gb", (8192, 1024, 0.9)),          # >= 70 GiB, A100 too
    ("0.9.0", "a100-80gb", (2048, 256, 0.9)),           # ... A100s excepted from 0.9.0
    ("0.13.0", "l40s", (2048, 256, 0.9)),
    ("0.20.0", "h100-sxm-80gb", (8192, 1024, 0.92)),    # utilization 0.92 from 0.20
    ("0.31.0", "b200", (16384, 1024, 0.92)),            # >= 160 GiB: 16384 tokens
])
def test_vllm_defaults_follow_the_release(version, gpu, expected):
    hw = parse_scenario({"hardware": {"gpu": gpu}, "deploy": {"engine_version": version}}).hardware
    assert (hw.max_num_batched_tokens, hw.max_num_seqs, hw.gpu_memory_utilization) == expected
    assert set(hw.engine_defaulted) == {"max_num_batched_tokens", "max_num_seqs", "gpu_memory_utilization"}


def test_the_sampler_costs_what_the_release_and_install_make_it():
    def activation(version, flashinfer="yes"):
        s = parse_scenario({"model": {"preset": "llama-3.1-8b"},
                            "deploy": {"engine_version": version, "flashinfer": flashinfer}})
        from kvcache_calc.memory.vllm import activation_gib
        return activation_gib(s.model, s.hardware)
    # 1024 rows of a 128,256-token vocabulary: 38.4 bytes a logit with the sort, 10 with FlashInfer
    assert activation("0.13.0") == pytest.approx(1024 * 128256 * 38.4 / 2**30 + 8192 * 4096 * 2 / 2**30, rel=1e-9)
    assert activation("0.10.1") < activation("0.10.1", "no") == pytest.approx(activation("0.13.0"))
    assert activation("0.23.0") == pytest.approx(activation("0.10.1"))


def test_from_vllm_0_20_cuda_graphs_come_out_of_the_kv_budget():
    old = plan({"preset": "llama-3.1-8b"}, {"gpu": "h100-sxm-80gb", "gpu_memory_utilization": 0.9})
    s = parse_scenario({"model": {"preset": "llama-3.1-8b"}, "hardware": {"gpu_memory_utilization": 0.9},
                        "deploy": {"engine_version": "0.20.0"}})
    new = plan_memory(s.model, s.hardware)
    graphs = next(t for t in new.budget.terms if t.name == "cuda_graphs")
    assert graphs.inside_share and new.kv_gib_per_gpu == pytest.approx(old.kv_gib_per_gpu - graphs.gib, abs=1e-9)


def test_a_linear_attention_hybrid_gets_vllms_block_and_its_caveats():
    from kvcache_calc.api import predict

    r = predict({"model": {"preset": "qwen3-next-80b-a3b"}, "hardware": {"gpu": "h200", "num_gpus": 2,
                                                                          "max_model_len": 32768}}, with_advice=False)
    codes = {w["code"] for w in r["warnings"]}
    assert {"hybrid_block_size", "hybrid_prefix_caching_off"} <= codes
    # 2 KV heads of 256 dims at TP 2: 1,024 B a token per layer; the 1,097,728 B state halves: 536 -> 544 tokens
    assert r["scenario"]["cache"]["block_size"] == 544
    assert r["memory_budget"]["engine_kv_tokens"] == r["memory_budget"]["prefix_capacity_tokens"]
    recent = predict({"model": {"preset": "qwen3-next-80b-a3b"}, "hardware": {"gpu": "h200", "num_gpus": 2,
                      "max_model_len": 32768}, "deploy": {"engine_version": "0.26.0"}}, with_advice=False)
    assert "hybrid_prefix_caching_off" not in {w["code"] for w in recent["warnings"]}


def test_a_window_model_logs_fewer_tokens_than_its_prefix_cache_holds():
    s = parse_scenario({"model": {"preset": "gpt-oss-20b"}, "hardware": {"max_model_len": 32768}})
    p = plan_memory(s.model, s.hardware, 4096)
    # 12 full + 12 window layers: two groups; vLLM logs blocks // 2; a 4,096-token prefix costs the window group
    # its last 128 tokens only, so the pool holds 2 / (1 + 128 / 4096) times as many prefix tokens
    assert p.logged_tokens == p.num_blocks // 2 * 16
    assert p.capacity_tokens == int(p.num_blocks * 16 / (1 + 128 / 4096))
