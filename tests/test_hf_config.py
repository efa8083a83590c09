"""The config.json import: real configs of each family (tests/data/hf_configs, sources in its README)
against the numbers their model cards or configs state, vLLM's max_model_len rules, and bad inputs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kvcache_calc.hf_config import HfImport, import_hf_config, import_hf_config_text
from kvcache_calc.scenario import parse_scenario

DATA = Path(__file__).parent / "data" / "hf_configs"
ALL = sorted(p.name for p in DATA.glob("*.json"))


def raw(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def load(name: str) -> HfImport:
    return import_hf_config_text((DATA / name).read_text())


def parses(fields: dict):
    return parse_scenario({"model": fields, "cache": {"capacity_tokens": 1000}}).model


def has(lines: list[str], *words: str) -> bool:
    return any(all(w in line for w in words) for line in lines)


def about(value: float, expected: float, rel: float) -> bool:
    return abs(value - expected) <= rel * expected


# --- every fixture -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_every_fixture_imports_and_its_fields_parse(name):
    result = load(name)
    assert set(result.read).isdisjoint(result.ignored)
    if name.startswith("kimi-k2-thinking"):      # a quantization_config alone: no architecture
        assert result.fields == {}
        return
    model = parses(result.fields)
    assert model.num_layers == result.fields["num_layers"]
    if "params_b" in result.fields:
        assert result.estimated == ["params_b", "active_params_b"]
        assert 0 < model.active_params_b <= model.params_b


# --- Llama ------------------------------------------------------------------------------------------

def test_llama_3_2_1b_tied_embeddings():
    r = load("llama-3.2-1b-instruct.json")
    f = r.fields
    assert r.family == "llama" and r.problems == []
    assert (f["num_layers"], f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (16, 32, 8, 64)
    assert (f["hidden_size"], f["intermediate_size"], f["vocab_size"]) == (2048, 8192, 128256)
    assert f["attention"] == "gqa" and f["tie_word_embeddings"] == 1
    assert f["max_position_embeddings"] == 131072          # rope_type llama3 keeps max_position_embeddings
    assert f["weight_dtype"] == f["kv_dtype"] == "bf16" and f["quantization"] == "none"
    # model card: 1.23B parameters (1,235,814,400 in the safetensors); the head is the embedding
    assert abs(f["params_b"] - 1.2358) < 0.001 and f["active_params_b"] == f["params_b"]
    assert "tie_word_embeddings" in r.read and "rope_scaling.factor" not in r.ignored


def test_llama_3_1_8b_untied_head_counts_twice():
    f = load("llama-3.1-8b-instruct.json").fields
    assert f["tie_word_embeddings"] == 0 and f["head_dim"] == 128      # 4096 / 32: no head_dim key
    assert f["params_b"] == 8.03                                        # 8,030,261,248 parameters
    assert f["max_position_embeddings"] == 131072 and f["sliding_window_layers"] == 0


def test_llama_4_scout_text_config_chunked_local_and_moe():
    r = load("llama-4-scout-17b-16e.partial.json")   # a truncated copy: no vocab_size or torch_dtype
    f = r.fields
    assert r.family == "llama4"
    assert (f["num_layers"], f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (48, 40, 8, 128)
    # no_rope_layers is empty: transformers derives it with no_rope_layer_interval 4, and vLLM runs the
    # RoPE layers (3 of every 4) with chunked local attention of attention_chunk_size
    assert (f["chunked_local_layers"], f["attention_chunk_size"]) == (36, 8192)
    assert f["sliding_window_layers"] == 0 and f["linear_attention_layers"] == 0
    # 16 routed experts, top-1, plus one shared expert, all 48 layers MoE (interleave_moe_layer_step 1)
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (16, 1, 8192)
    assert f["shared_expert_intermediate_size"] == 8192 and f["dense_layers"] == 0
    assert f["intermediate_size"] == 16384                              # intermediate_size_mlp
    assert f["max_position_embeddings"] == 262144                       # llama3 rope keeps it
    assert has(r.problems, "vocab_size", "absent") and "params_b" not in f
    assert parses(f).chunked_local_layers == 36


def test_llama_4_maverick_interleaved_moe():
    # Maverick = Scout's text config with 128 experts and interleave_moe_layer_step 2 (MoE every other
    # layer, the rest dense with intermediate_size_mlp); values from the Maverick model card and config
    config = raw("llama-4-scout-17b-16e.partial.json")
    config["text_config"].update(num_local_experts=128, interleave_moe_layer_step=2)
    f = import_hf_config(config).fields
    assert f["num_experts"] == 128 and f["dense_layers"] == 24 and f["intermediate_size"] == 16384
    no_rope = [int((i + 1) % 4 != 0) for i in range(48)]     # the explicit list of the Instruct configs
    config["text_config"]["no_rope_layers"] = no_rope
    assert import_hf_config(config).fields["chunked_local_layers"] == 36


# --- Qwen -------------------------------------------------------------------------------------------

def test_qwen2_5_sliding_window_off():
    r = load("qwen2.5-7b-instruct.json")
    f = r.fields
    assert (f["num_layers"], f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (28, 28, 4, 128)
    assert f["sliding_window"] == 0 and f["sliding_window_layers"] == 0   # use_sliding_window false
    assert has(r.notes, "use_sliding_window", "false")
    assert f["max_position_embeddings"] == 32768 and f["vocab_size"] == 152064
    assert abs(f["params_b"] - 7.61) < 0.01                              # model card: 7.61B


def test_qwen3_head_dim_not_hidden_over_heads():
    f = load("qwen3-32b.json").fields
    assert f["head_dim"] == 128 and f["hidden_size"] // f["num_attention_heads"] == 80
    assert f["num_kv_heads"] == 8 and f["sliding_window_layers"] == 0    # sliding_window null
    assert f["max_position_embeddings"] == 40960
    assert abs(f["params_b"] - 32.8) < 0.05                              # model card: 32.8B


def test_qwen3_moe():
    f = load("qwen3-30b-a3b.json").fields
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (128, 8, 768)
    assert f["shared_expert_intermediate_size"] == 0 and f["dense_layers"] == 0   # mlp_only_layers []
    assert (f["num_kv_heads"], f["head_dim"]) == (4, 128)
    assert about(f["params_b"], 30.5, 0.01)                              # model card: 30.5B total
    # model card: 3.3B activated, counting the 0.31B input embedding that active_params_b leaves out
    assert about(f["active_params_b"] + 151936 * 2048 / 1e9, 3.3, 0.03)


def test_qwen3_next_linear_attention_hybrid():
    r = load("qwen3-next-80b-a3b-thinking.json")
    f = r.fields
    # full_attention_interval 4: every 4th layer full attention, the rest Gated DeltaNet
    assert f["linear_attention_layers"] == 36 and f["num_layers"] == 48
    assert (f["num_kv_heads"], f["head_dim"]) == (2, 256)
    # conv state (2*16*128 + 32*128) x 3 + temporal state 32 x 128 x 128, bf16
    assert f["linear_state_bytes"] == ((2 * 16 * 128 + 32 * 128) * 3 + 32 * 128 * 128) * 2 == 1_097_728
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (512, 10, 512)
    assert f["shared_expert_intermediate_size"] == 512 and f["max_position_embeddings"] == 262144
    assert about(f["params_b"], 80, 0.01)                                # model card: 80B total
    assert has(r.notes, "partial_rotary_factor")
    model = parses(f)
    assert model.linear_attention_layers == 36


# --- DeepSeek, Kimi, GLM ----------------------------------------------------------------------------

def test_deepseek_v3_mla_fp8_block_dense_layers_and_mtp():
    r = load("deepseek-v3.json")
    f = r.fields
    assert r.family == "deepseek_v3"
    assert f["attention"] == "mla" and f["num_kv_heads"] == 1 and f["head_dim"] == 512 + 64
    assert (f["kv_lora_rank"], f["qk_rope_head_dim"], f["q_lora_rank"]) == (512, 64, 1536)
    assert (f["qk_nope_head_dim"], f["v_head_dim"], f["index_head_dim"]) == (128, 128, 0)
    assert f["num_layers"] == 61 and has(r.notes, "num_nextn_predict_layers", "not counted")
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (256, 8, 2048)
    assert f["shared_expert_intermediate_size"] == 2048 and f["dense_layers"] == 3
    assert f["intermediate_size"] == 18432
    assert f["quantization"] == "fp8_block" and f["weight_dtype"] == "bf16"
    assert f["max_position_embeddings"] == 163840          # yarn: 4096 x factor 40
    # README_WEIGHTS.md: 671B main-model parameters, 36.6B activated (incl. the 0.9B output head)
    assert about(f["params_b"], 671, 0.001) and about(f["active_params_b"], 36.6, 0.002)
    assert has(r.notes, "num_key_value_heads", "128")


def test_deepseek_v3_2_index_head_dim():
    r = load("deepseek-v3.2.json")
    f = r.fields
    assert f["index_head_dim"] == 128 and f["attention"] == "mla" and f["quantization"] == "fp8_block"
    assert "index_head_dim" in r.read and "index_topk" in r.ignored
    # the checkpoint's weight table (README sources) without the MTP layer 61 and the fp8 scales:
    # 671,877,944,064 parameters
    assert abs(f["params_b"] - 671.878) < 0.001
    assert parses(f).index_head_dim == 128


def test_kimi_k2_mla_384_experts():
    f = load("kimi-k2-instruct.json").fields
    assert f["attention"] == "mla" and f["num_attention_heads"] == 64 and f["head_dim"] == 576
    assert (f["num_experts"], f["num_experts_per_tok"], f["dense_layers"]) == (384, 8, 1)
    assert f["quantization"] == "fp8_block" and f["max_position_embeddings"] == 131072  # yarn 4096 x 32
    # safetensors total 1,026,470,731,056 including ~0.06B of fp8 block scales; model card: 32B activated
    assert abs(f["params_b"] - 1026.47) < 0.1 and about(f["active_params_b"], 32, 0.02)


def test_glm_4_5_is_gqa_with_partial_rotary():
    r = load("glm-4.5-air.transformers-dump.json")
    f = r.fields
    assert f["attention"] == "gqa" and f["kv_lora_rank"] == 0          # GLM-4.5 is not MLA
    assert (f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (96, 8, 128)
    assert has(r.notes, "partial_rotary_factor", "0.5")
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (128, 8, 1408)
    assert f["shared_expert_intermediate_size"] == 1408 and f["dense_layers"] == 1
    assert f["num_layers"] == 46 and has(r.notes, "num_nextn_predict_layers")
    assert f["max_position_embeddings"] == 131072
    assert about(f["params_b"], 106, 0.01) and about(f["active_params_b"], 12, 0.07)  # card: 106B / 12B


def test_glm_4_7_modelopt_nvfp4():
    f = load("glm-4.7-nvfp4.partial.json").fields
    assert (f["quantization"], f["quant_bits"], f["quant_group_size"]) == ("nvfp4", 4, 16)
    assert f["dense_layers"] == 3 and f["num_experts"] == 160 and f["weight_dtype"] == "bf16"
    assert about(f["params_b"], 355, 0.01)      # GLM-4.5/4.7 card: 355B total (with the MTP layer)


# --- gpt-oss, Gemma, Mistral, Phi, ChatGLM, MiniMax ------------------------------------------------------

@pytest.mark.parametrize("name, layers, experts, total, active", [
    ("gpt-oss-20b.json", 24, 32, 20.9, 3.6),       # model card: 21B (20.9B) / 3.6B active
    ("gpt-oss-120b.json", 36, 128, 116.8, 5.1),    # model card: 117B (116.8B) / 5.1B active
])
def test_gpt_oss_mxfp4_alternating_window(name, layers, experts, total, active):
    r = load(name)
    f = r.fields
    assert f["quantization"] == "mxfp4"
    assert f["sliding_window"] == 128 and f["sliding_window_layers"] == layers // 2   # layer_types
    assert (f["num_kv_heads"], f["head_dim"], f["num_layers"]) == (8, 64, layers)
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (experts, 4, 2880)
    assert f["max_position_embeddings"] == 131072             # yarn 4096 x 32
    assert "weight_dtype" not in f and has(r.notes, "torch_dtype", "absent")
    assert about(f["params_b"], total, 0.002) and about(f["active_params_b"], active, 0.01)


def test_gemma2_alternating_window_and_float32():
    r = load("gemma-2-9b.json")
    f = r.fields
    assert f["sliding_window"] == 4096 and f["sliding_window_layers"] == 21       # 42 layers, every other
    assert f["head_dim"] == 256 and f["num_kv_heads"] == 8
    assert f["tie_word_embeddings"] == 1                     # no key: Gemma2Config default
    assert f["weight_dtype"] == "bf16" and has(r.notes, "float32")
    assert f["max_position_embeddings"] == 8192
    assert abs(f["params_b"] - 9.24) < 0.01                   # 9,241,705,984 parameters


def test_gemma3_text_config_pattern_6():
    r = load("gemma-3-27b-it.json")
    f = r.fields
    assert r.family == "gemma3"
    assert (f["num_layers"], f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (62, 32, 16, 128)
    assert f["sliding_window"] == 1024 and f["sliding_window_layers"] == 52      # 5 of every 6 local
    assert f["vocab_size"] == 262208 and f["tie_word_embeddings"] == 1          # class defaults
    assert f["max_position_embeddings"] == 131072       # Gemma 3's 128K already includes RoPE scaling
    assert "text_config.num_hidden_layers" in r.read and "vision_config" in r.ignored
    assert about(f["params_b"], 27.0, 0.01)              # the text decoder of the 27B model
    assert parses(f).sliding_window_layers == 52


def test_mistral_v0_1_all_layers_sliding():
    r = load("mistral-7b-v0.1.json")
    f = r.fields
    assert f["sliding_window"] == 4096 and f["sliding_window_layers"] == 32
    assert f["max_position_embeddings"] == 32768 and f["vocab_size"] == 32000
    assert about(f["params_b"], 7.24, 0.002)             # 7.24B


def test_mistral_v0_3_no_window():
    f = load("mistral-7b-instruct-v0.3.json").fields
    assert f["sliding_window"] == 0 and f["sliding_window_layers"] == 0     # sliding_window null
    assert f["vocab_size"] == 32768 and about(f["params_b"], 7.25, 0.002)


def test_mistral_small_3_multimodal_text_config():
    r = load("mistral-small-3-24b.flux2-text-encoder.json")
    f = r.fields
    assert r.family == "mistral3"
    assert (f["num_layers"], f["num_attention_heads"], f["num_kv_heads"], f["head_dim"]) == (40, 32, 8, 128)
    assert f["hidden_size"] == 5120 and f["intermediate_size"] == 32768 and f["vocab_size"] == 131072
    assert f["weight_dtype"] == "bf16" and f["sliding_window_layers"] == 0
    assert f["max_position_embeddings"] == 131072
    assert 23 < f["params_b"] < 24                       # 24B with the 0.4B vision encoder


def test_mixtral():
    f = load("mixtral-8x7b-v0.1.json").fields
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (8, 2, 14336)
    assert f["dense_layers"] == 0 and f["shared_expert_intermediate_size"] == 0
    assert about(f["params_b"], 46.7, 0.002)             # Mistral: 46.7B total, 12.9B active
    assert about(f["active_params_b"], 12.9, 0.015)


def test_phi3_mini_mha_with_window():
    f = load("phi-3-mini-4k-instruct.json").fields
    assert f["attention"] == "mha" and f["num_kv_heads"] == 32 and f["head_dim"] == 96
    assert f["sliding_window"] == 2047 and f["sliding_window_layers"] == 32
    assert f["max_position_embeddings"] == 4096 and about(f["params_b"], 3.8, 0.01)   # 3.8B


def test_phi4():
    f = load("phi-4.json").fields
    assert (f["num_kv_heads"], f["head_dim"], f["attention"]) == (10, 128, "gqa")
    assert f["sliding_window_layers"] == 0 and f["max_position_embeddings"] == 16384
    assert about(f["params_b"], 14.7, 0.005)             # 14.7B


def test_chatglm_multi_query_group_num():
    r = load("glm-4-9b-chat.transformers-dump.json")
    f = r.fields
    assert r.family == "chatglm"
    assert f["num_kv_heads"] == 2 and f["attention"] == "gqa" and f["head_dim"] == 128    # kv_channels
    assert f["num_layers"] == 40 and f["intermediate_size"] == 13696                     # ffn_hidden_size
    assert f["vocab_size"] == 151552                                                      # padded_vocab_size
    assert f["max_position_embeddings"] == 131072 and has(r.notes, "seq_length")
    assert "multi_query_group_num" in r.read and about(f["params_b"], 9.4, 0.01)          # 9.4B


def test_minimax_m1_lightning_attention_hybrid():
    r = load("minimax-m1.json")
    f = r.fields
    assert f["linear_attention_layers"] == 70 and f["num_layers"] == 80      # attn_type_list: 7 of 8
    assert f["linear_state_bytes"] == 64 * 128 * 128 * 2                     # heads x head_dim^2, bf16
    assert (f["num_kv_heads"], f["head_dim"]) == (8, 128)
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (32, 2, 9216)
    assert f["max_position_embeddings"] == 10_240_000
    assert about(f["params_b"], 456, 0.001)              # model card: 456B total, 45.9B activated
    assert about(f["active_params_b"], 45.9, 0.03)
    assert parses(f).linear_attention_layers == 70


# --- quantized checkpoints -------------------------------------------------------------------------------

def test_awq_checkpoint():
    r = load("qwen3-32b-awq.transformers-dump.json")
    f = r.fields
    assert (f["quantization"], f["quant_bits"], f["quant_group_size"]) == ("awq", 4, 128)
    assert f["weight_dtype"] == "fp16"                                   # Transformers-5 "dtype" key
    assert f["sliding_window_layers"] == 0 and has(r.notes, "64 full_attention")
    assert f["max_position_embeddings"] == 40960                         # rope_parameters: default type
    assert f["params_b"] == load("qwen3-32b.json").fields["params_b"]


def test_gptq_checkpoint():
    f = load("qwen1.5-moe-a2.7b-chat-gptq-int4.partial.json").fields
    assert (f["quantization"], f["quant_bits"], f["quant_group_size"]) == ("gptq", 4, 128)
    assert f["weight_dtype"] == "fp16" and f["attention"] == "mha"
    assert (f["num_experts"], f["num_experts_per_tok"], f["moe_intermediate_size"]) == (60, 4, 1408)
    assert f["shared_expert_intermediate_size"] == 5632
    assert about(f["params_b"], 14.3, 0.01)              # model card: 14.3B total, 2.7B activated
    assert about(f["active_params_b"] + 151936 * 2048 / 1e9, 2.7, 0.01)


def test_compressed_tensors_int4_checkpoint():
    # Kimi-K2-Thinking's published compressed-tensors block on the Kimi-K2 architecture
    config = raw("kimi-k2-instruct.json")
    config["quantization_config"] = raw("kimi-k2-thinking.quantization-config.partial.json")["quantization_config"]
    f = import_hf_config(config).fields
    assert (f["quantization"], f["quant_bits"], f["quant_group_size"]) == ("w4a16", 4, 32)


def test_compressed_tensors_fp8_scheme():
    # no published FP8 compressed-tensors config.json was available (see the README): this is the
    # scheme llm-compressor's FP8_DYNAMIC recipe writes (float 8-bit weights per channel, dynamic
    # per-token activations) on a real architecture
    config = raw("llama-3.1-8b-instruct.json")
    weights = {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": True, "dynamic": False}
    group = {"targets": ["Linear"], "weights": weights,
             "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "dynamic": True}}
    config["quantization_config"] = {"quant_method": "compressed-tensors", "format": "float-quantized",
                                     "config_groups": {"group_0": group}, "ignore": ["lm_head"]}
    f = import_hf_config(config).fields
    assert f["quantization"] == "fp8" and f["weight_dtype"] == "bf16"
    weights.update(strategy="block", block_structure=[128, 128])
    assert import_hf_config(config).fields["quantization"] == "fp8_block"


@pytest.mark.parametrize("qc, expected", [
    ({"quant_method": "fp8", "activation_scheme": "dynamic"}, ("fp8", 0, 0)),
    ({"quant_method": "fp8", "weight_block_size": [128, 128]}, ("fp8_block", 0, 0)),
    ({"quant_method": "bitsandbytes", "load_in_4bit": True}, ("bitsandbytes", 4, 64)),
    ({"quant_method": "bitsandbytes", "load_in_8bit": True}, ("int8", 8, 0)),
    ({"quant_method": "gptq", "bits": 8, "group_size": -1}, ("gptq", 8, 0)),
    ({"quant_method": "modelopt", "quantization": {"quant_algo": "NVFP4"}}, ("nvfp4", 4, 16)),
])
def test_quantization_methods(qc, expected):
    config = raw("llama-3.1-8b-instruct.json")
    config["quantization_config"] = qc
    f = import_hf_config(config).fields
    assert (f["quantization"], f["quant_bits"], f["quant_group_size"]) == expected


# --- vLLM's default max_model_len -------------------------------------------------------------------------

def test_max_model_len_follows_vllm_rope_scaling():
    base = raw("qwen2.5-7b-instruct.json")
    # Qwen2.5's model card: add yarn factor 4 over 32768 for 128K context -> vLLM derives 131072
    config = dict(base, rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768})
    r = import_hf_config(config)
    assert r.fields["max_position_embeddings"] == 131072 and "rope_scaling.factor" in r.read
    linear = dict(base, rope_scaling={"type": "linear", "factor": 2.0})
    assert import_hf_config(linear).fields["max_position_embeddings"] == 65536
    longrope = dict(base, rope_scaling={"type": "longrope", "short_factor": [1.0], "long_factor": [1.0]},
                    original_max_position_embeddings=4096)
    assert import_hf_config(longrope).fields["max_position_embeddings"] == 4096
    capped = dict(base, model_max_length=16384)
    assert import_hf_config(capped).fields["max_position_embeddings"] == 16384
    gemma = raw("gemma-3-27b-it.json")      # linear factor 8 is not applied to Gemma 3
    assert import_hf_config(gemma).fields["max_position_embeddings"] == 131072


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("{", "not valid JSON"),
    ("{'num_hidden_layers': 32}", "not valid JSON"),
    ("[1, 2]", "not a list"),
    ('"config"', "not a string"),
    ("", "not valid JSON"),
])
def test_text_that_is_not_a_json_object(text, words):
    with pytest.raises(ValueError, match=words.split()[-1]) as error:
        import_hf_config_text(text)
    assert words in str(error.value)


def test_never_evaluates_text():
    with pytest.raises(ValueError):
        import_hf_config_text("__import__('os').system('true')")


def test_not_an_object_is_a_problem_not_an_exception():
    for value in ([], "x", 3, None):
        r = import_hf_config(value)
        assert r.fields == {} and len(r.problems) == 1 and "not a JSON object" in r.problems[0]


def test_empty_config_names_the_missing_keys():
    r = import_hf_config({})
    assert r.fields == {}
    for key in ("num_hidden_layers", "num_attention_heads", "hidden_size", "vocab_size",
                "max_position_embeddings"):
        assert has(r.problems, key, "absent")


def test_bad_values_name_key_value_and_expectation():
    config = raw("llama-3.1-8b-instruct.json")
    config.update(num_attention_heads=-32, hidden_size="4096", num_key_value_heads=0)
    r = import_hf_config(config)
    assert "num_attention_heads: -32 is not a positive integer" in r.problems
    assert 'hidden_size: "4096" is not a positive integer' in r.problems
    assert "num_key_value_heads: 0 is not a positive integer" in r.problems
    assert "num_attention_heads" not in r.fields and "hidden_size" not in r.fields
    assert "num_kv_heads" not in r.fields and r.fields["num_layers"] == 32


def test_kv_heads_not_dividing_heads():
    config = raw("llama-3.1-8b-instruct.json")
    config["num_key_value_heads"] = 5
    r = import_hf_config(config)
    assert has(r.problems, "num_key_value_heads: 5", "does not divide", "32")
    assert "num_kv_heads" not in r.fields and "attention" not in r.fields
    config["num_key_value_heads"] = 64
    assert has(import_hf_config(config).problems, "num_key_value_heads: 64", "<= num_attention_heads")


def test_num_kv_heads_absent_means_mha():
    config = raw("llama-3.1-8b-instruct.json")
    del config["num_key_value_heads"]
    r = import_hf_config(config)
    assert r.fields["num_kv_heads"] == 32 and r.fields["attention"] == "mha"
    assert has(r.notes, "num_key_value_heads", "absent")


@pytest.mark.parametrize("patch", [
    {"num_hidden_layers": True},
    {"num_hidden_layers": 1.5},
    {"num_hidden_layers": float("inf")},
    {"text_config": 5},
    {"layer_types": ["sliding_attention"] * 3},
    {"layer_types": "sliding_attention"},
    {"rope_scaling": "yarn"},
    {"rope_scaling": {"type": "yarn", "factor": "4"}},
    {"quantization_config": "fp8"},
    {"quantization_config": {"quant_method": 8}},
    {"quantization_config": {"quant_method": "awq", "bits": "four"}},
    {"quantization_config": {"quant_method": "compressed-tensors", "config_groups": []}},
    {"quantization_config": {"quant_method": "hqq"}},
    {"torch_dtype": "int3"},
    {"tie_word_embeddings": "yes"},
    {"sliding_window": -1},
    {"n_routed_experts": -8, "moe_intermediate_size": 2048},
    {"attn_type_list": [0, 2]},
    {"kv_lora_rank": "512"},
    {"head_dim": 0},
    {"vocab_size": 10**12},
])
def test_bad_values_never_raise(patch):
    config = raw("llama-3.1-8b-instruct.json")
    config.update(patch)
    r = import_hf_config(copy.deepcopy(config))
    assert r.problems, patch
    first = next(iter(patch))
    assert any(first in p for p in r.problems) or first == "text_config", r.problems
    parses(r.fields) if {"num_layers", "num_kv_heads", "head_dim", "params_b"} <= set(r.fields) else None


def test_read_and_ignored_cover_the_config():
    config = raw("deepseek-v3.json")
    r = import_hf_config(config)
    top = {key.split(".")[0] for key in r.read} | set(r.ignored)
    assert top == set(config)
    assert {"kv_lora_rank", "first_k_dense_replace", "quantization_config.weight_block_size"} <= set(r.read)
    assert {"rope_theta", "routed_scaling_factor", "topk_method"} <= set(r.ignored)


# Presets and config.json fixtures were read by two different hands from the same checkpoints: they must agree.
PRESET_OF_FIXTURE = {
    "deepseek-v3.json": "deepseek-v3", "deepseek-v3.2.json": "deepseek-v3.2-exp", "gemma-2-9b.json": "gemma-2-9b",
    "gemma-3-27b-it.json": "gemma-3-27b", "glm-4.5-air.transformers-dump.json": "glm-4.5-air",
    "gpt-oss-120b.json": "gpt-oss-120b", "gpt-oss-20b.json": "gpt-oss-20b", "kimi-k2-instruct.json": "kimi-k2",
    "llama-3.1-8b-instruct.json": "llama-3.1-8b", "llama-3.2-1b-instruct.json": "llama-3.2-1b",
    "minimax-m1.json": "minimax-m1", "mistral-7b-v0.1.json": "mistral-7b-v0.1",
    "mistral-7b-instruct-v0.3.json": "mistral-7b-instruct-v0.3", "mixtral-8x7b-v0.1.json": "mixtral-8x7b",
    "phi-3-mini-4k-instruct.json": "phi-3-mini", "phi-4.json": "phi-4", "qwen2.5-7b-instruct.json": "qwen2.5-7b",
    "qwen3-30b-a3b.json": "qwen3-30b-a3b", "qwen3-32b.json": "qwen3-32b",
    "qwen3-next-80b-a3b-thinking.json": "qwen3-next-80b-a3b",
}
# the preset is the base Qwen2.5-7B (131,072 positions); the fixture is its Instruct model (32,768)
DIFFERENT_CHECKPOINT = {("qwen2.5-7b", "max_position_embeddings")}


@pytest.mark.parametrize("fixture", sorted(PRESET_OF_FIXTURE))
def test_the_presets_agree_with_their_checkpoints_config(fixture):
    from kvcache_calc.presets import model_preset

    preset_id = PRESET_OF_FIXTURE[fixture]
    imported = import_hf_config_text((DATA / fixture).read_text(encoding="utf-8")).fields
    preset = model_preset(preset_id)
    for key, value in imported.items():
        if key == "params_b":
            # the import estimates from the architecture; the presets take the card's or the checkpoint's count
            assert value == pytest.approx(preset[key], rel=0.01), key
        elif key == "active_params_b":
            # cards differ on whether the input embedding is active (it is looked up, not multiplied)
            assert value == pytest.approx(preset[key], rel=0.1), key
        elif key in ("quant_bits", "quant_group_size") and preset["quantization"] in ("fp8_block", "mxfp4"):
            continue  # the method fixes both; the import leaves them 0
        elif (preset_id, key) not in DIFFERENT_CHECKPOINT:
            assert preset.get(key) == value, f"{preset_id}.{key}: preset {preset.get(key)!r}, config.json {value!r}"
