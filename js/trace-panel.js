// The trace panel: open a request trace (or a shipped sample), replay it in the worker, draw the
// hit-rate curve with the current capacity marked, the reuse-time histogram, the trace's
// statistics and skipped lines, and the fitted scenario with "Use these parameters".
//
// Traces run in a worker of their own (a second CalculatorClient on worker.js, started when the
// panel is first pointed at or focused): a 100 MB trace takes a minute, and the page's calculator
// keeps answering edits meanwhile. Cancel ends that worker (a fresh one takes its place), which
// stops Python mid-replay and frees its memory.
//
// Flow (every number is Python's; this file formats and draws):
//   load_trace {file}|{url}  -> {path}           the trace worker mounts the File (js/trace-worker.js)
//   predict {scenario}       -> kv_bytes_per_token, cache_capacity_tokens (the point to mark; page's worker)
//   replay {path, capacity_tokens, kv_bytes_per_token}  -> curve, points, ceiling, stats, skipped
//   fit {path}               -> a scenario (cache.block_size, admission; workload: rate, prefix groups, classes)
//   model_vs_replay {fitted scenario, points: a dozen of the replay's}  -> the model's curve, the gaps
// Progress comes as {type: "trace-progress"} messages from the trace worker; after each read the
// container's data-heap-bytes holds the worker's WebAssembly memory (for the bench). Text only via textContent.

import { applyStaticStrings, fieldText } from "./i18n.js";
import { tt } from "./trace-i18n.js";
import { integer, percent, plain, points, rawValue, seconds, tokens } from "./format.js";
import { lawVocabulary, summarizeLaw } from "./laws.js";
import { applyScenarioPatch } from "./traffic.js";
import { CalculatorClient } from "./worker-client.js";

const EXAMPLES = [
  { key: "trace_example_conversation", url: "traces/mooncake_conversation_trace.jsonl" },
  { key: "trace_example_synthetic", url: "traces/mooncake_synthetic_trace.jsonl" },
];
const CURVE_POINTS = 50;
/** Replayed capacities the fitted model is computed at (model_vs_replay: one predict each). */
const MODEL_POINTS = 12;
const COLORS = { token: "#1f6feb", request: "#d9480f", ceiling: "#2b8a3e", current: "#000000", model: "#868e96", bars: "#1f6feb" };
const STAT_FORMATS = [
  ["requests", "integer"], ["prompt_tokens", "integer"], ["output_tokens", "integer"], ["block_size", "integer"],
  ["mean_input_tokens", "plain"], ["mean_output_tokens", "plain"], ["span_s", "seconds"], ["request_rate", "plain"],
  ["unique_blocks", "integer"], ["unique_tokens", "integer"], ["unique_gb", "plain"], ["reused_blocks", "integer"],
  ["reused_block_share", "percent"], ["reused_token_share", "percent"],
];
/** Sections of the fit shown as "field: value" rows (the workload's groups and classes have their own tables). */
const FIT_SCALAR_SECTIONS = ["cache", "workload"];

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

function element(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function formatValue(format, value) {
  if (format === "percent") return percent(value, 2);
  if (format === "integer") return integer(value);
  if (format === "seconds") return seconds(value);
  if (format === "points") return points(value);
  return plain(value);
}

/** An element showing one metric: data-metric, data-value (raw number), data-scope="trace". */
function metric(name, value, format) {
  return element("span", {
    className: "metric-value",
    text: formatValue(format, value),
    attrs: { "data-metric": name, "data-value": rawValue(value), "data-scope": "trace" },
  });
}

/** A text value shown in the fit (data-choice carries it for the tests). */
function choice(name, value) {
  return element("span", { text: String(value), attrs: { "data-metric": name, "data-choice": String(value), "data-scope": "trace" } });
}

function chartLibrary() {
  if (!globalThis.Chart) throw new Error("Chart.js did not load");
  return globalThis.Chart;
}

export class TracePanel {
  constructor(container, { client, schema, getScenario, onUseScenario }) {
    this.container = container;
    this.client = client; // the page's worker: predict only
    this.traceClient = null; // created on first need (traceWorker())
    this.fields = new Map((schema?.fields || []).map((field) => [field.path, field]));
    this.traffic = schema?.traffic || null;
    this.vocabulary = lawVocabulary(this.traffic);
    this.getScenario = getScenario;
    this.onUseScenario = onUseScenario;
    this.runCounter = 0;
    this.stage = null; // {key, name}
    this.result = null;
    this.charts = [];
    this.build();
    new MutationObserver(() => this.relabel()).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }

  // --- static part -----------------------------------------------------------------------------

  build() {
    const text = (tag, key, extra = {}) => element(tag, { ...extra, attrs: { ...(extra.attrs || {}), "data-trace-i18n": key } });
    this.fileInput = element("input", { attrs: { type: "file", id: "trace-file", accept: ".jsonl,.json,.csv,.gz,.txt,.ndjson" } });
    this.blockInput = element("input", { attrs: { type: "text", id: "trace-block-size", inputmode: "numeric", "data-trace-i18n-placeholder": "trace_block_size_placeholder" } });
    this.exampleButtons = EXAMPLES.map((example) => {
      const button = text("button", example.key, { className: "trace-example", attrs: { type: "button", "data-example": example.url.split("/").pop() } });
      button.addEventListener("click", () => this.run({ url: example.url, name: example.url.split("/").pop() }));
      return button;
    });
    this.fileInput.addEventListener("change", () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      if (file) this.run({ file, name: file.name });
    });
    this.progress = element("progress", { attrs: { max: "1", value: "0", id: "trace-progress" } });
    this.stageLabel = element("span", { className: "trace-stage", attrs: { id: "trace-stage", role: "status", "aria-live": "polite" } });
    this.errorLine = element("p", { className: "form-error trace-error", attrs: { id: "trace-error", role: "alert" } });
    this.results = element("div", { className: "trace-results", attrs: { id: "trace-results" } });
    const controls = element("div", { className: "trace-controls" }, [
      element("label", { className: "trace-file" }, [text("span", "trace_file_label"), this.fileInput]),
      element("label", { className: "trace-block" }, [text("span", "trace_block_size"), this.blockInput]),
      element("div", { className: "trace-examples" }, [text("span", "trace_examples"), ...this.exampleButtons]),
    ]);
    this.cancelButton = text("button", "trace_cancel", { className: "trace-cancel", attrs: { type: "button", id: "trace-cancel", hidden: "" } });
    this.cancelButton.addEventListener("click", () => this.cancel());
    this.statusBox = element("div", { className: "trace-status", attrs: { hidden: "" } }, [this.progress, this.stageLabel, this.cancelButton]);
    // the worker boots while the user reaches for a file or an example
    for (const type of ["pointerover", "focusin"]) controls.addEventListener(type, () => this.traceWorker(), { once: true });
    this.container.append(
      text("p", "trace_intro", { className: "trace-intro" }),
      text("p", "trace_local_note", { className: "trace-local-note", attrs: { id: "trace-local-note" } }),
      controls, this.statusBox, this.errorLine, this.results,
    );
    this.container.dataset.state = "idle";
    this.applyStrings();
  }

  applyStrings() {
    applyStaticStrings(this.container, tt, "trace-i18n");
  }

  relabel() {
    this.applyStrings();
    if (this.stage) this.stageLabel.textContent = tt(this.stage.key, { name: this.stage.name });
    if (this.result) this.render();
  }

  // --- running ---------------------------------------------------------------------------------

  setStage(key, name, fraction = 0) {
    this.stage = { key, name };
    this.container.dataset.stage = key.replace(/^trace_stage_/, "");
    this.stageLabel.textContent = tt(key, { name });
    this.progress.value = fraction;
    this.statusBox.hidden = false;
  }

  /** The trace worker's client, started on first need. */
  traceWorker() {
    if (!this.traceClient) {
      const client = new CalculatorClient(new URL("../worker.js", import.meta.url), {
        onProgress: (stage, fraction) => this.showBoot(fraction),
        // data-trace-worker counts the workers (Cancel ends one): the tests read it
        onRestart: () => { this.container.dataset.traceWorker = String(client.generation); },
      });
      client.on("trace-progress", (message) => this.showProgress(message));
      this.traceClient = client;
      this.container.dataset.traceWorker = String(client.generation);
    }
    return this.traceClient;
  }

  showBoot(fraction) {
    if (this.container.dataset.state === "busy" && this.stage?.key === "trace_stage_boot" && isNumber(fraction)) {
      this.progress.value = fraction;
    }
  }

  showProgress({ stage, loaded, total, heap_bytes: heap }) {
    if (isNumber(heap)) this.container.dataset.heapBytes = String(heap);
    if (this.container.dataset.state !== "busy" || !this.stage) return;
    if (this.stage.key === "trace_stage_boot") this.setStage(stage === "fetch" ? "trace_stage_fetch" : "trace_stage_replay", this.stage.name);
    const fetching = this.stage.key === "trace_stage_fetch";
    if ((stage === "fetch") !== fetching) return;
    if (total > 0) {
      this.progress.value = Math.min(1, loaded / total);
      this.container.dataset.progress = String(this.progress.value);
    } else this.progress.removeAttribute("value");
  }

  setBusy(busy) {
    this.container.dataset.state = busy ? "busy" : this.container.dataset.state;
    this.fileInput.disabled = busy;
    for (const button of this.exampleButtons) button.disabled = busy;
    this.cancelButton.hidden = !busy;
  }

  /** Stop the running trace: its worker ends (Python stops where it is) and a fresh one takes over. */
  cancel() {
    if (this.container.dataset.state !== "busy") return;
    const name = this.stage?.name || "";
    this.runCounter++; // the run's awaits return to a stale run and stop there
    this.traceClient?.cancel();
    this.setBusy(false);
    this.setStage("trace_stage_cancelled", name);
    this.container.dataset.state = "cancelled";
    this.fileInput.value = "";
  }

  blockSize() {
    const text = this.blockInput.value.trim();
    if (!text) return null;
    return /^\d+$/.test(text) ? Number(text) : text; // Python names the field when it is not allowed
  }

  /** source: {file, name} (a File from the input) or {url, name} (a shipped sample). */
  async run(source) {
    const run = ++this.runCounter;
    const current = () => run === this.runCounter;
    performance.mark("kvcache:trace-start");
    this.setBusy(true);
    this.errorLine.textContent = "";
    delete this.container.dataset.curve;
    delete this.container.dataset.fit;
    const worker = this.traceWorker();
    this.setStage(!worker.booted ? "trace_stage_boot" : source.url ? "trace_stage_fetch" : "trace_stage_replay", source.name);
    delete this.container.dataset.progress;
    const blockSize = this.blockSize();
    try {
      const predicting = this.client.call("predict", { scenario: this.getScenario(), advice: false });
      const loaded = await worker.call("load_trace", source.file ? { file: source.file } : { url: source.url });
      if (!current()) return;
      if (!loaded.ok) throw loaded.error;
      const predicted = await predicting;
      const now = predicted.ok ? predicted.result : null;
      const kvBytes = isNumber(now?.kv_bytes_per_token) ? now.kv_bytes_per_token : null;
      const capacity = isNumber(now?.cache_capacity_tokens) ? now.cache_capacity_tokens : null;
      this.setStage("trace_stage_replay", source.name);
      const replay = await worker.call("replay", {
        path: loaded.result.path, block_size: blockSize, capacity_tokens: capacity !== null ? [capacity] : [],
        policy: "lru", curve_points: CURVE_POINTS, format: null, kv_bytes_per_token: kvBytes, name: source.name,
      });
      if (!current()) return;
      if (!replay.ok) throw replay.error;
      this.result = { name: loaded.result.name, bytes: loaded.result.bytes, replay: replay.result, capacity, kvBytes,
        fit: null, fitError: null, model: null, modelError: null, scenario: this.getScenario(), used: false };
      this.render();
      this.container.dataset.curve = "drawn";
      performance.mark("kvcache:trace-curve");

      this.setStage("trace_stage_fit", source.name);
      const fit = await worker.call("fit", { path: loaded.result.path, block_size: blockSize, format: null, name: source.name });
      if (!current()) return;
      if (fit.ok) {
        this.result.fit = fit.result;
        this.setStage("trace_stage_predict", source.name);
        const model = await this.modelVsReplay(fit.result, worker);
        if (!current()) return;
        if (model.ok) this.result.model = model.result;
        else this.result.modelError = model.error.message;
      } else {
        this.result.fitError = fit.error.message;
      }
      this.render();
      this.container.dataset.fit = fit.ok ? "done" : "failed";
      performance.mark("kvcache:trace-fit");
      this.setStage("trace_stage_done", source.name, 1);
      this.container.dataset.state = "done";
    } catch (error) {
      if (!current()) return;
      this.errorLine.textContent = tt("trace_error", { message: error?.message || String(error) });
      this.setStage("trace_stage_failed", source.name);
      this.container.dataset.state = "error";
    } finally {
      if (current()) {
        this.setBusy(false);
        this.fileInput.value = "";
      }
    }
  }

  /**
   * The closed-form model of the current scenario with the fit applied, at about a dozen of the
   * replay's capacities, and its gaps to the replay (Python's model_vs_replay): {ok, result:
   * {points: [{..., row}], worst_gap_points, median_gap_points}} | {ok: false, error}.
   */
  async modelVsReplay(fitted, worker) {
    const curve = (this.result.replay.curve || [])
      .filter((row) => !row.unlimited && isNumber(row.capacity_tokens) && isNumber(row.token_hit_rate));
    if (!curve.length) return { ok: false, error: { message: tt("trace_model_no_points") } };
    const step = Math.max(1, Math.ceil(curve.length / MODEL_POINTS));
    const rows = curve.filter((row, index) => index % step === 0 || index === curve.length - 1);
    const reply = await worker.call("model_vs_replay", {
      scenario: applyScenarioPatch(this.result.scenario, fitted),
      points: rows.map((row) => ({ capacity_tokens: row.capacity_tokens, token_hit_rate: row.token_hit_rate })),
    });
    if (!reply.ok) return reply;
    const result = { ...reply.result, points: (reply.result.points || []).map((point, index) => ({ ...point, row: rows[index] })) };
    return { ok: true, result };
  }

  // --- drawing ---------------------------------------------------------------------------------

  render() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    const { replay } = this.result;
    const parts = [
      element("p", { className: "trace-file-summary muted",
        text: tt("trace_file_summary", { name: this.result.name, size: `${integer(this.result.bytes)} B` }) }),
      this.renderMetrics(replay),
      element("div", { className: "trace-charts" }, [
        this.figure("trace_chart_curve", "trace-curve"), this.figure("trace_chart_reuse", "trace-reuse")]),
      element("div", { className: "trace-details" }, [
        this.renderFit(), this.renderStats(replay.stats || {}),
        this.renderSkipped(replay.skipped || { count: 0, messages: [] })].filter(Boolean)),
    ];
    this.results.replaceChildren(...parts.filter(Boolean));
    this.drawCurve();
    this.drawReuse();
  }

  currentPoint() {
    const { replay, capacity } = this.result;
    if (capacity === null) return null;
    return (replay.points || []).find((point) => !point.unlimited && point.capacity_tokens === capacity) || null;
  }

  renderMetrics(replay) {
    const list = element("dl", { className: "metric-list trace-metrics" });
    const row = (label, node) => list.append(element("div", { className: "metric-row" }, [element("dt", { text: label }), element("dd", {}, [node])]));
    const ceiling = replay.ceiling || {};
    row(tt("trace_metric_ceiling"), metric("trace.ceiling.token_hit_rate", ceiling.token_hit_rate, "percent"));
    row(tt("trace_metric_ceiling_request"), metric("trace.ceiling.request_hit_rate", ceiling.request_hit_rate, "percent"));
    const point = this.currentPoint();
    if (point) {
      row(tt("trace_metric_at_capacity", { capacity: tokens(point.capacity_tokens) }),
        metric("trace.current.token_hit_rate", point.token_hit_rate, "percent"));
      row(tt("trace_metric_request_at_capacity"), metric("trace.current.request_hit_rate", point.request_hit_rate, "percent"));
    }
    const { model, modelError } = this.result;
    if (model) {
      row(tt("trace_metric_gap_worst", { count: integer(model.points.length) }), metric("trace.gap.worst_points", model.worst_gap_points, "points"));
      row(tt("trace_metric_gap_median"), metric("trace.gap.median_points", model.median_gap_points, "points"));
    }
    const box = element("div", {}, [list]);
    if (!point) box.append(element("p", { className: "muted", text: tt("trace_no_capacity") }));
    if (modelError) box.append(element("p", { className: "form-error trace-model-error", text: tt("trace_model_failed", { message: modelError }) }));
    return box;
  }

  figure(titleKey, name) {
    const canvas = element("canvas", { attrs: { "data-chart": name, id: `chart-${name}` } });
    return element("figure", { className: "chart" }, [
      element("figcaption", { text: tt(titleKey) }),
      element("div", { className: "chart-box" }, [canvas]),
    ]);
  }

  canvas(name) {
    return this.results.querySelector(`canvas[data-chart="${name}"]`);
  }

  drawCurve() {
    const { replay, kvBytes, model } = this.result;
    const byGb = kvBytes !== null;
    const xOf = (row) => (byGb ? row.capacity_gb : row.capacity_tokens);
    const xy = (rows, key) => rows.map((row) => ({ x: xOf(row), y: row[key] }))
      .filter((p) => isNumber(p.x) && p.x > 0 && isNumber(p.y));
    const curve = replay.curve || [];
    const line = (label, data, color, extra = {}) => ({ label, data, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, ...extra });
    const datasets = [
      line(tt("trace_series_token"), xy(curve, "token_hit_rate"), COLORS.token),
      line(tt("trace_series_request"), xy(curve, "request_hit_rate"), COLORS.request, { borderWidth: 1.5 }),
    ];
    const xs = datasets[0].data.map((p) => p.x);
    const ceiling = replay.ceiling?.token_hit_rate;
    if (isNumber(ceiling) && xs.length) {
      datasets.push(line(tt("trace_series_ceiling"), [{ x: xs[0], y: ceiling }, { x: xs[xs.length - 1], y: ceiling }],
        COLORS.ceiling, { borderDash: [2, 3], borderWidth: 1.5 }));
    }
    if (model && model.points.length) {
      const drawn = model.points.filter((point) => isNumber(xOf(point.row)) && xOf(point.row) > 0 && isNumber(point.model));
      // role and capacities: what the tests read back (the capacities Python computed the model at).
      datasets.push(line(tt("trace_series_model"), drawn.map((point) => ({ x: xOf(point.row), y: point.model })), COLORS.model,
        { borderDash: [6, 4], pointRadius: 2, role: "model", capacities: drawn.map((point) => point.capacity_tokens) }));
    }
    const point = this.currentPoint();
    if (point && isNumber(xOf(point)) && xOf(point) > 0) {
      datasets.push({ type: "scatter", label: tt("trace_series_current"), data: [{ x: xOf(point), y: point.token_hit_rate }],
        borderColor: COLORS.current, backgroundColor: COLORS.current, pointRadius: 6, pointStyle: "crossRot", borderWidth: 2 });
    }
    const xTitle = byGb ? tt("trace_axis_gb", { bytes: integer(kvBytes) }) : tt("trace_axis_tokens");
    this.charts.push(new (chartLibrary())(this.canvas("trace-curve"), {
      type: "line",
      data: { datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: "nearest", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.parsed.y)} @ ${plain(item.parsed.x)}` } },
        },
        scales: {
          x: { type: "logarithmic", title: { display: true, text: xTitle }, ticks: { maxTicksLimit: 8, callback: (value) => plain(value) } },
          y: { min: 0, max: 1, title: { display: true, text: tt("trace_axis_hit_rate") }, ticks: { callback: (value) => percent(value, 0) } },
        },
      },
    }));
  }

  drawReuse() {
    const bins = this.result.replay.stats?.reuse_time_histogram || [];
    this.charts.push(new (chartLibrary())(this.canvas("trace-reuse"), {
      type: "bar",
      data: {
        labels: bins.map((bin) => bin.bin),
        datasets: [{ label: tt("trace_axis_share"), data: bins.map((bin) => (isNumber(bin.share) ? bin.share : null)), backgroundColor: COLORS.bars }],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => `${percent(item.raw)} (${tokens(bins[item.dataIndex]?.tokens)})` } },
        },
        scales: { y: { min: 0, title: { display: true, text: tt("trace_axis_share") }, ticks: { callback: (value) => percent(value, 0) } } },
      },
    }));
  }

  renderStats(stats) {
    const body = element("tbody");
    for (const [key, format] of STAT_FORMATS) {
      if (!(key in stats)) continue;
      body.append(element("tr", {}, [element("th", { text: tt(`stat_${key}`), attrs: { scope: "row" } }),
        element("td", {}, [metric(`trace.stats.${key}`, stats[key], format)])]));
    }
    const bins = stats.reuse_time_histogram || [];
    for (const bin of bins) {
      body.append(element("tr", { className: "trace-bin" }, [element("th", { text: `↻ ${bin.bin}`, attrs: { scope: "row" } }),
        element("td", {}, [metric(`trace.reuse.${bin.bin}`, bin.share, "percent")])]));
    }
    return element("section", { className: "trace-stats" }, [
      element("h3", { text: tt("trace_stats_title") }),
      element("table", { className: "trace-table" }, [body]),
    ]);
  }

  renderSkipped(skipped) {
    const box = element("section", { className: "trace-skipped", attrs: { id: "trace-skipped" } }, [
      element("h3", { text: tt("trace_skipped_title") }),
    ]);
    const count = metric("trace.skipped.count", skipped.count, "integer");
    if (!skipped.count) {
      count.hidden = true;
      box.append(element("p", { className: "muted", text: tt("trace_skipped_none") }), count);
      return box;
    }
    box.append(element("p", { text: tt("trace_skipped_count", { count: integer(skipped.count) }) }), count);
    box.append(element("ul", { className: "trace-skipped-list" },
      (skipped.messages || []).map((message) => element("li", { text: String(message) }))));
    return box;
  }

  renderFit() {
    const { fit, fitError } = this.result;
    const box = element("section", { className: "trace-fit", attrs: { id: "trace-fit" } }, [element("h3", { text: tt("trace_fit_title") })]);
    if (fitError) {
      box.append(element("p", { className: "form-error", text: tt("trace_fit_failed", { message: fitError }) }));
      return box;
    }
    if (!fit) return null;
    box.append(element("p", { className: "muted", text: tt("trace_fit_note") }));
    box.append(this.renderFitFields(fit));
    const workload = fit.workload && typeof fit.workload === "object" ? fit.workload : {};
    if (Array.isArray(workload.prefixes) && workload.prefixes.length) box.append(this.renderFitGroups(workload.prefixes));
    if (Array.isArray(workload.classes)) box.append(this.renderFitClasses(workload.classes));
    const button = element("button", { className: "primary", text: tt("trace_use_parameters"), attrs: { type: "button", id: "trace-use-parameters" } });
    const status = element("span", { className: "muted", text: this.result.used ? tt("trace_used") : "", attrs: { role: "status" } });
    button.addEventListener("click", () => {
      this.result.used = true;
      status.textContent = tt("trace_used");
      this.onUseScenario(structuredClone(fit));
    });
    box.append(element("div", { className: "form-actions" }, [button, status]),
      element("details", {}, [element("summary", { text: "JSON" }), element("pre", { className: "trace-fit-json", text: JSON.stringify(fit, null, 2) })]));
    return box;
  }

  /** The fit's cache fields and workload scalars (arrival rate; version-1 fields of an older fit), labelled from the schema. */
  renderFitFields(fit) {
    const body = element("tbody");
    for (const section of FIT_SCALAR_SECTIONS) {
      const values = fit[section];
      if (!values || typeof values !== "object") continue;
      for (const [key, value] of Object.entries(values)) {
        if (value !== null && typeof value === "object") continue;
        const path = `${section}.${key}`;
        const field = this.fields.get(path);
        const label = field ? fieldText(field, "label") : path;
        const unit = field?.unit ? ` (${field.unit})` : "";
        const shown = typeof value === "number" ? metric(`fit.${path}`, value, "plain") : choice(`fit.${path}`, value);
        body.append(element("tr", {}, [element("th", { text: `${label}${unit}`, attrs: { scope: "row" } }), element("td", {}, [shown])]));
      }
    }
    return element("table", { className: "trace-table" }, [body]);
  }

  trafficLabel(list, key) {
    const field = (this.traffic?.[list] || []).find((item) => item.path.split(".").pop() === key);
    return field ? fieldText(field, "label") : key;
  }

  /** Prefix groups: name, tokens, variants, Zipf exponent. */
  renderFitGroups(groups) {
    const keys = ["tokens", "count", "zipf"];
    const head = element("tr", {}, [element("th", { text: this.trafficLabel("group_fields", "name"), attrs: { scope: "col" } }),
      ...keys.map((key) => element("th", { text: this.trafficLabel("group_fields", key), attrs: { scope: "col" } }))]);
    const body = element("tbody");
    for (const group of groups) {
      const name = String(group?.name ?? "");
      body.append(element("tr", { attrs: { "data-group": name } }, [element("th", { text: name, attrs: { scope: "row" } }),
        ...keys.map((key) => element("td", {}, [key in (group || {}) ? metric(`fit.prefixes.${name}.${key}`, group[key], "plain")
          : element("span", { className: "muted", text: "—" })]))]));
    }
    return element("section", { className: "trace-fit-groups" }, [
      element("h4", { text: tt("trace_fit_groups") }),
      element("table", { className: "trace-table trace-fit-grid" }, [element("thead", {}, [head]), body]),
    ]);
  }

  /** Each class: share, the groups it starts with, one line per law, its follow-up weights. */
  renderFitClasses(classes) {
    const laws = this.traffic?.laws || [];
    const items = classes.map((item) => {
      const name = String(item?.name ?? "");
      const rows = element("tbody");
      const row = (label, node) => rows.append(element("tr", {}, [element("th", { text: label, attrs: { scope: "row" } }), element("td", {}, [node])]));
      const weightKey = "share" in (item || {}) ? "share" : "rate";
      row(weightKey === "share" ? this.trafficLabel("class_fields", "share") : tt("trace_fit_rate"),
        metric(`fit.classes.${name}.${weightKey}`, item?.[weightKey], "plain"));
      const prefix = Array.isArray(item?.prefix) ? item.prefix : typeof item?.prefix === "string" ? [item.prefix] : [];
      row(this.trafficLabel("class_fields", "prefix"), choice(`fit.classes.${name}.prefix`, prefix.length ? prefix.join(" → ") : "—"));
      for (const law of laws) {
        const key = law.path.split(".").pop();
        const value = item?.[key];
        const summary = value === undefined ? tt("trace_fit_default", { law: summarizeLaw(law.default, this.vocabulary) }) : summarizeLaw(value, this.vocabulary);
        const node = element("span", { className: "trace-law", text: summary,
          attrs: { "data-metric": `fit.classes.${name}.${key}`, "data-choice": value && typeof value === "object" ? String(value.dist) : value === undefined ? "default" : "fixed", "data-scope": "trace" } });
        row(`${fieldText(law, "label")}${law.unit ? ` (${law.unit})` : ""}`, node);
      }
      const followUps = item?.follow_ups && typeof item.follow_ups === "object" ? item.follow_ups : null;
      const kinds = this.traffic?.follow_ups || [];
      const followText = followUps
        ? Object.entries(followUps).map(([kind, weight]) => `${fieldText(kinds.find((k) => k.kind === kind) || { label_en: kind }, "label")} ${plain(weight)}`).join(", ")
        : tt("trace_fit_follow_ups_default");
      row(tt("trace_fit_follow_ups"), element("span", { text: followText, attrs: { "data-metric": `fit.classes.${name}.follow_ups`, "data-choice": followText, "data-scope": "trace" } }));
      return element("div", { className: "trace-fit-class", attrs: { "data-class": name } }, [
        element("h5", { text: name }), element("table", { className: "trace-table" }, [rows])]);
    });
    return element("section", { className: "trace-fit-classes" }, [element("h4", { text: tt("trace_fit_classes", { count: integer(classes.length) }) }), ...items]);
  }
}

/** Build the panel inside `container` (index.html's #trace-panel). */
export function initTracePanel(container, options) {
  if (!container) return null;
  return new TracePanel(container, options);
}
