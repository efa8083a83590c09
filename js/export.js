// Exports: scenario + results as JSON or CSV, each chart as PNG. Files are made in the page
// (Blob / canvas), nothing is uploaded.

import { chartImage } from "./charts.js";

function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * `extra.routing`: the routing comparison of the same scenario, when one was run; `extra.simulation`:
 * the "Verify by simulation" result of the same scenario, when one finished.
 */
export function exportJson(scenario, analysis, extra = {}) {
  const body = { scenario, result: analysis };
  if (extra.routing) body.routing_comparison = extra.routing;
  if (extra.simulation) body.simulation = extra.simulation;
  const text = JSON.stringify(body, null, 2);
  download("kvcache-scenario.json", new Blob([text], { type: "application/json" }));
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const isScalar = (value) => value === null || typeof value !== "object";

/** One row per scalar of `value`, keys joined with "." (lists by index). */
function appendScalars(rows, kind, prefix, value) {
  if (value === undefined) return;
  if (isScalar(value)) {
    if (prefix) rows.push([kind, prefix, value]);
    return;
  }
  for (const [key, inner] of Object.entries(value)) appendScalars(rows, kind, prefix ? `${prefix}.${key}` : key, inner);
}

/**
 * Rows "kind,key,value": every scenario field (tiers as tiers.<i>.<key>), every scalar of the
 * prediction, each tier's figures, each traffic class's figures (with classes), the advice, the
 * routing comparison and the simulation (when run: every scalar, nested ones as a.b, e.g. token_hit_rate_ci.low).
 */
export function csvText(scenario, analysis, extra = {}) {
  const rows = [["kind", "key", "value"]];
  for (const [section, body] of Object.entries(scenario)) {
    if (Array.isArray(body)) {
      body.forEach((item, index) => {
        if (item && typeof item === "object") {
          for (const [key, value] of Object.entries(item)) rows.push(["scenario", `${section}.${index}.${key}`, value]);
        } else {
          rows.push(["scenario", `${section}.${index}`, item]);
        }
      });
    } else if (body && typeof body === "object") {
      for (const [key, value] of Object.entries(body)) rows.push(["scenario", `${section}.${key}`, value]);
    } else {
      rows.push(["scenario", section, body]);
    }
  }
  const predict = (analysis && analysis.predict) || {};
  for (const [key, value] of Object.entries(predict)) {
    if (isScalar(value)) rows.push(["result", key, value]);
  }
  for (const tier of Array.isArray(predict.tiers) ? predict.tiers : []) {
    for (const [key, value] of Object.entries(tier)) {
      if (key !== "name" && isScalar(value)) rows.push(["tier", `${tier.name}.${key}`, value]);
    }
  }
  if (Array.isArray(predict.scenario?.workload?.classes)) {
    for (const row of Array.isArray(predict.classes) ? predict.classes : []) {
      for (const [key, value] of Object.entries(row)) {
        if (key !== "name" && isScalar(value)) rows.push(["class", `${row.name}.${key}`, value]);
      }
    }
  }
  for (const warning of predict.warnings || []) rows.push(["warning", warning.code, warning.message_en]);
  for (const item of (analysis && analysis.advice) || []) {
    for (const [key, value] of Object.entries(item)) {
      if (key !== "id" && key !== "why_zh") rows.push(["advice", `${item.id}.${key}`, value]);
    }
  }
  const routing = extra.routing || (analysis && analysis.routing) || null;
  for (const row of (routing && routing.rows) || []) {
    for (const [key, value] of Object.entries(row)) {
      if (key !== "routing") rows.push(["routing", `${row.routing}.${key}`, value]);
    }
  }
  appendScalars(rows, "simulation", "", extra.simulation);
  return rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export function exportCsv(scenario, analysis, extra = {}) {
  download("kvcache-results.csv", new Blob([csvText(scenario, analysis, extra)], { type: "text/csv" }));
}

/**
 * A chart as a PNG file: a chart the ChartPanel drew is drawn again with its title, axis titles,
 * legend and markers on white and named after what it shows; any other canvas is saved as it is.
 */
export function exportPng(name, canvas) {
  const image = chartImage(canvas);
  const stem = image ? image.stem : name;
  (image ? image.canvas : canvas).toBlob((blob) => {
    if (blob) download(`kvcache-${stem.replace(/[^a-z0-9_.-]+/gi, "-")}.png`, blob);
  }, "image/png");
}
