"""Rewrite the field tables of docs/scenario.md from the schema (run after changing schema.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from kvcache_calc.schema import FIELDS, TIER_FIELDS, TIERS_POLICY, Field  # noqa: E402

BEGIN, END = "<!-- fields: begin -->", "<!-- fields: end -->"


def row(f: Field) -> str:
    unit = f" ({f.unit})" if f.unit else ""
    if f.path in ("model.preset", "hardware.gpu"):
        allowed = "a preset id (presets.json)"
    elif f.kind == "text":
        allowed = "lower-case letters, digits, - or _"
    else:
        allowed = f.range_text()
    default = "—" if f.default is None else f"`{f.default}`"
    key = f"`{f.url_key}`" if f.url_key else "—"
    return f"| `{f.path}`{unit} | {key} | {allowed} | {default} | {f.help_en} |"


def table() -> str:
    head = "| field | URL key | type / range | default | meaning |\n|---|---|---|---|---|"
    lines = [head, *(row(f) for f in FIELDS), row(TIERS_POLICY)]
    tiers = ["", "Each item of `tiers` (`tiers.<i>.<key>` in error messages; the URL carries a tier as",
             "`tier=<name>:<size>gb|tok[:<read GB/s>]`):", "", head, *(row(f) for f in TIER_FIELDS)]
    return "\n".join(lines + tiers)


def main() -> None:
    doc = ROOT / "docs" / "scenario.md"
    text = doc.read_text(encoding="utf-8")
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), f"{BEGIN}\n{table()}\n{END}", text, flags=re.S)
    doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
