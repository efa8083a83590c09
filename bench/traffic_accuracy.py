"""Real traffic: the closed form against the simulator on random multi-class scenarios, and fitted
scenarios against the replay of real and generated traces; writes docs/traffic_accuracy.md.

    PYTHONPATH=py python3 bench/traffic_accuracy.py grid [--scenarios 60] [--seed 2026] [--requests 200000]
    PYTHONPATH=py python3 bench/traffic_accuracy.py routing [--scenarios 24] [--seed 77] [--requests 100000]
    PYTHONPATH=py python3 bench/traffic_accuracy.py traces
    PYTHONPATH=py python3 bench/traffic_accuracy.py report      # rewrites the markdown from the stored JSON

`grid` simulates every scenario twice (seeds 1 and 2) with kvcache_calc.simulate (the run-level LRU,
checked block for block against the block engine and the trace replay in tests/test_traffic.py).
`traces` fits each trace, replays it at ten capacities from 1% to 100% of its block footprint and
compares the fitted scenario's prediction at each, plus the what-if of twice the traffic.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "bench")]

from class_grid import random_scenario  # noqa: E402
from kvcache_calc.api import predict  # noqa: E402
from kvcache_calc.resolve import traffic_of  # noqa: E402
from kvcache_calc.scenario import parse_scenario  # noqa: E402
from kvcache_calc.simulate import Simulation  # noqa: E402

DOCS = ROOT / "docs"
GRID_JSON = DOCS / "traffic_accuracy_grid.json"
TRACES_JSON = DOCS / "traffic_accuracy_traces.json"
ROUTING_JSON = DOCS / "traffic_accuracy_routing.json"
REPORT = DOCS / "traffic_accuracy.md"


def with_capacity(s: dict, rng: random.Random) -> dict:
    """The scenario with a cache from 5% to 120% of a rough working set (blocks idle or finished over a
    think time, and the shared nodes a few dozen variants deep)."""
    sc = parse_scenario(s)
    tr = traffic_of(sc)
    work = 0.0
    for ct in tr.classes:
        idle, done, dead = ct.table.block_power_sums
        work += tr.arrival_rate * ct.share * max(ct.think.mean, 1.0) * (idle[1] + done[1] + dead[1])
    shared = sum(k.blocks * min(sum(n for n, _ in k.bins), 50) for k in tr.kinds)
    blocks = max(tr.max_shared_blocks + 24, int((work + shared) * rng.choice([0.05, 0.15, 0.3, 0.5, 0.8, 1.2])))
    out = json.loads(json.dumps(s))
    out["cache"]["capacity_tokens"] = blocks * sc.cache.block_size
    return out


def grid_scenarios(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        s = with_capacity(random_scenario(rng), rng)
        try:
            Simulation(parse_scenario(s), 1, 1000)   # within the simulator's limits
        except ValueError:
            continue
        out.append(s)
    return out


def simulate_twice(job: tuple[dict, int]) -> dict:
    s, requests = job
    start = time.time()
    runs = []
    for seed in (1, 2):
        sim = Simulation(parse_scenario(s), seed, requests)
        while not sim.step(10**6):
            pass
        runs.append(sim.result())
    return {"runs": [{k: r[k] for k in ("token_hit_rate", "request_hit_rate", "requests_measured", "classes")}
                     for r in runs], "seconds": time.time() - start}


def cold_caches() -> None:
    """Empty every memo of the package (turn tables, traffic, predictions): a prediction timed cold."""
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("kvcache_calc"):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def grid(args) -> None:
    scenarios = grid_scenarios(args.scenarios, args.seed)
    with Pool(args.jobs) as pool:
        sims = pool.map(simulate_twice, [(s, args.requests) for s in scenarios], chunksize=1)
    rows = []
    for s, sim in zip(scenarios, sims):
        cold_caches()
        start = time.time()
        p = predict(s, with_advice=False)
        rows.append({"scenario": s, "sim": sim, "predict_s": time.time() - start,
                     "model": {"token_hit_rate": p["token_hit_rate"], "request_hit_rate": p["request_hit_rate"],
                               "classes": [{k: c[k] for k in ("name", "token_hit_rate", "request_hit_rate")}
                                           for c in p["classes"]]}})
    GRID_JSON.write_text(json.dumps({"seed": args.seed, "requests": args.requests, "rows": rows}, indent=1))
    report()


def _sim_mean(row: dict, key: str) -> float:
    runs = row["sim"]["runs"]
    return sum(r[key] * r["requests_measured"] for r in runs) / sum(r["requests_measured"] for r in runs)


def _noise(row: dict, key: str) -> float:
    values = [r[key] for r in row["sim"]["runs"]]
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def _errors(rows: list[dict]) -> tuple[list[float], list[float], list[float]]:
    """Token and request errors (model - simulation) per row, and the simulations' noise (points, sorted)."""
    tok = [r["model"]["token_hit_rate"] - _sim_mean(r, "token_hit_rate") for r in rows]
    req = [r["model"]["request_hit_rate"] - _sim_mean(r, "request_hit_rate") for r in rows]
    noise = sorted(max(_noise(r, "token_hit_rate"), _noise(r, "request_hit_rate")) * 100 for r in rows)
    return tok, req, noise


def _summary(errors: list[float]) -> str:
    e = sorted(abs(x) * 100 for x in errors)
    return f"{statistics.median(e):.2f} | {e[int(0.9 * (len(e) - 1))]:.2f} | {e[-1]:.2f}"


def _describe(s: dict) -> str:
    w = s["workload"]
    parts = []
    for g in w.get("prefixes", []):
        parts.append(f"{g['name']} {g['tokens']} tok" + (f" x{g['count']} zipf {g['zipf']}" if g.get("count", 1) > 1 else ""))
    for c in w["classes"]:
        turns = c.get("turns")
        think = c.get("think_time_s")
        kinds = "/".join(sorted(c.get("follow_ups", {"continue": 1})))
        law = lambda d: d["dist"] if isinstance(d, dict) else "fixed"  # noqa: E731
        parts.append(f"{c['name']}: N {law(turns) if turns is not None else 'geometric'}, Z "
                     f"{law(think) if think is not None else 'exponential'}, u {law(c.get('user_tokens', 200))}, "
                     f"{kinds}" + (f" via {'+'.join(c['prefix'])}" if c.get("prefix") else ""))
    cache = s["cache"]
    return (f"λ={w['arrival_rate']:g}/s; " + "; ".join(parts) +
            f"; b={cache['block_size']}, {cache['capacity_tokens'] // cache['block_size']:,} blocks, {cache['admission']}")


def grid_section() -> list[str]:
    if not GRID_JSON.exists():
        return []
    data = json.loads(GRID_JSON.read_text())
    rows = data["rows"]
    tok, req, noise = _errors(rows)
    classes = []
    for r in rows:
        for m, sims in zip(r["model"]["classes"], zip(*[run["classes"] for run in r["sim"]["runs"]])):
            got = [c["token_hit_rate"] for c in sims if c["token_hit_rate"] is not None]
            if got and sum(c["requests"] for c in sims) >= 5000:
                classes.append(m["token_hit_rate"] - statistics.mean(got))
    speed = sorted(r["predict_s"] for r in rows)
    lines = ["## The closed form on random multi-class scenarios", "",
             f"Generated by `bench/traffic_accuracy.py grid --scenarios {len(rows)} --seed {data['seed']} "
             f"--requests {data['requests']}`. {len(rows)} random scenarios (bench/class_grid.py): 1 to 4 classes "
             "of chat, agent loops, document questions and one-shot requests; system prompts, tenant catalogs "
             "and document catalogs with Zipf popularity (up to 20,000 documents); fixed, lognormal, gamma, "
             "exponential, empirical and mixture laws for tokens and think times; geometric, fixed, mixture and "
             "empirical turn counts; continue, resend and branch follow-ups; engine and trace-replay admission; "
             "caches from 5% to 120% of the working set. Each is simulated by kvcache_calc.simulate for two seeds "
             f"of {data['requests']:,} measured requests. None was used to tune the model.", "",
             "Errors in percentage points, |prediction - simulation|:", "",
             "| | median | p90 | max |", "|---|---|---|---|",
             f"| token hit rate | {_summary(tok)} |", f"| request hit rate | {_summary(req)} |",
             f"| per class, token hit rate ({len(classes)} classes with 5,000+ requests) | {_summary(classes)} |",
             "", f"Simulation noise (standard error of the two seeds): median {statistics.median(noise):.2f}, "
             f"max {noise[-1]:.2f} points. Prediction time (CPython, this machine, no memo warm): median "
             f"{statistics.median(speed) * 1000:.0f} ms, max {speed[-1] * 1000:.0f} ms.", "",
             "Worst cases:", "", "| scenario | simulated token / request | predicted | noise |", "|---|---|---|---|"]
    order = sorted(range(len(rows)), key=lambda i: -max(abs(tok[i]), abs(req[i])))[:8]
    for i in order:
        r = rows[i]
        lines.append(f"| {_describe(r['scenario'])} | {_sim_mean(r, 'token_hit_rate') * 100:.2f} / "
                     f"{_sim_mean(r, 'request_hit_rate') * 100:.2f} | {r['model']['token_hit_rate'] * 100:.2f} / "
                     f"{r['model']['request_hit_rate'] * 100:.2f} | "
                     f"{max(_noise(r, 'token_hit_rate'), _noise(r, 'request_hit_rate')) * 100:.2f} |")
    return lines


def routed_scenarios(count: int, seed: int) -> list[dict]:
    """Grid scenarios on 2, 4 or 8 replicas routed without regard to the prefix, the load scaled with them."""
    rng = random.Random(seed + 1)
    out = []
    for s in grid_scenarios(count, seed):
        n = rng.choice([2, 4, 8])
        s["cluster"] = {"replicas": n, "routing": rng.choice(["random", "round_robin"])}
        s["workload"]["arrival_rate"] *= n
        try:
            Simulation(parse_scenario(s), 1, 1000)
        except ValueError:
            continue
        out.append(s)
    return out


def routing(args) -> None:
    scenarios = routed_scenarios(args.scenarios, args.seed)
    with Pool(args.jobs) as pool:
        sims = pool.map(simulate_twice, [(s, args.requests) for s in scenarios], chunksize=1)
    rows = []
    for s, sim in zip(scenarios, sims):
        p = predict(s, with_advice=False)
        rows.append({"scenario": s, "sim": sim, "model": {"token_hit_rate": p["token_hit_rate"],
                                                          "request_hit_rate": p["request_hit_rate"]}})
    ROUTING_JSON.write_text(json.dumps({"seed": args.seed, "requests": args.requests, "rows": rows}, indent=1))
    report()


def routing_section() -> list[str]:
    if not ROUTING_JSON.exists():
        return []
    data = json.loads(ROUTING_JSON.read_text())
    rows = data["rows"]
    tok, req, noise = _errors(rows)
    lines = ["## Prefix-blind routing of mixed traffic", "",
             f"Generated by `bench/traffic_accuracy.py routing --scenarios {len(rows)} --seed {data['seed']} "
             f"--requests {data['requests']}`. Scenarios of the grid above on 2, 4 or 8 replicas under random or "
             "round-robin routing (the arrival rate scaled with the replicas), every replica simulated, two seeds "
             f"of {data['requests']:,} measured requests each.", "",
             "| | median | p90 | max |", "|---|---|---|---|",
             f"| token hit rate | {_summary(tok)} |", f"| request hit rate | {_summary(req)} |", "",
             f"Simulation noise: median {statistics.median(noise):.2f}, max {noise[-1]:.2f} points.", "",
             "| scenario | replicas, routing | simulated token / request | predicted | noise |", "|---|---|---|---|---|"]
    order = sorted(range(len(rows)), key=lambda i: -max(abs(tok[i]), abs(req[i])))[:5]
    for i in order:
        r = rows[i]
        c = r["scenario"]["cluster"]
        lines.append(f"| {_describe(r['scenario'])} | {c['replicas']}, {c['routing']} | "
                     f"{_sim_mean(r, 'token_hit_rate') * 100:.2f} / {_sim_mean(r, 'request_hit_rate') * 100:.2f} | "
                     f"{r['model']['token_hit_rate'] * 100:.2f} / {r['model']['request_hit_rate'] * 100:.2f} | "
                     f"{max(_noise(r, 'token_hit_rate'), _noise(r, 'request_hit_rate')) * 100:.2f} |")
    return lines


def report() -> None:
    lines = ["# Real traffic: accuracy of classes, distributions and fitted traces", ""]
    lines += grid_section()
    routed = routing_section()
    if routed:
        lines += [""] + routed
    traces = TRACES_JSON.exists() and json.loads(TRACES_JSON.read_text())
    if traces:
        from traffic_traces import traces_section
        lines += [""] + traces_section(traces)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:24]))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grid")
    g.add_argument("--scenarios", type=int, default=60)
    g.add_argument("--seed", type=int, default=2026)
    g.add_argument("--requests", type=int, default=200_000)
    g.add_argument("--jobs", type=int, default=2)
    r = sub.add_parser("routing")
    r.add_argument("--scenarios", type=int, default=24)
    r.add_argument("--seed", type=int, default=77)
    r.add_argument("--requests", type=int, default=100_000)
    r.add_argument("--jobs", type=int, default=2)
    t = sub.add_parser("traces")
    t.add_argument("--jobs", type=int, default=2)
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "grid":
        grid(args)
    elif args.command == "routing":
        routing(args)
    elif args.command == "traces":
        from traffic_traces import traces
        TRACES_JSON.write_text(json.dumps(traces(args), indent=1))
        report()
    else:
        report()


if __name__ == "__main__":
    main()
