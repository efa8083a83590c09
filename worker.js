// Module Web Worker: boots Pyodide, installs the calculator's wheel, answers calls.
//
// Protocol (one message shape each way):
//   page -> worker  {id, method, payload}
//   worker -> page  {id, ok: true, result} | {id, ok: false, error: {message, field}}
//   worker -> page  {type: "progress", stage, fraction}      stage: runtime|micropip|calculator|ready
//   worker -> page  {type: "boot-error", error: {message, field: null}}
// Every call waits for the boot; a failed boot answers every call with the boot error.
// "load_trace" {file} | {url} is answered here, not by Python: it mounts a trace file for "replay"
// and "fit" and posts {type: "trace-progress", ...} while Python reads it (js/trace-worker.js).

import { loadPyodide } from "./pyodide/pyodide.mjs";
import { loadTrace } from "./js/trace-worker.js";

const siteRoot = new URL("./", self.location.href);
const pyodideRoot = new URL("pyodide/", siteRoot);

function reportProgress(stage, fraction) {
  self.postMessage({ type: "progress", stage, fraction });
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function boot() {
  reportProgress("runtime", 0.05);
  const manifestPromise = fetchJson(new URL("build.json", siteRoot));
  const pyodide = await loadPyodide({
    indexURL: pyodideRoot.href,
    lockFileURL: new URL("pyodide-lock.json", pyodideRoot).href,
    stdout: () => {},
    stderr: (line) => console.warn("[python]", line),
  });
  reportProgress("micropip", 0.6);

  // loadPackage does not reject when a download or integrity check fails: collect and throw.
  const loadErrors = [];
  await pyodide.loadPackage("micropip", {
    messageCallback: () => {},
    errorCallback: (message) => loadErrors.push(message),
  });
  if (loadErrors.length) throw new Error("loading micropip failed: " + loadErrors.join("; "));

  reportProgress("calculator", 0.8);
  const manifest = await manifestPromise;
  const micropip = pyodide.pyimport("micropip");
  const wheelUrl = new URL(`wheels/${manifest.wheel}`, siteRoot).href;
  try {
    await micropip.install(wheelUrl, { deps: false });
  } finally {
    micropip.destroy();
  }
  const api = pyodide.pyimport("kvcache_calc.api");
  tracePyodide = pyodide; // for "load_trace" (js/trace-worker.js)
  const handle = api.handle;
  reportProgress("ready", 1);
  return (method, payloadJson) => handle(method, payloadJson);
}

let tracePyodide = null;
const booted = boot();
booted.catch((error) => {
  self.postMessage({ type: "boot-error", error: { message: String(error?.message || error), field: null } });
});

function failure(id, message, field = null) {
  return { id, ok: false, error: { message: String(message), field } };
}

async function answer({ id, method, payload }) {
  let handle;
  try {
    handle = await booted;
  } catch (error) {
    return failure(id, "Python did not start: " + (error?.message || error));
  }
  let text;
  try {
    text = handle(String(method), JSON.stringify(payload ?? {}));
  } catch (error) {
    return failure(id, error?.message || error);
  }
  let reply;
  try {
    reply = JSON.parse(text);
  } catch (error) {
    return failure(id, "the calculator returned invalid JSON: " + error.message);
  }
  if (reply && reply.ok === true) return { id, ok: true, result: reply.result };
  const error = (reply && reply.error) || {};
  return failure(id, error.message || "unknown error", error.field ?? null);
}

async function answerLoadTrace({ id, payload }) {
  try {
    await booted;
    return { id, ok: true, result: await loadTrace(tracePyodide, payload, siteRoot) };
  } catch (error) {
    return failure(id, error?.message || (error?.errno !== undefined ? `file system error ${error.errno}` : error), "file");
  }
}

self.addEventListener("message", async (event) => {
  const request = event.data || {};
  if (request.method === "load_trace") { // a trace file for "replay"/"fit": mounted, never uploaded
    self.postMessage(await answerLoadTrace(request));
    return;
  }
  self.postMessage(await answer(request));
});
