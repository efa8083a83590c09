"""Command line: `kvcache-calc predict|simulate SCENARIO.json [--json]`, `solve`, `deploy`, `schema`,
`presets`, `replay|fit TRACE [--json]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import api
from .fit import fit_details, fit_table
from .replay import replay, replay_table
from .sensitivity import solve_capacity
from .scenario import parse_scenario
from .simulate import Simulation

ROWS = (
    ("token_hit_rate", "Token hit rate (cached prompt tokens / prompt tokens)", "pct"),
    ("request_hit_rate", "Request hit rate (whole history found)", "pct"),
    ("ceiling_token_hit_rate", "Ceiling token hit rate (infinite cache)", "pct"),
    ("ceiling_request_hit_rate", "Ceiling request hit rate", "pct"),
    ("seed_formula_hit_rate", "Old one-line formula's hit rate", "pct"),
    ("characteristic_time_s", "Characteristic time T", "s"),
    ("kv_bytes_per_token", "KV bytes per token (replica)", "int"),
    ("cache_capacity_tokens", "Cache capacity per replica", "tokens"),
    ("kv_gib_per_gpu", "KV memory per GPU", "gib"),
    ("derived_qps", "Requests per second", "num"),
    ("prompt_tokens_per_s", "Prompt tokens per second", "num"),
    ("cached_tokens_per_s", "Cached tokens per second", "num"),
    ("ideal_prefill_speedup", "Ideal prefill speedup", "x"),
    ("cache_utilization", "Cache utilisation", "pct"),
    ("occupancy_system_prompt", "  held by the system prompt", "pct"),
    ("occupancy_live", "  held by conversations that return in time", "pct"),
    ("occupancy_idle", "  held by conversations evicted before they return", "pct"),
    ("occupancy_finished", "  held by finished conversations", "pct"),
    ("concurrent_conversations", "Conversations in progress", "num"),
    ("running_requests", "Requests running per replica", "num"),
    ("pinned_tokens", "  their KV, pinned", "tokens"),
    ("evictable_capacity_tokens", "  left evictable for idle prefixes", "tokens"),
    ("ttft_no_cache_s", "Prefill time per request, no cache", "ms"),
    ("ttft_s", "Prefill time per request, with cache", "ms"),
    ("ttft_saved_s", "TTFT saved per request", "ms"),
    ("prefill_gpus", "Prefill GPUs busy (cluster)", "num"),
    ("gpus_saved", "GPUs of prefill the cache saves", "num"),
    ("money_saved_per_day", "Money saved per day", "money"),
)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    return {"pct": f"{value * 100:.2f}%", "s": f"{value:,.1f} s", "int": f"{value:,.0f}",
            "tokens": f"{value:,.0f} tokens", "gib": f"{value:,.2f} GiB", "x": f"{value:.2f}x",
            "num": f"{value:,.2f}", "ms": f"{value * 1000:,.1f} ms", "money": f"{value:,.2f} per day"}[kind]


def _table(result: dict) -> str:
    width = max(len(label) for _, label, _ in ROWS)
    lines = []
    lines += [f"{label:<{width}}  {_fmt(result.get(key), kind)}" for key, label, kind in ROWS]
    lines += [f"warning: {w['message_en']}" for w in result.get("warnings", [])]
    if result.get("memory_budget"):
        lines += ["", *_budget_lines(result["memory_budget"])]
    if len(result.get("tiers", [])) > 1:
        lines += ["", "Tier    capacity          token hits  request hits  idle block kept  load vs recompute"]
        for t in result["tiers"]:
            speed = "—" if t["load_s_per_token"] is None else (
                f"{t['load_s_per_token'] * 1e6:.2f} vs {t['recompute_s_per_token'] * 1e6:.2f} us/token"
                + ("" if t["load_pays"] else " (recomputed)"))
            kept = "never evicted" if t["characteristic_time_s"] is None else f"{t['characteristic_time_s']:,.1f} s"
            lines.append(f"{t['name']:<7} {t['capacity_tokens']:>14,} tok  {t['token_hit_rate'] * 100:9.2f}%  "
                         f"{t['request_hit_rate'] * 100:11.2f}%  {kept:>15}  {speed}")
    if result.get("routing_comparison"):
        simulated = result["routing_comparison"]["rows"][0]["simulated_token_hit_rate"] is not None
        lines += ["", "Routing        token hits  request hits" + ("  simulated token hits" if simulated else "")]
        for r in result["routing_comparison"]["rows"]:
            line = f"{r['routing']:<13} {r['token_hit_rate'] * 100:9.2f}%  {r['request_hit_rate'] * 100:11.2f}%"
            if simulated:
                line += f"  {r['simulated_token_hit_rate'] * 100:9.2f}% ± {r['simulated_token_hit_rate_ci'] * 100:.2f}"
            lines.append(line)
    if result.get("advice"):
        lines += ["", "Advice (best first)"]
        for a in result["advice"]:
            lines.append(f"  {a['token_hit_rate'] * 100:6.2f}% token hits  {a['why']}")
    return "\n".join(lines)


def _budget_lines(budget: dict) -> list[str]:
    """One GPU's memory as the engine counts it: each term, the settings, what its log will say."""
    engine = "SGLang" if budget["engine"] == "sglang" else "vLLM"
    lines = [f"Memory of one GPU ({budget['memory_gib']:,.2f} GiB) as {engine} counts it"]
    for t in budget["terms"]:
        where = "" if t["inside_share"] else "  (outside the engine's share)"
        lines.append(f"  {t['name']:<12} {t['gib']:>9,.2f} GiB{where}")
    lines.append("  settings: " + " ".join(f"{s['flag']} {s['value']}".strip() + (" (default)" if s["engine_default"] else "")
                                           for s in budget["settings"]))
    logged = ("GPU KV cache size" if engine == "vLLM" else "KV Cache is allocated. #tokens")
    lines.append(f"  {engine} logs \"{logged}: {budget['engine_kv_tokens']:,}\"; the prefix cache holds "
                 f"{budget['prefix_capacity_tokens']:,} tokens")
    if budget.get("max_concurrency") is not None:
        lines.append(f"  Maximum concurrency for {budget['max_model_len']:,} tokens per request: "
                     f"{budget['max_concurrency']:.2f}x")
    return lines


def _simulate(args) -> dict:
    scenario = parse_scenario(_read_scenario(args.scenario))
    sim = Simulation(scenario, api._seed(args.seed), api._count("requests", args.requests),
                     api._seconds(args.duration))
    tty = sys.stderr.isatty()
    step = 1 if tty else 10  # a pipe or a log gets a line per 10%
    shown = -step
    while not sim.step():
        pct = int(sim.progress * 100) // step * step
        if pct > shown:
            shown = pct
            line = f"simulating: {pct:3d}% ({sim.touches:,} block touches)"
            print("\r" + line if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
    if tty:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return api._with_prediction(scenario, sim.result())


def _simulation_table(out: dict) -> str:
    lines = []
    for key, label in (("token_hit_rate", "Token hit rate"), ("request_hit_rate", "Request hit rate")):
        ci = out.get(key + "_ci")
        line = f"{label:<18} {out[key] * 100:6.2f}%" + (f" ± {ci * 100:.2f}" if ci is not None else "")
        if out.get("prediction"):
            line += f"   (predicted {out['prediction'][key] * 100:.2f}%)"
        lines.append(line)
    tiers = out.get("tier_token_hit_rates", {})
    if len(tiers) > 1:
        predicted = (out.get("prediction") or {}).get("tier_token_hit_rates", {})
        for name, value in tiers.items():
            line = f"  tier {name:<11} {value * 100:6.2f}% of prompt tokens"
            if name in predicted:
                line += f"   (predicted {predicted[name] * 100:.2f}%)"
            lines.append(line)
    lines.append(f"routing {out['routing']}: {out['replicas_simulated']} replica(s) simulated")
    lines.append(f"{out['requests_measured']:,} requests measured over {out['window_s']:,.0f} s after "
                 f"{out['warmup_s']:,.0f} s of warm-up; {out['block_touches']:,} block touches; seed {out['seed']}")
    return "\n".join(lines)


def _trace_command(args) -> dict:
    if args.command == "replay":
        return replay(args.trace, args.block_size, args.capacity_tokens, args.policy, args.curve_points,
                      args.format, args.kv_bytes_per_token)
    return fit_details(args.trace, args.block_size, args.format, args.capacity_tokens)


def _read_text(path: str, what: str) -> str:
    """A text file's contents ('-': stdin), or a ValueError naming `what` could not be read and why."""
    try:
        return sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: cannot read {path!r}: {getattr(exc, 'strerror', None) or exc}") from None


def _read_scenario(path: str) -> dict:
    text = _read_text(path, "scenario file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"scenario file: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _deploy_text(out: dict, advice_id: str | None) -> str:
    """A deployment's shell text, its notes as comments, and where each flag is defined."""
    if advice_id is not None and advice_id not in out["advice"]:
        raise ValueError(f"--advice: {advice_id!r} is not an advice item of this scenario; they are: "
                         + (", ".join(out["advice"]) or "none"))
    d = out["advice"][advice_id] if advice_id is not None else out["current"]
    lines = [f"# {d['engine']} {d['version']}: {d['model_id']}, {d['replicas']} replica(s)", d["text"].rstrip()]
    lines += [f"# note: {n['message_en']}" for n in d["notes"]]
    lines.append("# flags, as the engine's source defines them:")
    lines += [f"#   {f['name']}: {f['source_url']}" for f in d["flags"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 0, or 2 for bad input."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # the reader closed the pipe (`| head`): stop quietly, and let nothing flush into it at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="kvcache-calc", description="KV-cache prefix hit-rate calculator")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="predict hit rates for a scenario JSON file ('-' for stdin)")
    p.add_argument("scenario")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--simulate-routing", action="store_true",
                   help="check the routing comparison of a cluster of several replicas by simulation")
    p = sub.add_parser("simulate", help="simulate a scenario block by block (seeded)")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, default=1)
    length = p.add_mutually_exclusive_group()
    length.add_argument("--requests", type=int, help="requests to measure (default 100,000)")
    length.add_argument("--duration", type=float, help="seconds of traffic to measure")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("solve", help="cache size needed for a target hit rate")
    p.add_argument("scenario")
    p.add_argument("--target", type=float, required=True)
    p.add_argument("--metric", default="token_hit_rate", choices=("token_hit_rate", "request_hit_rate"))
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("replay", help="replay a request trace (Mooncake/AIPerf, Bailian JSONL, CSV; .gz)")
    p.add_argument("trace")
    p.add_argument("--block-size", type=int)
    p.add_argument("--capacity-tokens", default="inf", help="comma-separated tokens, 'inf' for unlimited")
    p.add_argument("--policy", default="lru", choices=("lru", "fifo", "lfu", "optimal"))
    p.add_argument("--curve-points", type=int, default=50)
    p.add_argument("--format", choices=("mooncake", "bailian", "csv"))
    p.add_argument("--kv-bytes-per-token", type=float)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("fit", help="fit a scenario workload to a trace's conversations")
    p.add_argument("trace")
    p.add_argument("--block-size", type=int)
    p.add_argument("--format", choices=("mooncake", "bailian", "csv"))
    p.add_argument("--capacity-tokens", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("deploy", help="the engine command lines that set up a scenario (and each advice item)")
    p.add_argument("scenario")
    p.add_argument("--engine", choices=("vllm", "sglang"), help="overrides the scenario's deploy.engine")
    p.add_argument("--advice", metavar="ID", help="the command lines of this advice item instead")
    p.add_argument("--json", action="store_true", help="every deployment, its flags and their sources, as JSON")
    p = sub.add_parser("diagnose", help="a vLLM/SGLang /metrics scrape (two for rates) next to the scenario's model")
    p.add_argument("scenario")
    p.add_argument("scrape", help="a file of Prometheus text from /metrics ('-' for stdin)")
    p.add_argument("--before", metavar="SCRAPE", help="an earlier scrape of the same server, for rates")
    p.add_argument("--interval", type=float, metavar="S", help="seconds between --before and SCRAPE")
    p.add_argument("--json", action="store_true")
    for name in ("schema", "presets"):
        p = sub.add_parser(name, help=f"print the {name} as JSON")
        p.add_argument("--json", action="store_true", help="(always JSON)")
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            out = api.schema()
        elif args.command == "presets":
            out = api.METHODS["presets"]({})
        elif args.command in ("replay", "fit"):
            out = api.finite_json(_trace_command(args))
            if not args.json:
                print(replay_table(out) if args.command == "replay" else fit_table(out))
                return 0
            if args.command == "fit":
                out = out["scenario"]
        elif args.command == "deploy":
            out = api.deploy(_read_scenario(args.scenario), args.engine)
            if not args.json:
                print(_deploy_text(out, args.advice))
                return 0
        elif args.command == "diagnose":
            from .diagnose import diagnose
            from .diagnose.report import diagnose_table

            scenario = _read_scenario(args.scenario)
            if args.before is not None and args.interval is None:
                raise ValueError("interval_s: --before needs --interval, the seconds between the two scrapes")
            before = None if args.before is None else _read_text(args.before, "scrape_before")
            out = api.finite_json(diagnose(scenario, _read_text(args.scrape, "scrape"), before, args.interval))
            if not args.json:
                print(diagnose_table(out))
                return 0
        elif args.command == "simulate":
            out = api.finite_json(_simulate(args))
            if not args.json:
                print(_simulation_table(out))
                return 0
        elif args.command == "predict":
            scenario = _read_scenario(args.scenario)
            out = api.predict(scenario)
            if out["replicas"] > 1:
                out["routing_comparison"] = api.compare_routing(scenario, simulate=args.simulate_routing)
            out = api.finite_json(out)
            if not args.json:
                print(_table(out))
                return 0
        else:
            out = api.finite_json(solve_capacity(parse_scenario(_read_scenario(args.scenario)),
                                                 args.target, args.metric))
            if not args.json:
                if out["achievable"]:
                    mem = out["memory_gib_per_gpu"]
                    print(f"{args.metric} {args.target:.1%} needs {out['capacity_tokens']:,} tokens per replica"
                          + (f" ({mem:,.1f} GiB per GPU)" if mem is not None else ""))
                else:
                    print(f"{args.metric} {args.target:.1%} is not reachable: the ceiling is {out['ceiling']:.1%}")
                return 0
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
