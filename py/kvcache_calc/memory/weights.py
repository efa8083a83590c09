"""A checkpoint's weights per GPU: parameters split by role, each at the bytes its quantization gives it."""

from __future__ import annotations

from dataclasses import dataclass

from ..scenario import ModelSpec
from ..units import DTYPE_BYTES, GIB

# Bytes one quantized weight costs, scales and zero points included, for (method, bits, group size).
#   fp8 / int8: one byte, one fp32 scale per output channel (negligible).
#   fp8_block: one byte and an fp32 scale per 128 x 128 block (DeepSeek-V3's weight_block_size).
#   mxfp4: 4 bits and an 8-bit shared exponent per 32 weights (OCP MX spec) = 4.25 bits.
#   nvfp4: 4 bits and an fp8 scale per 16 weights = 4.5 bits.
#   awq / gptq / w4a16: `bits` per weight, an fp16 scale and a packed `bits`-wide zero point per group.
#   bitsandbytes (4-bit NF4): 4 bits and an fp32 absmax per 64 weights.
DEFAULT_GROUP = 128


def quantized_bytes(method: str, bits: int, group: int) -> float:
    """Bytes per quantized weight of a linear layer."""
    if method in ("fp8", "int8"):
        return 1.0
    if method == "fp8_block":
        return 1.0 + 4.0 / (128 * 128)
    if method == "mxfp4":
        return 4.25 / 8
    if method == "nvfp4":
        return 4.5 / 8
    if method == "bitsandbytes":
        return 0.5 + 4.0 / 64
    if method in ("awq", "gptq", "w4a16"):
        b = bits or 4
        g = group or DEFAULT_GROUP
        return b / 8 + (2.0 + b / 8) / g
    raise ValueError(f"model.quantization: {method!r} has no weight size")


@dataclass(frozen=True)
class ParameterSplit:
    """Parameters of the whole model by role (counts, not bytes)."""

    embedding: float        # input token embedding
    lm_head: float          # output head (0 when tied to the embedding)
    experts: float          # routed MoE experts
    replicated: float       # layers every tensor-parallel rank holds whole (MLA down-projections, kv heads past TP)
    other: float            # attention, dense MLPs, shared experts, norms: split across TP

    @property
    def total(self) -> float:
        return self.embedding + self.lm_head + self.experts + self.replicated + self.other


def _attention_params(m: ModelSpec, hidden: int) -> tuple[float, float]:
    """(split, replicated-at-TP-1) parameters of one attention layer."""
    heads = m.num_attention_heads or m.num_kv_heads
    if m.attention == "mla":
        nope = m.qk_nope_head_dim or 128
        v = m.v_head_dim or nope
        q_out = heads * (nope + m.qk_rope_head_dim)
        # vLLM's DeepSeek layers hold q_a_proj and kv_a_proj_with_mqa whole on every rank
        q_down = hidden * m.q_lora_rank
        q_split = m.q_lora_rank * q_out if m.q_lora_rank else hidden * q_out
        kv_down = hidden * (m.kv_lora_rank + m.qk_rope_head_dim)
        kv_up = m.kv_lora_rank * heads * (nope + v)
        return q_split + kv_up + heads * v * hidden, q_down + kv_down
    q = hidden * heads * m.head_dim
    kv = 2 * hidden * m.num_kv_heads * m.head_dim
    return q + kv + heads * m.head_dim * hidden, 0.0


def parameter_split(m: ModelSpec) -> ParameterSplit | None:
    """The split from the architecture, scaled to `params_b` when given; None without a hidden size."""
    hidden = m.hidden_size
    if not hidden:
        return None
    vocab = m.vocab_size or 0
    embedding = float(vocab * hidden)
    lm_head = 0.0 if m.tie_word_embeddings else embedding
    split_attn, replicated_attn = _attention_params(m, hidden)
    layers = m.num_layers
    experts = 0.0
    dense_mlp = 3.0 * hidden * (m.intermediate_size or 0)
    if m.num_experts and m.moe_intermediate_size:
        moe_layers = layers - m.dense_layers
        experts = moe_layers * m.num_experts * 3.0 * hidden * m.moe_intermediate_size
        shared = 3.0 * hidden * m.shared_expert_intermediate_size + hidden * m.num_experts
        mlp_other = moe_layers * shared + m.dense_layers * dense_mlp
    else:
        mlp_other = layers * dense_mlp
    other = layers * split_attn + mlp_other
    replicated = layers * replicated_attn
    split = ParameterSplit(embedding, lm_head, experts, replicated, other)
    if m.params_b:
        # the checkpoint's own count is the truth; the architecture gives the shares
        target = m.params_b * 1e9
        fixed = embedding + lm_head
        rest = split.total - fixed
        scale = (target - fixed) / rest if rest > 0 and target > fixed else 1.0
        split = ParameterSplit(embedding, lm_head, experts * scale, replicated * scale, other * scale)
    return split


def kv_replication(m: ModelSpec, tensor_parallel: int) -> float:
    """How many times each rank's K/V projection exceeds its 1/TP share (KV heads fewer than ranks)."""
    if m.attention == "mla" or m.num_kv_heads >= tensor_parallel:
        return 1.0
    return tensor_parallel / m.num_kv_heads


def mxfp4_padded(width: int, hidden: int, arch: str) -> tuple[int, int]:
    """The (expert width per rank, hidden size) vLLM pads MXFP4 experts to for its kernel on `arch`.

    vllm/model_executor/layers/quantization/mxfp4.py:279-333 at 0.12.0: FlashInfer on datacenter Blackwell
    (SM100) pads both to 256; ROCm to 128 (256 on gfx950, MI355X, mxfp4_utils.py:105); Triton on Hopper;
    Marlin, the other GPUs' path, wants the width a multiple of 128 and hidden of 256.
    """
    def up(value: int, step: int) -> int:
        return -(-value // step) * step
    if arch in ("blackwell", "cdna4"):
        return up(width, 256), up(hidden, 256)
    if arch == "cdna3":
        return up(width, 128), up(hidden, 128)
    if arch == "hopper":
        # triton_kernels' Hopper layout (mxfp4_utils.py:17-60): measured 1.067x the experts of gpt-oss-20b and
        # -120b on H100 (llm-d's profiles, tests/data/memory_calibration), hidden 2880 held as 3072
        return width, up(hidden, 256)
    return up(width, 128), up(hidden, 256)


def weight_bytes_per_gpu(m: ModelSpec, tensor_parallel: int, pipeline_parallel: int, arch: str = "") -> float:
    """Bytes of weights the most loaded GPU of a replica holds (`arch`: the GPU family, for kernel padding)."""
    if m.weights_gib is not None:
        return m.weights_gib * GIB / (tensor_parallel * pipeline_parallel)
    dense = DTYPE_BYTES[m.weight_dtype]
    split = parameter_split(m)
    method = m.quantization
    if split is None:
        assert m.params_b is not None
        per_param = dense if method == "none" else quantized_bytes(method, m.quant_bits, m.quant_group_size)
        return m.params_b * 1e9 * per_param / (tensor_parallel * pipeline_parallel)
    experts = split.experts
    if method == "none":
        linear = expert = dense
    else:
        q = quantized_bytes(method, m.quant_bits, m.quant_group_size)
        expert = q
        # MXFP4 checkpoints (gpt-oss) quantize only the experts; the other methods every linear layer
        linear = dense if method == "mxfp4" else q
        if method == "mxfp4" and m.moe_intermediate_size and m.hidden_size:
            width = max(1, m.moe_intermediate_size // tensor_parallel)
            padded_width, padded_hidden = mxfp4_padded(width, m.hidden_size, arch)
            experts *= (padded_width * padded_hidden) / (width * m.hidden_size)
    gpus = tensor_parallel * pipeline_parallel
    # embedding on the first stage, output head on the last: one stage holds the larger of the two
    head = (split.embedding + split.lm_head) if pipeline_parallel == 1 else max(split.embedding, split.lm_head)
    kv_extra = 0.0
    if m.attention != "mla" and m.num_kv_heads < tensor_parallel and m.hidden_size:
        kv = 2.0 * m.hidden_size * m.num_kv_heads * m.head_dim * m.num_layers
        kv_extra = kv * (kv_replication(m, tensor_parallel) - 1.0) / gpus
    return (head * dense / tensor_parallel
            + experts * expert / gpus
            + split.other * linear / gpus + kv_extra * linear
            + split.replicated * linear / pipeline_parallel)
