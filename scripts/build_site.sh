#!/usr/bin/env bash
# Build the static site into _site/ (called by `make site`; the Pages workflow runs the same).
# Inputs: the page sources at the repo root, node_modules/ (npm ci), the Python package in py/.
# Nothing is downloaded: the worker unpacks the project's wheel itself (no micropip). Node (which npm
# needs anyway) makes the Pyodide memory snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SITE=_site
PYODIDE_SRC=node_modules/pyodide
CHART_SRC=node_modules/chart.js/dist/chart.umd.min.js

if [[ ! -f "$PYODIDE_SRC/pyodide.mjs" || ! -f "$CHART_SRC" ]]; then
  echo "build_site: node_modules is missing pyodide or chart.js; run 'npm ci' first" >&2
  exit 1
fi
if ! "$PYTHON" -c "import setuptools.command.bdist_wheel" 2>/dev/null \
   && ! "$PYTHON" -c "import wheel" 2>/dev/null; then
  echo "build_site: building the wheel needs 'wheel' (or setuptools>=70.1); installing wheel" >&2
  "$PYTHON" -m pip install --quiet "wheel==0.45.1"
fi
if ! "$PYTHON" -c "import markdown, sys; sys.exit(markdown.__version__ != '3.11')" 2>/dev/null; then
  echo "build_site: rendering the docs needs 'markdown==3.11'; installing it" >&2
  "$PYTHON" -m pip install --quiet "markdown==3.11"
fi

rm -rf "$SITE"
mkdir -p "$SITE/js" "$SITE/pyodide" "$SITE/wheels" "$SITE/vendor"

# 1. The page.
cp index.html style.css app.js worker.js "$SITE/"
cp js/*.js "$SITE/js/"
cp -L presets.json "$SITE/presets.json"
touch "$SITE/.nojekyll"

# 1b. The sample traces ("try an example" in the trace panel), with their source and license.
TRACES_SRC=examples/traces
if ! compgen -G "$TRACES_SRC/*.jsonl" > /dev/null; then
  echo "build_site: no sample traces in $TRACES_SRC" >&2
  exit 1
fi
mkdir -p "$SITE/traces"
cp "$TRACES_SRC"/*.jsonl "$TRACES_SRC/README.md" "$TRACES_SRC/LICENSE-Apache-2.0" "$SITE/traces/"

# 1c. The docs (docs/*.md) as pages of the site, with their images and an index.
"$PYTHON" scripts/render_docs.py "$SITE/docs"

# 2. The schema, so the page can build its form and parse the URL before Pyodide boots.
PYTHONPATH=py "$PYTHON" -m kvcache_calc schema --json > "$SITE/schema.json"

# 3. Pyodide runtime (only what it loads at run time) and Chart.js.
for f in pyodide.mjs pyodide.asm.mjs pyodide.asm.wasm python_stdlib.zip; do
  cp "$PYODIDE_SRC/$f" "$SITE/pyodide/$f"
done
cp "$CHART_SRC" "$SITE/vendor/chart.umd.min.js"

# 4. The project's wheel (a clean build dir so deleted modules do not linger).
WHEEL_TMP=$(mktemp -d)
trap 'rm -rf "$WHEEL_TMP"' EXIT
rm -rf build
"$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WHEEL_TMP" . 2>&1 \
  | { grep -v -e '^WARNING: Location' -e 'pip as the .root. user' || true; } >&2
rm -rf build
PROJECT_WHEEL=$(cd "$WHEEL_TMP" && ls kvcache_calc-*.whl)
install -m 0644 "$WHEEL_TMP/$PROJECT_WHEEL" "$SITE/wheels/$PROJECT_WHEEL"

# 4b. Vendored wheels loaded on first use (vendor/wheels/manifest.json: prometheus_client for "diagnose"),
#     each checked against its sha256, copied with its license files; build.json lists them (extra_wheels).
"$PYTHON" - "$SITE" <<'PY'
import hashlib, json, shutil, sys
site = sys.argv[1]
for w in json.load(open("vendor/wheels/manifest.json"))["wheels"]:
    got = hashlib.sha256(open(f"vendor/wheels/{w['wheel']}", "rb").read()).hexdigest()
    if got != w["sha256"]:
        sys.exit(f"build_site: vendor/wheels/{w['wheel']} has sha256 {got}, the manifest says {w['sha256']}")
    for name in (w["wheel"], w["license_file"], w.get("notice_file")):
        if name:
            shutil.copyfile(f"vendor/wheels/{name}", f"{site}/wheels/{name}")
PY

# 5. A lock file that lists no packages (we ship none of Pyodide's: nothing can be fetched from a
#    CDN), and a build manifest the worker reads; it checks the wheel against wheel_sha256.
SOURCE_SHA256=$("$PYTHON" scripts/source_hash.py)
"$PYTHON" - "$PYODIDE_SRC/pyodide-lock.json" "$SITE" "$PROJECT_WHEEL" "$SOURCE_SHA256" <<'PY'
import hashlib, json, sys
lock_path, site, project_wheel, source_sha256 = sys.argv[1:]
lock = json.load(open(lock_path))
def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
lock["packages"] = {}
with open(f"{site}/pyodide/pyodide-lock.json", "w") as out:
    json.dump(lock, out, indent=1, sort_keys=True)
pyodide_version = json.load(open("node_modules/pyodide/package.json"))["version"]
manifest = {"pyodide_version": pyodide_version, "python": lock["info"]["python"],
            "wheel": project_wheel, "wheel_sha256": sha256(f"{site}/wheels/{project_wheel}"),
            "source_sha256": source_sha256}
manifest["extra_wheels"] = {w["for"]: {"wheel": w["wheel"], "sha256": w["sha256"], "version": w["version"]}
                            for w in json.load(open("vendor/wheels/manifest.json"))["wheels"]}
with open(f"{site}/build.json", "w") as out:
    json.dump(manifest, out, indent=1)
PY

# 6. A memory snapshot of the shipped Pyodide with the calculator imported (Node boots the very
#    files in _site/pyodide); build.json has its sha256, which the worker checks, and its layout.
mkdir -p "$SITE/snapshot"
node scripts/make_snapshot.mjs "$SITE" "$SITE/snapshot/pyodide.bin.gz" > "$WHEEL_TMP/snapshot.json"
"$PYTHON" - "$SITE" "$WHEEL_TMP/snapshot.json" <<'PY'
import hashlib, json, sys
site, layout_path = sys.argv[1:]
layout = json.load(open(layout_path))
manifest = json.load(open(f"{site}/build.json"))
manifest["snapshot"] = {"sha256": hashlib.sha256(open(f"{site}/snapshot/pyodide.bin.gz", "rb").read()).hexdigest(),
                        "pages_sha256": layout["pages_sha256"], "bytes": layout["bytes"], "runs": layout["runs"]}
with open(f"{site}/build.json", "w") as out:
    json.dump(manifest, out, indent=1)
PY

# 7. The build hash (every file's path and sha256) in build.json, and the service worker: sw.js with
#    the hash and the sha256 of every file it caches (build.json included) written into it.
"$PYTHON" scripts/build_hash.py "$SITE"

find "$SITE" -type f -exec chmod 0644 {} +
echo "build_site: wrote $SITE/ ($(du -sh "$SITE" | cut -f1), wheel $PROJECT_WHEEL)"
