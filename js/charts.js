// Charts drawn with Chart.js (UMD build, global `Chart`), animation off. They draw the numbers
// of one `analyze` result (and of a finished simulation); nothing here computes a value that is
// shown, except the ends of a simulated rate's interval bar (rate ± Python's half-width).

import { t, language } from "./i18n.js";
import { percent, plain } from "./format.js";
import { hasSimulatedColumns } from "./routing.js";

const COLORS = {
  token: "#1f6feb",
  request: "#d9480f",
  seed: "#868e96",
  ceiling: "#2b8a3e",
  current: "#000000",
  low: "#74c0fc",
  high: "#1c7ed6",
  simToken: "#5f3dc4",
  simRequest: "#a61e4d",
  overloaded: "#ced4da",
};

function chartLibrary() {
  const library = globalThis.Chart;
  if (!library) throw new Error("Chart.js did not load");
  return library;
}

function baseOptions(xTitle, { xType = "linear" } = {}) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: "nearest", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { boxWidth: 12 } },
      tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.parsed.y)}`
        + (item.raw?.overloaded ? ` (${t("overloaded_point")})` : "") } },
    },
    scales: {
      x: { type: xType, title: { display: Boolean(xTitle), text: xTitle } },
      y: { min: 0, max: 1, title: { display: true, text: t("axis_hit_rate") },
        ticks: { callback: (value) => percent(value, 0) } },
    },
  };
}

const finiteOrNull = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);

function points(rows, xKey, yKey) {
  return rows.map((row) => ({ x: finiteOrNull(row[xKey]), y: finiteOrNull(row[yKey]), overloaded: row.overloaded === true }))
    .filter((point) => point.x !== null && point.y !== null);
}

/** Dashed where either end of a segment is a point at which a replica cannot keep up (Python's `overloaded`). */
const OVERLOAD_SEGMENT = {
  borderDash: (context) => {
    const data = context.chart.data.datasets[context.datasetIndex].data;
    return data[context.p0DataIndex]?.overloaded || data[context.p1DataIndex]?.overloaded ? [5, 4] : undefined;
  },
};

const anyOverloaded = (rows) => rows.some((row) => row.overloaded === true);

function lineDataset(label, data, color, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, ...extra };
}

/** Log scale when the x values span more than two decades and are all positive. */
function axisTypeFor(values) {
  const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (!finite.length || finite.some((v) => v <= 0)) return "linear";
  return Math.max(...finite) / Math.min(...finite) > 100 ? "logarithmic" : "linear";
}

/**
 * A simulated rate at the current x as a point, and its 95% interval as a vertical bar with caps
 * (a two-point line from rate − half-width to rate + half-width), drawn over the other series.
 * `role` names them for tests.
 */
function simulatedDatasets(x, simulation) {
  const datasets = [];
  for (const [key, color, label, role] of [
    ["token_hit_rate", COLORS.simToken, "series_sim_token", "simulated-token"],
    ["request_hit_rate", COLORS.simRequest, "series_sim_request", "simulated-request"],
  ]) {
    const y = finiteOrNull(simulation[key]);
    if (y === null) continue;
    datasets.push({ type: "scatter", label: t(label), data: [{ x, y }], borderColor: color, backgroundColor: color,
      pointRadius: 6, pointStyle: "rectRot", order: -1, role });
    const halfWidth = finiteOrNull(simulation[`${key}_ci`]);
    if (halfWidth !== null) {
      datasets.push(lineDataset(t("series_sim_interval"), [{ x, y: y - halfWidth }, { x, y: y + halfWidth }], color,
        { pointRadius: 6, pointStyle: "line", pointBorderWidth: 2, order: -1, role: `${role}-interval`, hideInLegend: true }));
    }
  }
  return datasets;
}

/**
 * Chart.js plugin: 95% interval whiskers on bars. A dataset's `intervals[i]` is Python's
 * half-width for bar i (null: none); the whisker spans value ± half-width, drawn with the scale.
 */
const intervalWhiskers = {
  id: "intervalWhiskers",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const scale = chart.scales.y;
    chart.data.datasets.forEach((dataset, datasetIndex) => {
      const intervals = dataset.intervals;
      if (!Array.isArray(intervals) || !chart.isDatasetVisible(datasetIndex)) return;
      chart.getDatasetMeta(datasetIndex).data.forEach((bar, index) => {
        const value = finiteOrNull(dataset.data[index]);
        const halfWidth = finiteOrNull(intervals[index]);
        if (value === null || halfWidth === null) return;
        const low = scale.getPixelForValue(value - halfWidth);
        const high = scale.getPixelForValue(value + halfWidth);
        const cap = Math.min(8, (bar.width || 16) / 3);
        ctx.save();
        ctx.strokeStyle = COLORS.current;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(bar.x, low);
        ctx.lineTo(bar.x, high);
        ctx.moveTo(bar.x - cap, low);
        ctx.lineTo(bar.x + cap, low);
        ctx.moveTo(bar.x - cap, high);
        ctx.lineTo(bar.x + cap, high);
        ctx.stroke();
        ctx.restore();
      });
    });
  },
};

export class ChartPanel {
  constructor({ memoryCanvas, sweepsContainer, tornadoCanvas, tierCanvas, routingCanvas, overloadNote = null,
    onPng = () => {} }) {
    this.onPng = onPng;
    this.overloadNote = overloadNote;
    this.memoryCanvas = memoryCanvas;
    this.sweepsContainer = sweepsContainer;
    this.tornadoCanvas = tornadoCanvas;
    this.tierCanvas = tierCanvas;
    this.routingCanvas = routingCanvas;
    this.charts = new Map(); // name -> Chart
  }

  /** Remove a chart that has nothing to draw (its figure is hidden by the caller). */
  dropChart(name) {
    this.charts.get(name)?.destroy();
    this.charts.delete(name);
  }

  /** Every chart as [name, canvas] for PNG export. */
  canvases() {
    return [...this.charts.entries()].map(([name, chart]) => [name, chart.canvas]);
  }

  /** Create the chart, or update it in place (much cheaper than rebuilding on every edit). */
  replaceChart(name, canvas, config) {
    const existing = this.charts.get(name);
    if (existing && existing.canvas === canvas && existing.config.type === config.type) {
      existing.data = config.data;
      existing.options = config.options;
      existing.update("none");
      return existing;
    }
    existing?.destroy();
    const chart = new (chartLibrary())(canvas, config);
    this.charts.set(name, chart);
    return chart;
  }

  /** `simulation`: a finished simulation of the same scenario (drawn on the memory chart) or null. */
  draw(analysis, { simulation = null } = {}) {
    this.drawMemoryCurve(analysis, simulation);
    this.drawSweeps(analysis.sweeps || []);
    if (this.overloadNote) {
      const rows = [...(analysis.memory_curve?.points || []), ...(analysis.sweeps || []).flatMap((sweep) => sweep.points || [])];
      const swings = analysis.tornado?.bars || [];
      this.overloadNote.hidden = !anyOverloaded(rows) && !swings.some((bar) => bar.low_overloaded || bar.high_overloaded);
    }
    this.drawTornado(analysis.tornado);
    if (this.tierCanvas) this.drawTierCurve(analysis.tier_curve);
  }

  /**
   * Hit rates against the size of the first tier below the GPU (a CPU tier when there is none):
   * the total token and request hit rates, the GPU's share, and this scenario's point.
   */
  drawTierCurve(curve) {
    const rows = curve.points || [];
    const datasets = [
      lineDataset(t("series_token"), points(rows, "x", "token_hit_rate"), COLORS.token),
      lineDataset(t("series_request"), points(rows, "x", "request_hit_rate"), COLORS.request),
      lineDataset(t("series_gpu_token"), points(rows, "x", "gpu_token_hit_rate"), COLORS.seed, { borderDash: [6, 4] }),
    ];
    const current = curve.current || {};
    const currentX = finiteOrNull(current.x);
    if (currentX !== null && finiteOrNull(current.token_hit_rate) !== null) {
      datasets.push({ type: "scatter", label: t("series_current"), data: [{ x: currentX, y: current.token_hit_rate }],
        borderColor: COLORS.current, backgroundColor: COLORS.current, pointRadius: 5, pointStyle: "circle", role: "current" });
    }
    const byGb = curve.x_unit === "GB";
    const options = baseOptions(t(byGb ? "axis_tier_gb" : "axis_tier_tokens", { tier: String(curve.tier ?? "") }));
    options.scales.x.ticks = { maxTicksLimit: 8, callback: (value) => plain(value) };
    this.replaceChart("tier", this.tierCanvas, { type: "line", data: { datasets }, options });
  }

  /**
   * A routing comparison's rows as grouped bars: the model's token and request hit rate per
   * routing, and, when the comparison was simulated, the simulated ones with Python's 95%
   * half-widths (`simulated_*_ci`) as whiskers.
   */
  drawRouting(comparison) {
    const rows = comparison.rows || [];
    const labels = rows.map((row) => t(`routing_${row.routing}`));
    const bars = (key, color, label) => ({
      label: t(label), data: rows.map((row) => finiteOrNull(row[key])), backgroundColor: color,
      intervals: rows.map((row) => finiteOrNull(row[`${key}_ci`])), role: key,
    });
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw)}` } },
      },
      scales: {
        y: { min: 0, max: 1, title: { display: true, text: t("axis_hit_rate") }, ticks: { callback: (value) => percent(value, 0) } },
      },
    };
    const datasets = [bars("token_hit_rate", COLORS.token, "series_token"), bars("request_hit_rate", COLORS.request, "series_request")];
    if (hasSimulatedColumns(rows)) {
      datasets.push(bars("simulated_token_hit_rate", COLORS.simToken, "series_sim_token"),
        bars("simulated_request_hit_rate", COLORS.simRequest, "series_sim_request"));
    }
    this.replaceChart("routing", this.routingCanvas, {
      type: "bar",
      data: { labels, datasets },
      options,
      plugins: [intervalWhiskers],
    });
  }

  /** Hit rates against memory per GPU (or against cache tokens when the capacity is given). */
  drawMemoryCurve(analysis, simulation = null) {
    const curve = analysis.memory_curve;
    const rows = curve.points || [];
    const xs = points(rows, "x", "token_hit_rate").map((p) => p.x);
    const ceiling = finiteOrNull(analysis.predict?.ceiling_token_hit_rate);
    const datasets = [
      lineDataset(t("series_token"), points(rows, "x", "token_hit_rate"), COLORS.token, { segment: OVERLOAD_SEGMENT }),
      lineDataset(t("series_request"), points(rows, "x", "request_hit_rate"), COLORS.request, { segment: OVERLOAD_SEGMENT }),
      lineDataset(t("series_seed"), points(rows, "x", "seed_formula_hit_rate"), COLORS.seed, { borderDash: [6, 4] }),
    ];
    if (ceiling !== null && xs.length) {
      datasets.push(lineDataset(t("series_ceiling"), [{ x: Math.min(...xs), y: ceiling }, { x: Math.max(...xs), y: ceiling }],
        COLORS.ceiling, { borderDash: [2, 3], borderWidth: 1.5 }));
    }
    const current = curve.current || {};
    const currentX = finiteOrNull(current.x);
    if (currentX !== null && finiteOrNull(current.token_hit_rate) !== null) {
      datasets.push({ type: "scatter", label: t("series_current"), data: [{ x: currentX, y: current.token_hit_rate }],
        borderColor: COLORS.current, backgroundColor: COLORS.current, pointRadius: 5, pointStyle: "circle" });
    }
    if (currentX !== null && simulation) datasets.push(...simulatedDatasets(currentX, simulation));
    const byTokens = curve.x_path === "cache.capacity_tokens";
    const options = baseOptions(t(byTokens ? "axis_capacity" : "axis_memory"), { xType: axisTypeFor(xs) });
    options.scales.x.ticks = { maxTicksLimit: 8, callback: (value) => plain(value) };
    options.plugins.legend.labels.filter = (item, data) => !data.datasets[item.datasetIndex]?.hideInLegend;
    options.plugins.legend.labels.sort = (a, b) => a.datasetIndex - b.datasetIndex; // not by `order`
    this.replaceChart("memory", this.memoryCanvas, { type: "line", data: { datasets }, options });
  }

  /** One small chart per sweep; the figures are rebuilt only when the set of sweeps changes. */
  drawSweeps(sweeps) {
    const key = sweeps.map((sweep) => sweep.path).join("|") + "|" + language();
    if (key !== this.sweepsKey) {
      for (const name of [...this.charts.keys()]) {
        if (name.startsWith("sweep:")) {
          this.charts.get(name).destroy();
          this.charts.delete(name);
        }
      }
      this.sweepsContainer.replaceChildren(...sweeps.map((sweep) => this.sweepFigure(sweep)));
      this.sweepsKey = key;
    }
    sweeps.forEach((sweep, index) => {
      const canvas = this.sweepsContainer.children[index].querySelector("canvas");
      const rows = sweep.points || [];
      const options = baseOptions("", { xType: axisTypeFor(rows.map((row) => row.value)) });
      options.plugins.legend.display = false;
      options.scales.x.ticks = { maxTicksLimit: 5, callback: (value) => plain(value) };
      this.replaceChart(`sweep:${sweep.path}`, canvas, {
        type: "line",
        data: { datasets: [
          lineDataset(t("series_token"), points(rows, "value", "token_hit_rate"), COLORS.token, { segment: OVERLOAD_SEGMENT }),
          lineDataset(t("series_request"), points(rows, "value", "request_hit_rate"), COLORS.request, { segment: OVERLOAD_SEGMENT }),
        ] },
        options,
      });
    });
  }

  sweepFigure(sweep) {
    const figure = document.createElement("figure");
    figure.className = "sweep";
    const caption = document.createElement("figcaption");
    caption.textContent = sweep[`label_${language()}`] || sweep.label_en || sweep.path;
    const pngButton = document.createElement("button");
    pngButton.type = "button";
    pngButton.className = "png";
    pngButton.textContent = t("download_png");
    caption.append(" ", pngButton);
    const holder = document.createElement("div");
    holder.className = "chart-box small";
    const canvas = document.createElement("canvas");
    canvas.dataset.chart = `sweep:${sweep.path}`;
    holder.append(canvas);
    figure.append(caption, holder);
    pngButton.addEventListener("click", () => this.onPng(`sweep-${sweep.path}`, canvas));
    return figure;
  }

  drawTornado(tornado) {
    const bars = (tornado && tornado.bars) || [];
    const base = finiteOrNull(tornado?.base);
    const labels = bars.map((bar) => bar[`label_${language()}`] || bar.label_en || bar.path);
    const span = (value) => (base !== null && finiteOrNull(value) !== null ? [base, value] : null);
    this.replaceChart("tornado", this.tornadoCanvas, {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: t("series_low"), data: bars.map((bar) => span(bar.low_token_hit_rate)), grouped: false,
            backgroundColor: bars.map((bar) => (bar.low_overloaded ? COLORS.overloaded : COLORS.low)),
            overloaded: bars.map((bar) => bar.low_overloaded === true) },
          { label: t("series_high"), data: bars.map((bar) => span(bar.high_token_hit_rate)), grouped: false,
            backgroundColor: bars.map((bar) => (bar.high_overloaded ? COLORS.overloaded : COLORS.high)),
            overloaded: bars.map((bar) => bar.high_overloaded === true) },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: "y",
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12,
            // the swatch shows the series colour, not the first bar's (grey when that bar is overloaded)
            generateLabels: (chart) => chartLibrary().defaults.plugins.legend.labels.generateLabels(chart)
              .map((item) => ({ ...item, fillStyle: [COLORS.low, COLORS.high][item.datasetIndex] ?? item.fillStyle })) } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw?.[1])}`
            + (item.dataset.overloaded?.[item.dataIndex] ? ` (${t("overloaded_point")})` : "") } },
        },
        scales: {
          x: { title: { display: true, text: t("series_token") }, ticks: { callback: (value) => percent(value, 1) } },
        },
      },
    });
  }
}
