// The memory budget bar of one GPU: weights, activation, non-torch, KV cache, CUDA graphs and
// headroom as the engine counts them (Python's `memory_budget`), the tokens the engine's log will
// show next to what the prefix cache holds, the settings behind it and the max_model_len check.
// When the engine would refuse to start, the same bar shows why (Python's error carries it).
// Widths are Python's shares; text is formatted from Python's numbers. createElement and textContent only.

import { el } from "./dom.js";
import { t } from "./i18n.js";
import { formatMetric, gib, rawValue } from "./format.js";

const TERMS = ["weights", "activation", "non_torch", "kv", "cuda_graphs", "headroom", "dynamic", "context"];
const finite = (value) => typeof value === "number" && Number.isFinite(value);
const width = (share) => `${finite(share) ? Math.max(0, Math.min(1, share)) * 100 : 0}%`;

export class BudgetView {
  /** A view appended to `parent`; `id` names its section (the results' bar, or the refusal box). */
  constructor(parent, id = "memory-budget") {
    this.section = el("section", "metric-group budget");
    this.section.id = id;
    this.title = el("h3", "", "");
    this.refusal = el("p", "budget-refusal");
    this.refusal.setAttribute("role", "alert");
    this.bar = el("div", "stacked-bar budget-bar");
    this.bar.setAttribute("role", "img");
    this.legend = el("ul", "stacked-legend budget-legend");
    this.settings = el("p", "muted budget-settings");
    this.tokensLine = el("p", "budget-tokens");
    this.hybridNote = el("p", "muted budget-hybrid");
    this.lengthLine = el("p", "budget-length");
    this.section.append(this.title, this.refusal, this.bar, this.legend, this.settings, this.tokensLine,
      this.hybridNote, this.lengthLine);
    this.section.hidden = true;
    parent.append(this.section);
    this.last = null;
    this.lastMessage = "";
  }

  relabel() {
    this.render(this.last, this.lastMessage);
  }

  /**
   * Draw `budget` (predict.memory_budget, or error.memory_budget with the refusal's `message`);
   * hidden without one.
   */
  render(budget, message = "") {
    this.last = budget;
    this.lastMessage = message;
    const show = Boolean(budget && Array.isArray(budget.terms));
    this.section.hidden = !show;
    if (!show) return;
    const engine = budget.engine === "sglang" ? "sglang" : "vllm";
    const refused = Boolean(budget.refusal);
    this.section.dataset.refusal = budget.refusal || "";
    this.title.textContent = t(refused ? `budget_refused_${engine}` : `budget_title_${engine}`);
    this.refusal.textContent = refused ? message : "";
    this.refusal.hidden = !refused;
    this.drawBar(budget);
    this.drawSettings(budget);

    const tokens = finite(budget.engine_kv_tokens);
    this.tokensLine.hidden = !tokens;
    if (tokens) {
      const logged = this.value("engine_kv_tokens", budget.engine_kv_tokens, formatMetric("tokens", budget.engine_kv_tokens));
      const prefix = this.value("memory_budget.prefix_capacity_tokens", budget.prefix_capacity_tokens,
        formatMetric("tokens", budget.prefix_capacity_tokens));
      this.tokensLine.replaceChildren(document.createTextNode(`${t(`budget_logged_${engine}`)} `), logged,
        document.createTextNode(` · ${t("budget_prefix")} `), prefix);
    }
    this.hybridNote.textContent = budget.differs_from_log ? t("budget_differs") : "";
    this.hybridNote.hidden = !budget.differs_from_log;

    const hasLength = finite(budget.max_model_len) && finite(budget.max_concurrency);
    this.lengthLine.hidden = !hasLength;
    if (hasLength) {
      const concurrency = this.value("max_concurrency", budget.max_concurrency,
        `${formatMetric("decimal", budget.max_concurrency)}×`);
      this.lengthLine.replaceChildren(
        document.createTextNode(t("budget_concurrency", { tokens: formatMetric("integer", budget.max_model_len) })),
        document.createTextNode(" "), concurrency);
    }
  }

  /** A number in the page's metric convention (data-metric, data-value for the tests and the export). */
  value(metric, raw, text) {
    const node = el("strong", "metric-value", text);
    node.dataset.metric = metric;
    node.dataset.value = rawValue(raw);
    node.dataset.scope = "budget";
    return node;
  }

  drawBar(budget) {
    const segments = [];
    const items = [];
    for (const term of budget.terms) {
      if (!TERMS.includes(term.name)) continue;
      const segment = el("div", `segment budget-${term.name}`);
      segment.dataset.term = term.name;
      segment.dataset.value = rawValue(term.gib);
      segment.style.width = width(term.share);
      segment.title = `${t(`budget_${term.name}`)}: ${gib(term.gib)} — ${term.source}`;
      segments.push(segment);
      const item = el("li", term.inside_share ? "" : "outside-share");
      const value = el("span", "metric-value", gib(term.gib));
      value.dataset.metric = `memory_budget.${term.name}`;
      value.dataset.value = rawValue(term.gib);
      value.dataset.scope = "budget";
      const label = el("span", "", t(`budget_${term.name}`));
      label.title = term.source;
      item.append(el("span", `swatch budget-${term.name}`), label, document.createTextNode(" "), value);
      if (!term.inside_share) item.append(document.createTextNode(" "), el("span", "muted", t("budget_outside_share")));
      items.push(item);
    }
    if (finite(budget.scale_gib) && finite(budget.memory_gib) && budget.scale_gib > budget.memory_gib) {
      // the bar is longer than the GPU: a mark where its memory ends
      const edge = el("div", "budget-edge");
      edge.style.left = width(budget.memory_gib / budget.scale_gib);
      edge.title = t("budget_edge", { memory: gib(budget.memory_gib) });
      segments.push(edge);
    }
    this.bar.replaceChildren(...segments);
    this.bar.setAttribute("aria-label", `${t("budget_aria")} ${gib(budget.memory_gib)}`);
    this.legend.replaceChildren(...items);
  }

  drawSettings(budget) {
    const settings = Array.isArray(budget.settings) ? budget.settings : [];
    this.settings.hidden = !settings.length;
    // flags as they are typed on a command line (no digit grouping)
    const parts = settings.map((s) => `${s.flag} ${String(s.value)}`.trim()
      + (s.engine_default ? ` ${t("budget_engine_default")}` : ""));
    this.settings.textContent = settings.length ? `${t("budget_settings")} ${parts.join(" · ")}` : "";
  }
}
