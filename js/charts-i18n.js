// Strings of the charts (js/charts.js) in English and Chinese: axis titles, legends, markers and the
// titles drawn into the PNG exports. The language itself is js/i18n.js's; the sweeps figure's own
// button carries data-charts-i18n (not data-i18n, which app.js relabels).

import { keysOf, lookup } from "./i18n.js";

const STRINGS = {
  en: {
    chart_axis_hit_rate: "Hit rate (%)",
    chart_axis_token_hit_rate: "Token hit rate (%)",
    chart_axis_memory: "Memory per GPU (GiB)",
    chart_axis_capacity: "KV cache capacity per replica (tokens)",
    chart_axis_tier_gb: "{tier} tier size per replica (GB)",
    chart_axis_tier_tokens: "{tier} tier size per replica (tokens)",
    chart_axis_field: "{label} ({unit})",
    chart_axis_field_plain: "{label}",
    chart_axis_routing: "Routing",
    chart_axis_swung_field: "Field moved by −{swing} and +{swing}",
    chart_title_memory: "Hit rate vs memory per GPU",
    chart_title_capacity: "Hit rate vs KV cache capacity",
    chart_title_tier: "Hit rate vs size of the {tier} tier",
    chart_title_sweep: "Hit rate vs {label}",
    chart_title_sweeps: "Sensitivity: hit rate as one field at a time moves",
    chart_title_tornado: "Token hit rate when each field moves by ±{swing}",
    chart_title_routing: "Hit rate by routing",
    chart_title_with_baseline: "{title} (dashed: baseline)",
    chart_marker_current: "This scenario",
    chart_marker_baseline: "Baseline",
    chart_marker_current_routing: "This scenario's routing",
    chart_marker_baseline_routing: "Baseline's routing",
    chart_series_baseline: "Baseline: {series}",
    chart_series_low: "Field at −{swing}",
    chart_series_high: "Field at +{swing}",
    chart_png_all: "PNG (all sweeps)",
    chart_png_all_title: "Download the six sensitivity sweeps as one PNG image",
  },
  zh: {
    chart_axis_hit_rate: "命中率（%）",
    chart_axis_token_hit_rate: "Token 命中率（%）",
    chart_axis_memory: "每卡显存（GiB）",
    chart_axis_capacity: "每副本 KV 缓存容量（token）",
    chart_axis_tier_gb: "每副本 {tier} 层大小（GB）",
    chart_axis_tier_tokens: "每副本 {tier} 层大小（token）",
    chart_axis_field: "{label}（{unit}）",
    chart_axis_field_plain: "{label}",
    chart_axis_routing: "路由方式",
    chart_axis_swung_field: "字段变化 −{swing} 与 +{swing}",
    chart_title_memory: "命中率与每卡显存",
    chart_title_capacity: "命中率与 KV 缓存容量",
    chart_title_tier: "命中率与 {tier} 层大小",
    chart_title_sweep: "命中率与{label}",
    chart_title_sweeps: "敏感性：逐个字段变化时的命中率",
    chart_title_tornado: "各字段变化 ±{swing} 时的 token 命中率",
    chart_title_routing: "各路由方式的命中率",
    chart_title_with_baseline: "{title}（虚线：基准）",
    chart_marker_current: "当前场景",
    chart_marker_baseline: "基准",
    chart_marker_current_routing: "当前场景的路由",
    chart_marker_baseline_routing: "基准的路由",
    chart_series_baseline: "基准：{series}",
    chart_series_low: "字段 −{swing}",
    chart_series_high: "字段 +{swing}",
    chart_png_all: "PNG（全部敏感性图）",
    chart_png_all_title: "把六张敏感性图下载为一张 PNG 图片",
  },
};

/** The charts' string `key` in the current language, {name} placeholders filled. */
export const ct = lookup(STRINGS);

/** Every key, per language (for the tests: both tables must have the same keys). */
export const CHARTS_STRING_KEYS = keysOf(STRINGS);
