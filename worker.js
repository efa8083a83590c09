// Module Web Worker: boots Pyodide, installs the calculator's wheel, answers calls.
// The boot restores build.json's memory snapshot (Python started, the calculator imported) when it
// checks out, else starts Pyodide normally (docs/web.md, "Boot and caching").
//
// Protocol (one message shape each way):
//   page -> worker  {id, method, payload}
//   worker -> page  {id, ok: true, result} | {id, ok: false, error: {message, field, details}}
//                   (details: Python's structured part of an error, e.g. {memory_budget}, or null)
//   worker -> page  {type: "progress", stage, fraction}      stage: runtime|calculator|ready
//   worker -> page  {type: "boot-error", error: {message, field: null}}
//   worker -> page  {type: "started", id}     Python begins the call (the page's budget for it starts now)
//   worker -> page  {type: "fatal", message}  the interpreter is unusable (stack or memory exhausted, an
//                                             unreadable answer): the page replaces this worker
// Every call waits for the boot; a failed boot answers every call with the boot error.
// "load_trace" {file} | {url} is answered here, not by Python: it mounts a trace file for "replay"
// and "fit" and posts {type: "trace-progress", ...} while Python reads it (js/trace-worker.js).
// "diagnose" first unpacks build.json's extra wheel for it (prometheus_client), once, SRI-checked.

import { loadPyodide } from "./pyodide/pyodide.mjs";
import { loadTrace } from "./js/trace-worker.js";

const siteRoot = new URL("./", self.location.href);
const pyodideRoot = new URL("pyodide/", siteRoot);
const SNAPSHOT_FILE = "snapshot/pyodide.bin.gz"; // build.json's snapshot: {sha256, pages_sha256, bytes, runs}

function reportProgress(stage, fraction) {
  self.postMessage({ type: "progress", stage, fraction });
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Subresource-integrity form of a hex sha256 ("sha256-<base64>"). */
function integrityOf(hex) {
  const bytes = (String(hex).match(/[0-9a-f]{2}/gi) || []).map((pair) => parseInt(pair, 16));
  return "sha256-" + btoa(String.fromCharCode(...bytes));
}

/**
 * A wheel from wheels/, checked against its sha256 from build.json by the browser (fetch
 * `integrity`): the same guarantee Pyodide's lock file gives its own packages.
 */
async function fetchVerifiedWheel(file, sha256, what) {
  const url = new URL(`wheels/${file}`, siteRoot);
  let response;
  try {
    response = await fetch(url, { integrity: integrityOf(sha256) });
  } catch (error) {
    throw new Error(`${what} ${file} failed to load or does not match the sha256 in build.json ` +
      `(${error?.message || error})`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const fetchWheel = (manifest) => fetchVerifiedWheel(manifest.wheel, manifest.wheel_sha256, "the calculator wheel");

/** Hex sha256 of `bytes`. */
async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The snapshot's inflated pages, kept in Cache Storage after the first boot (a warm boot reads them
// instead of gunzipping again), under their sha256: one entry, whichever build wrote it.
const PAGES_CACHE = "kvcache-snapshot";
const pagesKey = (sha256) => new URL(`snapshot/pages-${sha256}`, siteRoot).href;

/** {key, bytes} of the kept pages, or null (none, or no Cache Storage here). */
async function readKeptPages() {
  if (!self.caches) return null;
  const cache = await caches.open(PAGES_CACHE);
  const [request] = await cache.keys();
  if (!request) return null;
  const response = await cache.match(request);
  return response ? { key: request.url, bytes: await response.arrayBuffer() } : null;
}

/** Keep `pages` (already checked) for the next boot, replacing whatever was kept. */
async function keepPages(sha256, pages) {
  if (!self.caches) return;
  await caches.delete(PAGES_CACHE);
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(pagesKey(sha256), new Response(pages));
}

/** The gzipped pages from the site, checked against build.json's sha256, inflated. */
async function downloadPages(expected) {
  // revalidated: the name is the same in every build, build.json's sha256 tells them apart
  const response = await fetch(new URL(SNAPSHOT_FILE, siteRoot), { cache: "no-cache" });
  if (!response.ok) throw new Error(`${SNAPSHOT_FILE}: HTTP ${response.status}`);
  const packed = await response.arrayBuffer();
  if ((await sha256Hex(packed)) !== expected.sha256) throw new Error(`${SNAPSHOT_FILE} does not match the sha256 in build.json`);
  const inflated = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
  const pages = await new Response(inflated).arrayBuffer();
  if ((await sha256Hex(pages)) !== expected.pages_sha256) throw new Error(`${SNAPSHOT_FILE} inflates to other pages than build.json's`);
  return pages;
}

/**
 * The memory snapshot (Pyodide booted, the calculator imported; scripts/make_snapshot.mjs): the
 * pages kept by an earlier boot when their sha256 is build.json's, else downloaded (and kept once
 * Python is ready: `keep`). Rejects when the build has none or nothing matches: the caller then
 * boots normally.
 */
async function loadSnapshot(manifestPromise) {
  const kept = readKeptPages().catch((error) => {
    console.info("[worker] the kept snapshot is unreadable:", error?.message || error);
    return null;
  });
  const expected = (await manifestPromise).snapshot;
  if (!expected) throw new Error("this build has no snapshot");
  let pages = null;
  let keep = null;
  const local = await kept;
  if (local && local.key === pagesKey(expected.pages_sha256) && (await sha256Hex(local.bytes)) === expected.pages_sha256) {
    pages = local.bytes;
  } else {
    if (local) console.info("[worker] the kept snapshot is stale or damaged; downloading it again");
    pages = await downloadPages(expected);
    keep = () => keepPages(expected.pages_sha256, pages);
  }
  return { heap: heapFromPages(new Uint8Array(pages), expected), keep };
}

/** The heap the snapshot was taken from: zeros, with the pages copied to their [offset, length] runs. */
function heapFromPages(pages, { bytes, runs }) {
  const heap = new Uint8Array(bytes);
  let position = 0;
  for (const [offset, length] of runs) {
    heap.set(pages.subarray(position, position + length), offset);
    position += length;
  }
  if (position !== pages.length) throw new Error("the snapshot's pages do not fill its layout in build.json");
  return heap;
}

const pyodideOptions = () => ({
  indexURL: pyodideRoot.href,
  lockFileURL: new URL("pyodide-lock.json", pyodideRoot).href,
  stdout: () => {},
  stderr: (line) => console.warn("[python]", line),
});

/** Why this browser cannot use the snapshot (it needs both to check and inflate it), or null. */
function snapshotUnsupported() {
  if (typeof DecompressionStream !== "function") return "this browser has no DecompressionStream";
  if (!self.crypto?.subtle) return "no crypto.subtle here (not a secure context)";
  return null;
}

/**
 * The interpreter restored from the snapshot when there is a good one, else a normal boot. A bad
 * snapshot (corrupt, from another build, unsupported here) costs the attempt and a console.info
 * line: the page boots as without one.
 */
async function startPython(manifestPromise) {
  let reason = snapshotUnsupported();
  if (!reason) {
    const snapshotPromise = loadSnapshot(manifestPromise);
    const heap = snapshotPromise.then((snapshot) => snapshot.heap);
    heap.catch(() => {}); // loadPyodide awaits it; reported below
    try {
      const pyodide = await loadPyodide({ ...pyodideOptions(), _loadSnapshot: heap });
      pyodide.pyimport("kvcache_calc.api").destroy(); // the snapshot must hold the calculator
      return { pyodide, keepSnapshot: (await snapshotPromise).keep };
    } catch (error) {
      reason = String(error?.message || error).split("\n")[0];
    }
  }
  console.info("[worker] booting Python without the snapshot:", reason);
  return { pyodide: await loadPyodide(pyodideOptions()), keepSnapshot: null };
}

async function boot() {
  reportProgress("runtime", 0.05);
  // The wheel and the snapshot download while the runtime starts; a wheel is a zip that unpacks
  // straight into site-packages (no installer: micropip cost about 0.75 s of each boot and is not needed).
  buildManifest = fetchJson(new URL("build.json", siteRoot));
  const wheelPromise = buildManifest.then(fetchWheel);
  wheelPromise.catch(() => {}); // awaited below; do not report it twice
  const { pyodide, keepSnapshot } = await startPython(buildManifest);
  reportProgress("calculator", 0.8);
  // Also after a restore: the files back imports the snapshot did not make (replay, fit, ...).
  pyodide.unpackArchive(await wheelPromise, "wheel");
  const api = pyodide.pyimport("kvcache_calc.api");
  tracePyodide = pyodide; // for "load_trace" (js/trace-worker.js)
  const handle = api.handle;
  reportProgress("ready", 1);
  keepSnapshot?.().catch((error) => console.info("[worker] the snapshot is not kept for the next boot:", error?.message || error));
  return (method, payloadJson) => handle(method, payloadJson);
}

let tracePyodide = null;
let buildManifest = null; // build.json, fetched once by boot()

// Wheels a call needs beyond the calculator's (build.json's extra_wheels by method: prometheus_client
// for "diagnose"): fetched with `integrity` like fetchWheel and unpacked on the first such call.
const extraWheels = new Map();
function ensureExtraWheel(method) {
  if (!extraWheels.has(method)) {
    const loading = (async () => {
      const entry = (await buildManifest)?.extra_wheels?.[method];
      if (!entry) return;
      tracePyodide.unpackArchive(await fetchVerifiedWheel(entry.wheel, entry.sha256, "the wheel"), "wheel");
    })();
    loading.catch(() => extraWheels.delete(method)); // a failed load is tried again on the next call
    extraWheels.set(method, loading);
  }
  return extraWheels.get(method);
}

const booted = boot();
booted.catch((error) => {
  self.postMessage({ type: "boot-error", error: { message: String(error?.message || error), field: null } });
});

function failure(id, message, field = null, details = null) {
  return { id, ok: false, error: { message: String(message), field, details } };
}

/** The page replaces this worker; the call fails with code "crashed" (never garbage on screen). */
function fatal(id, message) {
  console.error("[worker] the Python runtime failed:", message);
  self.postMessage({ type: "fatal", message: String(message).slice(0, 300) });
  return failure(id, "the calculator failed: " + String(message).slice(0, 300));
}

async function answer({ id, method, payload }) {
  let handle;
  try {
    handle = await booted;
  } catch (error) {
    return failure(id, "Python did not start: " + (error?.message || error));
  }
  try {
    await ensureExtraWheel(String(method));
  } catch (error) {
    return failure(id, error?.message || error);
  }
  self.postMessage({ type: "started", id }); // nothing awaits from here to the answer: calls run one at a time
  let text;
  try {
    text = handle(String(method), JSON.stringify(payload ?? {}));
  } catch (error) {
    // api.handle answers every Python exception itself: anything thrown here is the runtime's own
    // failure (recursion or memory exhausted, a wasm trap), after which Pyodide cannot be trusted.
    return fatal(id, error?.message || String(error));
  }
  let reply;
  try {
    reply = JSON.parse(text);
  } catch (error) {
    return fatal(id, "the calculator returned unreadable output");
  }
  if (!reply || typeof reply !== "object" || typeof reply.ok !== "boolean") {
    return fatal(id, "the calculator returned an answer without ok");
  }
  if (reply && reply.ok === true) return { id, ok: true, result: reply.result };
  const error = (reply && reply.error) || {};
  const details = error.details && typeof error.details === "object" ? error.details : null;
  return failure(id, error.message || "unknown error", error.field ?? null, details);
}

async function answerLoadTrace({ id, payload }) {
  try {
    await booted;
    self.postMessage({ type: "started", id });
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
