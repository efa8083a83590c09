// Strings of the page's messages about a calculation (errors in the reader's words, a stopped or
// restarted calculator, link notices), in English and Chinese. Used by js/errors.js and app.js.

import { keysOf, lookup } from "./i18n.js";

const STRINGS = {
  en: {
    range_integer: "a whole number",
    range_number: "a number",
    range_between: "{kind} from {low} to {high}",
    range_above_to: "{kind} above {low} and at most {high}",
    range_at_least: "{kind} of at least {low}",
    range_above: "{kind} above {low}",
    range_at_most: "{kind} of at most {high}",
    field_not_allowed: "{label}: {value} is not allowed; enter {expected}.",
    field_message: "{label}: {message}",
    timeout: "Stopped after {seconds} s: this input makes the calculation too slow.",
    timeout_changed: "Slow since this change: {changes}.",
    timeout_non_default: "Inputs set away from their defaults: {changes}.",
    change: "{label} {from} → {to}",
    setting: "{label} = {value}",
    allowed_range: "allowed: {range}",
    cancelled: "Calculation cancelled. The numbers shown are for earlier inputs.",
    crashed: "The calculator stopped and was restarted: {message}",
    restarting: "Restarting Python…",
    calc_running: "Calculating…",
    calc_cancel: "Cancel",
    notices_dismiss: "Dismiss",
    notices_more: "… and {count} more ignored parameters.",
    empty_value: "(empty)",
    row_field: "{row} · {field}",
    row_tier: "Tier {number}",
    row_group: "Prefix group {number}",
    row_class: "Class {number}",
  },
  zh: {
    range_integer: "整数",
    range_number: "数值",
    range_between: "{low} 到 {high} 之间的{kind}",
    range_above_to: "大于 {low} 且不超过 {high} 的{kind}",
    range_at_least: "不小于 {low} 的{kind}",
    range_above: "大于 {low} 的{kind}",
    range_at_most: "不超过 {high} 的{kind}",
    field_not_allowed: "{label}：不允许 {value}；请输入{expected}。",
    field_message: "{label}：{message}",
    timeout: "已在 {seconds} 秒后停止：这个输入让计算过慢。",
    timeout_changed: "变慢始于这次修改：{changes}。",
    timeout_non_default: "与默认值不同的输入：{changes}。",
    change: "{label} {from} → {to}",
    setting: "{label} = {value}",
    allowed_range: "允许：{range}",
    cancelled: "计算已取消。显示的数字对应先前的输入。",
    crashed: "计算器停止运行，已重新启动：{message}",
    restarting: "正在重新启动 Python…",
    calc_running: "正在计算…",
    calc_cancel: "取消",
    notices_dismiss: "关闭",
    notices_more: "…… 另有 {count} 个被忽略的参数。",
    empty_value: "（空）",
    row_field: "{row} · {field}",
    row_tier: "第 {number} 层",
    row_group: "前缀组 {number}",
    row_class: "类别 {number}",
  },
};

/** Every key, per language (the tests check both languages have the same keys). */
export const MESSAGE_KEYS = keysOf(STRINGS);

export const mt = lookup(STRINGS);
