"""The replaced tool's one-line request hit rate, kept to show next to ours."""

from __future__ import annotations


def seed_hit_rate(capacity_tokens: float, arrival_rate: float, turns_mean: float,
                  think_time_s: float, tokens_per_turn: float) -> float:
    """(1 - 1/L) x min(1, cached / active) conversations, as the seed computed it."""
    if capacity_tokens <= 0 or turns_mean <= 0:
        return 0.0
    intra = 1.0 - 1.0 / turns_mean
    active = arrival_rate * turns_mean * think_time_s
    cached = capacity_tokens / max(turns_mean * tokens_per_turn, 1e-12)
    if active <= cached:
        return intra
    return max(0.0, min(1.0, intra * cached / active))
