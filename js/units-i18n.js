// The schema's units ("conv/s", "tokens", …) in English and Chinese, for field labels and chart axes.

import { keysOf, lookup } from "./i18n.js";

const STRINGS = {
  en: {
    "$/GPU-h": "$/GPU-h", "B params": "B params", GPUs: "GPUs", GiB: "GiB", GB: "GB", "TB/s": "TB/s",
    "TFLOP/s": "TFLOP/s", bits: "bits", bytes: "bytes", "conv/s": "conversations/s", dims: "dims", experts: "experts",
    fraction: "fraction", heads: "heads", layers: "layers", replicas: "replicas", requests: "requests", s: "s",
    tokens: "tokens", turns: "turns", weights: "weights",
  },
  zh: {
    "$/GPU-h": "美元/GPU·小时", "B params": "十亿参数", GPUs: "张 GPU", GiB: "GiB", GB: "GB", "TB/s": "TB/s",
    "TFLOP/s": "TFLOP/s", bits: "位", bytes: "字节", "conv/s": "会话/秒", dims: "维", experts: "个专家",
    fraction: "比例", heads: "个头", layers: "层", replicas: "个副本", requests: "个请求", s: "秒",
    tokens: "token", turns: "轮", weights: "个权重",
  },
};

const unitLookup = lookup(STRINGS);

/** A schema unit in the current language; one this table lacks as Python gave it. */
export function unitText(unit) {
  if (!unit) return "";
  return Object.hasOwn(STRINGS.en, unit) ? unitLookup(unit) : unit;
}

/** Every key, per language (the tests check both languages have the same keys). */
export const UNIT_KEYS = keysOf(STRINGS);
