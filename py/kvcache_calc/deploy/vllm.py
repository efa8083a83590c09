"""`vllm serve` for one replica of the scenario, with its CPU/disk tiers (vLLM's OffloadingConnector or LMCache)."""

from __future__ import annotations

import json
import math

from ..notes import Note
from .command import Command
from .flags import ENGINES
from .inputs import DeployInputs, batch_flags

LMCACHE_CHUNK = 256        # LMCache's default chunk (tokens): its tiers store and find whole chunks
LMCACHE_MIN_CPU_GIB = 1.0  # LMCache stages every chunk through host memory, a disk tier too
LMCACHE_DISK_PATH = "/var/cache/lmcache/"
KV_DTYPE_FLAG = {"fp8": "fp8", "int8": "fp8"}


def _kv_dtype(c: Command, d: DeployInputs, notes: list[Note]) -> None:
    """--kv-cache-dtype: "auto" keeps the model's dtype; FP8 (and INT8, the same size) as fp8."""
    if d.kv_dtype in KV_DTYPE_FLAG:
        if d.kv_dtype == "int8":
            notes.append(Note("vllm_int8_kv", "vLLM has no INT8 KV cache; FP8 is the same size, so the numbers hold.",
                              "vLLM 没有 INT8 KV 缓存；FP8 大小相同，数字不变。"))
        c.flag("--kv-cache-dtype", KV_DTYPE_FLAG[d.kv_dtype], "the scenario's KV dtype")
        return
    if d.kv_dtype in ("fp4", "int4"):
        notes.append(Note("vllm_kv_dtype_unsupported",
                          f"vLLM has no {d.kv_dtype.upper()} KV cache: this command keeps the model's dtype, whose "
                          f"KV is larger than the scenario assumed.",
                          f"vLLM 不支持 {d.kv_dtype.upper()} KV 缓存：此命令沿用模型的 dtype，其 KV 比场景假设的大。"))
    c.flag("--kv-cache-dtype", "auto", "the model's own dtype")


def _block_size(c: Command, d: DeployInputs, notes: list[Note]) -> None:
    allowed = c.engine.flag("--block-size").choices
    if allowed and str(d.block_size) not in allowed:
        notes.append(Note("vllm_block_size", f"vLLM takes --block-size {', '.join(allowed)}; {d.block_size} is not one "
                                             f"of them, so the command leaves vLLM's default.",
                          f"vLLM 的 --block-size 只能取 {', '.join(allowed)}；{d.block_size} 不在其中，命令沿用默认值。"))
        return
    c.flag("--block-size", d.block_size, "only full blocks are cached and reused")


def _tiers(c: Command, d: DeployInputs, notes: list[Note]) -> None:
    """A host-memory tier alone: vLLM's OffloadingConnector; with a disk tier: the LMCache connector."""
    if d.cpu_tier_gb == 0.0 and d.disk_tier_gb == 0.0:
        return
    if math.isnan(d.cpu_tier_gb) or math.isnan(d.cpu_tier_tokens) or math.isnan(d.disk_tier_gb):
        notes.append(Note("tier_size_unknown", "A tier's size converts between tokens and GB at the model's KV bytes "
                                               "per token: set the model to get the tier's flags.",
                          "层级大小按模型每 token 的 KV 字节数在 token 与 GB 之间换算：请设置模型以得到层级参数。"))
        return
    if d.disk_tier_gb == 0.0:
        # --kv-offloading-backend native leaves num_cpu_blocks 0, which the CPU spec refuses (v0.13.0): the
        # connector is configured directly, with the tier in blocks (every rank holds its share of each block)
        config = {"kv_connector": c.key("kv_connector=OffloadingConnector"), c.key("kv_role"): "kv_both",
                  "kv_connector_extra_config": {
                      c.key("kv_connector_extra_config.num_cpu_blocks"): int(d.cpu_tier_tokens // d.block_size)}}
        c.flag("--kv-transfer-config", json.dumps(config, separators=(",", ":")), "vLLM's own CPU tier, in blocks")
        return
    config = {"kv_connector": c.key("kv_connector=LMCacheConnectorV1"), c.key("kv_role"): "kv_both"}
    c.flag("--kv-transfer-config", json.dumps(config, separators=(",", ":")), "LMCache holds the tiers below the GPU")
    env = Command(ENGINES["lmcache"], [], "env")
    env.variable("LMCACHE_CHUNK_SIZE", LMCACHE_CHUNK, "tokens per stored chunk")
    env.variable("LMCACHE_LOCAL_CPU", "True", "keep chunks in host memory")
    # LMCache's sizes are GiB (its "GB" is multiplied by 1024^3) per GPU worker; it needs a CPU buffer
    # even in front of a disk
    cpu = max(d.per_rank_gib(d.cpu_tier_gb), LMCACHE_MIN_CPU_GIB)
    env.variable("LMCACHE_MAX_LOCAL_CPU_SIZE", f"{cpu:.1f}", "host memory per GPU worker, GiB")
    env.variable("LMCACHE_LOCAL_DISK", f"file://{LMCACHE_DISK_PATH}", "where the disk tier lives")
    env.variable("LMCACHE_MAX_LOCAL_DISK_SIZE", f"{d.per_rank_gib(d.disk_tier_gb):.1f}", "disk per GPU worker, GiB")
    c.env.update(env.env)
    c.used.extend(env.used)
    notes.append(Note("lmcache_chunks", f"LMCache stores and finds whole chunks of {LMCACHE_CHUNK} tokens and keeps a "
                                        f"copy of what it stores (inclusive): its tier hit rate is at most the "
                                        f"scenario's, block by block.",
                      f"LMCache 以 {LMCACHE_CHUNK} token 的整块存取，并保留所存内容的副本（包含式）：其层级命中率"
                      f"至多为场景按块计算的值。"))


def vllm_command(d: DeployInputs, notes: list[Note]) -> Command:
    """The `vllm serve` command of one replica."""
    c = Command(ENGINES["vllm"], ["vllm", "serve", d.model_id], "engine")
    if d.tensor_parallel > 1:
        c.flag("--tensor-parallel-size", d.tensor_parallel, "GPUs that split each layer")
    if d.pipeline_parallel > 1:
        c.flag("--pipeline-parallel-size", d.pipeline_parallel, "GPUs that split the layers")
    if d.gpu_memory_utilization is not None:
        c.flag("--gpu-memory-utilization", f"{d.gpu_memory_utilization:g}", "share of GPU memory vLLM may use")
    batch_flags(c, d, "vllm")
    _block_size(c, d, notes)
    _kv_dtype(c, d, notes)
    c.flag("--enable-prefix-caching", None, "reuse cached prefixes (on by default in V1; stated)")
    if d.capacity_tokens is not None:
        c.flag("--num-gpu-blocks-override", math.ceil(d.capacity_tokens / d.block_size),
               "the scenario's cache size, in blocks")
    _tiers(c, d, notes)
    return c
