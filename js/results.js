// The results panel: every shown metric is an element with data-metric="<key>" and
// data-value="<raw number>", its text formatted from Python's number. Built with createElement
// and textContent only.

import { t } from "./i18n.js";
import { formatMetric, integer, percent, rawValue, MISSING } from "./format.js";

const GROUPS = [
  { title: "capacity_title", metrics: [
    ["cache_capacity_tokens", "tokens"], ["conversations_in_cache", "integer"], ["cache_capacity_blocks", "integer"],
    ["cache_capacity_gib", "gib"], ["concurrent_conversations", "integer"], ["characteristic_time_s", "seconds"],
  ] },
  { title: "speed_title", metrics: [
    ["ideal_prefill_speedup", "speedup"], ["derived_qps", "qps"], ["prompt_tokens_per_s", "tokens_per_s"],
    ["cached_tokens_per_s", "tokens_per_s"], ["mean_prompt_tokens", "tokens"],
  ] },
  { title: "memory_title", metrics: [
    ["kv_bytes_per_token", "bytes"], ["usable_gib_per_gpu", "gib"], ["weights_gib_per_gpu", "gib"],
    ["activation_reserve_gib_per_gpu", "gib"], ["kv_gib_per_gpu", "gib"], ["cache_utilization", "percent"],
  ] },
];
const OCCUPANCY = ["occupancy_system_prompt", "occupancy_live", "occupancy_idle", "occupancy_finished"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A value element carrying data-metric / data-value. */
function metricValue(key, tag = "span", className = "metric-value") {
  const node = el(tag, className, MISSING);
  node.dataset.metric = key;
  node.dataset.value = "";
  return node;
}

function setMetric(node, value, format) {
  node.dataset.value = rawValue(value);
  node.textContent = formatMetric(format, value);
}

export class ResultsView {
  constructor(root, { onApplySuggestion }) {
    this.root = root;
    this.onApplySuggestion = onApplySuggestion;
    this.values = new Map(); // metric key -> {node, format}
    this.labels = []; // [node, i18n key]
    this.lastPredict = null;
    this.lastSuggestions = null;
    this.build();
  }

  label(tag, className, key) {
    const node = el(tag, className, t(key));
    this.labels.push([node, key]);
    return node;
  }

  track(key, format, node) {
    this.values.set(key, { node, format });
    return node;
  }

  build() {
    const root = this.root;
    root.replaceChildren();
    const headline = el("div", "headline");
    for (const key of ["token_hit_rate", "request_hit_rate"]) {
      const card = el("div", "headline-card");
      card.append(this.label("h3", "headline-label", key),
        this.track(key, "percent", metricValue(key, "p", "metric-value big")),
        this.label("p", "headline-desc", `${key}_desc`));
      headline.append(card);
    }
    root.append(headline);

    const ceiling = el("p", "ceiling");
    ceiling.append(this.label("span", "", "ceiling"), document.createTextNode(": "),
      this.track("ceiling_token_hit_rate", "percent", metricValue("ceiling_token_hit_rate")), document.createTextNode(" "),
      this.label("span", "muted", "ceiling_token_hit_rate"), document.createTextNode(" · "),
      this.track("ceiling_request_hit_rate", "percent", metricValue("ceiling_request_hit_rate")), document.createTextNode(" "),
      this.label("span", "muted", "ceiling_request_hit_rate"));
    root.append(ceiling);

    this.seedLine = el("p", "seed-line");
    this.seedValue = this.track("seed_formula_hit_rate", "percent", metricValue("seed_formula_hit_rate", "strong"));
    root.append(this.seedLine);

    for (const group of GROUPS) {
      const section = el("section", "metric-group");
      section.append(this.label("h3", "", group.title));
      const list = el("dl", "metric-list");
      for (const [key, format] of group.metrics) {
        const row = el("div", "metric-row");
        const value = el("dd");
        value.append(this.track(key, format, metricValue(key)));
        if (key === "characteristic_time_s") {
          this.neverFills = this.label("span", "muted never-fills", "never_fills");
          this.neverFills.hidden = true;
          value.append(document.createTextNode(" "), this.neverFills);
        }
        row.append(this.label("dt", "", key), value);
        list.append(row);
      }
      section.append(list);
      root.append(section);
    }

    const occupancy = el("section", "metric-group occupancy");
    occupancy.append(this.label("h3", "", "occupancy_title"));
    const bar = el("div", "stacked-bar");
    bar.setAttribute("role", "img");
    const legend = el("ul", "stacked-legend");
    this.segments = [];
    OCCUPANCY.forEach((key, index) => {
      const segment = el("div", `segment segment-${index}`);
      segment.dataset.metric = key;
      segment.dataset.value = "";
      bar.append(segment);
      const item = el("li", `legend-${index}`);
      const swatch = el("span", `swatch segment-${index}`);
      item.append(swatch, this.label("span", "", key), document.createTextNode(" "),
        this.track(key, "percent", metricValue(key)));
      legend.append(item);
      this.segments.push([key, segment]);
    });
    occupancy.append(bar, legend);
    root.append(occupancy);

    const warnings = el("section", "warnings");
    warnings.append(this.label("h3", "", "warnings_title"));
    this.warningList = el("ul", "warning-list");
    warnings.append(this.warningList);
    warnings.hidden = true;
    this.warningsSection = warnings;
    root.append(warnings);

    const suggestions = el("section", "suggestions");
    suggestions.append(this.label("h3", "", "suggestions_title"));
    this.suggestionList = el("ol", "suggestion-list");
    suggestions.append(this.suggestionList);
    root.append(suggestions);
    this.renderSeedLine();
  }

  renderSeedLine() {
    const [before, after] = t("seed_formula", { value: "\u0000" }).split("\u0000");
    this.seedLine.replaceChildren(document.createTextNode(before), this.seedValue, document.createTextNode(after ?? ""));
  }

  /** Relabel after a language switch and re-format the last numbers. */
  relabel() {
    for (const [node, key] of this.labels) node.textContent = t(key);
    this.renderSeedLine();
    if (this.lastPredict) this.renderPredict(this.lastPredict);
    if (this.lastSuggestions) this.renderSuggestions(this.lastSuggestions);
  }

  /** The numbers of one `predict` result (also the `predict` part of an `analyze` result). */
  renderPredict(predict) {
    this.lastPredict = predict;
    for (const [key, { node, format }] of this.values) setMetric(node, predict[key], format);
    this.neverFills.hidden = !(predict.characteristic_time_s === null || predict.characteristic_time_s === undefined);
    for (const [key, segment] of this.segments) {
      const value = predict[key];
      const finite = typeof value === "number" && Number.isFinite(value);
      segment.dataset.value = rawValue(value);
      segment.style.width = finite ? `${Math.max(0, Math.min(1, value)) * 100}%` : "0%";
      segment.title = `${t(key)}: ${percent(value)}`;
    }
    this.renderWarnings(predict.warnings || []);
  }

  /** Everything of an `analyze` result that this panel shows. */
  renderAnalysis(analysis) {
    this.renderPredict(analysis.predict || {});
    this.renderSuggestions(analysis.suggestions || []);
  }

  renderWarnings(warnings) {
    const language = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
    this.warningList.replaceChildren(...warnings.map((warning) => {
      const item = el("li", "warning", warning[`message_${language}`] || warning.message_en || warning.code);
      item.dataset.code = warning.code || "";
      return item;
    }));
    this.warningsSection.hidden = warnings.length === 0;
  }

  renderSuggestions(suggestions) {
    this.lastSuggestions = suggestions;
    const language = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
    if (!suggestions.length) {
      this.suggestionList.replaceChildren(el("li", "muted", t("no_suggestions")));
      return;
    }
    this.suggestionList.replaceChildren(...suggestions.map((suggestion) => {
      const item = el("li", "suggestion");
      item.dataset.suggestion = suggestion.id || "";
      const text = el("p", "suggestion-text", suggestion[`text_${language}`] || suggestion.text_en || suggestion.id);
      const effect = el("p", "suggestion-effect");
      const token = metricValue("token_hit_rate", "span", "suggestion-value");
      setMetric(token, suggestion.token_hit_rate, "percent");
      const request = metricValue("request_hit_rate", "span", "suggestion-value");
      setMetric(request, suggestion.request_hit_rate, "percent");
      const speed = metricValue("ideal_prefill_speedup", "span", "suggestion-value");
      setMetric(speed, suggestion.ideal_prefill_speedup, "speedup");
      for (const node of [token, request, speed]) node.dataset.scope = "suggestion";
      const template = t("suggestion_effect", { token: "\u0001", request: "\u0002", speedup: "\u0003" });
      const parts = template.split(/([\u0001\u0002\u0003])/);
      effect.append(...parts.map((part) => (part === "\u0001" ? token : part === "\u0002" ? request
        : part === "\u0003" ? speed : document.createTextNode(part))));
      const button = el("button", "apply", t("apply"));
      button.type = "button";
      button.addEventListener("click", () => this.onApplySuggestion(suggestion));
      item.append(text, effect, button);
      return item;
    }));
  }
}

const SIMULATED_RATES = ["token_hit_rate", "request_hit_rate"];
const SIMULATION_DETAILS = [
  ["requests_measured", "integer"], ["block_touches", "integer"], ["follow_up_block_hit_rate", "percent"],
  ["cache_utilization", "percent"], ["warmup_s", "seconds"], ["window_s", "seconds"],
];
const isFiniteNumber = (value) => typeof value === "number" && Number.isFinite(value);

/**
 * The "Verify by simulation" box under the results: controls, progress and the simulated rates
 * next to the formula's. Every number is a field of Python's `simulate_step` result; the only
 * arithmetic is the shown difference (simulated − formula) of two of those numbers.
 */
export class VerifyView {
  constructor(root) {
    this.root = root;
    this.startButton = root.querySelector("#verify-start");
    this.cancelButton = root.querySelector("#verify-cancel");
    this.requestsInput = root.querySelector("#sim-requests");
    this.progress = root.querySelector("#verify-progress");
    this.status = root.querySelector("#verify-status");
    this.resultBox = root.querySelector("#verify-result");
    this.statusText = null; // [i18n key, params] of the status line
    this.lastResult = null;
  }

  setState(state, statusKey = null, params = {}) {
    const running = state === "starting" || state === "running";
    this.root.dataset.state = state;
    this.status.dataset.state = state;
    this.startButton.disabled = running;
    this.cancelButton.hidden = !running;
    this.progress.hidden = !(running || state === "done");
    this.statusText = statusKey ? [statusKey, params] : null;
    this.renderStatus();
  }

  renderStatus() {
    if (!this.statusText) {
      this.status.textContent = "";
      return;
    }
    const [key, params] = this.statusText;
    const shown = { ...params };
    if ("progress" in shown) shown.progress = percent(shown.progress, 0);
    if ("seed" in shown) shown.seed = integer(shown.seed);
    this.status.textContent = t(key, shown);
  }

  /** A run was asked for: progress at zero, Cancel shown, the previous result removed. */
  starting() {
    this.clearResult();
    this.showProgress(0, "starting");
  }

  /** Python's progress (0..1) of the run. */
  showProgress(fraction, state = "running") {
    this.progress.value = isFiniteNumber(fraction) ? fraction : 0;
    this.progress.dataset.progress = rawValue(fraction);
    if (state === "starting") this.setState(state, "verify_starting");
    else this.setState(state, "verify_running", { progress: fraction });
  }

  stopped(reason) {
    this.setState(reason, reason === "outdated" ? "verify_outdated" : "verify_cancelled");
  }

  showError(message) {
    this.setState("error", "verify_error", { message });
  }

  /** The finished run: simulated rates ± interval, the formula's rates, their difference, details. */
  showResult(result) {
    this.lastResult = result;
    this.progress.value = 1;
    this.progress.dataset.progress = rawValue(1);
    this.setState("done", "verify_done", { policy: String(result.policy ?? MISSING), seed: result.seed });
    this.renderResult();
  }

  clearResult() {
    this.lastResult = null;
    this.resultBox.replaceChildren();
    this.resultBox.hidden = true;
  }

  /** The scenario changed after a finished run: its result no longer applies. */
  resultOutdated() {
    this.clearResult();
    if (this.root.dataset.state === "done") this.setState("idle");
  }

  relabel() {
    this.renderStatus();
    if (this.lastResult) this.renderResult();
  }

  renderResult() {
    const result = this.lastResult;
    const prediction = result.prediction || null;
    const table = el("table", "verify-table");
    const head = el("tr");
    for (const key of ["sim_column_metric", "sim_column_simulated", "sim_column_predicted", "sim_column_difference"]) {
      const cell = el("th", "", t(key));
      cell.scope = "col";
      head.append(cell);
    }
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const key of SIMULATED_RATES) {
      const row = el("tr");
      row.dataset.rate = key;
      const simulated = el("td");
      const value = simulationMetric(`sim_${key}`, result[key], "percent");
      simulated.append(value);
      if (isFiniteNumber(result[`${key}_ci`])) {
        simulated.append(document.createTextNode(" ± "), simulationMetric(`sim_${key}_ci`, result[`${key}_ci`], "points"));
      }
      const predicted = prediction ? prediction[key] : null;
      const difference = isFiniteNumber(result[key]) && isFiniteNumber(predicted) ? result[key] - predicted : null;
      const predictedCell = el("td");
      predictedCell.append(simulationMetric(`sim_predicted_${key}`, predicted, "percent"));
      const differenceCell = el("td");
      differenceCell.append(simulationMetric(`sim_${key}_difference`, difference, "signed_points"));
      row.append(el("th", "", t(key)), simulated, predictedCell, differenceCell);
      row.firstChild.scope = "row";
      tbody.append(row);
    }
    table.append(thead, tbody);
    const details = el("dl", "metric-list");
    for (const [key, format] of SIMULATION_DETAILS) {
      const row = el("div", "metric-row");
      const value = el("dd");
      value.append(simulationMetric(`sim_${key}`, result[key], format));
      row.append(el("dt", "", t(`sim_${key}`)), value);
      details.append(row);
    }
    const notes = [el("p", "muted", t("sim_interval_note"))];
    if (!prediction) notes.unshift(el("p", "muted sim-no-prediction", t("sim_no_prediction")));
    this.resultBox.replaceChildren(table, ...notes, details);
    this.resultBox.hidden = false;
  }
}

function simulationMetric(key, value, format) {
  const node = metricValue(key);
  node.dataset.scope = "simulation";
  setMetric(node, value, format);
  return node;
}
