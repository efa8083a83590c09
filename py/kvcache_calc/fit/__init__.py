"""Fit a scenario to a trace: prefix groups, conversation classes and their laws, in a few readable numbers.

Conversations and their follow-ups come from fit.conversations. Their shared prefixes make the
prefix groups: the segment most conversations start with is the system prompt; several segments at
the start are tenants' prompts (a catalog with Zipf popularity when there are many), segments below
them documents. Conversations are then split into classes by the groups they start with and how they
behave: one request ("one-shot"), mostly branching from an earlier turn ("doc-qa": questions on one
context), or continuing ("chat"). Each class gets its share of arrivals and its laws (fit.laws).

The trace's block ids name prompts only (a trace has no ids for responses, so a response's blocks
never hit in its replay): the scenario says so with `cache.admission: "trace_replay"`. Set it to
"engine" to see what an engine that caches responses would find in the same traffic.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

from ..scenario import parse_scenario
from ..trace import TraceFile, no_usable_lines, run_in_time_order
from .conversations import Conversation, link
from .laws import fit_law, fit_turns, law_json

MIN_CLASS_SHARE = 0.02     # smaller classes join a bigger one of the same prefix
FEW_VARIANTS = 3           # at most this many segments at a level: named groups; more: a catalog
MAX_PREFIX_LEVELS = 2


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}") if x else 0.0


def _zipf_exponent(counts: list[int]) -> float:
    """The Zipf exponent whose rank-frequency law best fits these counts (least squares in log-log)."""
    ranked = sorted((c for c in counts if c > 0), reverse=True)
    if len(ranked) < 3:
        return 1.0
    xs = [math.log(i) for i in range(1, len(ranked) + 1)]
    ys = [math.log(c) for c in ranked]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0
    return round(min(5.0, max(0.0, -slope)), 2)


class PrefixGroups:
    """The prefix groups of the conversations' shared prefixes, at most two levels deep."""

    def __init__(self, convs: list[Conversation], b: int):
        self.b = b
        self.groups: list[dict] = []
        self.paths: dict[int, tuple[str, ...]] = {}       # conversation index -> its group names
        self.tokens: dict[int, int] = {}                   # conversation index -> its prefix tokens
        level1: dict = {}
        for i, c in enumerate(convs):
            if c.path:
                level1.setdefault(c.path[0], []).append(i)
        self._level(convs, level1, (), 1)

    def _level(self, convs: list[Conversation], segments: dict, parent: tuple[str, ...], level: int) -> None:
        """Groups for the segments at one level (few: one group each; many: one catalog), then below them."""
        if not segments:
            return
        by_size = sorted(segments.items(), key=lambda kv: -len(kv[1]))
        base = "system" if level == 1 else "docs"
        made: list[tuple[dict, list[int]]] = []
        if len(by_size) <= FEW_VARIANTS:
            for k, ((depth, _), members) in enumerate(by_size):
                name = self._unique(base if len(by_size) == 1 else f"{base}-{k + 1}")
                group = {"name": name, "tokens": max(1, (depth - self._above(convs, members, level)) * self.b)}
                made.append((group, members))
        else:
            depths = [depth - self._above(convs, members, level) for (depth, _), members in by_size]
            group = {"name": self._unique("tenants" if level == 1 else "docs"),
                     "tokens": max(1, round(statistics.fmean(depths)) * self.b), "count": len(by_size),
                     "zipf": _zipf_exponent([len(v) for _, v in by_size])}
            made.append((group, [i for _, members in by_size for i in members]))
        for group, members in made:
            self.groups.append(group)
            for i in members:
                self.paths[i] = parent + (group["name"],)
                self.tokens[i] = self.tokens.get(i, 0) + group["tokens"]
            if level < MAX_PREFIX_LEVELS:
                below: dict = {}
                for i in members:
                    if len(convs[i].path) > level:
                        below.setdefault(convs[i].path[level], []).append(i)
                # a level below only where most of the level's conversations have one
                if sum(len(v) for v in below.values()) >= 0.5 * len(members):
                    self._level(convs, below, parent + (group["name"],), level + 1)

    def _above(self, convs: list[Conversation], members: list[int], level: int) -> int:
        if level == 1:
            return 0
        return convs[members[0]].path[level - 2][0]

    def _unique(self, name: str) -> str:
        taken = {g["name"] for g in self.groups}
        out, k = name, 2
        while out in taken:
            out, k = f"{name}-{k}", k + 1
        return out


def _behaviour(c: Conversation) -> str:
    if len(c.turns) == 1:
        return "one-shot"
    kinds = Counter(t.kind for t in c.turns[1:])
    return "doc-qa" if kinds["branch"] * 2 >= len(c.turns) - 1 else "chat"


def _class_laws(convs: list[Conversation], prefix_tokens: int, b: int) -> tuple[dict, dict]:
    """A class's laws (scenario JSON) and what they were fitted to."""
    turns = [len(c.turns) for c in convs]
    gaps, users, outputs, kinds = [], [], [], Counter()
    for c in convs:
        for prev, t in zip(c.turns, c.turns[1:]):
            gaps.append(max(0.0, t.time - prev.time))
            users.append(max(1, t.new_tokens))
            kinds[t.kind] += 1
        outputs.extend(t.output for t in c.turns)
    # turn 1 is prefix + context + its own user tokens, drawn from the same law as the follow-ups'
    mean_user = statistics.fmean(users) if users else 0.0
    contexts, firsts = [], []
    for c in convs:
        first = c.turns[0]
        private = max(1, first.input - prefix_tokens)
        branch = next((t for t in c.turns[1:2] if t.kind == "branch"), None)
        if branch is not None:
            context = max(0, branch.kept_tokens - prefix_tokens)
        else:
            context = max(0, round(private - mean_user)) if users else 0
        contexts.append(context)
        firsts.append(max(1, private - context))
    diagnostics: dict = {"conversations": len(convs), "requests": sum(turns), "follow_ups": dict(kinds)}
    laws: dict = {}
    law, d = fit_turns(turns)
    laws["turns"] = law_json(law)
    diagnostics["turns"] = d
    if gaps:
        law, d = fit_law(gaps)
        laws["think_time_s"] = law_json(law)
        diagnostics["think_time_s"] = d
    if any(contexts):
        law, d = fit_law(contexts, integer=True)
        laws["context_tokens"] = law_json(law)
        diagnostics["context_tokens"] = d
    else:
        laws["context_tokens"] = 0
    # the first turn's own tokens and the follow-ups' new tokens come from one law in the model
    law, d = fit_law(users + firsts if not users else users, integer=True)
    laws["user_tokens"] = law_json(law)
    diagnostics["user_tokens"] = d
    law, d = fit_law(outputs, integer=True)
    laws["output_tokens"] = law_json(law)
    diagnostics["output_tokens"] = d
    if kinds:
        total = sum(kinds.values())
        laws["follow_ups"] = {k: _sig(v / total, 3) for k, v in kinds.items() if v}
    return laws, diagnostics


def fit_conversations(convs: list[Conversation], b: int) -> tuple[dict, list[dict]]:
    """The workload (prefixes, classes) the conversations imply, and per class what it was fitted to."""
    if not convs:
        raise ValueError("trace: no conversation found")
    groups = PrefixGroups(convs, b)
    total = len(convs)
    by_path: dict[tuple, list[int]] = {}
    for i in range(total):
        by_path.setdefault(groups.paths.get(i, ()), []).append(i)
    # a prefix path too few conversations take: their shared prefix counts as their own context
    for path in sorted(by_path, key=lambda p: len(by_path[p])):
        if path and len(by_path) > 1 and len(by_path[path]) < MIN_CLASS_SHARE * total:
            shorter = path[:-1]
            by_path.setdefault(shorter, []).extend(by_path.pop(path))
    keyed: dict[tuple, list[int]] = {}
    for path, members in by_path.items():
        for i in members:
            groups.paths[i] = path
            groups.tokens[i] = sum(next(g["tokens"] for g in groups.groups if g["name"] == n) for n in path)
            keyed.setdefault((path, _behaviour(convs[i])), []).append(i)
    # a small class joins the biggest class of its prefix that behaves most alike
    near = {"one-shot": ("one-shot", "chat", "doc-qa"), "chat": ("chat", "doc-qa", "one-shot"),
            "doc-qa": ("doc-qa", "chat", "one-shot")}
    for key in sorted(keyed, key=lambda k: len(keyed[k])):
        path, behaviour = key
        if len(keyed[key]) >= MIN_CLASS_SHARE * total:
            continue
        targets = [(path, other) for other in near[behaviour][1:] if (path, other) in keyed]
        if targets:
            keyed[targets[0]].extend(keyed.pop(key))
    used = {name for path, _ in keyed for name in path}
    groups.groups = [g for g in groups.groups if g["name"] in used]
    starts = [c.start for c in convs]
    span = max(starts) - min(starts)
    rate = (total - 1) / span if span > 0 and total > 1 else float(total)
    classes, details = [], []
    names = Counter(k[1] for k in keyed)
    for (path, behaviour), members in sorted(keyed.items(), key=lambda kv: -len(kv[1])):
        members_convs = [convs[i] for i in members]
        tokens = groups.tokens.get(members[0], 0)
        laws, diag = _class_laws(members_convs, tokens, b)
        name = behaviour if names[behaviour] == 1 else f"{path[-1] if path else 'own'}-{behaviour}"
        cls = {"name": name, "share": _sig(len(members) / total, 4), "prefix": list(path), **laws}
        classes.append(cls)
        details.append({"name": name, **diag})
    workload = {"arrival_rate": _sig(rate), "prefixes": groups.groups, "classes": classes}
    return workload, details


def fit_details(path: str, block_size: int | None = None, fmt: str | None = None,
                capacity_tokens: int | None = None) -> dict:
    """The fitted scenario plus what the fit saw (conversations, links by kind, per-class fits)."""
    source = TraceFile(str(path), fmt, block_size)
    b = source.block_size
    convs = run_in_time_order(source, lambda reqs: link(reqs, b, source.fmt))
    if not convs:
        raise no_usable_lines(source)
    workload, classes = fit_conversations(convs, b)
    cache: dict = {"block_size": b, "admission": "trace_replay"}
    if capacity_tokens is not None:
        cache["capacity_tokens"] = capacity_tokens
    scenario = {"version": 1, "cache": cache, "workload": workload}
    parse_scenario(scenario)   # the fit must be a valid scenario; raises naming the field if not
    requests = sum(len(c.turns) for c in convs)
    return {"scenario": scenario, "requests": requests, "conversations": len(convs),
            "follow_ups": requests - len(convs), "classes": classes, "format": source.fmt,
            "block_size": b, "skipped": source.skipped.as_dict(),
            "span_s": max(c.start for c in convs) - min(c.start for c in convs)}


def fit(path: str, block_size: int | None = None, fmt: str | None = None,
        capacity_tokens: int | None = None) -> dict:
    """A scenario JSON whose workload matches the trace's conversations."""
    return fit_details(path, block_size, fmt, capacity_tokens)["scenario"]


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
