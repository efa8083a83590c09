// Run kvcache_calc.api.handle in the vendored Pyodide (the one _site/ ships) under Node, offline.
// Usage: node run_core.mjs <site dir> <calls.json>   calls.json: [[method, payload], ...]
// Prints one JSON array: the string handle() returned for each call.
// It loads micropip through the site's rewritten pyodide-lock.json (integrity checks on) and
// installs the site's wheel with micropip, as the page's worker does.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [siteDir, callsFile] = process.argv.slice(2);
if (!siteDir || !callsFile) {
  console.error("usage: node run_core.mjs <site dir> <calls.json>");
  process.exit(2);
}
const site = path.resolve(siteDir);
const pyodideDir = path.join(site, "pyodide") + path.sep;
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);

const pyodide = await loadPyodide({
  indexURL: pyodideDir,
  packageCacheDir: pyodideDir,
  lockFileURL: path.join(pyodideDir, "pyodide-lock.json"),
  stdout: (line) => console.error("[python]", line),
  stderr: (line) => console.error("[python]", line),
});

const loadErrors = [];
await pyodide.loadPackage("micropip", { messageCallback: () => {}, errorCallback: (m) => loadErrors.push(m) });
if (loadErrors.length) throw new Error("loading micropip failed: " + loadErrors.join("; "));

const manifest = JSON.parse(readFileSync(path.join(site, "build.json"), "utf8"));
const wheelBytes = new Uint8Array(readFileSync(path.join(site, "wheels", manifest.wheel)));
pyodide.FS.writeFile(`/tmp/${manifest.wheel}`, wheelBytes);
const micropip = pyodide.pyimport("micropip");
await micropip.install(`emfs:/tmp/${manifest.wheel}`, { deps: false });
const handle = pyodide.pyimport("kvcache_calc.api").handle;

const calls = JSON.parse(readFileSync(callsFile, "utf8"));
const answers = calls.map(([method, payload]) => handle(method, JSON.stringify(payload)));
process.stdout.write(JSON.stringify({ python: pyodide.runPython("import sys; sys.version"), answers }));
