"""Fit a scenario to a trace: prefix groups, conversation classes and their laws, in a few readable numbers.

Conversations and their follow-ups come from fit.conversations. A trace cut from steady traffic is
fitted on the conversations that start far enough from its ends to be seen whole. Their shared
prefixes make the prefix groups: the segment most conversations start with is the system prompt;
several segments at the start are tenants' prompts (a catalog with Zipf popularity when there are
many), segments below them documents. Conversations are then split into classes by the groups they
start with and how they behave: one request ("one-shot"), mostly branching from an earlier turn
("doc-qa": questions on one context), or continuing ("chat"); and by pace when their gaps between
turns have two clear modes (the fast ones "agent"). Each class gets its share of arrivals and its
laws (fit.laws).

The trace's block ids name prompts only (a trace has no ids for responses, so a response's blocks
never hit in its replay): the scenario says so with `cache.admission: "trace_replay"`. Set it to
"engine" to see what an engine that caches responses would find in the same traffic.
"""

from __future__ import annotations

from ..scenario import parse_scenario
from ..trace import TraceFile, given_name, no_usable_lines, run_in_time_order
from .classes import fit_conversations
from .conversations import link, steady_conversations

__all__ = ["fit", "fit_details", "fit_table", "fit_conversations"]


def fit_details(path: str, block_size: int | None = None, fmt: str | None = None,
                capacity_tokens: int | None = None, name: str | None = None) -> dict:
    """The fitted scenario plus what the fit saw (conversations, links by kind, per-class fits);
    `name`: what messages call the file (default its file name)."""
    source = TraceFile(str(path), fmt, block_size, name=given_name(name))
    b = source.block_size
    convs = run_in_time_order(source, lambda reqs: link(reqs, b, source.fmt))
    if not convs:
        raise no_usable_lines(source)
    steady, window = steady_conversations(convs)
    workload, classes = fit_conversations(steady, b, window)
    cache: dict = {"block_size": b, "admission": "trace_replay"}
    if capacity_tokens is not None:
        cache["capacity_tokens"] = capacity_tokens
    scenario = {"version": 1, "cache": cache, "workload": workload}
    parse_scenario(scenario)   # the fit must be a valid scenario; raises naming the field if not
    requests = sum(len(c.turns) for c in convs)
    return {"scenario": scenario, "requests": requests, "conversations": len(convs),
            "follow_ups": requests - len(convs), "classes": classes, "format": source.fmt,
            "block_size": b, "skipped": source.skipped.as_dict(),
            "span_s": max(c.start for c in convs) - min(c.start for c in convs),
            "fitted_conversations": len(steady),
            "fitted_starts_s": [window[0] - convs[0].start, window[1] - convs[0].start]}


def fit(path: str, block_size: int | None = None, fmt: str | None = None,
        capacity_tokens: int | None = None, name: str | None = None) -> dict:
    """A scenario JSON whose workload matches the trace's conversations."""
    return fit_details(path, block_size, fmt, capacity_tokens, name)["scenario"]


def _law_text(law) -> str:
    if not isinstance(law, dict):
        return f"{law:g}"
    kind = law["dist"]
    if kind == "empirical":
        if "quantiles" in law:
            q = law["quantiles"]
            return f"empirical (median {q[len(q) // 2]:g}, from {q[0]:g} to {q[-1]:g})"
        return f"empirical ({len(law['values'])} values, {law['values'][0]}..{law['values'][-1]})"
    params = ", ".join(f"{k} {v:g}" for k, v in law.items() if k != "dist")
    return f"{kind} ({params})"


def fit_table(details: dict) -> str:
    """The fitted workload as a readable table."""
    s = details["scenario"]
    w = s["workload"]
    lines = [f"{details['requests']:,} requests in {details['conversations']:,} conversations "
             f"({details['follow_ups']:,} follow-ups linked) over {details['span_s']:,.0f} s; "
             f"{s['cache']['block_size']}-token blocks; arrivals {w['arrival_rate']:g} conversations/s"]
    if details["fitted_conversations"] < details["conversations"]:
        lo, hi = details["fitted_starts_s"]
        lines.append(f"fitted on the {details['fitted_conversations']:,} conversations starting from {lo:,.0f} s to "
                     f"{hi:,.0f} s (nearer the trace's ends, conversations are under way or cut short)")
    for g in w["prefixes"]:
        extra = f", {g['count']:,} variants, Zipf {g['zipf']:g}" if g.get("count", 1) > 1 else ""
        lines.append(f"prefix {g['name']}: {g['tokens']:,} tokens{extra}")
    for c, d in zip(w["classes"], details["classes"]):
        lines.append(f"class {c['name']}: {c['share']:.1%} of conversations ({d['conversations']:,}), prefix "
                     f"{' + '.join(c['prefix']) or 'none'}")
        for key in ("turns", "think_time_s", "context_tokens", "user_tokens", "output_tokens"):
            if key in c:
                ks = d.get(key, {}).get("ks")
                lines.append(f"  {key:<15} {_law_text(c[key])}" + (f"   (KS {ks:.3f})" if ks else ""))
        if "follow_ups" in c:
            lines.append("  follow_ups      " + ", ".join(f"{k} {v:.0%}" for k, v in c["follow_ups"].items()))
    lines.append('cache.admission is "trace_replay": the trace names prompt blocks only; "engine" also caches responses')
    if details["skipped"]["count"]:
        lines.append(f"skipped {details['skipped']['count']} line(s); first: {details['skipped']['messages'][0]}")
    return "\n".join(lines)
