// The page's entry: wires the form, the share link, the worker and the results together.
//   form / URL -> scenario (plain JSON) -> worker (Python `analyze`) -> results + charts
// Python computes every number shown; this file only moves data and asks modules to draw it.

import { applyStaticStrings, chooseLanguage, language, setLanguage, t } from "./js/i18n.js";
import { buildForm, modelFieldsFromHfConfig } from "./js/form.js";
import { encode, parse } from "./js/url.js";
import { CalculatorClient } from "./js/worker-client.js";
import { ResultsView } from "./js/results.js";
import { ChartPanel } from "./js/charts.js";
import { exportCsv, exportJson, exportPng } from "./js/export.js";

const LIVE_UPDATE_DELAY_MS = 150;
/** Pause after the numbers update before the (slow) full analysis starts. */
const ANALYSIS_DELAY_MS = 300;
const PLACEHOLDER_SOURCES = new Set(["model.preset", "hardware.gpu", "hardware.num_gpus"]);

const byId = (id) => document.getElementById(id);

const page = {
  schema: null,
  form: null,
  results: null,
  charts: null,
  client: null,
  scenario: null,
  lastPredict: null,
  lastAnalysis: null,
  lastAnalysisScenario: null,
  requestCounter: 0,
  debounceTimer: 0,
  analysisTimer: 0,
  analysisInFlight: false,
  analysisWanted: null,
  notices: [],
  committedQuery: null,
};

async function fetchJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// --- boot progress -------------------------------------------------------------------------

function showProgress(stage, fraction) {
  performance.mark(`kvcache:stage:${stage}`);
  const box = byId("boot");
  byId("boot-progress").value = Number.isFinite(fraction) ? fraction : 0;
  const label = byId("boot-stage");
  label.dataset.stage = stage;
  label.dataset.i18n = `stage_${stage}`;
  label.textContent = t(`stage_${stage}`);
  box.dataset.stage = stage;
  if (stage === "ready") {
    box.classList.add("done");
    byId("boot-note").hidden = true;
  }
}

function showBootError(message) {
  const label = byId("boot-stage");
  delete label.dataset.i18n;
  label.dataset.stage = "error";
  label.textContent = t("boot_failed", { message });
  byId("boot").classList.add("failed");
  console.error("Python failed to start:", message);
}

// --- notices (ignored link parameters) -------------------------------------------------------

function expectedText(expected) {
  if (!expected) return "";
  if (expected.kind === "enum") return t("expected_one_of", { choices: expected.choices.join(", ") });
  const parts = [t(expected.kind === "int" ? "expected_integer" : "expected_number")];
  if (expected.minimum !== null) {
    parts.push(t(expected.exclusive_minimum ? "expected_gt" : "expected_ge", { value: expected.minimum }));
  }
  if (expected.maximum !== null) parts.push(t("expected_le", { value: expected.maximum }));
  return parts.join(" ");
}

function renderNotices() {
  const list = byId("notices");
  list.replaceChildren(...page.notices.map((notice) => {
    const item = document.createElement("li");
    item.className = "notice";
    item.dataset.code = notice.code;
    item.textContent = notice.code === "unknown"
      ? t("notice_unknown", { key: notice.key })
      : t("notice_invalid", { key: notice.key, value: notice.value, expected: expectedText(notice.expected) });
    return item;
  }));
}

// --- URL -------------------------------------------------------------------------------------

function currentQuery(scenario) {
  const query = encode(scenario, page.schema);
  const lang = new URLSearchParams(window.location.search).get("lang");
  const withLang = lang ? `${query}${query ? "&" : ""}lang=${encodeURIComponent(language())}` : query;
  return withLang ? `?${withLang}` : window.location.pathname;
}

/**
 * Edits replace the current history entry; Calculate / apply commit it: the entry goes back to
 * the last committed scenario and a new entry is pushed, so Back returns to what was calculated.
 */
function updateAddress(scenario, mode) {
  const target = currentQuery(scenario);
  if (mode === "push") {
    const shown = window.location.search || window.location.pathname;
    if (target === page.committedQuery) {
      if (shown !== target) window.history.replaceState(null, "", target);
      return;
    }
    if (page.committedQuery !== null && shown !== page.committedQuery) {
      window.history.replaceState(null, "", page.committedQuery);
    }
    window.history.pushState(null, "", target);
    page.committedQuery = target;
  } else if (mode === "commit") {
    window.history.replaceState(null, "", target);
    page.committedQuery = target;
  } else {
    window.history.replaceState(null, "", target);
  }
}

// --- scenario state --------------------------------------------------------------------------

function showScenario(scenario) {
  page.scenario = scenario;
  byId("scenario-json").textContent = JSON.stringify(scenario, null, 2);
}

function setScenarioFromForm(changedPath) {
  const scenario = page.form.read();
  if (!changedPath || PLACEHOLDER_SOURCES.has(changedPath)) page.form.refresh(scenario);
  showScenario(scenario);
  return scenario;
}

function loadScenarioIntoForm(scenario) {
  page.form.write(scenario);
  showScenario(page.form.read());
}

function applyPatch(scenario, patch) {
  const next = structuredClone(scenario);
  for (const [section, body] of Object.entries(patch || {})) {
    if (!body || typeof body !== "object") continue;
    next[section] = next[section] && typeof next[section] === "object" ? next[section] : {};
    for (const [key, value] of Object.entries(body)) {
      if (value === null) delete next[section][key];
      else next[section][key] = value;
    }
  }
  return next;
}

// --- calculation -----------------------------------------------------------------------------
//
// Each update asks Python twice, for the same scenario: `predict` (milliseconds) puts the numbers
// on screen at once; `analyze` (prediction + curves + swings + suggestions, much slower) follows
// after a short pause in editing, one at a time, always for the newest scenario. Both results
// are Python's; an answer for a scenario that is no longer current is dropped.

function setStale(stale) {
  byId("results-panel").classList.toggle("stale", stale);
  byId("stale-note").hidden = !stale;
}

function setBusy({ numbers, analysis }) {
  document.body.dataset.numbersBusy = String(numbers);
  document.body.dataset.busy = String(numbers || analysis);
  byId("charts").classList.toggle("updating", analysis);
  byId("results").classList.toggle("analysis-pending", analysis);
}

/** Live update: after a short pause in editing, rewrite the address and calculate. */
function scheduleCalculation() {
  window.clearTimeout(page.debounceTimer);
  window.clearTimeout(page.analysisTimer);
  setBusy({ numbers: true, analysis: true });
  page.debounceTimer = window.setTimeout(() => {
    updateAddress(page.scenario, "replace");
    calculate(page.scenario);
  }, LIVE_UPDATE_DELAY_MS);
}

function showCalculationError(error) {
  const shownInline = page.form.showError(error);
  const formError = byId("form-error");
  formError.textContent = t("error_general", { message: error.message });
  formError.dataset.field = error.field || "";
  formError.classList.toggle("inline-shown", shownInline);
  setStale(page.lastPredict !== null);
}

function clearCalculationError() {
  page.form.clearErrors();
  byId("form-error").textContent = "";
}

function markFirstResult() {
  if (document.body.dataset.ready !== "true") performance.mark("kvcache:first-result");
  document.body.dataset.ready = "true";
}

async function calculate(scenario, { analysisDelay = ANALYSIS_DELAY_MS } = {}) {
  window.clearTimeout(page.debounceTimer);
  window.clearTimeout(page.analysisTimer);
  const requestNumber = ++page.requestCounter;
  setBusy({ numbers: true, analysis: true });
  const reply = await page.client.call("predict", { scenario });
  if (requestNumber !== page.requestCounter) return; // a newer request is on its way
  clearCalculationError();
  if (!reply.ok) {
    showCalculationError(reply.error);
    setBusy({ numbers: false, analysis: false });
    markFirstResult();
    return;
  }
  page.lastPredict = reply.result;
  byId("results-waiting").hidden = true;
  page.results.renderPredict(reply.result);
  byId("results-panel").dataset.resultScenario = JSON.stringify(scenario);
  setStale(false);
  setBusy({ numbers: false, analysis: true });
  markFirstResult();
  page.analysisTimer = window.setTimeout(() => requestAnalysis(requestNumber, scenario), analysisDelay);
}

/** One `analyze` in flight at a time; when it returns, only the newest wanted one runs next. */
async function requestAnalysis(requestNumber, scenario) {
  if (page.analysisInFlight) {
    page.analysisWanted = { requestNumber, scenario };
    return;
  }
  page.analysisInFlight = true;
  const reply = await page.client.call("analyze", { scenario });
  page.analysisInFlight = false;
  const wanted = page.analysisWanted;
  page.analysisWanted = null;
  if (requestNumber === page.requestCounter) {
    if (reply.ok) {
      page.lastAnalysis = reply.result;
      page.lastAnalysisScenario = scenario;
      page.results.renderAnalysis(reply.result);
      page.charts.draw(reply.result);
      if (!page.firstAnalysisShown) performance.mark("kvcache:first-analysis");
      page.firstAnalysisShown = true;
    } else {
      clearCalculationError();
      showCalculationError(reply.error);
    }
    setBusy({ numbers: false, analysis: false });
  } else if (wanted && wanted.requestNumber === page.requestCounter) {
    requestAnalysis(wanted.requestNumber, wanted.scenario);
  }
}

// --- language --------------------------------------------------------------------------------

function relabelPage() {
  applyStaticStrings();
  const stage = byId("boot-stage").dataset.stage;
  if (stage && stage !== "error") byId("boot-stage").textContent = t(`stage_${stage}`);
  renderNotices();
  page.form.refresh(page.scenario);
  page.results.relabel();
  if (page.lastAnalysis) page.charts.draw(page.lastAnalysis);
}

function switchLanguage() {
  setLanguage(language() === "zh" ? "en" : "zh", { remember: true });
  relabelPage();
  updateAddress(page.scenario, "replace");
}

// --- clipboard and exports -------------------------------------------------------------------

async function copyText(text) {
  const status = byId("copy-status");
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = t("copied");
  } catch {
    status.textContent = t("copy_failed");
  }
}

function fillFromHfConfig() {
  const box = page.form.configPaste;
  const parsed = modelFieldsFromHfConfig(box.textarea.value);
  if (parsed.error) {
    box.status.textContent = parsed.error === "invalid" ? t("hf_config_invalid", { message: parsed.message }) : t("hf_config_not_object");
    return;
  }
  const keys = Object.keys(parsed.values);
  if (!keys.length) {
    box.status.textContent = t("hf_config_nothing");
    return;
  }
  for (const [key, value] of Object.entries(parsed.values)) {
    const input = page.form.fieldInput(`model.${key}`);
    if (input) input.value = String(value);
  }
  box.status.textContent = t("hf_config_filled", { count: keys.length, fields: keys.join(", ") });
  const scenario = setScenarioFromForm(null);
  updateAddress(scenario, "push");
  calculate(scenario);
}

// --- wiring ----------------------------------------------------------------------------------

function wireEvents() {
  const formElement = byId("scenario-form");
  const onEdit = (event) => {
    const path = event.target && event.target.name;
    if (!path) return;
    setScenarioFromForm(path);
    scheduleCalculation();
  };
  formElement.addEventListener("input", onEdit);
  formElement.addEventListener("change", onEdit);
  formElement.addEventListener("submit", (event) => {
    event.preventDefault();
    const scenario = setScenarioFromForm(null);
    updateAddress(scenario, "push");
    calculate(scenario);
  });
  window.addEventListener("popstate", () => {
    const { scenario, notices } = parse(window.location.search, page.schema);
    page.notices = notices;
    renderNotices();
    loadScenarioIntoForm(scenario);
    updateAddress(page.scenario, "commit");
    calculate(page.scenario);
  });
  byId("language-switch").addEventListener("click", switchLanguage);
  byId("copy-link").addEventListener("click", () => copyText(window.location.href));
  byId("copy-scenario").addEventListener("click", () => copyText(JSON.stringify(page.scenario, null, 2)));
  byId("download-json").addEventListener("click", () => exportJson(page.lastAnalysisScenario ?? page.scenario, page.lastAnalysis));
  byId("download-csv").addEventListener("click", () => exportCsv(page.lastAnalysisScenario ?? page.scenario, page.lastAnalysis));
  for (const button of document.querySelectorAll("button[data-png]")) {
    button.addEventListener("click", () => {
      const canvas = document.querySelector(`canvas[data-chart="${button.dataset.png}"]`);
      if (canvas) exportPng(button.dataset.png, canvas);
    });
  }
  page.form.configPaste?.button.addEventListener("click", fillFromHfConfig);
}

function applySuggestion(suggestion) {
  const scenario = applyPatch(page.scenario, suggestion.change);
  loadScenarioIntoForm(scenario);
  updateAddress(page.scenario, "push");
  calculate(page.scenario);
}

async function main() {
  setLanguage(chooseLanguage(window.location.search), { remember: false });
  applyStaticStrings();
  page.client = new CalculatorClient(new URL("worker.js", window.location.href), {
    onProgress: showProgress,
    onBootError: showBootError,
  });
  const [schema, presets] = await Promise.all([fetchJson("schema.json"), fetchJson("presets.json")]);
  page.schema = schema;
  page.form = buildForm(byId("form-fields"), schema, presets);
  page.results = new ResultsView(byId("results"), { onApplySuggestion: applySuggestion });
  page.charts = new ChartPanel({
    memoryCanvas: byId("chart-memory"),
    sweepsContainer: byId("chart-sweeps"),
    tornadoCanvas: byId("chart-tornado"),
    onPng: exportPng,
  });
  const { scenario, notices } = parse(window.location.search, schema);
  page.notices = notices;
  renderNotices();
  loadScenarioIntoForm(scenario);
  updateAddress(page.scenario, "commit");
  wireEvents();
  // For the console and the tests: the page's own calculator client and schema.
  window.kvcacheCalc = Object.freeze({ call: (method, payload) => page.client.call(method, payload), schema });
  document.body.dataset.formReady = "true";
  calculate(page.scenario);
}

main().catch((error) => {
  console.error(error);
  const formError = byId("form-error");
  if (formError) formError.textContent = String(error && error.message ? error.message : error);
});
