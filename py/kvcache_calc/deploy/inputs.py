"""What a deployment's command lines need from a scenario, in the engines' units."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..memory import MemoryPlan
from ..presets import model_preset
from ..resolve import memory_plan
from ..scenario import Scenario
from ..units import GIB
from .command import Command

PLACEHOLDER_MODEL = "YOUR-ORG/YOUR-MODEL"
HF_SOURCE = re.compile(r"^https://huggingface\.co/([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)/")
MEMORY_TIERS = ("cpu", "dram")
MEMORY_TIER_MIN_GB_PER_S = 20.0  # a tier read this fast is host memory, not a disk
# one node's GPUs: replicas that fit in it get ports on one host, larger clusters host names
NODE_GPUS = 8
FIRST_PORT = 8000


@dataclass(frozen=True)
class DeployInputs:
    """The scenario's deployment, per replica and per GPU, in the units engine flags take."""

    model_id: str
    model_id_from: str                 # "scenario", "preset" or "placeholder"
    tensor_parallel: int
    pipeline_parallel: int
    replicas: int
    gpus_per_replica: int
    gpu_memory_utilization: float | None   # None: no hardware in the scenario, the engine picks
    memory_gib: float | None           # per GPU as the driver reports it
    max_num_seqs: int | None            # None: no hardware in the scenario, the engine picks
    max_num_batched_tokens: int | None
    max_model_len: int | None           # set only when the scenario sets it
    cuda_graphs: bool
    mem_fraction_static: float | None   # SGLang: the share the scenario's plan used
    block_size: int
    kv_dtype: str
    capacity_tokens: int | None        # set directly in the scenario: the engine must be told
    kv_gib_per_gpu: float | None       # what the memory plan gives the KV cache
    weights_gib_per_gpu: float | None
    cpu_tier_gb: float                 # per replica, 10^9 bytes (NaN: tokens without KV bytes to convert)
    cpu_tier_tokens: float             # the same tier in tokens (NaN: GB without KV bytes to convert)
    disk_tier_gb: float
    routing: str

    def per_rank_gib(self, gb: float) -> float:
        """A replica's tier of `gb` GB as GiB per GPU: connectors run one store per GPU worker."""
        return gb * 1e9 / GIB / self.gpus_per_replica

    @property
    def one_node(self) -> bool:
        """Every replica fits in one node: each gets its GPUs and a port there."""
        return self.replicas * self.gpus_per_replica <= NODE_GPUS

    def ports(self) -> list[int]:
        """The port of each replica on a shared node; one port (the same on every host) otherwise."""
        return [FIRST_PORT + i for i in range(self.replicas)] if self.one_node else [FIRST_PORT]

    def visible_devices(self, replica: int) -> str | None:
        """CUDA_VISIBLE_DEVICES of a replica sharing a node, None when it is alone on its host."""
        if self.replicas == 1 or not self.one_node:
            return None
        first = replica * self.gpus_per_replica
        return ",".join(str(g) for g in range(first, first + self.gpus_per_replica))


def _model_id(s: Scenario) -> tuple[str, str]:
    if s.deploy.model_id:
        return s.deploy.model_id, "scenario"
    if s.model is not None and s.model.preset:
        match = HF_SOURCE.match(model_preset(s.model.preset).get("source", ""))
        if match:
            return match.group(1), "preset"
    return PLACEHOLDER_MODEL, "placeholder"


def _tier_sizes(s: Scenario, plan: MemoryPlan | None) -> tuple[float, float, float]:
    """Host-memory tier GB and tokens, disk tier GB, per replica (GB and tokens convert at vLLM's KV bytes)."""
    kv_bytes = plan.kv_bytes_per_token if plan is not None else None
    memory = memory_tokens = disk = 0.0
    for tier in s.tiers:
        if tier.capacity_gb is not None:
            gb, tokens = tier.capacity_gb, tier.capacity_gb * 1e9 / kv_bytes if kv_bytes else math.nan
        else:
            gb, tokens = tier.capacity_tokens * kv_bytes / 1e9 if kv_bytes else math.nan, tier.capacity_tokens
        if tier.name in MEMORY_TIERS or tier.read_gb_per_s >= MEMORY_TIER_MIN_GB_PER_S:
            memory += gb
            memory_tokens += tokens
        else:
            disk += gb
    return memory, memory_tokens, disk


def deploy_inputs(s: Scenario) -> DeployInputs:
    """The deployment's inputs from a parsed scenario and its memory plan (no traffic needed)."""
    # the split per GPU (weights, KV) does not depend on the traffic: no traffic tables are built here; a
    # model that does not fit without a given cache size raises (the engine would not start)
    plan, _ = memory_plan(s, None)
    hw = s.hardware
    model_id, source = _model_id(s)
    tp = hw.tensor_parallel if hw else 1
    gpus = hw.num_gpus if hw else 1
    memory, memory_tokens, disk = _tier_sizes(s, plan)
    return DeployInputs(
        model_id=model_id, model_id_from=source, tensor_parallel=tp, pipeline_parallel=gpus // tp,
        replicas=s.cluster.replicas, gpus_per_replica=gpus,
        gpu_memory_utilization=hw.gpu_memory_utilization if hw else None,
        memory_gib=hw.memory_gib if hw else None,
        max_num_seqs=hw.max_num_seqs if hw else None,
        max_num_batched_tokens=hw.max_num_batched_tokens if hw else None,
        max_model_len=hw.max_model_len if hw else None,
        cuda_graphs=hw.cuda_graphs == "on" if hw else True,
        mem_fraction_static=hw.mem_fraction_static if hw else None,
        block_size=s.cache.block_size,
        kv_dtype=s.model.kv_dtype if s.model else "auto",
        capacity_tokens=s.cache.capacity_tokens,
        kv_gib_per_gpu=plan.kv_gib_per_gpu if plan else None,
        weights_gib_per_gpu=plan.weights_gib_per_gpu if plan else None,
        cpu_tier_gb=memory, cpu_tier_tokens=memory_tokens, disk_tier_gb=disk, routing=s.cluster.routing)


# The scheduler and memory settings both engines take, each a flag of its own (engine -> flag names)
BATCH_FLAGS = {
    "vllm": {"max_num_seqs": "--max-num-seqs", "max_num_batched_tokens": "--max-num-batched-tokens",
             "max_model_len": "--max-model-len", "eager": "--enforce-eager"},
    "sglang": {"max_num_seqs": "--max-running-requests", "max_num_batched_tokens": "--chunked-prefill-size",
               "max_model_len": "--context-length", "eager": "--disable-cuda-graph"},
}
BATCH_WHY = {"max_num_seqs": "requests running at once",
             "max_num_batched_tokens": "tokens per step (prefill chunk); sets the activation reserve",
             "max_model_len": "longest request; the engine must hold one in its KV cache to start"}


def batch_flags(c: Command, d: DeployInputs, engine: str) -> None:
    """The batch, context and CUDA-graph settings the scenario sets, in `engine`'s flags."""
    flags = BATCH_FLAGS[engine]
    for key, why in BATCH_WHY.items():
        value = getattr(d, key)
        if value is not None:
            c.flag(flags[key], value, why)
    if not d.cuda_graphs:
        c.flag(flags["eager"], None, "no CUDA graphs")
