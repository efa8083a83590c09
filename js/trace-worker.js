// Worker side of the trace panel (js/trace-panel.js): method "load_trace" makes a trace file
// readable by Python without uploading or copying it.
//
//   page -> worker  {id, method: "load_trace", payload: {file: File|Blob} | {url: "traces/x.jsonl"}}
//   worker -> page  {id, ok: true, result: {path, name, bytes}} | {id, ok: false, error}
//   worker -> page  {type: "trace-progress", stage: "fetch"|"read", path, loaded, total, heap_bytes}
//
// The file is mounted read-only with Emscripten's WORKERFS: Python's reads become
// FileReaderSync reads of 1 MiB slices of the File, so a 100 MB trace is never held in memory
// (the browser keeps the File on disk; a fetched sample is a Blob). Every read of a mounted file reports how far
// it got ("read"), which gives a progress bar while the (synchronous) replay or fit runs.
// `url` must be on the site's own origin (the sample traces); it is fetched as a stream.

const MOUNT = "/trace-input";
const REPORT_EVERY = 0.01; // fraction of the file between two "read" reports

let hooked = false;
let mounted = false;
const WINDOW_BYTES = 1 << 20;
const EMPTY_WINDOW = { contents: null, start: 0, bytes: new Uint8Array(0) };
let readWindow = EMPTY_WINDOW; // the last bytes read from a mounted File
let lastReport = { path: "", fraction: -1 };

let runtime = null; // the Pyodide of the last load_trace

/** The interpreter's WebAssembly memory in bytes (it only grows: after a replay, its peak), or null. */
function heapBytes() {
  const heap = runtime?._module?.HEAPU8;
  return heap ? heap.buffer.byteLength : null;
}

function post(message) {
  self.postMessage({ type: "trace-progress", heap_bytes: heapBytes(), ...message });
}

/**
 * A file name safe for the FS: the base name with control and path characters replaced, extension
 * kept. Letters of any script and spaces stay: Python's messages name the file by this name (never
 * by the mount point), so it should be the name the user chose.
 */
export function safeName(name) {
  const base = String(name || "").split(/[\\/]/).pop() || "";
  const cleaned = base.replace(/[\u0000-\u001f\u007f:*?"<>|]/g, "_").replace(/^\.+/, "").slice(-120);
  return cleaned || "trace.jsonl";
}

/**
 * Replace WORKERFS's read once: reads go through a 1 MiB window (one FileReaderSync call per
 * window instead of one per 4-8 KiB Python read), and reads of mounted traces report their position.
 */
function hookReads(FS) {
  if (hooked) return;
  const WORKERFS = FS.filesystems.WORKERFS;
  WORKERFS.stream_ops.read = function readThroughWindow(stream, buffer, offset, length, position) {
    const node = stream.node;
    const total = node.size || 0;
    if (position >= total) return 0;
    const end = Math.min(total, position + length);
    if (readWindow.contents !== node.contents || position < readWindow.start || end > readWindow.start + readWindow.bytes.length) {
      const stop = Math.min(total, position + Math.max(length, WINDOW_BYTES));
      const bytes = new Uint8Array(WORKERFS.reader.readAsArrayBuffer(node.contents.slice(position, stop)));
      readWindow = { contents: node.contents, start: position, bytes };
    }
    buffer.set(readWindow.bytes.subarray(position - readWindow.start, end - readWindow.start), offset);
    const path = stream.path || "";
    const fraction = end / total;
    if (path !== lastReport.path || fraction < lastReport.fraction
        || fraction - lastReport.fraction >= REPORT_EVERY || end >= total) {
      lastReport = { path, fraction };
      post({ stage: "read", path, loaded: end, total });
    }
    return end - position;
  };
  hooked = true;
}

async function fetchBlob(url, siteRoot) {
  const target = new URL(url, siteRoot);
  if (target.origin !== siteRoot.origin) throw new Error(`trace: ${url} is not on this site`);
  const response = await fetch(target);
  if (!response.ok) throw new Error(`trace: ${target.pathname}: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length")) || 0;
  if (!response.body) return response.blob();
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    post({ stage: "fetch", path: target.pathname, loaded, total });
  }
  return new Blob(chunks);
}

/** Handle one "load_trace" call; `pyodide` is the booted runtime. */
export async function loadTrace(pyodide, payload, siteRoot) {
  const { file, url } = payload || {};
  let blob;
  let name;
  if (file instanceof Blob) {
    blob = file;
    name = safeName(file.name);
  } else if (typeof url === "string" && url) {
    blob = await fetchBlob(url, siteRoot);
    name = safeName(url);
  } else {
    throw new Error("file: expected a File or a site URL");
  }
  runtime = pyodide;
  const FS = pyodide.FS;
  hookReads(FS);
  if (mounted) FS.unmount(MOUNT); // the previous trace: one mounted at a time
  mounted = false;
  readWindow = EMPTY_WINDOW;
  if (!FS.analyzePath(MOUNT).exists) FS.mkdir(MOUNT);
  FS.mount(FS.filesystems.WORKERFS, { blobs: [{ name, data: blob }] }, MOUNT);
  mounted = true;
  lastReport = { path: "", fraction: -1 };
  return { path: `${MOUNT}/${name}`, name, bytes: blob.size };
}
