"""Capacity planning's closed forms vs simulation on random grids; writes docs/tiers_accuracy.md or
docs/routing_accuracy.md.

    PYTHONPATH=py:tests python3 bench/planning_accuracy.py --kind tiers [--scenarios 40] [--seed 7]
    PYTHONPATH=py:tests python3 bench/planning_accuracy.py --kind routing [--scenarios 40] [--seed 8]

Scenarios come from bench/accuracy.py's generator. tiers: one or two tiers below the GPU
(exclusive or inclusive); routing: 2 to 8 replicas under random, round-robin or least-loaded
routing (every replica simulated). The simulation is the package's (tests/test_tiers.py checks its
tier levels against a real TieredLRU block by block), two seeds of 60,000 requests.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests"), str(ROOT / "bench")]

from accuracy import random_scenarios  # noqa: E402
from kvcache_calc.api import predict  # noqa: E402
from kvcache_calc.scenario import parse_scenario  # noqa: E402
from kvcache_calc.simulate import plan_simulation, simulate_scenario  # noqa: E402

REQUESTS = 60_000


def tiered_scenarios(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for base in random_scenarios(count * 3, seed):
        if len(out) == count:
            break
        cache = base["cache"]
        gpu = cache["capacity_tokens"]
        policy = rng.choice(["exclusive", "exclusive", "inclusive"])
        sizes = [rng.choice([0.5, 1.0, 2.0, 4.0])]
        if rng.random() < 0.4:
            sizes.append(rng.choice([2.0, 4.0, 8.0]))
        tiers, above = [], gpu
        for i, factor in enumerate(sizes):
            tokens = int(gpu * factor) if policy == "exclusive" else int(above * (1.0 + factor))
            above = tokens
            tiers.append({"name": f"t{i}", "capacity_tokens": max(tokens, cache["block_size"]), "read_gb_per_s": 10})
        scenario = {**base, "tiers": tiers, "tiers_policy": policy}
        try:  # large top levels lengthen the warm-up: keep what the simulator accepts
            plan_simulation(parse_scenario(scenario), REQUESTS)
        except ValueError:
            continue
        out.append(scenario)
    return out


def routed_scenarios(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for base in random_scenarios(count * 3, seed):
        if len(out) == count:
            break
        replicas = rng.choice([2, 3, 4, 8])
        w = {**base["workload"], "arrival_rate": base["workload"]["arrival_rate"] * replicas}
        scenario = {**base, "workload": w,
                    "cluster": {"replicas": replicas, "routing": rng.choice(["random", "random", "round_robin"])}}
        try:
            plan_simulation(parse_scenario(scenario), REQUESTS)
        except ValueError:
            continue
        out.append(scenario)
    return out


def measure(scenario: dict) -> dict:
    runs = [simulate_scenario(parse_scenario(scenario), seed=seed, requests=REQUESTS) for seed in (1, 2)]
    names = list(runs[0]["tier_token_hit_rates"])
    sim = {name: statistics.fmean(r["tier_token_hit_rates"][name] for r in runs) for name in names}
    sim["total"] = statistics.fmean(r["token_hit_rate"] for r in runs)
    sim["request"] = statistics.fmean(r["request_hit_rate"] for r in runs)
    sim["noise"] = abs(runs[0]["token_hit_rate"] - runs[1]["token_hit_rate"]) / 2
    return sim


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("tiers", "routing"), default="tiers")
    parser.add_argument("--scenarios", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    out = ROOT / "docs" / f"{args.kind}_accuracy.md"
    start = time.time()
    make = tiered_scenarios if args.kind == "tiers" else routed_scenarios
    scenarios = make(args.scenarios, args.seed)
    with Pool(args.jobs) as pool:
        sims = pool.map(measure, scenarios)
    rows, errors = [], {"gpu": [], "tiers": [], "total": [], "request": []}
    for sc, sim in zip(scenarios, sims):
        p = predict(sc, with_advice=False)
        tiers = p["tier_token_hit_rates"]
        errors["gpu"].append(tiers["gpu"] - sim["gpu"])
        errors["tiers"].extend(tiers[n] - sim[n] for n in tiers if n != "gpu")
        errors["total"].append(p["token_hit_rate"] - sim["total"])
        errors["request"].append(p["request_hit_rate"] - sim["request"])
        rows.append({"scenario": sc, "predicted": tiers, "predicted_total": p["token_hit_rate"],
                     "predicted_request": p["request_hit_rate"], "simulated": sim})
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))

    def line(name, errs):
        e = sorted(abs(x) * 100 for x in errs)
        return f"| {name} | {len(e)} | {statistics.median(e):.2f} | {e[int(0.9 * (len(e) - 1))]:.2f} | {e[-1]:.2f} |"

    what = ("each with one or two tiers below the GPU (exclusive or inclusive)" if args.kind == "tiers" else
            "each on 2 to 8 replicas routed without regard to the prefix (every replica simulated)")
    text = [
        f"# {'Tiers' if args.kind == 'tiers' else 'Prefix-blind routing'}: closed form vs simulation",
        "",
        f"Generated by `bench/planning_accuracy.py --kind {args.kind} --scenarios {args.scenarios} --seed {args.seed}`",
        f"({time.time() - start:.0f} s). {len(scenarios)} random scenarios from the core accuracy grid, {what};",
        f"the package simulator, two seeds of {REQUESTS:,} requests each. Errors in points of the token hit rate",
        "(request hit rate for the last row).",
        "",
        "| share of prompt tokens | values | median | p90 | max |",
        "|---|---|---|---|---|",
        line("GPU", errors["gpu"]),
        *([line("each tier below", errors["tiers"])] if errors["tiers"] else []),
        line("all tiers (token hit rate)" if args.kind == "tiers" else "token hit rate", errors["total"]),
        line("request hit rate", errors["request"]),
        "",
        "Largest token errors, with the simulation's seed-to-seed half-difference:",
        "",
        "| scenario | GPU tokens | predicted | simulated | noise |",
        "|---|---|---|---|---|",
    ]
    worst = sorted(rows, key=lambda r: -abs(r["predicted_total"] - r["simulated"]["total"]))[:8]
    for r in worst:
        sc = r["scenario"]
        w = sc["workload"]
        label = (f"{w['turns_dist']} turns {w['turns_mean']}, {w['think_dist']} think {w['think_time_s']:g} s, ")
        if args.kind == "tiers":
            label += sc["tiers_policy"] + " " + ", ".join(f"{t['capacity_tokens']:,}" for t in sc["tiers"])
        else:
            label += f"{sc['cluster']['replicas']} replicas {sc['cluster']['routing']}"
        text.append(f"| {label} | {sc['cache']['capacity_tokens']:,} | {r['predicted_total'] * 100:.2f}% | "
                    f"{r['simulated']['total'] * 100:.2f}% | {r['simulated']['noise'] * 100:.2f} |")
    out.write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
