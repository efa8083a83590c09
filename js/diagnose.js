// "Diagnose my deployment": a /metrics scrape (two, for rates) read by Python's `diagnose` call next to
// the model of the current scenario: observed vs model, the loss split, findings, and suggested scenario
// changes with an Apply button (it patches the form like an advice item). Python computes every
// number; this module formats them (js/format.js) and builds the DOM with textContent only.
//
//   diagnose {scenario, scrape, scrape_before?, interval_s?} -> {observed, model, loss_split, notes, suggestions}

import { element, tableHead } from "./dom.js";
import { applyStaticStrings, fieldText, language } from "./i18n.js";
import { dt } from "./diagnose-i18n.js";
import { MISSING, perSecond, percent, plain, points, rawValue, seconds } from "./format.js";

const ROWS = [
  { key: "diagnose_row_token_hit_rate", observed: "token_hit_rate", model: "token_hit_rate", format: (v) => percent(v, 2) },
  { key: "diagnose_row_requests", observed: "cluster_requests_per_s", model: "derived_qps", format: (v) => perSecond(v, "/s") },
  { key: "diagnose_row_prompt_tokens", observed: "prompt_tokens_per_s", model: "prompt_tokens_per_s_per_replica", format: (v) => perSecond(v, "/s") },
  { key: "diagnose_row_kv_usage", observed: "kv_cache_usage", model: "cache_utilization", format: (v) => percent(v, 1) },
  { key: "diagnose_row_running", observed: "running_requests", model: "running_requests", format: (v) => oneDecimal(v) },
];

/** A count with at most one decimal ("36", "25.2"). */
function oneDecimal(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return MISSING;
  return new Intl.NumberFormat(language() === "zh" ? "zh-CN" : "en-US", { maximumFractionDigits: 1 }).format(value);
}

/** A number's cell: formatted text, the raw value in data-value (the tests compare it with CPython's). */
function metricCell(name, value, format) {
  return element("td", {}, [element("span", { text: format(value), dataset: { metric: name, value: rawValue(value), scope: "diagnose" } })]);
}

/** The text of a file dropped or chosen (read in the page; only its text goes to the worker). */
function readFileText(file) {
  return file.text();
}

class DiagnosePanel {
  constructor(container, { client, schema, getScenario, onApply }) {
    this.container = container;
    this.client = client;
    this.schema = schema;
    this.getScenario = getScenario;
    this.onApply = onApply;
    this.result = null;
    this.build();
    new MutationObserver(() => this.relabel()).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }

  build() {
    const text = (tag, key, attrs = {}) => element(tag, { ...attrs, "data-diagnose-i18n": key });
    this.scrapeInput = element("textarea", { id: "diagnose-scrape", rows: "6", spellcheck: "false", "data-diagnose-i18n-placeholder": "diagnose_scrape_placeholder" });
    this.beforeInput = element("textarea", { id: "diagnose-before", rows: "4", spellcheck: "false" });
    this.intervalInput = element("input", { id: "diagnose-interval", type: "text", inputmode: "decimal" });
    this.fileInput = element("input", { id: "diagnose-file", type: "file", accept: ".prom,.txt,.metrics,text/plain" });
    this.runButton = text("button", "diagnose_run", { id: "diagnose-run", type: "button" });
    this.status = element("span", { className: "diagnose-status", id: "diagnose-status", role: "status", "aria-live": "polite" });
    this.errorLine = element("p", { className: "form-error diagnose-error", id: "diagnose-error", role: "alert" });
    this.results = element("div", { className: "diagnose-results", id: "diagnose-results" });
    this.fileInput.addEventListener("change", () => this.loadFile(this.fileInput.files?.[0], this.scrapeInput));
    for (const area of [this.scrapeInput, this.beforeInput]) {
      area.addEventListener("dragover", (event) => event.preventDefault());
      area.addEventListener("drop", (event) => {
        event.preventDefault();
        this.loadFile(event.dataTransfer?.files?.[0], area);
      });
    }
    this.runButton.addEventListener("click", () => this.run());
    const before = element("details", { className: "diagnose-before" }, [
      text("summary", "diagnose_before_summary"),
      element("label", { className: "diagnose-field" }, [text("span", "diagnose_before_label"), this.beforeInput]),
      element("label", { className: "diagnose-field" }, [text("span", "diagnose_interval_label"), this.intervalInput]),
    ]);
    this.container.append(
      text("p", "diagnose_intro", { className: "diagnose-intro" }),
      text("p", "diagnose_local_note", { className: "diagnose-local-note" }),
      element("label", { className: "diagnose-field" }, [text("span", "diagnose_scrape_label"), this.scrapeInput]),
      element("label", { className: "diagnose-file" }, [text("span", "diagnose_file_label"), this.fileInput]),
      before,
      element("div", { className: "diagnose-actions" }, [this.runButton, this.status]),
      this.errorLine, this.results,
    );
    this.container.dataset.state = "idle";
    this.applyStrings();
  }

  applyStrings() {
    applyStaticStrings(this.container, dt, "diagnose-i18n");
  }

  relabel() {
    this.applyStrings();
    if (this.result) this.render();
  }

  async loadFile(file, target) {
    if (!file) return;
    target.value = await readFileText(file);
  }

  /** The payload: the later scrape, and the earlier one with the interval when given. */
  payload() {
    const payload = { scenario: this.getScenario(), scrape: this.scrapeInput.value };
    if (this.beforeInput.value.trim()) payload.scrape_before = this.beforeInput.value;
    const interval = this.intervalInput.value.trim();
    if (interval) payload.interval_s = Number.isFinite(Number(interval)) ? Number(interval) : interval;
    return payload;
  }

  async run() {
    this.runButton.disabled = true;
    this.container.dataset.state = "running";
    this.status.textContent = dt("diagnose_running");
    this.errorLine.textContent = "";
    const reply = await this.client.call("diagnose", this.payload());
    this.runButton.disabled = false;
    this.status.textContent = "";
    if (!reply.ok) {
      this.result = null;
      this.results.replaceChildren();
      this.errorLine.textContent = dt("diagnose_error", { message: reply.error.message });
      this.container.dataset.state = "error";
      return;
    }
    this.result = reply.result;
    this.render();
    this.container.dataset.state = "done";
  }

  fieldLabel(path) {
    const field = (this.schema?.fields || []).find((f) => f.path === path);
    return field ? fieldText(field, "label") : path;
  }

  render() {
    const { observed, model, loss_split: split, notes, suggestions } = this.result;
    const windowKey = observed.window === "interval" ? "diagnose_window_interval" : "diagnose_window_since_start";
    const summary = element("p", { className: "diagnose-window muted", text: dt(windowKey, {
      engine: observed.engine, seconds: seconds(observed.interval_s), metric: observed.hit_rate_metric }) });
    const compare = element("table", { className: "diagnose-compare", id: "diagnose-compare" }, [
      tableHead([dt("diagnose_col_metric"), dt("diagnose_col_observed"), dt("diagnose_col_model")]),
      element("tbody", {}, ROWS.map((row) => element("tr", { dataset: { row: row.observed } }, [
        element("th", { scope: "row", text: dt(row.key) }),
        metricCell(`observed.${row.observed}`, observed[row.observed], row.format),
        metricCell(`model.${row.model}`, model[row.model], row.format),
      ]))),
    ]);
    const splitTable = element("table", { className: "diagnose-split", id: "diagnose-split" }, [
      tableHead([dt("diagnose_col_stage"), dt("diagnose_col_points"), ""]),
      element("tbody", {}, split.map((stage) => element("tr", { dataset: { stage: stage.stage } }, [
        element("th", { scope: "row", text: dt(`diagnose_stage_${stage.stage}`) }),
        metricCell(`split.${stage.stage}`, stage.token_hit_rate * 100, (v) => points(v, 1)),
        element("td", {}, [element("meter", { min: "0", max: "1", value: String(Math.max(0, Math.min(1, stage.token_hit_rate))) })]),
      ]))),
    ]);
    const lang = language() === "zh" ? "message_zh" : "message_en";
    const noteList = element("ul", { className: "diagnose-notes", id: "diagnose-notes" },
      notes.map((note) => element("li", { text: note[lang], dataset: { code: note.code } })));
    const parts = [summary, compare, element("h3", { text: dt("diagnose_split_title") }), splitTable,
      element("h3", { text: dt("diagnose_notes_title") }), noteList];
    if (suggestions.length) {
      const why = language() === "zh" ? "why_zh" : "why_en";
      parts.push(element("h3", { text: dt("diagnose_suggestions_title") }), element("ul", { className: "diagnose-suggestions", id: "diagnose-suggestions" },
        suggestions.map((s) => {
          const button = element("button", { type: "button", className: "diagnose-apply", text: dt("diagnose_apply"), dataset: { path: s.path } });
          button.addEventListener("click", () => this.apply(s));
          return element("li", { dataset: { path: s.path, value: rawValue(s.value) } }, [
            element("span", { text: dt("diagnose_suggestion", { field: this.fieldLabel(s.path), value: plain(s.value),
              current: s.current === null || s.current === undefined ? "—" : plain(s.current), rate: percent(s.token_hit_rate, 1), why: s[why] }) }),
            " ", button]);
        })));
    }
    this.results.replaceChildren(...parts);
  }

  /** A suggestion's Apply: the scenario patch {section: {key: value}}, handed to the page like an advice item. */
  apply(suggestion) {
    const [section, key] = suggestion.path.split(".");
    this.onApply({ [section]: { [key]: suggestion.value } });
  }
}

export function initDiagnosePanel(container, options) {
  if (!container) return null;
  return new DiagnosePanel(container, options);
}


