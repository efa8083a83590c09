// The "Offload tiers" part of the form: a list editor for the scenario's top-level `tiers` (cache
// tiers below the GPU, per replica; at most schema.tiers.max) and `tiers_policy`. Each row is a
// name, a capacity in GB or tokens (one input and a unit select, so the scenario carries exactly
// one of capacity_gb / capacity_tokens) and a read bandwidth. Inputs are named by their scenario
// path ("tiers.0.capacity_gb"), so Python's error `field` finds them. Text via textContent only.

import { clearInvalid, element, markInvalid } from "./dom.js";
import { fieldText, t } from "./i18n.js";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Names offered for a new row, in order, when the schema has a default bandwidth for them. */
const SUGGESTED_NAMES = ["cpu", "ssd"];
const CAPACITY_KEYS = ["capacity_gb", "capacity_tokens"];

/** An input's text as the scenario value: a finite number when it reads as one, else as typed. */
export function numberOrText(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") return undefined;
  const number = NUMBER.test(trimmed) ? Number(trimmed) : NaN;
  // An unreadable entry goes to Python as typed, so its error names the field and range.
  return Number.isFinite(number) ? number : trimmed;
}

const idOf = (path) => "field-" + path.replace(/[^a-z0-9_]/gi, "-");

/**
 * Build the tiers editor. Returns {root, read(), write(scenario), refresh(), clearErrors(),
 * showError(error), fieldInput(path)}; read() gives {tiers, policy} (tiers may be empty).
 */
export function buildTiersEditor(tierSchema) {
  const fields = Object.fromEntries(tierSchema.fields.map((field) => [field.path.split(".")[1], field]));
  const policyField = tierSchema.policy;
  const max = tierSchema.max ?? 3;
  const readDefaults = tierSchema.read_defaults || {};

  const legend = element("legend");
  const intro = element("p", { className: "field-help tiers-intro" });
  const list = element("div", { className: "tier-list" });
  const empty = element("p", { className: "muted tiers-empty" });
  const sectionError = element("p", { className: "field-error tiers-error", role: "alert", dataset: { path: "tiers" } });
  const addButton = element("button", { type: "button", className: "tier-add" });
  const maxNote = element("span", { className: "muted tier-max" });
  const actions = element("div", { className: "tier-actions" }, [addButton, maxNote]);

  const policyId = idOf(policyField.path);
  const policySelect = element("select", { id: policyId, name: policyField.path, dataset: { kind: "enum" } });
  const policyLabel = element("span", { className: "field-label" });
  const policyHelp = element("p", { className: "field-help", id: `${policyId}-help` });
  const policyErrorNode = element("p", { className: "field-error", id: `${policyId}-error`, role: "alert" });
  policySelect.setAttribute("aria-describedby", `${policyHelp.id} ${policyErrorNode.id}`);
  const policyRow = element("div", { className: "field tier-policy", dataset: { path: policyField.path } },
    [element("label", { for: policyId }, [policyLabel]), policySelect, policyHelp, policyErrorNode]);

  // name="tiers": a structural change (add, remove) is announced as a change event from here.
  const root = element("fieldset", { className: "section section-tiers", name: "tiers", dataset: { section: "tiers" } },
    [legend, intro, list, empty, sectionError, actions, policyRow]);

  let rows = []; // {root, name, capacity, unit, read, capacityField, errors: {name, capacity, read, row}, ...}

  function fieldBox(path, input, extra = []) {
    const label = element("span", { className: "field-label" });
    const unit = element("span", { className: "field-unit" });
    const help = element("p", { className: "field-help", id: `${input.id}-help` });
    const error = element("p", { className: "field-error", id: `${input.id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", `${help.id} ${error.id}`);
    const box = element("div", { className: "field", dataset: { path } },
      [element("label", { for: input.id }, [label, unit]), ...(extra.length ? [element("div", { className: "tier-capacity" }, [input, ...extra])] : [input]), help, error]);
    return { box, label, unit, help, error };
  }

  function textInput(path, kind) {
    return element("input", {
      id: idOf(path), name: path, type: "text", inputmode: kind === "text" ? "text" : kind === "int" ? "numeric" : "decimal",
      autocomplete: "off", spellcheck: "false", dataset: { kind },
    });
  }

  /** One row's DOM for tier `index` holding `values` ({name, capacity, unit, read}: strings). */
  function makeRow(index, values) {
    const base = `tiers.${index}`;
    const name = textInput(`${base}.name`, "text");
    name.value = values.name;
    const unitKey = CAPACITY_KEYS.includes(values.unit) ? values.unit : "capacity_gb";
    const capacity = textInput(`${base}.${unitKey}`, fields[unitKey].kind);
    capacity.value = values.capacity;
    capacity.dataset.capacity = "true";
    const unit = element("select", { name: `${base}.capacity_unit`, className: "tier-unit", dataset: { kind: "unit" } });
    unit.append(...CAPACITY_KEYS.map((key) => element("option", { value: key })));
    unit.value = unitKey;
    const read = textInput(`${base}.read_gb_per_s`, fields.read_gb_per_s.kind);
    read.value = values.read;
    const nameBox = fieldBox(`${base}.name`, name);
    const capacityBox = fieldBox(`${base}.${unitKey}`, capacity, [unit]);
    capacityBox.box.classList.add("tier-capacity-field");
    const readBox = fieldBox(`${base}.read_gb_per_s`, read);
    const remove = element("button", { type: "button", className: "tier-remove" });
    const rowError = element("p", { className: "field-error tier-row-error", role: "alert", dataset: { path: base } });
    const rowRoot = element("div", { className: "tier-row", dataset: { index: String(index) } },
      [nameBox.box, capacityBox.box, readBox.box, remove, rowError]);
    const row = { root: rowRoot, index, name, capacity, unit, read, remove, rowError, fresh: Boolean(values.fresh),
      boxes: { name: nameBox, capacity: capacityBox, read: readBox } };
    rowRoot.addEventListener("input", () => { row.fresh = false; });
    name.addEventListener("input", () => labelRow(row));
    unit.addEventListener("change", () => {
      // The capacity input is named after the key it fills, so errors and the scenario agree.
      const path = `${base}.${unit.value}`;
      capacity.name = path;
      capacity.dataset.kind = fields[unit.value].kind;
      capacity.inputMode = fields[unit.value].kind === "int" ? "numeric" : "decimal";
      capacityBox.box.dataset.path = path;
      labelRow(row);
    });
    remove.addEventListener("click", () => {
      const kept = currentValues().filter((_, i) => i !== index);
      render(kept);
      addButton.focus();
    });
    return row;
  }

  /** Labels, help, units and placeholders of one row for the current language. */
  function labelRow(row) {
    const { boxes } = row;
    boxes.name.label.textContent = fieldText(fields.name, "label");
    boxes.name.help.textContent = fieldText(fields.name, "help");
    row.name.placeholder = SUGGESTED_NAMES[0];
    const unitField = fields[row.unit.value] || fields.capacity_gb;
    boxes.capacity.label.textContent = fieldText(unitField, "label");
    boxes.capacity.help.textContent = fieldText(unitField, "help");
    row.unit.setAttribute("aria-label", t("tier_unit"));
    for (const option of row.unit.options) option.textContent = t(option.value === "capacity_gb" ? "tier_unit_gb" : "tier_unit_tokens");
    boxes.read.label.textContent = fieldText(fields.read_gb_per_s, "label");
    boxes.read.unit.textContent = fields.read_gb_per_s.unit ? ` (${fields.read_gb_per_s.unit})` : "";
    boxes.read.help.textContent = fieldText(fields.read_gb_per_s, "help");
    const fallback = readDefaults[row.name.value.trim()];
    row.read.placeholder = fallback === undefined ? t("tier_read_required") : String(fallback);
    row.remove.textContent = t("tier_remove");
    row.remove.setAttribute("aria-label", t("tier_remove_named", { index: row.index + 1 }));
  }

  function currentValues() {
    return rows.map((row) => ({ name: row.name.value, capacity: row.capacity.value, unit: row.unit.value, read: row.read.value,
      fresh: row.fresh }));
  }

  /** Rebuild the rows from values (after add, remove or write) and announce the change. */
  function render(values, { announce = true } = {}) {
    rows = values.map((value, index) => makeRow(index, value));
    list.replaceChildren(...rows.map((row) => row.root));
    refresh();
    if (announce) root.dispatchEvent(new Event("change", { bubbles: true }));
  }

  addButton.addEventListener("click", () => {
    if (rows.length >= max) return;
    const used = new Set(rows.map((row) => row.name.value.trim()));
    const name = SUGGESTED_NAMES.find((candidate) => !used.has(candidate) && candidate in readDefaults) ?? "";
    render([...currentValues(), { name, capacity: "", unit: "capacity_gb", read: "", fresh: true }]);
    const added = rows[rows.length - 1];
    (name ? added.capacity : added.name).focus();
  });

  function refresh() {
    legend.textContent = t("section_tiers");
    intro.textContent = t("tiers_intro");
    empty.textContent = t("tiers_none");
    empty.hidden = rows.length > 0;
    addButton.textContent = t("tier_add");
    addButton.disabled = rows.length >= max;
    maxNote.textContent = t("tier_max", { max });
    policyLabel.textContent = fieldText(policyField, "label");
    policyHelp.textContent = fieldText(policyField, "help");
    const keep = policySelect.value || policyField.default;
    policySelect.replaceChildren(...policyField.choices.map((choice) => element("option", { value: choice, text: choice })));
    policySelect.value = keep;
    policyRow.hidden = rows.length === 0;
    for (const row of rows) labelRow(row);
  }

  /** {tiers, policy}: one object per row (values as typed go to Python, which names what is wrong). */
  function read() {
    // A row just added and not yet typed in is not a tier yet (no error before any typing): trailing
    // ones are left out, so the indices of the rows before them still match the scenario's.
    let counted = rows.length;
    while (counted > 0 && rows[counted - 1].fresh && rows[counted - 1].capacity.value.trim() === "") counted--;
    const tiers = rows.slice(0, counted).map((row) => {
      const tier = {};
      const name = row.name.value.trim();
      if (name !== "") tier.name = name;
      const capacity = numberOrText(row.capacity.value);
      if (capacity !== undefined) tier[row.unit.value] = capacity;
      const readValue = numberOrText(row.read.value);
      if (readValue !== undefined) tier.read_gb_per_s = readValue;
      return tier;
    });
    return { tiers, policy: policySelect.value || policyField.default };
  }

  function write(scenario) {
    const tiers = Array.isArray(scenario?.tiers) ? scenario.tiers : [];
    const text = (value) => (value === undefined || value === null ? "" : String(value));
    policySelect.value = "";
    render(tiers.slice(0, max).map((tier) => {
      const byTokens = tier && tier.capacity_tokens !== undefined && tier.capacity_tokens !== null
        && (tier.capacity_gb === undefined || tier.capacity_gb === null);
      return {
        name: text(tier?.name),
        capacity: text(byTokens ? tier.capacity_tokens : tier?.capacity_gb),
        unit: byTokens ? "capacity_tokens" : "capacity_gb",
        read: text(tier?.read_gb_per_s),
      };
    }), { announce: false });
    policySelect.value = typeof scenario?.tiers_policy === "string" && policyField.choices.includes(scenario.tiers_policy)
      ? scenario.tiers_policy : policyField.default;
  }


  function clearErrors() {
    const inputs = [policySelect, ...rows.flatMap((row) => [row.name, row.capacity, row.read])];
    for (const input of inputs) clearInvalid(input);
    for (const node of [sectionError, policyErrorNode, ...rows.flatMap((row) => [row.rowError,
      row.boxes.name.error, row.boxes.capacity.error, row.boxes.read.error])]) node.textContent = "";
  }

  /** Show Python's error at the input it names (tiers_policy, tiers.<i>.<key>, tiers.<i>, tiers). */
  function showError(error) {
    const field = error?.field;
    if (typeof field !== "string" || !(field === "tiers_policy" || field === "tiers" || field.startsWith("tiers."))) return false;
    if (field === "tiers_policy") {
      markInvalid(policySelect, policyErrorNode, error.message);
      return true;
    }
    const match = /^tiers\.(\d+)(?:\.([a-z_]+))?$/.exec(field);
    const row = match ? rows[Number(match[1])] : undefined;
    if (!row) {
      markInvalid(null, sectionError, error.message);
      return true;
    }
    const key = match[2];
    if (key === "name") markInvalid(row.name, row.boxes.name.error, error.message);
    else if (CAPACITY_KEYS.includes(key)) markInvalid(row.capacity, row.boxes.capacity.error, error.message);
    else if (key === "read_gb_per_s") markInvalid(row.read, row.boxes.read.error, error.message);
    else markInvalid(null, row.rowError, error.message);
    return true;
  }

  function fieldInput(path) {
    if (path === policyField.path) return policySelect;
    const match = /^tiers\.(\d+)\.([a-z_]+)$/.exec(path || "");
    const row = match ? rows[Number(match[1])] : undefined;
    if (!row) return undefined;
    if (match[2] === "name") return row.name;
    if (CAPACITY_KEYS.includes(match[2]) || match[2] === "capacity") return row.capacity;
    if (match[2] === "read_gb_per_s") return row.read;
    if (match[2] === "capacity_unit") return row.unit;
    return undefined;
  }

  render([], { announce: false });
  return { root, read, write, refresh, clearErrors, showError, fieldInput, addButton };
}
