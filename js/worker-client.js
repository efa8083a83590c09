// The page's side of the worker protocol: call(method, payload) -> Promise of
// {ok: true, result} | {ok: false, error: {message, field, details, code?}}; progress and boot errors via callbacks.
// Calls made while Python boots wait in the worker and run as soon as it is ready.
//
// Python runs synchronously in the worker, so a call cannot be interrupted from outside: a call
// that outlives its budget (or is cancelled) ends the worker, and a fresh one boots in its place.
// The worker says when it starts each call ({type: "started", id}), so a budget never counts the
// boot or the calls queued before it. Error codes the client adds:
//   "timeout"    the call ran longer than its budget (error.budget_ms, error.method)
//   "cancelled"  cancel() ended it
//   "restarted"  it had started in a worker that was replaced for another call's sake
//   "crashed"    the worker died or answered something unreadable; it was replaced

/** Milliseconds a call may run once started, by method; DEFAULT_BUDGET_MS for the rest. */
export const BUDGET_MS = {
  predict: 8_000,
  analyze: 20_000,
  // a trace is read and replayed in one call each; a 100 MB trace takes minutes
  load_trace: 600_000,
  replay: 600_000,
  fit: 600_000,
};
export const DEFAULT_BUDGET_MS = 15_000;
/** Replacements in a row (no boot finished between them) before the client gives up. */
const MAX_RESTARTS_IN_A_ROW = 3;
/** A booted, idle worker starts a call at once; one that has not after this long is dead (e.g. closed). */
const STALL_MS = 5_000;

export class CalculatorClient {
  constructor(workerUrl, { onProgress = () => {}, onBootError = () => {}, onRestart = () => {} } = {}) {
    this.workerUrl = workerUrl;
    this.nextId = 1;
    this.pending = new Map(); // id -> {method, payload, resolve, timer, started}
    this.onProgress = onProgress;
    this.onBootError = onBootError;
    this.onRestart = onRestart;
    this.listeners = new Map(); // message type -> Set of handlers (e.g. "trace-progress")
    this.generation = 0; // +1 per worker; state kept in a worker (a mounted trace, a simulation) lives as long
    this.restartsInARow = 0;
    this.gaveUp = null;
    this.budgets = { ...BUDGET_MS }; // per method; the console and the tests may tighten one
    this.stallTimer = 0;
    this.start();
  }

  /** Handlers for messages the worker pushes by itself ({type, ...}), across restarts. */
  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
  }

  start() {
    this.generation++;
    this.booted = false;
    const worker = new Worker(this.workerUrl, { type: "module" });
    this.worker = worker;
    worker.addEventListener("message", (event) => {
      if (worker === this.worker) this.receive(event.data);
    });
    worker.addEventListener("error", (event) => {
      if (worker !== this.worker) return;
      event.preventDefault?.();
      const message = event.message || "the worker script failed to load";
      if (this.generation === 1 && !this.booted) {
        this.onBootError(message);
        this.failAll({ message, field: null });
      } else {
        this.replace("crashed", { message: `the calculator stopped (${message}); it was restarted` });
      }
    });
  }

  receive(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "progress") {
      if (message.stage === "ready") {
        this.booted = true;
        this.restartsInARow = 0;
        this.watchStall();
      }
      this.onProgress(message.stage, message.fraction);
      return;
    }
    if (message.type === "boot-error") {
      this.onBootError(message.error?.message || "unknown error");
      return;
    }
    if (message.type === "started") {
      this.startBudget(message.id);
      return;
    }
    if (message.type === "fatal") {
      this.replace("crashed", { message: `the calculator failed (${message.message || "unknown error"}); it was restarted` });
      return;
    }
    if (message.type) {
      for (const handler of this.listeners.get(message.type) || []) handler(message);
      return;
    }
    const call = this.pending.get(message.id);
    if (!call) return;
    this.settle(message.id, message.ok ? { ok: true, result: message.result }
      : { ok: false, error: { message: message.error?.message || "unknown error", field: message.error?.field ?? null,
        details: message.error?.details ?? null } });
  }

  startBudget(id) {
    const call = this.pending.get(id);
    if (!call) return;
    call.started = true;
    this.stopStallWatch();
    const budget = call.budgetMs ?? this.budgets[call.method] ?? DEFAULT_BUDGET_MS;
    call.timer = setTimeout(() => {
      this.replace("timeout", { message: `${call.method} ran longer than ${budget / 1000} s and was stopped`,
        method: call.method, budget_ms: budget }, id);
    }, budget);
  }

  settle(id, reply) {
    const call = this.pending.get(id);
    if (!call) return;
    clearTimeout(call.timer);
    this.pending.delete(id);
    call.resolve(reply);
    this.watchStall();
  }

  /** Calls wait and none runs in a booted worker: one must start soon, or the worker is gone. */
  watchStall() {
    const waiting = [...this.pending.values()];
    if (!this.booted || !waiting.length || waiting.some((call) => call.started)) {
      this.stopStallWatch();
      return;
    }
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = 0;
      const stillWaiting = [...this.pending.values()];
      if (this.booted && stillWaiting.length && !stillWaiting.some((call) => call.started)) {
        this.replace("crashed", { message: "the calculator stopped answering" });
      }
    }, STALL_MS);
  }

  stopStallWatch() {
    clearTimeout(this.stallTimer);
    this.stallTimer = 0;
  }

  failAll(error) {
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, error: { field: null, details: null, ...error } });
  }

  /**
   * End the worker and boot a fresh one. The call `culprit` (or, without one, every call that had
   * started) fails with `code`; calls that had not started are sent again to the new worker.
   */
  replace(code, error, culprit = null) {
    this.worker.terminate();
    this.stopStallWatch();
    const failed = { field: null, details: null, ...error, code };
    for (const [id, call] of [...this.pending]) {
      if (id === culprit || (culprit === null && call.started)) this.settle(id, { ok: false, error: failed });
      else if (call.started) this.settle(id, { ok: false, error: { ...failed, code: "restarted" } });
    }
    this.restartsInARow++;
    if (this.restartsInARow > MAX_RESTARTS_IN_A_ROW) {
      this.gaveUp = error.message;
      this.failAll({ message: error.message, code: "crashed" });
      this.onBootError(error.message);
      return;
    }
    this.start();
    for (const [id, call] of this.pending) this.worker.postMessage({ id, method: call.method, payload: call.payload });
    this.onRestart({ code, method: error.method ?? null });
  }

  /** Stop whatever the worker is running (a fresh worker takes over); those calls answer code "cancelled". */
  cancel() {
    if ([...this.pending.values()].some((call) => call.started)) this.replace("cancelled", { message: "cancelled" });
  }

  /** Calls sent and not answered yet. */
  get busy() {
    return this.pending.size > 0;
  }

  /** {budgetMs}: this call's budget instead of its method's. */
  call(method, payload = {}, { budgetMs = null } = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.gaveUp !== null) {
        resolve({ ok: false, error: { message: this.gaveUp, field: null, details: null, code: "crashed" } });
        return;
      }
      this.pending.set(id, { method, payload, resolve, timer: 0, started: false, budgetMs });
      this.worker.postMessage({ id, method, payload });
      this.watchStall();
    });
  }
}
