"""Build step: the site's build hash into build.json, and sw.js with the hash and every file it caches.

Usage: python3 scripts/build_hash.py <site dir>   (after every other file of the site is written)
The hash covers every file's path and sha256 (build.json's own content excluded, since it holds the
hash); sw.js gets the hash and each file's sha256 and size, build.json's included, so any change
to any file is a new service worker, a new cache and integrity checks against the new bytes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "sw.js"
BUILD_LINE = 'const BUILD = { hash: "unbuilt", files: {} }; // replaced by scripts/build_hash.py'
# Files the service worker does not cache: itself (the browser fetches it) and GitHub Pages' marker.
NOT_CACHED = {"sw.js", ".nojekyll"}


def file_digests(site: Path) -> dict[str, tuple[str, int]]:
    """{path relative to the site: (sha256 hex, size)} of every cached file, sorted by path."""
    digests = {}
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site).as_posix()
        if path.is_file() and relative not in NOT_CACHED:
            data = path.read_bytes()
            digests[relative] = (hashlib.sha256(data).hexdigest(), len(data))
    return digests


def build_hash(digests: dict[str, tuple[str, int]]) -> str:
    lines = "".join(f"{path} {sha256}\n" for path, (sha256, _) in digests.items() if path != "build.json")
    return hashlib.sha256(lines.encode()).hexdigest()


def main() -> None:
    site = Path(sys.argv[1])
    manifest_path = site / "build.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["build_hash"] = build_hash(file_digests(site))
    manifest_path.write_text(json.dumps(manifest, indent=1))
    digests = file_digests(site)  # again: build.json changed
    template = TEMPLATE.read_text(encoding="utf-8")
    if template.count(BUILD_LINE) != 1:
        raise SystemExit(f"build_hash: {TEMPLATE} must hold the line {BUILD_LINE!r} once")
    build = {"hash": manifest["build_hash"][:16], "files": {path: list(entry) for path, entry in digests.items()}}
    line = f"const BUILD = {json.dumps(build, separators=(',', ':'))};"
    (site / "sw.js").write_text(template.replace(BUILD_LINE, line), encoding="utf-8")


if __name__ == "__main__":
    main()
