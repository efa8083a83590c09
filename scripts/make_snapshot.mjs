// Build step: a memory snapshot of the site's Pyodide with the calculator imported, so the page's
// worker restores a booted interpreter instead of starting Python (docs/web.md, "Boot and caching").
// Usage: node scripts/make_snapshot.mjs <site dir> <out file (.bin.gz)>
// It boots the very Pyodide files the site ships (the snapshot carries their BUILD_ID and is only
// valid for them), unpacks the site's wheel after checking it against build.json's sha256, imports
// the modules the first calls need, and writes the heap's non-zero 64 KiB pages gzip-compressed (half
// the heap is zero pages; the worker inflates only the rest). Prints {bytes, runs, pages_sha256} as
// JSON: the heap's length, the [offset, length] runs of the pages written, in order, and their sha256.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { bootSitePyodide } from "./site_pyodide.mjs";

// Modules the page's first predict and analyze import (the others load on first use, as without a snapshot).
const PRELOADED_MODULES = ["kvcache_calc.api", "kvcache_calc.deploy"];

const [siteDir, outFile] = process.argv.slice(2);
if (!siteDir || !outFile) {
  console.error("usage: node scripts/make_snapshot.mjs <site dir> <out file>");
  process.exit(2);
}
const pyodide = await bootSitePyodide(siteDir, { _makeSnapshot: true });
for (const name of PRELOADED_MODULES) pyodide.pyimport(name).destroy();

const PAGE = 65536;

/** [offset, length] runs of the pages of `bytes` that hold anything but zeros. */
function nonZeroRuns(bytes) {
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 8));
  const runs = [];
  for (let offset = 0; offset < bytes.length; offset += PAGE) {
    const end = Math.min(offset + PAGE, bytes.length);
    let zero = true;
    for (let word = offset / 8; word < Math.floor(end / 8) && zero; word++) zero = words[word] === 0n;
    for (let byte = Math.floor(end / 8) * 8; byte < end && zero; byte++) zero = bytes[byte] === 0;
    if (zero) continue;
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === offset) last[1] += end - offset;
    else runs.push([offset, end - offset]);
  }
  return runs;
}

const snapshot = pyodide.makeMemorySnapshot();
const runs = nonZeroRuns(snapshot);
const packed = Buffer.concat(runs.map(([offset, length]) => snapshot.subarray(offset, offset + length)));
writeFileSync(outFile, gzipSync(packed));
const pagesSha256 = createHash("sha256").update(packed).digest("hex");
process.stdout.write(JSON.stringify({ bytes: snapshot.length, runs, pages_sha256: pagesSha256 }));
