// The site's own Pyodide booted under Node, offline, with the calculator's wheel checked against
// build.json's sha256 and unpacked into site-packages, as the page's worker does. Used by the build
// (scripts/make_snapshot.mjs) and the Pyodide parity tests (tests/pyodide/run_core.mjs).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** Pyodide from `siteDir`/pyodide with the wheel unpacked; `options` go to loadPyodide (e.g. _makeSnapshot). */
export async function bootSitePyodide(siteDir, options = {}) {
  const site = path.resolve(siteDir);
  const pyodideDir = path.join(site, "pyodide") + path.sep;
  const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL: pyodideDir,
    packageCacheDir: pyodideDir,
    lockFileURL: path.join(pyodideDir, "pyodide-lock.json"),
    stdout: (line) => console.error("[python]", line),
    stderr: (line) => console.error("[python]", line),
    ...options,
  });
  const manifest = JSON.parse(readFileSync(path.join(site, "build.json"), "utf8"));
  const wheelBytes = new Uint8Array(readFileSync(path.join(site, "wheels", manifest.wheel)));
  const digest = createHash("sha256").update(wheelBytes).digest("hex");
  if (digest !== manifest.wheel_sha256) throw new Error(`${manifest.wheel}: sha256 ${digest} is not build.json's`);
  pyodide.unpackArchive(wheelBytes, "wheel");
  return pyodide;
}
