// Charts drawn with Chart.js (UMD build, global `Chart`), animation off. They draw the numbers
// of one `analyze` result (and of a finished simulation, and of a baseline analysis to compare
// with); nothing here computes a value that is shown, except the ends of a simulated rate's
// interval bar (rate ± Python's half-width). Every chart names its series in a legend, titles its
// axes with units and marks the scenario's own value (and the baseline's) from Python's result.

import { t, language, applyStaticStrings } from "./i18n.js";
import { ct } from "./charts-i18n.js";
import { unitText } from "./units-i18n.js";
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
  baselineToken: "#8da4c4",
  baselineRequest: "#c9a493",
  baselineLow: "rgba(134, 142, 150, 0.45)",
  baselineHigh: "rgba(73, 80, 87, 0.55)",
  baseline: "#868e96",
};

const BASELINE_DASH = [6, 4];
const MARKER_STYLE = {
  current: { color: COLORS.current, dash: [5, 3], width: 1.5 },
  baseline: { color: COLORS.baseline, dash: [2, 3], width: 1.5 },
};

// PNG exports: drawn again off screen at a fixed size, twice the pixels, with the title on the canvas.
const EXPORT_SIZE = { large: { width: 960, height: 560 }, small: { width: 640, height: 420 } };
const EXPORT_SCALE = 2;
const SWEEP_GRID_COLUMNS = 2;

function chartLibrary() {
  const library = globalThis.Chart;
  if (!library) throw new Error("Chart.js did not load");
  return library;
}

const finiteOrNull = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** Tick text: grouped digits ("4,096"); on a log axis only 1, 2 and 5 times a power of ten, so labels do not collide. */
function tickText(value, logarithmic) {
  if (logarithmic && value > 0) {
    const lead = Math.round(value / 10 ** Math.floor(Math.log10(value) + 1e-9));
    if (![1, 2, 5].includes(lead)) return "";
  }
  return plain(value);
}

/** A line chart's x axis: title, type and tick labels. */
function xAxis(title, xType, maxTicksLimit) {
  const logarithmic = xType === "logarithmic";
  return { type: xType, title: { display: Boolean(title), text: title },
    ticks: { maxTicksLimit, autoSkip: true, maxRotation: 0, callback: (value) => tickText(value, logarithmic) } };
}

const percentAxis = (title) => ({ min: 0, max: 1, title: { display: true, text: title },
  ticks: { callback: (value) => percent(value, 0) } });

/**
 * Legend entries: each dataset (minus the ones marked hideInLegend) in dataset order, then one
 * entry per marker in `chart.data.markers`; a marker entry's click does nothing (it is no dataset).
 */
function legendOptions({ small = false } = {}) {
  const library = chartLibrary();
  const defaults = library.defaults.plugins.legend;
  return {
    display: true,
    position: "bottom",
    labels: {
      boxWidth: small ? 10 : 12,
      ...(small ? { font: { size: 10 } } : {}),
      generateLabels: (chart) => {
        const items = defaults.labels.generateLabels(chart)
          .filter((item) => !chart.data.datasets[item.datasetIndex]?.hideInLegend)
          .sort((a, b) => a.datasetIndex - b.datasetIndex) // dataset order, not draw `order`
          .map((item) => ({ ...item, fillStyle: chart.data.datasets[item.datasetIndex]?.legendColor ?? item.fillStyle }));
        for (const marker of chart.data.markers || []) {
          const style = MARKER_STYLE[marker.kind];
          items.push({ text: marker.legend, fillStyle: "rgba(0, 0, 0, 0)", strokeStyle: style.color, lineWidth: style.width,
            lineDash: style.dash, hidden: false, marker: true, fontColor: library.defaults.color });
        }
        return items;
      },
    },
    onClick: (event, item, legend) => {
      if (!item.marker) defaults.onClick.call(legend, event, item, legend);
    },
  };
}

/**
 * Chart.js plugin: the scenario's value (and the baseline's) from `chart.data.markers`. A marker
 * with `x` is a dashed vertical line at that value of the x scale, labelled with `text` at its top;
 * one with `category` (an index on a category x axis) is a dashed frame around that category.
 */
const scenarioMarkers = {
  id: "scenarioMarkers",
  afterDatasetsDraw(chart) {
    const { ctx, chartArea } = chart;
    const scale = chart.scales.x;
    if (!scale || !chartArea) return;
    const fontSize = markerFontSize(chart.height);
    (chart.data.markers || []).forEach((marker, index) => {
      const style = MARKER_STYLE[marker.kind];
      ctx.save();
      ctx.strokeStyle = style.color;
      ctx.lineWidth = style.width;
      ctx.setLineDash(style.dash);
      if (marker.category !== null) {
        const count = Math.max(1, scale.ticks.length);
        const half = (chartArea.right - chartArea.left) / count / 2 - 2 - 3 * index;
        const center = scale.getPixelForValue(marker.category);
        ctx.strokeRect(center - half, chartArea.top + 1 + 3 * index, 2 * half, chartArea.bottom - chartArea.top - 2 - 6 * index);
      } else {
        const pixel = scale.getPixelForValue(marker.x);
        if (Number.isFinite(pixel) && pixel >= chartArea.left - 0.5 && pixel <= chartArea.right + 0.5) {
          ctx.beginPath();
          ctx.moveTo(pixel, chartArea.top);
          ctx.lineTo(pixel, chartArea.bottom);
          ctx.stroke();
          if (marker.text) {
            const onLeft = pixel > (chartArea.left + chartArea.right) / 2;
            ctx.setLineDash([]);
            ctx.fillStyle = style.color;
            ctx.font = `${fontSize}px ${chartLibrary().defaults.font.family}`;
            ctx.textAlign = onLeft ? "right" : "left";
            ctx.textBaseline = "bottom";
            // above the plot, in the room markerPadding keeps: one row per marker
            ctx.fillText(marker.text, pixel + (onLeft ? -4 : 4), chartArea.top - 2 - index * (fontSize + 3));
          }
        }
      }
      ctx.restore();
    });
  },
};

const markerFontSize = (height) => (height < 300 ? 10 : 11);

/** Room above the plot for the markers' value labels (one row each). */
function markerPadding(markers, height) {
  const rows = markers.filter((marker) => marker && marker.text).length;
  return rows * (markerFontSize(height) + 3) + (rows ? 2 : 0);
}

/** A marker at value `x` of the x axis (null when Python gave none). */
function valueMarker(kind, x, text, legend) {
  const value = finiteOrNull(x);
  return value === null ? null : { kind, x: value, category: null, text, legend };
}

function lineOptions(xTitle, xType, markers, { small = false, yTitle = ct("chart_axis_hit_rate") } = {}) {
  return {
    layout: { padding: { top: markerPadding(markers, small ? 250 : 320) } },
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: "nearest", intersect: false },
    plugins: {
      legend: legendOptions({ small }),
      title: { display: false },
      tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.parsed.y)}`
        + (item.raw?.overloaded ? ` (${t("overloaded_point")})` : "") } },
    },
    scales: { x: xAxis(xTitle, xType, small ? 5 : 8), y: percentAxis(yTitle) },
  };
}

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

/** The baseline's token and request lines: dashed, muted, named "Baseline: …". */
function baselineLines(rows, xKey) {
  return [
    lineDataset(ct("chart_series_baseline", { series: t("series_token") }), points(rows, xKey, "token_hit_rate"),
      COLORS.baselineToken, { borderDash: BASELINE_DASH, role: "baseline-token" }),
    lineDataset(ct("chart_series_baseline", { series: t("series_request") }), points(rows, xKey, "request_hit_rate"),
      COLORS.baselineRequest, { borderDash: BASELINE_DASH, role: "baseline-request" }),
  ];
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

/** The point of a curve's `current` (Python's value for this scenario), or null. */
function currentPoint(current, label, color, extra = {}) {
  const x = finiteOrNull(current?.x);
  const y = finiteOrNull(current?.token_hit_rate);
  if (x === null || y === null) return null;
  return { type: "scatter", label, data: [{ x, y }], borderColor: color, backgroundColor: color, pointRadius: 5,
    pointStyle: "circle", ...extra };
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

/** A file-name stem in ASCII: lower case words joined by "-". */
const slug = (text) => String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");

/** The chart on `canvas` drawn anew for export, or null when `canvas` holds no chart of a ChartPanel. */
const exportSpecs = new WeakMap(); // canvas -> { build, title, stem, size }

/** Fill `target` white and draw `source` on it (a PNG of a chart is opaque, like a printed figure). */
function onWhite(source) {
  const target = document.createElement("canvas");
  target.width = source.width;
  target.height = source.height;
  const context = target.getContext("2d");
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, target.width, target.height);
  context.drawImage(source, 0, 0);
  return target;
}

/** The export look: fixed size, twice the pixels, the title drawn on the canvas, the legend shown. */
function exportConfig(config, title) {
  const options = config.options;
  return {
    ...config,
    options: {
      ...options,
      responsive: false,
      maintainAspectRatio: false,
      animation: false,
      devicePixelRatio: EXPORT_SCALE,
      layout: { padding: 12 },
      plugins: {
        ...options.plugins,
        legend: { ...options.plugins.legend, display: true },
        // the room kept above the plot for the markers' labels goes below the title
        title: { display: true, text: title, color: "#000000", font: { size: 16, weight: "bold" },
          padding: { top: 0, bottom: 10 + (options.layout?.padding?.top ?? 0) } },
      },
    },
  };
}

/**
 * The chart on `canvas` as an image for a PNG file: drawn again off screen with its title, axis
 * titles, legend and markers, on white. Returns { canvas, stem } or null for a canvas no ChartPanel drew.
 */
export function chartImage(canvas) {
  const spec = exportSpecs.get(canvas);
  if (!spec) return null;
  const drawing = document.createElement("canvas");
  drawing.width = spec.size.width;
  drawing.height = spec.size.height;
  const chart = new (chartLibrary())(drawing, exportConfig(spec.build(), spec.title));
  try {
    return { canvas: onWhite(drawing), stem: spec.stem };
  } finally {
    chart.destroy();
  }
}

export class ChartPanel {
  constructor({ memoryCanvas, sweepsContainer, tornadoCanvas, tierCanvas, routingCanvas, overloadNote = null,
    memoryCaption = null, onPng = () => {} }) {
    this.onPng = onPng;
    this.memoryCaption = memoryCaption; // the figure's caption: memory per GPU, or cache tokens when given
    this.overloadNote = overloadNote;
    this.memoryCanvas = memoryCanvas;
    this.sweepsContainer = sweepsContainer;
    this.tornadoCanvas = tornadoCanvas;
    this.tierCanvas = tierCanvas;
    this.routingCanvas = routingCanvas;
    this.charts = new Map(); // name -> Chart
    this.sweepsPngButton = sweepsContainer?.closest("figure")?.querySelector("button[data-png-all='sweeps']") ?? null;
    this.sweepsPngButton?.addEventListener("click", () => {
      const image = this.sweepsImage();
      if (image) this.onPng(image.stem, image.canvas);
    });
  }

  /** Remove a chart that has nothing to draw (its figure is hidden by the caller). */
  dropChart(name) {
    const chart = this.charts.get(name);
    if (chart) exportSpecs.delete(chart.canvas);
    chart?.destroy();
    this.charts.delete(name);
  }

  /** Every chart as [name, canvas] for PNG export. */
  canvases() {
    return [...this.charts.entries()].map(([name, chart]) => [name, chart.canvas]);
  }

  /**
   * Create the chart from `build()` (a fresh config each call: the export draws it again), or
   * update it in place (much cheaper than rebuilding on every edit). `title` and `stem` name it
   * in its PNG; `size` is "large" or "small".
   */
  replaceChart(name, canvas, build, { title, stem, size = "large" }) {
    const config = build();
    config.plugins = [...(config.plugins || []), scenarioMarkers];
    const withPlugins = () => {
      const fresh = build();
      return { ...fresh, plugins: [...(fresh.plugins || []), scenarioMarkers] };
    };
    exportSpecs.set(canvas, { build: withPlugins, title, stem, size: EXPORT_SIZE[size] });
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

  /**
   * `simulation`: a finished simulation of the same scenario (drawn on the memory chart) or null;
   * `baseline`: another analysis result to compare with (its series dashed and muted) or null.
   */
  draw(analysis, { simulation = null, baseline = null } = {}) {
    this.drawMemoryCurve(analysis, simulation, baseline);
    this.drawSweeps(analysis.sweeps || [], baseline?.sweeps || null);
    if (this.overloadNote) {
      const rows = [...(analysis.memory_curve?.points || []), ...(analysis.sweeps || []).flatMap((sweep) => sweep.points || [])];
      const swings = analysis.tornado?.bars || [];
      this.overloadNote.hidden = !anyOverloaded(rows) && !swings.some((bar) => bar.low_overloaded || bar.high_overloaded);
    }
    this.drawTornado(analysis.tornado, baseline?.tornado || null);
    if (this.tierCanvas && analysis.tier_curve) this.drawTierCurve(analysis.tier_curve, baseline?.tier_curve || null);
    if (this.sweepsPngButton) {
      applyStaticStrings(this.sweepsPngButton.parentElement, ct, "charts-i18n");
      this.sweepsPngButton.title = ct("chart_png_all_title");
      this.sweepsPngButton.hidden = !(analysis.sweeps || []).length;
    }
  }

  /**
   * Hit rates against the size of the first tier below the GPU (a CPU tier when there is none):
   * the total token and request hit rates, the GPU's share, and this scenario's point. `baseline`:
   * another tier curve in the same unit, drawn dashed.
   */
  drawTierCurve(curve, baseline = null) {
    const comparable = baseline && baseline.x_unit === curve.x_unit ? baseline : null;
    const tierName = String(curve.tier ?? "");
    const byGb = curve.x_unit === "GB";
    const markerText = (x) => `${plain(x)} ${unitText(byGb ? "GB" : "tokens")}`;
    const build = () => {
      const rows = curve.points || [];
      const datasets = [
        lineDataset(t("series_token"), points(rows, "x", "token_hit_rate"), COLORS.token),
        lineDataset(t("series_request"), points(rows, "x", "request_hit_rate"), COLORS.request),
        lineDataset(t("series_gpu_token"), points(rows, "x", "gpu_token_hit_rate"), COLORS.seed, { borderDash: [6, 4] }),
      ];
      const here = currentPoint(curve.current, ct("chart_marker_current"), COLORS.current, { role: "current", hideInLegend: true });
      if (here) datasets.push(here);
      const markers = [valueMarker("current", curve.current?.x, markerText(curve.current?.x), ct("chart_marker_current"))];
      if (comparable) {
        datasets.push(...baselineLines(comparable.points || [], "x"));
        const there = currentPoint(comparable.current, ct("chart_marker_baseline"), COLORS.baseline, { role: "baseline-current", hideInLegend: true });
        if (there) datasets.push(there);
        markers.push(valueMarker("baseline", comparable.current?.x, markerText(comparable.current?.x), ct("chart_marker_baseline")));
      }
      const xTitle = ct(byGb ? "chart_axis_tier_gb" : "chart_axis_tier_tokens", { tier: tierName });
      return { type: "line", data: { datasets, markers: markers.filter(Boolean) }, options: lineOptions(xTitle, "linear", markers) };
    };
    this.replaceChart("tier", this.tierCanvas, build, { title: withBaselineTitle(ct("chart_title_tier", { tier: tierName }), comparable),
      stem: `hit-rate-vs-${slug(tierName) || "tier"}-tier-size${comparable ? "-vs-baseline" : ""}` });
  }

  /**
   * A routing comparison's rows as grouped bars: the model's token and request hit rate per
   * routing, and, when the comparison was simulated, the simulated ones with Python's 95%
   * half-widths (`simulated_*_ci`) as whiskers. The scenario's routing (Python's `current`) is
   * framed; `baseline`: another comparison, its bars muted and its routing framed in grey.
   */
  drawRouting(comparison, baseline = null) {
    const build = () => {
      const rows = comparison.rows || [];
      const routings = rows.map((row) => row.routing);
      const labels = routings.map((routing) => t(`routing_${routing}`));
      const bars = (key, color, label) => ({
        label: t(label), data: rows.map((row) => finiteOrNull(row[key])), backgroundColor: color,
        intervals: rows.map((row) => finiteOrNull(row[`${key}_ci`])), role: key,
      });
      const datasets = [bars("token_hit_rate", COLORS.token, "series_token"), bars("request_hit_rate", COLORS.request, "series_request")];
      if (hasSimulatedColumns(rows)) {
        datasets.push(bars("simulated_token_hit_rate", COLORS.simToken, "series_sim_token"),
          bars("simulated_request_hit_rate", COLORS.simRequest, "series_sim_request"));
      }
      const markers = [];
      const currentIndex = routings.indexOf(comparison.current);
      if (currentIndex >= 0) markers.push({ kind: "current", x: null, category: currentIndex, text: "", legend: ct("chart_marker_current_routing") });
      if (baseline) {
        const byRouting = new Map((baseline.rows || []).map((row) => [row.routing, row]));
        for (const [key, color, series] of [["token_hit_rate", COLORS.baselineToken, "series_token"],
          ["request_hit_rate", COLORS.baselineRequest, "series_request"]]) {
          datasets.push({ label: ct("chart_series_baseline", { series: t(series) }), role: `baseline-${key}`,
            data: routings.map((routing) => finiteOrNull(byRouting.get(routing)?.[key])),
            backgroundColor: color, borderColor: COLORS.baseline, borderWidth: 1 });
        }
        const baselineIndex = routings.indexOf(baseline.current);
        if (baselineIndex >= 0) markers.push({ kind: "baseline", x: null, category: baselineIndex, text: "", legend: ct("chart_marker_baseline_routing") });
      }
      return {
        type: "bar",
        data: { labels, datasets, markers },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: {
            legend: legendOptions(),
            title: { display: false },
            tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw)}` } },
          },
          scales: {
            x: { title: { display: true, text: ct("chart_axis_routing") } },
            y: percentAxis(ct("chart_axis_hit_rate")),
          },
        },
        plugins: [intervalWhiskers],
      };
    };
    this.replaceChart("routing", this.routingCanvas, build, { title: withBaselineTitle(ct("chart_title_routing"), baseline),
      stem: `hit-rate-by-routing${baseline ? "-vs-baseline" : ""}` });
  }

  /** Hit rates against memory per GPU (or against cache tokens when the capacity is given). */
  drawMemoryCurve(analysis, simulation = null, baseline = null) {
    const curve = analysis.memory_curve;
    if (!curve) return;
    const comparable = baseline?.memory_curve?.x_path === curve.x_path ? baseline : null;
    const byTokens = curve.x_path === "cache.capacity_tokens";
    const markerText = (x) => `${plain(x)} ${unitText(byTokens ? "tokens" : "GiB")}`;
    const build = () => {
      const rows = curve.points || [];
      const baselineRows = comparable?.memory_curve.points || [];
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
      const here = currentPoint(curve.current, t("series_current"), COLORS.current, { hideInLegend: true });
      if (here) datasets.push(here);
      const currentX = finiteOrNull(curve.current?.x);
      if (currentX !== null && simulation) datasets.push(...simulatedDatasets(currentX, simulation));
      const markers = [valueMarker("current", currentX, markerText(currentX), ct("chart_marker_current"))];
      if (comparable) {
        datasets.push(...baselineLines(baselineRows, "x"));
        const there = currentPoint(comparable.memory_curve.current, ct("chart_marker_baseline"), COLORS.baseline,
          { role: "baseline-current", hideInLegend: true });
        if (there) datasets.push(there);
        const baselineX = comparable.memory_curve.current?.x;
        markers.push(valueMarker("baseline", baselineX, markerText(baselineX), ct("chart_marker_baseline")));
      }
      const xType = axisTypeFor([...xs, ...points(baselineRows, "x", "token_hit_rate").map((p) => p.x)]);
      const options = lineOptions(ct(byTokens ? "chart_axis_capacity" : "chart_axis_memory"), xType, markers);
      return { type: "line", data: { datasets, markers: markers.filter(Boolean) }, options };
    };
    if (this.memoryCaption) this.memoryCaption.textContent = ct(byTokens ? "chart_title_capacity" : "chart_title_memory");
    this.replaceChart("memory", this.memoryCanvas, build, {
      title: withBaselineTitle(ct(byTokens ? "chart_title_capacity" : "chart_title_memory"), comparable),
      stem: `hit-rate-vs-${byTokens ? "kv-cache-capacity" : "memory-per-gpu"}${comparable ? "-vs-baseline" : ""}` });
  }

  /**
   * One small chart per sweep; the figures are rebuilt only when the set of sweeps changes.
   * `baselineSweeps`: the baseline analysis's sweeps (matched by field), or null.
   */
  drawSweeps(sweeps, baselineSweeps = null) {
    const key = sweeps.map((sweep) => sweep.path).join("|") + "|" + language();
    if (key !== this.sweepsKey) {
      for (const name of [...this.charts.keys()]) {
        if (name.startsWith("sweep:")) this.dropChart(name);
      }
      this.sweepsContainer.replaceChildren(...sweeps.map((sweep) => this.sweepFigure(sweep)));
      this.sweepsKey = key;
    }
    const baselineByPath = new Map((baselineSweeps || []).map((sweep) => [sweep.path, sweep]));
    sweeps.forEach((sweep, index) => {
      const canvas = this.sweepsContainer.children[index].querySelector("canvas");
      const baseline = baselineByPath.get(sweep.path) || null;
      const label = sweepLabel(sweep);
      const inTitle = language() === "en" && /^[A-Z][a-z]/.test(label) ? label[0].toLowerCase() + label.slice(1) : label;
      const unit = unitText(sweep.unit);
      const markerText = (value) => (unit ? `${plain(value)} ${unit}` : plain(value));
      const build = () => {
        const rows = sweep.points || [];
        const datasets = [
          lineDataset(t("series_token"), points(rows, "value", "token_hit_rate"), COLORS.token, { segment: OVERLOAD_SEGMENT }),
          lineDataset(t("series_request"), points(rows, "value", "request_hit_rate"), COLORS.request, { segment: OVERLOAD_SEGMENT }),
        ];
        const markers = [valueMarker("current", sweep.current, markerText(sweep.current), ct("chart_marker_current"))];
        const values = rows.map((row) => row.value);
        if (baseline) {
          datasets.push(...baselineLines(baseline.points || [], "value"));
          markers.push(valueMarker("baseline", baseline.current, markerText(baseline.current), ct("chart_marker_baseline")));
          values.push(...(baseline.points || []).map((row) => row.value));
        }
        const xTitle = unit ? ct("chart_axis_field", { label, unit }) : ct("chart_axis_field_plain", { label });
        const options = lineOptions(xTitle, axisTypeFor(values), markers, { small: true });
        return { type: "line", data: { datasets, markers: markers.filter(Boolean) }, options };
      };
      this.replaceChart(`sweep:${sweep.path}`, canvas, build, { size: "small",
        title: withBaselineTitle(ct("chart_title_sweep", { label: inTitle }), baseline),
        stem: `hit-rate-vs-${slug(sweep.label_en || sweep.path)}${baseline ? "-vs-baseline" : ""}` });
    });
  }

  sweepFigure(sweep) {
    const figure = document.createElement("figure");
    figure.className = "sweep";
    const caption = document.createElement("figcaption");
    caption.textContent = sweepLabel(sweep);
    const pngButton = document.createElement("button");
    pngButton.type = "button";
    pngButton.className = "png";
    pngButton.textContent = t("download_png");
    pngButton.dataset.pngSweep = sweep.path;
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

  /** Every sweep's export image on one white canvas, under one title; null when there is no sweep. */
  sweepsImage() {
    const images = [...this.sweepsContainer.querySelectorAll("canvas")].map((canvas) => chartImage(canvas)).filter(Boolean);
    if (!images.length) return null;
    const cell = images[0].canvas;
    const rows = Math.ceil(images.length / SWEEP_GRID_COLUMNS);
    const titleHeight = 40 * EXPORT_SCALE;
    const target = document.createElement("canvas");
    target.width = cell.width * Math.min(SWEEP_GRID_COLUMNS, images.length);
    target.height = titleHeight + cell.height * rows;
    const context = target.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, target.width, target.height);
    context.fillStyle = "#000000";
    context.font = `bold ${18 * EXPORT_SCALE}px ${chartLibrary().defaults.font.family}`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText(ct("chart_title_sweeps"), target.width / 2, titleHeight / 2);
    images.forEach((image, index) => {
      context.drawImage(image.canvas, (index % SWEEP_GRID_COLUMNS) * cell.width, titleHeight + Math.floor(index / SWEEP_GRID_COLUMNS) * cell.height);
    });
    return { canvas: target, stem: "sensitivity-sweeps" };
  }

  /** Token hit rate at −swing and +swing of each field, from the base rate; `baseline`: another tornado, drawn thinner. */
  drawTornado(tornado, baseline = null) {
    const bars = (tornado && tornado.bars) || [];
    const swing = percent(tornado?.swing, 0);
    const build = () => {
      const base = finiteOrNull(tornado?.base);
      const baselineBars = new Map(((baseline && baseline.bars) || []).map((bar) => [bar.path, bar]));
      const rowsOf = [...bars, ...[...baselineBars.values()].filter((bar) => !bars.some((own) => own.path === bar.path))];
      const labels = rowsOf.map((bar) => bar[`label_${language()}`] || bar.label_en || bar.path);
      const span = (from, value) => (finiteOrNull(from) !== null && finiteOrNull(value) !== null ? [from, value] : null);
      const own = new Map(bars.map((bar) => [bar.path, bar]));
      const datasets = [
        { label: ct("chart_series_low", { swing }), data: rowsOf.map((bar) => span(base, own.get(bar.path)?.low_token_hit_rate)),
          grouped: false, legendColor: COLORS.low,
          backgroundColor: rowsOf.map((bar) => (own.get(bar.path)?.low_overloaded ? COLORS.overloaded : COLORS.low)),
          overloaded: rowsOf.map((bar) => own.get(bar.path)?.low_overloaded === true) },
        { label: ct("chart_series_high", { swing }), data: rowsOf.map((bar) => span(base, own.get(bar.path)?.high_token_hit_rate)),
          grouped: false, legendColor: COLORS.high,
          backgroundColor: rowsOf.map((bar) => (own.get(bar.path)?.high_overloaded ? COLORS.overloaded : COLORS.high)),
          overloaded: rowsOf.map((bar) => own.get(bar.path)?.high_overloaded === true) },
      ];
      const markers = [valueMarker("current", base, percent(base), ct("chart_marker_current"))];
      if (baseline) {
        const baselineBase = finiteOrNull(baseline.base);
        for (const [key, color, series, role] of [["low_token_hit_rate", COLORS.baselineLow, "chart_series_low", "baseline-low"],
          ["high_token_hit_rate", COLORS.baselineHigh, "chart_series_high", "baseline-high"]]) {
          datasets.push({ label: ct("chart_series_baseline", { series: ct(series, { swing: percent(baseline.swing, 0) }) }), role,
            data: rowsOf.map((bar) => span(baselineBase, baselineBars.get(bar.path)?.[key])), grouped: false,
            barPercentage: 0.35, backgroundColor: color, borderColor: COLORS.baseline, borderWidth: 1 });
        }
        markers.push(valueMarker("baseline", baselineBase, percent(baselineBase), ct("chart_marker_baseline")));
      }
      return {
        type: "bar",
        data: { labels, datasets, markers: markers.filter(Boolean) },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: "y",
          layout: { padding: { top: markerPadding(markers, 320) } },
          plugins: {
            // the swatch shows the series colour (legendColor), not the first bar's (grey when that bar is overloaded)
            legend: legendOptions(),
            title: { display: false },
            tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw?.[1])}`
              + (item.dataset.overloaded?.[item.dataIndex] ? ` (${t("overloaded_point")})` : "") } },
          },
          scales: {
            x: { title: { display: true, text: ct("chart_axis_token_hit_rate") }, ticks: { callback: (value) => percent(value, 1) } },
            y: { title: { display: true, text: ct("chart_axis_swung_field", { swing }) } },
          },
        },
      };
    };
    this.replaceChart("tornado", this.tornadoCanvas, build, { title: withBaselineTitle(ct("chart_title_tornado", { swing }), baseline),
      stem: `token-hit-rate-swings-plus-minus-${slug(swing)}-pct${baseline ? "-vs-baseline" : ""}` });
  }
}

/** A sweep's field name in the page's language. */
function sweepLabel(sweep) {
  return sweep[`label_${language()}`] || sweep.label_en || sweep.path;
}

/** A chart title, saying that dashed series are the baseline's when there is one. */
function withBaselineTitle(title, baseline) {
  return baseline ? ct("chart_title_with_baseline", { title }) : title;
}
