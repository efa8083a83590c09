"""KV bytes per token, and how vLLM lays out the KV cache of a model whose layers attend differently.

vLLM v0.13.0 (vllm/v1/core/kv_cache_utils.py) gives every attention layer pages of the same size. A
model with one kind of layer is one group; a hybrid (sliding-window, chunked local or linear layers
beside full attention) is split into groups of equally many layers, padded where the counts do not
divide (_get_kv_cache_groups_uniform_page_size, lines 935-1052), and all groups draw blocks from one
pool: num_blocks = memory // page // layers-per-group (get_num_blocks, line 815). The log's "GPU KV
cache size" is num_blocks // groups x block_size (_report_kv_cache_config, line 1259): tokens as if
every group held every token. A prefix the cache keeps costs a full-attention group all its blocks but
a window group only its last window, so the prefix cache effectively holds more than that. A linear
(Mamba-style) layer holds a recurrent state instead of tokens; with prefix caching vLLM keeps one state
per block boundary, a page each, so its groups cost a cached prefix what full attention does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..scenario import HardwareSpec, ModelSpec
from ..units import DTYPE_BYTES

# DeepSeek-V3.2's indexer keys: fp8 values plus one fp32 scale per 128 (SGLang model_runner.py:1401-1411,
# vLLM's indexer cache spec uses the same layout)
INDEXER_SCALE_BLOCK = 128


def kv_heads_per_gpu(model: ModelSpec, tensor_parallel: int) -> int:
    """KV heads each GPU stores: split across TP ranks, replicated when there are fewer than ranks."""
    if model.attention == "mla":
        return 1
    return max(1, model.num_kv_heads // tensor_parallel)


def layer_bytes_per_token(model: ModelSpec, tensor_parallel: int) -> float:
    """KV bytes one token costs in one attention layer on one GPU."""
    dtype = DTYPE_BYTES[model.kv_dtype]
    if model.attention == "mla":
        per = (model.kv_lora_rank + model.qk_rope_head_dim) * dtype
        if model.index_head_dim:
            per += model.index_head_dim + model.index_head_dim // INDEXER_SCALE_BLOCK * 4
        return per
    return 2.0 * kv_heads_per_gpu(model, tensor_parallel) * model.head_dim * dtype


def full_layers(model: ModelSpec) -> int:
    """Layers that keep every token's KV."""
    return (model.num_layers - model.sliding_window_layers - model.chunked_local_layers
            - model.linear_attention_layers)


def kv_bytes_per_token(model: ModelSpec, tensor_parallel: int = 1, pipeline_parallel: int = 1,
                       context_tokens: float | None = None) -> float:
    """KV bytes a cached token costs on one GPU, window layers discounted over a `context_tokens` sequence.

    Sliding-window layers hold at most `sliding_window` tokens per request (chunked local layers at most
    one chunk), so over a cached sequence of `context_tokens` they cost window/context of a full layer per
    token; without a context they count in full. Linear-attention layers keep a per-request state, not
    per-token KV.
    """
    per_layer = layer_bytes_per_token(model, tensor_parallel)
    layers = full_layers(model) + model.sliding_window_layers * _share(model.sliding_window, context_tokens) \
        + model.chunked_local_layers * _share(model.attention_chunk_size, context_tokens)
    return per_layer * layers / pipeline_parallel


def _share(window: int, context_tokens: float | None) -> float:
    if window and context_tokens and context_tokens > window:
        return window / context_tokens
    return 1.0


@dataclass(frozen=True)
class LayerKind:
    """Layers of one attention kind on one GPU and the groups vLLM puts them in."""

    kind: str        # full, sliding, chunked, linear
    layers: int
    groups: int
    window: int = 0  # sliding window or attention chunk, tokens

    def blocks(self, tokens: int, hw: HardwareSpec, block_size: int) -> int:
        """Blocks one layer needs for a request of `tokens` at most (KVCacheSpec.max_memory_usage_bytes)."""
        if self.kind == "linear":
            # with prefix caching vLLM keeps a linear layer's state at every block boundary (mamba_cache_mode
            # "all", vllm/config/cache.py:139 at 0.26.0; MambaSpec.max_memory_usage_bytes): one page per block
            return math.ceil(tokens / block_size)
        if self.kind == "sliding":
            # window - 1 computed tokens plus one step's, and a block for a window that starts mid-block
            # (SlidingWindowSpec, kv_cache_interface.py:221-240)
            return math.ceil(min(self.window - 1 + hw.max_num_batched_tokens, tokens) / block_size) + 1
        if self.kind == "chunked":
            # ChunkedLocalAttentionSpec, kv_cache_interface.py:202-214
            return math.ceil(min(self.window + hw.max_num_batched_tokens, tokens) / block_size)
        return math.ceil(tokens / block_size)

    def keeps(self, context_tokens: float | None) -> float:
        """Share of a cached prefix of `context_tokens` this kind keeps."""
        # a linear layer's cached states take a page per block of prefix, as full attention does
        return 1.0 if self.kind in ("full", "linear") else _share(self.window, context_tokens)


@dataclass(frozen=True)
class KvLayout:
    """vLLM's KV cache groups on one GPU: layers per group and the kinds of layer."""

    page_bytes_per_token: float        # one layer's page / block_size
    layers_per_group: int
    kinds: tuple[LayerKind, ...]

    @property
    def groups(self) -> int:
        return sum(k.groups for k in self.kinds)

    def num_blocks(self, kv_bytes: float, block_size: int) -> int:
        """Blocks of the shared pool (each group's layers take one page per block of tokens)."""
        page = self.page_bytes_per_token * block_size
        return max(0, int(kv_bytes // page // self.layers_per_group)) if page > 0 else 0

    def logged_tokens(self, kv_bytes: float, block_size: int) -> int:
        """vLLM's "GPU KV cache size: N tokens"."""
        return self.num_blocks(kv_bytes, block_size) // max(1, self.groups) * block_size

    def prefix_tokens(self, kv_bytes: float, block_size: int, context_tokens: float | None) -> int:
        """Tokens of cached prefix the pool holds when prompts are `context_tokens` long."""
        blocks = self.num_blocks(kv_bytes, block_size)
        per_token = sum(k.groups * k.keeps(context_tokens) for k in self.kinds)
        return int(blocks * block_size / per_token) if per_token > 0 else 0

    def request_bytes(self, tokens: int, hw: HardwareSpec, block_size: int) -> float:
        """KV bytes one request of `tokens` needs over every layer (check_enough_kv_cache_memory)."""
        page = self.page_bytes_per_token * block_size
        return sum(k.layers * k.blocks(tokens, hw, block_size) for k in self.kinds) * page

    def request_blocks(self, tokens: int, hw: HardwareSpec, block_size: int) -> int:
        """Pool blocks one request of `tokens` takes, one layer per group (get_max_concurrency_for_kv_cache_config)."""
        return sum(k.groups * k.blocks(tokens, hw, block_size) for k in self.kinds)


def vllm_layout(model: ModelSpec, hw: HardwareSpec) -> KvLayout:
    """The groups vLLM v0.13.0 forms for `model` on one GPU of `hw` (its pipeline stage's layers)."""
    pp = hw.num_gpus // hw.tensor_parallel
    counts = [("full", full_layers(model), 0), ("sliding", model.sliding_window_layers, model.sliding_window),
              ("chunked", model.chunked_local_layers, model.attention_chunk_size),
              ("linear", model.linear_attention_layers, 0)]
    present = [(kind, math.ceil(n / pp), window) for kind, n, window in counts if n > 0]
    per_token = layer_bytes_per_token(model, hw.tensor_parallel)
    sizes = [n for _, n, _ in present]
    # the smallest kind sets the group size, unless the kinds are within 25 % of each other (line 1013)
    size = max(sizes) if max(sizes) < min(sizes) * 1.25 else min(sizes)
    kinds = tuple(LayerKind(kind, n, math.ceil(n / size), window) for kind, n, window in present)
    return KvLayout(per_token, size, kinds)


def hybrid_block_size(model: ModelSpec, tensor_parallel: int) -> int:
    """The attention block vLLM raises a linear-attention hybrid to (0: none), so one page holds a layer's state.

    vllm/model_executor/models/config.py HybridAttentionMambaModelConfig (0.10.2 on; 0.12.0 lines 321-470):
    the attention block becomes the smallest multiple of the kernel's alignment (16 tokens; 64 for MLA) whose
    page is at least the per-layer recurrent state of one request on one GPU, and the state is padded to it.
    """
    if not (model.linear_attention_layers and model.linear_state_bytes):
        return 0
    align = 64 if model.attention == "mla" else 16
    per_token = layer_bytes_per_token(model, tensor_parallel)
    state = model.linear_state_bytes / tensor_parallel
    return align * math.ceil(state / (align * per_token)) if per_token > 0 else 0
