// Short explanations of every metric and form field, in English and Chinese, each with the docs
// section that derives it (docs/<page>.html#<heading id>; tests/test_docs_site.py checks they exist).
// Keys: results metrics by their data-row / data-metric key, form fields by their schema path
// (list indices dropped: tiers.capacity_gb, workload.classes.turns), the trace panel's by "trace.*".

const G = "glossary.html";
const HIT = "model.html#token-and-request-hit-rates";
const LAT = "planning.html#latency-and-cost";
const PIN = "planning.html#running-requests-pin-their-kv";
const TIERS = "planning.html#tiers-below-the-gpu";
const ROUTE = "planning.html#replicas-and-routing";
const ADVICE = "planning.html#the-advisor";
const OUT = "scenario.html#outputs-of-predict";
const MEM_INPUTS = "memory.html#the-scenarios-inputs";
const WEIGHTS = "memory.html#weights-memoryweightspy";
const VLLM = "memory.html#vllm-v1-memoryvllmpy";
const SGLANG = "memory.html#sglang-memorysglangpy";
const KV = "model.html#memory-kvcache_calcmemory";
const HYBRID = "memory.html#kv-cache-groups-hybrid-models-and-what-the-log-says-memorykvpy";
const FIELDS = "scenario.html#fields";
const CLASSES = "scenario.html#traffic-classes-and-prefix-groups";
const SIM = "simulation.html#warm-up-window-and-intervals";
const SIMULATED = "simulation.html#what-is-simulated";
const TRACE = "trace.html#semantics";
const DEPLOY = "deploy.html#what-each-scenario-field-becomes";

/** key -> [docs target, English, Chinese]. */
export const EXPLANATIONS = {
  // --- headline, ceiling, the old formula -------------------------------------------------------
  token_hit_rate: [HIT, "Of all prompt tokens, the share the engine finds already cached and does not prefill again. It is what vLLM reports as prefix cache hits / queries.",
    "所有提示 token 中，引擎在缓存里已找到、无需再次预填充的比例，即 vLLM 报告的前缀缓存命中数 / 查询数。"],
  request_hit_rate: [`${G}#request-hit-rate`, "Share of all requests whose whole earlier conversation was still cached. First turns have nothing earlier and count as misses, so this is lower than the token hit rate.",
    "全部请求中，之前整段对话仍在缓存里的比例。每个会话的第一轮没有历史，算作未命中，因此它低于 token 命中率。"],
  ceiling: [HIT, "The same two hit rates with an infinite cache: only first-time tokens miss. No cache size can do better.",
    "缓存无限大时的两个命中率：只有第一次出现的 token 会未命中。任何缓存容量都无法超过它。"],
  seed_formula_hit_rate: [`${G}#the-old-one-line-formula`, "The estimate this calculator replaced: (1 − 1/turns) × min(1, cached ÷ active conversations). It ignores the shared prompt, partial hits and finished conversations; shown only for comparison.",
    "本计算器取代的旧估算：(1 − 1/轮数) × min(1, 可缓存会话数 ÷ 活跃会话数)。它忽略共享提示、部分命中和已结束的会话，仅供对比。"],

  // --- latency and cost ------------------------------------------------------------------------
  ttft_no_cache_s: [LAT, "Mean prefill time per request if nothing were cached: the prompt's compute at the GPU's peak × MFU. Queueing is not included.",
    "假如没有任何缓存，每个请求的平均预填充时间：按 GPU 峰值算力 × MFU 计算整段提示的计算量。不含排队时间。"],
  ttft_s: [LAT, "Mean prefill time per request with this cache: only the uncached tokens are computed, plus loading hits from lower tiers.",
    "使用当前缓存时每个请求的平均预填充时间：只计算未命中的 token，再加上从下层缓存加载命中块的时间。"],
  ttft_saved_s: [LAT, "Prefill time without a cache minus with it: what the cache saves each request on average.",
    "无缓存与有缓存的预填充时间之差：缓存平均为每个请求节省的时间。"],
  prefill_gpus_no_cache: [LAT, "GPU-seconds of prefill per second over the cluster without a cache, i.e. how many GPUs would be busy doing prefill.",
    "没有缓存时整个集群每秒需要的预填充 GPU 秒数，即有多少块 GPU 一直忙于预填充。"],
  prefill_gpus: [LAT, "GPUs busy with prefill with this cache: the same count with only the uncached tokens computed.",
    "使用当前缓存时忙于预填充的 GPU 数：同样的算法，但只计算未命中的 token。"],
  gpus_saved: [LAT, "Prefill GPUs without a cache minus with it: the compute the cache frees.",
    "无缓存与有缓存时预填充 GPU 数之差：缓存省下的算力。"],
  money_saved_per_day: [LAT, "GPUs saved × 24 h × the GPU price you set; empty until a price is given.",
    "节省的 GPU 数 × 24 小时 × 你设置的 GPU 单价；未设置单价时为空。"],
  cluster_gpus: [OUT, "Replicas × GPUs per replica: every GPU the deployment uses.",
    "副本数 × 每副本 GPU 数：部署使用的全部 GPU。"],
  decode_step_s: [PIN, "Time of one decode step at the mean running batch: reading the weights and the running requests' KV at the HBM bandwidth × MBU.",
    "平均运行批次下一次解码步的时间：以 HBM 带宽 × MBU 读取权重和运行中请求的 KV。"],
  prefill_utilization_no_cache: [LAT, "Share of a replica's compute that prefill would use without a cache. Near or above 100 % the replica cannot keep up.",
    "没有缓存时，预填充占用副本算力的比例。接近或超过 100% 表示副本跟不上负载。"],
  prefill_utilization: [LAT, "Share of a replica's compute that prefill uses with this cache.",
    "使用当前缓存时，预填充占用副本算力的比例。"],
  decode_utilization: [PIN, "Share of a replica's time that decoding the running requests takes (their KV reads). Near 100 % the replica is overloaded.",
    "解码运行中请求（读取其 KV）占副本时间的比例。接近 100% 表示副本过载。"],

  // --- cache capacity ---------------------------------------------------------------------------
  cache_capacity_tokens: [KV, "How many tokens of KV the cache of one replica holds: the memory left for KV divided by the KV bytes per token.",
    "一个副本的缓存能容纳多少个 token 的 KV：可用于 KV 的显存除以每个 token 的 KV 字节数。"],
  conversations_in_cache: [OUT, "How many conversations in progress the cache holds at once, at their mean size.",
    "按平均大小计算，缓存能同时容纳多少个进行中的会话。"],
  cache_capacity_blocks: [OUT, "The capacity in blocks; the engine caches and reuses whole blocks only.",
    "以块计的容量；引擎只缓存和复用完整的块。"],
  cache_capacity_gib: [OUT, "The capacity in GiB of GPU memory, per replica.",
    "每个副本的缓存容量，以 GiB 显存计。"],
  concurrent_conversations: [OUT, "Conversations started and not yet finished (arrival rate × their duration), per replica.",
    "每个副本上已开始但尚未结束的会话数（到达率 × 会话时长）。"],
  characteristic_time_s: [`${G}#characteristic-time`, "How long an unused block survives before other traffic pushes it out of the LRU cache. A user who thinks longer than this loses the cached history.",
    "一个未被使用的块在 LRU 缓存中能存活多久，之后会被其他流量挤出。用户思考时间超过它，缓存的历史就会丢失。"],

  // --- speed and traffic ------------------------------------------------------------------------
  ideal_prefill_speedup: [`${G}#ideal-prefill-speedup`, "1 ÷ (1 − token hit rate): how much less prefill work the cache leaves, if prefill time were proportional to the new tokens. 75 % hits give 4×.",
    "1 ÷ (1 − token 命中率)：假如预填充时间与新 token 数成正比，缓存让预填充工作量减少的倍数。命中率 75% 即 4 倍。"],
  derived_qps: [OUT, "Requests per second over the cluster: conversation arrival rate × mean turns per conversation.",
    "整个集群每秒的请求数：会话到达率 × 每个会话的平均轮数。"],
  prompt_tokens_per_s: [OUT, "Prompt tokens per second the cluster receives, cached or not.",
    "集群每秒收到的提示 token 数，无论是否命中缓存。"],
  cached_tokens_per_s: [OUT, "Prompt tokens per second served from the cache: prompt tokens per second × token hit rate.",
    "每秒由缓存提供的提示 token 数：每秒提示 token 数 × token 命中率。"],
  mean_prompt_tokens: [HIT, "Mean prompt length over all requests: system prompt, earlier turns and outputs, and the new user tokens.",
    "所有请求的平均提示长度：系统提示、之前的轮次与输出，加上新的用户 token。"],

  // --- memory per GPU ---------------------------------------------------------------------------
  kv_bytes_per_token: [KV, "Bytes of KV one token costs on the whole replica: 2 (K and V) × KV heads × head dimension × dtype bytes × layers, or MLA's compressed latent.",
    "一个 token 在整个副本上占用的 KV 字节数：2（K 和 V）× KV 头数 × 头维度 × 数据类型字节数 × 层数，MLA 则为压缩后的潜向量。"],
  usable_gib_per_gpu: [VLLM, "GPU memory the engine may use: memory × its utilization share (vLLM) or static share (SGLang).",
    "引擎可使用的显存：显存 × 利用率比例（vLLM）或静态比例（SGLang）。"],
  weights_gib_per_gpu: [WEIGHTS, "Memory the model's weights take on each GPU, after tensor and pipeline parallel split them.",
    "张量并行与流水线并行切分后，模型权重在每块 GPU 上占用的显存。"],
  activation_reserve_gib_per_gpu: [VLLM, "Memory kept free for activations, CUDA graphs and non-torch use, as the engine measures it at startup.",
    "为激活值、CUDA 图以及 torch 之外的用途预留的显存，按引擎启动时的测量方式估算。"],
  kv_gib_per_gpu: [VLLM, "What is left for the KV cache on each GPU: usable memory minus weights minus the reserve.",
    "每块 GPU 上留给 KV 缓存的显存：可用显存减去权重和预留。"],
  cache_utilization: [OUT, "Share of the cache holding blocks in steady state; below 100 % the cache never fills.",
    "稳态下缓存中被块占用的比例；低于 100% 表示缓存从未填满。"],

  // --- running requests pin their KV ------------------------------------------------------------
  running_requests: [`${G}#littles-law`, "Requests being prefilled or decoded at once per replica, from Little's law: arrival rate × time each request runs.",
    "每个副本上同时在预填充或解码的请求数，由利特尔定律得出：到达率 × 每个请求的运行时间。"],
  pinned_tokens: [PIN, "KV held by the running requests; it cannot be evicted, so it is not available to keep idle conversations.",
    "运行中请求占用的 KV；它不能被淘汰，因此不能用于保留空闲会话。"],
  evictable_capacity_tokens: [PIN, "The rest of the GPU cache: what keeps conversations between their turns. The hit rates are computed on this part.",
    "GPU 缓存的其余部分：在轮次之间保留会话的空间。命中率基于这一部分计算。"],

  // --- occupancy --------------------------------------------------------------------------------
  occupancy_system_prompt: ["model.html#occupancy", "Share of the cache held by the shared system prompt (one copy for all conversations).",
    "共享系统提示占用的缓存比例（所有会话共用一份）。"],
  occupancy_live: ["model.html#occupancy", "Share held by conversations that come back before they are evicted: this part produces the hits.",
    "在被淘汰前就回来的会话所占的比例：命中正来自这一部分。"],
  occupancy_idle: ["model.html#occupancy", "Share held by conversations that will be evicted before their next turn: memory that yields no hit.",
    "下一轮到来前就会被淘汰的会话所占的比例：这部分显存带不来命中。"],
  occupancy_finished: ["model.html#occupancy", "Share held by conversations that have ended; they stay until LRU evicts them.",
    "已经结束的会话所占的比例；它们会一直留到被 LRU 淘汰。"],

  // --- tiers ------------------------------------------------------------------------------------
  tier_token_hit_rates: [TIERS, "The token hit rate split by where the hit is found: the GPU first, then each tier below. The parts add up to the token hit rate.",
    "按命中所在位置拆分的 token 命中率：先是 GPU，再是下面各层。各部分之和等于 token 命中率。"],
  tier_request_hit_rates: [TIERS, "The request hit rate split the same way: the level down to which a request's whole history was found.",
    "以同样方式拆分的请求命中率：一个请求的完整历史最终在哪一层被找到。"],
  "tier.capacity_tokens": [TIERS, "The tier's size in tokens of KV, per replica.", "该层的容量，以 KV token 数计，每个副本。"],
  "tier.evictable_capacity_tokens": [PIN, "The part that can keep idle conversations: on the GPU, the capacity minus what running requests pin; a lower tier is evictable throughout.",
    "能保留空闲会话的部分：在 GPU 上是容量减去运行中请求占用的部分；下层缓存全部可淘汰。"],
  "tier.capacity_gb": [TIERS, "The tier's size in GB (10⁹ bytes), per replica.", "该层的容量，以 GB（10⁹ 字节）计，每个副本。"],
  "tier.token_hit_rate": [TIERS, "Share of all prompt tokens this tier serves.", "该层提供的命中 token 占全部提示 token 的比例。"],
  "tier.request_hit_rate": [TIERS, "Share of all requests whose history was complete only once this tier was searched.", "完整历史要到该层才找齐的请求占全部请求的比例。"],
  "tier.characteristic_time_s": [`${G}#characteristic-time`, "How long an unused block stays somewhere between the GPU and this tier before it falls out.",
    "一个未被使用的块在 GPU 到该层之间能停留多久，之后被移出。"],
  "tier.read_gb_per_s": [TIERS, "Bandwidth at which each GPU loads KV from this tier.", "每块 GPU 从该层加载 KV 的带宽。"],
  "tier.load_s_per_token": [TIERS, "Time to load one token's KV from this tier: KV bytes per token ÷ read bandwidth.",
    "从该层加载一个 token 的 KV 所需的时间：每 token 的 KV 字节数 ÷ 读取带宽。"],
  "tier.recompute_s_per_token": [LAT, "Time to prefill one token again instead; loading pays only when it is faster than this.",
    "改为重新预填充一个 token 所需的时间；只有加载比它快时，加载才划算。"],
  "tier.load_pays": [TIERS, "Whether a hit in this tier saves time: loading its KV is faster than recomputing it.",
    "该层的命中能否节省时间：加载其 KV 是否比重新计算更快。"],

  // --- per traffic class ------------------------------------------------------------------------
  "class.share": [CLASSES, "Share of the conversations that belong to this class.", "属于该类别的会话所占的比例。"],
  "class.request_share": [CLASSES, "Share of all requests that come from this class (more turns, more requests).", "来自该类别的请求占全部请求的比例（轮数越多，请求越多）。"],
  "class.prompt_token_share": [CLASSES, "Share of all prompt tokens that come from this class.", "来自该类别的提示 token 占全部提示 token 的比例。"],
  "class.token_hit_rate": ["model.html#traffic-classes-kvcache_calctraffic-kvcache_calcanalytic", "This class's cached prompt tokens over its prompt tokens.",
    "该类别命中缓存的提示 token 数除以其全部提示 token 数。"],
  "class.request_hit_rate": ["model.html#traffic-classes-kvcache_calctraffic-kvcache_calcanalytic", "Share of this class's requests whose whole history was found (first turns are misses).",
    "该类别请求中完整历史被找到的比例（第一轮算作未命中）。"],
  "class.mean_turns": [CLASSES, "Mean number of requests in one of this class's conversations.", "该类别一个会话平均包含的请求数。"],
  "class.mean_prompt_tokens": [CLASSES, "Mean prompt length of this class's requests.", "该类别请求的平均提示长度。"],

  // --- advice ----------------------------------------------------------------------------------
  "advice.token_hit_rate": [ADVICE, "The token hit rate the model predicts with this change applied.", "应用这项修改后模型预测的 token 命中率。"],
  "advice.token_hit_rate_gain": [`${G}#percentage-points-pp`, "Change of the token hit rate, in percentage points (pp): from 40 % to 45 % is +5 pp.",
    "token 命中率的变化，以百分点计：从 40% 到 45% 是 +5 个百分点。"],
  "advice.request_hit_rate": [ADVICE, "The request hit rate with this change applied.", "应用这项修改后的请求命中率。"],
  "advice.ideal_prefill_speedup": [`${G}#ideal-prefill-speedup`, "1 ÷ (1 − token hit rate) with this change: the prefill work it would leave, if prefill time were proportional to new tokens.",
    "应用修改后的 1 ÷ (1 − token 命中率)：假如预填充时间与新 token 数成正比，剩余预填充工作量的倍数。"],
  "advice.ttft_s": [LAT, "Mean prefill time per request with this change.", "应用修改后每个请求的平均预填充时间。"],
  "advice.cluster_gpus_delta": [ADVICE, "GPUs the change adds to (+) or removes from (−) the cluster.", "这项修改给集群增加（+）或减少（−）的 GPU 数。"],
  "advice.gpus_saved": [LAT, "Prefill GPUs the cache saves with this change.", "应用修改后缓存节省的预填充 GPU 数。"],
  "advice.cost_per_day_delta": [ADVICE, "Net cost per day: extra GPUs minus the prefill GPUs the better hit rate saves, at your GPU price.",
    "每天的净成本：按你设置的 GPU 单价，新增 GPU 减去更高命中率节省的预填充 GPU。"],

  // --- verify by simulation ---------------------------------------------------------------------
  "sim.token_hit_rate": [SIM, "Token hit rate measured by replaying random conversations through a block-level LRU cache, ± its 95 % interval, next to the formula's.",
    "用块级 LRU 缓存回放随机会话测得的 token 命中率（± 95% 置信区间），与公式结果并列。"],
  "sim.request_hit_rate": [SIM, "Request hit rate measured the same way (first turns count as misses, as in the formula).",
    "以同样方式测得的请求命中率（与公式一样，第一轮算作未命中）。"],
  "sim.tier_token_hit_rate": [SIM, "Token hits the simulation finds in this tier, next to the formula's share for it.", "仿真中在该层找到的 token 命中比例，与公式给出的该层比例并列。"],
  "sim.difference": [`${G}#percentage-points-pp`, "Simulated minus predicted, in percentage points (pp): 45 % against 40 % is +5 pp. Within the ± interval means they agree.",
    "仿真值减去预测值，以百分点计：45% 对 40% 为 +5 个百分点。落在 ± 区间内即两者一致。"],
  "sim.requests_measured": [SIM, "Requests counted after the warm-up, in the measuring window.", "预热之后、统计窗口内计入的请求数。"],
  "sim.replicas_simulated": [SIMULATED, "How many replicas the simulation ran (all of them when routing ignores prefixes).", "仿真运行的副本数（路由不感知前缀时模拟全部副本）。"],
  "sim.block_touches": [SIMULATED, "Block lookups the simulation made: a measure of how much it ran.", "仿真中的块访问次数，反映仿真的运行量。"],
  "sim.follow_up_block_hit_rate": [SIMULATED, "Share of the history blocks of follow-up turns that were found.", "后续轮次的历史块中被找到的比例。"],
  "sim.cache_utilization": [SIMULATED, "Share of the simulated cache that was occupied.", "仿真缓存中被占用的比例。"],
  "sim.warmup_s": [SIM, "Simulated time run before measuring, so the cache starts full like a running server.", "开始统计前先运行的仿真时间，使缓存像运行中的服务那样处于填满状态。"],
  "sim.window_s": [SIM, "Simulated time over which the hit rates were measured.", "统计命中率所用的仿真时间窗口。"],

  // --- trace replay ----------------------------------------------------------------------------
  "trace.ceiling.token_hit_rate": [TRACE, "Share of the trace's prompt tokens an unlimited cache would serve: every block seen before is a hit.",
    "缓存无限大时，轨迹中可由缓存提供的提示 token 比例：之前出现过的块都算命中。"],
  "trace.ceiling.request_hit_rate": [`${G}#request-hit-rate-of-a-replayed-trace`, "With an unlimited cache, the share of requests whose whole reusable prefix is found. Not the calculator's request hit rate: no first-turn misses here, so it is usually much higher.",
    "缓存无限大时，可复用前缀被完整找到的请求比例。它不同于计算器的请求命中率：这里没有“第一轮必未命中”，因此通常高得多。"],
  "trace.current.token_hit_rate": [TRACE, "The replayed token hit rate at the calculator's current cache capacity (LRU, exact).",
    "在计算器当前缓存容量下回放得到的 token 命中率（LRU，精确值）。"],
  "trace.current.request_hit_rate": [`${G}#request-hit-rate-of-a-replayed-trace`, "Share of the trace's requests whose whole reusable prefix was found at the current capacity. Unlike the calculator's, first turns are not counted as misses.",
    "当前容量下，可复用前缀被完整找到的轨迹请求比例。与计算器不同，这里不把第一轮算作未命中。"],
  "trace.gap.worst_points": [`${G}#percentage-points-pp`, "Largest difference, in percentage points, between the fitted scenario's predicted curve and the replayed one.",
    "拟合场景的预测曲线与回放曲线之间的最大差距，以百分点计。"],
  "trace.gap.median_points": [`${G}#percentage-points-pp`, "Median of those differences over the capacities compared, in percentage points.",
    "在所比较的各容量上这些差距的中位数，以百分点计。"],
  "trace.stats.requests": [TRACE, "Requests read from the trace.", "从轨迹中读取的请求数。"],
  "trace.stats.prompt_tokens": [TRACE, "Sum of the requests' prompt lengths.", "所有请求提示长度之和。"],
  "trace.stats.output_tokens": [TRACE, "Sum of the requests' output lengths.", "所有请求输出长度之和。"],
  "trace.stats.block_size": [TRACE, "Tokens per hash id in the trace (each id names one block).", "轨迹中每个哈希 ID 对应的 token 数（每个 ID 代表一个块）。"],
  "trace.stats.mean_input_tokens": [TRACE, "Mean prompt length per request.", "每个请求的平均提示长度。"],
  "trace.stats.mean_output_tokens": [TRACE, "Mean output length per request.", "每个请求的平均输出长度。"],
  "trace.stats.span_s": [TRACE, "Time from the first request to the last.", "从第一个请求到最后一个请求的时间跨度。"],
  "trace.stats.request_rate": [TRACE, "Requests per second over the trace's span.", "轨迹时间跨度内每秒的请求数。"],
  "trace.stats.unique_blocks": [TRACE, "Different blocks the trace names.", "轨迹中出现的不同块的数量。"],
  "trace.stats.unique_tokens": [TRACE, "Tokens in those distinct blocks: the cache an unlimited replay fills.", "这些不同块中的 token 数：无限容量回放时缓存会填入的量。"],
  "trace.stats.unique_gb": [TRACE, "The distinct tokens' KV size at the model's bytes per token.", "按模型每 token 字节数计算的不同 token 的 KV 大小。"],
  "trace.stats.reused_blocks": [TRACE, "Blocks that are hit at least once with an unlimited cache.", "缓存无限大时至少被命中一次的块数。"],
  "trace.stats.reused_block_share": [TRACE, "Reused blocks over distinct blocks.", "被复用的块数除以不同块的总数。"],
  "trace.stats.reused_token_share": [TRACE, "Share of prompt tokens that repeat an earlier prefix: the token hit rate ceiling.", "重复了之前前缀的提示 token 比例，即 token 命中率上限。"],

  // --- form: model -----------------------------------------------------------------------------
  "model.preset": [FIELDS, "Fills every model field from a known checkpoint; any field you type overrides the preset's value.",
    "用已知检查点填好全部模型字段；你填写的任何字段都会覆盖预设值。"],
  "model.num_layers": [KV, "Decoder layers; every layer stores its own KV, so KV per token grows with them.", "解码层数；每层都保存自己的 KV，因此每 token 的 KV 随层数增长。"],
  "model.num_attention_heads": [LAT, "Query heads per layer; they set attention compute in prefill, not the KV size.", "每层的查询头数；它影响预填充中的注意力计算量，不影响 KV 大小。"],
  "model.num_kv_heads": [KV, "Key/value heads per layer: the fewer (GQA, MQA), the smaller the KV per token and the more tokens fit.",
    "每层的键值头数：越少（GQA、MQA），每 token 的 KV 越小，能容纳的 token 越多。"],
  "model.head_dim": [KV, "Width of each head; KV per token is proportional to it.", "每个头的维度；每 token 的 KV 与它成正比。"],
  "model.hidden_size": [VLLM, "Model width; used to estimate the activation memory the engine reserves.", "模型宽度；用于估算引擎预留的激活显存。"],
  "model.intermediate_size": [VLLM, "Width of the dense MLP; it sets the activation peak of the engine's startup profile.", "稠密 MLP 的宽度；它决定引擎启动测量时的激活峰值。"],
  "model.vocab_size": [VLLM, "Vocabulary size; the logits of vLLM's profiling batch often dominate its activation peak.", "词表大小；vLLM 测量批次的 logits 往往决定其激活峰值。"],
  "model.attention": [KV, "How attention stores KV: per KV head (MHA/GQA/MQA) or one compressed latent per token (MLA).", "注意力保存 KV 的方式：按 KV 头保存（MHA/GQA/MQA），或每 token 一个压缩潜向量（MLA）。"],
  "model.kv_lora_rank": [KV, "MLA only: size of the compressed latent cached per token and layer.", "仅 MLA：每个 token 每层缓存的压缩潜向量大小。"],
  "model.qk_rope_head_dim": [KV, "MLA only: the positional part cached next to the latent.", "仅 MLA：与潜向量一起缓存的位置编码部分。"],
  "model.sliding_window": [HYBRID, "Window of sliding-window layers: such a layer keeps only the last tokens of a request, so a cached prefix costs it less.",
    "滑动窗口层的窗口：这类层只保留请求的最后若干 token，因此缓存前缀在这些层上占用更少。"],
  "model.sliding_window_layers": [HYBRID, "How many layers use the sliding window.", "使用滑动窗口的层数。"],
  "model.linear_attention_layers": [HYBRID, "Mamba or linear-attention layers: a fixed state per request and no KV per token.", "Mamba 或线性注意力层：每个请求一个固定状态，不按 token 保存 KV。"],
  "model.params_b": [WEIGHTS, "Total parameters in billions; with the weight dtype they give the weights' memory.", "总参数量（十亿）；与权重数据类型一起决定权重占用的显存。"],
  "model.active_params_b": [LAT, "Parameters each token passes through (MoE models use only some experts); they set prefill compute.", "每个 token 实际经过的参数量（MoE 模型只用部分专家）；决定预填充计算量。"],
  "model.weight_dtype": [WEIGHTS, "Data type of the weights: bytes per parameter, and the GPU's peak compute (FP8 runs faster).", "权重的数据类型：每个参数的字节数，以及 GPU 的峰值算力（FP8 更快）。"],
  "model.kv_dtype": [KV, "Data type of the KV cache; FP8 halves the bytes per token, so twice the tokens fit.", "KV 缓存的数据类型；FP8 让每 token 字节数减半，能容纳两倍的 token。"],
  "model.tie_word_embeddings": [WEIGHTS, "1 when the output head shares the input embedding matrix (stored once), else 0.", "输出层与输入嵌入共用同一矩阵（只存一份）时为 1，否则为 0。"],
  "model.max_position_embeddings": [MEM_INPUTS, "The longest context the checkpoint supports; the engine's default maximum request length.", "检查点支持的最长上下文；也是引擎默认的最大请求长度。"],
  "model.num_experts": [WEIGHTS, "Routed experts per MoE layer (0 for a dense model); they count in the weights' memory.", "每个 MoE 层的路由专家数（稠密模型为 0）；计入权重显存。"],
  "model.num_experts_per_tok": [LAT, "Experts each token uses; with their width they set the active parameters.", "每个 token 使用的专家数；与专家宽度一起决定激活参数量。"],
  "model.moe_intermediate_size": [WEIGHTS, "Width of one routed expert's MLP.", "单个路由专家 MLP 的宽度。"],
  "model.shared_expert_intermediate_size": [WEIGHTS, "Width of the shared expert(s) every token uses in an MoE layer (0 = none).", "MoE 层中每个 token 都使用的共享专家宽度（0 表示没有）。"],
  "model.dense_layers": [WEIGHTS, "MoE models: how many layers keep a dense MLP instead of experts.", "MoE 模型中保留稠密 MLP、不使用专家的层数。"],
  "model.q_lora_rank": [LAT, "MLA only: rank of the compressed queries (0 = full rank); weights only, not KV.", "仅 MLA：压缩查询的秩（0 表示满秩）；只影响权重，不影响 KV。"],
  "model.qk_nope_head_dim": [LAT, "MLA only: the non-positional part of each query/key head; sets attention compute.", "仅 MLA：每个查询/键头中不含位置编码的部分；影响注意力计算量。"],
  "model.v_head_dim": [LAT, "MLA only: width of each value head; sets attention compute.", "仅 MLA：每个值头的维度；影响注意力计算量。"],
  "model.index_head_dim": [KV, "DeepSeek-V3.2 sparse attention: the indexer key also cached per token and layer (0 = none).", "DeepSeek-V3.2 稀疏注意力：每个 token 每层额外缓存的索引键（0 表示没有）。"],
  "model.chunked_local_layers": [HYBRID, "Layers that attend only within fixed chunks (Llama 4); they keep at most one chunk per request.", "只在固定分块内做注意力的层（Llama 4）；每个请求最多保留一个分块。"],
  "model.attention_chunk_size": [HYBRID, "Chunk length of those chunked local layers.", "这些分块局部层的分块长度。"],
  "model.linear_state_bytes": [HYBRID, "Recurrent state one request holds in each linear-attention layer.", "每个请求在每个线性注意力层中保存的循环状态大小。"],
  "model.quantization": [WEIGHTS, "How the checkpoint's weights are quantized; sets their memory (and leaves KV as it is).", "检查点权重的量化方式；决定权重显存（不影响 KV）。"],
  "model.quant_bits": [WEIGHTS, "Bits per quantized weight (AWQ/GPTQ: 4 or 8).", "每个量化权重的位数（AWQ/GPTQ：4 或 8）。"],
  "model.quant_group_size": [WEIGHTS, "Weights that share one scale; smaller groups cost a little more memory.", "共用一个缩放因子的权重数；分组越小，额外显存越多。"],
  "model.weights_gib": [WEIGHTS, "Total weight memory; when set, it replaces parameters × dtype.", "权重总显存；填写后代替“参数量 × 数据类型”的估算。"],

  // --- form: hardware --------------------------------------------------------------------------
  "hardware.gpu": [FIELDS, "A GPU preset: its memory, HBM bandwidth and peak TFLOP/s.", "GPU 预设：显存、HBM 带宽与峰值 TFLOP/s。"],
  "hardware.memory_gib": [VLLM, "Memory of one GPU as the driver reports it; overrides the preset.", "驱动报告的单块 GPU 显存；覆盖预设值。"],
  "hardware.num_gpus": [KV, "GPUs that serve one copy of the model; more GPUs leave more memory for KV.", "承载一份模型的 GPU 数；GPU 越多，留给 KV 的显存越多。"],
  "hardware.tensor_parallel": [KV, "GPUs each layer is split across; the rest of the GPUs per replica form pipeline stages.", "每层切分到的 GPU 数；每副本其余的 GPU 组成流水线阶段。"],
  "hardware.gpu_memory_utilization": [VLLM, "Share of GPU memory vLLM may use for weights, activations and KV (--gpu-memory-utilization).", "vLLM 可用于权重、激活与 KV 的显存比例（--gpu-memory-utilization）。"],
  "hardware.max_num_batched_tokens": [VLLM, "Tokens one engine step may process; sets the activation memory the engine reserves.", "一次引擎步最多处理的 token 数；决定引擎预留的激活显存。"],
  "hardware.max_num_seqs": [PIN, "At most this many requests run at once; the rest wait in the queue.", "同时运行的请求数上限；其余请求排队等待。"],
  "hardware.max_model_len": ["memory.html#max_model_len", "Longest request the engine accepts; it refuses to start if one such request does not fit in the KV cache.",
    "引擎接受的最长请求；如果 KV 缓存放不下一个这样的请求，引擎会拒绝启动。"],
  "hardware.cuda_graphs": [VLLM, "Whether the engine captures CUDA graphs; they take some memory.", "引擎是否捕获 CUDA 图；它们会占用一些显存。"],
  "hardware.mem_fraction_static": [SGLANG, "SGLang only: share of GPU memory for weights plus the KV pool (--mem-fraction-static).", "仅 SGLang：权重加 KV 池可用的显存比例（--mem-fraction-static）。"],
  "hardware.tflops": [LAT, "Peak dense TFLOP/s of one GPU; prefill time is compute ÷ (this × MFU).", "单块 GPU 的稠密峰值 TFLOP/s；预填充时间 = 计算量 ÷（该值 × MFU）。"],
  "hardware.hbm_tb_per_s": [PIN, "Memory bandwidth of one GPU; decoding reads the weights and KV at this speed × MBU.", "单块 GPU 的显存带宽；解码以该速度 × MBU 读取权重与 KV。"],
  "hardware.activation_reserve_gib": [VLLM, "Memory per GPU kept for activations; when set, replaces the engine's own estimate.", "每块 GPU 为激活值预留的显存；填写后代替引擎自己的估算。"],

  // --- form: cache and tiers -------------------------------------------------------------------
  "cache.block_size": [HIT, "Tokens per KV block; only whole blocks are cached, so a partial last block is recomputed.", "每个 KV 块的 token 数；只缓存完整的块，不满的最后一块需要重新计算。"],
  "cache.capacity_tokens": [KV, "Cache size per replica in tokens; when set, it replaces the memory calculation.", "每个副本的缓存容量（token）；填写后代替显存计算。"],
  "cache.policy": [HIT, "Which block is evicted first: LRU (what the engines do) has a formula; FIFO and LFU are simulated only.", "先淘汰哪个块：LRU（引擎的做法）有公式；FIFO 与 LFU 只能仿真。"],
  "cache.admission": [FIELDS, "What enters the cache after a request: prompt and output blocks (the engines), or the prompt only (trace replay).", "请求结束后哪些内容进入缓存：提示与输出的块（引擎做法），或仅提示（轨迹回放）。"],
  tiers_policy: [TIERS, "Exclusive: a block lives in one tier, moving down when evicted and up when hit. Inclusive: each tier keeps a copy of what is above.",
    "独占：一个块只在一层，被淘汰时下移、命中时上移。包含：每层都保存上层内容的副本。"],
  "tiers.name": [TIERS, "A name for the tier; cpu and ssd get typical read bandwidths.", "层的名称；cpu 与 ssd 会使用典型的读取带宽。"],
  "tiers.capacity_gb": [TIERS, "KV this tier holds per replica; evicted GPU blocks go there and can be loaded back.", "该层每个副本容纳的 KV；从 GPU 淘汰的块放到这里，之后可加载回来。"],
  "tiers.capacity_tokens": [TIERS, "The tier's capacity in tokens instead of GB.", "以 token 而不是 GB 表示的该层容量。"],
  "tiers.read_gb_per_s": [TIERS, "How fast each GPU loads KV from this tier; a hit pays only if loading beats recomputing.", "每块 GPU 从该层加载 KV 的速度；只有加载快于重新计算时命中才划算。"],

  // --- form: workload --------------------------------------------------------------------------
  "workload.arrival_rate": [HIT, "New conversations per second over the cluster (random, Poisson). More traffic evicts blocks sooner.", "整个集群每秒新开始的会话数（随机，泊松分布）。流量越大，块被淘汰得越快。"],
  "workload.turns_mean": [HIT, "Mean requests per conversation; every turn after the first can reuse the history.", "每个会话的平均请求数；第一轮之后的每一轮都能复用历史。"],
  "workload.turns_dist": [HIT, "Whether the number of turns varies (geometric) or is the same for every conversation (fixed).", "轮数是随机变化（几何分布）还是每个会话都相同（固定）。"],
  "workload.think_time_s": [`${G}#characteristic-time`, "Mean pause between a response and the next request; if it exceeds the time a block survives, the history is gone.",
    "从回复到下一个请求的平均间隔；若超过块的存活时间，历史就已被淘汰。"],
  "workload.think_dist": [HIT, "Whether pauses vary (exponential) or are always the same (fixed).", "间隔是随机变化（指数分布）还是总是相同（固定）。"],
  "workload.user_tokens": [HIT, "New tokens the user adds in each turn; they are never cached when they arrive.", "用户每轮新加入的 token；刚到达时它们不可能命中缓存。"],
  "workload.output_tokens": [HIT, "Tokens generated per turn; they become part of the next prompt and can be reused.", "每轮生成的 token；它们成为下一轮提示的一部分，可以被复用。"],
  "workload.system_prompt_tokens": [HIT, "A prompt every conversation starts with; one cached copy serves them all.", "每个会话开头都相同的提示；缓存一份即可供所有会话使用。"],
  "workload.prefixes.name": [CLASSES, "Name of a shared prefix group (a system prompt, tenants' prompts, documents).", "共享前缀组的名称（系统提示、租户提示、文档）。"],
  "workload.prefixes.tokens": [CLASSES, "Length of one variant of this prefix.", "该前缀每个变体的长度。"],
  "workload.prefixes.count": [CLASSES, "How many different variants exist; more variants are harder to keep cached.", "不同变体的数量；变体越多越难全部留在缓存中。"],
  "workload.prefixes.zipf": [CLASSES, "How unevenly variants are chosen: 0 all alike, higher means a few popular ones.", "变体被选中的不均匀程度：0 表示均匀，越大越集中于少数热门变体。"],
  "workload.classes.name": [CLASSES, "Name of a kind of traffic (chat, RAG, agents…) with its own conversation shape.", "一类流量的名称（聊天、检索增强、智能体……），有自己的会话形态。"],
  "workload.classes.share": [CLASSES, "Share of conversation arrivals in this class; shares are divided by their sum.", "该类别占会话到达的比例；各比例会按总和归一化。"],
  "workload.classes.rate": [CLASSES, "Conversations per second of this class, instead of a share.", "该类别每秒的会话数，代替比例。"],
  "workload.classes.prefix": [CLASSES, "Prefix groups this class's prompts start with, in order.", "该类别的提示依次以哪些前缀组开头。"],
  "workload.classes.turns": [CLASSES, "How many requests one conversation sends: a number or a distribution.", "一个会话发出的请求数：一个数值或一个分布。"],
  "workload.classes.think_time_s": [CLASSES, "Pause between turns: a number or a distribution.", "轮次之间的间隔：一个数值或一个分布。"],
  "workload.classes.context_tokens": [CLASSES, "The conversation's own context in its first prompt (a pasted file, retrieved text).", "会话在第一轮提示中的自有上下文（粘贴的文件、检索到的文本）。"],
  "workload.classes.user_tokens": [CLASSES, "New tokens per turn: a number or a distribution.", "每轮新增的 token：一个数值或一个分布。"],
  "workload.classes.output_tokens": [CLASSES, "Generated tokens per turn: a number or a distribution.", "每轮生成的 token：一个数值或一个分布。"],

  // --- form: cluster, latency, deploy ----------------------------------------------------------
  "cluster.replicas": [ROUTE, "Copies of the model, each with its own cache; traffic is divided among them.", "模型的副本数，每个副本有自己的缓存；流量在它们之间分配。"],
  "cluster.routing": [ROUTE, "Affinity keeps a conversation on one replica so its history is found; other routers ignore the prefix and lose hits.",
    "亲和路由让会话始终落在同一副本上，历史才能被找到；其他路由不看前缀，会损失命中。"],
  "latency.mfu": [`${G}#mfu`, "MFU (model FLOPs utilization): the share of the GPU's peak compute prefill reaches; 0.4 is typical.", "MFU（模型算力利用率）：预填充达到的 GPU 峰值算力比例；典型值为 0.4。"],
  "latency.mbu": [`${G}#mbu`, "MBU: the share of HBM bandwidth a decode step reaches; it sets the decode speed.", "MBU：解码步达到的 HBM 带宽比例；决定解码速度。"],
  "latency.price_per_gpu_hour": [LAT, "Price of one GPU-hour; turns GPUs saved into money per day.", "每 GPU 小时的价格；用于把节省的 GPU 换算成每天节省的金额。"],
  "deploy.engine": [MEM_INPUTS, "vLLM or SGLang: each sizes the KV cache its own way at startup.", "vLLM 或 SGLang：二者在启动时以各自的方式确定 KV 缓存大小。"],
  "deploy.engine_version": [MEM_INPUTS, "The engine release whose defaults and memory accounting apply.", "采用哪个引擎版本的默认值与显存计算方式。"],
  "deploy.flashinfer": [MEM_INPUTS, "Whether FlashInfer is installed where vLLM runs; older vLLM releases reserve different memory with it.", "vLLM 运行环境是否装有 FlashInfer；较旧的 vLLM 版本在装有它时预留的显存不同。"],
  "deploy.model_id": [DEPLOY, "The repository or path the command line loads; it changes no number.", "启动命令加载的模型仓库或路径；不影响任何数字。"],
  "sim-requests": [SIM, "How many requests the simulation measures after its warm-up; more gives a narrower ± interval but takes longer.", "仿真在预热之后统计的请求数；越多，± 区间越窄，但耗时越长。"],
};

/** The popover's own strings. */
export const EXPLAIN_UI = {
  en: {
    button: "What is “{label}”?",
    button_plain: "Explain this number",
    link: "How it is computed",
    docs_nav: "Documentation",
    docs_method: "Method",
    docs_accuracy: "Accuracy",
    docs_glossary: "Terms",
    docs_all: "All docs",
  },
  zh: {
    button: "“{label}”是什么？",
    button_plain: "解释这个数字",
    link: "计算方法",
    docs_nav: "文档",
    docs_method: "计算方法",
    docs_accuracy: "准确性",
    docs_glossary: "术语",
    docs_all: "全部文档",
  },
};
