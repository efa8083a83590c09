// UI strings in English and Chinese, and the language choice (?lang= wins, then localStorage).
// Field labels and help come from schema.json (label_en/label_zh, help_en/help_zh), not from here.

export const LANGUAGES = ["en", "zh"];
const STORAGE_KEY = "kvcache-calc.lang";

const STRINGS = {
  en: {
    title: "KV-cache hit-rate calculator",
    subtitle: "How often vLLM / SGLang find a multi-turn chat request's prefix already in the KV cache.",
    switch_language: "中文",
    stage_starting: "Starting Python…",
    stage_runtime: "Loading the Python runtime",
    stage_micropip: "Loading the package installer",
    stage_calculator: "Installing the calculator",
    stage_ready: "Python ready",
    boot_failed: "Python failed to start: {message}",
    loading_note: "Python is loading in the background; the form already works and results appear as soon as it is ready.",
    section_model: "Model",
    section_hardware: "Hardware",
    section_workload: "Traffic",
    section_cache: "Cache",
    section_cluster: "Cluster",
    group_architecture: "Architecture",
    group_dtypes: "Data types",
    group_parameters: "Parameters and weights",
    preset_none: "Custom (no preset)",
    option_auto: "auto",
    option_from_preset: "preset: {value}",
    placeholder_auto: "auto",
    hf_config_label: "Paste a Hugging Face config.json",
    hf_config_placeholder: "{\"num_hidden_layers\": 32, \"num_key_value_heads\": 8, …}",
    hf_config_button: "Fill model fields",
    hf_config_filled: "Filled {count} fields from config.json: {fields}.",
    hf_config_nothing: "No known fields found in that JSON.",
    hf_config_invalid: "That is not valid JSON: {message}",
    hf_config_not_object: "Expected a JSON object (the contents of config.json).",
    calculate: "Calculate",
    copy_link: "Copy link",
    copy_scenario: "Copy scenario JSON",
    copied: "Copied.",
    copy_failed: "Copy failed; select the text and copy it by hand.",
    download_json: "Download JSON",
    download_csv: "Download CSV",
    download_png: "PNG",
    results_title: "Results",
    results_waiting: "Results appear here once Python is ready.",
    stale_note: "Stale: these results are for the last valid input, not what the form shows now.",
    error_general: "Cannot calculate: {message}",
    token_hit_rate: "Token hit rate",
    token_hit_rate_desc: "Share of prompt tokens served from the cache — what vLLM reports as prefix cache hits / queries.",
    request_hit_rate: "Request hit rate",
    request_hit_rate_desc: "Share of requests whose whole earlier conversation was still cached (first turns count as misses).",
    ceiling: "Ceiling with an infinite cache",
    ceiling_token_hit_rate: "tokens",
    ceiling_request_hit_rate: "requests",
    seed_formula: "The old one-line formula says {value}.",
    capacity_title: "Cache capacity",
    cache_capacity_tokens: "Tokens",
    cache_capacity_blocks: "Blocks",
    cache_capacity_gib: "Size",
    conversations_in_cache: "Conversations it holds",
    concurrent_conversations: "Conversations in progress",
    characteristic_time_s: "Time a block survives unused",
    never_fills: "the cache never fills",
    speed_title: "Speed and traffic",
    ideal_prefill_speedup: "Ideal prefill speedup",
    derived_qps: "Requests per second",
    prompt_tokens_per_s: "Prompt tokens per second",
    cached_tokens_per_s: "Cached tokens per second",
    mean_prompt_tokens: "Mean prompt length",
    memory_title: "Memory per GPU",
    kv_bytes_per_token: "KV bytes per token",
    usable_gib_per_gpu: "Usable",
    weights_gib_per_gpu: "Weights",
    activation_reserve_gib_per_gpu: "Activation reserve",
    kv_gib_per_gpu: "KV cache",
    cache_utilization: "Cache in use",
    occupancy_title: "What fills the cache",
    occupancy_system_prompt: "System prompt",
    occupancy_live: "Conversations in a turn",
    occupancy_idle: "Conversations between turns",
    occupancy_finished: "Finished conversations",
    suggestions_title: "What would change the hit rate",
    suggestion_effect: "token hit rate {token}, request hit rate {request}, prefill speedup {speedup}",
    apply: "Apply",
    no_suggestions: "No suggestions for this scenario.",
    warnings_title: "Warnings",
    charts_title: "Charts",
    chart_memory: "Hit rate vs memory per GPU",
    chart_sweeps: "Sensitivity: one field at a time",
    chart_tornado: "±20% swings of each field (token hit rate)",
    axis_memory: "Memory per GPU (GiB)",
    axis_capacity: "Cache capacity (tokens)",
    axis_hit_rate: "Hit rate",
    series_token: "Token hit rate",
    series_request: "Request hit rate",
    series_seed: "Old one-line formula",
    series_ceiling: "Ceiling (token)",
    series_current: "This scenario",
    series_low: "−20%",
    series_high: "+20%",
    scenario_title: "Scenario JSON",
    export_title: "Export",
    notice_unknown: "Ignored the unknown link parameter “{key}”.",
    notice_invalid: "Ignored {key}={value} from the link: expected {expected}.",
    expected_one_of: "one of {choices}",
    expected_integer: "an integer",
    expected_number: "a number",
    expected_gt: "> {value}",
    expected_ge: "≥ {value}",
    expected_le: "≤ {value}",
    footer: "All arithmetic runs in Python (Pyodide) inside your browser; nothing is sent anywhere.",
  },
  zh: {
    title: "KV 缓存命中率计算器",
    subtitle: "估算 vLLM / SGLang 在多轮对话中，请求前缀已在 KV 缓存中的比例。",
    switch_language: "English",
    stage_starting: "正在启动 Python…",
    stage_runtime: "正在加载 Python 运行时",
    stage_micropip: "正在加载包安装器",
    stage_calculator: "正在安装计算器",
    stage_ready: "Python 已就绪",
    boot_failed: "Python 启动失败：{message}",
    loading_note: "Python 正在后台加载；表单已可使用，就绪后立即显示结果。",
    section_model: "模型",
    section_hardware: "硬件",
    section_workload: "流量",
    section_cache: "缓存",
    section_cluster: "集群",
    group_architecture: "结构",
    group_dtypes: "数据类型",
    group_parameters: "参数与权重",
    preset_none: "自定义（不用预设）",
    option_auto: "自动",
    option_from_preset: "预设：{value}",
    placeholder_auto: "自动",
    hf_config_label: "粘贴 Hugging Face 的 config.json",
    hf_config_placeholder: "{\"num_hidden_layers\": 32, \"num_key_value_heads\": 8, …}",
    hf_config_button: "填入模型字段",
    hf_config_filled: "已从 config.json 填入 {count} 个字段：{fields}。",
    hf_config_nothing: "该 JSON 中没有可识别的字段。",
    hf_config_invalid: "不是有效的 JSON：{message}",
    hf_config_not_object: "应为 JSON 对象（config.json 的内容）。",
    calculate: "计算",
    copy_link: "复制链接",
    copy_scenario: "复制场景 JSON",
    copied: "已复制。",
    copy_failed: "复制失败；请手动选择文本复制。",
    download_json: "下载 JSON",
    download_csv: "下载 CSV",
    download_png: "PNG",
    results_title: "结果",
    results_waiting: "Python 就绪后在此显示结果。",
    stale_note: "已过期：这些结果对应上一次有效输入，而非表单当前内容。",
    error_general: "无法计算：{message}",
    token_hit_rate: "Token 命中率",
    token_hit_rate_desc: "提示 token 中由缓存提供的比例——即 vLLM 报告的前缀缓存命中数 / 查询数。",
    request_hit_rate: "请求命中率",
    request_hit_rate_desc: "整段历史对话仍在缓存中的请求比例（首轮计为未命中）。",
    ceiling: "无限缓存时的上限",
    ceiling_token_hit_rate: "token",
    ceiling_request_hit_rate: "请求",
    seed_formula: "旧的一行公式给出 {value}。",
    capacity_title: "缓存容量",
    cache_capacity_tokens: "Token 数",
    cache_capacity_blocks: "块数",
    cache_capacity_gib: "大小",
    conversations_in_cache: "可容纳的会话数",
    concurrent_conversations: "进行中的会话数",
    characteristic_time_s: "块在未被使用时的存活时间",
    never_fills: "缓存不会被填满",
    speed_title: "速度与流量",
    ideal_prefill_speedup: "理想预填充加速比",
    derived_qps: "每秒请求数",
    prompt_tokens_per_s: "每秒提示 token",
    cached_tokens_per_s: "每秒命中缓存的 token",
    mean_prompt_tokens: "平均提示长度",
    memory_title: "每卡显存",
    kv_bytes_per_token: "每 token 的 KV 字节数",
    usable_gib_per_gpu: "可用",
    weights_gib_per_gpu: "权重",
    activation_reserve_gib_per_gpu: "激活预留",
    kv_gib_per_gpu: "KV 缓存",
    cache_utilization: "缓存使用率",
    occupancy_title: "缓存被什么占用",
    occupancy_system_prompt: "系统提示",
    occupancy_live: "正在进行一轮的会话",
    occupancy_idle: "两轮之间的会话",
    occupancy_finished: "已结束的会话",
    suggestions_title: "哪些改动会影响命中率",
    suggestion_effect: "token 命中率 {token}，请求命中率 {request}，预填充加速比 {speedup}",
    apply: "应用",
    no_suggestions: "此场景没有建议。",
    warnings_title: "警告",
    charts_title: "图表",
    chart_memory: "命中率与每卡显存",
    chart_sweeps: "敏感性：逐个字段变化",
    chart_tornado: "各字段 ±20% 的影响（token 命中率）",
    axis_memory: "每卡显存 (GiB)",
    axis_capacity: "缓存容量（token）",
    axis_hit_rate: "命中率",
    series_token: "Token 命中率",
    series_request: "请求命中率",
    series_seed: "旧的一行公式",
    series_ceiling: "上限（token）",
    series_current: "当前场景",
    series_low: "−20%",
    series_high: "+20%",
    scenario_title: "场景 JSON",
    export_title: "导出",
    notice_unknown: "已忽略链接中未知的参数“{key}”。",
    notice_invalid: "已忽略链接中的 {key}={value}：应为 {expected}。",
    expected_one_of: "以下之一：{choices}",
    expected_integer: "整数",
    expected_number: "数字",
    expected_gt: "> {value}",
    expected_ge: "≥ {value}",
    expected_le: "≤ {value}",
    footer: "所有计算都在你的浏览器中由 Python (Pyodide) 完成；不会发送任何数据。",
  },
};

let currentLanguage = "en";

export function chooseLanguage(queryString) {
  const fromUrl = new URLSearchParams(queryString).get("lang");
  if (LANGUAGES.includes(fromUrl)) return fromUrl;
  let stored = null;
  try {
    stored = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  if (LANGUAGES.includes(stored)) return stored;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function setLanguage(language, { remember = true } = {}) {
  currentLanguage = LANGUAGES.includes(language) ? language : "en";
  document.documentElement.lang = currentLanguage === "zh" ? "zh-CN" : "en";
  if (remember) {
    try {
      window.localStorage.setItem(STORAGE_KEY, currentLanguage);
    } catch {
      /* storage may be disabled; the choice then lasts for this page only */
    }
  }
}

export function language() {
  return currentLanguage;
}

/** The UI string `key` in the current language with {name} placeholders filled. */
export function t(key, params = {}) {
  const table = STRINGS[currentLanguage] || STRINGS.en;
  const template = table[key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** A schema field's label or help text in the current language. */
export function fieldText(field, what) {
  return field[`${what}_${currentLanguage}`] || field[`${what}_en`] || "";
}

/** Fill every [data-i18n] element's text (never HTML). */
export function applyStaticStrings(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}
