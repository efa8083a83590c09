// A calculation's problem in the reader's words: a field named by its label (not its path), the
// allowed range as words, and for a stopped calculation the input that made it slow. Text only.

import { fieldText, language } from "./i18n.js";
import { mt } from "./messages-i18n.js";

// Python's wording of a value outside its field's range (scenario.py `_fail`).
const NOT_ALLOWED = /^([a-z_]+(?:\.[a-z_0-9]+)+): (.*) is not allowed; expected (.*)$/s;
const MAX_LISTED_CHANGES = 3;

function fieldsByPath(schema) {
  return new Map((schema?.fields || []).map((field) => [field.path, field]));
}

// Lists of rows a path indexes into ("tiers.0.capacity_gb"): the schema's row fields and the row's name.
const ROWS = [
  { prefix: "tiers.", fields: (schema) => schema?.tiers?.fields, path: "tiers", row: "row_tier" },
  { prefix: "workload.prefixes.", fields: (schema) => schema?.traffic?.group_fields, path: "prefixes", row: "row_group" },
  { prefix: "workload.classes.", fields: (schema) => [...(schema?.traffic?.class_fields || []), ...(schema?.traffic?.laws || [])],
    path: "classes", row: "row_class" },
];

/** A law's parameter ("sigma" of think_time_s) by its label. */
function parameterLabel(schema, key) {
  const parameter = (schema?.traffic?.parameters || []).find((candidate) => candidate.path === `law.${key}`);
  return parameter ? fieldText(parameter, "label") : key;
}

/** {field, label} of a schema field or of a row's field ("Tier 1 · Capacity"); null when unknown. */
function resolveField(schema, path) {
  const direct = fieldsByPath(schema).get(path);
  if (direct) return { field: direct, label: fieldText(direct, "label"), path };
  for (const rows of ROWS) {
    if (!path.startsWith(rows.prefix)) continue;
    const [index, key, ...rest] = path.slice(rows.prefix.length).split(".");
    if (!/^\d+$/.test(index) || !key) return null;
    const field = (rows.fields(schema) || []).find((candidate) => candidate.path === `${rows.path}.${key}`);
    const name = field ? fieldText(field, "label") : key;
    const parts = [name, ...rest.map((part) => parameterLabel(schema, part))];
    const label = mt("row_field", { row: mt(rows.row, { number: Number(index) + 1 }), field: parts.join(" · ") });
    return { field: field && !rest.length ? field : null, label, path };
  }
  return null;
}

function number(value) {
  return typeof value === "number" && Number.isFinite(value)
    ? value.toLocaleString(language() === "zh" ? "zh-CN" : "en-US", { maximumFractionDigits: 6 })
    : String(value);
}

/** A numeric field's allowed range in words ("a whole number from 1 to 1,000"); "" for other kinds. */
export function rangeText(field) {
  if (!field || (field.kind !== "int" && field.kind !== "float")) return "";
  const kind = mt(field.kind === "int" ? "range_integer" : "range_number");
  const low = field.minimum ?? null;
  const high = field.maximum ?? null;
  const params = { kind, low: number(low), high: number(high) };
  if (low !== null && high !== null) return mt(field.exclusive_minimum ? "range_above_to" : "range_between", params);
  if (low !== null) return mt(field.exclusive_minimum ? "range_above" : "range_at_least", params);
  if (high !== null) return mt("range_at_most", params);
  return kind;
}

/** The label of a schema field in the page's language, or the path when the schema has no such field. */
export function fieldLabel(schema, path) {
  return resolveField(schema, path)?.label ?? path;
}

/**
 * error.message as the page shows it: "<label>: <value> is not allowed; enter <range>." for a
 * value outside a schema field's range, "<label>: <Python's reason>" for another problem of a field.
 */
export function describeError(error, schema) {
  const message = String(error?.message ?? "");
  const resolved = error?.field ? resolveField(schema, error.field) : null;
  if (!resolved) return message;
  const { field, label } = resolved;
  const outOfRange = NOT_ALLOWED.exec(message);
  if (outOfRange && outOfRange[1] === resolved.path) {
    const expected = rangeText(field) || outOfRange[3];
    return mt("field_not_allowed", { label, value: outOfRange[2], expected });
  }
  const prefix = `${resolved.path}: `;
  return message.startsWith(prefix) ? mt("field_message", { label, message: message.slice(prefix.length) }) : message;
}

/** {path: value} of every set field of a scenario (sections of plain values; lists as JSON). */
function flatten(scenario) {
  const out = new Map();
  for (const [section, values] of Object.entries(scenario || {})) {
    if (!values || typeof values !== "object" || Array.isArray(values)) continue;
    for (const [key, value] of Object.entries(values)) out.set(`${section}.${key}`, value);
  }
  return out;
}

const shown = (value) => (value === undefined || value === null || value === ""
  ? mt("empty_value") : typeof value === "object" ? JSON.stringify(value).slice(0, 60) : number(value));

function withRange(schema, path, text) {
  const range = rangeText(fieldsByPath(schema).get(path));
  return range ? `${text} (${mt("allowed_range", { range })})` : text;
}

/**
 * The fields two scenarios set differently, each as `describe(path, before, after)`, joined by "; "
 * (at most `limit`, then "…"); "" when none differ.
 */
function listChanges(before, after, limit, describe) {
  const was = flatten(before);
  const now = flatten(after);
  const paths = [...new Set([...now.keys(), ...was.keys()])]
    .filter((path) => JSON.stringify(now.get(path)) !== JSON.stringify(was.get(path)));
  const listed = paths.slice(0, limit).map((path) => describe(path, was.get(path), now.get(path)));
  return listed.join("; ") + (paths.length > limit ? "; …" : "");
}

const changeText = (schema, path, from, to) => mt("change", { label: fieldLabel(schema, path), from: shown(from), to: shown(to) });

/** The fields two scenarios set differently, as "<label> <before> → <after>" (at most `limit`, then "…"). */
export function changesBetween(before, after, schema, limit = MAX_LISTED_CHANGES) {
  return listChanges(before, after, limit, (path, from, to) => changeText(schema, path, from, to));
}

/**
 * Why a calculation of `scenario` ran out of time, in words: the inputs changed since `lastGood`
 * (the last scenario answered in time), or without one the inputs set away from the defaults.
 */
export function slowInputs(scenario, lastGood, schema, defaults) {
  const changes = listChanges(lastGood ?? defaults, scenario, MAX_LISTED_CHANGES, (path, from, to) => withRange(schema, path,
    lastGood ? changeText(schema, path, from, to) : mt("setting", { label: fieldLabel(schema, path), value: shown(to) })));
  return changes ? mt(lastGood ? "timeout_changed" : "timeout_non_default", { changes }) : "";
}
