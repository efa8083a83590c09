// The page's entry: wires the form, the share link, the worker and the results together.
//   form / URL -> scenario (plain JSON) -> worker (Python `analyze`) -> results + charts
// Python computes every number shown; this file only moves data and asks modules to draw it.

import { applyStaticStrings, chooseLanguage, language, setLanguage, t } from "./js/i18n.js";
import { buildForm } from "./js/form.js";
import { BASELINE_KEY, defaultScenario, encode, parse } from "./js/url.js";
import { CalculatorClient } from "./js/worker-client.js";
import { ResultsView, VerifyView } from "./js/results.js";
import { BudgetView } from "./js/budget.js";
import { RoutingView } from "./js/routing.js";
import { ChartPanel } from "./js/charts.js";
import { exportCsv, exportJson, exportPng } from "./js/export.js";
import { initTracePanel } from "./js/trace-panel.js";
import { initDiagnosePanel } from "./js/diagnose.js";
import { copyText } from "./js/clipboard.js";
import { applyScenarioPatch } from "./js/traffic.js";
import { changesBetween, describeError, rangeText, slowInputs } from "./js/errors.js";
import { mt } from "./js/messages-i18n.js";
import { initExplanations } from "./js/explain.js";

const LIVE_UPDATE_DELAY_MS = 150;
/** Pause after the numbers update before the (slow) full analysis starts. */
const ANALYSIS_DELAY_MS = 300;
/** Fields whose change alters other fields' placeholders (preset values, the GPU's figures). */
const PLACEHOLDER_SOURCES = new Set(["model.preset", "model.weight_dtype", "hardware.gpu", "hardware.num_gpus",
  "deploy.engine"]);
/** Verify by simulation and the routing comparison: block touches per `simulate_step` call (one worker round trip each). */
const SIMULATION_TOUCHES_PER_STEP = 300_000;
const SIMULATION_SEED = 1;
const SIMULATION_DEFAULT_REQUESTS = 20_000;
const ROUTING_SEED = 1;
/** A calculation running this long shows "Calculating… Cancel". */
const SHOW_CANCEL_AFTER_MS = 1000;
/** Link notices listed before "… and N more". */
const NOTICES_SHOWN = 8;

const byId = (id) => document.getElementById(id);

const page = {
  schema: null,
  form: null,
  results: null,
  refusal: null, // BudgetView of the engine's refusal to start (the bar that did not fit), at the top of the results
  verify: null,
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
  lastGoodScenario: null, // the last scenario `predict` answered in time (what a timeout is compared with)
  calcProblem: null, // {kind: "stopped"|"error", text}: why the numbers on screen are not for the inputs
  cancelTimer: 0,
  baseline: null, // the pinned scenario every number is compared with: {scenario, key, predict, analysis}
  baselineError: null, // why a link's baseline could not be pinned (Python's error), shown in the compare bar
  committedQuery: null,
  policyNote: null,
  simulation: null, // the run in progress: {scenario, key, run, stopped}
  simulationResult: null, // the last finished run: {key, result}
  routing: null, // RoutingView
  routingRun: null, // the routing comparison in flight: {key, run, stopped}
  routingResult: null, // the last comparison: {key, result}
};

const scenarioKey = (scenario) => JSON.stringify(scenario);

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
  box.classList.toggle("done", stage === "ready");
  if (stage === "ready") byId("boot-note").hidden = true;
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
  if (expected.kind === "tier") return t("expected_tier", { max: expected.max, gb: expected.suffixes?.[0] ?? "gb", tok: expected.suffixes?.[1] ?? "tok" });
  if (expected.kind === "enum") return t("expected_one_of", { choices: expected.choices.join(", ") });
  if (expected.kind === "text") return t("expected_model_id");
  if (expected.kind === "json_list") return t(`expected_json_${expected.what}`, { max: expected.max });
  return rangeText(expected);
}

function noticeText(notice) {
  if (notice.code === "unknown") return t("notice_unknown", { key: notice.key });
  if (notice.code === "unused") {
    const reason = notice.needs === "classes" ? "notice_unused_classes" : notice.needs === "one_class" ? "notice_unused_one_class" : "notice_unused";
    return t(reason, { key: notice.key, value: notice.value });
  }
  return t("notice_invalid", { key: notice.key, value: notice.value, expected: expectedText(notice.expected) });
}

/** The link's ignored parameters: the first few, "… and N more", and a button that dismisses them. */
function renderNotices() {
  const list = byId("notices");
  const items = page.notices.slice(0, NOTICES_SHOWN).map((notice) => {
    const item = document.createElement("li");
    item.className = "notice";
    item.dataset.code = notice.code;
    item.textContent = noticeText(notice);
    return item;
  });
  if (page.notices.length > NOTICES_SHOWN) {
    const more = document.createElement("li");
    more.className = "notice notice-more";
    more.textContent = mt("notices_more", { count: page.notices.length - NOTICES_SHOWN });
    items.push(more);
  }
  list.replaceChildren(...items);
  // Dismiss sits after the list (not in it): the list holds the notices only
  let dismiss = byId("notices-dismiss");
  if (!dismiss) {
    dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "notices-dismiss";
    dismiss.id = "notices-dismiss";
    dismiss.addEventListener("click", () => {
      page.notices = [];
      renderNotices();
    });
    list.after(dismiss);
  }
  dismiss.textContent = mt("notices_dismiss");
  dismiss.hidden = items.length === 0;
}

// --- URL -------------------------------------------------------------------------------------

function currentQuery(scenario) {
  const own = encode(scenario, page.schema);
  const base = page.baseline ? `${BASELINE_KEY}=${encodeURIComponent(encode(page.baseline.scenario, page.schema))}` : "";
  const query = [own, base].filter(Boolean).join("&");
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
  if (page.baseline) renderCompareBar();
  byId("scenario-json").textContent = JSON.stringify(scenario, null, 2);
  simulationScenarioChanged(scenario);
  routingScenarioChanged(scenario);
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

/**
 * One class <-> traffic classes: Python rewrites the workload (`workload_as_classes` carries the
 * current numbers over; `workload_as_one_class` says what the version-1 fields cannot express).
 * The answer is dropped when the scenario changed meanwhile.
 */
async function switchWorkload(method) {
  const scenario = page.scenario;
  const editor = page.form.classes;
  editor.showSwitchError("");
  const reply = await page.client.call(method, { scenario });
  if (scenarioKey(page.scenario) !== scenarioKey(scenario)) return;
  if (!reply.ok) {
    page.form.clearErrors();
    page.form.showError(reply.error);
    editor.showSwitchError(reply.error.message);
    return;
  }
  loadScenarioIntoForm(reply.result);
  updateAddress(page.scenario, "push");
  calculate(page.scenario);
}

// --- calculation -----------------------------------------------------------------------------
//
// Each update asks Python twice, for the same scenario: `predict` (milliseconds) puts the numbers
// on screen at once; `analyze` (prediction + curves + swings + advice, much slower) follows
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
  // a calculation that takes a while can be cancelled (the worker is replaced: Python cannot be interrupted)
  window.clearTimeout(page.cancelTimer);
  if (numbers || analysis) {
    page.cancelTimer = window.setTimeout(() => {
      byId("calc-status").hidden = byId("boot").dataset.stage !== "ready"; // while booting, the boot bar says why
    }, SHOW_CANCEL_AFTER_MS);
  }
  else byId("calc-status").hidden = true;
}

/** Why the numbers on screen are not for the inputs (stopped, cancelled, the calculator restarted); null clears it. */
function showCalcProblem(problem) {
  page.calcProblem = problem;
  const box = byId("calc-problem");
  box.textContent = problem ? problem.text() : "";
  box.dataset.kind = problem ? problem.kind : "";
  box.hidden = !problem;
}

/**
 * A call the client stopped (code timeout / cancelled / restarted / crashed): say so where the
 * numbers are, naming the input that made it slow; true when `error` was one of those.
 */
function showStoppedCall(error, scenario, lastGood, { stale = true } = {}) {
  if (!error?.code) return false;
  const text = error.code === "timeout"
    ? () => [mt("timeout", { seconds: Number((error.budget_ms / 1000).toPrecision(2)) }),
      slowInputs(scenario, lastGood, page.schema, defaultScenario(page.schema))].filter(Boolean).join(" ")
    : error.code === "cancelled" ? () => mt("cancelled") : () => mt("crashed", { message: error.message });
  showCalcProblem({ kind: error.code, text });
  if (stale) setStale(page.lastPredict !== null);
  byId("results-waiting").hidden = true;
  return true;
}

/** Live update: after a short pause in editing, rewrite the address and calculate. */
function scheduleCalculation() {
  window.clearTimeout(page.debounceTimer);
  window.clearTimeout(page.analysisTimer);
  // Answers still on their way are for the scenario before this edit: drop them, so an analysis
  // finishing during the pause cannot mark the page idle before the edit is calculated.
  page.requestCounter++;
  setBusy({ numbers: true, analysis: true });
  page.debounceTimer = window.setTimeout(() => {
    updateAddress(page.scenario, "replace");
    calculate(page.scenario);
  }, LIVE_UPDATE_DELAY_MS);
}

function showCalculationError(error) {
  const described = { ...error, message: describeError(error, page.schema) };
  const budget = error.details?.memory_budget ?? null;
  page.refusal.render(budget, described.message);
  // the reason sits above the (stale) numbers; the refusal's bar carries it itself
  if (!budget) showCalcProblem({ kind: "error", text: () => t("error_general", { message: describeError(error, page.schema) }) });
  byId("results-waiting").hidden = true; // Python answered: the reason is shown, not "waiting for Python"
  const shownInline = page.form.showError(described);
  const formError = byId("form-error");
  formError.textContent = t("error_general", { message: described.message });
  formError.dataset.field = error.field || "";
  formError.classList.toggle("inline-shown", shownInline);
  setStale(page.lastPredict !== null);
}

function clearCalculationError() {
  page.refusal.render(null);
  showCalcProblem(null);
  page.form.clearErrors();
  byId("form-error").textContent = "";
  page.policyNote = null;
  renderPolicyNote();
}

/**
 * fifo and lfu have no closed form: Python's predict/analyze refuse them naming cache.policy.
 * That is not a mistake in the input, so it is a note (not a red field error); the simulation
 * still answers, so Verify stays available.
 */
function isPolicyWithoutFormula(error, scenario) {
  const policy = scenario?.cache?.policy;
  return error?.field === "cache.policy" && typeof policy === "string" && policy !== "lru";
}

function renderPolicyNote() {
  const note = byId("policy-note");
  note.textContent = page.policyNote ? t("policy_note", { message: page.policyNote.message }) : "";
  note.dataset.field = page.policyNote?.field || "";
  note.hidden = !page.policyNote;
}

function showCalculationProblem(error, scenario) {
  if (isPolicyWithoutFormula(error, scenario)) {
    page.policyNote = error;
    renderPolicyNote();
    setStale(page.lastPredict !== null);
  } else {
    showCalculationError(error);
  }
}

function markFirstResult() {
  byId("results-waiting").hidden = true; // Python answered: numbers, or the reason there are none, are shown
  if (document.body.dataset.ready !== "true") {
    performance.mark("kvcache:first-result");
    registerServiceWorker();
  }
  document.body.dataset.ready = "true";
}

/** The site offline and warm reloads from Cache Storage (sw.js); registered once the first numbers
 *  are on screen, so its download of the build does not slow the boot. */
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("sw.js", { updateViaCache: "none" })
    .catch((error) => console.info("The page works without offline support:", error?.message || error));
}

async function calculate(scenario, { analysisDelay = ANALYSIS_DELAY_MS } = {}) {
  window.clearTimeout(page.debounceTimer);
  window.clearTimeout(page.analysisTimer);
  const requestNumber = ++page.requestCounter;
  setBusy({ numbers: true, analysis: true });
  // The fast path skips the advisor: its list comes with the analysis.
  const reply = await page.client.call("predict", { scenario, advice: false });
  if (requestNumber !== page.requestCounter) return; // a newer request is on its way
  if (!reply.ok && showStoppedCall(reply.error, scenario, page.lastGoodScenario)) {
    setBusy({ numbers: false, analysis: false });
    markFirstResult();
    return;
  }
  clearCalculationError();
  if (!reply.ok) {
    showCalculationProblem(reply.error, scenario);
    setBusy({ numbers: false, analysis: false });
    markFirstResult();
    return;
  }
  page.lastPredict = reply.result;
  page.lastGoodScenario = scenario;
  byId("results-waiting").hidden = true;
  page.results.renderPredict(reply.result);
  showDeltas(reply.result, requestNumber);
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
    if (!reply.ok && showStoppedCall(reply.error, scenario, page.lastAnalysisScenario, { stale: false })) {
      // the numbers stay (predict answered); the charts and advice are for earlier inputs
    } else if (reply.ok) {
      page.lastAnalysis = reply.result;
      page.lastAnalysisScenario = scenario;
      page.results.renderAnalysis(reply.result);
      drawCharts(); // the routing table and chart too
      if (!page.firstAnalysisShown) performance.mark("kvcache:first-analysis");
      page.firstAnalysisShown = true;
    } else {
      clearCalculationError();
      showCalculationProblem(reply.error, scenario);
    }
    setBusy({ numbers: false, analysis: false });
  } else if (wanted && wanted.requestNumber === page.requestCounter) {
    requestAnalysis(wanted.requestNumber, wanted.scenario);
  }
}

// --- compare with a pinned baseline -----------------------------------------------------------
//
// "Pin as baseline" keeps the scenario on screen with its results; every metric then shows its
// change against it (Python's `compare`), the charts draw both, and the link carries both (base=).

/** Python's deltas of `predict` against the baseline, drawn after each metric (dropped when outdated). */
async function showDeltas(predict, requestNumber) {
  const baseline = page.baseline;
  if (!baseline?.predict) {
    page.results.renderDeltas(null);
    return;
  }
  const reply = await page.client.call("compare", { baseline: baseline.predict, current: predict });
  if (requestNumber !== page.requestCounter && requestNumber !== null) return;
  if (page.baseline !== baseline) return;
  page.results.renderDeltas(reply.ok ? reply.result.deltas : null);
}

function renderCompareBar() {
  const pinned = page.baseline;
  byId("unpin-baseline").hidden = !pinned;
  byId("pin-baseline").textContent = t(pinned ? "repin_baseline" : "pin_baseline");
  const summary = byId("baseline-summary");
  if (!pinned) {
    summary.textContent = page.baselineError ? t("baseline_failed", { message: describeError(page.baselineError, page.schema) }) : "";
    delete byId("results-panel").dataset.baseline;
    return;
  }
  byId("results-panel").dataset.baseline = pinned.predict ? "ready" : "loading";
  const changes = page.scenario ? changesBetween(pinned.scenario, page.scenario, page.schema) : "";
  summary.textContent = changes ? t("baseline_differs", { changes }) : t("baseline_same");
}

/**
 * Pin `scenario` (the one on screen when its results are known) as the baseline; its predict and
 * analysis are computed when not at hand (a link with base=).
 */
async function pinBaseline(scenario, known = {}) {
  const baseline = { scenario, key: scenarioKey(scenario), predict: known.predict ?? null, analysis: known.analysis ?? null };
  page.baseline = baseline;
  page.baselineError = null;
  renderCompareBar();
  updateAddress(page.scenario, "replace");
  if (!baseline.predict) {
    const reply = await page.client.call("predict", { scenario, advice: false });
    if (page.baseline !== baseline) return;
    if (!reply.ok) {
      page.baseline = null;
      page.baselineError = reply.error;
      renderCompareBar();
      updateAddress(page.scenario, "replace");
      return;
    }
    baseline.predict = reply.result;
    renderCompareBar();
  }
  if (page.lastPredict) showDeltas(page.lastPredict, null);
  if (!baseline.analysis) {
    const reply = await page.client.call("analyze", { scenario });
    if (page.baseline !== baseline || !reply.ok) return;
    baseline.analysis = reply.result;
  }
  drawCharts();
}

function unpinBaseline() {
  page.baseline = null;
  page.baselineError = null;
  page.results.renderDeltas(null);
  renderCompareBar();
  updateAddress(page.scenario, "replace");
  drawCharts();
}

function pinCurrent() {
  const scenario = page.scenario;
  const known = {
    predict: byId("results-panel").dataset.resultScenario === JSON.stringify(scenario) ? page.lastPredict : null,
    analysis: page.lastAnalysisScenario && scenarioKey(page.lastAnalysisScenario) === scenarioKey(scenario) ? page.lastAnalysis : null,
  };
  pinBaseline(scenario, known);
}

/** A link's base= (the baseline's own query string): its scenario, and its notices named base.<key>. */
function baselineFromQuery(search) {
  const text = new URLSearchParams(search).get(BASELINE_KEY);
  if (text === null) return { scenario: null, notices: [] };
  const { scenario, notices } = parse(text.startsWith("?") ? text : `?${text}`, page.schema);
  return { scenario, notices: notices.map((notice) => ({ ...notice, key: `${BASELINE_KEY}.${notice.key}` })) };
}

// --- verify by simulation --------------------------------------------------------------------
//
// simulate_start, then simulate_step until done: each step is one worker round trip, so the
// worker answers predict/analyze (and simulate_cancel) between steps. A run whose scenario is
// no longer the form's is cancelled; a finished result is dropped when the scenario changes.

/** The finished simulation to draw on the charts, when it belongs to the analysis on screen. */
function simulationOverlay() {
  const shown = page.simulationResult;
  if (!shown || !page.lastAnalysisScenario || scenarioKey(page.lastAnalysisScenario) !== shown.key) return null;
  return shown.result;
}

/** Every analysis carries all the curves (each routing has a closed form): draw them. */
function drawCharts() {
  const analysis = page.lastAnalysis;
  if (!analysis) return;
  const tierCaption = byId("chart-tier-title");
  tierCaption.textContent = t("chart_tier", { tier: String(analysis.tier_curve.tier) });
  page.charts.draw(analysis, { simulation: simulationOverlay(), baseline: page.baseline?.analysis ?? null });
  if (analysis.routing) page.routing.showAnalysis(analysis.routing);
}

/** "Requests to simulate": an integer goes as a number, anything else as typed (Python names it). */
function simulationRequests() {
  const text = byId("sim-requests").value.trim();
  if (text === "") return SIMULATION_DEFAULT_REQUESTS;
  const number = /^\+?\d+(\.\d*)?([eE][+]?\d+)?$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(number) ? number : text;
}

/**
 * Start a stepped run (`simulate_start` or `compare_routing_start`) and step it to the end. Returns
 * the last reply (an error, or done with its result), or null once `session.stopped` is set.
 */
async function runSteps(session, method, payload, { onStart = () => {}, onProgress = () => {} } = {}) {
  const started = await page.client.call(method, payload);
  if (session.stopped) {
    if (started.ok) page.client.call("simulate_cancel", { run: started.result.run });
    return null;
  }
  if (!started.ok) return started;
  session.run = started.result.run;
  onStart(session.run);
  for (;;) {
    const reply = await page.client.call("simulate_step", { run: session.run, touches: SIMULATION_TOUCHES_PER_STEP });
    if (session.stopped) return null; // simulate_cancel was sent when it stopped
    if (!reply.ok || reply.result.done) return reply;
    onProgress(reply.result.progress);
  }
}

/** Mark a stepped run stopped and cancel it in the worker. */
function stopSteps(session, reason) {
  session.stopped = reason;
  if (session.run !== null) page.client.call("simulate_cancel", { run: session.run });
}

async function startVerification() {
  if (page.simulation) return;
  const scenario = page.scenario;
  const session = { scenario, key: scenarioKey(scenario), run: null, stopped: null };
  page.simulation = session;
  page.simulationResult = null;
  drawCharts();
  page.verify.starting();
  const reply = await runSteps(session, "simulate_start",
    { scenario, seed: SIMULATION_SEED, requests: simulationRequests() }, {
      onStart: (run) => { byId("verify").dataset.run = String(run); },
      onProgress: (fraction) => page.verify.showProgress(fraction),
    });
  if (reply === null) return;
  page.simulation = null;
  if (!reply.ok) {
    page.verify.showError(reply.error.message);
    return;
  }
  page.simulationResult = { key: session.key, result: reply.result.result };
  page.verify.showResult(reply.result.result);
  drawCharts();
}

/** Stop the run in progress; reason "cancelled" (the button) or "outdated" (the scenario changed). */
function stopVerification(reason) {
  const session = page.simulation;
  if (!session) return;
  page.simulation = null;
  page.verify.stopped(reason);
  stopSteps(session, reason);
}

function simulationScenarioChanged(scenario) {
  if (!page.verify) return;
  const key = scenarioKey(scenario);
  if (page.simulation && page.simulation.key !== key) stopVerification("outdated");
  if (page.simulationResult && page.simulationResult.key !== key) {
    page.simulationResult = null;
    page.verify.resultOutdated();
    drawCharts();
  }
}

// --- routing comparison ----------------------------------------------------------------------
//
// On demand, every routing is simulated next to the model's figures (which the analysis already
// shows): compare_routing_start, then simulate_step until done, like "Verify by simulation", so
// the worker answers predict/analyze between steps and the run can be cancelled. A run whose
// scenario is no longer the form's is cancelled, and the box says so.

async function compareRouting() {
  if (page.routingRun !== null) return;
  const scenario = page.scenario;
  const session = { key: scenarioKey(scenario), run: null, stopped: null };
  page.routingRun = session;
  page.routingResult = null;
  page.routing.busy();
  const reply = await runSteps(session, "compare_routing_start", { scenario, seed: ROUTING_SEED },
    { onProgress: (fraction) => page.routing.showProgress(fraction) });
  if (reply === null) return;
  page.routingRun = null;
  if (!reply.ok) {
    page.routing.showError(reply.error.message);
    return;
  }
  page.routingResult = { key: session.key, result: reply.result.result };
  page.routing.showResult(reply.result.result);
}

/** Stop the comparison in progress; reason "cancelled" (the button) or "outdated" (the scenario changed). */
function stopRouting(reason) {
  const session = page.routingRun;
  if (!session) return;
  page.routingRun = null;
  stopSteps(session, reason);
  if (reason === "outdated") page.routing.outdated();
  else page.routing.cancelled();
}

function routingScenarioChanged(scenario) {
  if (!page.routing) return;
  const key = scenarioKey(scenario);
  const replicas = scenario?.cluster?.replicas;
  page.routing.setReplicas(replicas === undefined ? 1 : replicas);
  if (page.routingRun !== null && page.routingRun.key !== key) stopRouting("outdated");
  if (page.routingResult && page.routingResult.key !== key) {
    page.routingResult = null;
    page.routing.resultOutdated();
  }
}

/** The comparison on screen when it belongs to `scenario` (for the exports). */
function routingFor(scenario) {
  return page.routingResult && page.routingResult.key === scenarioKey(scenario) ? page.routingResult.result : null;
}

// --- language --------------------------------------------------------------------------------

function relabelPage() {
  applyStaticStrings();
  const stage = byId("boot-stage").dataset.stage;
  if (stage && stage !== "error") byId("boot-stage").textContent = t(`stage_${stage}`);
  renderNotices();
  page.form.refresh(page.scenario);
  page.results.relabel();
  page.refusal.relabel();
  page.verify.relabel();
  page.routing.relabel();
  renderPolicyNote();
  renderCompareBar();
  showCalcProblem(page.calcProblem);
  applyStaticStrings(document, mt, "messages-i18n");
  drawCharts();
}

function switchLanguage() {
  setLanguage(language() === "zh" ? "en" : "zh", { remember: true });
  relabelPage();
  updateAddress(page.scenario, "replace");
}

// --- clipboard and exports -------------------------------------------------------------------


/**
 * "Fill model fields": Python reads the pasted config.json (api.import_hf_config) and the model
 * section becomes the checkpoint it describes (no preset); what it could not read is listed.
 */
async function fillFromHfConfig() {
  const box = page.form.configPaste;
  const text = box.textarea.value;
  box.problems.replaceChildren();
  const reply = await page.client.call("import_hf_config", { text });
  if (!reply.ok) {
    box.status.textContent = t("hf_config_invalid", { message: reply.error.message });
    return;
  }
  const { fields, problems, family } = reply.result;
  box.problems.replaceChildren(...problems.map((problem) => {
    const item = document.createElement("li");
    item.textContent = problem;
    return item;
  }));
  const keys = Object.keys(fields);
  if (!keys.length) {
    box.status.textContent = t("hf_config_nothing");
    return;
  }
  box.status.textContent = t(problems.length ? "hf_config_filled_problems" : "hf_config_filled",
    { count: keys.length, family: family || "?", problems: problems.length });
  loadScenarioIntoForm({ ...page.scenario, model: fields });
  updateAddress(page.scenario, "push");
  calculate(page.scenario);
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
    const base = baselineFromQuery(window.location.search);
    page.notices = [...notices, ...base.notices];
    renderNotices();
    loadScenarioIntoForm(scenario);
    if (base.scenario && page.baseline?.key !== scenarioKey(base.scenario)) pinBaseline(base.scenario);
    else if (!base.scenario && (page.baseline || page.baselineError)) unpinBaseline();
    updateAddress(page.scenario, "commit");
    calculate(page.scenario);
  });
  byId("language-switch").addEventListener("click", switchLanguage);
  byId("copy-link").addEventListener("click", () => copyText(window.location.href, byId("copy-status")));
  byId("copy-scenario").addEventListener("click",
    () => copyText(JSON.stringify(page.scenario, null, 2), byId("copy-status")));
  const exported = () => {
    const scenario = page.lastAnalysisScenario ?? page.scenario;
    const simulation = page.simulationResult?.key === scenarioKey(scenario) ? page.simulationResult.result : null;
    return [scenario, page.lastAnalysis, { routing: routingFor(scenario), simulation }];
  };
  byId("download-json").addEventListener("click", () => exportJson(...exported()));
  byId("download-csv").addEventListener("click", () => exportCsv(...exported()));
  for (const button of document.querySelectorAll("button[data-png]")) {
    button.addEventListener("click", () => {
      const canvas = document.querySelector(`canvas[data-chart="${button.dataset.png}"]`);
      if (canvas) exportPng(button.dataset.png, canvas);
    });
  }
  page.form.configPaste?.button.addEventListener("click", fillFromHfConfig);
  byId("calc-cancel").addEventListener("click", () => page.client.cancel());
  byId("pin-baseline").addEventListener("click", pinCurrent);
  byId("unpin-baseline").addEventListener("click", unpinBaseline);
  byId("verify-start").addEventListener("click", startVerification);
  byId("verify-cancel").addEventListener("click", () => stopVerification("cancelled"));
  byId("routing-start").addEventListener("click", compareRouting);
  byId("routing-cancel").addEventListener("click", () => stopRouting("cancelled"));
  page.form.classes?.toClassesButton.addEventListener("click", () => switchWorkload("workload_as_classes"));
  page.form.classes?.toOneClassButton.addEventListener("click", () => switchWorkload("workload_as_one_class"));
}

/** An advice item's (or the trace fit's) "apply": patch the scenario, fill the form, push the link, recalculate. */
function applyAdvice(item) {
  const scenario = applyScenarioPatch(page.scenario, item.change);
  loadScenarioIntoForm(scenario);
  updateAddress(page.scenario, "push");
  calculate(page.scenario);
  bringHeadlineIntoView();
}

/** After Apply (clicked far down the page) the new numbers are where the eye goes: the headline. */
function bringHeadlineIntoView() {
  const headline = byId("results-panel");
  const top = headline.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.5) headline.scrollIntoView({ block: "start" });
}

async function main() {
  setLanguage(chooseLanguage(window.location.search), { remember: false });
  applyStaticStrings();
  page.client = new CalculatorClient(new URL("worker.js", window.location.href), {
    onProgress: showProgress,
    onBootError: showBootError,
    onRestart: () => showProgress("restarting", 0.05),
  });
  applyStaticStrings(document, mt, "messages-i18n");
  const [schema, presets] = await Promise.all([fetchJson("schema.json"), fetchJson("presets.json")]);
  page.schema = schema;
  page.form = buildForm(byId("form-fields"), schema, presets);
  page.results = new ResultsView(byId("results"), { onApplyAdvice: applyAdvice });
  page.refusal = new BudgetView(byId("memory-refusal"), "memory-refusal-budget");
  page.verify = new VerifyView(byId("verify"));
  page.charts = new ChartPanel({
    memoryCanvas: byId("chart-memory"),
    memoryCaption: byId("chart-memory-title"),
    sweepsContainer: byId("chart-sweeps"),
    tornadoCanvas: byId("chart-tornado"),
    tierCanvas: byId("chart-tier"),
    routingCanvas: byId("chart-routing"),
    overloadNote: byId("overload-note"),
    onPng: exportPng,
  });
  page.routing = new RoutingView(byId("routing-compare"), {
    onDraw: (result) => page.charts.drawRouting(result, page.baseline?.analysis?.routing ?? null),
    onClear: () => page.charts.dropChart("routing"),
  });
  initTracePanel(byId("trace-panel"), { client: page.client, schema, getScenario: () => page.scenario,
    onUseScenario: (fitted) => applyAdvice({ change: fitted }) });
  initDiagnosePanel(byId("diagnose-panel"), { client: page.client, schema, getScenario: () => page.scenario,
    onApply: (change) => applyAdvice({ change }) });
  initExplanations(document.body);
  const { scenario, notices } = parse(window.location.search, schema);
  const base = baselineFromQuery(window.location.search);
  page.notices = [...notices, ...base.notices];
  renderNotices();
  loadScenarioIntoForm(scenario);
  renderCompareBar();
  if (base.scenario) pinBaseline(base.scenario);
  updateAddress(page.scenario, "commit");
  wireEvents();
  // For the console and the tests: the page's own calculator client and schema.
  window.kvcacheCalc = Object.freeze({
    call: (method, payload, options) => page.client.call(method, payload, options),
    setBudget: (method, ms) => { page.client.budgets[method] = ms; },
    schema,
  });
  document.body.dataset.formReady = "true";
  calculate(page.scenario);
}

main().catch((error) => {
  console.error(error);
  const formError = byId("form-error");
  if (formError) formError.textContent = String(error && error.message ? error.message : error);
});
