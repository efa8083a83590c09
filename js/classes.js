// The form's traffic-classes editor (the workload's `prefixes` and `classes`, schema.traffic):
// prefix groups (name, tokens, variants, Zipf exponent) and classes (name, share, the groups its
// prompts start with, a law per role, follow-up weights). Laws of a kind the editor cannot edit
// (empirical, mixture: what a trace fit writes) are kept whole, summarised, until the user picks
// another kind. Inputs are named by their scenario path ("workload.classes.1.think_time_s.sigma"),
// so Python's error `field` finds them. Switching between this editor and the version-1 fields is
// Python's (workload_as_classes / workload_as_one_class); app.js wires the two buttons. Text via
// textContent only.

import { clearInvalid, element, markInvalid } from "./dom.js";
import { fieldText, t } from "./i18n.js";
import { numberOrText } from "./tiers.js";
import { DEFAULT, FIXED, KEPT, editableKinds, kindLabel, kindParameters, lawJson, lawState, lawVocabulary, summarizeLaw } from "./laws.js";
import { RATE_KEY } from "./traffic.js";

const GROUPS_PATH = "workload.prefixes";
const CLASSES_PATH = "workload.classes";
/** Names offered for a new prefix group, in order, before "group-<n>". */
const SUGGESTED_GROUP_NAMES = ["system", "docs", "tools"];
/** Group keys Python requires (the rest have defaults, shown as placeholders). */
const REQUIRED_GROUP_KEYS = ["name", "tokens"];

const idOf = (path) => "field-" + path.replace(/[^a-z0-9_]/gi, "-");
const lastKey = (path) => path.split(".").pop();
const text = (value) => (value === undefined || value === null ? "" : String(value));
const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function byKey(fields) {
  return Object.fromEntries((fields || []).map((field) => [lastKey(field.path), field]));
}

function textInput(path, kind) {
  return element("input", {
    id: idOf(path), name: path, type: "text", inputmode: kind === "text" ? "text" : kind === "int" ? "numeric" : "decimal",
    autocomplete: "off", spellcheck: "false", dataset: { kind },
  });
}

/** A labelled field: {box, label, unit, help, error}. */
function fieldBox(path, control, className = "") {
  const label = element("span", { className: "field-label" });
  const unit = element("span", { className: "field-unit" });
  const help = element("p", { className: "field-help", id: `${control.id}-help` });
  const error = element("p", { className: "field-error", id: `${control.id}-error`, role: "alert" });
  control.setAttribute("aria-describedby", `${help.id} ${error.id}`);
  const box = element("div", { className: `field ${className}`.trim(), dataset: { path } },
    [element("label", { for: control.id }, [label, unit]), control, help, error]);
  return { box, label, unit, help, error };
}

/**
 * Build the editor. Returns {root, active(), read(), write(scenario), refresh(), clearErrors(),
 * showError(error), fieldInput(path), toClassesButton, toOneClassButton, showSwitchError(message)}.
 * read() gives {prefixes, classes} as the scenario's workload carries them.
 */
export function buildClassesEditor(traffic) {
  const groupFields = byKey(traffic.group_fields);
  const classFields = byKey(traffic.class_fields);
  const lawFields = (traffic.laws || []).map((field) => ({ key: lastKey(field.path), field, role: field.role }));
  const followUpKinds = traffic.follow_ups || [];
  const limits = { classes: 8, groups: 16, path: 3, ...(traffic.limits || {}) };
  const vocabulary = lawVocabulary(traffic);

  // --- static part: the switch into the editor, the two lists, the switch back -----------------
  const toClassesButton = element("button", { type: "button", id: "workload-to-classes", className: "classes-switch" });
  const toClassesHelp = element("p", { className: "field-help" });
  const entryStatus = element("p", { className: "field-error", id: "workload-switch-to-status", role: "alert" });
  const entry = element("div", { className: "classes-entry" }, [toClassesButton, toClassesHelp, entryStatus]);

  const groupsTitle = element("h3", { className: "group-title" });
  const groupsIntro = element("p", { className: "field-help" });
  const groupList = element("div", { className: "prefix-group-list" });
  const groupsEmpty = element("p", { className: "muted classes-empty" });
  const groupsError = element("p", { className: "field-error", role: "alert", dataset: { path: GROUPS_PATH } });
  const addGroupButton = element("button", { type: "button", className: "group-add" });
  const groupMax = element("span", { className: "muted tier-max" });

  const classesTitle = element("h3", { className: "group-title" });
  const classesIntro = element("p", { className: "field-help" });
  const classList = element("div", { className: "class-list" });
  const classesError = element("p", { className: "field-error", role: "alert", dataset: { path: CLASSES_PATH } });
  const addClassButton = element("button", { type: "button", className: "class-add" });
  const classMax = element("span", { className: "muted tier-max" });

  const toOneClassButton = element("button", { type: "button", id: "workload-to-one-class", className: "classes-switch" });
  const switchStatus = element("p", { className: "field-error", id: "workload-switch-status", role: "alert" });

  const body = element("div", { className: "classes-body" }, [
    groupsTitle, groupsIntro, groupList, groupsEmpty, groupsError,
    element("div", { className: "tier-actions" }, [addGroupButton, groupMax]),
    classesTitle, classesIntro, classList, classesError,
    element("div", { className: "tier-actions" }, [addClassButton, classMax]),
    element("div", { className: "tier-actions classes-back" }, [toOneClassButton]), switchStatus,
  ]);
  // name: a structural change (add, remove) is announced as a change event from here.
  const root = element("fieldset", { className: "classes-editor", name: CLASSES_PATH, dataset: { section: "classes" } }, [entry, body]);

  root.addEventListener("input", () => { switchStatus.textContent = ""; });

  let active = false;
  let groups = [];  // rows: {key, root, inputs: {name, tokens, count, zipf}, boxes, remove, rowError}
  let classes = []; // rows: {root, name, weight, weightKey, prefixSelects, prefixError, laws, followUps, ...}
  let nextGroupKey = 1;

  // --- prefix groups -----------------------------------------------------------------------------

  function makeGroupRow(index, value) {
    const base = `${GROUPS_PATH}.${index}`;
    const inputs = {};
    const boxes = {};
    for (const [key, field] of Object.entries(groupFields)) {
      const input = textInput(`${base}.${key}`, field.kind);
      input.value = value[key] ?? "";
      inputs[key] = input;
      boxes[key] = fieldBox(`${base}.${key}`, input);
    }
    const remove = element("button", { type: "button", className: "group-remove" });
    const rowError = element("p", { className: "field-error tier-row-error", role: "alert", dataset: { path: base } });
    const rowRoot = element("div", { className: "tier-row prefix-group-row", dataset: { index: String(index) } },
      [...Object.values(boxes).map((b) => b.box), remove, rowError]);
    const row = { key: value.key, index, root: rowRoot, inputs, boxes, remove, rowError };
    inputs.name?.addEventListener("input", () => relabelPrefixOptions());
    remove.addEventListener("click", () => {
      const values = currentValues();
      values.groups = values.groups.filter((g) => g.key !== row.key);
      for (const c of values.classes) c.prefix = c.prefix.filter((ref) => ref.group !== row.key);
      render(values);
      addGroupButton.focus();
    });
    return row;
  }

  function labelGroupRow(row) {
    for (const [key, field] of Object.entries(groupFields)) {
      const box = row.boxes[key];
      box.label.textContent = fieldText(field, "label");
      box.unit.textContent = field.unit ? ` (${field.unit})` : "";
      box.help.textContent = fieldText(field, "help");
      row.inputs[key].placeholder = REQUIRED_GROUP_KEYS.includes(key) ? t("classes_required")
        : field.default === null || field.default === undefined ? "" : String(field.default);
    }
    row.remove.textContent = t("tier_remove");
    row.remove.setAttribute("aria-label", t("group_remove_named", { index: row.index + 1 }));
  }

  function groupName(key) {
    const row = groups.find((g) => g.key === key);
    return row ? row.inputs.name.value.trim() : "";
  }

  // --- classes -----------------------------------------------------------------------------------

  /** The prefix select's options: none, every group (by its current name), an unknown name kept. */
  function fillPrefixSelect(select, ref) {
    const options = [element("option", { value: "", text: t("classes_prefix_none") })];
    groups.forEach((g, index) => {
      const name = g.inputs.name.value.trim();
      options.push(element("option", { value: `g:${g.key}`, text: name || t("group_unnamed", { index: index + 1 }) }));
    });
    if (ref && ref.name !== undefined) options.push(element("option", { value: `n:${ref.name}`, text: t("group_unknown", { name: ref.name }) }));
    select.replaceChildren(...options);
    select.value = ref ? (ref.group !== undefined ? `g:${ref.group}` : `n:${ref.name}`) : "";
  }

  function relabelPrefixOptions() {
    for (const row of classes) {
      for (const select of row.prefixSelects) {
        for (const option of select.options) {
          if (!option.value.startsWith("g:")) continue;
          const key = Number(option.value.slice(2));
          const index = groups.findIndex((g) => g.key === key);
          option.textContent = groupName(key) || t("group_unnamed", { index: index + 1 });
        }
      }
    }
  }

  function readRef(select) {
    if (select.value.startsWith("g:")) return { group: Number(select.value.slice(2)) };
    if (select.value.startsWith("n:")) return { name: select.value.slice(2) };
    return null;
  }

  function makeLawRow(classPath, law, state) {
    const path = `${classPath}.${law.key}`;
    const select = element("select", { id: idOf(`${path}.dist`), name: `${path}.dist`, className: "law-kind", dataset: { kind: "law" } });
    const params = element("div", { className: "law-params" });
    const summary = element("p", { className: "law-summary", dataset: { law: law.key } });
    const boxParts = fieldBox(path, select, "class-law");
    boxParts.box.insertBefore(params, boxParts.help);
    boxParts.box.insertBefore(summary, boxParts.help);
    const row = { law, path, select, params, summary, ...boxParts, kind: state.kind, kept: state.kept, inputs: {},
      memory: { ...state.params }, paramLabels: {} };

    function renderParams() {
      row.inputs = {};
      row.paramLabels = {};
      const names = row.kind === DEFAULT || row.kind === KEPT ? [] : kindParameters(vocabulary, row.kind);
      params.replaceChildren(...names.map((name) => {
        const input = textInput(`${path}.${name}`, vocabulary.parameters[name]?.kind || "float");
        input.value = row.memory[name] ?? "";
        input.setAttribute("aria-describedby", boxParts.error.id);
        input.addEventListener("input", () => { row.memory[name] = input.value; });
        const label = element("span", { className: "law-param-label" });
        row.inputs[name] = input;
        row.paramLabels[name] = label;
        return element("label", { className: "law-param", dataset: { parameter: name } }, [label, input]);
      }));
      labelLawRow(row);
    }
    const onKind = () => {
      if (select.value === row.kind) return;
      row.kind = select.value;
      renderParams();
    };
    select.addEventListener("input", onKind);
    select.addEventListener("change", onKind);
    row.renderParams = renderParams;
    row.state = () => ({ kind: row.kind, params: Object.fromEntries(Object.entries(row.inputs).map(([name, input]) => [name, input.value])),
      kept: row.kept });
    return row;
  }

  function labelLawRow(row) {
    const { law, select } = row;
    row.label.textContent = fieldText(law.field, "label");
    row.unit.textContent = law.field.unit ? ` (${law.field.unit})` : "";
    row.help.textContent = fieldText(law.field, "help");
    const options = [element("option", { value: DEFAULT, text: t("law_default", { law: summarizeLaw(law.field.default, vocabulary) }) })];
    if (row.kept !== null) {
      options.push(element("option", { value: KEPT, text: t("law_kept", { kind: kindLabel(vocabulary, isPlainObject(row.kept) ? row.kept.dist : "") }) }));
    }
    for (const kind of editableKinds(vocabulary, law.role)) options.push(element("option", { value: kind, text: kindLabel(vocabulary, kind) }));
    select.replaceChildren(...options);
    select.value = row.kind;
    for (const [name, label] of Object.entries(row.paramLabels)) {
      const field = vocabulary.parameters[name];
      label.textContent = field ? fieldText(field, "label") : name;
      if (field) label.title = fieldText(field, "help");
      row.inputs[name].placeholder = t("classes_required");
    }
    row.summary.textContent = row.kind === KEPT ? summarizeLaw(row.kept, vocabulary) : "";
    row.summary.hidden = row.kind !== KEPT;
  }

  function makeClassRow(index, value) {
    const base = `${CLASSES_PATH}.${index}`;
    const name = textInput(`${base}.name`, "text");
    name.value = value.name;
    const weightKey = value.weightKey === RATE_KEY ? RATE_KEY : "share";
    const weight = textInput(`${base}.${weightKey}`, "float");
    weight.value = value.weight;
    const nameBox = fieldBox(`${base}.name`, name);
    const weightBox = fieldBox(`${base}.${weightKey}`, weight);
    const remove = element("button", { type: "button", className: "class-remove" });
    const head = element("div", { className: "class-head" }, [nameBox.box, weightBox.box, remove]);

    const prefixSelects = [];
    for (let j = 0; j < limits.path; j++) {
      const select = element("select", { id: idOf(`${base}.prefix.${j}`), name: `${base}.prefix.${j}`, dataset: { kind: "prefix" } });
      fillPrefixSelect(select, value.prefix[j] ?? null);
      prefixSelects.push(select);
    }
    const prefixLabel = element("span", { className: "field-label" });
    const prefixHelp = element("p", { className: "field-help" });
    const prefixError = element("p", { className: "field-error", role: "alert" });
    const prefixBox = element("div", { className: "field class-prefix", dataset: { path: `${base}.prefix` } }, [
      element("label", { for: prefixSelects[0]?.id || "" }, [prefixLabel]),
      element("div", { className: "class-prefix-selects" }, prefixSelects), prefixHelp, prefixError]);

    const laws = {};
    for (const law of lawFields) laws[law.key] = makeLawRow(base, law, value.laws[law.key] ?? lawState(undefined, vocabulary, law.role));
    const lawBox = element("div", { className: "class-laws" }, Object.values(laws).map((row) => row.box));

    const followUps = {};
    const followUpLabels = {};
    const followUpItems = followUpKinds.map((item) => {
      const input = textInput(`${base}.follow_ups.${item.kind}`, "float");
      input.value = value.followUps[item.kind] ?? "";
      input.addEventListener("input", () => placeFollowUpHints(row));
      followUps[item.kind] = input;
      followUpLabels[item.kind] = element("span", { className: "law-param-label" });
      return element("label", { className: "law-param", dataset: { followUp: item.kind } }, [followUpLabels[item.kind], input]);
    });
    const followUpsLabel = element("span", { className: "field-label" });
    const followUpsHelp = element("p", { className: "field-help" });
    const followUpsError = element("p", { className: "field-error", role: "alert" });
    const followUpsBox = element("div", { className: "field class-follow-ups", dataset: { path: `${base}.follow_ups` } }, [
      element("div", {}, [followUpsLabel]), element("div", { className: "law-params" }, followUpItems), followUpsHelp, followUpsError]);

    const rowError = element("p", { className: "field-error class-row-error", role: "alert", dataset: { path: base } });
    const title = element("legend", { className: "class-title" });
    const rowRoot = element("fieldset", { className: "class-card", dataset: { index: String(index) } },
      [title, head, prefixBox, lawBox, followUpsBox, rowError]);
    const row = { index, root: rowRoot, title, name, nameBox, weight, weightBox, weightKey, remove, prefixSelects, prefixLabel,
      prefixHelp, prefixError, laws, followUps, followUpLabels, followUpsLabel, followUpsHelp, followUpsError, rowError };
    name.addEventListener("input", () => { title.textContent = classTitle(row); });
    remove.addEventListener("click", () => {
      const values = currentValues();
      values.classes = values.classes.filter((_, i) => i !== index);
      render(values);
      addClassButton.focus();
    });
    for (const law of Object.values(laws)) law.renderParams();
    return row;
  }

  const classTitle = (row) => t("class_title", { index: row.index + 1, name: row.name.value.trim() || "—" });

  /** Empty follow-up weights: all empty means every follow-up continues (Python's default). */
  function placeFollowUpHints(row) {
    const anyGiven = Object.values(row.followUps).some((input) => input.value.trim() !== "");
    for (const [kind, input] of Object.entries(row.followUps)) input.placeholder = !anyGiven && kind === "continue" ? "1" : "0";
  }

  function labelClassRow(row) {
    row.title.textContent = classTitle(row);
    row.nameBox.label.textContent = fieldText(classFields.name, "label");
    row.nameBox.help.textContent = fieldText(classFields.name, "help");
    const weight = row.weightKey === RATE_KEY ? classFields.rate : classFields.share;
    row.weightBox.label.textContent = fieldText(weight, "label");
    row.weightBox.unit.textContent = weight.unit ? ` (${weight.unit})` : "";
    row.weightBox.help.textContent = fieldText(weight, "help");
    row.weight.placeholder = weight.default === null || weight.default === undefined ? t("classes_required")
      : String(weight.default);
    row.remove.textContent = t("class_remove");
    row.remove.setAttribute("aria-label", t("class_remove_named", { index: row.index + 1 }));
    row.remove.disabled = classes.length <= 1;
    row.prefixLabel.textContent = fieldText(classFields.prefix, "label");
    row.prefixHelp.textContent = fieldText(classFields.prefix, "help");
    row.prefixSelects.forEach((select, j) => {
      select.setAttribute("aria-label", t("classes_prefix_slot", { index: j + 1 }));
      fillPrefixSelect(select, readRef(select));
    });
    for (const law of Object.values(row.laws)) labelLawRow(law);
    row.followUpsLabel.textContent = t("follow_ups_label");
    row.followUpsHelp.textContent = t("follow_ups_help");
    for (const item of followUpKinds) {
      row.followUpLabels[item.kind].textContent = fieldText(item, "label");
      row.followUpLabels[item.kind].title = fieldText(item, "help");
    }
    placeFollowUpHints(row);
  }

  // --- values, rendering -------------------------------------------------------------------------

  /** The editor's contents as values (text as typed), to rebuild the rows from. */
  function currentValues() {
    return {
      groups: groups.map((row) => ({ key: row.key, ...Object.fromEntries(Object.entries(row.inputs).map(([k, input]) => [k, input.value])) })),
      classes: classes.map((row) => ({
        name: row.name.value, weightKey: row.weightKey, weight: row.weight.value,
        prefix: row.prefixSelects.map(readRef).filter(Boolean),
        laws: Object.fromEntries(Object.entries(row.laws).map(([key, law]) => [key, law.state()])),
        followUps: Object.fromEntries(Object.entries(row.followUps).map(([kind, input]) => [kind, input.value])),
      })),
    };
  }

  function render(values, { announce = true } = {}) {
    groups = values.groups.map((value, index) => makeGroupRow(index, value));
    groupList.replaceChildren(...groups.map((row) => row.root));
    classes = [];
    classes = values.classes.map((value, index) => makeClassRow(index, value));
    classList.replaceChildren(...classes.map((row) => row.root));
    refresh();
    if (announce) root.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function unusedName(candidates, used, prefix, start) {
    const free = candidates.find((name) => !used.has(name));
    if (free) return free;
    let n = start;
    while (used.has(`${prefix}${n}`)) n++;
    return `${prefix}${n}`;
  }

  addGroupButton.addEventListener("click", () => {
    if (groups.length >= limits.groups) return;
    const values = currentValues();
    const used = new Set(values.groups.map((g) => g.name.trim()));
    const tokens = groupFields.tokens?.default;
    values.groups.push({ key: nextGroupKey++, name: unusedName(SUGGESTED_GROUP_NAMES, used, "group-", values.groups.length + 1),
      tokens: text(tokens), count: "", zipf: "" });
    render(values);
    groups[groups.length - 1].inputs.tokens?.focus();
  });

  addClassButton.addEventListener("click", () => {
    if (classes.length >= limits.classes) return;
    const values = currentValues();
    const used = new Set(values.classes.map((c) => c.name.trim()));
    const byRate = values.classes.length > 0 && values.classes.every((c) => c.weightKey === RATE_KEY);
    values.classes.push({ name: unusedName([], used, "class-", values.classes.length + 1), weightKey: byRate ? RATE_KEY : "share",
      weight: "", prefix: [], laws: {}, followUps: {} });
    render(values);
    classes[classes.length - 1].name.focus();
  });

  function refresh() {
    toClassesButton.textContent = t("classes_switch_to");
    toClassesHelp.textContent = t("classes_switch_help");
    toOneClassButton.textContent = t("classes_switch_back");
    groupsTitle.textContent = t("classes_groups_title");
    groupsIntro.textContent = t("classes_groups_intro");
    groupsEmpty.textContent = t("classes_groups_none");
    groupsEmpty.hidden = groups.length > 0;
    addGroupButton.textContent = t("group_add");
    addGroupButton.disabled = groups.length >= limits.groups;
    groupMax.textContent = t("tier_max", { max: limits.groups });
    classesTitle.textContent = t("classes_title");
    classesIntro.textContent = t("classes_intro");
    addClassButton.textContent = t("class_add");
    addClassButton.disabled = classes.length >= limits.classes;
    classMax.textContent = t("tier_max", { max: limits.classes });
    entry.hidden = active;
    body.hidden = !active;
    for (const row of groups) labelGroupRow(row);
    for (const row of classes) labelClassRow(row);
  }

  // --- scenario <-> editor -----------------------------------------------------------------------

  /** {prefixes, classes} of the scenario's workload (values as typed go to Python, which names what is wrong). */
  function read() {
    const prefixes = groups.map((row) => {
      const group = {};
      for (const [key, input] of Object.entries(row.inputs)) {
        const value = key === "name" ? (input.value.trim() || undefined) : numberOrText(input.value);
        if (value !== undefined) group[key] = value;
      }
      return group;
    });
    const list = classes.map((row) => {
      const item = {};
      const name = row.name.value.trim();
      if (name !== "") item.name = name;
      const weight = numberOrText(row.weight.value);
      if (weight !== undefined) item[row.weightKey] = weight;
      item.prefix = row.prefixSelects.map(readRef).filter(Boolean)
        .map((ref) => (ref.group !== undefined ? groupName(ref.group) : ref.name));
      for (const [key, law] of Object.entries(row.laws)) {
        const value = lawJson(law.state(), vocabulary);
        if (value !== undefined) item[key] = value;
      }
      const weights = {};
      for (const [kind, input] of Object.entries(row.followUps)) {
        const value = numberOrText(input.value);
        if (value !== undefined) weights[kind] = value;
      }
      if (Object.keys(weights).length) item.follow_ups = weights;
      return item;
    });
    return { prefixes, classes: list };
  }

  /** Show the scenario's classes (the editor is active when its workload has a classes list). */
  function write(scenario) {
    const workload = scenario?.workload;
    active = Array.isArray(workload?.classes);
    switchStatus.textContent = "";
    entryStatus.textContent = "";
    const groupValues = (active && Array.isArray(workload.prefixes) ? workload.prefixes : []).slice(0, limits.groups).map((g) => ({
      key: nextGroupKey++,
      ...Object.fromEntries(Object.keys(groupFields).map((key) => [key, text(isPlainObject(g) ? g[key] : undefined)])),
    }));
    const keyOf = (name) => groupValues.find((g) => g.name === name)?.key;
    const classValues = (active ? workload.classes : []).slice(0, limits.classes).map((raw) => {
      const c = isPlainObject(raw) ? raw : {};
      const byRate = Object.prototype.hasOwnProperty.call(c, RATE_KEY) && !Object.prototype.hasOwnProperty.call(c, "share");
      const prefix = typeof c.prefix === "string" ? [c.prefix] : Array.isArray(c.prefix) ? c.prefix : [];
      return {
        name: text(c.name), weightKey: byRate ? RATE_KEY : "share", weight: text(byRate ? c[RATE_KEY] : c.share),
        prefix: prefix.slice(0, limits.path).map((name) => (keyOf(name) !== undefined ? { group: keyOf(name) } : { name: String(name) })),
        laws: Object.fromEntries(lawFields.map((law) => [law.key, lawState(c[law.key], vocabulary, law.role)])),
        followUps: Object.fromEntries(followUpKinds.map((item) => [item.kind, text(isPlainObject(c.follow_ups) ? c.follow_ups[item.kind] : undefined)])),
      };
    });
    render({ groups: groupValues, classes: classValues }, { announce: false });
  }

  // --- errors ------------------------------------------------------------------------------------

  /** The input (or null) and the message slot for an error path under workload.prefixes / workload.classes. */
  function target(path) {
    const parts = String(path).split(".");
    const [, list, index, key, sub] = parts;
    if (list === "prefixes") {
      const row = groups[Number(index)];
      if (index === undefined || !row) return { input: null, error: groupsError };
      if (key !== undefined && row.inputs[key]) return { input: row.inputs[key], error: row.boxes[key].error };
      return { input: null, error: row.rowError };
    }
    const row = classes[Number(index)];
    if (index === undefined || !row) return { input: null, error: classesError };
    if (key === "name") return { input: row.name, error: row.nameBox.error };
    if (key === "share" || key === RATE_KEY) return { input: row.weight, error: row.weightBox.error };
    if (key === "prefix") return { input: sub !== undefined ? row.prefixSelects[Number(sub)] ?? null : null, error: row.prefixError };
    if (key === "follow_ups") return { input: sub !== undefined ? row.followUps[sub] ?? null : null, error: row.followUpsError };
    const law = row.laws[key];
    if (!law) return { input: null, error: row.rowError };
    if (sub !== undefined && law.inputs[sub]) return { input: law.inputs[sub], error: law.error };
    if (sub === undefined && law.kind === FIXED) return { input: law.inputs.value ?? law.select, error: law.error };
    return { input: law.select, error: law.error };
  }

  const handles = (field) => typeof field === "string"
    && [GROUPS_PATH, CLASSES_PATH].some((path) => field === path || field.startsWith(`${path}.`));

  /** Show Python's error at the input it names; false when it is not the editor's. */
  function showError(error) {
    if (!active || !handles(error?.field)) return false;
    const { input, error: slot } = target(error.field);
    markInvalid(input, slot, error.message);
    return true;
  }

  function clearErrors() {
    for (const input of root.querySelectorAll("input, select")) clearInvalid(input);
    for (const node of root.querySelectorAll(".field-error")) if (node !== switchStatus && node !== entryStatus) node.textContent = "";
  }

  function fieldInput(path) {
    if (!active || !handles(path)) return undefined;
    return target(path).input ?? undefined;
  }

  return {
    root, read, write, refresh, clearErrors, showError, fieldInput, toClassesButton, toOneClassButton,
    active: () => active,
    /** Every class gives its own rate (then the workload has no total arrival rate). */
    byRate: () => active && classes.length > 0 && classes.every((row) => row.weightKey === RATE_KEY),
    /** The message of a failed switch (or "" to clear it), beside the button that asked. */
    showSwitchError: (message) => {
      entryStatus.textContent = !active && message ? t("classes_switch_to_failed", { message }) : "";
      switchStatus.textContent = active && message ? t("classes_switch_back_failed", { message }) : "";
    },
  };
}
