"""Prefix groups from the tree of conversations' shared prefixes: one segment at a level is a system
prompt, a few are named groups, many are a catalog (tenants' prompts at the first level, documents
below) with the Zipf exponent of their popularity."""

from __future__ import annotations

import math
import statistics

from .conversations import Conversation

FEW_VARIANTS = 3           # at most this many segments at a level: named groups; more: a catalog
MAX_PREFIX_LEVELS = 2


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

    def __init__(self, convs: list[Conversation], b: int, least_share: float):
        self.b = b
        self.least_share = least_share
        self.groups: list[dict] = []
        self.paths: dict[int, tuple[str, ...]] = {}       # conversation index -> its group names
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
            if level < MAX_PREFIX_LEVELS:
                below: dict = {}
                for i in members:
                    if len(convs[i].path) > level:
                        below.setdefault(convs[i].path[level], []).append(i)
                # a level below for the conversations that share one (documents some of them read)
                if sum(len(v) for v in below.values()) >= self.least_share * len(convs):
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
