"""`python -m sglang.launch_server` for one replica of the scenario, with HiCache for a host-memory tier."""

from __future__ import annotations

import math

from ..notes import Note
from .command import Command
from .flags import ENGINES
from .inputs import DeployInputs, batch_flags

KV_DTYPE_FLAG = {"fp8": "fp8_e4m3", "int8": "fp8_e4m3"}


def sglang_command(d: DeployInputs, notes: list[Note]) -> Command:
    """The SGLang server command of one replica."""
    c = Command(ENGINES["sglang"], ["python", "-m", "sglang.launch_server"], "engine")
    c.flag("--model-path", d.model_id, "the checkpoint")
    if d.tensor_parallel > 1:
        c.flag("--tp-size", d.tensor_parallel, "GPUs that split each layer")
    if d.pipeline_parallel > 1:
        c.flag("--pp-size", d.pipeline_parallel, "GPUs that split the layers")
    if d.mem_fraction_static is not None:
        c.flag("--mem-fraction-static", f"{d.mem_fraction_static:g}", "weights + KV pool: the share the scenario's "
               "memory plan used")
        notes.append(Note("sglang_mem_fraction",
                          "SGLang's --mem-fraction-static covers the weights and the KV pool, not activations or CUDA "
                          "graphs; the value is the one the scenario's memory plan used (SGLang's own default for "
                          "this GPU unless the scenario sets hardware.mem_fraction_static).",
                          "SGLang 的 --mem-fraction-static 包含权重和 KV 池，不含激活和 CUDA 图；此值即场景显存规划所用的"
                          "值（除非场景设置 hardware.mem_fraction_static，否则为 SGLang 对该 GPU 的默认值）。"))
    batch_flags(c, d, "sglang")
    c.flag("--page-size", d.block_size, "tokens per KV page")
    if d.block_size != 1:
        notes.append(Note("sglang_page_size",
                          f"SGLang's radix cache matches token by token with its default --page-size 1; the command "
                          f"sets {d.block_size} to match the scenario's blocks. With page size 1, set the scenario's "
                          f"block size to 1 to predict it.",
                          f"SGLang 默认 --page-size 1，按 token 匹配；命令设为 {d.block_size} 以对应场景的块大小。"
                          f"若用页大小 1，请把场景块大小设为 1 来预测。"))
    c.flag("--kv-cache-dtype", KV_DTYPE_FLAG.get(d.kv_dtype, "auto"), "the scenario's KV dtype")
    if d.kv_dtype in ("fp4", "int4"):
        notes.append(Note("sglang_kv_dtype_unsupported",
                          f"This command keeps the model's KV dtype: SGLang's {d.kv_dtype.upper()} KV is not offered here.",
                          f"此命令沿用模型的 KV dtype：这里不提供 SGLang 的 {d.kv_dtype.upper()} KV。"))
    if d.capacity_tokens is not None:
        c.flag("--max-total-tokens", d.capacity_tokens, "the scenario's cache size, tokens")
    if d.cpu_tier_gb > 0.0 and not math.isnan(d.cpu_tier_gb):
        c.flag("--enable-hierarchical-cache", None, "HiCache: a host-memory tier below the GPU")
        # a whole number of GB (10^9 bytes) per rank: each rank's host pool holds its share of every token
        # (python/sglang/srt/mem_cache/memory_pool_host.py:115 at v0.5.6.post2)
        c.flag("--hicache-size", max(1, round(d.cpu_tier_gb / d.gpus_per_replica)), "host memory per GPU rank, GB")
        notes.append(Note("sglang_hicache_inclusive",
                          "HiCache keeps a copy of GPU pages in host memory (write-through): it behaves as the "
                          "scenario's inclusive tiers, so a host tier must be larger than the GPU cache to add hits.",
                          "HiCache 在主机内存中保留 GPU 页的副本（直写）：相当于场景的包含式层级，主机层须大于 GPU 缓存"
                          "才会增加命中。"))
    if d.disk_tier_gb > 0.0:
        notes.append(Note("sglang_disk_tier",
                          "A disk tier below HiCache needs a storage backend (--hicache-storage-backend) and its own "
                          "setup; the command leaves it out.",
                          "HiCache 之下的磁盘层需要存储后端（--hicache-storage-backend）及其配置；命令未包含。"))
    return c
