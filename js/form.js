// Form <-> scenario binding. The form is built from schema.json; each input's `name` is its
// scenario path ("workload.arrival_rate"). Reading the form gives the scenario JSON the
// calculator receives; writing puts a scenario back. No arithmetic on results happens here.

import { clearInvalid, element, markInvalid } from "./dom.js";
import { fieldText, t } from "./i18n.js";
import { unitText } from "./units-i18n.js";
import { canonical, defaultScenario } from "./url.js";
import { buildTiersEditor, numberOrText } from "./tiers.js";
import { buildClassesEditor } from "./classes.js";
import { PER_CLASS_FIELDS, classesWorkload } from "./traffic.js";

/**
 * Order of the form's sections, as a person fills them in: the two choices (model, GPUs), then the
 * traffic, the cache and its tiers, and the planning figures last; "tiers" is the offload-tier list
 * editor (js/tiers.js), built from schema.tiers.
 */
const SECTION_ORDER = ["model", "hardware", "workload", "cache", "tiers", "cluster", "latency"];
/**
 * The essential choices of a section (shown first, unfolded); the rest of a section listed here is
 * folded under them in one <details> ("section fold"), closed until the model is custom or one of its
 * fields is set.
 */
const ESSENTIALS = {
  model: ["model.preset"],
  hardware: ["hardware.gpu", "hardware.num_gpus"],
};
/**
 * Groups inside a section's fold, by path, in order; fields not listed fall in the section's first group.
 * A folded group is a <details> closed until one of its fields holds a value (typed or from the preset).
 */
const GROUPS = {
  model: [
    { id: "architecture" },
    { id: "moe", folded: true, paths: ["model.num_experts", "model.num_experts_per_tok", "model.moe_intermediate_size",
      "model.shared_expert_intermediate_size", "model.dense_layers"] },
    { id: "mla", folded: true, paths: ["model.kv_lora_rank", "model.qk_rope_head_dim", "model.q_lora_rank",
      "model.qk_nope_head_dim", "model.v_head_dim", "model.index_head_dim"] },
    { id: "hybrid", folded: true, paths: ["model.sliding_window", "model.sliding_window_layers",
      "model.chunked_local_layers", "model.attention_chunk_size", "model.linear_attention_layers",
      "model.linear_state_bytes"] },
    { id: "dtypes", paths: ["model.weight_dtype", "model.kv_dtype", "model.quantization", "model.quant_bits",
      "model.quant_group_size"] },
    { id: "parameters", paths: ["model.params_b", "model.active_params_b", "model.weights_gib"] },
  ],
  hardware: [
    { id: "gpus" },
    // the serving engine (a deploy field) sits with the settings its memory model reads
    { id: "engine", paths: ["deploy.engine", "deploy.engine_version", "hardware.gpu_memory_utilization", "hardware.mem_fraction_static",
      "hardware.max_num_batched_tokens", "hardware.max_num_seqs", "hardware.max_model_len", "hardware.cuda_graphs",
      "hardware.activation_reserve_gib"] },
    { id: "command_line", paths: ["deploy.flashinfer", "deploy.model_id"] },
  ],
};
/** Settings only one engine reads: shown for that engine, or whenever they hold a value. */
const ENGINE_ONLY = { "hardware.gpu_memory_utilization": "vllm", "hardware.mem_fraction_static": "sglang" };
/** Placeholders for optional fields the presets do not fill. */
const AUTO_PLACEHOLDER = new Set([
  "hardware.tensor_parallel", "hardware.activation_reserve_gib", "cache.capacity_tokens",
  "model.weights_gib",
]);

function splitPath(path) {
  const dot = path.indexOf(".");
  return [path.slice(0, dot), path.slice(dot + 1)];
}

/** The group of `path` in its section's GROUPS (the first group when none lists it). */
function groupOf(section, path) {
  const groups = GROUPS[section];
  return (groups.find((g) => g.paths?.includes(path)) ?? groups[0]).id;
}

/** The section a field's row is drawn in: its own, or the one whose group lists it. */
function sectionOf(path) {
  for (const [section, groups] of Object.entries(GROUPS)) {
    if (groups.some((g) => g.paths?.includes(path))) return section;
  }
  return splitPath(path)[0];
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
  const folds = new Map(); // group id -> {fold: <details>, paths}
  const sectionFolds = new Map(); // section -> {fold: <details>, paths}
  let configBox = null;
  // The essentials come first (on a phone the results headline is drawn right after them), then the rest.
  const essentials = element("div", { className: "form-essentials" });
  const rest = element("div", { className: "form-rest" });
  container.append(essentials, rest);

  for (const section of sections) {
    if (section === "tiers") {
      rest.append(tiersEditor.root);
      continue;
    }
    const sectionFields = fields.filter((f) => sectionOf(f.path) === section);
    if (!sectionFields.length) continue;
    const legend = element("legend");
    sectionTitles.set(section, legend);
    const fieldset = element("fieldset", { className: `section section-${section}`, dataset: { section } }, [legend]);
    if (GROUPS[section]) {
      const chosen = (ESSENTIALS[section] ?? []).map((path) => sectionFields.find((f) => f.path === path)).filter(Boolean);
      if (chosen.length) {
        fieldset.append(element("div", { className: "field-group essential-fields" }, chosen.map(makeRow)));
      }
      if (section === "model") {
        configBox = buildConfigPaste();
        fieldset.append(configBox.root);
      }
      const summary = element("summary", { className: "section-fold-title" });
      groupTitles.set(`${section}_details`, summary);
      const sectionFold = element("details", { className: `section-fold fold-${section}-details`,
        dataset: { group: `${section}_details` } }, [summary]);
      const foldedPaths = [];
      for (const group of GROUPS[section]) {
        const members = sectionFields.filter((f) => !chosen.includes(f) && groupOf(section, f.path) === group.id);
        if (!members.length) continue;
        foldedPaths.push(...members.map((f) => f.path));
        const title = element(group.folded ? "summary" : "h3", { className: "group-title" });
        groupTitles.set(group.id, title);
        const box = element("div", { className: `field-group group-${group.id}` }, group.folded ? [] : [title]);
        for (const field of members) box.append(makeRow(field));
        if (group.folded) {
          const fold = element("details", { className: `field-fold fold-${group.id}`, dataset: { group: group.id } },
            [title, box]);
          folds.set(group.id, { fold, paths: members.map((f) => f.path) });
          sectionFold.append(fold);
        } else {
          sectionFold.append(box);
        }
      }
      if (foldedPaths.length) {
        sectionFolds.set(section, { fold: sectionFold, paths: foldedPaths });
        fieldset.append(sectionFold);
      }
    } else {
      const box = element("div", { className: "field-group" });
      for (const field of sectionFields) box.append(makeRow(field));
      fieldset.append(box);
      if (section === "workload" && classesEditor) fieldset.append(classesEditor.root);
    }
    (ESSENTIALS[section] ? essentials : rest).append(fieldset);
  }

  function buildConfigPaste() {
    const details = element("details", { className: "hf-config" });
    const summary = element("summary");
    const textarea = element("textarea", { rows: "5", spellcheck: "false", className: "hf-config-text" });
    const button = element("button", { type: "button", className: "hf-config-fill" });
    const status = element("p", { className: "hf-config-status", role: "status" });
    const problems = element("ul", { className: "hf-config-problems" });
    details.append(summary, textarea, button, status, problems);
    return { root: details, summary, textarea, button, status, problems };
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
      // Python's rule (latency.py): FP8 figures for the weight dtypes and checkpoints the schema lists, when the GPU has them.
      const preset = scenario?.model?.preset;
      const dtype = scenario?.model?.weight_dtype ?? (preset ? presets.models?.[preset]?.weight_dtype : undefined);
      const quantization = scenario?.model?.quantization ?? (preset ? presets.models?.[preset]?.quantization : undefined);
      const rule = { dtypes: [], quantizations: [], fp4_quantizations: [], fp4_gpus: [], ...schema.fp8_rate };
      const fp4 = dtype === "fp4" || rule.fp4_quantizations.includes(quantization);
      const fp8 = (rule.dtypes.includes(dtype) || rule.quantizations.includes(quantization)
        || (fp4 && rule.fp4_gpus.includes(scenario?.hardware?.gpu))) && gpu.fp8_tflops;
      return fp8 ? gpu.fp8_tflops : gpu.bf16_tflops;
    }
    if (field.path === "hardware.tensor_parallel") return scenario?.hardware?.num_gpus;
    if (field.path === "deploy.engine_version") {
      // the release Python assumes when the field is empty (schema.engine_versions)
      return schema.engine_versions?.[scenario?.deploy?.engine ?? "vllm"];
    }
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
      row.unit.textContent = field.unit ? ` (${unitText(field.unit)})` : "";
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
    showEngineFields(scenario);
    openFilledFolds(scenario);
  }

  /** A folded group opens once one of its fields holds a value, typed or from the preset (it never closes itself). */
  function openFilledFolds(scenario) {
    for (const { fold, paths } of folds.values()) {
      const filled = paths.some((path) => {
        const row = rows.get(path);
        const preset = row && presetValue(row.field, scenario);
        return (row && row.input.value.trim() !== "") || (preset !== undefined && preset !== 0 && preset !== "none");
      });
      if (filled) fold.open = true;
    }
    // A section's fold opens for a custom model or once one of its fields is set (a preset's values do not count).
    for (const [section, { fold, paths }] of sectionFolds) {
      const custom = section === "model" && scenario !== undefined && !scenario?.model?.preset;
      if (custom || paths.some((path) => isSet(rows.get(path)))) fold.open = true;
    }
  }

  /** A typed value, or a choice other than the default of a select that has no empty option. */
  function isSet(row) {
    const value = row.input.value.trim();
    if (value === "") return false;
    return !(row.field.kind === "enum" && !row.field.optional && value === String(row.field.default));
  }

  /** Settings of the other engine hide while empty (a typed value is never hidden). */
  function showEngineFields(scenario) {
    const engine = scenario?.deploy?.engine ?? rows.get("deploy.engine")?.field.default;
    for (const [path, owner] of Object.entries(ENGINE_ONLY)) {
      const row = rows.get(path);
      if (!row) continue;
      row.input.closest(".field").hidden = owner !== engine && row.input.value.trim() === "";
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
    openFilledFolds(scenario); // again, now that the selects (filled by refresh) hold their values
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
    // a field folded away would hide its own error
    for (let fold = row.input.closest("details"); fold; fold = fold.parentElement.closest("details")) fold.open = true;
    return true;
  }

  return {
    read, write, refresh, clearErrors, showError,
    fieldInput: (path) => rows.get(path)?.input ?? tiersEditor?.fieldInput(path) ?? classesEditor?.fieldInput(path),
    configPaste: configBox,
    classes: classesEditor,
  };
}
