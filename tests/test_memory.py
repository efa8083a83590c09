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
