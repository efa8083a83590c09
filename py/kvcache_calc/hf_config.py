"""A Hugging Face config.json -> the calculator's model fields, the way vLLM reads the checkpoint.

Stdlib only (runs in CPython and Pyodide); json.loads only, never eval. Bad values never raise from
import_hf_config: each becomes a problem naming the key, its value and what was expected, and the field
is left out. Which keys mean what, per family:

- counts: num_hidden_layers | num_layers | n_layer; num_attention_heads | n_head; hidden_size | n_embd;
  vocab_size | padded_vocab_size (ChatGLM's embedding rows); num_key_value_heads, else ChatGLM's
  multi_query_group_num (when multi_query_attention), else = heads (MHA); head_dim, else ChatGLM's
  kv_channels, else hidden_size / num_attention_heads.
- multimodal checkpoints (Gemma 3, Llama 4, Mistral 3, ...): the text decoder's text_config; dtype and
  quantization_config are read at the top level first.
- MLA (kv_lora_rank present: DeepSeek-V2/V3/V3.2, Kimi-K2, GLM-5): the cache holds one latent of
  kv_lora_rank + qk_rope_head_dim values per token and layer, so num_kv_heads 1 and head_dim = that sum.
- DeepSeek's num_nextn_predict_layers (MTP) are not counted: vLLM loads them only for MTP speculation.
- MoE: n_routed_experts | num_experts | num_local_experts; the expert width moe_intermediate_size, else
  intermediate_size (Mixtral, gpt-oss, MiniMax, Llama 4); shared experts n_shared_experts x expert width
  (DeepSeek, Kimi, GLM), shared_expert_intermediate_size (Qwen2-MoE, Qwen3-Next), shared_intermediate_size
  (MiniMax), one expert-wide shared expert (Llama 4); dense layers from first_k_dense_replace /
  moe_layer_freq, decoder_sparse_step / mlp_only_layers, interleave_moe_layer_step / moe_layers.
- attention patterns: layer_types ("sliding_attention", "full_attention", "chunked_attention",
  "linear_attention"); Gemma 3 and Cohere-style sliding_window_pattern (every Nth layer global); Gemma 2
  alternating; Qwen2's max_window_layers with use_sliding_window; Llama 4 no_rope_layers (RoPE layers use
  chunked local attention of attention_chunk_size); Qwen3-Next full_attention_interval; MiniMax
  attn_type_list (0 = lightning/linear, 1 = softmax); otherwise a set sliding_window (and no
  use_sliding_window false) applies to every layer, as vLLM's Attention falls back to the model's window.
- max_position_embeddings: the max_model_len vLLM derives by default (see _vllm_max_model_len).
- params_b is not in config.json: it is estimated from the architecture and reported as an estimate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .schema import FIELDS_BY_PATH

__all__ = ["HfImport", "import_hf_config", "import_hf_config_text"]


@dataclass
class HfImport:
    """What one config.json gave: model fields, the keys read and ignored, problems, notes."""

    fields: dict
    read: list[str]
    ignored: list[str]
    problems: list[str]
    family: str
    notes: list[str] = field(default_factory=list)        # how a field was derived, assumptions made
    estimated: list[str] = field(default_factory=list)    # fields that are estimates, not config values


_DTYPES = {"bfloat16": "bf16", "bf16": "bf16", "float16": "fp16", "fp16": "fp16", "half": "fp16",
           "float32": "fp32", "fp32": "fp32", "float": "fp32"}
_DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}

# Values transformers' configuration classes fill in when config.json leaves a key out (the
# configuration_<model>.py __init__ defaults); vLLM sees the filled-in config.
_CLASS_DEFAULTS: dict[str, dict[str, Any]] = {
    "gemma": {"tie_word_embeddings": True},
    "gemma2": {"tie_word_embeddings": True},
    "gemma3_text": {"tie_word_embeddings": True, "vocab_size": 262_208, "max_position_embeddings": 131_072,
                    "sliding_window": 4096, "sliding_window_pattern": 6},
    "llama4_text": {"tie_word_embeddings": False, "no_rope_layer_interval": 4, "interleave_moe_layer_step": 1},
    "qwen3_next": {"full_attention_interval": 4},
}
_ALTERNATING_SLIDING = ("gemma2",)           # every other layer from the first: transformers Gemma2Config
_UNGATED_MLP = ("gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "phi", "gpt_bigcode", "starcoder2")
_QKV_BIAS = ("qwen2", "qwen2_moe", "qwen2_vl")   # bias on q/k/v without an attention_bias key
_EXTRA_NORMS = ("gemma2", "gemma3", "gemma3_text")  # pre/post norms around attention and MLP: 4 per layer
_QK_NORM = ("qwen3", "qwen3_moe", "qwen3_next", "gemma3", "gemma3_text", "olmo2")
_LAYER_TYPE_KINDS = ("full_attention", "sliding_attention", "chunked_attention", "linear_attention")


def import_hf_config_text(text: str) -> HfImport:
    """Import a config.json text; a ValueError says why text is not a JSON object."""
    if not isinstance(text, str):
        raise ValueError(f"config.json text must be a string, not {type(text).__name__}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"config.json is not valid JSON: {error.msg} at line {error.lineno}, "
                         f"column {error.colno}") from None
    except RecursionError:
        raise ValueError("config.json is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"config.json must be a JSON object {{...}}, not {_json_kind(data)}")
    return import_hf_config(data)


def import_hf_config(config: dict) -> HfImport:
    """Model fields from a parsed config.json; never raises for bad values (see HfImport.problems)."""
    if not isinstance(config, dict):
        return HfImport({}, [], [], [f"config: {_json_kind(config)} is not a JSON object"], "")
    try:
        return _Importer(config).run()
    except Exception as error:  # a last guard: an odd config must not break the page
        return HfImport({}, [], sorted(map(str, config)), [f"config: could not be read ({error})"],
                        _family(config))


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _family(config: dict) -> str:
    model_type = config.get("model_type")
    return model_type if isinstance(model_type, str) else ""


class _Importer:
    """One import: the config, the text decoder's sub-config, and what was read, found wrong or assumed."""

    def __init__(self, config: dict) -> None:
        self.root = config
        self.text, self.prefix = config, ""
        self.read: set[str] = set()
        self.problems: list[str] = []
        for key in ("text_config", "llm_config", "language_config"):
            sub = config.get(key)
            if isinstance(sub, dict) and sub:
                self.text, self.prefix = sub, key + "."
                break
            if key in config and sub is not None and not isinstance(sub, dict):
                self.problems.append(f"{key}: {_show(sub)} is not an object (the text decoder's config); "
                                     f"the top level is read instead")
        self.notes: list[str] = []
        self.fields: dict[str, Any] = {}
        text_type = self.text.get("model_type")
        self.model_type = text_type if isinstance(text_type, str) else _family(config)
        self.defaults = _CLASS_DEFAULTS.get(self.model_type, {})

    # --- reading ------------------------------------------------------------------------------------
    def find(self, key: str, root_first: bool = False) -> tuple[str | None, Any]:
        """(dotted path, value) of a key in the text config or the top level; (None, None) when absent."""
        places = [(self.text, self.prefix), (self.root, "")]
        if root_first:
            places.reverse()
        for where, prefix in places:
            if key in where:
                self.read.add(prefix + key)
                return prefix + key, where[key]
            if where is self.root:
                break
        return None, None

    def value(self, *keys: str, root_first: bool = False) -> tuple[str | None, Any]:
        """The first of `keys` present with a non-null value (null ones are still marked read)."""
        last_path = None
        for key in keys:
            path, value = self.find(key, root_first)
            if path is not None:
                last_path = path
                if value is not None:
                    return path, value
        return last_path, None

    def number(self, path: str | None, value: Any, expected: str, minimum: float = 1,
               integer: bool = True) -> int | float | None:
        """`value` if a finite number >= minimum (an integer when asked), else None and a problem."""
        if path is None or value is None:
            return None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and integer:
            ok = float(value).is_integer()
        if ok and value < minimum:
            ok = False
        if not ok:
            self.problems.append(f"{path}: {_show(value)} is not {expected}")
            return None
        return int(value) if integer else float(value)

    def count(self, *keys: str, minimum: int = 1) -> int | None:
        """The first present key's value as an integer >= minimum (problem and None when not)."""
        path, value = self.value(*keys)
        expected = "a positive integer" if minimum >= 1 else "a non-negative integer"
        return self.number(path, value, expected, minimum)

    def default(self, key: str) -> Any:
        """transformers' class default for an absent key of this model type (None when unknown)."""
        if key in self.defaults:
            self.notes.append(f"{self.prefix}{key}: absent; {self.model_type} configuration default "
                              f"{_show(self.defaults[key])} (transformers)")
            return self.defaults[key]
        return None

    def bool_(self, key: str, root_first: bool = False) -> bool | None:
        path, value = self.find(key, root_first)
        if path is None or value is None:
            return None
        if not isinstance(value, bool):
            self.problems.append(f"{path}: {_show(value)} is not true or false")
            return None
        return value

    # --- the import -----------------------------------------------------------------------------------
    def run(self) -> HfImport:
        f = self.fields
        self.sliding = self.chunked = self.linear = 0
        self.tied = False
        self.uncertain = False   # a count the parameter estimate needs could not be read
        layers = self._required(("num_hidden_layers", "num_layers", "n_layer"),
                                "the number of decoder layers (num_hidden_layers, num_layers or n_layer)")
        heads = self._required(("num_attention_heads", "n_head", "num_heads"), "the number of query heads")
        hidden = self._required(("hidden_size", "n_embd", "d_model"), "the model width")
        self.layers, self.heads, self.hidden = layers, heads, hidden
        for key, val in (("num_layers", layers), ("num_attention_heads", heads), ("hidden_size", hidden)):
            if val is not None:
                f[key] = val
        self._mtp()
        self._vocab()
        self._dtype()
        self._attention()
        self._mlp_and_experts()
        self._layer_kinds()
        self._tied()
        self._max_len()
        self._quantization()
        self._params()
        self._validate()
        return HfImport(f, sorted(self.read), self._ignored(), self.problems, _family(self.root),
                        self.notes, [k for k in ("params_b", "active_params_b") if k in f])

    def _required(self, keys: tuple[str, ...], what: str) -> int | None:
        """A required count; a problem names the first key when it is absent (or says why it is bad)."""
        before = len(self.problems)
        value = self.count(*keys)
        if value is None and len(self.problems) == before:
            self.problems.append(f"{self.prefix}{keys[0]}: absent; expected {what}")
        return value

    def _mtp(self) -> None:
        path, value = self.value("num_nextn_predict_layers", "num_mtp_modules", "mtp_num_hidden_layers")
        n = self.number(path, value, "a non-negative integer", 0)
        if n:
            self.notes.append(f"{path}: {n} multi-token-prediction layer(s) not counted in num_layers "
                              f"(vLLM loads them only for MTP speculative decoding)")

    def _vocab(self) -> None:
        vocab = self.count("padded_vocab_size", "vocab_size")
        if vocab is None and not any("vocab_size" in p for p in self.problems):
            vocab = self.default("vocab_size")
            if vocab is None:
                self.problems.append(f"{self.prefix}vocab_size: absent; expected the vocabulary size")
        if vocab is not None:
            self.fields["vocab_size"] = vocab
        self.vocab = vocab

    def _dtype(self) -> None:
        path, value = self.value("torch_dtype", "dtype", root_first=True)
        self.dtype_bytes = 2
        if path is None or value is None:
            self.notes.append("torch_dtype: absent; vLLM takes the dtype of the safetensors weights "
                              "(weight_dtype left unset)")
            return
        dtype = _DTYPES.get(value) if isinstance(value, str) else None
        if dtype is None:
            self.problems.append(f"{path}: {_show(value)} is not one of bfloat16, float16, float32")
            return
        if dtype == "fp32":
            # vllm/config/model.py _resolve_auto_dtype: --dtype auto downcasts float32 checkpoints
            self.notes.append(f"{path}: float32; vLLM's --dtype auto serves it in bfloat16 (float16 on "
                              f"GPUs without bfloat16), so weights and KV cache are 2-byte")
            dtype = "bf16"
        self.fields["weight_dtype"] = dtype
        self.fields["kv_dtype"] = dtype   # --kv-cache-dtype auto = the model dtype
        self.dtype_bytes = _DTYPE_BYTES[dtype]

    # --- attention ------------------------------------------------------------------------------------
    def _attention(self) -> None:
        f, heads, hidden = self.fields, self.heads, self.hidden
        path, rank = self.value("kv_lora_rank")
        self.mla = None
        if path is not None and rank is not None:
            rank = self.number(path, rank, "a positive integer (MLA latent rank)")
            if rank is not None:
                self._mla(rank)
                return
        kv = self._kv_heads()
        head_dim = self._head_dim()
        if kv is not None:
            f["num_kv_heads"] = kv
        if head_dim is not None:
            f["head_dim"] = head_dim
        self.kv, self.head_dim = kv, head_dim
        if kv is not None and heads is not None:
            f["attention"] = "mha" if kv == heads else "mqa" if kv == 1 else "gqa"
        for key in ("kv_lora_rank", "qk_rope_head_dim", "q_lora_rank", "qk_nope_head_dim", "v_head_dim",
                    "index_head_dim"):
            f[key] = 0
        path, factor = self.value("partial_rotary_factor")
        factor = self.number(path, factor, "a number in (0, 1]", 0, integer=False)
        if factor is not None and factor < 1:
            self.notes.append(f"{path}: {factor:g} — RoPE on part of each head; the KV cache size is "
                              f"unchanged")
        if hidden and heads and head_dim and head_dim * heads != hidden:
            self.notes.append(f"head_dim {head_dim} != hidden_size / num_attention_heads "
                              f"({hidden} / {heads}); the config's head_dim sizes the KV cache")

    def _kv_heads(self) -> int | None:
        heads = self.heads
        path, value = self.value("num_key_value_heads", "n_head_kv", "num_kv_heads")
        if value is None:
            mqa = self.bool_("multi_query_attention")
            gpath, groups = self.value("multi_query_group_num")
            if groups is not None and mqa is not False:
                path, value = gpath, groups
        if value is None:
            if heads is not None:
                self.notes.append("num_key_value_heads: absent; KV heads = num_attention_heads (MHA)")
            return heads
        kv = self.number(path, value, "a positive integer")
        if kv is None or heads is None:
            return kv
        if kv > heads:
            self.problems.append(f"{path}: {kv} is not <= num_attention_heads ({heads})")
            return None
        if heads % kv:
            self.problems.append(f"{path}: {kv} does not divide num_attention_heads ({heads}); expected a "
                                 f"divisor of it")
            return None
        return kv

    def _head_dim(self) -> int | None:
        path, value = self.value("head_dim", "kv_channels", "head_size")
        if value is not None:
            return self.number(path, value, "a positive integer")
        if self.hidden and self.heads:
            if self.hidden % self.heads == 0:
                return self.hidden // self.heads
            self.problems.append(f"head_dim: absent and hidden_size {self.hidden} is not divisible by "
                                 f"num_attention_heads {self.heads}; expected an explicit head_dim")
        return None

    def _mla(self, rank: int) -> None:
        f = self.fields
        rope = self.count("qk_rope_head_dim", minimum=0)
        path, qrank = self.value("q_lora_rank")
        qrank = 0 if qrank is None else self.number(path, qrank, "a non-negative integer or null", 0)
        nope = self.count("qk_nope_head_dim", minimum=0)
        v = self.count("v_head_dim", minimum=0)
        path, index = self.value("index_head_dim")
        index = 0 if index is None else self.number(path, index, "a non-negative integer", 0)
        f.update({"attention": "mla", "kv_lora_rank": rank, "num_kv_heads": 1})
        for key, val in (("qk_rope_head_dim", rope), ("q_lora_rank", qrank), ("qk_nope_head_dim", nope),
                         ("v_head_dim", v), ("index_head_dim", index)):
            if val is not None:
                f[key] = val
        if rope is not None:
            f["head_dim"] = rank + rope
        kpath, kv = self.value("num_key_value_heads")
        if kv is not None:
            self.notes.append(f"{kpath}: {_show(kv)} does not size MLA's cache: one latent of "
                              f"kv_lora_rank + qk_rope_head_dim = {rank} + {rope} values per token and layer")
        if index:
            self.notes.append(f"index_head_dim: {index} — the sparse-attention indexer also caches an fp8 "
                              f"key of {index} values (+ scales) per token and layer")
        self.mla = {"rank": rank, "rope": rope or 0, "qrank": qrank or 0, "nope": nope or 0,
                    "v": v or 0, "index": index or 0}
        self.kv, self.head_dim = 1, (rank + rope) if rope is not None else None

    # --- MLP and experts ------------------------------------------------------------------------------
    def _mlp_and_experts(self) -> None:
        f = self.fields
        layers = self.layers
        before = len(self.problems)
        experts = self.count("n_routed_experts", "num_experts", "num_local_experts", "moe_num_experts",
                             minimum=0)
        bad_experts = len(self.problems) > before
        self.uncertain = self.uncertain or bad_experts
        llama4 = self.model_type.startswith("llama4")
        if llama4:
            inter = self.count("intermediate_size_mlp")
        else:
            inter = self.count("intermediate_size", "ffn_hidden_size", "n_inner")
        self.inter = inter
        self.experts = experts or 0
        self.topk = self.expert_width = self.shared_width = self.dense_layers = 0
        if not experts:
            if inter is not None:
                f["intermediate_size"] = inter
            elif self.hidden:
                self.problems.append(f"{self.prefix}intermediate_size: absent; expected the MLP width")
            if bad_experts:
                return   # an unreadable expert count: the MoE fields stay unset, not "dense"
            f.update({"num_experts": 0, "num_experts_per_tok": 0, "moe_intermediate_size": 0,
                      "shared_expert_intermediate_size": 0, "dense_layers": 0})
            return
        topk = self.count("num_experts_per_tok", "experts_per_token", "num_experts_per_token", "moe_topk")
        path, width = self.value("moe_intermediate_size")
        if width is not None:
            width = self.number(path, width, "a positive integer")
        else:
            width = self.count("intermediate_size")   # Mixtral, gpt-oss, MiniMax, Llama 4: expert width
        if inter is None and not llama4:
            inter = width
        shared = self._shared(width, llama4)
        dense = self._dense_layers(layers, experts)
        f["num_experts"] = experts
        for key, val in (("num_experts_per_tok", topk), ("moe_intermediate_size", width),
                         ("shared_expert_intermediate_size", shared), ("dense_layers", dense),
                         ("intermediate_size", inter)):
            if val is not None:
                f[key] = val
        self.topk, self.expert_width = topk or 0, width or 0
        self.shared_width, self.dense_layers, self.inter = shared or 0, dense or 0, inter

    def _shared(self, width: int | None, llama4: bool) -> int | None:
        path, n = self.value("n_shared_experts")
        if n is not None:
            n = self.number(path, n, "a non-negative integer", 0)
            return None if n is None or width is None else n * width
        path, value = self.value("shared_expert_intermediate_size", "shared_intermediate_size")
        if value is not None:
            return self.number(path, value, "a non-negative integer", 0)
        if llama4:
            self.notes.append("Llama 4: each MoE layer also runs one shared expert of intermediate_size")
            return width
        return 0

    def _dense_layers(self, layers: int | None, experts: int) -> int | None:
        if layers is None:
            return None
        path, first = self.value("first_k_dense_replace")
        if first is not None:
            first = self.number(path, first, "a non-negative integer", 0)
            if first is None:
                return None
            fpath, freq = self.value("moe_layer_freq")
            freq = 1 if freq is None else self.number(fpath, freq, "a positive integer")
            if freq is None:
                return None
            moe = sum(1 for i in range(layers) if i >= first and i % freq == 0)
            return layers - moe
        path, moe_layers = self.value("moe_layers")
        if isinstance(moe_layers, list) and moe_layers:
            ok = [i for i in moe_layers if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < layers]
            if len(ok) != len(moe_layers):
                self.problems.append(f"{path}: {_show(moe_layers)} is not a list of layer indices below "
                                     f"{layers}")
                return None
            return layers - len(set(ok))
        path, step = self.value("interleave_moe_layer_step")
        if step is not None or self.model_type.startswith("llama4"):
            step = self.number(path, step, "a positive integer") if step is not None else self.default(
                "interleave_moe_layer_step")
            if step is None:
                return None
            return layers - len(range(step - 1, layers, step))
        spath, sparse = self.value("decoder_sparse_step")
        mpath, mlp_only = self.value("mlp_only_layers")
        if sparse is not None or mlp_only is not None:
            sparse = 1 if sparse is None else self.number(spath, sparse, "a positive integer")
            if mlp_only is None:
                mlp_only = []
            if not isinstance(mlp_only, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) for i in mlp_only):
                self.problems.append(f"{mpath}: {_show(mlp_only)} is not a list of layer indices")
                return None
            if sparse is None:
                return None
            moe = sum(1 for i in range(layers) if i not in mlp_only and experts > 0 and (i + 1) % sparse == 0)
            return layers - moe
        return 0

    # --- which layers attend how ----------------------------------------------------------------------
    def _layer_kinds(self) -> None:
        f, layers = self.fields, self.layers
        before = len(self.problems)
        window = self._window()
        sliding = chunked = linear = 0
        chunk = 0
        kinds = self._layer_types()
        if kinds is not None:
            sliding, chunked, linear = (kinds.get("sliding_attention", 0), kinds.get("chunked_attention", 0),
                                        kinds.get("linear_attention", 0))
        elif layers is not None:
            sliding = self._sliding_from_pattern(layers, window)
            linear = self._linear_layers(layers)
            chunked = self._chunked_layers(layers)
        if chunked:
            path, chunk = self.value("attention_chunk_size")
            chunk = self.number(path, chunk, "a positive integer") if chunk is not None else None
            if chunk is None:
                if path is None:
                    self.problems.append(f"{self.prefix}attention_chunk_size: absent; expected the chunk of "
                                         f"the {chunked} chunked-attention layers")
                chunked = 0
        if sliding and not window:
            if window is not None:
                self.problems.append(f"{self.prefix}sliding_window: {_show(window)} — {sliding} layers are "
                                     f"sliding-window but no window is set")
            sliding = 0
        if layers is not None and sliding + chunked + linear > layers:
            self.problems.append(f"layer kinds: {sliding} sliding + {chunked} chunked + {linear} linear "
                                 f"layers is more than num_layers {layers}")
        if len(self.problems) > before:
            self.sliding = self.chunked = self.linear = 0
            self.uncertain = True
            return   # which layers attend how is unknown: those fields stay unset
        f["sliding_window"] = window if sliding else 0
        f["sliding_window_layers"] = sliding
        f["chunked_local_layers"] = chunked
        f["attention_chunk_size"] = chunk if chunked else 0
        f["linear_attention_layers"] = linear
        f["linear_state_bytes"] = self._linear_state(linear) if linear else 0
        self.sliding, self.chunked, self.linear = sliding, chunked, linear

    def _window(self) -> int | None:
        """The sliding window in tokens; 0 when the config turns it off or sets none."""
        path, window = self.find("sliding_window")
        use = self.bool_("use_sliding_window")
        if path is None:
            window = self.default("sliding_window")
            if window is None:
                return 0
        if window is None:
            return 0
        window = self.number(path or "sliding_window", window, "a positive integer or null")
        if window is None:
            return None
        if use is False:
            self.notes.append(f"{self.prefix}use_sliding_window: false — sliding_window {window} is not used")
            return 0
        return window

    def _layer_types(self) -> dict[str, int] | None:
        path, kinds = self.value("layer_types")
        if kinds is None:
            return None
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            self.problems.append(f"{path}: {_show(kinds)} is not a list of layer-type names")
            return None
        if self.layers is not None and len(kinds) != self.layers:
            self.problems.append(f"{path}: {len(kinds)} entries is not one per layer "
                                 f"(num_hidden_layers {self.layers})")
            return None
        counts: dict[str, int] = {}
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
        unknown = sorted(set(counts) - set(_LAYER_TYPE_KINDS))
        if unknown:
            self.notes.append(f"{path}: layer types {', '.join(unknown)} counted as full attention")
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        self.notes.append(f"{path}: {summary}")
        return counts

    def _sliding_from_pattern(self, layers: int, window: int | None) -> int:
        if not window:
            return 0
        pattern = self.interval("sliding_window_pattern")
        if pattern is not None:
            if not pattern:
                return 0
            sliding = layers - layers // pattern  # every pattern-th layer is global
            self.notes.append(f"sliding_window_pattern {pattern}: every {pattern}th layer global — "
                              f"{sliding} sliding + {layers - sliding} full")
            return sliding
        if self.model_type in _ALTERNATING_SLIDING:
            sliding = (layers + 1) // 2
            self.notes.append(f"{self.model_type}: sliding window on every other layer — {sliding} sliding "
                              f"+ {layers - sliding} full")
            return sliding
        if self.bool_("use_sliding_window"):
            path, first = self.value("max_window_layers")
            first = self.number(path, first, "a non-negative integer", 0) if first is not None else None
            if first is not None:
                return max(0, layers - first)
        self.notes.append(f"sliding_window {window} on all {layers} layers (no per-layer pattern in the "
                          f"config; vLLM applies the model's window to every layer)")
        return layers

    def interval(self, key: str) -> int | None:
        """A per-N layer pattern (the config's, else its class default): None when absent, 0 when not valid."""
        path, value = self.value(key)
        if value is None:
            value = self.default(key)
        if value is None:
            return None
        return self.number(path or f"{self.prefix}{key}", value, "a positive integer") or 0

    def _linear_layers(self, layers: int) -> int:
        path, types = self.value("attn_type_list")
        if types is not None:
            if (not isinstance(types, list) or len(types) != layers
                    or not all(t in (0, 1) and not isinstance(t, bool) for t in types)):
                self.problems.append(f"{path}: {_show(types)} is not one 0 (linear) / 1 (softmax) per layer")
                return 0
            linear = types.count(0)
            self.notes.append(f"{path}: {linear} lightning (linear) attention + {layers - linear} softmax "
                              f"attention layers")
            return linear
        interval = self.interval("full_attention_interval")
        if interval is not None:
            if not interval:
                return 0
            full = layers // interval
            self.notes.append(f"full_attention_interval {interval}: {full} full attention + "
                              f"{layers - full} linear (Gated DeltaNet) layers")
            return layers - full
        return 0

    def _chunked_layers(self, layers: int) -> int:
        path, chunk = self.value("attention_chunk_size")
        if chunk is None:
            return 0
        rpath, rope = self.value("no_rope_layers")
        if isinstance(rope, list) and rope:
            if len(rope) != layers or not all(r in (0, 1) and not isinstance(r, bool) for r in rope):
                self.problems.append(f"{rpath}: {_show(rope)} is not one 0/1 per layer")
                return 0
            chunked = rope.count(1)
        else:
            interval = self.interval("no_rope_layer_interval")
            if not interval:
                return 0
            chunked = layers - layers // interval  # every interval-th layer is NoPE, global
        self.notes.append(f"Llama 4 iRoPE: {chunked} RoPE layers attend within chunks of attention_chunk_size,"
                          f" {layers - chunked} NoPE layers attend globally")
        return chunked

    def _linear_state(self, linear: int) -> int:
        """Bytes of recurrent state one request holds per linear layer at TP 1 (0 when unknown)."""
        size = self.dtype_bytes
        path, kheads = self.value("linear_num_key_heads")
        if kheads is not None:
            vheads = self.count("linear_num_value_heads")
            kdim = self.count("linear_key_head_dim")
            vdim = self.count("linear_value_head_dim")
            kernel = self.count("linear_conv_kernel_dim")
            kheads = self.number(path, kheads, "a positive integer")
            if None in (kheads, vheads, kdim, vdim, kernel):
                return 0
            # vllm/model_executor/layers/mamba/mamba_utils.py gated_delta_net_state_shape / _dtype:
            # conv state (conv_dim, kernel - 1) + temporal state (v_heads, k_dim, v_dim), model dtype
            conv_dim = kdim * kheads * 2 + vdim * vheads
            elements = conv_dim * (kernel - 1) + vheads * kdim * vdim
            self.notes.append(f"linear_state_bytes = ((k_dim*k_heads*2 + v_dim*v_heads)*(conv_kernel-1) + "
                              f"v_heads*k_dim*v_dim) * {size} bytes = {elements * size} (vLLM Gated DeltaNet "
                              f"state, model dtype; --mamba-ssm-cache-dtype float32 doubles the second term)")
            return elements * size
        if "attn_type_list" in self.text and self.heads and self.head_dim:
            # vLLM MiniMax lightning attention: linear_attention_state_shape = (heads, head_dim, head_dim)
            elements = self.heads * self.head_dim * self.head_dim
            self.notes.append(f"linear_state_bytes = num_attention_heads * head_dim^2 * {size} bytes = "
                              f"{elements * size} (vLLM lightning-attention state, model dtype)")
            return elements * size
        self.notes.append(f"{linear} linear-attention layers: state size unknown for {self.model_type}; "
                          f"linear_state_bytes 0")
        return 0

    # --- embeddings, context, quantization --------------------------------------------------------------
    def _tied(self) -> None:
        path, value = self.value("tie_word_embeddings", root_first=True)
        if value is None:
            tied = self.default("tie_word_embeddings")
            if tied is None:
                tied = False
                self.notes.append("tie_word_embeddings: absent; assumed untied (the output head is its own "
                                  "matrix)")
        elif isinstance(value, bool):
            tied = value
        else:
            self.problems.append(f"{path}: {_show(value)} is not true or false")
            return
        self.fields["tie_word_embeddings"] = 1 if tied else 0
        self.tied = tied

    def _max_len(self) -> None:
        derived = self._vllm_max_model_len()
        if derived is not None:
            self.fields["max_position_embeddings"] = derived

    def _vllm_max_model_len(self) -> int | None:
        """The max_model_len vLLM derives when none is given.

        Follows _get_and_verify_max_len in vllm/config/model.py (vllm-project/vllm at commit
        0052a5b818980ce8a0477706aaf9f75bd5af72cd, the release line that reads Transformers-5
        rope_parameters): the smallest of max_position_embeddings, n_positions, max_seq_len, seq_length,
        model_max_length, max_target_positions, max_sequence_length, max_seq_length, seq_len
        (model_max_length wins when set); then, unless the model type contains "gemma3", RoPE scaling:
        rope types su/longrope/llama3 keep it, yarn sets it to original_max_position_embeddings * factor,
        others multiply it by factor; LongRoPE models default to original_max_position_embeddings.
        tokenizer_config.json's model_max_length (also a cap in vLLM) is not part of config.json.
        """
        keys = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
                "max_target_positions", "max_sequence_length", "max_seq_length", "seq_len")
        derived, source = None, None
        for key in keys:
            path, value = self.find(key)
            if path is None or value is None:
                continue
            value = self.number(path, value, "a positive integer")
            if value is not None and (derived is None or value < derived):
                derived, source = value, key
        path, mml = self.find("model_max_length")
        if isinstance(mml, (int, float)) and not isinstance(mml, bool) and mml > 0:
            derived, source = int(mml), "model_max_length"
        if derived is None:
            derived = self.default("max_position_embeddings")
            source = "max_position_embeddings"
        if derived is None:
            self.problems.append(f"{self.prefix}max_position_embeddings: absent (and no seq_length, "
                                 f"n_positions, ...); vLLM would assume 2048")
            return None
        rope = self._rope_parameters()
        if rope and "gemma3" not in self.model_type:
            scaled, factor = float(derived), 1.0
            longrope = False
            for rpath, params in rope:
                self.read.update(f"{rpath}.{k}" for k in ("rope_type", "type", "factor",
                                                          "original_max_position_embeddings") if k in params)
                rope_type = params.get("rope_type", params.get("type"))
                if rope_type in ("su", "longrope"):
                    longrope = True
                if rope_type in ("su", "longrope", "llama3", None, "default"):
                    continue
                fvalue = params.get("factor", factor)
                factor = self.number(f"{rpath}.factor", fvalue, "a positive number", 0, integer=False)
                if factor is None:
                    return derived
                if rope_type == "yarn":
                    opath = f"{rpath}.original_max_position_embeddings"
                    original = self.number(opath, params.get("original_max_position_embeddings"),
                                           "a positive integer")
                    if original is None:
                        return derived
                    scaled = float(original)
            scaled *= factor
            if longrope:
                path, original = self.find("original_max_position_embeddings")
                original = self.number(path, original, "a positive integer") if path else None
                if original is not None:
                    self.notes.append(f"max_position_embeddings: LongRoPE — vLLM defaults max_model_len to "
                                      f"original_max_position_embeddings {original} ({source} {derived} "
                                      f"is reachable with --max-model-len)")
                    return original
            if int(scaled) != derived:
                self.notes.append(f"max_position_embeddings: vLLM's default max_model_len is {int(scaled)} "
                                  f"({source} {derived} rescaled by the RoPE scaling)")
            return int(scaled)
        if source != "max_position_embeddings":
            self.notes.append(f"max_position_embeddings: from {source} ({derived})")
        return derived

    def _rope_parameters(self) -> list[tuple[str, dict]]:
        """(path, parameters) of each RoPE scaling in the config (rope_parameters or rope_scaling)."""
        out = []
        for key in ("rope_parameters", "rope_scaling"):
            path, params = self.find(key)
            if path is None or params is None:
                continue
            if not isinstance(params, dict):
                self.problems.append(f"{path}: {_show(params)} is not an object")
                continue
            if params and all(isinstance(v, dict) for v in params.values()):
                out.extend((f"{path}.{k}", v) for k, v in params.items())   # per layer type
            else:
                out.append((path, params))
            if out:
                break
        return out

    def _quantization(self) -> None:
        f = self.fields
        path, qc = self.find("quantization_config", root_first=True)
        if path is None or qc is None:
            f["quantization"], f["quant_bits"], f["quant_group_size"] = "none", 0, 0
            return
        if not isinstance(qc, dict):
            self.problems.append(f"{path}: {_show(qc)} is not an object")
            return
        method = qc.get("quant_method")
        self.read.add(f"{path}.quant_method")
        if not isinstance(method, str):
            self.problems.append(f"{path}.quant_method: {_show(method)} is not a method name")
            return
        method = method.lower()
        result = None
        if method in ("fp8", "fbgemm_fp8"):
            block = qc.get("weight_block_size")
            if "weight_block_size" in qc:
                self.read.add(f"{path}.weight_block_size")
            result = ("fp8_block", 0, 0) if isinstance(block, list) and block else ("fp8", 0, 0)
        elif method == "mxfp4":
            result = ("mxfp4", 0, 0)
        elif method in ("awq", "awq_marlin", "gptq", "gptq_marlin"):
            result = self._int_quant(path, qc, "awq" if method.startswith("awq") else "gptq")
        elif method == "compressed-tensors":
            result = self._compressed_tensors(path, qc)
        elif method == "modelopt":
            result = self._modelopt(path, qc)
        elif method == "bitsandbytes":
            if qc.get("load_in_8bit") is True:
                self.read.add(f"{path}.load_in_8bit")
                result = ("int8", 8, 0)
            else:
                self.read.add(f"{path}.load_in_4bit")
                result = ("bitsandbytes", 4, 64)
        else:
            self.problems.append(f"{path}.quant_method: {_show(method)} is not one the calculator models "
                                 f"(fp8, mxfp4, awq, gptq, compressed-tensors, modelopt, bitsandbytes)")
            return
        if result is None:
            return
        f["quantization"], f["quant_bits"], f["quant_group_size"] = result

    def _int_quant(self, path: str, qc: dict, method: str) -> tuple[str, int, int] | None:
        bits = qc.get("bits", qc.get("w_bit"))
        group = qc.get("group_size", qc.get("q_group_size", 128))
        for key in ("bits", "w_bit", "group_size", "q_group_size"):
            if key in qc:
                self.read.add(f"{path}.{key}")
        bits = self.number(f"{path}.bits", bits, "a bit width (2, 3, 4 or 8)")
        if group == -1:
            group = 0   # one scale per output channel
        group = self.number(f"{path}.group_size", group, "a positive integer or -1 (per channel)", 0)
        if bits is None or group is None:
            return None
        return method, bits, group

    def _compressed_tensors(self, path: str, qc: dict) -> tuple[str, int, int] | None:
        groups = qc.get("config_groups")
        self.read.add(f"{path}.config_groups")
        specs = []
        if isinstance(groups, dict):
            specs = [g.get("weights") for g in groups.values() if isinstance(g, dict)]
            specs = [s for s in specs if isinstance(s, dict)]
        if not specs:
            self.problems.append(f"{path}.config_groups: {_show(groups)} has no weights scheme")
            return None
        if len(specs) > 1:
            self.notes.append(f"{path}.config_groups: {len(specs)} schemes; the first sizes the weights")
        spec = specs[0]
        bits, kind = spec.get("num_bits"), spec.get("type")
        group = spec.get("group_size")
        strategy, block = spec.get("strategy"), spec.get("block_structure")
        if kind == "float" and bits == 8:
            return ("fp8_block", 0, 0) if strategy == "block" or block else ("fp8", 0, 0)
        if kind == "float" and bits == 4:
            return "nvfp4", 4, group if isinstance(group, int) and group > 0 else 16
        if kind == "int" and bits == 4:
            return "w4a16", 4, group if isinstance(group, int) and group > 0 else 0
        if kind == "int" and bits == 8:
            return "int8", 8, group if isinstance(group, int) and group > 0 else 0
        self.problems.append(f"{path}.config_groups: weights {_show({'num_bits': bits, 'type': kind})} is "
                             f"not a scheme the calculator models (float 8, float 4, int 4, int 8)")
        return None

    def _modelopt(self, path: str, qc: dict) -> tuple[str, int, int] | None:
        algo = qc.get("quant_algo")
        if algo is None and isinstance(qc.get("quantization"), dict):
            algo = qc["quantization"].get("quant_algo")
        self.read.add(f"{path}.quant_algo")
        if isinstance(algo, str) and algo.upper() == "NVFP4":
            return "nvfp4", 4, 16
        if isinstance(algo, str) and algo.upper() == "FP8":
            return "fp8", 0, 0
        self.problems.append(f"{path}.quant_algo: {_show(algo)} is not NVFP4 or FP8")
        return None

    # --- parameters -------------------------------------------------------------------------------------
    def _params(self) -> None:
        """Estimate total and active parameters from the architecture (config.json has no count)."""
        f = self.fields
        hidden, layers, vocab = self.hidden, self.layers, self.vocab
        if not (hidden and layers and vocab and self.heads) or "tie_word_embeddings" not in f:
            if hidden and layers:
                self.notes.append("params_b: not estimated (needs hidden_size, layers, heads, vocab_size)")
            return
        if self.uncertain or (self.mla is None and not (self.kv and self.head_dim)):
            self.notes.append("params_b: not estimated (a value it needs could not be read)")
            return
        embed = vocab * hidden
        head = 0 if self.tied else vocab * hidden
        norms = (4 if self.model_type in _EXTRA_NORMS else 2) * hidden
        attention = self._attention_params()
        linear_attention = self._linear_attention_params()
        full_layers = layers - self.linear
        dense_mlp = self._mlp_params(self.inter or 0)
        expert = 3 * hidden * self.expert_width
        expert_bias = (2 * self.expert_width + hidden) if self.model_type == "gpt_oss" else 0
        moe_layers = layers - self.dense_layers if self.experts else 0
        router = hidden * self.experts + (self.experts if self.model_type in ("gpt_oss",) else 0)
        shared = 3 * hidden * self.shared_width
        total = (embed + head + hidden + layers * norms + full_layers * attention
                 + self.linear * linear_attention + (layers - moe_layers) * dense_mlp
                 + moe_layers * (self.experts * (expert + expert_bias) + router + shared))
        # MoE "activated" parameters as DeepSeek, MiniMax and OpenAI count them: the routed experts a token
        # uses, without the input embedding (a row lookup, no FLOPs); dense models: all parameters
        inactive = moe_layers * max(0, self.experts - self.topk) * (expert + expert_bias) + (0 if self.tied
                                                                                               else embed)
        params_b = round(total / 1e9, 3)
        if params_b <= 0:
            return
        f["params_b"] = params_b
        f["active_params_b"] = min(params_b, round((total - inactive) / 1e9, 3)) if self.experts else params_b
        self.notes.append("params_b: estimated from the architecture (embedding, output head unless tied, "
                          "attention, MLP or experts + shared experts + router, norms), not read from the "
                          "checkpoint" + ("; active_params_b: num_experts_per_tok routed experts per MoE "
                                          "layer, input embedding not counted" if self.experts else ""))

    def _attention_params(self) -> int:
        hidden, heads = self.hidden, self.heads
        if self.mla is not None:
            m = self.mla
            qk = m["nope"] + m["rope"]
            q = (hidden * m["qrank"] + m["qrank"] + m["qrank"] * heads * qk) if m["qrank"] else hidden * heads * qk
            kv = hidden * (m["rank"] + m["rope"]) + m["rank"] + m["rank"] * heads * (m["nope"] + m["v"])
            out = heads * m["v"] * hidden
            indexer = 0
            if m["index"]:
                path, iheads = self.value("index_n_heads")
                iheads = self.number(path, iheads, "a positive integer") or 0
                qin = m["qrank"] or hidden
                indexer = qin * iheads * m["index"] + hidden * m["index"] + 2 * m["index"] + hidden * iheads
            return q + kv + out + indexer
        hd, kv = self.head_dim, self.kv
        q_out = heads * hd * (2 if self.model_type == "qwen3_next" else 1)   # Qwen3-Next gates its output
        params = hidden * q_out + 2 * hidden * kv * hd + heads * hd * hidden
        bias = self.bool_("attention_bias")
        if bias or self.model_type in _QKV_BIAS or self.bool_("add_qkv_bias"):
            params += (heads + 2 * kv) * hd + (hidden if bias else 0)
        if self.model_type in _QK_NORM or self.bool_("use_qk_norm") or self.bool_("qk_layernorm"):
            params += 2 * hd
        if self.model_type == "gpt_oss":
            params += heads   # attention sinks
        return params

    def _linear_attention_params(self) -> int:
        if not self.linear:
            return 0
        hidden = self.hidden
        if "linear_num_key_heads" in self.text:
            g = {k: self.text.get(k) for k in ("linear_num_key_heads", "linear_num_value_heads",
                                               "linear_key_head_dim", "linear_value_head_dim",
                                               "linear_conv_kernel_dim")}
            if not all(isinstance(v, int) and v > 0 for v in g.values()):
                return 0
            kdim = g["linear_num_key_heads"] * g["linear_key_head_dim"]
            vdim = g["linear_num_value_heads"] * g["linear_value_head_dim"]
            vheads = g["linear_num_value_heads"]
            conv_dim = 2 * kdim + vdim
            # in_proj_qkvz, in_proj_ba, conv1d, dt_bias + A_log, gated norm, out_proj (vLLM Qwen3-Next)
            return (hidden * (2 * kdim + 2 * vdim) + hidden * 2 * vheads + conv_dim * g["linear_conv_kernel_dim"]
                    + 2 * vheads + g["linear_value_head_dim"] + vdim * hidden)
        inner = self.heads * self.head_dim
        # MiniMax lightning attention: qkv_proj, output_gate, out_proj, norm
        return hidden * 3 * inner + hidden * inner + inner * hidden + inner

    def _mlp_params(self, width: int) -> int:
        matrices = 2 if self.model_type in _UNGATED_MLP else 3
        return matrices * self.hidden * width + (width + self.hidden if self.bool_("mlp_bias") else 0)

    # --- checks -------------------------------------------------------------------------------------------
    def _validate(self) -> None:
        """Drop fields outside the schema ranges or inconsistent with each other, naming each."""
        f = self.fields
        for key in list(f):
            spec = FIELDS_BY_PATH.get(f"model.{key}")
            if spec is None:
                continue
            value = f[key]
            if spec.kind == "enum":
                ok = value in spec.choices
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                ok = ok and (spec.minimum is None or (value > spec.minimum if spec.exclusive_minimum
                                                      else value >= spec.minimum))
                ok = ok and (spec.maximum is None or value <= spec.maximum)
            if not ok:
                self.problems.append(f"{key}: {_show(value)} derived from the config is outside the "
                                     f"calculator's range ({spec.range_text()})")
                del f[key]
        if "num_layers" not in f:
            for key in ("sliding_window_layers", "chunked_local_layers", "linear_attention_layers",
                        "dense_layers"):
                f.pop(key, None)
        if not any(k in f for k in ("num_layers", "num_attention_heads", "hidden_size", "vocab_size",
                                    "num_kv_heads", "head_dim")):
            f.clear()

    def _ignored(self) -> list[str]:
        """Keys of the config (and of its text_config) that no field was read from."""
        def unused(path: str) -> bool:
            return path not in self.read and not any(u.startswith(path + ".") for u in self.read)

        out = [str(k) for k in self.root if unused(str(k)) and str(k) + "." != self.prefix]
        if self.prefix:
            out += [self.prefix + str(k) for k in self.text if unused(self.prefix + str(k))]
        return sorted(out)
