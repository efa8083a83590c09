// Form <-> scenario binding. The form is built from schema.json; each input's `name` is its
// scenario path ("workload.arrival_rate"). Reading the form gives the scenario JSON the
// calculator receives; writing puts a scenario back. No arithmetic on results happens here.

import { clearInvalid, element, markInvalid } from "./dom.js";
import { fieldText, t } from "./i18n.js";
import { canonical, defaultScenario } from "./url.js";
import { buildTiersEditor, numberOrText } from "./tiers.js";
import { buildClassesEditor } from "./classes.js";
import { PER_CLASS_FIELDS, classesWorkload } from "./traffic.js";

/**
 * Order of the form's sections (the schema's own order puts cache before traffic); "tiers" is
 * the offload-tier list editor (js/tiers.js), built from schema.tiers.
 */
const SECTION_ORDER = ["model", "hardware", "workload", "cache", "tiers", "cluster", "latency"];
const MODEL_GROUPS = {
  dtypes: ["weight_dtype", "kv_dtype"],
  parameters: ["params_b", "active_params_b", "weights_gib"],
};
/** Placeholders for optional fields the presets do not fill. */
const AUTO_PLACEHOLDER = new Set([
  "hardware.tensor_parallel", "hardware.activation_reserve_gib", "cache.capacity_tokens",
  "model.weights_gib",
]);

function splitPath(path) {
  const dot = path.indexOf(".");
  return [path.slice(0, dot), path.slice(dot + 1)];
}

function modelGroup(key) {
  for (const [group, keys] of Object.entries(MODEL_GROUPS)) if (keys.includes(key)) return group;
  return "architecture";
}

function fieldId(path) {
  return "field-" + path.replace(/[^a-z0-9_]/gi, "-");
}

/**
 * Build the form inside `container`. Returns a binding with read(), write(scenario),
 * refresh(scenario) (placeholders, labels), showError(error), clearErrors(), fieldInput(path).
 */
export function buildForm(container, schema, presets) {
  const fields = schema.fields;
  const rows = new Map(); // path -> {field, input, label, unit, help, error}
  container.replaceChildren();

  function makeInput(field) {
    const id = fieldId(field.path);
    if (field.kind === "enum") {
      const select = element("select", { id, name: field.path });
      select.dataset.kind = "enum";
      return select;
    }
    const input = element("input", {
      id, name: field.path, type: "text",
      inputmode: field.kind === "int" ? "numeric" : field.kind === "text" ? "text" : "decimal",
      autocomplete: "off", spellcheck: "false",
    });
    input.dataset.kind = field.kind;
    return input;
  }

  function makeRow(field) {
    const input = makeInput(field);
    const label = element("span", { className: "field-label" });
    const unit = element("span", { className: "field-unit" });
    const help = element("p", { className: "field-help", id: fieldId(field.path) + "-help" });
    const error = element("p", { className: "field-error", id: fieldId(field.path) + "-error", role: "alert" });
    input.setAttribute("aria-describedby", `${help.id} ${error.id}`);
    const row = element("div", { className: "field", dataset: { path: field.path } }, [
      element("label", { for: input.id }, [label, unit]), input, help, error,
    ]);
    rows.set(field.path, { field, input, label, unit, help, error });
    return row;
  }

  const tiersEditor = schema.tiers ? buildTiersEditor(schema.tiers) : null;
  // The workload's classes editor (js/classes.js); while it holds classes, the version-1
  // per-class inputs are hidden and left out of the scenario.
  const classesEditor = schema.traffic ? buildClassesEditor(schema.traffic) : null;
  const sections = [...SECTION_ORDER.filter((s) => schema.sections.includes(s) || (s === "tiers" && tiersEditor)),
    ...schema.sections.filter((s) => !SECTION_ORDER.includes(s))];
  const sectionTitles = new Map();
  const groupTitles = new Map();
  let configBox = null;

  for (const section of sections) {
    if (section === "tiers") {
      container.append(tiersEditor.root);
      continue;
    }
    const legend = element("legend");
    sectionTitles.set(section, legend);
    const fieldset = element("fieldset", { className: `section section-${section}`, dataset: { section } }, [legend]);
    const sectionFields = fields.filter((f) => splitPath(f.path)[0] === section);
    if (section === "model") {
      const presetField = sectionFields.find((f) => f.path === "model.preset");
      if (presetField) fieldset.append(makeRow(presetField));
      configBox = buildConfigPaste();
      fieldset.append(configBox.root);
      for (const group of ["architecture", "dtypes", "parameters"]) {
        const title = element("h3", { className: "group-title" });
        groupTitles.set(group, title);
        const box = element("div", { className: `field-group group-${group}` }, [title]);
        for (const field of sectionFields) {
          if (field.path !== "model.preset" && modelGroup(splitPath(field.path)[1]) === group) box.append(makeRow(field));
        }
        fieldset.append(box);
      }
    } else {
      const box = element("div", { className: "field-group" });
      for (const field of sectionFields) box.append(makeRow(field));
      fieldset.append(box);
      if (section === "workload" && classesEditor) fieldset.append(classesEditor.root);
    }
    container.append(fieldset);
  }

  function buildConfigPaste() {
    const details = element("details", { className: "hf-config" });
    const summary = element("summary");
    const textarea = element("textarea", { rows: "5", spellcheck: "false", className: "hf-config-text" });
    const button = element("button", { type: "button", className: "hf-config-fill" });
    const status = element("p", { className: "hf-config-status", role: "status" });
    details.append(summary, textarea, button, status);
    return { root: details, summary, textarea, button, status };
  }

  function fillSelect(row, scenario) {
    const { field, input } = row;
    const keep = input.value;
    const options = [];
    if (field.path === "model.preset") {
      options.push(["", t("preset_none")]);
      for (const id of field.choices) options.push([id, presets.models?.[id]?.name || id]);
    } else if (field.path === "hardware.gpu") {
      for (const id of field.choices) options.push([id, presets.gpus?.[id]?.name || id]);
    } else {
      if (field.optional) {
        const fromPreset = presetValue(field, scenario);
        options.push(["", fromPreset === undefined ? t("option_auto") : t("option_from_preset", { value: fromPreset })]);
      }
      for (const choice of field.choices) options.push([choice, choice]);
    }
    input.replaceChildren(...options.map(([value, text]) => element("option", { value, text })));
    input.value = keep;
  }

  /** The preset's value for an optional model/hardware field, if the scenario names a preset. */
  function presetValue(field, scenario) {
    const [section, key] = splitPath(field.path);
    if (section === "model") {
      const preset = scenario?.model?.preset;
      const value = preset ? presets.models?.[preset]?.[key] : undefined;
      return value === null ? undefined : value;
    }
    if (section === "hardware" && ["memory_gib", "tflops", "hbm_tb_per_s"].includes(key)) {
      const gpu = presets.gpus?.[scenario?.hardware?.gpu];
      if (!gpu) return undefined;
      if (key === "memory_gib") return gpu.memory_gib;
      if (key === "hbm_tb_per_s") return gpu.bandwidth_tb_s;
      // Python's rule (latency.py): FP8 figures for the weight dtypes the schema lists, when the GPU has them.
      const preset = scenario?.model?.preset;
      const dtype = scenario?.model?.weight_dtype ?? (preset ? presets.models?.[preset]?.weight_dtype : undefined);
      const rule = schema.fp8_rate || { dtypes: [], fp4_gpus: [] };
      const fp8 = (rule.dtypes.includes(dtype) || (dtype === "fp4" && rule.fp4_gpus.includes(scenario?.hardware?.gpu)))
        && gpu.fp8_tflops;
      return fp8 ? gpu.fp8_tflops : gpu.bf16_tflops;
    }
    if (field.path === "hardware.tensor_parallel") return scenario?.hardware?.num_gpus;
    return undefined;
  }

  /** Labels, help, units, option texts and placeholders for the current language and scenario. */
  function refresh(scenario) {
    for (const [section, legend] of sectionTitles) legend.textContent = t(`section_${section}`);
    for (const [group, title] of groupTitles) title.textContent = t(`group_${group}`);
    tiersEditor?.refresh();
    classesEditor?.refresh();
    if (configBox) {
      configBox.summary.textContent = t("hf_config_label");
      configBox.textarea.placeholder = t("hf_config_placeholder");
      configBox.button.textContent = t("hf_config_button");
    }
    for (const row of rows.values()) {
      const { field, input } = row;
      row.label.textContent = fieldText(field, "label");
      row.unit.textContent = field.unit ? ` (${field.unit})` : "";
      row.help.textContent = fieldText(field, "help");
      if (field.kind === "enum") {
        fillSelect(row, scenario);
        continue;
      }
      const fromPreset = presetValue(field, scenario);
      if (fromPreset !== undefined && fromPreset !== null) input.placeholder = String(fromPreset);
      else if (field.default !== null && field.default !== undefined) input.placeholder = String(field.default);
      else if (AUTO_PLACEHOLDER.has(field.path) || field.optional) input.placeholder = t("placeholder_auto");
      else input.placeholder = "";
    }
  }

  /** One-class or classes workload: which inputs show (with classes giving rates, no total rate). */
  function showWorkloadMode() {
    if (!classesEditor) return;
    const active = classesEditor.active();
    const byRate = active && classesEditor.byRate();
    for (const [path, row] of rows) {
      const [section, key] = splitPath(path);
      if (section !== "workload") continue;
      const hidden = active && (PER_CLASS_FIELDS.includes(key) || (key === "arrival_rate" && byRate));
      row.input.closest(".field").hidden = hidden;
    }
  }

  function inputValue(row) {
    const { field, input } = row;
    const text = input.value.trim();
    if (text === "") return undefined;
    if (field.kind === "enum" || field.kind === "text") return text;
    return numberOrText(text);
  }

  /**
   * The scenario the form describes: defaults, overridden by every non-empty input; `tiers` and
   * `tiers_policy` only when the tier list has rows; with the classes editor active, the workload's
   * `prefixes` (when there are groups) and `classes` instead of its version-1 per-class fields.
   */
  function read() {
    const scenario = defaultScenario(schema);
    for (const row of rows.values()) {
      const [section, key] = splitPath(row.field.path);
      const value = inputValue(row);
      if (value !== undefined) scenario[section][key] = value;
      else if (row.field.path === "model.preset") delete scenario[section][key];
    }
    if (tiersEditor) {
      const { tiers, policy } = tiersEditor.read();
      if (tiers.length) {
        scenario.tiers = tiers;
        scenario.tiers_policy = policy;
      }
    }
    if (classesEditor?.active()) {
      const { prefixes, classes } = classesEditor.read();
      const workload = { ...scenario.workload };
      if (prefixes.length) workload.prefixes = prefixes;
      workload.classes = classes;
      scenario.workload = classesWorkload(workload);
      if (classesEditor.byRate()) delete scenario.workload.arrival_rate;
    }
    return canonical(scenario, schema);
  }

  /** Put a scenario into the form (absent fields become empty inputs). */
  function write(scenario) {
    tiersEditor?.write(scenario);
    classesEditor?.write(scenario);
    for (const row of rows.values()) {
      const [section, key] = splitPath(row.field.path);
      const value = scenario?.[section]?.[key];
      row.input.value = value === undefined || value === null ? "" : String(value);
    }
    refresh(scenario);
    for (const row of rows.values()) {
      const [section, key] = splitPath(row.field.path);
      const value = scenario?.[section]?.[key];
      if (row.field.kind === "enum") row.input.value = value === undefined || value === null ? "" : String(value);
    }
    showWorkloadMode();
  }

  function clearErrors() {
    tiersEditor?.clearErrors();
    classesEditor?.clearErrors();
    for (const row of rows.values()) {
      row.error.textContent = "";
      clearInvalid(row.input);
    }
  }

  /** Mark the input named by error.field; false when no input has that name. */
  function showError(error) {
    if (tiersEditor?.showError(error)) return true;
    if (classesEditor?.showError(error)) return true;
    const row = error && error.field ? rows.get(error.field) : undefined;
    if (!row) return false;
    markInvalid(row.input, row.error, error.message);
    return true;
  }

  return {
    read, write, refresh, clearErrors, showError,
    fieldInput: (path) => rows.get(path)?.input ?? tiersEditor?.fieldInput(path) ?? classesEditor?.fieldInput(path),
    configPaste: configBox,
    classes: classesEditor,
  };
}

const DTYPE_NAMES = { bfloat16: "bf16", float16: "fp16", half: "fp16", float32: "fp32", float: "fp32" };

/**
 * Model fields from a Hugging Face config.json text. JSON.parse only (never eval).
 * Returns {values: {key: value}} or {error: "invalid"|"not_object", message}.
 */
export function modelFieldsFromHfConfig(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { error: "invalid", message: String(error.message) };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { error: "not_object" };
  const config = parsed.text_config && typeof parsed.text_config === "object" ? { ...parsed, ...parsed.text_config } : parsed;
  const positiveInt = (value) => (Number.isInteger(value) && value > 0 ? value : undefined);
  const nonNegativeInt = (value) => (Number.isInteger(value) && value >= 0 ? value : undefined);
  const values = {};
  const set = (key, value) => {
    if (value !== undefined) values[key] = value;
  };
  const layers = positiveInt(config.num_hidden_layers ?? config.num_layers ?? config.n_layer);
  const heads = positiveInt(config.num_attention_heads ?? config.n_head);
  const hidden = positiveInt(config.hidden_size ?? config.n_embd);
  const kvHeads = positiveInt(config.num_key_value_heads ?? config.multi_query_group_num) ?? heads;
  const kvLoraRank = positiveInt(config.kv_lora_rank);
  set("num_layers", layers);
  set("num_attention_heads", heads);
  set("hidden_size", hidden);
  set("vocab_size", positiveInt(config.vocab_size ?? config.padded_vocab_size));
  const expertsPerToken = positiveInt(config.num_experts_per_tok);
  const expertWidth = positiveInt(config.moe_intermediate_size);
  set("intermediate_size", expertsPerToken && expertWidth ? expertsPerToken * expertWidth
    : positiveInt(config.intermediate_size ?? config.ffn_hidden_size));
  if (kvLoraRank) {
    set("attention", "mla");
    set("kv_lora_rank", kvLoraRank);
    set("qk_rope_head_dim", nonNegativeInt(config.qk_rope_head_dim));
  } else {
    set("num_kv_heads", kvHeads);
    const headDim = positiveInt(config.head_dim) ?? (hidden && heads && hidden % heads === 0 ? hidden / heads : undefined);
    set("head_dim", headDim);
    if (kvHeads && heads) set("attention", kvHeads === heads ? "mha" : kvHeads === 1 ? "mqa" : "gqa");
  }
  const window = config.use_sliding_window === false ? 0 : nonNegativeInt(config.sliding_window);
  if (window !== undefined) {
    set("sliding_window", window);
    let slidingLayers = 0;
    if (window > 0) {
      if (Array.isArray(config.layer_types)) {
        slidingLayers = config.layer_types.filter((type) => type === "sliding_attention").length;
      } else if (layers) {
        slidingLayers = layers;
      }
    }
    set("sliding_window_layers", slidingLayers);
  }
  const dtype = DTYPE_NAMES[String(config.torch_dtype ?? config.dtype ?? "")];
  set("weight_dtype", dtype);
  return { values };
}
