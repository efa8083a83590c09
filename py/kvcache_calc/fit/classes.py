"""Conversation classes: conversations grouped by the prefix groups they start with, how they behave
(one-shot, chat, doc-qa) and their pace (agent loops apart from people when their gaps have two
modes), small classes joined to the most alike; each class's share and laws."""

from __future__ import annotations

import math
import statistics
from collections import Counter

from .conversations import Conversation
from .laws import fit_law, fit_turns, law_json
from .prefix_groups import PrefixGroups

MIN_CLASS_SHARE = 0.02     # smaller classes join a bigger, alike one
TWO_PACES = 0.8            # share of the paces' variance two modes must explain to split a class by pace
MIN_GAP_S = 0.05


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}") if x else 0.0


def _behaviour(c: Conversation) -> str:
    if len(c.turns) == 1:
        return "one-shot"
    kinds = Counter(t.kind for t in c.turns[1:])
    return "doc-qa" if kinds["branch"] * 2 >= len(c.turns) - 1 else "chat"


def _pace(c: Conversation) -> float:
    """The log of a conversation's median gap between turns."""
    gaps = [t.time - prev.time for prev, t in zip(c.turns, c.turns[1:])]
    return math.log(max(MIN_GAP_S, statistics.median(gaps)))


def split_by_pace(convs: list[Conversation], members: list[int], least: int) -> tuple[list[int], list[int]] | None:
    """Fast and slow conversations (agent loops and people) when their paces are two clear modes:
    Otsu's cut of the log median gaps explains at least TWO_PACES of their variance (one normal mode:
    2/pi), and each side has `least` conversations."""
    paces = sorted((_pace(convs[i]), i) for i in members)
    xs = [x for x, _ in paces]
    n = len(xs)
    if n < 2 * least:
        return None
    mean = statistics.fmean(xs)
    var = statistics.fmean((x - mean) ** 2 for x in xs)
    if var <= 0:
        return None
    total, below, best, cut = sum(xs), 0.0, 0.0, 0
    for k in range(1, n):
        below += xs[k - 1]
        w = k / n
        between = w * (1 - w) * (below / k - (total - below) / (n - k)) ** 2
        if between > best:
            best, cut = between, k
    if best / var < TWO_PACES or min(cut, n - cut) < least:
        return None
    return [i for _, i in paces[:cut]], [i for _, i in paces[cut:]]


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


def fit_conversations(convs: list[Conversation], b: int,
                      window: tuple[float, float] | None = None) -> tuple[dict, list[dict]]:
    """The workload (prefixes, classes) the conversations imply, and per class what it was fitted to.
    `window`: the span their starts were taken from (default: from the first start to the last)."""
    if not convs:
        raise ValueError("trace: no conversation found")
    lo, hi = window if window is not None else (min(c.start for c in convs), max(c.start for c in convs))
    groups = PrefixGroups(convs, b, MIN_CLASS_SHARE)
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
            keyed.setdefault((path, _behaviour(convs[i])), []).append(i)
    for (path, behaviour), members in list(keyed.items()):
        if behaviour != "one-shot":
            split = split_by_pace(convs, members, math.ceil(MIN_CLASS_SHARE * total))
            if split is not None:
                keyed[(path, behaviour)] = split[1]
                keyed[(path, "agent" if behaviour == "chat" else f"fast-{behaviour}")] = split[0]
    # a small class joins one that behaves alike: of its prefix (chat and doc-qa are both multi-turn),
    # else of a shorter prefix (its documents become its own context), else of its prefix however it
    # behaves. Turns and sizes are drawn independently in a class, so one-shots mixed with long chats
    # would give the chats the one-shots' contexts.
    alike = {"one-shot": (), "chat": ("doc-qa",), "doc-qa": ("chat",), "agent": ("fast-doc-qa",),
             "fast-doc-qa": ("agent",)}
    unlike = {"one-shot": ("chat", "doc-qa"), "chat": ("one-shot",), "doc-qa": ("one-shot",),
              "agent": ("chat", "doc-qa"), "fast-doc-qa": ("doc-qa", "chat")}
    for key in sorted(keyed, key=lambda k: len(keyed[k])):
        path, behaviour = key
        if len(keyed[key]) >= MIN_CLASS_SHARE * total:
            continue
        targets = [(path, other) for other in alike[behaviour] if (path, other) in keyed]
        targets += [(path[:cut], behaviour) for cut in range(len(path) - 1, -1, -1) if (path[:cut], behaviour) in keyed]
        targets += [(path, other) for other in unlike[behaviour] if (path, other) in keyed]
        if targets:
            keyed[targets[0]].extend(keyed.pop(key))
    used = {name for path, _ in keyed for name in path}
    groups.groups = [g for g in groups.groups if g["name"] in used]
    rate = (total - 1) / (hi - lo) if hi > lo and total > 1 else float(total)
    classes, details = [], []
    names = Counter(k[1] for k in keyed)
    for (path, behaviour), members in sorted(keyed.items(), key=lambda kv: -len(kv[1])):
        members_convs = [convs[i] for i in members]
        tokens = sum(g["tokens"] for g in groups.groups if g["name"] in path)
        laws, diag = _class_laws(members_convs, tokens, b)
        name = behaviour if names[behaviour] == 1 else f"{path[-1] if path else 'own'}-{behaviour}"
        cls = {"name": name, "share": _sig(len(members) / total, 4), "prefix": list(path), **laws}
        classes.append(cls)
        details.append({"name": name, **diag})
    workload = {"arrival_rate": _sig(rate), "prefixes": groups.groups, "classes": classes}
    return workload, details
