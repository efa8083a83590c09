// The "Routing comparison" box: Python's comparison of this cluster under every routing
// (affinity, random, round_robin, least_loaded) as a table and a bar chart, and how much random
// routing loses against affinity. Every row has one shape: {routing, token_hit_rate,
// request_hit_rate, ttft_s, gpus_saved, token_hit_rate_loss} from the model, and
// simulated_token_hit_rate(_ci), simulated_request_hit_rate(_ci), simulated_requests, which are
// null unless the call had `simulate: true`. The analysis always carries a model-only comparison
// (`analysis.routing`), shown until "Compare routing" runs the worker's `compare_routing_start`
// {scenario, seed} and `simulate_step` (seeded simulations, a few seconds, with progress and a
// Cancel button; app.js drives the steps); the final step's result has the simulated columns,
// with their 95% half-widths (±, whiskers on the chart) and each routing's simulated request
// count, are added then. Every number shown is a field of Python's answer. Text via textContent.
//
// State for tests: #routing-compare[data-state] idle | unavailable | busy | done | outdated |
// cancelled | error (the on-demand run; data-progress while busy); #routing-result[data-origin]
// analysis | compare (what is shown).

import { el, tableHead } from "./dom.js";
import { t } from "./i18n.js";
import { formatMetric, percent, rawValue } from "./format.js";

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

function metric(key, value, format) {
  const node = el("span", "metric-value", formatMetric(format, value));
  node.dataset.metric = key;
  node.dataset.value = rawValue(value);
  node.dataset.scope = "routing";
  return node;
}

/** Fill a translated template whose {name} slots are nodes. */
function fill(template, nodes) {
  return template.split(/\{(\w+)\}/).map((part, index) => (index % 2 === 1
    ? nodes[part] ?? document.createTextNode(`{${part}}`) : document.createTextNode(part)));
}

/** A cell: the value, and " ± half-width" when Python gave one (the simulated figures' `*_ci`). */
function valueCell(routing, key, row, format) {
  const cell = el("td");
  cell.append(metric(`routing.${routing}.${key}`, row[key] ?? null, format));
  if (isNumber(row[`${key}_ci`])) {
    cell.append(document.createTextNode(" ± "), metric(`routing.${routing}.${key}_ci`, row[`${key}_ci`], "points"));
  }
  return cell;
}

/** Whether any row carries simulated figures next to the model's (null when not simulated). */
export function hasSimulatedColumns(rows) {
  return rows.some((row) => row.simulated_token_hit_rate != null);
}

export class RoutingView {
  constructor(root, { onDraw = () => {}, onClear = () => {} } = {}) {
    this.root = root;
    this.button = root.querySelector("#routing-start");
    this.cancelButton = root.querySelector("#routing-cancel");
    this.status = root.querySelector("#routing-status");
    this.resultBox = root.querySelector("#routing-result");
    this.loss = root.querySelector("#routing-loss");
    this.tableBox = root.querySelector("#routing-table");
    this.onDraw = onDraw;
    this.onClear = onClear;
    this.statusKey = null;
    this.shown = null; // {origin: "analysis" | "compare", result}
    this.replicas = 1;
  }

  setState(state, statusKey = null, params = {}) {
    this.root.dataset.state = state;
    this.status.dataset.state = state;
    this.statusKey = statusKey ? [statusKey, params] : null;
    this.button.disabled = state === "busy" || state === "unavailable";
    this.cancelButton.hidden = state !== "busy";
    this.root.setAttribute("aria-busy", String(state === "busy"));
    this.renderStatus();
  }

  renderStatus() {
    this.status.textContent = this.statusKey ? t(this.statusKey[0], this.statusKey[1]) : "";
  }

  /** The form's replicas: routing only matters with two or more (anything else is left to Python). */
  setReplicas(replicas) {
    this.replicas = replicas;
    const state = this.root.dataset.state;
    if (replicas === 1) {
      if (state !== "busy") this.setState("unavailable", "routing_single_replica");
    } else if (state === "unavailable") {
      this.setState("idle");
    }
  }

  busy() {
    if (this.shown?.origin === "compare") this.clear();
    this.showProgress(0);
  }

  /** Python's progress (0..1) over every routing's simulation. */
  showProgress(fraction) {
    this.root.dataset.progress = String(fraction);
    this.setState("busy", "routing_busy", { progress: percent(fraction, 0) });
  }

  /** The run was cancelled with the button. */
  cancelled() {
    this.setState("cancelled", "routing_cancelled");
    this.setReplicas(this.replicas);
  }

  /** The scenario changed while a run was in flight: its answer will be dropped. */
  outdated() {
    this.setState("outdated", "routing_outdated");
    this.setReplicas(this.replicas);
  }

  /** The scenario changed after a finished run: remove its result. */
  resultOutdated() {
    if (this.shown?.origin === "compare") this.clear();
    if (this.root.dataset.state === "done") this.setState("idle");
    this.setReplicas(this.replicas);
  }

  showError(message) {
    if (this.shown?.origin === "compare") this.clear();
    this.setState("error", "routing_error", { message });
  }

  clear() {
    this.shown = null;
    this.resultBox.hidden = true;
    delete this.resultBox.dataset.origin;
    this.tableBox.replaceChildren();
    this.loss.replaceChildren();
    this.onClear();
  }

  /** The on-demand comparison of the current scenario. */
  showResult(result) {
    this.shown = { origin: "compare", result };
    this.setState("done", "routing_done");
    this.render();
  }

  /** The comparison an analysis carries, unless an on-demand one for this scenario is on screen. */
  showAnalysis(result) {
    if (this.shown?.origin === "compare") return;
    if (!result || !Array.isArray(result.rows) || result.rows.length < 2) {
      if (this.shown) this.clear();
      return;
    }
    this.shown = { origin: "analysis", result };
    this.render();
  }

  relabel() {
    this.renderStatus();
    if (this.shown) this.render();
  }

  render() {
    const { origin, result } = this.shown;
    const rows = result.rows || [];
    const simulated = hasSimulatedColumns(rows);
    const table = el("table", "routing-table");
    const columns = ["routing_column_routing", "routing_column_token_hit_rate",
      "routing_column_request_hit_rate", "routing_column_ttft_s", "routing_column_token_hit_rate_loss"];
    if (simulated) {
      columns.push("routing_column_simulated_token", "routing_column_simulated_request", "routing_column_simulated_requests");
    }
    const thead = tableHead(columns.map((key) => t(key)));
    const tbody = el("tbody");
    for (const row of rows) {
      const routing = String(row.routing);
      const tr = el("tr");
      tr.dataset.routing = routing;
      if (routing === result.current) tr.classList.add("current-routing");
      const name = el("th", "", t(`routing_${routing}`));
      name.scope = "row";
      tr.append(name,
        valueCell(routing, "token_hit_rate", row, "percent"),
        valueCell(routing, "request_hit_rate", row, "percent"),
        valueCell(routing, "ttft_s", row, "duration"),
        valueCell(routing, "token_hit_rate_loss", row, "points"));
      if (simulated) {
        const requests = el("td");
        requests.append(...fill(t("routing_simulated_requests"), {
          requests: metric(`routing.${routing}.simulated_requests`, row.simulated_requests ?? null, "integer"),
        }));
        tr.append(valueCell(routing, "simulated_token_hit_rate", row, "percent"),
          valueCell(routing, "simulated_request_hit_rate", row, "percent"), requests);
      }
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const notes = [el("p", "muted", t(simulated ? "routing_note_simulated" : "routing_note",
      { replicas: formatMetric("integer", result.replicas) }))];
    if (origin === "analysis") notes.push(el("p", "muted", t("routing_from_analysis")));
    this.tableBox.replaceChildren(table, ...notes);
    const random = rows.find((row) => row.routing === "random");
    const affinity = rows.find((row) => row.routing === "affinity");
    this.loss.replaceChildren(...(random ? fill(t("routing_loss"), {
      loss: metric("routing_random_loss", random.token_hit_rate_loss ?? null, "points"),
      random: metric("routing_random_token_hit_rate", random.token_hit_rate ?? null, "percent"),
      affinity: metric("routing_affinity_token_hit_rate", affinity?.token_hit_rate ?? null, "percent"),
    }) : []));
    this.resultBox.dataset.origin = origin;
    this.resultBox.hidden = false;
    this.onDraw(result);
  }
}
