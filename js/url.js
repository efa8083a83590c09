// Share-link codec: scenario <-> readable query string, using each schema field's `url_key`.
// Pure functions, no DOM: parse(queryString, schema) -> {scenario, notices};
// encode(scenario, schema) -> queryString. Invalid or unknown parameters become notices
// ({code, key, value, expected}) that the page shows as text; they never reach the scenario.

/** Parameters the page handles itself; the codec skips them silently. */
export const RESERVED_KEYS = ["lang"];
/** The value standing for "no preset" (model.preset absent from the scenario). */
export const NO_PRESET = "custom";
const PRESET_PATHS = new Set(["model.preset"]);
const ALWAYS_ENCODED = new Set(["model.preset", "hardware.gpu"]);
const MAX_PARAMETERS = 200;
const MAX_VALUE_LENGTH = 200;

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

/**
 * The same scenario with its keys in schema order (sections, then fields), so equal scenarios
 * serialize to equal JSON. Keys the schema does not know are kept, after the known ones.
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
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  if (field.kind === "int" && !Number.isInteger(value)) return undefined;
  if (field.minimum !== null && field.minimum !== undefined) {
    if (field.exclusive_minimum ? value <= field.minimum : value < field.minimum) return undefined;
  }
  if (field.maximum !== null && field.maximum !== undefined && value > field.maximum) return undefined;
  return value;
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
    if (value === null) delete scenario[section][name];
    else scenario[section][name] = value;
  }
  return { scenario: canonical(scenario, schema), notices };
}

function encodeValue(value) {
  return typeof value === "number" ? String(value) : String(value);
}

/**
 * The query string (without "?") for a scenario: preset and GPU always, then every field whose
 * value differs from its default, in schema order. parse(encode(s)).scenario equals s for any
 * scenario whose values are valid.
 */
export function encode(scenario, schema) {
  const params = new URLSearchParams();
  for (const field of schema.fields) {
    const value = readPath(scenario, field.path);
    const hasDefault = field.default !== null && field.default !== undefined;
    if (value === undefined || value === null || value === "") {
      if (PRESET_PATHS.has(field.path) && hasDefault) params.append(field.url_key, NO_PRESET);
      continue;
    }
    if (!ALWAYS_ENCODED.has(field.path) && hasDefault && value === field.default) continue;
    params.append(field.url_key, encodeValue(value));
  }
  return params.toString();
}
