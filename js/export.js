// Exports: scenario + results as JSON or CSV, each chart as PNG. Files are made in the page
// (Blob / canvas), nothing is uploaded.

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

export function exportJson(scenario, analysis) {
  const text = JSON.stringify({ scenario, result: analysis }, null, 2);
  download("kvcache-scenario.json", new Blob([text], { type: "application/json" }));
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows "kind,key,value": every scenario field, then every scalar of the prediction. */
export function csvText(scenario, analysis) {
  const rows = [["kind", "key", "value"]];
  for (const [section, body] of Object.entries(scenario)) {
    if (body && typeof body === "object") {
      for (const [key, value] of Object.entries(body)) rows.push(["scenario", `${section}.${key}`, value]);
    } else {
      rows.push(["scenario", section, body]);
    }
  }
  const predict = (analysis && analysis.predict) || {};
  for (const [key, value] of Object.entries(predict)) {
    if (value === null || typeof value !== "object") rows.push(["result", key, value]);
  }
  for (const suggestion of (analysis && analysis.suggestions) || []) {
    rows.push(["suggestion", `${suggestion.id}.token_hit_rate`, suggestion.token_hit_rate]);
    rows.push(["suggestion", `${suggestion.id}.request_hit_rate`, suggestion.request_hit_rate]);
  }
  return rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export function exportCsv(scenario, analysis) {
  download("kvcache-results.csv", new Blob([csvText(scenario, analysis)], { type: "text/csv" }));
}

export function exportPng(name, canvas) {
  canvas.toBlob((blob) => {
    if (blob) download(`kvcache-${name.replace(/[^a-z0-9_.-]+/gi, "-")}.png`, blob);
  }, "image/png");
}
