"""One cluster under every routing: the model's hit rates, and the simulated ones step by step."""

from __future__ import annotations

from .evaluate import predict_scenario
from .scenario import Scenario, parse_scenario
from .schema import ROUTINGS
from .simulate import Simulation

SIMULATED_KEYS = ("token_hit_rate", "token_hit_rate_ci", "request_hit_rate", "request_hit_rate_ci")
DEFAULT_REQUESTS = 20_000


def routed_scenarios(s: Scenario) -> list[Scenario]:
    """The scenario under each routing, affinity first (affinity only for one replica)."""
    routings = ROUTINGS if s.cluster.replicas > 1 else ("affinity",)
    cluster = s.raw.get("cluster") or {}
    return [parse_scenario({**s.raw, "cluster": {**cluster, "routing": r}}) for r in routings]


def model_comparison(s: Scenario, routed: list[Scenario] | None = None) -> dict:
    """The model's rows, one per routing, with what each loses against the best (simulated_* null)."""
    rows = []
    for scenario in routed or routed_scenarios(s):
        p = predict_scenario(scenario)
        rows.append({"routing": scenario.cluster.routing, "token_hit_rate": p["token_hit_rate"],
                     "request_hit_rate": p["request_hit_rate"], "ttft_s": p["ttft_s"], "gpus_saved": p["gpus_saved"],
                     **{f"simulated_{k}": None for k in SIMULATED_KEYS}, "simulated_requests": None})
    best = rows[0]["token_hit_rate"]
    for row in rows:
        row["token_hit_rate_loss"] = best - row["token_hit_rate"]
    return {"replicas": s.cluster.replicas, "current": s.cluster.routing, "rows": rows}


class RoutingSimulation:
    """Every routing's simulation in turn, stepped like one Simulation (progress spans them all)."""

    def __init__(self, s: Scenario, seed: int = 1, requests: int | None = None):
        routed = routed_scenarios(s)
        self.comparison = model_comparison(s, routed)
        self.simulations = [Simulation(r, seed, requests or DEFAULT_REQUESTS) for r in routed]
        self.index = 0
        self.estimated_touches = sum(sim.plan.estimated_touches for sim in self.simulations)

    @property
    def progress(self) -> float:
        if self.index >= len(self.simulations):
            return 1.0
        done = sum(sim.plan.estimated_touches for sim in self.simulations[:self.index])
        current = self.simulations[self.index]
        return min(1.0, (done + current.progress * current.plan.estimated_touches) / max(self.estimated_touches, 1.0))

    def step(self, max_touches: int = 200_000) -> bool:
        """Advance the current routing's simulation; True once every routing is simulated."""
        if self.index < len(self.simulations):
            sim = self.simulations[self.index]
            if sim.step(max_touches):
                result = sim.result()
                row = self.comparison["rows"][self.index]
                row.update({f"simulated_{k}": result[k] for k in SIMULATED_KEYS})
                row["simulated_requests"] = result["requests_measured"]
                self.index += 1
        return self.index >= len(self.simulations)

    def result(self) -> dict:
        """The comparison, simulated_* filled for the routings simulated so far."""
        return self.comparison

    def run(self) -> dict:
        """Simulate every routing to the end."""
        while not self.step(10**9):
            pass
        return self.result()
