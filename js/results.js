// The results panel: every shown metric is an element with data-metric="<key>" and
// data-value="<raw number>", its text formatted from Python's number. Built with createElement
// and textContent only.

import { el, tableHead } from "./dom.js";
import { t } from "./i18n.js";
import { formatMetric, integer, percent, percentagePoints, rawValue, MISSING } from "./format.js";
import { renderClassTable } from "./class-table.js";
import { DeployView, adviceCommand } from "./deploy.js";
import { BudgetView } from "./budget.js";

const GROUPS = [
  { id: "latency", title: "latency_title", metrics: [
    ["ttft_no_cache_s", "duration"], ["ttft_s", "duration"], ["ttft_saved_s", "duration"],
    ["prefill_gpus_no_cache", "gpus"], ["prefill_gpus", "gpus"], ["gpus_saved", "gpus"],
    ["money_saved_per_day", "money_per_day"], ["cluster_gpus", "integer"], ["decode_step_s", "duration"],
    ["prefill_utilization_no_cache", "percent"], ["prefill_utilization", "percent"], ["decode_utilization", "percent"],
  ] },
  { id: "capacity", title: "capacity_title", metrics: [
    ["cache_capacity_tokens", "tokens"], ["conversations_in_cache", "integer"], ["cache_capacity_blocks", "integer"],
    ["cache_capacity_gib", "gib"], ["concurrent_conversations", "integer"], ["characteristic_time_s", "seconds"],
  ] },
  { id: "speed", title: "speed_title", metrics: [
    ["ideal_prefill_speedup", "speedup"], ["derived_qps", "qps"], ["prompt_tokens_per_s", "tokens_per_s"],
    ["cached_tokens_per_s", "tokens_per_s"], ["mean_prompt_tokens", "tokens"],
  ] },
  { id: "memory", title: "memory_title", metrics: [
    ["kv_bytes_per_token", "bytes"], ["usable_gib_per_gpu", "gib"], ["weights_gib_per_gpu", "gib"],
    ["activation_reserve_gib_per_gpu", "gib"], ["kv_gib_per_gpu", "gib"], ["cache_utilization", "percent"],
  ] },
];
const OCCUPANCY = ["occupancy_system_prompt", "occupancy_live", "occupancy_idle", "occupancy_finished"];
/** The GPU cache split: KV pinned by running requests (Little's law) and the evictable rest. */
const PINNED = [["pinned_tokens", "tokens"], ["evictable_capacity_tokens", "tokens"]];
/** Per-tier table columns: [key of a `tiers` row, format]. */
const TIER_COLUMNS = [
  ["capacity_tokens", "tokens"], ["evictable_capacity_tokens", "tokens"], ["capacity_gb", "gb"], ["token_hit_rate", "percent"], ["request_hit_rate", "percent"],
  ["characteristic_time_s", "seconds"], ["read_gb_per_s", "gb_per_s"], ["load_s_per_token", "duration"], ["recompute_s_per_token", "duration"],
];
const TIER_COLORS = 4;

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

/** A metric element outside the prediction's own keys (scope: "tier", "advice"). */
function scopedMetric(key, value, format, scope, className = "metric-value") {
  const node = metricValue(key, "span", className);
  node.dataset.scope = scope;
  setMetric(node, value, format);
  return node;
}

const finite = (value) => typeof value === "number" && Number.isFinite(value);
const barWidth = (value) => (finite(value) ? `${Math.max(0, Math.min(1, value)) * 100}%` : "0%");
const currentLanguage = () => (document.documentElement.lang.startsWith("zh") ? "zh" : "en");

/** Fill a translated template whose {name} slots are nodes (text stays text). */
function fillTemplate(template, nodes) {
  const parts = template.split(/\{(\w+)\}/);
  return parts.map((part, index) => (index % 2 === 1 ? nodes[part] ?? document.createTextNode(`{${part}}`) : document.createTextNode(part)));
}

export class ResultsView {
  constructor(root, { onApplyAdvice }) {
    this.root = root;
    this.onApplyAdvice = onApplyAdvice;
    this.values = new Map(); // metric key -> {node, format}
    this.labels = []; // [node, i18n key]
    this.lastPredict = null;
    this.lastAdvice = null;
    this.lastDeltas = null;
    this.deltaNodes = new Map(); // metric key -> the "vs baseline" element after its value
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

  metricList(metrics) {
    const list = el("dl", "metric-list");
    for (const [key, format] of metrics) {
      const row = el("div", "metric-row");
      row.dataset.row = key;
      const value = el("dd");
      value.append(this.track(key, format, metricValue(key)));
      if (key === "characteristic_time_s") {
        this.neverFills = this.label("span", "muted never-fills", "never_fills");
        this.neverFills.hidden = true;
        value.append(document.createTextNode(" "), this.neverFills);
      }
      if (key === "money_saved_per_day") {
        this.needsPrice = this.label("span", "muted needs-price", "money_needs_price");
        this.needsPrice.hidden = true;
        value.append(document.createTextNode(" "), this.needsPrice);
      }
      row.append(this.label("dt", "", key), value);
      list.append(row);
    }
    return list;
  }

  build() {
    const root = this.root;
    root.replaceChildren();
    // The state in one sentence before any number: which model, keeping up or not (Python's `status`).
    this.statusLine = el("p", "headline-status");
    this.statusLine.id = "headline-status";
    this.statusLine.hidden = true;
    root.append(this.statusLine);
    const headline = el("div", "headline");
    this.headline = headline;
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

    // Where the hits come from: the GPU and each tier below it (shown when the scenario has tiers).
    const tiers = el("section", "metric-group tier-split");
    tiers.id = "tier-split";
    tiers.append(this.label("h3", "", "tiers_title"));
    this.tierBars = el("div", "tier-bars");
    this.tierTable = el("div", "tier-table-box");
    tiers.append(this.tierBars, this.tierTable);
    tiers.hidden = true;
    this.tierSection = tiers;
    root.append(tiers);

    // Per traffic class (shown when the scenario's workload has classes).
    const perClass = el("section", "metric-group class-split");
    perClass.id = "class-split";
    perClass.append(this.label("h3", "", "classes_results_title"));
    this.classTable = el("div", "tier-table-box");
    perClass.append(this.classTable);
    perClass.hidden = true;
    this.classSection = perClass;
    root.append(perClass);

    for (const group of GROUPS) {
      const section = el("section", `metric-group group-${group.id}`);
      section.dataset.group = group.id;
      section.append(this.label("h3", "", group.title));
      if (group.id === "latency") {
        this.latencyNote = this.label("p", "muted latency-note", "latency_unavailable");
        this.latencyNote.hidden = true;
        section.append(this.latencyNote);
      }
      section.append(this.metricList(group.metrics));
      root.append(section);
      if (group.id === "memory") this.budgetView = new BudgetView(root);
    }

    const pinned = el("section", "metric-group pinned");
    pinned.id = "pinned-split";
    pinned.append(this.label("h3", "", "pinned_title"));
    const running = el("p", "pinned-running");
    this.runningValue = this.track("running_requests", "requests", metricValue("running_requests"));
    this.runningLine = running;
    pinned.append(running);
    const pinnedBar = el("div", "stacked-bar pinned-bar");
    pinnedBar.setAttribute("role", "img");
    const pinnedLegend = el("ul", "stacked-legend");
    this.pinnedSegments = [];
    PINNED.forEach(([key, format], index) => {
      const segment = el("div", `segment pinned-${index}`);
      segment.dataset.segment = key;
      pinnedBar.append(segment);
      const item = el("li");
      item.append(el("span", `swatch pinned-${index}`), this.label("span", "", key), document.createTextNode(" "),
        this.track(key, format, metricValue(key)));
      pinnedLegend.append(item);
      this.pinnedSegments.push([key, segment]);
    });
    this.pinnedBar = pinnedBar;
    pinned.append(pinnedBar, pinnedLegend, this.label("p", "muted pinned-desc", "pinned_desc"));
    root.append(pinned);

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

    const advice = el("section", "advice");
    advice.id = "advice";
    advice.append(this.label("h3", "", "advice_title"), this.label("p", "muted advice-desc", "advice_desc"));
    this.adviceList = el("ol", "advice-list");
    advice.append(this.adviceList);
    root.append(advice);
    this.deployView = new DeployView(root);
    this.renderSeedLine();
    this.renderRunningLine();
  }

  renderSeedLine() {
    this.seedLine.replaceChildren(...fillTemplate(t("seed_formula"), { value: this.seedValue }));
  }

  renderRunningLine() {
    this.runningLine.replaceChildren(...fillTemplate(t("running_requests_line"), { value: this.runningValue }));
  }

  /** Relabel after a language switch and re-format the last numbers. */
  relabel() {
    for (const [node, key] of this.labels) node.textContent = t(key);
    this.renderSeedLine();
    this.renderRunningLine();
    if (this.lastPredict) this.renderPredict(this.lastPredict);
    if (this.lastAdvice) this.renderAdvice(this.lastAdvice, this.lastDeploy);
    if (this.lastDeltas) this.renderDeltas(this.lastDeltas);
    this.deployView.relabel();
    this.budgetView.relabel();
  }

  /** The headline sentence of Python's `status`: the model assumed, and whether the cluster keeps up. */
  renderStatus(status) {
    const line = this.statusLine;
    line.hidden = !status;
    if (!status) return;
    const model = status.model || {};
    const name = model.label ? (model.assumed_from ? t("status_model_assumed", { label: model.label }) : model.label)
      : t("status_model_custom");
    const key = status.state === "refused" ? "status_refused"
      : status.state === "overloaded" ? (status.replicas_needed ? "status_overloaded_needs" : "status_overloaded_none")
        : "status_ok";
    line.textContent = t(key, { model: name, replicas_needed: integer(status.replicas_needed) });
    line.dataset.state = status.state;
    this.headline.dataset.state = status.state;
  }

  /**
   * Each metric's change against the pinned baseline (Python's `compare` deltas), after its value:
   * rates in percentage points, other figures as a relative change; null removes them.
   */
  renderDeltas(deltas) {
    this.lastDeltas = deltas;
    for (const [key, { node, format }] of this.values) {
      const delta = deltas ? deltas[key] : undefined;
      let badge = this.deltaNodes.get(key);
      if (!delta) {
        if (badge) badge.hidden = true;
        continue;
      }
      if (!badge) {
        badge = el("span", "metric-delta");
        badge.dataset.deltaMetric = key;
        node.after(badge);
        this.deltaNodes.set(key, badge);
      }
      badge.hidden = false;
      badge.dataset.change = rawValue(delta.change);
      badge.dataset.direction = delta.change > 0 ? "up" : delta.change < 0 ? "down" : "same";
      const shown = format === "percent" ? percentagePoints(delta.change, { signed: true })
        : delta.relative === null ? formatMetric(format, delta.change)
          : `${delta.relative > 0 ? "+" : ""}${percent(delta.relative)}`;
      badge.textContent = t("delta_vs_baseline", { change: shown, baseline: formatMetric(format, delta.baseline) });
    }
  }

  /** The numbers of one `predict` result (also the `predict` part of an `analyze` result). */
  renderPredict(predict) {
    this.lastPredict = predict;
    this.renderStatus(predict.status);
    for (const [key, { node, format }] of this.values) setMetric(node, predict[key], format);
    this.neverFills.hidden = !(predict.characteristic_time_s === null || predict.characteristic_time_s === undefined);
    const latencyKnown = finite(predict.ttft_s);
    this.latencyNote.hidden = latencyKnown;
    this.needsPrice.hidden = !latencyKnown || finite(predict.money_saved_per_day);
    for (const [key, segment] of this.segments) {
      const value = predict[key];
      segment.dataset.value = rawValue(value);
      segment.style.width = barWidth(value);
      segment.title = `${t(key)}: ${percent(value)}`;
    }
    this.renderPinned(predict);
    this.budgetView.render(predict.memory_budget);
    this.renderTiers(predict);
    this.classSection.hidden = !renderClassTable(this.classTable, predict);
    this.renderWarnings(predict.warnings || []);
  }

  /**
   * Bar widths are the two token counts' shares of the whole GPU cache, `cache_capacity_tokens`
   * (Python's; it is their sum). Drawing only: the numbers shown are Python's.
   */
  renderPinned(predict) {
    const total = finite(predict.cache_capacity_tokens) ? predict.cache_capacity_tokens : null;
    for (const [key, segment] of this.pinnedSegments) {
      const value = predict[key];
      segment.style.width = total ? barWidth(value / total) : "0%";
      segment.title = `${t(key)}: ${formatMetric("tokens", value)}`;
    }
  }

  /** Per-tier stacked bars (token and request hit rates) and the tier table, when tiers exist. */
  renderTiers(predict) {
    const rows = Array.isArray(predict.tiers) ? predict.tiers : [];
    const show = rows.length > 1;
    this.tierSection.hidden = !show;
    if (!show) {
      this.tierBars.replaceChildren();
      this.tierTable.replaceChildren();
      return;
    }
    const names = rows.map((row) => String(row.name));
    const bars = [["tier_token_hit_rates", "token_hit_rate"], ["tier_request_hit_rates", "request_hit_rate"]].map(([key, label]) => {
      const rates = predict[key] || {};
      const line = el("div", "tier-bar-line");
      line.dataset.bar = key;
      const bar = el("div", "stacked-bar tier-bar");
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", t(label));
      const legend = el("ul", "stacked-legend");
      names.forEach((name, index) => {
        const value = rates[name];
        const segment = el("div", `segment tier-color-${index % TIER_COLORS}`);
        segment.dataset.metric = `${key}.${name}`;
        segment.dataset.value = rawValue(value);
        segment.dataset.scope = "tier";
        segment.style.width = barWidth(value);
        segment.title = `${name}: ${percent(value)}`;
        bar.append(segment);
        const item = el("li");
        item.append(el("span", `swatch tier-color-${index % TIER_COLORS}`), el("span", "tier-name", name), document.createTextNode(" "),
          scopedMetric(`${key}.${name}`, value, "percent", "tier"));
        legend.append(item);
      });
      line.append(el("span", "tier-bar-label", t(label)), bar, legend);
      return line;
    });
    this.tierBars.replaceChildren(...bars);

    // One column per tier (at most four), one row per figure: fits the results column without scrolling.
    const table = el("table", "tier-table");
    const headRow = el("tr");
    headRow.append(el("th", "", t("tier_column_name")));
    rows.forEach((row, index) => {
      const cell = el("th", "");
      cell.scope = "col";
      cell.dataset.tier = String(row.name);
      cell.append(el("span", `swatch tier-color-${index % TIER_COLORS}`), document.createTextNode(String(row.name)));
      headRow.append(cell);
    });
    headRow.firstChild.scope = "col";
    const thead = el("thead");
    thead.append(headRow);
    const tbody = el("tbody");
    const figureRow = (column) => {
      const tr = el("tr");
      tr.dataset.figure = column;
      const label = el("th", "", t(`tier_column_${column}`));
      label.scope = "row";
      tr.append(label);
      return tr;
    };
    for (const [column, format] of TIER_COLUMNS) {
      const tr = figureRow(column);
      for (const row of rows) {
        const cell = el("td");
        cell.append(scopedMetric(`tier.${row.name}.${column}`, row[column], format, "tier"));
        tr.append(cell);
      }
      tbody.append(tr);
    }
    const paysRow = figureRow("load_pays");
    rows.forEach((row, index) => {
      const pays = el("td", row.load_pays === false ? "load-slow" : "");
      pays.dataset.metric = `tier.${row.name}.load_pays`;
      pays.dataset.scope = "tier";
      pays.dataset.choice = String(row.load_pays);
      pays.textContent = index === 0 ? MISSING : t(row.load_pays === false ? "tier_load_slower" : "tier_load_faster");
      paysRow.append(pays);
    });
    tbody.append(paysRow);
    table.append(thead, tbody);
    this.tierTable.replaceChildren(table, el("p", "muted tier-note", t("tier_table_note")));
  }

  /** Everything of an `analyze` result that this panel shows. */
  renderAnalysis(analysis) {
    this.renderPredict(analysis.predict || {});
    this.renderAdvice(analysis.advice || [], analysis.deploy);
    this.deployView.render(analysis.deploy);
  }

  renderWarnings(warnings) {
    const language = currentLanguage();
    this.warningList.replaceChildren(...warnings.map((warning) => {
      const item = el("li", "warning", warning[`message_${language}`] || warning.message_en || warning.code);
      item.dataset.code = warning.code || "";
      return item;
    }));
    this.warningsSection.hidden = warnings.length === 0;
  }

  /** The advisor's list, best first: why, what it would give (Python's prices), an Apply button. */
  renderAdvice(advice, deploy) {
    this.lastAdvice = advice;
    this.lastDeploy = deploy;
    const language = currentLanguage();
    if (!advice.length) {
      this.adviceList.replaceChildren(el("li", "muted", t("no_advice")));
      return;
    }
    this.adviceList.replaceChildren(...advice.map((item) => {
      const node = el("li", "advice-item");
      node.dataset.advice = item.id || "";
      const why = el("p", "advice-why", (language === "zh" ? item.why_zh : item.why) || item.why || item.id);
      const effect = el("p", "advice-effect");
      effect.append(...fillTemplate(t("advice_effect"), {
        token: scopedMetric("token_hit_rate", item.token_hit_rate, "percent", "advice", "advice-value"),
        gain: scopedMetric("token_hit_rate_gain", item.token_hit_rate_gain, "signed_points", "advice", "advice-value"),
        request: scopedMetric("request_hit_rate", item.request_hit_rate, "percent", "advice", "advice-value"),
        speedup: scopedMetric("ideal_prefill_speedup", item.ideal_prefill_speedup, "speedup", "advice", "advice-value"),
      }));
      const cost = el("p", "advice-cost");
      const costParts = fillTemplate(t("advice_cost"), {
        ttft: scopedMetric("ttft_s", item.ttft_s, "duration", "advice", "advice-value"),
        gpus: scopedMetric("cluster_gpus_delta", item.cluster_gpus_delta, "signed_gpus", "advice", "advice-value"),
        saved: scopedMetric("gpus_saved", item.gpus_saved, "gpus", "advice", "advice-value"),
      });
      cost.append(...costParts);
      if (finite(item.cost_per_day_delta)) {
        const money = scopedMetric("cost_per_day_delta", item.cost_per_day_delta, "signed_money_per_day", "advice", "advice-value");
        cost.append(...fillTemplate(t("advice_money"), { money }));
      }
      const button = el("button", "apply", t("apply"));
      button.type = "button";
      button.addEventListener("click", () => this.onApplyAdvice(item));
      node.append(why, effect, cost, button);
      const deployment = deploy?.advice?.[item.id];
      if (deployment) node.append(adviceCommand(deployment));
      return node;
    }));
  }
}

const SIMULATED_RATES = ["token_hit_rate", "request_hit_rate"];
const SIMULATION_DETAILS = [
  ["requests_measured", "integer"], ["replicas_simulated", "integer"], ["block_touches", "integer"], ["follow_up_block_hit_rate", "percent"],
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
    if ("replicas" in shown) shown.replicas = integer(shown.replicas);
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
    this.setState("done", "verify_done", { policy: String(result.policy ?? MISSING), routing: String(result.routing ?? MISSING),
      replicas: result.replicas_simulated, seed: result.seed });
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

  /**
   * With tiers below the GPU: each tier's simulated token hit rate (the GPU's with its interval)
   * next to the formula's, and their difference.
   */
  appendTierRows(tbody, result, prediction) {
    const simulated = result.tier_token_hit_rates || {};
    const names = Object.keys(simulated);
    if (names.length < 2) return;
    const predicted = prediction?.tier_token_hit_rates || {};
    for (const name of names) {
      const row = el("tr", "sim-tier-row");
      row.dataset.tier = name;
      const label = el("th", "", t("sim_tier_row", { tier: name }));
      label.scope = "row";
      const simulatedCell = el("td");
      simulatedCell.append(simulationMetric(`sim_tier_${name}_token_hit_rate`, simulated[name], "percent"));
      if (name === names[0] && isFiniteNumber(result.gpu_token_hit_rate_ci)) {
        simulatedCell.append(document.createTextNode(" ± "),
          simulationMetric(`sim_tier_${name}_token_hit_rate_ci`, result.gpu_token_hit_rate_ci, "points"));
      }
      const want = predicted[name];
      const difference = isFiniteNumber(simulated[name]) && isFiniteNumber(want) ? simulated[name] - want : null;
      const predictedCell = el("td");
      predictedCell.append(simulationMetric(`sim_predicted_tier_${name}_token_hit_rate`, want ?? null, "percent"));
      const differenceCell = el("td");
      differenceCell.append(simulationMetric(`sim_tier_${name}_token_hit_rate_difference`, difference, "signed_points"));
      row.append(label, simulatedCell, predictedCell, differenceCell);
      tbody.append(row);
    }
  }

  renderResult() {
    const result = this.lastResult;
    const prediction = result.prediction || null;
    const table = el("table", "verify-table");
    const thead = tableHead(["sim_column_metric", "sim_column_simulated", "sim_column_predicted",
      "sim_column_difference"].map((key) => t(key)));
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
    this.appendTierRows(tbody, result, prediction);
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
    const routed = typeof result.routing === "string" && result.routing !== "affinity";
    if (!prediction) notes.unshift(el("p", "muted sim-no-prediction", t(routed ? "sim_no_prediction_routing" : "sim_no_prediction")));
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
