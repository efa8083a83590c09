"""Two results side by side: every number a baseline and the current result share, and its change."""

from __future__ import annotations

import math
from typing import Any


def _numbers(result: dict, prefix: str = "") -> dict[str, float]:
    """{dotted key: value} of every finite number in a result (nested objects as a.b; lists and flags skipped)."""
    out: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_numbers(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def compare_results(baseline: Any, current: Any) -> dict:
    """{"deltas": {key: {"baseline", "current", "change", "relative"}}} for the numbers both results carry.

    `change` is current - baseline (for a rate, in its own unit: 0.03 is 3 percentage points);
    `relative` is change / |baseline|, None when the baseline is 0.
    """
    if not isinstance(baseline, dict) or not isinstance(current, dict):
        raise ValueError("baseline, current: expected two result objects (e.g. two `predict` results)")
    before, after = _numbers(baseline), _numbers(current)
    deltas = {}
    for key in before.keys() & after.keys():
        change = after[key] - before[key]
        deltas[key] = {"baseline": before[key], "current": after[key], "change": change,
                       "relative": change / abs(before[key]) if before[key] != 0 else None}
    return {"deltas": dict(sorted(deltas.items()))}
