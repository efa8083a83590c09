// The page's side of the worker protocol: call(method, payload) -> Promise of
// {ok: true, result} | {ok: false, error: {message, field, details}}; progress and boot errors via callbacks.
// Calls made while Python boots wait in the worker and run as soon as it is ready.

export class CalculatorClient {
  constructor(workerUrl, { onProgress = () => {}, onBootError = () => {} } = {}) {
    this.nextId = 1;
    this.pending = new Map();
    this.onProgress = onProgress;
    this.onBootError = onBootError;
    this.worker = new Worker(workerUrl, { type: "module" });
    this.worker.addEventListener("message", (event) => this.receive(event.data));
    this.worker.addEventListener("error", (event) => {
      const message = event.message || "the worker script failed to load";
      this.onBootError(message);
      this.failAll(message);
    });
  }

  receive(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "progress") {
      this.onProgress(message.stage, message.fraction);
      return;
    }
    if (message.type === "boot-error") {
      this.onBootError(message.error?.message || "unknown error");
      return;
    }
    const resolve = this.pending.get(message.id);
    if (!resolve) return;
    this.pending.delete(message.id);
    resolve(message.ok ? { ok: true, result: message.result }
      : { ok: false, error: { message: message.error?.message || "unknown error", field: message.error?.field ?? null,
        details: message.error?.details ?? null } });
  }

  failAll(message) {
    for (const resolve of this.pending.values()) resolve({ ok: false, error: { message, field: null } });
    this.pending.clear();
  }

  call(method, payload = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, method, payload });
    });
  }
}
