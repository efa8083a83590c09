// Strings of the "Diagnose my deployment" panel (js/diagnose.js) in English and Chinese. The language
// itself is js/i18n.js's; elements carry data-diagnose-i18n (not data-i18n, which app.js relabels).

import { language } from "./i18n.js";

const STRINGS = {
  en: {
    diagnose_title: "Diagnose my deployment",
    diagnose_intro: "Paste (or drop a file of) a scrape of vLLM's or SGLang's /metrics: its prefix-cache counters give the hit rate the deployment really gets, shown next to the model's for the scenario above, with where the hits are lost.",
    diagnose_local_note: "The scrape is read locally, in this browser's calculator worker. Nothing is uploaded.",
    diagnose_scrape_label: "Scrape (Prometheus text from /metrics)",
    diagnose_scrape_placeholder: "# HELP vllm:prefix_cache_queries_total …",
    diagnose_file_label: "Or open a file",
    diagnose_before_summary: "An earlier scrape of the same server, for rates (optional)",
    diagnose_before_label: "Earlier scrape",
    diagnose_interval_label: "Seconds between the two scrapes",
    diagnose_run: "Diagnose",
    diagnose_running: "Reading the scrape…",
    diagnose_error: "Diagnose: {message}",
    diagnose_window_interval: "{engine} scrape, over {seconds}; hit rate from {metric}",
    diagnose_window_since_start: "{engine} scrape, totals since the server started; hit rate from {metric}",
    diagnose_col_metric: "",
    diagnose_col_observed: "Observed",
    diagnose_col_model: "Model",
    diagnose_row_token_hit_rate: "Token hit rate",
    diagnose_row_requests: "Requests per second (cluster)",
    diagnose_row_prompt_tokens: "Prompt tokens per second (scraped server)",
    diagnose_row_kv_usage: "KV cache usage",
    diagnose_row_running: "Requests running (per replica)",
    diagnose_split_title: "Where the hits go",
    diagnose_col_stage: "Stage",
    diagnose_col_points: "Token hit rate (points)",
    diagnose_stage_traffic_allows: "What the traffic allows (ceiling)",
    diagnose_stage_lost_to_capacity: "Lost to capacity",
    diagnose_stage_lost_to_routing: "Lost to routing",
    diagnose_stage_unexplained: "Not explained by the model",
    diagnose_stage_observed: "Observed",
    diagnose_notes_title: "Findings",
    diagnose_suggestions_title: "Suggested scenario changes",
    diagnose_suggestion: "{field}: {value} (now {current}); the model then gives {rate}. {why}",
    diagnose_apply: "Apply",
  },
  zh: {
    diagnose_title: "诊断我的部署",
    diagnose_intro: "粘贴（或拖入文件）vLLM 或 SGLang 的 /metrics 抓取结果：其前缀缓存计数器给出部署实际得到的命中率，与上方场景的模型结果并列显示，并说明命中在哪里损失。",
    diagnose_local_note: "抓取内容只在本浏览器的计算器 worker 中读取，不会上传。",
    diagnose_scrape_label: "抓取结果（/metrics 的 Prometheus 文本）",
    diagnose_scrape_placeholder: "# HELP vllm:prefix_cache_queries_total …",
    diagnose_file_label: "或打开文件",
    diagnose_before_summary: "同一服务器更早的一次抓取，用于计算速率（可选）",
    diagnose_before_label: "更早的抓取",
    diagnose_interval_label: "两次抓取之间的秒数",
    diagnose_run: "诊断",
    diagnose_running: "正在读取抓取结果…",
    diagnose_error: "诊断：{message}",
    diagnose_window_interval: "{engine} 抓取，区间 {seconds}；命中率来自 {metric}",
    diagnose_window_since_start: "{engine} 抓取，服务器启动以来的累计值；命中率来自 {metric}",
    diagnose_col_metric: "",
    diagnose_col_observed: "观测值",
    diagnose_col_model: "模型",
    diagnose_row_token_hit_rate: "Token 命中率",
    diagnose_row_requests: "每秒请求数（集群）",
    diagnose_row_prompt_tokens: "每秒提示 token 数（被抓取的服务器）",
    diagnose_row_kv_usage: "KV 缓存占用",
    diagnose_row_running: "运行中的请求（每副本）",
    diagnose_split_title: "命中去了哪里",
    diagnose_col_stage: "阶段",
    diagnose_col_points: "Token 命中率（百分点）",
    diagnose_stage_traffic_allows: "流量允许的上限",
    diagnose_stage_lost_to_capacity: "因容量损失",
    diagnose_stage_lost_to_routing: "因路由损失",
    diagnose_stage_unexplained: "模型未能解释的部分",
    diagnose_stage_observed: "观测值",
    diagnose_notes_title: "发现",
    diagnose_suggestions_title: "建议的场景修改",
    diagnose_suggestion: "{field}：{value}（当前 {current}）；模型随之给出 {rate}。{why}",
    diagnose_apply: "应用",
  },
};

/** The diagnose panel's string `key` in the current language, {name} placeholders filled. */
export function dt(key, params = {}) {
  const table = STRINGS[language()] || STRINGS.en;
  const template = table[key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Every key, per language (for the tests: both tables must have the same keys). */
export const DIAGNOSE_STRING_KEYS = Object.fromEntries(Object.entries(STRINGS).map(([lang, table]) => [lang, Object.keys(table)]));
