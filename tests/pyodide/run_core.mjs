// Run kvcache_calc.api.handle in the vendored Pyodide (the one _site/ ships) under Node, offline.
// Usage: node run_core.mjs <site dir> <calls.json>   calls.json: [[method, payload], ...]
// Prints one JSON array: the string handle() returned for each call.
// It checks the site's wheel against build.json's sha256 and unpacks it into site-packages, as the
// page's worker does.
import { createHash } from "node:crypto";
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

const manifest = JSON.parse(readFileSync(path.join(site, "build.json"), "utf8"));
const wheelBytes = new Uint8Array(readFileSync(path.join(site, "wheels", manifest.wheel)));
const digest = createHash("sha256").update(wheelBytes).digest("hex");
if (digest !== manifest.wheel_sha256) throw new Error(`${manifest.wheel}: sha256 ${digest} is not build.json's`);
pyodide.unpackArchive(wheelBytes, "wheel");
const handle = pyodide.pyimport("kvcache_calc.api").handle;

const calls = JSON.parse(readFileSync(callsFile, "utf8"));
const answers = calls.map(([method, payload]) => handle(method, JSON.stringify(payload)));
process.stdout.write(JSON.stringify({ python: pyodide.runPython("import sys; sys.version"), answers }));
