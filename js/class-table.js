// The results' per-class table: one row per traffic class of Python's `predict.classes` (shown
// when the scenario's workload has classes). Every cell is a number of that row, formatted; each
// carries data-metric="class.<name>.<key>", data-value and data-scope="class".

import { el, tableHead } from "./dom.js";
import { t } from "./i18n.js";
import { formatMetric, rawValue } from "./format.js";

/** [key of a `classes` row, format] per column after the class name. */
export const CLASS_COLUMNS = [
  ["share", "percent"], ["request_share", "percent"], ["prompt_token_share", "percent"],
  ["token_hit_rate", "percent"], ["request_hit_rate", "percent"], ["mean_turns", "decimal"], ["mean_prompt_tokens", "integer"],
];

function cell(name, key, value, format) {
  const td = el("td");
  const node = el("span", "metric-value", formatMetric(format, value));
  node.dataset.metric = `class.${name}.${key}`;
  node.dataset.value = rawValue(value);
  node.dataset.scope = "class";
  td.append(node);
  return td;
}

/** Python's normalised scenario has workload.classes exactly when the traffic is written as classes. */
export function hasClassRows(predict) {
  return Array.isArray(predict?.classes) && predict.classes.length > 0 && Array.isArray(predict?.scenario?.workload?.classes);
}

/** Fill `box` with the table of `predict.classes`; empty it when the scenario has no classes. */
export function renderClassTable(box, predict) {
  if (!hasClassRows(predict)) {
    box.replaceChildren();
    return false;
  }
  const table = el("table", "tier-table class-table");
  const head = tableHead([t("class_column_name"), ...CLASS_COLUMNS.map(([key]) => t(`class_column_${key}`))]);
  const body = el("tbody");
  for (const row of predict.classes) {
    const name = String(row.name);
    const tr = el("tr");
    tr.dataset.class = name;
    const label = el("th", "", name);
    label.scope = "row";
    tr.append(label, ...CLASS_COLUMNS.map(([key, format]) => cell(name, key, row[key], format)));
    body.append(tr);
  }
  table.append(head, body);
  box.replaceChildren(table, el("p", "muted tier-note", t("class_table_note")));
  return true;
}
