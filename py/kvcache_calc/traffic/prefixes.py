"""Shared prefixes as the cache sees them: the tree of prefix groups, in blocks, with popularity.

A class's prompts start with its prefix groups in order; a group's blocks depend on every group
before it (block hashes chain), so a node of the tree is a path of groups with one variant chosen
in each: a "kind" is such a path of groups, and it has as many nodes as the product of the
groups' variant counts. A conversation picks each group's variant independently, with the group's
Zipf popularity; the popularity of a node is the product along its path. Catalogs of thousands of
variants are summarised in bins of nodes of similar popularity (multiplicity, popularity each), and
a class's own node at each level in a few profiles (weight, popularity per level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .spec import PrefixGroup, TrafficSpec

EXACT_RANKS = 16        # the most popular variants of a catalog keep a bin each
BIN_RATIO = 1.5         # then ranks [a, 1.5 a) share a bin
MAX_BINS = 48           # per kind, after multiplying the levels' bins
PROFILE_RATIO = 2.0     # a class's own nodes: popularities within 2x share a profile (4x: up to 2 points off on a 50-tenant catalog)
MAX_PROFILES = 12


@dataclass(frozen=True)
class Kind:
    """The nodes at the end of one path of prefix groups."""

    path: tuple[str, ...]
    blocks: int                                  # blocks each node adds (those its last group starts)
    above: int                                   # blocks of its ancestors
    bins: tuple[tuple[float, float], ...]        # (nodes, popularity of each): Σ nodes x popularity = 1


@dataclass(frozen=True)
class Profile:
    """A share of a class's conversations whose own node at each level has about these popularities."""

    weight: float
    popularity: tuple[float, ...]                # per level, the node's probability of being chosen


@lru_cache(maxsize=256)
def zipf_bins(count: int, exponent: float) -> tuple[tuple[float, float], ...]:
    """(variants, popularity of each) of a Zipf catalog; the popularities sum to 1 over the variants."""
    if count == 1:
        return ((1.0, 1.0),)
    ranges = []
    a = 1
    while a <= count:
        b = a + 1 if a <= EXACT_RANKS else min(count + 1, max(a + 1, int(a * BIN_RATIO)))
        ranges.append((a, b))
        a = b
    masses = [_power_sum(a, b, exponent) for a, b in ranges]
    total = sum(masses)
    return tuple((float(b - a), m / total / (b - a)) for (a, b), m in zip(ranges, masses))


def _power_sum(a: int, b: int, s: float) -> float:
    """Σ_{i=a}^{b-1} i^-s (exact for short ranges, midpoint integral beyond)."""
    if b - a <= 64:
        return sum(i ** -s for i in range(a, b))
    lo, hi = a - 0.5, b - 0.5
    if abs(s - 1.0) < 1e-12:
        return math.log(hi / lo)
    return (hi ** (1.0 - s) - lo ** (1.0 - s)) / (1.0 - s)


def _merge(bins: list[tuple[float, float, tuple[float, ...]]], ratio: float, limit: int):
    """Merge (count, popularity, per-level popularities) bins whose popularities lie within `ratio`,
    keeping each merged bin's mass; at most `limit` bins (coarser buckets until it fits)."""
    while True:
        buckets: dict[int, list] = {}
        for count, pop, levels in bins:
            key = math.floor(math.log(pop) / math.log(ratio)) if pop > 0 else -10**9
            acc = buckets.setdefault(key, [0.0, 0.0, [0.0] * len(levels)])
            mass = count * pop
            acc[0] += count
            acc[1] += mass
            for i, lv in enumerate(levels):
                acc[2][i] += mass * lv
        if len(buckets) <= limit:
            break
        ratio *= 1.5
    out = []
    for key in sorted(buckets, reverse=True):
        count, mass, levels = buckets[key]
        out.append((count, mass / count, tuple(lv / mass for lv in levels)))
    return out


def kinds_of(spec: TrafficSpec, block_size: int) -> tuple[Kind, ...]:
    """Every path of prefix groups some class starts with (each prefix of each class's path)."""
    return _kinds(spec.groups, tuple(c.prefix for c in spec.classes), block_size)


# cached on the groups and paths alone: a sweep over rates, turns or tokens keeps them
@lru_cache(maxsize=64)
def _kinds(groups: tuple[PrefixGroup, ...], paths: tuple[tuple[str, ...], ...], block_size: int) -> tuple[Kind, ...]:
    b = block_size
    by_name = {g.name: g for g in groups}
    seen: dict[tuple[str, ...], Kind] = {}
    for prefix in paths:
        tokens = 0
        level_bins: list[tuple[float, float, tuple[float, ...]]] = [(1.0, 1.0, ())]
        for depth, name in enumerate(prefix, start=1):
            g: PrefixGroup = by_name[name]
            before = tokens // b
            tokens += g.tokens
            own = zipf_bins(g.count, g.zipf)
            level_bins = _merge([(n1 * n2, p1 * p2, levels + (p1 * p2,))
                                 for n1, p1, levels in level_bins for n2, p2 in own], 1.05, MAX_BINS)
            path = prefix[:depth]
            if path not in seen:
                seen[path] = Kind(path, tokens // b - before, before,
                                  tuple((n, p) for n, p, _ in level_bins))
    return tuple(seen.values())


def profiles_of(spec: TrafficSpec, class_index: int) -> tuple[Profile, ...]:
    """A class's conversations grouped by the popularity of the nodes they use (one profile when every
    group on its path has one variant)."""
    prefix = spec.classes[class_index].prefix
    return _profiles(tuple(spec.group(name) for name in prefix))


@lru_cache(maxsize=64)
def _profiles(path: tuple[PrefixGroup, ...]) -> tuple[Profile, ...]:
    level_bins: list[tuple[float, float, tuple[float, ...]]] = [(1.0, 1.0, ())]
    for g in path:
        level_bins = _merge([(n1 * n2, p1 * p2, levels + (p1 * p2,))
                             for n1, p1, levels in level_bins for n2, p2 in zipf_bins(g.count, g.zipf)],
                            1.05, MAX_BINS)
    # weight by use: a conversation picks a node of a bin with probability nodes x popularity
    merged = _merge(level_bins, PROFILE_RATIO, MAX_PROFILES)
    return tuple(Profile(count * pop, levels) for count, pop, levels in merged)
