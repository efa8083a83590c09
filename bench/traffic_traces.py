"""Fitted scenarios against the replay of traces: the Mooncake samples and traces generated with known
structure (tenants, a document catalog, agent loops, heavy tails, document questions), in the three
formats the readers take. For each: fit, replay at ten capacities from 1% to 100% of the trace's block
footprint, predict at each, and the what-if of twice the traffic (the trace superposed with a copy of
itself shifted in time, its private blocks renamed, its shared prefixes kept) against the fitted model
at twice the arrival rate. Used by bench/traffic_accuracy.py traces.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from pathlib import Path

from kvcache_calc.api import predict
from kvcache_calc.fit import fit_details
from kvcache_calc.fit.conversations import link
from kvcache_calc.replay import replay, replay_requests
from kvcache_calc.trace import Request, TraceFile, run_in_time_order
from kvcache_calc.traffic.records import synthetic_trace, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0)
WINDOW_S = 3600.0
WARMUP_S = 3600.0
RENAMED = 1 << 56
SHIFT = 0.3
TWICE_SEEDS = (11, 12, 13)

GENERATED = {
    "tenants (Mooncake format, no conversation ids)": ("mooncake", {
        "cache": {"block_size": 512},
        "workload": {"arrival_rate": 1.5,
                     "prefixes": [{"name": "tenants", "tokens": 2048, "count": 30, "zipf": 1.0}],
                     "classes": [
                         {"name": "chat", "share": 2, "prefix": ["tenants"], "turns": {"dist": "geometric", "mean": 4},
                          "think_time_s": {"dist": "lognormal", "median": 60, "sigma": 1.0},
                          "user_tokens": {"dist": "lognormal", "median": 300, "sigma": 1.0},
                          "output_tokens": {"dist": "gamma", "mean": 350, "shape": 2}},
                         {"name": "oneshot", "share": 3, "prefix": ["tenants"], "turns": 1,
                          "user_tokens": {"dist": "lognormal", "median": 3000, "sigma": 1.2}, "output_tokens": 300}]}}),
    "document catalog (Bailian format, chat ids)": (
        "bailian", json.loads((ROOT / "tests" / "data" / "document_catalog_scenario.json").read_text())),
    "agent loops (AIPerf sessions)": ("aiperf", {
        "cache": {"block_size": 64},
        "workload": {"arrival_rate": 0.2,
                     "prefixes": [{"name": "tools", "tokens": 4000}],
                     "classes": [
                         {"name": "agent", "share": 1, "prefix": ["tools"], "turns": {"dist": "geometric", "mean": 25},
                          "think_time_s": {"dist": "gamma", "mean": 4, "shape": 2},
                          "context_tokens": 1500, "user_tokens": {"dist": "lognormal", "median": 400, "sigma": 1.1},
                          "output_tokens": {"dist": "lognormal", "median": 150, "sigma": 0.7}},
                         {"name": "chat", "share": 1, "prefix": ["tools"], "turns": {"dist": "geometric", "mean": 3},
                          "think_time_s": {"dist": "exponential", "mean": 60}, "user_tokens": 200,
                          "output_tokens": 300}]}}),
    "heavy tails (Mooncake format, 16-token blocks)": ("mooncake", {
        "cache": {"block_size": 16},
        "workload": {"arrival_rate": 0.5,
                     "prefixes": [{"name": "system", "tokens": 1200}],
                     "classes": [
                         {"name": "chat", "prefix": ["system"],
                          "turns": {"dist": "mixture", "components": [{"weight": 0.5, "dist": "fixed", "value": 1},
                                                                      {"weight": 0.5, "dist": "geometric", "mean": 8}]},
                          "think_time_s": {"dist": "lognormal", "median": 20, "sigma": 1.5},
                          "user_tokens": {"dist": "lognormal", "median": 120, "sigma": 1.5},
                          "output_tokens": {"dist": "lognormal", "median": 200, "sigma": 1.2},
                          "follow_ups": {"continue": 0.85, "branch": 0.15}}]}}),
    "document questions (Mooncake format)": ("mooncake", {
        "cache": {"block_size": 512},
        "workload": {"arrival_rate": 1.0,
                     "classes": [
                         {"name": "docqa", "share": 1, "turns": {"dist": "geometric", "mean": 5},
                          "think_time_s": {"dist": "gamma", "mean": 90, "shape": 0.7},
                          "context_tokens": {"dist": "lognormal", "median": 12000, "sigma": 0.8},
                          "user_tokens": 300, "output_tokens": 200, "follow_ups": {"branch": 0.8, "resend": 0.2}},
                         {"name": "oneshot", "share": 4, "turns": 1,
                          "user_tokens": {"dist": "lognormal", "median": 1500, "sigma": 1.3}, "output_tokens": 150}]}}),
}
SAMPLES = {"Mooncake conversation sample": ROOT / "examples" / "traces" / "mooncake_conversation_trace.jsonl",
           "Mooncake synthetic sample": ROOT / "examples" / "traces" / "mooncake_synthetic_trace.jsonl"}


def _doubled(path: Path, fmt: str | None, block_size: int) -> tuple[list[Request], tuple[float, float]]:
    """The trace and a copy of it SHIFT of its span later, the copy's private blocks renamed, shared
    prefixes kept; and the window where both run. (A copy wrapped around the end would put the
    conversations the end cuts short in the middle of the trace, where their missing turns lighten
    the load: hit rates a few points above those of twice the traffic.)"""
    source = TraceFile(str(path), fmt, block_size)
    convs = run_in_time_order(source, lambda reqs: link(reqs, block_size, source.fmt))
    times = [t.time for c in convs for t in c.turns]
    first, last = min(times), max(times)
    shift = SHIFT * (last - first)
    out = []
    for c in convs:
        for t in c.turns:
            out.append(Request(t.time, t.input, t.output, list(t.blocks), len(out) + 1))
            renamed = list(t.blocks[:c.shared_blocks]) + [RENAMED + x for x in t.blocks[c.shared_blocks:]]
            out.append(Request(t.time + shift, t.input, t.output, renamed, len(out) + 1))
    out.sort(key=lambda r: (r.time_s, r.line))
    return out, (first + shift, last + 1e-9)


def _compare(scenario: dict, points: list[dict]) -> list[dict]:
    rows = []
    for p in points:
        s = {**scenario, "cache": {**scenario["cache"], "capacity_tokens": p["capacity_tokens"]}}
        model = predict(s, with_advice=False)
        rows.append({"capacity_tokens": p["capacity_tokens"], "replay": p["token_hit_rate"],
                     "model": model["token_hit_rate"]})
    return rows


def one_trace(name: str, path: Path, fmt: str | None) -> dict:
    start = time.time()
    details = fit_details(path, None, fmt)
    scenario = details["scenario"]
    b = scenario["cache"]["block_size"]
    whole = replay(path, b, fmt=fmt)
    unique = whole["stats"]["unique_blocks"]
    caps = [max(1, int(unique * f)) * b for f in FRACTIONS]
    rows = _compare(scenario, replay(path, b, caps, fmt=fmt)["points"])
    big = predict({**scenario, "cache": {**scenario["cache"], "capacity_tokens": unique * b}}, with_advice=False)
    source = TraceFile(str(path), fmt, b)
    requests = run_in_time_order(source, list)
    quarter = requests[0].time_s + whole["stats"]["span_s"] / 4
    warm = replay_requests(requests, b, window=(quarter, math.inf))
    ceiling = {"replay": whole["ceiling"]["token_hit_rate"], "model_at_footprint": big["token_hit_rate"],
               "model_unlimited": big["ceiling_token_hit_rate"],
               "replay_after_first_quarter": warm["ceiling"]["token_hit_rate"]}
    doubled, window = _doubled(path, fmt, b)
    twice = {**scenario, "workload": {**scenario["workload"],
                                      "arrival_rate": scenario["workload"]["arrival_rate"] * 2}}
    double_caps = [max(1, int(2 * unique * f)) * b for f in FRACTIONS]
    what_if = _compare(twice, replay_requests(doubled, b, double_caps, window=window)["points"])
    return {"name": name, "format": details["format"], "block_size": b, "requests": details["requests"],
            "conversations": details["conversations"], "span_s": details["span_s"], "unique_blocks": unique,
            "fitted": scenario, "classes": details["classes"], "points": rows, "ceiling": ceiling,
            "what_if": what_if, "seconds": time.time() - start}


def _generated(job: tuple[str, str, dict]) -> dict:
    name, fmt, scenario = job
    twice = {**scenario, "workload": {**scenario["workload"], "arrival_rate": 2 * scenario["workload"]["arrival_rate"]}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trace.{fmt}.jsonl"
        write_jsonl(synthetic_trace(scenario, WINDOW_S, seed=7, fmt=fmt, warmup_s=WARMUP_S), path)
        out = one_trace(name, path, None)
        # the what-if's truth: the same workload generated at twice the rate, replayed at the same capacities
        caps = [r["capacity_tokens"] for r in out["what_if"]]
        runs, footprints = [], []
        for seed in TWICE_SEEDS:
            other = Path(tmp) / f"twice-{seed}.{fmt}.jsonl"
            write_jsonl(synthetic_trace(twice, WINDOW_S, seed=seed, fmt=fmt, warmup_s=WARMUP_S), other)
            again = replay(other, out["block_size"], caps)
            runs.append([p["token_hit_rate"] for p in again["points"]])
            footprints.append(again["stats"]["unique_blocks"])
    out["what_if_generated"] = [{"capacity_tokens": r["capacity_tokens"], "model": r["model"],
                                 "replays": [run[i] for run in runs], "replay": statistics.fmean(run[i] for run in runs)}
                                for i, r in enumerate(out["what_if"])]
    out["twice_footprints"] = footprints
    out["generated_from"] = scenario
    return out


def traces(args) -> dict:
    from multiprocessing import Pool

    jobs = [(name, fmt, scenario) for name, (fmt, scenario) in GENERATED.items()]
    with Pool(args.jobs) as pool:
        results = [one_trace(name, path, None) for name, path in SAMPLES.items()]
        results += pool.map(_generated, jobs, chunksize=1)
    return {"window_s": WINDOW_S, "warmup_s": WARMUP_S, "fractions": FRACTIONS, "traces": results}


def _worst(rows: list[dict]) -> float:
    return max(abs(r["model"] - r["replay"]) for r in rows) * 100


def _generated_cell(t: dict) -> str:
    rows = t.get("what_if_generated")
    if not rows:
        return "—"
    worst = max(rows, key=lambda r: abs(r["model"] - r["replay"]))
    lo, hi = min(worst["replays"]) * 100, max(worst["replays"]) * 100
    feet = t["twice_footprints"]
    return (f"{abs(worst['model'] - worst['replay']) * 100:.2f} ({lo:.1f}–{hi:.1f}% vs model {worst['model'] * 100:.1f}%; "
            f"footprint {min(feet) / 1000:,.0f}k–{max(feet) / 1000:,.0f}k blocks, twice this trace's "
            f"{2 * t['unique_blocks'] / 1000:,.0f}k)")


def traces_section(data: dict) -> list[str]:
    lines = ["## Fitted scenarios against the replay of traces", "",
             "Generated by `bench/traffic_accuracy.py traces`. Each trace is fitted (`kvcache-calc fit`), replayed "
             "(`kvcache-calc replay`, exact LRU) at ten capacities from 1% to 100% of its block footprint, and the "
             "fitted scenario predicted at each. The generated traces are windows of "
             f"{data['window_s'] / 3600:g} h of a workload that ran {data['warmup_s'] / 3600:g} h before the "
             "window opened (a real trace is a window too: conversations under way at its start, cut at its "
             "end); they were made with kvcache_calc.traffic.records, fitted without knowing the workload.", "",
             "The what-if: the trace superposed with a copy of itself shifted by 30% of its span (the copy's "
             "private blocks renamed, its shared prefixes kept), replayed and measured where both run, against "
             "the fitted model at twice the arrival rate, at ten capacities from 1% to 100% of twice the "
             "footprint. For a generated trace the source workload is known, so the last column replays it "
             "generated at twice the rate (three other seeds) at the same capacities. That also measures the "
             "fit's sampling error: one hour of a heavy-tailed workload is one sample of it, and the model "
             "fitted to it predicts that hour, not the average one (compare the footprints).", "",
             "| trace | requests | worst \\|model − replay\\| | median | ceiling: replay / model at the footprint | "
             "replay's ceiling past the first quarter | what-if (2x traffic): worst | the model at 2x against the "
             "source workload generated at 2x (3 seeds): worst, the seeds there |", "|---|---|---|---|---|---|---|---|"]
    for t in data["traces"]:
        med = statistics.median(abs(r["model"] - r["replay"]) * 100 for r in t["points"])
        c = t["ceiling"]
        lines.append(f"| {t['name']} | {t['requests']:,} | {_worst(t['points']):.2f} | {med:.2f} | "
                     f"{c['replay'] * 100:.1f}% / {c['model_at_footprint'] * 100:.1f}% | "
                     f"{c['replay_after_first_quarter'] * 100:.1f}% | {_worst(t['what_if']):.2f} | "
                     f"{_generated_cell(t)} |")
    lines += ["", "Points (token hit rate, replay → model), by share of the block footprint:", ""]
    head = "| trace | " + " | ".join(f"{f:.0%}" for f in data["fractions"]) + " |"
    lines += [head, "|---" * (len(data["fractions"]) + 1) + "|"]
    for t in data["traces"]:
        cells = [f"{r['replay'] * 100:.1f} → {r['model'] * 100:.1f}" for r in t["points"]]
        lines.append(f"| {t['name']} | " + " | ".join(cells) + " |")
    lines += ["", "The model's own ceiling (an unlimited cache in steady state) counts every reuse as a hit; a "
              "finite trace's ceiling misses what is reused after its end, so the table compares the replay's "
              "ceiling with the model at the trace's footprint. A trace also starts cold: what was cached before it "
              "opened is a miss in its replay and a hit in the model's steady state. The replay's ceiling "
              "measured past the trace's first quarter (the cache warmed by it) shows how much. What the fit "
              "found in each trace:", ""]
    for t in data["traces"]:
        w = t["fitted"]["workload"]
        groups = ", ".join(f"{g['name']} {g['tokens']} tokens" + (f" x{g['count']} (Zipf {g['zipf']})"
                                                                   if g.get("count", 1) > 1 else "")
                           for g in w["prefixes"]) or "none"
        classes = ", ".join(f"{c['name']} {c['share']:.0%}" for c in w["classes"])
        lines.append(f"- {t['name']}: prefixes {groups}; classes {classes}; "
                     f"{t['conversations']:,} conversations, {t['block_size']}-token blocks")
    return lines


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    print(json.dumps(traces(parser.parse_args()), indent=1)[:2000])
