"""sha256 over the Python package's sources: build_site.sh stores it in _site/build.json, and the
tests compare it with the working tree so a stale _site/ fails with a clear message."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def source_hash(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in (root / "py").rglob("*") if p.is_file() and p.suffix in (".py", ".json")
                   and "__pycache__" not in p.parts and ".egg-info" not in str(p))
    for path in files + [root / "pyproject.toml"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    print(source_hash(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
