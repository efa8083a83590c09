// Traffic classes as data (no DOM): which workload fields a class replaces, the shape a link's
// `prefixes=` / `classes=` JSON must have, and patches that keep a workload with classes free of
// the version-1 per-class fields. Values (ranges, required keys, names) are Python's to check; this
// only keeps a link's JSON to the shape the editor can hold and the calculator expects.

/**
 * The version-1 workload fields that describe one kind of conversation. Python refuses them next
 * to workload.classes ("not allowed with workload.classes"), where each class carries its own laws;
 * workload.arrival_rate stays (the total over the classes). The same list as schema.traffic
 * .per_class_fields (kvcache_calc.traffic.spec.PER_CLASS; tests/test_api.py checks they agree),
 * kept here because the patches below run without the schema.
 */
export const PER_CLASS_FIELDS = ["turns_mean", "turns_dist", "think_time_s", "think_dist", "user_tokens",
  "output_tokens", "system_prompt_tokens"];
/** A class's arrivals as a rate of its own (conv/s, schema.traffic's classes.rate), instead of a share. */
export const RATE_KEY = "rate";
const MAX_COMPONENTS = 16;
const MAX_POINTS = 200;

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isFiniteNumber = (value) => typeof value === "number" && Number.isFinite(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/** The scenario's workload describes traffic classes. */
export function hasClasses(scenario) {
  return Array.isArray(scenario?.workload?.classes);
}

/** Every class gives its own rate (then workload.arrival_rate must be absent: the total is their sum). */
export function classesGiveRates(classes) {
  return Array.isArray(classes) && classes.length > 0 && classes.every((c) => isPlainObject(c) && has(c, RATE_KEY));
}

/** A copy of a workload with classes, without the fields Python refuses next to them. */
export function classesWorkload(workload) {
  const out = {};
  for (const [key, value] of Object.entries(workload || {})) {
    if (!PER_CLASS_FIELDS.includes(key)) out[key] = value;
  }
  if (classesGiveRates(out.classes)) delete out.arrival_rate;
  return out;
}

/**
 * The scenario with a patch applied as Python's advise.apply_patch does (an object merges into
 * its section, anything else replaces the key), except that a patch whose workload has classes
 * replaces the workload's traffic: the current prefix groups and version-1 per-class fields go;
 * a patch with version-1 per-class fields likewise drops the current classes and groups.
 */
export function applyScenarioPatch(scenario, patch) {
  const next = structuredClone(scenario || {});
  for (const [key, value] of Object.entries(patch || {})) {
    if (isPlainObject(value)) next[key] = { ...(isPlainObject(next[key]) ? next[key] : {}), ...structuredClone(value) };
    else next[key] = structuredClone(value);
  }
  if (isPlainObject(patch?.workload) && Array.isArray(patch.workload.classes)) {
    const kept = { ...next.workload };
    if (!has(patch.workload, "prefixes")) delete kept.prefixes;
    next.workload = classesWorkload(kept);
  } else if (isPlainObject(patch?.workload) && PER_CLASS_FIELDS.some((key) => has(patch.workload, key))) {
    // a version-1 workload patch: the current classes (and their groups) give way to it
    const { classes, prefixes, ...rest } = next.workload;
    next.workload = rest;
  }
  return next;
}

// --- the shape of a link's traffic JSON ------------------------------------------------------

/** Keys and limits from schema.traffic, for checking a link's JSON; null when the schema has none. */
export function trafficShape(schema) {
  const traffic = schema?.traffic;
  if (!traffic || !Array.isArray(traffic.class_fields) || !Array.isArray(traffic.laws)) return null;
  const last = (field) => field.path.split(".").pop();
  const parameterNames = (traffic.parameters || []).map(last);
  return {
    limits: { classes: 8, groups: 16, path: 3, ...(traffic.limits || {}) },
    groupKeys: (traffic.group_fields || []).map(last),
    classKeys: [...traffic.class_fields.map(last), RATE_KEY, ...traffic.laws.map(last), "follow_ups"],
    lawKeys: traffic.laws.map(last),
    followUps: (traffic.follow_ups || []).map((item) => item.kind),
    lawObjectKeys: new Set(["dist", "weight", "quantiles", "values", "weights", "components", ...parameterNames]),
  };
}

function numberList(value) {
  return Array.isArray(value) && value.length <= MAX_POINTS && value.every(isFiniteNumber);
}

/** A law: a number, or an object of known keys ({"dist": …} with numbers, lists of numbers, components). */
function isLawShape(value, shape, depth = 0) {
  if (isFiniteNumber(value)) return true;
  if (!isPlainObject(value)) return false;
  for (const [key, item] of Object.entries(value)) {
    if (!shape.lawObjectKeys.has(key)) return false;
    if (key === "dist") {
      if (typeof item !== "string") return false;
    } else if (key === "quantiles" || key === "values" || key === "weights") {
      if (!numberList(item)) return false;
    } else if (key === "components") {
      if (depth > 0 || !Array.isArray(item) || item.length > MAX_COMPONENTS) return false;
      if (!item.every((component) => isLawShape(component, shape, depth + 1))) return false;
    } else if (!isFiniteNumber(item)) {
      return false;
    }
  }
  return true;
}

function isGroupShape(group, shape) {
  if (!isPlainObject(group)) return false;
  return Object.entries(group).every(([key, value]) => shape.groupKeys.includes(key)
    && (key === "name" ? typeof value === "string" : isFiniteNumber(value)));
}

function isClassShape(item, shape) {
  if (!isPlainObject(item) || (has(item, "share") && has(item, RATE_KEY))) return false;
  for (const [key, value] of Object.entries(item)) {
    if (!shape.classKeys.includes(key)) return false;
    if (key === "name") {
      if (typeof value !== "string") return false;
    } else if (key === "prefix") {
      const names = typeof value === "string" ? [value] : value;
      if (!Array.isArray(names) || names.length > shape.limits.path || !names.every((n) => typeof n === "string")) return false;
    } else if (key === "follow_ups") {
      if (!isPlainObject(value) || !Object.entries(value).every(([kind, weight]) => shape.followUps.includes(kind) && isFiniteNumber(weight))) return false;
    } else if (shape.lawKeys.includes(key)) {
      if (!isLawShape(value, shape)) return false;
    } else if (!isFiniteNumber(value)) {
      return false;
    }
  }
  return true;
}

/** A link's `prefixes` list when it has the shape of prefix groups (1 to the limit), else undefined. */
export function checkPrefixes(value, shape) {
  if (!Array.isArray(value) || value.length < 1 || value.length > shape.limits.groups) return undefined;
  return value.every((group) => isGroupShape(group, shape)) ? value : undefined;
}

/** A link's `classes` list when it has the shape of classes (1 to the limit), else undefined. */
export function checkClasses(value, shape) {
  if (!Array.isArray(value) || value.length < 1 || value.length > shape.limits.classes) return undefined;
  return value.every((item) => isClassShape(item, shape)) ? value : undefined;
}
