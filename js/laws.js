// Laws of a traffic class (a bare number is fixed, else {"dist": kind, ...parameters}) as the
// editor holds them, and their one-line summaries. Kinds, their parameters and labels come from
// schema.traffic; the numbers shown are the law's own, formatted. No DOM here.

import { fieldText, t } from "./i18n.js";
import { plain } from "./format.js";
import { numberOrText } from "./tiers.js";

export const FIXED = "fixed";
/** The editor's kind for a law it keeps as it came (empirical, mixture, anything it cannot edit). */
export const KEPT = "kept";
/** The editor's kind for an absent law (Python's default applies). */
export const DEFAULT = "";

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isFiniteNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** {kind: {label_en, label_zh, parameters}}, {role: {kinds}}, {parameter name: field} of schema.traffic. */
export function lawVocabulary(traffic) {
  const parameters = {};
  for (const field of traffic?.parameters || []) parameters[field.path.split(".").pop()] = field;
  return { kinds: traffic?.kinds || {}, roles: traffic?.roles || {}, parameters };
}

/** The kinds the editor offers for a role: those with parameters (empirical and mixture come from a fit). */
export function editableKinds(vocabulary, role) {
  return (vocabulary.roles[role]?.kinds || []).filter((kind) => (vocabulary.kinds[kind]?.parameters || []).length > 0);
}

/** The parameter names of a kind. */
export function kindParameters(vocabulary, kind) {
  return vocabulary.kinds[kind]?.parameters || [];
}

const text = (value) => (value === undefined || value === null ? "" : String(value));

/**
 * A law's JSON as the editor's state: {kind, params: {name: text}, kept}. A bare number is
 * fixed; an object of an editable kind with only that kind's parameters (numbers) is editable;
 * anything else (empirical, mixture, other keys) is kept whole, `kept` holding it.
 */
export function lawState(value, vocabulary, role) {
  if (value === undefined) return { kind: DEFAULT, params: {}, kept: null };
  if (isFiniteNumber(value)) return { kind: FIXED, params: { value: text(value) }, kept: null };
  if (isPlainObject(value) && editableKinds(vocabulary, role).includes(value.dist)) {
    const names = kindParameters(vocabulary, value.dist);
    const keys = Object.keys(value).filter((key) => key !== "dist");
    if (keys.every((key) => names.includes(key) && isFiniteNumber(value[key]))) {
      return { kind: value.dist, params: Object.fromEntries(keys.map((key) => [key, text(value[key])])), kept: null };
    }
  }
  return { kind: KEPT, params: {}, kept: structuredClone(value) };
}

/**
 * The law's JSON from the editor's state: undefined for the default; a fixed number as a bare
 * number (as Python writes it); parameters as typed (text that is not a number goes to Python,
 * whose message names the parameter).
 */
export function lawJson(state, vocabulary) {
  if (state.kind === DEFAULT) return undefined;
  if (state.kind === KEPT) return structuredClone(state.kept);
  const params = {};
  for (const name of kindParameters(vocabulary, state.kind)) {
    const value = numberOrText(state.params[name] ?? "");
    if (value !== undefined) params[name] = value;
  }
  if (state.kind === FIXED && isFiniteNumber(params.value)) return params.value;
  return { dist: state.kind, ...params };
}

/** The label of a kind in the current language (the kind's own name when the schema lacks it). */
export function kindLabel(vocabulary, kind) {
  const entry = vocabulary.kinds[kind];
  return entry ? fieldText(entry, "label") : String(kind);
}

function parameterList(value, vocabulary) {
  return kindParameters(vocabulary, value.dist).filter((name) => name in value)
    .map((name) => `${vocabulary.parameters[name] ? fieldText(vocabulary.parameters[name], "label").toLowerCase() : name} ${plain(value[name])}`)
    .join(", ");
}

/** One line for a law: "Lognormal: median 30, sigma 0.9", "Empirical: 17 quantiles, 381 to 91,316", … */
export function summarizeLaw(value, vocabulary) {
  if (isFiniteNumber(value)) return `${kindLabel(vocabulary, FIXED)}: ${plain(value)}`;
  if (!isPlainObject(value)) return String(value);
  const label = kindLabel(vocabulary, value.dist);
  if (value.dist === "empirical") {
    const list = Array.isArray(value.quantiles) ? value.quantiles : Array.isArray(value.values) ? value.values : [];
    const numbers = list.filter(isFiniteNumber);
    if (!numbers.length) return label;
    const key = Array.isArray(value.quantiles) ? "law_quantiles" : "law_values";
    return `${label}: ${t(key, { count: list.length, low: plain(Math.min(...numbers)), high: plain(Math.max(...numbers)) })}`;
  }
  if (value.dist === "mixture") {
    const components = Array.isArray(value.components) ? value.components : [];
    const parts = components.map((component) => t("law_component", {
      weight: plain(component?.weight), law: summarizeLaw(isPlainObject(component) ? withoutWeight(component) : component, vocabulary),
    }));
    return `${label} (${t("law_components", { count: components.length })}): ${parts.join("; ")}`;
  }
  const parameters = parameterList(value, vocabulary);
  return parameters ? `${label}: ${parameters}` : label;
}

function withoutWeight(component) {
  const out = {};
  for (const [key, item] of Object.entries(component)) if (key !== "weight") out[key] = item;
  return out;
}
