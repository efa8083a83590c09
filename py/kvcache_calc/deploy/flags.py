"""Engine flags the deployment command lines use, each checked in the engine's own source (file, line, version)."""

from __future__ import annotations

from dataclasses import dataclass

# How the lines were read
# -----------------------
# vllm, sglang, lmcache, dynamo: in the file as shipped in the PyPI release package of
# that version (Python files in a wheel are the repository files at the release commit,
# byte for byte; the package path maps to the repository path given in `source`).
# sglang-router and llm-d: in the stored copy of the repository file at the named commit
# (no released version of those files was stored).
#
# `commit` is a full 40-hex commit where it could be established:
#   vllm v0.13.0      72506c98349d6bcd32b4e33eec7b5513453c1502 (wheel's _version.py says g72506c983)
#   sglang v0.5.6.post2 5c8bd8b51b53b9b39eb1edec582ee43b21002106
# Where it could not, `commit` holds the git ref GitHub resolves instead:
#   lmcache v0.3.11 -> "f03215217", the abbreviated hash in the wheel's lmcache/_version.py
#   dynamo v0.7.1   -> the tag "v0.7.1" (the wheel records no commit); the repository
#                      path components/src/dynamo/frontend/main.py was not verified at that tag.


@dataclass(frozen=True)
class Flag:
    """One command-line flag or environment variable as a released engine version defines it."""

    name: str                          # "--tensor-parallel-size", or "LMCACHE_MAX_LOCAL_CPU_SIZE"
    source: str                        # file in the engine's repository, e.g. "vllm/engine/arg_utils.py"
    line: int                          # line of its definition in that file at the version's commit
    choices: tuple[str, ...] = ()      # allowed values when the parser restricts them
    default: str | None = None         # the engine's default, as text, when the source states one
    meaning: str = ""                  # one line: what it sets (your own words)


@dataclass(frozen=True)
class EngineVersion:
    """A released engine (or router) version and the flags of it the command lines may use."""

    engine: str                        # "vllm", "sglang", "lmcache", "sglang-router", "dynamo", "llm-d"
    version: str                       # "v0.11.0"
    repository: str                    # "vllm-project/vllm"
    commit: str                        # the 40-hex commit the lines were read at
    flags: dict[str, Flag]             # by name

    def flag(self, name: str) -> Flag:
        """The flag, or a KeyError naming the engine version that lacks it."""
        try:
            return self.flags[name]
        except KeyError:
            raise KeyError(
                f"{self.engine} {self.version} ({self.repository}@{self.commit[:12]}) has no flag {name!r}"
            ) from None


def source_url(engine: EngineVersion, flag: Flag) -> str:
    """Link to the cited line on GitHub."""
    return f"https://github.com/{engine.repository}/blob/{engine.commit}/{flag.source}#L{flag.line}"


def _table(*flags: Flag) -> dict[str, Flag]:
    table: dict[str, Flag] = {}
    for f in flags:
        if f.name in table:
            raise ValueError(f"duplicate flag {f.name}")
        table[f.name] = f
    return table


def _f(name: str, source: str, line: int, meaning: str, *, choices: tuple[str, ...] = (),
       default: str | None = None) -> Flag:
    return Flag(name=name, source=source, line=line, choices=choices, default=default, meaning=meaning)


# ---------------------------------------------------------------------------------------
# vLLM v0.13.0  (`vllm serve MODEL ...`; usage context OPENAI_API_SERVER)
# ---------------------------------------------------------------------------------------
_VA = "vllm/engine/arg_utils.py"
_VC = "vllm/config/cache.py"
_VS = "vllm/config/scheduler.py"
_VV = "vllm/config/vllm.py"
_VK = "vllm/config/kv_transfer.py"
_VF = "vllm/distributed/kv_transfer/kv_connector/factory.py"
_VO = "vllm/v1/kv_offload/cpu.py"

# kv-cache-dtype choices are the CacheDType Literal (vllm/config/cache.py:23), sorted by the
# argparse helper; block-size choices are the BlockSize Literal (vllm/config/cache.py:22).
_VLLM_KV_DTYPES = ("auto", "bfloat16", "fp8", "fp8_ds_mla", "fp8_e4m3", "fp8_e5m2", "fp8_inc")
_VLLM_BLOCK_SIZES = ("1", "8", "16", "32", "64", "128", "256")

VLLM = EngineVersion(
    engine="vllm",
    version="v0.13.0",
    repository="vllm-project/vllm",
    commit="72506c98349d6bcd32b4e33eec7b5513453c1502",
    flags=_table(
        _f("--tensor-parallel-size", _VA, 766, "GPUs one model replica is split across, layer by layer (short form -tp)", default="1"),
        _f("--pipeline-parallel-size", _VA, 757, "number of pipeline stages the layers are divided into (short form -pp)", default="1"),
        _f("--data-parallel-size", _VA, 787, "number of full engine replicas behind one server (short form -dp)", default="1"),
        _f("--gpu-memory-utilization", _VA, 887, "share of each GPU's memory the instance may use for weights, activations and KV cache; default at vllm/config/cache.py:49", default="0.9"),
        _f("--kv-cache-dtype", _VA, 893, "element type of the stored KV cache; 'auto' follows the model dtype; field at vllm/config/cache.py:59", choices=_VLLM_KV_DTYPES, default="auto"),
        _f("--block-size", _VA, 885, "tokens per KV-cache block; unset means the platform picks (CUDA: 16, vllm/platforms/cuda.py:161; some MLA backends raise it to 64/128)", choices=_VLLM_BLOCK_SIZES, default=None),
        _f("--max-num-seqs", _VA, 1053, "cap on sequences scheduled in one step; unset means the GPU/usage default (see default.max_num_seqs.*)", default=None),
        _f("--max-num-batched-tokens", _VA, 1046, "token budget of one scheduler step (prefill chunk size); unset means the GPU/usage default (see default.max_num_batched_tokens.*)", default=None),
        _f("--max-model-len", _VA, 644, "longest prompt+output in tokens; unset means the model config's value; accepts 32k-style suffixes", default=None),
        _f("--enforce-eager", _VA, 646, "no CUDA graphs: every step runs eagerly", default=None),
        _f("--enable-prefix-caching", _VA, 898, "reuse KV blocks of shared prefixes; argparse BooleanOptionalAction, so --no-enable-prefix-caching also exists; unset means on for models that support it (arg_utils.py:1887, model.py:1722); CacheConfig default True at vllm/config/cache.py:76", default="None (on when supported)"),
        _f("--no-enable-prefix-caching", _VA, 898, "turns automatic prefix caching off (negative form generated from the same add_argument)"),
        _f("--num-gpu-blocks-override", _VA, 895, "number of KV blocks to allocate instead of what the memory profile gives; field at vllm/config/cache.py:70", default=None),
        _f("--port", "vllm/entrypoints/openai/cli_args.py", 78, "HTTP port of the OpenAI-compatible server (FrontendArgs.port, turned into --port by add_cli_args)", default="8000"),
        _f("--kv-transfer-config", _VA, 1127, "JSON KVTransferConfig: kv_connector, kv_role, kv_connector_extra_config ...; field at vllm/config/vllm.py:224", default=None),
        _f("--kv-offloading-size", _VA, 924, "CPU KV offload buffer in GiB, total over all TP x PP ranks; needs --kv-offloading-backend; field at vllm/config/cache.py:151", default=None),
        _f("--kv-offloading-backend", _VA, 927, "who offloads KV to CPU: 'native' sets OffloadingConnector, 'lmcache' sets LMCacheConnectorV1 (vllm/config/vllm.py:493-507); Literal at vllm/config/cache.py:34", choices=("native", "lmcache"), default=None),
        _f("kv_connector=OffloadingConnector", _VF, 183, "registered name of vLLM's own CPU offloading connector, for --kv-transfer-config"),
        _f("kv_connector=LMCacheConnectorV1", _VF, 159, "registered name of the LMCache connector, for --kv-transfer-config"),
        _f("kv_role", _VK, 38, "role of this instance in KV transfer; offloading uses kv_both; roles Literal at vllm/config/kv_transfer.py:13-15", choices=("kv_producer", "kv_consumer", "kv_both"), default=None),
        _f("kv_connector_extra_config.num_cpu_blocks", _VO, 24, "OffloadingConnector (CPUOffloadingSpec): number of CPU blocks to hold; required and must be non-zero", default=None),
        _f("kv_connector_extra_config.block_size", "vllm/v1/kv_offload/spec.py", 36, "OffloadingConnector: tokens per offloaded block, a multiple of the GPU block size", default="GPU block size"),
        _f("kv_connector_extra_config.eviction_policy", _VO, 37, "OffloadingConnector: CPU-tier eviction policy (lru at cpu.py:50, arc at cpu.py:54)", choices=("lru", "arc"), default="lru"),
        _f("kv_connector_extra_config.spec_name", "vllm/v1/kv_offload/factory.py", 39, "OffloadingConnector: which offloading spec class to build", default="CPUOffloadingSpec"),
        _f("kv_connector_extra_config.kv_bytes_per_rank", _VV, 500, "written by --kv-offloading-backend native (size GiB*2^30 / (TP*PP)) together with num_cpu_blocks=0; nothing else in v0.13.0 reads it"),
        _f("kv_connector_extra_config.lmcache.local_cpu", _VV, 506, "written by --kv-offloading-backend lmcache: turns on LMCache's CPU tier", default="True"),
        _f("kv_connector_extra_config.lmcache.max_local_cpu_size", _VV, 507, "written by --kv-offloading-backend lmcache: LMCache CPU tier per rank = --kv-offloading-size / (TP*PP), in GB"),
        # Defaults of the batch limits when the user passes none (EngineArgs.get_batch_defaults).
        _f("default.max_num_batched_tokens.openai_server.large_gpu", _VA, 1801, "vllm serve on a GPU with >= 70 GiB that is not an A100 (test at arg_utils.py:1797): 8192 tokens per step (LLM class: 16384)", default="8192"),
        _f("default.max_num_seqs.openai_server.large_gpu", _VA, 1805, "vllm serve on a GPU with >= 70 GiB that is not an A100: 1024 sequences", default="1024"),
        _f("default.max_num_batched_tokens.openai_server.other_gpu", _VA, 1811, "vllm serve on other GPUs (A100, < 70 GiB): 2048 tokens per step (LLM class: 8192)", default="2048"),
        _f("default.max_num_seqs.openai_server.other_gpu", _VA, 1815, "vllm serve on other GPUs: 256 sequences", default="256"),
        _f("default.max_num_batched_tokens.unknown_context", _VS, 44, "fallback when the usage context has no entry (SchedulerConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS)", default="2048"),
        _f("default.max_num_seqs.unknown_context", _VS, 45, "fallback when the usage context has no entry (SchedulerConfig.DEFAULT_MAX_NUM_SEQS)", default="128"),
        _f("default.max_num_batched_tokens.clamp", _VA, 1963, "an unset budget is then capped at max_num_seqs * max_model_len, and raised to max_model_len if chunked prefill is off (arg_utils.py:1953-1958)"),
    ),
)

# ---------------------------------------------------------------------------------------
# SGLang v0.5.6.post2  (`python -m sglang.launch_server --model-path MODEL ...`)
# No "--tp"/"--dp" aliases are declared at this version: the declared names are
# --tensor-parallel-size/--tp-size, --data-parallel-size/--dp-size, --pipeline-parallel-size/--pp-size.
# ---------------------------------------------------------------------------------------
_SA = "python/sglang/srt/server_args.py"

SGLANG = EngineVersion(
    engine="sglang",
    version="v0.5.6.post2",
    repository="sgl-project/sglang",
    commit="5c8bd8b51b53b9b39eb1edec582ee43b21002106",
    flags=_table(
        _f("--model-path", _SA, 2126, "weights to serve: local folder or Hugging Face repo id (alias --model); required"),
        _f("--tp-size", _SA, 2491, "tensor-parallel degree; alias of --tensor-parallel-size (line 2490); field default at line 306", default="1"),
        _f("--dp-size", _SA, 2815, "data-parallel replicas; alias of --data-parallel-size (line 2814); field default at line 364", default="1"),
        _f("--pp-size", _SA, 2498, "pipeline-parallel degree; alias of --pipeline-parallel-size (line 2497); field default at line 307", default="1"),
        _f("--mem-fraction-static", _SA, 2371, "share of GPU memory for weights plus KV pool; unset means derived from GPU size, chunked prefill size and CUDA-graph batch", default=None),
        _f("--kv-cache-dtype", _SA, 2318, "element type of the KV cache; 'auto' follows the model dtype", choices=("auto", "fp8_e5m2", "fp8_e4m3", "bf16", "bfloat16", "fp4_e2m1"), default="auto"),
        _f("--page-size", _SA, 2445, "tokens per KV page; unset becomes 1 (line 1553), some attention backends force 64 or 128", default="1"),
        _f("--max-running-requests", _SA, 2377, "cap on concurrently running requests; unset means derived from the KV pool", default=None),
        _f("--chunked-prefill-size", _SA, 2396, "prefill chunk in tokens, -1 disables chunking; unset means picked from GPU memory (e.g. 2048 below 20 GB, 8192 for H100/A100-class up to 160 GB, 16384 above; table from line 752)", default=None),
        _f("--context-length", _SA, 2199, "maximum context in tokens; unset means the model config's value", default=None),
        _f("--disable-cuda-graph", _SA, 3522, "no CUDA graphs for decode batches"),
        _f("--disable-radix-cache", _SA, 3505, "turns off RadixAttention prefix caching (on by default)"),
        _f("--enable-hierarchical-cache", _SA, 3304, "adds a host-memory (CPU) KV tier below the GPU radix cache (HiCache)"),
        _f("--hicache-ratio", _SA, 3309, "host KV pool size as a multiple of the GPU KV pool", default="2.0"),
        _f("--max-total-tokens", _SA, 2389, "tokens in the KV memory pool instead of what --mem-fraction-static gives", default=None),
        _f("--port", _SA, 2245, "HTTP port of the server", default="30000"),
        _f("--hicache-size", _SA, 3315, "host KV pool size in GB (an int); non-zero overrides --hicache-ratio", default="0"),
        _f("--hicache-write-policy", _SA, 3321, "when GPU KV is copied to the host tier", choices=("write_back", "write_through", "write_through_selective"), default="write_through"),
        _f("--hicache-io-backend", _SA, 3328, "copy mechanism between GPU and host KV pools", choices=("direct", "kernel", "kernel_ascend"), default="kernel"),
        _f("--hicache-mem-layout", _SA, 3335, "layout of the host KV pool", choices=("layer_first", "page_first", "page_first_direct", "page_first_kv_split", "page_head"), default="layer_first"),
        _f("--hicache-storage-backend", _SA, 3348, "third tier below host memory (disk/remote store); unset means none", choices=("file", "mooncake", "hf3fs", "nixl", "aibrix", "dynamic", "eic"), default=None),
    ),
)

# ---------------------------------------------------------------------------------------
# LMCache v0.3.11  (environment variables read by the vLLM LMCacheConnectorV1)
# Each LMCACHE_<KEY> is generated from the config key: f"LMCACHE_{name.upper()}" at
# lmcache/v1/config.py:828; the same lower-case keys are used in the YAML config file.
# Sizes are "GB" in the config and logs but are multiplied by 1024**3, i.e. GiB
# (local_cpu_backend.py:695, local_disk_backend.py:144).
# ---------------------------------------------------------------------------------------
_LC = "lmcache/v1/config.py"

LMCACHE = EngineVersion(
    engine="lmcache",
    version="v0.3.11",
    repository="LMCache/LMCache",
    commit="f03215217",  # abbreviated hash from the v0.3.11 wheel; full hash not established
    flags=_table(
        _f("LMCACHE_CHUNK_SIZE", _LC, 134, "tokens per LMCache chunk, the unit it stores and looks up (config key chunk_size)", default="256"),
        _f("LMCACHE_LOCAL_CPU", _LC, 135, "turns the CPU-memory tier on or off (key local_cpu; true/false)", default="True"),
        _f("LMCACHE_MAX_LOCAL_CPU_SIZE", _LC, 140, "CPU tier capacity in GB (x 1024**3 bytes, so GiB), per process/rank (key max_local_cpu_size)", default="5.0"),
        _f("LMCACHE_LOCAL_DISK", _LC, 142, "directory of the local disk tier, 'file:///path/' or a plain path; unset means no disk tier (key local_disk)", default=None),
        _f("LMCACHE_MAX_LOCAL_DISK_SIZE", _LC, 147, "disk tier capacity in GB (x 1024**3 bytes, so GiB) (key max_local_disk_size)", default="0.0"),
        _f("LMCACHE_CONFIG_FILE", "lmcache/integration/vllm/utils.py", 60, "path of a YAML config file; if set it is loaded first and LMCACHE_* variables then override it", default=None),
    ),
)

# ---------------------------------------------------------------------------------------
# SGLang router  (`python -m sglang_router.launch_router --worker-urls URL... --policy cache_aware`)
# Read at a stored commit of sgl-project/sglang (not a release; its router version was not
# established). The PyPI release sglang-router 0.2.4 has the same flags and policy choices
# (sglang_router/router_args.py: --worker-urls line 154, --policy line 163, and adds
# "bucket" to --prefill-policy only).
# ---------------------------------------------------------------------------------------
_RA = "sgl-router/py_src/sglang_router/router_args.py"

SGLANG_ROUTER = EngineVersion(
    engine="sglang-router",
    version="main@083d601 (unreleased commit)",
    repository="sgl-project/sglang",
    commit="083d601378d0baaef6191e7f2d40fb70d06518af",
    flags=_table(
        _f("--worker-urls", _RA, 122, "HTTP base URLs of the SGLang workers to route between"),
        _f("--policy", _RA, 131, "load-balancing policy; cache_aware routes to the worker with the longest cached prefix unless load is imbalanced; default at line 25", choices=("random", "round_robin", "cache_aware", "power_of_two"), default="cache_aware"),
        _f("--cache-threshold", _RA, 191, "cache_aware: minimum prefix-match ratio (0-1) to prefer the cache holder; default at line 30", default="0.3"),
        _f("--balance-abs-threshold", _RA, 197, "cache_aware: absolute load gap above which it balances load instead", default="64"),
        _f("--balance-rel-threshold", _RA, 203, "cache_aware: relative load ratio above which it balances load instead", default="1.5"),
        _f("--max-tree-size", _RA, 215, "cache_aware: size cap of the router's approximate prefix tree", default="67108864"),
        _f("--host", _RA, 109, "address the router listens on", default="127.0.0.1"),
        _f("--port", _RA, 115, "port the router listens on", default="30000"),
    ),
)

# ---------------------------------------------------------------------------------------
# NVIDIA Dynamo v0.7.1  (`python -m dynamo.frontend --router-mode kv`)
# ---------------------------------------------------------------------------------------
_DF = "components/src/dynamo/frontend/main.py"

DYNAMO = EngineVersion(
    engine="dynamo",
    version="v0.7.1",
    repository="ai-dynamo/dynamo",
    commit="v0.7.1",  # git tag; the release wheel records no commit hash
    flags=_table(
        _f("--router-mode", _DF, 121, "how the frontend picks a worker; kv routes by KV-cache overlap and load (env DYN_ROUTER_MODE also sets it)", choices=("round-robin", "random", "kv"), default="round-robin"),
        _f("--kv-overlap-score-weight", _DF, 128, "kv mode: weight of cached-prefix overlap against decode load in the cost", default="1.0"),
        _f("--router-temperature", _DF, 134, "kv mode: softmax temperature for sampling a worker; 0 picks the best deterministically", default="0.0"),
        _f("--no-kv-events", _DF, 140, "kv mode: predict cache contents from routed requests instead of workers' KV events"),
        _f("--kv-cache-block-size", _DF, 94, "KV block size in tokens the router hashes with", default=None),
        _f("--http-port", _DF, 103, "HTTP port of the OpenAI-compatible frontend (env DYN_HTTP_PORT)", default="8000"),
        _f("--router-replica-sync", _DF, 153, "kv mode: keep several router replicas' state in sync"),
    ),
)

# ---------------------------------------------------------------------------------------
# llm-d inference scheduler (EndpointPickerConfig YAML, not command-line flags)
# Read in a stored sample config at a commit of llm-d/llm-d-inference-scheduler (not a
# release). In llm-d "prefix-cache-scorer" takes parameters.mode; the sample uses
# cache_tracking (KV-event based). The Go registration of the type constant was not read.
# ---------------------------------------------------------------------------------------
_LD = "deploy/config/epp-prefix-cache-tracking-config.yaml"

LLM_D = EngineVersion(
    engine="llm-d",
    version="main@dd59849 (unreleased commit)",
    repository="llm-d/llm-d-inference-scheduler",
    commit="dd59849a82e1e0b12a327dddf22f8f5a8fb2a09d",
    flags=_table(
        _f("plugins.type=prefix-cache-scorer", _LD, 8, "EndpointPickerConfig plugin type of the prefix-cache-aware scorer"),
        _f("prefix-cache-scorer.parameters.mode=cache_tracking", _LD, 10, "scorer mode that tracks real cache contents from vLLM KV events"),
        _f("prefix-cache-scorer.parameters.indexerConfig.tokenProcessorConfig.blockSize", _LD, 13, "tokens per hashed block; must equal the vLLM --block-size", default="64 (in this sample)"),
        _f("plugins.type=kv-cache-scorer", _LD, 18, "plugin type of the KV-cache-utilization scorer"),
        _f("plugins.type=queue-scorer", _LD, 19, "plugin type of the queue-length scorer"),
        _f("plugins.type=max-score-picker", _LD, 20, "plugin type that picks the endpoint with the highest weighted score"),
        _f("plugins.type=decode-filter", _LD, 7, "plugin type that keeps decode-role endpoints"),
        _f("plugins.type=single-profile-handler", _LD, 6, "plugin type for running one scheduling profile"),
    ),
)

ENGINES: dict[str, EngineVersion] = {
    e.engine: e for e in (VLLM, SGLANG, LMCACHE, SGLANG_ROUTER, DYNAMO, LLM_D)
}
