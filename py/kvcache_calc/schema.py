"""The scenario contract: every field, its type, range, default, unit, URL key and help text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .engine_versions import SGLANG_DEFAULT_VERSION, VLLM_DEFAULT_VERSION
from .presets import gpu_ids, gpu_preset
from .traffic.distributions import PARAMETERS, ROLES
from .traffic.spec import (CLASS_DEFAULTS, MAX_CATALOG, MAX_CLASSES, MAX_GROUPS, MAX_PATH, NAME_PATTERN, PER_CLASS,
                           ROLE_OF)

SCENARIO_VERSION = 1

DTYPES = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")
# Weights whose matrix multiplies run at the GPU's FP8 rate. FP4 weights do on GPUs with FP4 tensor
# cores (credited at the FP8 rate, conservatively); elsewhere, like int4 (W4A16), they are
# dequantised and run in BF16.
FP8_RATE_DTYPES = ("fp8", "int8")
# Checkpoints whose linear layers run W8A8 (the FP8 rate); W4A16 methods (AWQ, GPTQ, ...) dequantise to BF16.
FP8_RATE_QUANTIZATIONS = ("fp8", "fp8_block", "int8")
# FP4 checkpoints run at the FP4 tensor cores' rate on GPUs that have them (credited at the FP8 rate)
FP4_QUANTIZATIONS = ("nvfp4", "mxfp4")
FP4_GPUS = tuple(g for g in gpu_ids() if gpu_preset(g).get("fp4_tflops"))  # FP4 tensor cores: Blackwell, MI355X
ROUTINGS = ("affinity", "random", "round_robin", "least_loaded")
# Weight quantization methods whose memory the model knows (memory/weights.py says what each keeps in 16 bits)
QUANTIZATIONS = ("none", "fp8", "fp8_block", "mxfp4", "nvfp4", "awq", "gptq", "w4a16", "int8", "bitsandbytes")


@dataclass(frozen=True)
class Field:
    """One scenario field: `path` is "section.key", `kind` is int, float, enum or text."""

    path: str
    kind: str
    default: Any
    url_key: str
    unit: str
    label_en: str
    label_zh: str
    help_en: str
    help_zh: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    pattern: str = ""            # text fields: the regular expression a value must match whole
    pattern_text: str = ""       # ... and what it admits, in words (the error message's range)

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.path.split(".", 1)[1]

    def range_text(self) -> str:
        """Human-readable allowed range, used in error messages."""
        if self.kind == "enum":
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.kind == "text" and self.pattern:
            return self.pattern_text
        low = "" if self.minimum is None else (
            f"> {_num(self.minimum)}" if self.exclusive_minimum else f">= {_num(self.minimum)}")
        high = "" if self.maximum is None else f"<= {_num(self.maximum)}"
        kind = "an integer" if self.kind == "int" else "a number"
        bounds = " and ".join(b for b in (low, high) if b)
        return f"{kind} {bounds}".strip()


ENGINES = ("vllm", "sglang")
VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,3}){0,2}(\.?(post|rc|dev)\d{1,4})?$"
VERSION_TEXT = "a release number such as 0.13.0, 0.10.1.1 or 0.5.6.post2"
# a Hugging Face repository id or a local path, in characters that need no quoting in a shell
MODEL_ID_PATTERN = r"^/?[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$"
MODEL_ID_TEXT = ("a Hugging Face repository id (org/name) or a local path: letters, digits, . _ - and /, "
                 "at most 200 characters")


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _f(path, kind, default, url_key, unit, label_en, label_zh, help_en, help_zh, **kw) -> Field:
    return Field(path, kind, default, url_key, unit, label_en, label_zh, help_en, help_zh, **kw)


FIELDS: tuple[Field, ...] = (
    # --- model ---------------------------------------------------------------------------------
    _f("model.preset", "enum", "llama-3.1-8b", "preset", "", "Model preset", "模型预设",
       "A preset fills every model field; any field you set overrides it.",
       "预设会填好所有模型字段；你填写的字段会覆盖预设值。", optional=True),
    _f("model.num_layers", "int", None, "layers", "layers", "Layers", "层数",
       "Transformer layers (decoder blocks).", "Transformer 解码层数。",
       minimum=1, maximum=1000, optional=True),
    _f("model.num_attention_heads", "int", None, "heads", "heads", "Attention heads", "注意力头数",
       "Query heads per layer (informational; KV size uses KV heads).",
       "每层查询头数（仅供参考；KV 大小取决于 KV 头数）。", minimum=1, maximum=4096, optional=True),
    _f("model.num_kv_heads", "int", None, "kvheads", "heads", "KV heads", "KV 头数",
       "Key/value heads per layer: equal to attention heads for MHA, fewer for GQA, 1 for MQA.",
       "每层 KV 头数：MHA 等于注意力头数，GQA 更少，MQA 为 1。", minimum=1, maximum=4096,
       optional=True),
    _f("model.head_dim", "int", None, "headdim", "dims", "Head dimension", "头维度",
       "Dimension of each attention head.", "每个注意力头的维度。", minimum=1, maximum=4096,
       optional=True),
    _f("model.hidden_size", "int", None, "hidden", "dims", "Hidden size", "隐藏层维度",
       "Model width; used to estimate activation memory.", "模型宽度；用于估算激活内存。",
       minimum=1, maximum=1_000_000, optional=True),
    _f("model.intermediate_size", "int", None, "inter", "dims", "MLP width", "MLP 宽度",
       "Intermediate size of a dense MLP (MoE models: of their dense layers; experts have their own width).",
       "稠密 MLP 的中间维度（MoE 模型指其稠密层；专家另有宽度）。",
       minimum=1, maximum=10_000_000, optional=True),
    _f("model.vocab_size", "int", None, "vocab", "tokens", "Vocabulary", "词表大小",
       "Vocabulary size; the logits of the profiling batch dominate vLLM's activation peak.",
       "词表大小；vLLM 预分析批次的 logits 是激活峰值的主要部分。",
       minimum=1, maximum=10_000_000, optional=True),
    _f("model.attention", "enum", None, "attn", "", "Attention type", "注意力类型",
       "mha/gqa/mqa store K and V per KV head; mla stores one compressed latent per token.",
       "mha/gqa/mqa 每个 KV 头存 K 和 V；mla 每个 token 存一个压缩潜向量。",
       choices=("mha", "gqa", "mqa", "mla"), optional=True),
    _f("model.kv_lora_rank", "int", None, "lora", "dims", "MLA latent rank", "MLA 潜向量秩",
       "MLA only: kv_lora_rank (DeepSeek-V3: 512).", "仅 MLA：kv_lora_rank（DeepSeek-V3 为 512）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.qk_rope_head_dim", "int", None, "rope", "dims", "MLA RoPE dim", "MLA RoPE 维度",
       "MLA only: qk_rope_head_dim (DeepSeek-V3: 64).", "仅 MLA：qk_rope_head_dim（DeepSeek-V3 为 64）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.sliding_window", "int", None, "swa", "tokens", "Sliding window", "滑动窗口",
       "Window of sliding-window layers; such a layer keeps at most this many tokens per request (0 = none).",
       "滑动窗口层的窗口；这类层每个请求最多保留这么多 token（0 表示无）。",
       minimum=0, maximum=100_000_000, optional=True),
    _f("model.sliding_window_layers", "int", None, "swalayers", "layers", "Sliding-window layers",
       "滑动窗口层数", "How many layers use the sliding window.", "使用滑动窗口的层数。",
       minimum=0, maximum=1000, optional=True),
    _f("model.linear_attention_layers", "int", None, "linlayers", "layers", "Linear-attention layers",
       "线性注意力层数", "Mamba / linear-attention layers: a fixed state per request, no per-token KV.",
       "Mamba / 线性注意力层：每个请求固定状态，没有逐 token 的 KV。",
       minimum=0, maximum=1000, optional=True),
    _f("model.params_b", "float", None, "params", "B params", "Parameters", "参数量",
       "Total parameters in billions; weights = parameters x weight dtype.",
       "总参数量（十亿）；权重内存 = 参数量 × 权重数据类型字节数。",
       minimum=0.0, maximum=100_000.0, exclusive_minimum=True, optional=True),
    _f("model.active_params_b", "float", None, "active", "B params", "Active parameters",
       "激活参数量", "Parameters used per token (MoE); equals parameters for dense models.",
       "每个 token 实际使用的参数（MoE）；稠密模型等于总参数量。",
       minimum=0.0, maximum=100_000.0, exclusive_minimum=True, optional=True),
    _f("model.weight_dtype", "enum", None, "wdtype", "", "Weight dtype", "权重数据类型",
       "Data type of the weights.", "权重的数据类型。", choices=DTYPES, optional=True),
    _f("model.kv_dtype", "enum", None, "kvdtype", "", "KV cache dtype", "KV 缓存数据类型",
       "Data type of the KV cache (vLLM --kv-cache-dtype).", "KV 缓存的数据类型（vLLM --kv-cache-dtype）。",
       choices=DTYPES, optional=True),
    _f("model.tie_word_embeddings", "int", None, "tied", "", "Tied embeddings", "共享词嵌入",
       "1 when the output head reuses the input embedding matrix (tie_word_embeddings), else 0.",
       "输出头复用输入词嵌入矩阵时为 1（tie_word_embeddings），否则为 0。", minimum=0, maximum=1, optional=True),
    _f("model.max_position_embeddings", "int", None, "maxpos", "tokens", "Longest context", "最长上下文",
       "The longest context the checkpoint declares (max_position_embeddings); vLLM's default max_model_len.",
       "检查点声明的最长上下文（max_position_embeddings）；即 vLLM 默认的 max_model_len。",
       minimum=0, maximum=100_000_000, optional=True),
    _f("model.num_experts", "int", None, "experts", "experts", "Routed experts", "路由专家数",
       "Routed experts per MoE layer (0 for a dense model).", "每个 MoE 层的路由专家数（稠密模型为 0）。",
       minimum=0, maximum=100_000, optional=True),
    _f("model.num_experts_per_tok", "int", None, "topk", "experts", "Experts per token", "每 token 专家数",
       "Routed experts each token uses.", "每个 token 使用的路由专家数。", minimum=0, maximum=100_000, optional=True),
    _f("model.moe_intermediate_size", "int", None, "moeinter", "dims", "Expert width", "专家宽度",
       "Intermediate size of one routed expert.", "单个路由专家的中间维度。", minimum=0, maximum=10_000_000,
       optional=True),
    _f("model.shared_expert_intermediate_size", "int", None, "sharedinter", "dims", "Shared-expert width",
       "共享专家宽度", "Total intermediate size of the shared expert(s) of an MoE layer (0 = none).",
       "一个 MoE 层共享专家的总中间维度（0 表示没有）。", minimum=0, maximum=10_000_000, optional=True),
    _f("model.dense_layers", "int", None, "denselayers", "layers", "Dense-MLP layers", "稠密 MLP 层数",
       "MoE models: how many layers keep a dense MLP (DeepSeek's first_k_dense_replace, Llama 4's interleave).",
       "MoE 模型：保留稠密 MLP 的层数（DeepSeek 的 first_k_dense_replace、Llama 4 的交错层）。",
       minimum=0, maximum=1000, optional=True),
    _f("model.q_lora_rank", "int", None, "qlora", "dims", "MLA query rank", "MLA 查询秩",
       "MLA only: q_lora_rank (0 = full-rank queries).", "仅 MLA：q_lora_rank（0 表示满秩查询）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.qk_nope_head_dim", "int", None, "nope", "dims", "MLA no-RoPE dim", "MLA 非 RoPE 维度",
       "MLA only: qk_nope_head_dim (DeepSeek-V3: 128).", "仅 MLA：qk_nope_head_dim（DeepSeek-V3 为 128）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.v_head_dim", "int", None, "vdim", "dims", "MLA value dim", "MLA value 维度",
       "MLA only: v_head_dim (DeepSeek-V3: 128).", "仅 MLA：v_head_dim（DeepSeek-V3 为 128）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.index_head_dim", "int", None, "indexdim", "dims", "Indexer key dim", "索引器键维度",
       "DeepSeek-V3.2 sparse attention: the indexer's key width cached per token and layer (0 = none).",
       "DeepSeek-V3.2 稀疏注意力：索引器每 token 每层缓存的键宽度（0 表示没有）。",
       minimum=0, maximum=65536, optional=True),
    _f("model.chunked_local_layers", "int", None, "locallayers", "layers", "Chunked local layers",
       "分块局部注意力层数", "Layers that attend only within fixed chunks (Llama 4's local attention).",
       "只在固定分块内做注意力的层数（Llama 4 的局部注意力）。", minimum=0, maximum=1000, optional=True),
    _f("model.attention_chunk_size", "int", None, "chunk", "tokens", "Attention chunk", "注意力分块",
       "Chunk of the chunked local layers (Llama 4: 8192).", "分块局部注意力层的分块大小（Llama 4 为 8192）。",
       minimum=0, maximum=100_000_000, optional=True),
    _f("model.linear_state_bytes", "int", None, "linstate", "bytes", "Linear-layer state", "线性层状态",
       "Recurrent state one request holds in each linear-attention layer at tensor parallel 1.",
       "张量并行为 1 时，每个请求在每个线性注意力层保存的循环状态字节数。",
       minimum=0, maximum=10**12, optional=True),
    _f("model.quantization", "enum", None, "quant", "", "Weight quantization", "权重量化",
       "How the checkpoint's linear layers are quantized; embeddings, norms and what the method leaves out "
       "stay in the weight dtype.",
       "检查点线性层的量化方式；词嵌入、归一化层以及该方法不量化的部分保持权重数据类型。",
       choices=QUANTIZATIONS, optional=True),
    _f("model.quant_bits", "int", None, "qbits", "bits", "Quantized bits", "量化位数",
       "Bits per quantized weight (AWQ/GPTQ: 4 or 8).", "每个量化权重的位数（AWQ/GPTQ：4 或 8）。",
       minimum=0, maximum=16, optional=True),
    _f("model.quant_group_size", "int", None, "qgroup", "weights", "Quantization group", "量化分组",
       "Weights that share one scale (AWQ/GPTQ: usually 128; 0 = per channel).",
       "共享一个缩放因子的权重数（AWQ/GPTQ 通常为 128；0 表示按通道）。", minimum=0, maximum=1_000_000,
       optional=True),
    _f("model.weights_gib", "float", None, "weights", "GiB", "Weights size", "权重大小",
       "Total weight memory; overrides parameters x dtype when set.",
       "权重总内存；填写后覆盖“参数量 × 数据类型”。",
       minimum=0.0, maximum=1_000_000.0, exclusive_minimum=True, optional=True),
    # --- hardware ------------------------------------------------------------------------------
    _f("hardware.gpu", "enum", "h100-sxm-80gb", "gpu", "", "GPU", "GPU",
       "GPU preset: memory, bandwidth and TFLOP/s.", "GPU 预设：显存、带宽和算力。", optional=True),
    _f("hardware.memory_gib", "float", None, "mem", "GiB", "Memory per GPU", "每卡显存",
       "Memory per GPU as the driver reports it; overrides the GPU preset.",
       "驱动报告的每卡显存；覆盖 GPU 预设。", minimum=0.0, maximum=100_000.0,
       exclusive_minimum=True, optional=True),
    _f("hardware.num_gpus", "int", 1, "gpus", "GPUs", "GPUs per replica", "每副本 GPU 数",
       "GPUs that serve one copy of the model (tensor x pipeline parallel).",
       "服务一份模型副本的 GPU 数（张量并行 × 流水线并行）。", minimum=1, maximum=1024),
    _f("hardware.tensor_parallel", "int", None, "tp", "GPUs", "Tensor parallel", "张量并行",
       "Tensor-parallel size; must divide the GPUs per replica (the rest is pipeline parallel). Default: all of them.",
       "张量并行度；须整除每副本 GPU 数（其余为流水线并行）。默认等于全部 GPU。",
       minimum=1, maximum=1024, optional=True),
    _f("hardware.gpu_memory_utilization", "float", None, "util", "fraction", "GPU memory utilization",
       "显存利用率", "Share of GPU memory vLLM may use (--gpu-memory-utilization). Empty: the release's default "
       "(0.9; 0.92 from vLLM 0.20).",
       "vLLM 可使用的显存比例（--gpu-memory-utilization）。留空：该版本的默认值（0.9；vLLM 0.20 起为 0.92）。",
       minimum=0.0, maximum=1.0, exclusive_minimum=True, optional=True),
    _f("hardware.max_num_batched_tokens", "int", None, "mbt", "tokens", "Max batched tokens",
       "最大批处理 token 数",
       "Tokens one engine step may hold (vLLM --max-num-batched-tokens, SGLang --chunked-prefill-size); sets "
       "the activation peak the engine reserves. Empty: the engine's default for the GPU.",
       "一个引擎步最多处理的 token 数（vLLM --max-num-batched-tokens，SGLang --chunked-prefill-size）；决定引擎"
       "预留的激活峰值。留空：引擎对该 GPU 的默认值。", minimum=1, maximum=10_000_000, optional=True),
    _f("hardware.max_num_seqs", "int", None, "seqs", "requests", "Max running requests",
       "最大并发请求数",
       "At most this many requests run (and pin their blocks) at once (vLLM --max-num-seqs, SGLang "
       "--max-running-requests). Empty: the engine's default for the GPU.",
       "同时运行（并占住其缓存块）的请求数上限（vLLM --max-num-seqs，SGLang --max-running-requests）。留空："
       "引擎对该 GPU 的默认值。", minimum=1, maximum=1_000_000, optional=True),
    _f("hardware.max_model_len", "int", None, "maxlen", "tokens", "Max model length", "最大模型长度",
       "Longest request (prompt + output) the engine accepts (--max-model-len); the engine refuses to start "
       "when one such request does not fit in the KV cache. Empty: the model's longest context.",
       "引擎接受的最长请求（提示 + 输出，--max-model-len）；一个这样长的请求放不进 KV 缓存时引擎拒绝启动。"
       "留空：模型的最长上下文。", minimum=1, maximum=100_000_000, optional=True),
    _f("hardware.cuda_graphs", "enum", "on", "graphs", "", "CUDA graphs", "CUDA 图",
       "on: the engine captures CUDA graphs (their memory comes from outside the KV budget in vLLM, from "
       "the non-static share in SGLang); off: --enforce-eager / --disable-cuda-graph.",
       "on：引擎捕获 CUDA 图（vLLM 中其内存不在 KV 预算内，SGLang 中来自非静态部分）；off：--enforce-eager / "
       "--disable-cuda-graph。", choices=("on", "off")),
    _f("hardware.mem_fraction_static", "float", None, "memfrac", "fraction", "SGLang static memory share",
       "SGLang 静态显存比例",
       "SGLang only: share of GPU memory for weights plus the KV pool (--mem-fraction-static). Empty: "
       "SGLang's default for the GPU.",
       "仅 SGLang：权重加 KV 池占显存的比例（--mem-fraction-static）。留空：SGLang 对该 GPU 的默认值。",
       minimum=0.0, maximum=1.0, exclusive_minimum=True, optional=True),
    _f("hardware.tflops", "float", None, "tflops", "TFLOP/s", "Compute per GPU", "每卡算力",
       "Dense TFLOP/s per GPU at the weights' precision; overrides the GPU preset (BF16; FP8 for fp8/int8 weights and "
       "FP8/INT8 checkpoints, and for FP4 ones on GPUs with FP4 tensor cores; AWQ/GPTQ run in BF16).",
       "每卡在权重精度下的稠密 TFLOP/s；覆盖 GPU 预设（BF16；fp8/int8 权重及 FP8/INT8 检查点用 FP8，FP4 检查点在有 FP4 "
       "张量核心的 GPU 上也是；AWQ/GPTQ 按 BF16）。",
       minimum=0.0, maximum=1_000_000.0, exclusive_minimum=True, optional=True),
    _f("hardware.hbm_tb_per_s", "float", None, "hbm", "TB/s", "Memory bandwidth per GPU", "每卡显存带宽",
       "HBM bandwidth per GPU; sets decode speed; overrides the GPU preset.",
       "每卡 HBM 带宽；决定解码速度；覆盖 GPU 预设。",
       minimum=0.0, maximum=1_000.0, exclusive_minimum=True, optional=True),
    _f("hardware.activation_reserve_gib", "float", None, "act", "GiB", "Activation reserve",
       "激活预留", "Memory per GPU reserved for activations and non-torch use; estimated when empty.",
       "每卡为激活和非 torch 用途预留的内存；留空则估算。",
       minimum=0.0, maximum=100_000.0, optional=True),
    # --- cache ---------------------------------------------------------------------------------
    _f("cache.block_size", "int", 16, "block", "tokens", "Block size", "块大小",
       "Tokens per KV block; only full blocks are cached and reused.",
       "每个 KV 块的 token 数；只有满块会被缓存和复用。", minimum=1, maximum=4096),
    _f("cache.capacity_tokens", "int", None, "cap", "tokens", "Cache capacity", "缓存容量",
       "KV cache capacity per replica; overrides the memory model when set.",
       "每个副本的 KV 缓存容量；填写后覆盖内存模型。", minimum=1, maximum=10**13, optional=True),
    _f("cache.policy", "enum", "lru", "policy", "", "Eviction policy", "淘汰策略",
       "lru: least recently used block goes first (vLLM, SGLang default); fifo and lfu: simulation only.",
       "lru：最近最少使用的块先被淘汰（vLLM、SGLang 默认）；fifo 与 lfu 仅支持仿真。",
       choices=("lru", "fifo", "lfu")),
    _f("cache.admission", "enum", "engine", "admit", "", "What enters the cache", "进入缓存的内容",
       "engine: the full blocks of prompt and output when a request finishes (vLLM, SGLang); trace_replay: "
       "every block id of the prompt, its partial last one too, and no output, as replaying a trace does "
       "(traces name no output blocks).",
       "engine：请求结束时提示与输出的满块（vLLM、SGLang）；trace_replay：提示的每个块 ID（含最后的不满块），"
       "不含输出，与回放 trace 时相同（trace 不记录输出块）。", choices=("engine", "trace_replay")),
    # --- workload ------------------------------------------------------------------------------
    _f("workload.arrival_rate", "float", 1.0, "rate", "conv/s", "Conversation arrival rate",
       "会话到达率", "New conversations per second (Poisson).", "每秒新开始的会话数（泊松到达）。",
       minimum=0.0, maximum=1_000_000.0, exclusive_minimum=True),
    _f("workload.turns_mean", "float", 5.0, "turns", "turns", "Turns per conversation",
       "每会话轮数", "Mean number of requests in a conversation (an integer when fixed).",
       "一个会话的平均请求数（固定分布时须为整数）。", minimum=1.0, maximum=10_000.0),
    _f("workload.turns_dist", "enum", "geometric", "tdist", "", "Turns distribution", "轮数分布",
       "geometric: P(N=k) = p(1-p)^(k-1) with the given mean; fixed: every conversation has that many turns.",
       "geometric：几何分布，均值如上；fixed：每个会话轮数相同。", choices=("geometric", "fixed")),
    _f("workload.think_time_s", "float", 60.0, "think", "s", "Think time", "思考时间",
       "Mean time from the end of a response to the next request of the same conversation.",
       "从一次回复结束到同一会话下一次请求的平均时间。", minimum=0.0, maximum=10_000_000.0),
    _f("workload.think_dist", "enum", "exponential", "zdist", "", "Think-time distribution",
       "思考时间分布", "exponential with the given mean, or fixed.", "指数分布（均值如上）或固定值。",
       choices=("exponential", "fixed")),
    _f("workload.user_tokens", "int", 200, "user", "tokens", "User tokens per turn",
       "每轮用户 token", "New user tokens in each turn's prompt.", "每轮提示中新增的用户 token 数。",
       minimum=1, maximum=10_000_000),
    _f("workload.output_tokens", "int", 400, "out", "tokens", "Output tokens per turn",
       "每轮输出 token", "Tokens the model generates per turn; they become part of the next prompt.",
       "每轮模型生成的 token 数；它们会成为下一轮提示的一部分。", minimum=0, maximum=10_000_000),
    _f("workload.system_prompt_tokens", "int", 1000, "sys", "tokens", "System prompt", "系统提示",
       "Shared system prompt, identical for every conversation.", "所有会话共享且相同的系统提示。",
       minimum=0, maximum=10_000_000),
    # --- cluster -------------------------------------------------------------------------------
    _f("cluster.replicas", "int", 1, "replicas", "replicas", "Replicas", "副本数",
       "Data-parallel copies of the model, each with its own cache.",
       "数据并行的模型副本数，每个副本有自己的缓存。", minimum=1, maximum=100_000),
    _f("cluster.routing", "enum", "affinity", "routing", "", "Routing", "路由",
       "affinity: a conversation stays on one replica (prefix-aware routers such as llm-d, Dynamo); "
       "random, round_robin, least_loaded ignore the prefix (their hit rates come from simulation).",
       "affinity：一个会话始终落在同一副本（llm-d、Dynamo 等前缀感知路由）；random、round_robin、"
       "least_loaded 不看前缀（其命中率来自仿真）。", choices=ROUTINGS),
    # --- latency -------------------------------------------------------------------------------
    _f("latency.mfu", "float", 0.4, "mfu", "fraction", "Prefill MFU", "预填充 MFU",
       "Model-FLOPs utilisation of prefill: share of the GPU's peak TFLOP/s prefill achieves.",
       "预填充的模型算力利用率：预填充达到的 GPU 峰值算力比例。",
       minimum=0.0, maximum=1.0, exclusive_minimum=True),
    _f("latency.mbu", "float", 0.7, "mbu", "fraction", "Decode bandwidth use", "解码带宽利用率",
       "Share of HBM bandwidth a decode step achieves (weights + KV read each step).",
       "解码每步（读取权重和 KV）达到的 HBM 带宽比例。", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    _f("latency.price_per_gpu_hour", "float", None, "price", "$/GPU-h", "GPU price", "GPU 单价",
       "Optional price of one GPU-hour; turns GPUs saved into money per day.",
       "可选：每 GPU 小时价格；把节省的 GPU 换算为每天节省的金额。",
       minimum=0.0, maximum=1_000_000.0, optional=True),
    # --- deploy: the serving engine (its memory model sizes the cache) and its command line ---------
    _f("deploy.engine", "enum", "vllm", "engine", "", "Serving engine", "推理引擎",
       "The engine that serves the model: how the KV cache is sized (vLLM V1's memory profile or SGLang's static "
       "share, each engine's defaults for the GPU) and the command lines written for it.",
       "提供服务的推理引擎：决定 KV 缓存的大小如何计算（vLLM V1 的显存分析或 SGLang 的静态比例，以及各引擎对该 GPU 的"
       "默认值），以及为它生成的命令行。", choices=ENGINES),
    _f("deploy.engine_version", "text", None, "ver", "", "Engine release", "引擎版本",
       "The engine release whose memory accounting and defaults apply (e.g. 0.10.1 or 0.20.0 for vLLM, 0.4.9 "
       "for SGLang); releases before vLLM 0.8.0 are the V0 engine. Empty: the release the command lines are "
       f"checked against (vLLM {VLLM_DEFAULT_VERSION}, SGLang {SGLANG_DEFAULT_VERSION}).",
       "按哪个引擎版本的显存核算方式和默认值计算（如 vLLM 0.10.1 或 0.20.0，SGLang 0.4.9）；vLLM 0.8.0 之前为 V0 "
       f"引擎。留空：命令行所核对的版本（vLLM {VLLM_DEFAULT_VERSION}，SGLang {SGLANG_DEFAULT_VERSION}）。",
       optional=True, pattern=VERSION_PATTERN, pattern_text=VERSION_TEXT, maximum=20),
    _f("deploy.flashinfer", "enum", None, "fi", "", "FlashInfer installed", "已安装 FlashInfer",
       "Whether FlashInfer is installed where vLLM runs (its Docker image has it; pip installs it from 0.12). "
       "Before 0.12 vLLM then samples top-k/top-p without sorting the vocabulary, so its memory profile reserves "
       "less; from 0.12 it makes no difference. Empty: yes, as in vLLM's Docker image.",
       "vLLM 运行环境是否安装了 FlashInfer（其 Docker 镜像自带；pip 安装从 0.12 起自带）。0.12 之前，安装时 vLLM "
       "不对词表排序即可完成 top-k/top-p 采样，显存分析预留更少；0.12 起无影响。留空：是（与 vLLM 的 Docker 镜像相同）。",
       choices=("yes", "no"), optional=True),
    _f("deploy.model_id", "text", None, "hf", "", "Checkpoint", "模型检查点",
       "Hugging Face repository or local path the engine loads; empty: the preset's own repository.",
       "引擎加载的 Hugging Face 仓库或本地路径；留空：预设自身的仓库。",
       optional=True, pattern=MODEL_ID_PATTERN, pattern_text=MODEL_ID_TEXT, maximum=200),
)

# Tiers below the GPU: a list of items, each from these fields ("tiers.<i>.<key>" in messages); the
# URL carries a whole tier in one value (tier=<name>:<size>gb|tok[:<GB/s>]): the capacity fields'
# url_keys are the size suffixes.
TIER_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,23}$"
MAX_TIERS = 3
TIER_READ_DEFAULTS = {"cpu": 50.0, "dram": 50.0, "ssd": 7.0, "nvme": 7.0}
TIER_FIELDS: tuple[Field, ...] = (
    _f("tiers.name", "text", None, "", "", "Tier", "层级",
       'Tier name (lower-case letters, digits, "-" or "_"); cpu and ssd get default bandwidths.',
       "层级名称（小写字母、数字、“-”或“_”）；cpu 与 ssd 有默认带宽。"),
    _f("tiers.capacity_gb", "float", None, "gb", "GB", "Capacity", "容量",
       "KV capacity of this tier per replica, in GB (10^9 bytes).", "每个副本在该层的 KV 容量（GB，10^9 字节）。",
       minimum=0.0, maximum=1e9, exclusive_minimum=True, optional=True),
    _f("tiers.capacity_tokens", "int", None, "tok", "tokens", "Capacity", "容量",
       "KV capacity of this tier per replica, in tokens (instead of GB).", "每个副本在该层的 KV 容量（token，代替 GB）。",
       minimum=1, maximum=10**14, optional=True),
    _f("tiers.read_gb_per_s", "float", None, "", "GB/s", "Read bandwidth per GPU", "每卡读取带宽",
       "Bandwidth each GPU loads this tier's KV at (defaults: cpu 50 GB/s PCIe 5.0 x16, ssd 7 GB/s NVMe).",
       "每张 GPU 从该层加载 KV 的带宽（默认：cpu 50 GB/s 即 PCIe 5.0 x16，ssd 7 GB/s 即 NVMe）。",
       minimum=0.0, maximum=100_000.0, exclusive_minimum=True, optional=True),
)
TIERS_POLICY = _f("tiers_policy", "enum", "exclusive", "tierpol", "", "Tier policy", "分层策略",
                  "exclusive: a block lives in one tier, demoted on eviction and promoted on a hit; "
                  "inclusive: every tier keeps a copy of what the GPU holds (write-through).",
                  "exclusive：一个块只在一层，淘汰时下沉、命中时上移；inclusive：每层都保存 GPU 内容的副本（直写）。",
                  choices=("exclusive", "inclusive"))

# Traffic classes and prefix groups (workload.classes, workload.prefixes): list items, each from these
# fields ("workload.classes.<i>.<key>" in messages). A law is a number (fixed) or {"dist": kind,
# parameters}; `fit` also writes empirical laws and mixtures, which the page shows and keeps.
GROUP_FIELDS: tuple[Field, ...] = (
    _f("prefixes.name", "text", None, "", "", "Prefix group", "前缀组",
       'Name (lower-case letters, digits, "-" or "_"); classes name the groups their prompts start with.',
       "名称（小写字母、数字、“-”或“_”）；类别用名称指明其提示以哪些前缀组开头。"),
    _f("prefixes.tokens", "int", None, "", "tokens", "Tokens", "token 数",
       "Tokens of one variant (a system prompt, a tenant's prompt, a document).",
       "每个变体的 token 数（系统提示、租户提示或一篇文档）。", minimum=1, maximum=10_000_000),
    _f("prefixes.count", "int", 1, "", "variants", "Variants", "变体数",
       "How many different ones (tenants, documents); 1 is one shared prompt.",
       "有多少个不同的变体（租户、文档）；1 表示一个共享提示。", minimum=1, maximum=MAX_CATALOG),
    _f("prefixes.zipf", "float", 1.0, "", "", "Zipf exponent", "Zipf 指数",
       "Popularity of the variants: variant i is chosen with probability proportional to i^-zipf (0: all alike).",
       "变体的流行度：第 i 个被选中的概率正比于 i^-zipf（0 表示均匀）。", minimum=0.0, maximum=5.0),
)
CLASS_FIELDS: tuple[Field, ...] = (
    _f("classes.name", "text", None, "", "", "Class", "类别",
       'Name (lower-case letters, digits, "-" or "_").', "名称（小写字母、数字、“-”或“_”）。"),
    _f("classes.share", "float", 1.0, "", "", "Share", "份额",
       "Share of the conversation arrivals; shares are divided by their sum.",
       "占会话到达的份额；各份额按其总和归一化。", minimum=0.0, maximum=1e12, exclusive_minimum=True),
    _f("classes.rate", "float", None, "", "conv/s", "Rate", "到达率",
       "Conversations per second of this class, instead of a share (then every class gives one, and "
       "workload.arrival_rate is their sum).",
       "该类别每秒的会话数，代替份额（此时每个类别都要给出，workload.arrival_rate 为其总和）。",
       minimum=0.0, maximum=1e6, exclusive_minimum=True, optional=True),
    _f("classes.prefix", "text", None, "", "", "Starts with", "开头前缀",
       "The prefix groups its prompts start with, in prompt order (a system prompt, then documents).",
       "其提示依次以哪些前缀组开头（先系统提示，再文档）。"),
)
LAW_FIELDS: tuple[Field, ...] = (
    _f("classes.turns", "law", CLASS_DEFAULTS["turns"], "", "turns", "Turns per conversation", "每会话轮数",
       "How many requests a conversation sends.", "一个会话发出的请求数。"),
    _f("classes.think_time_s", "law", CLASS_DEFAULTS["think_time_s"], "", "s", "Think time", "思考时间",
       "Seconds from one turn to the next (a person reading, a tool running).",
       "从一轮到下一轮的秒数（用户阅读、工具运行）。"),
    _f("classes.context_tokens", "law", CLASS_DEFAULTS["context_tokens"], "", "tokens", "Own context", "自带上下文",
       "The conversation's own context in its first prompt (a pasted file, retrieved text).",
       "会话第一轮提示中自带的上下文（粘贴的文件、检索的文本）。"),
    _f("classes.user_tokens", "law", CLASS_DEFAULTS["user_tokens"], "", "tokens", "New tokens per turn", "每轮新增 token",
       "The user message or tool output each turn adds.", "每轮新增的用户消息或工具输出。"),
    _f("classes.output_tokens", "law", CLASS_DEFAULTS["output_tokens"], "", "tokens", "Output tokens per turn",
       "每轮输出 token", "Tokens the model generates each turn.", "每轮模型生成的 token 数。"),
)
LAW_KINDS = {
    "fixed": ("Fixed", "固定值"), "exponential": ("Exponential", "指数分布"),
    "lognormal": ("Lognormal", "对数正态"), "gamma": ("Gamma", "伽马分布"),
    "geometric": ("Geometric", "几何分布"), "empirical": ("Empirical", "经验分布"),
    "mixture": ("Mixture", "混合分布"),
}
LAW_PARAMETERS: tuple[Field, ...] = (
    _f("law.value", "float", None, "", "", "Value", "数值", "The value every draw takes.", "每次取值都相同。",
       minimum=0.0),
    _f("law.mean", "float", None, "", "", "Mean", "均值", "The mean.", "均值。", minimum=0.0, exclusive_minimum=True),
    _f("law.median", "float", None, "", "", "Median", "中位数", "Half the draws are below it.", "一半的取值低于它。",
       minimum=0.0, exclusive_minimum=True),
    _f("law.sigma", "float", None, "", "", "Sigma", "Sigma",
       "Spread of the logarithm: 0.5 is moderate, 1.5 heavy-tailed.", "对数的离散度：0.5 为中等，1.5 为重尾。",
       minimum=0.0, maximum=5.0, exclusive_minimum=True),
    _f("law.shape", "float", None, "", "", "Shape", "形状",
       "Below 1 more spread than exponential, above 1 less.", "小于 1 比指数分布更分散，大于 1 更集中。",
       minimum=0.05, maximum=10_000.0),
)
FOLLOW_UP_TEXT = {
    "continue": ("Continue", "继续", "keeps the whole prompt and the response, adds a message",
                 "保留整个提示和回复，再加一条消息"),
    "resend": ("Resend", "重发", "keeps the prompt without the response", "保留提示，不含回复"),
    "branch": ("Branch", "分支", "keeps the prompt without its last message (an edit, another question on the "
               "same context)", "保留去掉最后一条消息的提示（编辑、对同一上下文再提问）"),
}


def traffic_schema_json() -> dict:
    """Classes and prefix groups for the page's editor: fields, law kinds per role, parameters, limits."""
    return {"limits": {"classes": MAX_CLASSES, "groups": MAX_GROUPS, "path": MAX_PATH,
                       "name_pattern": NAME_PATTERN},
            # the version-1 workload fields a workload with classes refuses, and where each goes in a class
            "per_class_fields": dict(PER_CLASS),
            "group_fields": [_field_json(f) for f in GROUP_FIELDS],
            "class_fields": [_field_json(f) for f in CLASS_FIELDS],
            "laws": [dict(_field_json(f), role=ROLE_OF[f.key]) for f in LAW_FIELDS],
            "roles": {role: {"kinds": list(kinds), "maximum": high, "integer": role == "turns",
                             "minimum": 1.0 if role == "turns" else 0.0}
                      for role, (kinds, high) in ROLES.items()},
            "kinds": {kind: {"label_en": en, "label_zh": zh, "parameters": list(PARAMETERS.get(kind, ()))}
                      for kind, (en, zh) in LAW_KINDS.items()},
            "parameters": [_field_json(f) for f in LAW_PARAMETERS],
            "follow_ups": [{"kind": k, "label_en": v[0], "label_zh": v[1], "help_en": v[2], "help_zh": v[3]}
                           for k, v in FOLLOW_UP_TEXT.items()]}


FIELDS_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}
SECTIONS: tuple[str, ...] = ("model", "hardware", "cache", "workload", "cluster", "latency", "deploy")


def default_scenario() -> dict:
    """The scenario the page opens with: every field that has a default."""
    scenario: dict = {"version": SCENARIO_VERSION}
    for f in FIELDS:
        if f.default is not None:
            scenario.setdefault(f.section, {})[f.key] = f.default
    return scenario


def schema_json() -> dict:
    """The field table as plain JSON, for the page's form and URL codec."""
    return {"version": SCENARIO_VERSION, "sections": list(SECTIONS),
            "fields": [_field_json(f) for f in FIELDS],
            "engine_versions": {"vllm": VLLM_DEFAULT_VERSION, "sglang": SGLANG_DEFAULT_VERSION},
            "fp8_rate": {"dtypes": list(FP8_RATE_DTYPES), "quantizations": list(FP8_RATE_QUANTIZATIONS),
                         "fp4_quantizations": list(FP4_QUANTIZATIONS), "fp4_gpus": list(FP4_GPUS)},
            "tiers": {"policy": _field_json(TIERS_POLICY), "fields": [_field_json(f) for f in TIER_FIELDS],
                      "max": MAX_TIERS, "name_pattern": TIER_NAME_PATTERN,
                      "read_defaults": TIER_READ_DEFAULTS},
            "traffic": traffic_schema_json()}


def _field_json(f: Field) -> dict:
    return dict(asdict(f), choices=list(f.choices))
