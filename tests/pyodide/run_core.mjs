// Run kvcache_calc.api.handle in the vendored Pyodide (the one _site/ ships) under Node, offline.
// Usage: node run_core.mjs <site dir> <calls.json>   calls.json: [[method, payload], ...]
// Prints one JSON array: the string handle() returned for each call.
// It boots the site's Pyodide with the checked wheel (scripts/site_pyodide.mjs), as the page's worker does.
import { readFileSync } from "node:fs";
import { bootSitePyodide } from "../../scripts/site_pyodide.mjs";

const [siteDir, callsFile] = process.argv.slice(2);
if (!siteDir || !callsFile) {
  console.error("usage: node run_core.mjs <site dir> <calls.json>");
  process.exit(2);
}
const pyodide = await bootSitePyodide(siteDir);
const handle = pyodide.pyimport("kvcache_calc.api").handle;

const calls = JSON.parse(readFileSync(callsFile, "utf8"));
const answers = calls.map(([method, payload]) => handle(method, JSON.stringify(payload)));
process.stdout.write(JSON.stringify({ python: pyodide.runPython("import sys; sys.version"), answers }));
