"""One GPU's memory budget as terms (weights, activation, non-torch, CUDA graphs, KV) with their sources."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetTerm:
    """One bar segment: GiB per GPU, whether the engine's share pays for it, and where the figure comes from."""

    name: str            # weights, activation, non_torch, cuda_graphs, kv, headroom; SGLang: dynamic, context
    gib: float
    inside_share: bool   # counted against gpu_memory_utilization (vLLM) / mem_fraction_static (SGLang)
    source: str


@dataclass(frozen=True)
class Budget:
    """What an engine's profile leaves for the KV cache on one GPU (kv_gib <= 0: nothing)."""

    engine: str
    memory_gib: float        # the GPU's memory as the driver reports it
    usable_gib: float        # the share the weights, the reserves and the KV cache come out of
    weights_gib: float
    reserve_gib: float       # activation + non-torch (what the share pays besides weights and KV)
    kv_gib: float
    terms: tuple[BudgetTerm, ...]
    settings: tuple[tuple[str, float | int | str, bool], ...]   # (engine flag, value, the engine's default)

    def to_json(self) -> dict:
        """The bar as the page draws it: each term's GiB and share of the GPU, and the settings behind it."""
        # weights that do not fit make the bar longer than the GPU: shares are of the longer of the two
        scale = max(self.memory_gib, sum(t.gib for t in self.terms))
        return {"engine": self.engine, "memory_gib": self.memory_gib, "share_gib": self.usable_gib,
                "scale_gib": scale,
                "terms": [{"name": t.name, "gib": t.gib, "share": t.gib / scale,
                           "inside_share": t.inside_share, "source": t.source} for t in self.terms],
                "settings": [{"flag": flag, "value": value, "engine_default": default}
                             for flag, value, default in self.settings]}


class InfeasibleMemory(ValueError):
    """The engine would refuse to start: no memory left for the KV cache, or not one max_model_len request.

    `budget` is the bar that was computed (Budget.to_json plus what the refusal found), for the page to show.
    """

    def __init__(self, message: str, budget: dict | None = None):
        super().__init__(message)
        self.budget = budget
