// Share-link codec: scenario <-> readable query string, using each schema field's `url_key`.
// Pure functions, no DOM: parse(queryString, schema) -> {scenario, notices};
// encode(scenario, schema) -> queryString. Invalid or unknown parameters become notices
// ({code, key, value, expected}) that the page shows as text; they never reach the scenario.
// Tiers below the GPU are one repeated parameter each, `tier=<name>:<size><gb|tok>[:<read GB/s>]`
// (e.g. tier=cpu:48gb:50, tier=ssd:500000tok), and their policy `tierpol=` (schema.tiers.policy)
// when it is not the default; the size suffixes are the capacity fields' url_keys.
// Traffic classes travel as two JSON lists, `prefixes=[…]` and `classes=[…]` (the scenario's
// workload.prefixes and workload.classes), read with JSON.parse only and kept to the shape
// js/traffic.js checks; with classes the version-1 per-class fields are neither encoded nor read.

import { PER_CLASS_FIELDS, checkClasses, checkPrefixes, classesGiveRates, classesWorkload, trafficShape } from "./traffic.js";

/** The parameter carrying a pinned baseline: its own scenario's query string, URL-encoded once more. */
export const BASELINE_KEY = "base";
/** Parameters the page handles itself; the codec skips them silently. */
export const RESERVED_KEYS = ["lang", BASELINE_KEY];
/** The value standing for "no preset" (model.preset absent from the scenario). */
export const NO_PRESET = "custom";
const PRESET_PATHS = new Set(["model.preset"]);
const ALWAYS_ENCODED = new Set(["model.preset", "hardware.gpu"]);
const MAX_PARAMETERS = 200;
const MAX_VALUE_LENGTH = 200;
/** The repeated parameter carrying one tier below the GPU. */
export const TIER_KEY = "tier";
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** The parameters carrying workload.prefixes and workload.classes as JSON lists. */
export const PREFIXES_KEY = "prefixes";
export const CLASSES_KEY = "classes";
/** Longest JSON text a link's prefixes= or classes= may hold (a fitted trace's classes take ~3,000). */
export const MAX_TRAFFIC_JSON = 20_000;

function splitPath(path) {
  const dot = path.indexOf(".");
  return [path.slice(0, dot), path.slice(dot + 1)];
}

/** The scenario the page starts from: version, every section, every field that has a default. */
export function defaultScenario(schema) {
  const scenario = { version: schema.version ?? 1 };
  for (const section of schema.sections) scenario[section] = {};
  for (const field of schema.fields) {
    const [section, key] = splitPath(field.path);
    scenario[section] ??= {};
    if (field.default !== null && field.default !== undefined) scenario[section][key] = field.default;
  }
  return scenario;
}

/** The tier fields ({key: field}) and policy field of the schema; null when it has no tiers. */
export function tierSchema(schema) {
  const tiers = schema && schema.tiers;
  if (!tiers || !Array.isArray(tiers.fields) || !tiers.policy) return null;
  const fields = {};
  for (const field of tiers.fields) fields[splitPath(field.path)[1]] = field;
  return { fields, policy: tiers.policy, max: tiers.max ?? 3, namePattern: new RegExp(tiers.name_pattern || "^[a-z][a-z0-9_-]*$"),
    readDefaults: tiers.read_defaults || {} };
}

/** A tier object with its keys in the schema's order (unknown keys after). */
function canonicalTier(tier, tiers) {
  if (!tier || typeof tier !== "object" || Array.isArray(tier)) return tier;
  const ordered = {};
  for (const key of Object.keys(tiers ? tiers.fields : {})) {
    if (Object.prototype.hasOwnProperty.call(tier, key)) ordered[key] = tier[key];
  }
  for (const [key, value] of Object.entries(tier)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}

/**
 * The same scenario with its keys in schema order (sections, then fields, then tiers and their
 * policy), so equal scenarios serialize to equal JSON. Keys the schema does not know are kept,
 * after the known ones.
 */
export function canonical(scenario, schema) {
  const out = { version: scenario.version ?? schema.version ?? 1 };
  for (const section of schema.sections) {
    const body = scenario[section];
    if (!body || typeof body !== "object") continue;
    const ordered = {};
    for (const field of schema.fields) {
      const [fieldSection, key] = splitPath(field.path);
      if (fieldSection === section && Object.prototype.hasOwnProperty.call(body, key)) ordered[key] = body[key];
    }
    for (const [key, value] of Object.entries(body)) if (!(key in ordered)) ordered[key] = value;
    out[section] = ordered;
  }
  const tiers = tierSchema(schema);
  if (Object.prototype.hasOwnProperty.call(scenario, "tiers")) {
    out.tiers = Array.isArray(scenario.tiers) ? scenario.tiers.map((tier) => canonicalTier(tier, tiers)) : scenario.tiers;
  }
  if (Object.prototype.hasOwnProperty.call(scenario, "tiers_policy")) out.tiers_policy = scenario.tiers_policy;
  for (const [key, value] of Object.entries(scenario)) if (!(key in out)) out[key] = value;
  return out;
}

function readPath(scenario, path) {
  const [section, key] = splitPath(path);
  const body = scenario && scenario[section];
  if (!body || typeof body !== "object" || !Object.prototype.hasOwnProperty.call(body, key)) return undefined;
  return body[key];
}

/** What a parameter value must be, as data (the page words it in the current language). */
function expectation(field) {
  if (field.kind === "enum") {
    const choices = [...(field.choices || [])];
    if (PRESET_PATHS.has(field.path)) choices.push(NO_PRESET);
    return { kind: "enum", choices };
  }
  if (field.kind === "text") return { kind: "text" };
  return {
    kind: field.kind,
    minimum: field.minimum ?? null,
    maximum: field.maximum ?? null,
    exclusive_minimum: Boolean(field.exclusive_minimum),
  };
}

/** The parameter's value for `field`, or undefined when it is not allowed. */
function decodeValue(field, text) {
  if (field.kind === "enum") {
    if (PRESET_PATHS.has(field.path) && text === NO_PRESET) return null;
    return (field.choices || []).includes(text) ? text : undefined;
  }
  if (field.kind === "text") {
    // the schema's own pattern (a checkpoint id: letters, digits, . _ - /), tested whole
    const pattern = field.pattern ? new RegExp(field.pattern) : null;
    return pattern && text.length <= (field.maximum ?? 200) && pattern.test(text) ? text : undefined;
  }
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  if (field.kind === "int" && !Number.isInteger(value)) return undefined;
  if (field.minimum !== null && field.minimum !== undefined) {
    if (field.exclusive_minimum ? value <= field.minimum : value < field.minimum) return undefined;
  }
  if (field.maximum !== null && field.maximum !== undefined && value > field.maximum) return undefined;
  return value;
}

/** What a tier parameter must look like, as data. */
function tierExpectation(tiers) {
  return { kind: "tier", max: tiers.max, suffixes: ["capacity_gb", "capacity_tokens"].map((key) => tiers.fields[key].url_key) };
}

/**
 * One `tier=` value ("cpu:48gb:50", "ssd:500000tok") as a tier object, or undefined when any
 * part is malformed or out of its field's range. Only data: nothing in the text is executed.
 */
export function decodeTier(text, tiers) {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 3) return undefined;
  const name = parts[0].trim();
  if (!tiers.namePattern.test(name)) return undefined;
  const size = parts[1].trim().toLowerCase();
  const tier = { name };
  let sized = false;
  for (const key of ["capacity_gb", "capacity_tokens"]) {
    const field = tiers.fields[key];
    const suffix = String(field.url_key || "").toLowerCase();
    if (!suffix || !size.endsWith(suffix)) continue;
    const value = decodeValue(field, size.slice(0, -suffix.length));
    if (value === undefined || value === null) return undefined;
    tier[key] = value;
    sized = true;
    break;
  }
  if (!sized) return undefined;
  if (parts.length === 3) {
    const value = decodeValue(tiers.fields.read_gb_per_s, parts[2].trim());
    if (value === undefined || value === null) return undefined;
    tier.read_gb_per_s = value;
  }
  return tier;
}

/** The `tier=` value for a tier object (whatever it holds; parse rejects what is not valid). */
export function encodeTier(tier, tiers) {
  if (!tier || typeof tier !== "object") return String(tier);
  let text = String(tier.name ?? "");
  for (const key of ["capacity_gb", "capacity_tokens"]) {
    const value = tier[key];
    if (value !== undefined && value !== null) {
      text += `:${encodeValue(value)}${tiers.fields[key].url_key}`;
      break;
    }
  }
  const read = tier.read_gb_per_s;
  if (read !== undefined && read !== null) text += `:${encodeValue(read)}`;
  return text;
}

function clip(text) {
  return text.length > MAX_VALUE_LENGTH ? text.slice(0, MAX_VALUE_LENGTH) + "…" : text;
}

/**
 * Parse a query string ("?preset=…&rate=2") into a full scenario (defaults, then the link's
 * values) and a list of notices for parameters that were ignored.
 */
export function parse(queryString, schema) {
  const scenario = defaultScenario(schema);
  const notices = [];
  const fieldsByKey = new Map(schema.fields.map((field) => [field.url_key, field]));
  const tiers = tierSchema(schema);
  const tierList = [];
  let tierPolicy;
  let policyText = null;
  const shape = trafficShape(schema);
  const traffic = {}; // prefixes / classes: {value, text}
  const given = new Map(); // workload key -> [url key, text] of the link's workload fields
  let params;
  try {
    params = new URLSearchParams(typeof queryString === "string" ? queryString : "");
  } catch {
    return { scenario, notices: [{ code: "invalid", key: "", value: String(queryString), expected: null }] };
  }
  let count = 0;
  for (const [key, rawValue] of params) {
    if (++count > MAX_PARAMETERS) break;
    if (RESERVED_KEYS.includes(key)) continue;
    if (tiers && key === TIER_KEY) {
      const tier = decodeTier(rawValue, tiers);
      if (tier === undefined || tierList.length >= tiers.max) {
        notices.push({ code: "invalid", key, value: clip(rawValue), expected: tierExpectation(tiers) });
      } else {
        tierList.push(tier);
      }
      continue;
    }
    if (tiers && key === tiers.policy.url_key) {
      const value = decodeValue(tiers.policy, rawValue.trim());
      if (value === undefined) notices.push({ code: "invalid", key, value: clip(rawValue), expected: expectation(tiers.policy) });
      else [tierPolicy, policyText] = [value, rawValue];
      continue;
    }
    if (shape && (key === PREFIXES_KEY || key === CLASSES_KEY)) {
      const value = decodeTrafficList(rawValue, key, shape);
      if (value === undefined || key in traffic) {
        notices.push({ code: "invalid", key, value: clip(rawValue), expected: trafficExpectation(key, shape) });
      } else {
        traffic[key] = { value, text: rawValue };
      }
      continue;
    }
    const field = fieldsByKey.get(key);
    if (!field) {
      notices.push({ code: "unknown", key: clip(key), value: clip(rawValue), expected: null });
      continue;
    }
    const value = decodeValue(field, rawValue.trim());
    if (value === undefined) {
      notices.push({ code: "invalid", key, value: clip(rawValue), expected: expectation(field) });
      continue;
    }
    const [section, name] = splitPath(field.path);
    if (section === "workload") given.set(name, [key, rawValue]);
    if (value === null) delete scenario[section][name];
    else scenario[section][name] = value;
  }
  if (traffic[CLASSES_KEY]) {
    const classes = traffic[CLASSES_KEY].value;
    const workload = { ...scenario.workload };
    if (traffic[PREFIXES_KEY]) workload.prefixes = traffic[PREFIXES_KEY].value;
    workload.classes = classes;
    scenario.workload = classesWorkload(workload);
    for (const [name, [key, text]] of given) {
      if (PER_CLASS_FIELDS.includes(name) || (name === "arrival_rate" && classesGiveRates(classes))) {
        notices.push({ code: "unused", key, value: clip(text), expected: null, needs: "one_class" });
      }
    }
  } else if (traffic[PREFIXES_KEY]) {
    notices.push({ code: "unused", key: PREFIXES_KEY, value: clip(traffic[PREFIXES_KEY].text), expected: null, needs: "classes" });
  }
  if (tierList.length) {
    scenario.tiers = tierList;
    scenario.tiers_policy = tierPolicy ?? tiers.policy.default;
  } else if (tierPolicy !== undefined) {
    notices.push({ code: "unused", key: tiers.policy.url_key, value: clip(policyText), expected: null });
  }
  return { scenario: canonical(scenario, schema), notices };
}

/** What a prefixes= / classes= parameter must be, as data. */
function trafficExpectation(key, shape) {
  return { kind: "json_list", what: key, max: key === CLASSES_KEY ? shape.limits.classes : shape.limits.groups };
}

/**
 * A prefixes= or classes= value as the list it holds, or undefined when it is too long, not JSON,
 * or not a list of the right shape. JSON.parse only: nothing in the text is executed.
 */
export function decodeTrafficList(text, key, shape) {
  if (typeof text !== "string" || text.length > MAX_TRAFFIC_JSON) return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return key === CLASSES_KEY ? checkClasses(value, shape) : checkPrefixes(value, shape);
}

function encodeValue(value) {
  return typeof value === "number" ? String(value) : String(value);
}

/**
 * The query string (without "?") for a scenario: preset and GPU always, then every field whose
 * value differs from its default, in schema order, then one `tier=` per tier and `tierpol=` when
 * it is not the default, then `prefixes=` and `classes=` (JSON) when the workload has classes (its
 * version-1 per-class fields are then left out). parse(encode(s)).scenario equals s for any
 * scenario whose values are valid (a scenario with tiers carries tiers_policy, as parse and the
 * form write it).
 */
export function encode(scenario, schema) {
  const params = new URLSearchParams();
  const workload = scenario?.workload;
  const classes = Array.isArray(workload?.classes) ? workload.classes : null;
  for (const field of schema.fields) {
    const [section, key] = splitPath(field.path);
    if (classes && section === "workload" && PER_CLASS_FIELDS.includes(key)) continue;
    const value = readPath(scenario, field.path);
    const hasDefault = field.default !== null && field.default !== undefined;
    if (value === undefined || value === null || value === "") {
      if (PRESET_PATHS.has(field.path) && hasDefault) params.append(field.url_key, NO_PRESET);
      continue;
    }
    if (!ALWAYS_ENCODED.has(field.path) && hasDefault && value === field.default) continue;
    params.append(field.url_key, encodeValue(value));
  }
  const tiers = tierSchema(schema);
  if (tiers && Array.isArray(scenario.tiers) && scenario.tiers.length) {
    for (const tier of scenario.tiers) params.append(TIER_KEY, encodeTier(tier, tiers));
    const policy = scenario.tiers_policy;
    if (policy !== undefined && policy !== null && policy !== tiers.policy.default) {
      params.append(tiers.policy.url_key, encodeValue(policy));
    }
  }
  if (classes) {
    if (Array.isArray(workload.prefixes) && workload.prefixes.length) params.append(PREFIXES_KEY, JSON.stringify(workload.prefixes));
    params.append(CLASSES_KEY, JSON.stringify(classes));
  }
  // ":" is allowed in a query and reads better than %3A ("tier=cpu:48gb:50"); so are the JSON
  // lists' brackets, braces and commas. URLSearchParams decodes both forms. "%3A" in the output
  // can only be an encoded ":" (a literal "%" becomes "%25").
  return params.toString().replace(/%(3A|2C|5B|5D|7B|7D)/g, (whole, hex) => String.fromCharCode(parseInt(hex, 16)));
}
