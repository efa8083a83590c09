"""Rewrite the field tables of docs/scenario.md from the schema (run after changing schema.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from kvcache_calc.schema import (CLASS_FIELDS, FIELDS, GROUP_FIELDS, LAW_FIELDS, LAW_KINDS,  # noqa: E402
                                 LAW_PARAMETERS, TIER_FIELDS, TIERS_POLICY, Field)
from kvcache_calc.traffic.distributions import PARAMETERS, ROLES  # noqa: E402
from kvcache_calc.traffic.spec import ROLE_OF  # noqa: E402

BEGIN, END = "<!-- fields: begin -->", "<!-- fields: end -->"


def row(f: Field) -> str:
    unit = f" ({f.unit})" if f.unit else ""
    if f.path in ("model.preset", "hardware.gpu"):
        allowed = "a preset id (presets.json)"
    elif f.path == "classes.prefix":
        allowed = "a list of up to 3 prefix group names"
    elif f.kind == "text" and f.pattern:
        allowed = f.pattern_text
    elif f.kind == "text":
        allowed = "lower-case letters, digits, - or _"
    elif f.kind == "law":
        kinds, high = ROLES[ROLE_OF[f.key]]
        allowed = "a number, or a law: " + ", ".join(kinds)
    else:
        allowed = f.range_text()
    default = "—" if f.default is None else f"`{json.dumps(f.default)}`" if isinstance(f.default, dict) \
        else f"`{f.default}`"
    key = f"`{f.url_key}`" if f.url_key else "—"
    return f"| `{f.path}`{unit} | {key} | {allowed} | {default} | {f.help_en} |"


def table() -> str:
    head = "| field | URL key | type / range | default | meaning |\n|---|---|---|---|---|"
    lines = [head, *(row(f) for f in FIELDS), row(TIERS_POLICY)]
    tiers = ["", "Each item of `tiers` (`tiers.<i>.<key>` in error messages; the URL carries a tier as",
             "`tier=<name>:<size>gb|tok[:<read GB/s>]`):", "", head, *(row(f) for f in TIER_FIELDS)]
    traffic = ["", "Each item of `workload.prefixes` (`workload.prefixes.<i>.<key>`) and of `workload.classes`",
               "(`workload.classes.<i>.<key>`):", "", head, *(row(f) for f in GROUP_FIELDS + CLASS_FIELDS + LAW_FIELDS),
               "", "Law parameters (`workload.classes.<i>.<law>.<parameter>`; tokens and seconds up to 10,000,000, "
               "turns up to 10,000):", "",
               "| kind | parameters |", "|---|---|",
               *(f"| `{kind}` | "
                 + (", ".join(f"`{p}`" for p in PARAMETERS.get(kind, ())) or
                    ("`quantiles`, or `values` and `weights`" if kind == "empirical" else "`components`: laws with a `weight`"))
                 + " |" for kind in LAW_KINDS),
               "", "| parameter | range | meaning |", "|---|---|---|",
               *(f"| `{p.key}` | {p.range_text()} | {p.help_en} |" for p in LAW_PARAMETERS)]
    return "\n".join(lines + tiers + traffic)


def main() -> None:
    doc = ROOT / "docs" / "scenario.md"
    text = doc.read_text(encoding="utf-8")
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), f"{BEGIN}\n{table()}\n{END}", text, flags=re.S)
    doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
