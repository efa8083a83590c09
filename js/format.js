// Number formatting for display. Python computes every number; these only turn them into text.
// null, undefined, NaN and ±Infinity all show as "—".

import { language } from "./i18n.js";

export const MISSING = "—";

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function locale() {
  return language() === "zh" ? "zh-CN" : "en-US";
}

function fixed(value, digits) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

export function percent(value, digits = 1) {
  return isNumber(value) ? `${fixed(value * 100, digits)}%` : MISSING;
}

export function integer(value) {
  return isNumber(value) ? new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(value) : MISSING;
}

export function tokens(value) {
  return isNumber(value) ? `${integer(value)} ${language() === "zh" ? "token" : "tokens"}` : MISSING;
}

export function gib(value) {
  return isNumber(value) ? `${fixed(value, 2)} GiB` : MISSING;
}

export function bytes(value) {
  if (!isNumber(value)) return MISSING;
  return value >= 1024 ? `${integer(value)} B (${fixed(value / 1024, 1)} KiB)` : `${integer(value)} B`;
}

export function speedup(value) {
  return isNumber(value) ? `${fixed(value, 2)}×` : MISSING;
}

export function perSecond(value, unit) {
  if (!isNumber(value)) return MISSING;
  const digits = Math.abs(value) >= 100 ? 0 : 2;
  return `${fixed(value, digits)} ${unit}`;
}

export function seconds(value) {
  if (!isNumber(value)) return MISSING;
  return value >= 100 ? `${integer(value)} s` : `${fixed(value, 1)} s`;
}

/** A duration: milliseconds below a second ("159 ms"), else seconds. */
export function duration(value) {
  if (!isNumber(value)) return MISSING;
  const size = Math.abs(value);
  if (size === 0) return "0 ms";
  if (size < 1e-3) return `${fixed(value * 1e6, size < 1e-5 ? 2 : 1)} µs`;
  if (size < 1) return `${fixed(value * 1e3, size < 0.01 ? 2 : size < 0.1 ? 1 : 0)} ms`;
  return seconds(value);
}

/** A (fractional) number of GPUs. */
export function gpus(value, { signed = false } = {}) {
  if (!isNumber(value)) return MISSING;
  const text = fixed(Math.abs(value), Number.isInteger(value) ? 0 : 2);
  const sign = value < 0 ? "−" : signed && value > 0 ? "+" : "";
  return `${sign}${text} GPU`;
}

/** Money in the price's currency (the scenario's price is per GPU-hour, in dollars). */
export function money(value, { signed = false, suffix = "" } = {}) {
  if (!isNumber(value)) return MISSING;
  const sign = value < 0 ? "−" : signed && value > 0 ? "+" : "";
  return `${sign}$${fixed(Math.abs(value), 2)}${suffix}`;
}

export function plain(value) {
  if (!isNumber(value)) return MISSING;
  return new Intl.NumberFormat(locale(), { maximumSignificantDigits: 6 }).format(value);
}

/** A difference of two rates in percentage points; `signed` writes "+" before gains. */
export function percentagePoints(value, { signed = false, digits = 1 } = {}) {
  if (!isNumber(value)) return MISSING;
  const text = fixed(Math.abs(value) * 100, digits);
  const zero = text === fixed(0, digits);
  const sign = zero ? "" : value < 0 ? "−" : signed ? "+" : "";
  return `${sign}${text} ${language() === "zh" ? "个百分点" : "pp"}`;
}

/** A difference Python already gives in percentage points (model − replay gaps). */
export function points(value, digits = 2) {
  return isNumber(value) ? `${fixed(value, digits)} ${language() === "zh" ? "个百分点" : "pp"}` : MISSING;
}

/** The raw value for a data-value attribute: the number as JSON would write it, "" when missing. */
export function rawValue(value) {
  return isNumber(value) ? String(value) : "";
}

/** Format a metric by its format name. */
export function formatMetric(format, value) {
  switch (format) {
    case "percent": return percent(value);
    case "tokens": return tokens(value);
    case "integer": return integer(value);
    case "gib": return gib(value);
    case "bytes": return bytes(value);
    case "speedup": return speedup(value);
    case "qps": return perSecond(value, language() === "zh" ? "请求/秒" : "req/s");
    case "tokens_per_s": return perSecond(value, language() === "zh" ? "token/秒" : "tokens/s");
    case "seconds": return seconds(value);
    case "duration": return duration(value);
    case "gpus": return gpus(value);
    case "signed_gpus": return gpus(value, { signed: true });
    case "money_per_day": return money(value, { suffix: language() === "zh" ? "/天" : "/day" });
    case "signed_money_per_day": return money(value, { signed: true, suffix: language() === "zh" ? "/天" : "/day" });
    case "requests": return isNumber(value) ? `${fixed(value, Math.abs(value) >= 100 ? 0 : 1)} ${language() === "zh" ? "个请求" : "requests"}` : MISSING;
    case "gb": return isNumber(value) ? `${fixed(value, value >= 100 ? 0 : 1)} GB` : MISSING;
    case "gb_per_s": return isNumber(value) ? `${plain(value)} GB/s` : MISSING;
    case "points": return percentagePoints(value);
    case "decimal": return isNumber(value) ? fixed(value, 2) : MISSING;
    case "signed_points": return percentagePoints(value, { signed: true });
    default: return plain(value);
  }
}
