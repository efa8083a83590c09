"""Closed-form LRU prefix-cache model: the stack position of every block a request looks up.

vLLM touches a request's blocks tail first, so along a prompt the blocks' recency never increases:
the shared prefix nodes (system prompts, documents) sit above the conversation's own history,
and the history's head above its tail. LRU keeps a block iff fewer than C distinct blocks were
touched since it was, so a request finds a leading run, and each part of it can be counted apart.

A follow-up's own history was touched Z seconds ago (its think time). Block i of it survives iff
A + D + i < C, where A counts the prefix blocks above it and D the distinct blocks of everything
else touched during Z: a compound-Poisson sum over the other conversations (a conversation counts
the blocks of its latest turn while its gap lasts, a finished one for the whole window, dead blocks
a follow-up left behind while both turns are in the window), each carrying its share of the shared
nodes it touched (a node touched by a Poisson(μ) number of conversations is counted once: each
carries (1 - e^-μ)/μ of it). A shared node untouched for a seconds (others reach it as a Poisson
process of conversations; a follow-up's own last turn also touched it Z ago) holds its blocks iff
the blocks touched since, outside its own subtree, leave it room.

D's distribution: the conversations bigger than the room on their own (each such one evicts
everything) as a Poisson count, the rest an atom at 0 plus a translated gamma matching its first
three cumulants (Wilson-Hilferty CDFs). The average over a gap Z is Gauss-Legendre in P(Z < z),
cut around P(Z < T) with T the characteristic time; shared nodes' ages are integrated on one grid
of ages shared by every view.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from math import cbrt, erfc

from .traffic.distributions import Atoms, Dist, Fixed
from .traffic.prefixes import Profile
from .traffic.resolved import ClassTraffic, Traffic
from .traffic.turns import ClassTable

SQRT2 = math.sqrt(2.0)
GROUPS = 8
GRID_RATIO = 1.6          # the shared nodes' age grid: geometric steps (1.3: within 0.007 points on the grid)
GRID_DECADES_BELOW = 2.0   # below the shortest gap or T
GRID_DECADES_ABOVE = 3.0   # above the longest gap or T
NEVER_UNTOUCHED = 1e-12    # a shared node untouched this unlikely for an age: older ages are not integrated


@dataclass(frozen=True)
class ClassHits:
    """One class's figures at one cache size."""

    name: str
    token_hit_rate: float
    request_hit_rate: float
    ceiling_token_hit_rate: float
    ceiling_request_hit_rate: float
    shared_token_hit_rate: float       # share of its prompt tokens found in shared prefixes
    follow_up_block_hit_rate: float    # share of its follow-ups' history blocks found
    characteristic_time_s: float
    hit_tokens_per_conversation: float
    prompt_tokens_per_conversation: float
    full_hits_per_conversation: float
    mean_turns: float


@dataclass(frozen=True)
class LruPrediction:
    token_hit_rate: float
    request_hit_rate: float
    ceiling_token_hit_rate: float
    ceiling_request_hit_rate: float
    characteristic_time_s: float       # T of the largest class: its head's stack depth reaches C - A
    follow_up_block_hit_rate: float    # share of history blocks of follow-ups found
    occupancy_system_prompt: float     # shares of capacity held by shared prefixes
    occupancy_live: float              # in-progress conversations that return before eviction
    occupancy_idle: float              # in-progress conversations evicted before they return
    occupancy_finished: float          # conversations that have ended, and dead blocks
    hit_tokens_per_conversation: float
    prompt_tokens_per_conversation: float
    classes: tuple[ClassHits, ...] = ()


class OtherBlocks:
    """Distribution of D: 0 with probability p0, else c + Gamma(k, theta) (moments of D | D > 0).

    Gamma CDFs come from the Wilson-Hilferty transform: (G / k theta)^(1/3) is close to
    Normal(1 - 1/(9k), 1/(9k)). `history_hits` is the hot loop of the model, so the constants
    of both transforms it needs (shape k and k + 1) are prepared here.
    """

    def __init__(self, p0: float, k1: float, k2: float, k3: float, keep: float = 1.0):
        # k1..k3: cumulants of D (Λ x the moments of the block counts, shared nodes carried);
        # keep: the chance that no conversation bigger than the room itself touched anything (which
        # would evict everything below the room): such marks are left out of the cumulants.
        self.keep = keep
        self.p0 = p0
        q = 1.0 - p0
        self.k = 0.0  # 0: D | D > 0 is a point mass at self.mean
        self.mean = k1 / q if q > 1e-12 else 0.0
        if q <= 1e-12 or k2 <= 0.0:
            return
        m1 = self.mean
        m2 = (k2 + k1 * k1) / q
        m3 = (k3 + 3.0 * k2 * k1 + k1 ** 3) / q
        var = m2 - m1 * m1
        skew3 = m3 - 3.0 * m1 * m2 + 2.0 * m1 ** 3
        if var <= 1e-9 * max(1.0, m1 * m1) or skew3 <= 1e-9 * var ** 1.5:
            return
        k = self.k = 4.0 * var ** 3 / (skew3 * skew3)
        theta = self.theta = skew3 / (2.0 * var)
        self.c = m1 - k * theta
        # per shape s in (k, k+1): P(G_s <= y) = Φ((y^(1/3) scale_s - 1 + v_s) / sqrt(v_s))
        #                                      = erfc(y^(1/3) slope_s + offset_s) / 2
        up = k + 1.0
        root_k, root_up = (9.0 * k) ** 0.5, (9.0 * up) ** 0.5
        self.wh = ((-((k * theta) ** (-1.0 / 3.0)) * root_k / SQRT2, (1.0 - 1.0 / (9.0 * k)) * root_k / SQRT2),
                   (-((up * theta) ** (-1.0 / 3.0)) * root_up / SQRT2, (1.0 - 1.0 / (9.0 * up)) * root_up / SQRT2))

    def survival_stats(self, a: float) -> tuple[float, float]:
        """(E[(a - D)+], P(D <= a)) for a whole number a: free stack positions and a full fit."""
        if a < 0.0:
            return 0.0, 0.0
        if self.keep != 1.0:
            free, fits = self._survival(a)
            return self.keep * free, self.keep * fits
        return self._survival(a)

    def _survival(self, a: float) -> tuple[float, float]:
        p0 = self.p0
        q = 1.0 - p0
        if self.k == 0.0:
            return p0 * a + q * max(a - self.mean, 0.0), p0 + (q if a + 0.5 >= self.mean else 0.0)
        (slope_k, offset_k), (slope_k1, offset_k1) = self.wh
        y = a - self.c
        short = 0.0
        if y > 0.0:
            r = cbrt(y)
            cdf_k = 0.5 * erfc(r * slope_k + offset_k)
            cdf_k1 = 0.5 * erfc(r * slope_k1 + offset_k1)
            short = y * cdf_k - self.k * self.theta * cdf_k1
            if short < 0.0:
                short = 0.0
        y += 0.5  # continuity correction: D is a whole number of blocks
        full = 0.0
        if y > 0.0:
            full = 0.5 * erfc(cbrt(y) * slope_k + offset_k)
        return p0 * a + q * short, p0 + q * full

    def found_and_fit(self, room: float, size: float) -> tuple[float, float]:
        """(E[(room - D)+] - E[(room - size - D)+], P(D <= room - size)): a node of `size` blocks
        `room` positions deep, its blocks found and the chance all are."""
        if self.k == 0.0 or room - size < 0.0:
            free, _ = self.survival_stats(room)
            rest, fit = self.survival_stats(room - size)
            return free - rest, fit
        # both room and room - size >= 0: _survival twice, inlined (the shared nodes' hot loop)
        p0, c, keep = self.p0, self.c, self.keep
        q = 1.0 - p0
        (slope_k, offset_k), (slope_k1, offset_k1) = self.wh
        k_theta = self.k * self.theta
        frees = []
        for a in (room, room - size):
            y = a - c
            short = 0.0
            if y > 0.0:
                r = cbrt(y)
                short = y * (0.5 * erfc(r * slope_k + offset_k)) - k_theta * (0.5 * erfc(r * slope_k1 + offset_k1))
                if short < 0.0:
                    short = 0.0
            frees.append(p0 * a + q * short)
        y = room - size - c + 0.5
        full = 0.5 * erfc(cbrt(y) * slope_k + offset_k) if y > 0.0 else 0.0
        fit = p0 + q * full
        if keep != 1.0:
            return keep * frees[0] - keep * frees[1], keep * fit
        return frees[0] - frees[1], fit

    def found(self, room: float, size: float) -> float:
        """E[clamp(room - D, 0, size)]: blocks of a run of `size` found below `room` free positions."""
        return min(self.keep * size, self.survival_stats(room)[0] - self.survival_stats(room - size)[0])

    def history_hits(self, room: float, groups: list[tuple[float, float]]) -> tuple[float, float]:
        """Σ w (E[(room - D)+] - E[(room - n - D)+]) and Σ w P(D <= room - n) over (w, n) groups.

        `survival_stats` at room - n for every group, inlined with the same arithmetic: this loop
        is most of the time the model takes.
        """
        if self.keep != 1.0:
            blocks, full = self._history_hits(room, groups)
            return self.keep * blocks, self.keep * full
        return self._history_hits(room, groups)

    def _history_hits(self, room: float, groups: list[tuple[float, float]]) -> tuple[float, float]:
        base, _ = self._survival(room) if room >= 0.0 else (0.0, 0.0)
        blocks = full = 0.0
        if self.k == 0.0:
            for weight, n in groups:
                free, fits = self._survival(room - n) if room - n >= 0.0 else (0.0, 0.0)
                blocks += weight * min(n, base - free)
                full += weight * fits
            return blocks, full
        p0, c, k_theta = self.p0, self.c, self.k * self.theta
        q = 1.0 - p0
        (slope_k, offset_k), (slope_k1, offset_k1) = self.wh
        # E[(a - D)+] rises at most 1 per block (its slope is P(D <= a)); the Wilson-Hilferty CDFs of its
        # two terms can let a difference exceed n by a hair, so a group finds at most its n blocks
        for weight, n in groups:
            a = room - n
            if a < 0.0:
                blocks += weight * min(n, base)
                continue
            y = a - c
            short = 0.0
            if y > 0.0:
                r = cbrt(y)
                short = y * 0.5 * erfc(r * slope_k + offset_k) - k_theta * 0.5 * erfc(r * slope_k1 + offset_k1)
                if short < 0.0:
                    short = 0.0
            y += 0.5
            fits = 0.0
            if y > 0.0:
                fits = 0.5 * erfc(cbrt(y) * slope_k + offset_k)
            found = base - (p0 * a + q * short)
            blocks += weight * (n if found > n else found)
            full += weight * (p0 + q * fits)
        return blocks, full


def _single_gap(think: Dist) -> bool:
    """Gaps of a few fixed lengths: steps no random gap smooths, so every history is kept apart."""
    return isinstance(think, (Fixed, Atoms)) or think.mean == 0.0


class View:
    """What is excluded from D for one stack position: a class's profile, down to one level of its path.

    `level` None is the conversation's own history (every node of its path is above it); level l is
    the node at depth l (its ancestors are above it; untouched, it leaves its subtree untouched).
    """

    __slots__ = ("nodes", "subtree_kind", "subtree_share", "above", "room", "inside", "carriers")

    def __init__(self, model: "LruModel", ct: ClassTraffic, profile: Profile, level: int | None):
        depth = len(ct.levels) if level is None else level + 1
        self.nodes = tuple((ct.levels[i], profile.popularity[i]) for i in range(depth))
        kinds = model.traffic.kinds
        if level is None:
            self.subtree_kind, self.subtree_share = None, 0.0
            self.above = ct.shared_blocks
            self.room = model.c - self.above
        else:
            kind = kinds[ct.levels[level]]
            self.subtree_kind, self.subtree_share = ct.levels[level], profile.popularity[level]
            self.above = kind.above
            self.room = model.c - kind.above
        traffic = model.traffic
        self.inside = traffic.kind_classes[self.subtree_kind] if self.subtree_kind is not None else ()
        # the nodes above it that other conversations carry: (kind, popularity, blocks, per class (i, λ_i x
        # the popularity among them outside the view's subtree)), what _cumulants takes out at every window
        carriers = []
        for kind, pop in self.nodes:
            if kind in traffic.hot_kinds:
                continue
            users = [(i, pop - (self.subtree_share if i in self.inside else 0.0)) for i in traffic.kind_classes[kind]]
            scaled = tuple((i, model.lam[i] * u) for i, u in users if u > 0.0)
            if scaled:
                carriers.append((kind, pop, traffic.kinds[kind].blocks, scaled))
        self.carriers = tuple(carriers)


class LruModel:
    """The stack-position model for one replica's LRU cache of `capacity_blocks` blocks."""

    def __init__(self, traffic: Traffic, capacity_blocks: int, arrival_rate: float, plain_che: bool = False):
        self.traffic = traffic
        self.c = capacity_blocks
        self.rate = arrival_rate
        self.plain_che = plain_che
        self.lam = [arrival_rate * ct.share for ct in traffic.classes]
        self.sums = [ct.table.block_power_sums for ct in traffic.classes]
        self.follow_weight = [ct.table.follow_up_weight for ct in traffic.classes]
        self._cache: dict[float, tuple] = {}
        self._split_cache: dict[tuple[float, float], tuple] = {}
        self._totals_cache: dict[tuple[float, float], tuple] = {}
        self._held_cache: dict[tuple[int, float], float] = {}
        self._found_cache: dict[tuple, tuple] = {}
        self._splits_at: dict[float, bool] = {}   # per room: whether some conversation can flush it
        # per class: its own history's room, and the follow-up groups it sums over
        self.rooms = [capacity_blocks - ct.shared_blocks for ct in traffic.classes]
        self.groups = []
        self.empty = []
        for ct, room in zip(traffic.classes, self.rooms):
            empty, sizes = _follow_up_sums(ct.table)
            self.empty.append(empty)
            fitting = None if _single_gap(ct.think) else bisect_right(sizes, room)
            self.groups.append(_history_groups(ct.table, fitting, GROUPS))
        self.views = [View(self, ct, ct.profiles[0], None) for ct in traffic.classes]
        # per class: the levels whose nodes other conversations can carry (not the prefix every request shares)
        self.marked = [[(level, kind, traffic.kinds[kind].blocks) for level, kind in enumerate(ct.levels)
                        if kind not in traffic.hot_kinds] for ct in traffic.classes]
        self.profile_pops = [[p.popularity for p in ct.profiles] for ct in traffic.classes]
        self.done_all = [sum(reach - more for reach, more in ct.table.reach) for ct in traffic.classes]
        # the most blocks one conversation of each class can bring into a window (with prefix nodes)
        self.biggest = [ct.table.largest_mark + sum(traffic.kinds[k].blocks for _, k, _ in marked)
                        for ct, marked in zip(traffic.classes, self.marked)]

    # --- what other requests touched within t ---------------------------------------------
    def _parts(self, t: float) -> tuple:
        """For a window of t: per class (k0..k3) of its conversations' blocks, prefix nodes included;
        per class and profile the node blocks one conversation carries; per kind R, its conversations'
        window measure; per class its window sums (_window_sums).

        A node of popularity π is touched within t by a Poisson(μ = π R) number of conversations and
        counts k blocks if any: each of them carries k (1 - e^-μ) / μ of it, which keeps the mean exact
        and moves the node with the conversations that touch it. A rare document counts with the one
        conversation that reads it (the block counts that matter for a small cache arrive together);
        a popular one is spread thin over many.
        """
        hit = self._cache.get(t)
        if hit is not None:
            return hit
        tr = self.traffic
        sums = self._window_sums(t)
        reaches = []
        for members in tr.kind_classes:
            reach = 0.0
            for i in members:
                reach += self.lam[i] * sums[i][0]
            reaches.append(reach)
        classes, carried = [], []
        for ct, lam, (_, any_turn, s0, s1, s2, s3, d1, d2, d3), marked in zip(tr.classes, self.lam, sums,
                                                                              self.marked):
            if len(marked) == 1:  # one node level others carry (a catalog under a shared prompt): no sums
                level, kind, blocks = marked[0]
                reach = reaches[kind]
                marks = [blocks * _carried(pop[level] * reach) for pop in self.profile_pops[ct.index]]
            else:
                marks = [sum(blocks * _carried(pop[level] * reaches[kind]) for level, kind, blocks in marked)
                         for pop in self.profile_pops[ct.index]] if marked else []
            carried.append(marks)
            k1 = s1 + d1
            k2 = s2 + d2
            k3 = s3 + d3
            if not marks:
                classes.append((lam * s0, lam * k1, lam * k2, lam * k3))
                continue
            a1 = a2 = a3 = 0.0  # E[A^r] over the profiles
            for profile, a in zip(ct.profiles, marks):
                a1 += profile.weight * a
                a2 += profile.weight * a * a
                a3 += profile.weight * a * a * a
            # every turn touches the nodes: (m + A)^r over the turns, m = 0 included
            k1 += a1 * any_turn
            k2 += 2.0 * a1 * s1 + a2 * any_turn
            k3 += 3.0 * a1 * s2 + 3.0 * a2 * s1 + a3 * any_turn
            classes.append((lam * any_turn, lam * k1, lam * k2, lam * k3))
        out = (classes, carried, reaches, sums)
        if len(self._cache) < 4096:
            self._cache[t] = out
        return out

    def _window_sums(self, t: float) -> list[tuple]:
        """Per class, over one conversation and a window of t: (its visits' window measure; the measure of
        its latest turn, over turns with any blocks and over turns holding private blocks; Σ measure x m^r
        for r = 1..3; dead blocks' Σ measure x d^r). A turn with a follow-up counts while its gap lasts,
        the last turn for the whole window, dead blocks while both turns are in it."""
        out = []
        for ct, (idle, done, dead), fw, done0 in zip(self.traffic.classes, self.sums, self.follow_weight,
                                                      self.done_all):
            held = self._held(ct.index, t)
            gone = t - held
            out.append((fw * held + t, held * fw + t * done0, held * idle[0] + t * done[0],
                        held * idle[1] + t * done[1], held * idle[2] + t * done[2], held * idle[3] + t * done[3],
                        gone * dead[1], gone * dead[2], gone * dead[3]))
        return out

    def _held(self, i: int, t: float) -> float:
        """E[min(Z, t)] of class i's think time (cached: the window sums and every room's split ask for it)."""
        key = (i, t)
        held = self._held_cache.get(key)
        if held is None:
            held = self._held_cache[key] = self.traffic.classes[i].think.mean_min(t)
        return held

    def _cumulants(self, t: float, view: View) -> tuple[float, float, float, float, float]:
        """(log P(D = 0 | no flush), κ1, κ2, κ3, expected flushes) of D(t) for a view: a conversation
        holding at least the view's room is a flush (it alone evicts everything below the room)."""
        classes, flushes, reaches, sums, k0, k1, k2, k3, flush = self._totals(t, view.room)
        inside = view.inside
        if inside:
            # untouched, the view's node leaves its subtree untouched: its conversations count nothing
            share = view.subtree_share
            for i in inside:
                c0, c1, c2, c3 = classes[i]
                k0 -= share * c0
                k1 -= share * c1
                k2 -= share * c2
                k3 -= share * c3
                if flushes:
                    flush -= share * flushes[i]
        for kind, pop, blocks, users in view.carriers:
            # the view's own node (or an ancestor) is above it: the share of it other users carry is not
            # among the others' blocks
            carry = blocks * _carried(pop * reaches[kind])
            for i, scale in users:
                _, any_turn, _, s1, s2, _, _, _, _ = sums[i]
                k1 -= scale * carry * any_turn
                k2 -= scale * (2.0 * carry * s1 + carry * carry * any_turn)
                k3 -= scale * (3.0 * carry * s2 + 3.0 * carry * carry * s1 + carry ** 3 * any_turn)
        return -k0, k1, k2, k3, max(flush, 0.0)

    def _totals(self, t: float, room: float) -> tuple:
        """Every class's (k0..k3) at t below `room`, their flushes, reaches and window sums, and the sums
        over classes (cached: every view with the same room starts from them)."""
        key = (t, room)
        hit = self._totals_cache.get(key)
        if hit is not None:
            return hit
        classes, _, reaches, sums = self._parts(t)
        flushes = ()
        split = self._splits_at.get(room)
        if split is None:
            split = self._splits_at[room] = not self.plain_che and any(big >= room for big in self.biggest)
        if split:
            classes, flushes = self._split(t, room)
        k0 = k1 = k2 = k3 = 0.0
        for c0, c1, c2, c3 in classes:
            k0 += c0
            k1 += c1
            k2 += c2
            k3 += c3
        out = (classes, flushes, reaches, sums, k0, k1, k2, k3, sum(flushes))
        if len(self._totals_cache) < 8192:
            self._totals_cache[key] = out
        return out

    def _split(self, t: float, room: float) -> tuple[list, list[float]]:
        """Per class (k0..k3) of the conversations below `room` blocks, and the expected flushes
        (cached: every view with the same room shares them)."""
        key = (t, room)
        hit = self._split_cache.get(key)
        if hit is not None:
            return hit
        classes, carried, _, _ = self._parts(t)
        flushes = [0.0] * len(classes)
        parts = [self._below(i, t, self._held(i, t), carried[i], room, flushes)
                 if big >= room else part
                 for i, (part, big) in enumerate(zip(classes, self.biggest))]
        out = (parts, flushes)
        if len(self._split_cache) < 8192:
            self._split_cache[key] = out
        return out

    def _below(self, i: int, t: float, held: float, marks: list[float], room: float,
               flushes: list[float]) -> tuple[float, float, float, float]:
        """Class i's (k0..k3) over its conversations whose blocks stay below `room`; the rest counted in
        flushes[i] (expected conversations in the window holding `room` blocks or more)."""
        ct = self.traffic.classes[i]
        lam = self.lam[i]
        gone = t - held
        (idle_v, idle_s), (done_v, done_s), (dead_v, dead_s) = ct.table.mark_sums
        profiles = [(p.weight, a) for p, a in zip(ct.profiles, marks)] if marks else [(1.0, 0.0)]
        k0 = k1 = k2 = k3 = flush = 0.0
        for weight, a in profiles:
            for values, s, measure in ((idle_v, idle_s, held), (done_v, done_s, t)):
                cut = bisect_left(values, room - a)
                s0, s1, s2, s3 = s[0][cut], s[1][cut], s[2][cut], s[3][cut]
                flush += weight * measure * (s[0][-1] - s0)
                # conversations without blocks touch nothing unless they carry prefix blocks
                empty = 0.0 if marks else s[0][bisect_right(values, 0, 0, cut)]
                k0 += weight * measure * (s0 - empty)
                k1 += weight * measure * (s1 + a * s0)
                k2 += weight * measure * (s2 + 2.0 * a * s1 + a * a * s0)
                k3 += weight * measure * (s3 + 3.0 * a * s2 + 3.0 * a * a * s1 + a ** 3 * s0)
        cut = bisect_left(dead_v, room)
        flush += gone * (dead_s[0][-1] - dead_s[0][cut])
        flushes[i] = lam * flush
        return lam * k0, lam * (k1 + gone * dead_s[1][cut]), lam * (k2 + gone * dead_s[2][cut]), \
            lam * (k3 + gone * dead_s[3][cut])

    def other_blocks(self, t: float, view: View | None = None) -> OtherBlocks:
        """D(t) for a view (default: the first class's own history)."""
        log_p0, k1, k2, k3, flush = self._cumulants(t, view or self.views[0])
        if self.plain_che:
            return OtherBlocks(0.0, k1, 0.0, 0.0)
        return OtherBlocks(math.exp(min(0.0, log_p0)), k1, max(k2, 0.0), k3, math.exp(-flush))

    def _node_found(self, view: View, ages: list[float], size: float) -> tuple[list[float], list[float]]:
        """other_blocks(a, view).found_and_fit(view.room, size) at every age, with D's gamma fit and both
        survival terms inlined in the same arithmetic: the shared nodes' hot loop, about 1,000 ages per
        evaluation with a catalog (tests/test_analyze_speed.py holds it to the plain calls)."""
        room = view.room
        low = room - size
        values: list[float] = []
        fits: list[float] = []
        if self.plain_che or low < 0.0:
            for a in ages:
                value, fit = self.other_blocks(a, view).found_and_fit(room, size)
                values.append(value)
                fits.append(fit)
            return values, fits
        cumulants, exp = self._cumulants, math.exp
        third = -1.0 / 3.0
        for a in ages:
            log_p0, k1, k2, k3, flush = cumulants(a, view)
            p0 = exp(min(0.0, log_p0))
            k2 = max(k2, 0.0)
            keep = exp(-flush)
            q = 1.0 - p0
            fitted = False
            if q > 1e-12 and k2 > 0.0:
                m1 = k1 / q
                m2 = (k2 + k1 * k1) / q
                m3 = (k3 + 3.0 * k2 * k1 + k1 ** 3) / q
                var = m2 - m1 * m1
                skew3 = m3 - 3.0 * m1 * m2 + 2.0 * m1 ** 3
                fitted = var > 1e-9 * max(1.0, m1 * m1) and skew3 > 1e-9 * var ** 1.5
            if not fitted:  # a point mass, as OtherBlocks makes it
                value, fit = OtherBlocks(p0, k1, k2, k3, keep).found_and_fit(room, size)
            else:
                k = 4.0 * var ** 3 / (skew3 * skew3)
                theta = skew3 / (2.0 * var)
                c = m1 - k * theta
                up = k + 1.0
                root_k, root_up = (9.0 * k) ** 0.5, (9.0 * up) ** 0.5
                slope_k = -((k * theta) ** third) * root_k / SQRT2
                offset_k = (1.0 - 1.0 / (9.0 * k)) * root_k / SQRT2
                slope_k1 = -((up * theta) ** third) * root_up / SQRT2
                offset_k1 = (1.0 - 1.0 / (9.0 * up)) * root_up / SQRT2
                k_theta = k * theta
                y = room - c
                short = 0.0
                if y > 0.0:
                    r = cbrt(y)
                    short = y * (0.5 * erfc(r * slope_k + offset_k)) - k_theta * (0.5 * erfc(r * slope_k1 + offset_k1))
                    if short < 0.0:
                        short = 0.0
                free = p0 * room + q * short
                y = low - c
                short = 0.0
                if y > 0.0:
                    r = cbrt(y)
                    short = y * (0.5 * erfc(r * slope_k + offset_k)) - k_theta * (0.5 * erfc(r * slope_k1 + offset_k1))
                    if short < 0.0:
                        short = 0.0
                rest = p0 * low + q * short
                y += 0.5
                fit = p0 + q * (0.5 * erfc(cbrt(y) * slope_k + offset_k) if y > 0.0 else 0.0)
                if keep != 1.0:
                    value, fit = keep * free - keep * rest, keep * fit
                else:
                    value = free - rest
            values.append(value)
            fits.append(fit)
        return values, fits

    def mean_other_blocks(self, t: float, view: View | None = None) -> float:
        """E[D(t)]: expected distinct blocks of others touched in t seconds, for a view."""
        _, k1, _, _, flush = self._cumulants(t, view or self.views[0])
        return k1 + flush * (view or self.views[0]).room

    def _never_fills(self, view: View) -> bool:
        """Nothing is left behind for good and what is in progress fits: E[D(t)] stays below the room."""
        if any(done[1] > 0.0 or dead[1] > 0.0 for _, done, dead in self.sums):
            return False
        tr = self.traffic
        total = sum(lam * ct.think.mean * idle[1] for ct, lam, (idle, _, _) in zip(tr.classes, self.lam, self.sums))
        total += sum(kind.blocks * sum(n for n, _ in kind.bins) for j, kind in enumerate(tr.kinds)
                     if j not in tr.hot_kinds)
        return total < view.room

    def characteristic_time(self, view: View | None = None) -> float:
        """T with E[D(T)] = the view's room, by bisection (E[D] increases with t); inf if it never fills."""
        view = view or self.views[0]
        target = view.room
        if target <= 0:
            return 0.0
        if self._never_fills(view):
            return math.inf
        lo, f_lo = 0.0, -target
        hi = 1.0
        f_hi = self.mean_other_blocks(hi, view) - target
        while f_hi < 0.0:
            lo, f_lo = hi, f_hi
            hi *= 2.0
            if hi > 1e15:
                return math.inf
            f_hi = self.mean_other_blocks(hi, view) - target
        return _bracketed_root(lambda t: self.mean_other_blocks(t, view) - target, lo, f_lo, hi, f_hi)

    def _empty_view(self, view: View) -> bool:
        """Nothing else can be touched while the view's node is not: it is a node every request shares."""
        return view.subtree_kind in self.traffic.hot_kinds

    # --- hits ---------------------------------------------------------------------------------
    def _history(self, ci: int, view: View, nodes: list[tuple[float, float]]) -> tuple[float, float]:
        """(history blocks hit, requests fully hit) of class ci's follow-ups, averaged over its gaps."""
        blocks = full = 0.0
        groups = self.groups[ci]
        for weight, z in nodes:
            bl, fu = self.other_blocks(z, view).history_hits(view.room, groups)
            blocks += weight * bl
            full += weight * fu
        return blocks, full

    def _own_gaps(self, ct: ClassTraffic, t_char: float) -> list[tuple[float, float]]:
        """(weight, age) nodes of the time since a follow-up's own last touch of its blocks here."""
        return ct.think.nodes(t_char)

    def _private(self, ci: int, view: View, t_char: float, nodes: list[tuple[float, float]]) -> tuple[float, float]:
        """(history blocks hit, requests fully hit) of class ci's follow-ups in one view."""
        return self._history(ci, view, nodes)

    def _age_grid(self, t_chars: list[float], gap_nodes: list[list[tuple[float, float]]]) -> list[float]:
        """Ages at which shared nodes' hits are integrated: every gap node, and a geometric grid around T."""
        points = {z for nodes in gap_nodes for _, z in nodes if 0.0 < z < math.inf}
        finite = [t for t in t_chars if math.isfinite(t) and t > 0.0]
        scale = points | set(finite)
        if not scale:
            return sorted(points)
        lo = min(scale) * 10 ** -GRID_DECADES_BELOW
        hi = max(scale) * 10 ** GRID_DECADES_ABOVE
        t = lo
        while t < hi:
            points.add(t)
            t *= GRID_RATIO
        points.add(hi)
        return sorted(points)

    def _shared(self, ct: ClassTraffic, profile: Profile, nodes: list[tuple[float, float]],
                grid: list[float]) -> tuple[float, float]:
        """(blocks a conversation of this profile finds in its shared prefix over its first turn and
        follow-ups, the chance a follow-up finds all of it)."""
        total = 0.0
        whole = 1.0
        follow = self.follow_weight[ct.index]
        for level, kind_index in enumerate(ct.levels):
            kind = self.traffic.kinds[kind_index]
            view = View(self, ct, profile, level)
            start = max(0.0, min(float(kind.blocks), view.room))   # nothing touched since: D = 0
            if self._empty_view(view):
                total += start * (1.0 + follow)
                continue
            pop = profile.popularity[level]
            # others' requests reach this node as a Poisson process: P(untouched for a) = exp(-pop R(a));
            # ages it almost never reaches add nothing
            untouched = []
            parts = self._parts
            for a in grid:
                share_untouched = math.exp(-pop * parts(a)[2][kind_index])
                untouched.append(share_untouched)
                if share_untouched < NEVER_UNTOUCHED:
                    break
            reached = len(untouched)
            # views of the same node level and popularities see the same D, whatever their class
            key = (kind_index, profile.popularity[:level + 1])
            cached = self._found_cache.get(key)
            if cached is None:
                self._found_cache[key] = cached = self._node_found(view, grid[:reached], kind.blocks)
            values, fits = cached
            below = [0.0]  # ∫_0^a found dF over the grid (trapezoid), and the same of the full fit
            below_fit = [0.0]
            prev_f, prev_s, prev_fit = start, 1.0, 1.0 if view.room >= kind.blocks else 0.0
            for f, s, fit in zip(values, untouched, fits):
                below.append(below[-1] + 0.5 * (prev_f + f) * (prev_s - s))
                below_fit.append(below_fit[-1] + 0.5 * (prev_fit + fit) * (prev_s - s))
                prev_f, prev_s, prev_fit = f, s, fit
            first = below[-1] + values[-1] * untouched[-1]
            again = again_fit = 0.0
            for weight, z in nodes:
                if z <= 0.0:
                    again += weight * start
                    again_fit += weight * prev_fit
                    continue
                i = bisect_right(grid, z) - 1
                # z is a grid point (the grid holds every gap node); past the ages reached, all of the integral
                if i >= reached:
                    again += weight * below[-1]
                    again_fit += weight * below_fit[-1]
                    continue
                again += weight * (values[i] * untouched[i] + below[i + 1])
                again_fit += weight * (fits[i] * untouched[i] + below_fit[i + 1])
            total += first + follow * again
            whole = again_fit   # the deepest node decides: its ancestors are more recent
        return total, whole

    def predict(self) -> LruPrediction:
        tr = self.traffic
        b = tr.block_size
        t_chars, gap_nodes = [], []
        for ct, view in zip(tr.classes, self.views):
            t_char = self.characteristic_time(view)
            t_chars.append(t_char)
            gap_nodes.append(self._own_gaps(ct, t_char))
        needs_grid = any(not self._empty_view(View(self, ct, p, level)) for ct in tr.classes
                         for p in ct.profiles for level in range(len(ct.levels)))
        grid = self._age_grid(t_chars, gap_nodes) if needs_grid else []
        per_class = []
        for ct, t_char, nodes in zip(tr.classes, t_chars, gap_nodes):
            ci = ct.index
            table = ct.table
            blocks = full = shared = 0.0
            for profile in ct.profiles:
                view = self.views[ci] if profile is ct.profiles[0] else View(self, ct, profile, None)
                if view.room <= 0:
                    bl, fu = 0.0, 0.0
                else:
                    bl, fu = self._private(ci, view, t_char, nodes)
                blocks += profile.weight * bl
                full += profile.weight * fu
                whole = 1.0
                if ct.levels:
                    found, whole = self._shared(ct, profile, nodes, grid)
                    shared += profile.weight * found
                # a follow-up with no history of its own is a hit when its shared prefix is all there
                full += profile.weight * self.empty[ci] * whole
            hit_tokens = b * (shared + blocks)
            prompt = table.conversation_prompt_tokens
            ceiling = b * (ct.shared_blocks * table.mean_turns + table.history_blocks)
            per_class.append(ClassHits(
                ct.name, _clamp01(hit_tokens / prompt), _clamp01(full / table.mean_turns),
                _clamp01(ceiling / prompt), _clamp01((table.mean_turns - 1.0) / table.mean_turns),
                _clamp01(b * shared / prompt),
                _clamp01(blocks / table.history_blocks) if table.history_blocks > 0 else 1.0,
                t_char, hit_tokens, prompt, full, table.mean_turns))
        return self._combine(per_class, t_chars)

    def _combine(self, per_class: list[ClassHits], t_chars: list[float]) -> LruPrediction:
        tr = self.traffic
        shares = [ct.share for ct in tr.classes]
        prompt = sum(w * c.prompt_tokens_per_conversation for w, c in zip(shares, per_class))
        hits = sum(w * c.hit_tokens_per_conversation for w, c in zip(shares, per_class))
        turns = sum(w * c.mean_turns for w, c in zip(shares, per_class))
        full = sum(w * c.full_hits_per_conversation for w, c in zip(shares, per_class))
        ceiling = sum(w * c.ceiling_token_hit_rate * c.prompt_tokens_per_conversation
                      for w, c in zip(shares, per_class))
        history = sum(w * ct.table.history_blocks for w, ct in zip(shares, tr.classes))
        found = sum(w * c.follow_up_block_hit_rate * ct.table.history_blocks
                    for w, c, ct in zip(shares, per_class, tr.classes))
        main = max(range(len(shares)), key=lambda i: (shares[i], -i))
        occ = self._occupancy(t_chars, main)
        single = len(per_class) == 1
        return LruPrediction(
            token_hit_rate=per_class[0].token_hit_rate if single else _clamp01(hits / prompt),
            request_hit_rate=per_class[0].request_hit_rate if single else _clamp01(full / turns),
            ceiling_token_hit_rate=per_class[0].ceiling_token_hit_rate if single else _clamp01(ceiling / prompt),
            ceiling_request_hit_rate=_clamp01((turns - 1.0) / turns),
            characteristic_time_s=t_chars[main],
            follow_up_block_hit_rate=per_class[0].follow_up_block_hit_rate if single else
            (_clamp01(found / history) if history > 0 else 1.0),
            occupancy_system_prompt=occ[0], occupancy_live=occ[1], occupancy_idle=occ[2],
            occupancy_finished=occ[3],
            hit_tokens_per_conversation=hits,
            prompt_tokens_per_conversation=prompt,
            classes=tuple(per_class),
        )

    def _occupancy(self, t_chars: list[float], main: int) -> tuple[float, float, float, float]:
        """Shares of capacity held by shared prefixes, returning / evicted-idle / finished conversations."""
        c = float(self.c)
        tr = self.traffic
        hot = min(tr.hot_shared_blocks, self.c)
        t_main = t_chars[main]
        shared = float(hot)
        reaches = self._parts(t_main)[2] if math.isfinite(t_main) else None
        for j, kind in enumerate(tr.kinds):
            if j in tr.hot_kinds:
                continue
            if reaches is None:
                shared += kind.blocks * sum(n for n, _ in kind.bins)
            else:
                shared += kind.blocks * sum(n * -math.expm1(-pop * reaches[j]) for n, pop in kind.bins)
        live = idle = finished = 0.0
        for ct, lam, (idle_s, done_s, dead_s), t_char in zip(tr.classes, self.lam, self.sums, t_chars):
            think = ct.think
            idle_blocks = lam * idle_s[1]
            if not math.isfinite(t_char):
                live += idle_blocks * think.mean
                continue
            held = think.mean_min(t_char)
            live_time = think.partial_mean(t_char)  # E[Z 1{Z<T}]
            live += idle_blocks * live_time
            idle += idle_blocks * (held - live_time)
            finished += lam * t_char * done_s[1] + lam * (t_char - held) * dead_s[1]
        if not any(math.isfinite(t) for t in t_chars):
            return shared / c, min(live / c, 1.0), 0.0, max(0.0, 1.0 - (shared + live) / c)
        scale = 1.0 / max(c, shared + live + idle + finished)
        return shared * scale, live * scale, idle * scale, finished * scale


@lru_cache(maxsize=64)
def _follow_up_sums(table: ClassTable) -> tuple[float, tuple[int, ...]]:
    """Weight of follow-ups with no private history, and the history sizes in order."""
    empty = sum(w for w, n in table.follow_ups if n <= 0)
    return empty, tuple(sorted(n for _, n in table.follow_ups if n > 0))


@lru_cache(maxsize=256)
def _history_groups(table: ClassTable, fitting: int | None, groups: int) -> list[tuple[float, float]]:
    """(weight, history blocks) the model sums over: every follow-up with history, or, with `fitting`
    of them inside the room, the ones that fit and the ones that do not compressed separately.

    Cached: a sweep's points share the traffic and mostly the split (the set of histories that fit
    the room is fixed by how many do).
    """
    if fitting is None:
        return [(w, float(n)) for w, n in _histories(table)]
    # histories longer than the room never fully hit: a step no gap smooths, so split there
    if table.representatives > 1:
        # the same history size from many representatives: one weight per size, cut at the room
        ordered = _merged_histories(table)
        cut = bisect_right([n for _, n in ordered], _nth_size(table, fitting))
        return _compress(ordered[:cut], groups) + _compress(ordered[cut:], groups)
    ordered = sorted(_histories(table), key=lambda h: h[1])
    return _compress(ordered[:fitting], groups) + _compress(ordered[fitting:], groups)


@lru_cache(maxsize=64)
def _histories(table: ClassTable) -> tuple[tuple[float, int], ...]:
    return tuple((w, n) for w, n in table.follow_ups if n > 0)


@lru_cache(maxsize=64)
def _merged_histories(table: ClassTable) -> list[tuple[float, int]]:
    """(weight, n) with one entry per history size, in order of size."""
    merged: dict[int, float] = {}
    for w, n in _histories(table):
        merged[n] = merged.get(n, 0.0) + w
    return [(merged[n], n) for n in sorted(merged)]


def _nth_size(table: ClassTable, fitting: int) -> float:
    """The largest history size among the `fitting` smallest (those that fit the room)."""
    sizes = _follow_up_sums(table)[1]
    return sizes[fitting - 1] if fitting > 0 else -1.0


def _compress(follow_ups: list[tuple[float, int]], groups: int) -> list[tuple[float, float]]:
    """At most `groups` (weight, mean history) pairs of equal weight that stand for all follow-up turns.

    Histories grow with the turn index, so neighbours have similar sizes; the weighted mean keeps the
    total history exact and the hit functions are smooth in n, so a few dozen groups suffice.
    """
    if len(follow_ups) <= 2 * groups:
        return [(w, float(n)) for w, n in follow_ups]
    rest = sorted((n, w) for w, n in follow_ups)
    total = sum(w for _, w in rest)
    out: list[tuple[float, float]] = []
    step = total / groups
    acc_w = acc_wn = acc_wnn = 0.0
    bound = step
    seen = 0.0

    def flush() -> None:
        # two points, mean -/+ standard deviation: exact for any quadratic in n
        mean = acc_wn / acc_w
        sd = math.sqrt(max(acc_wnn / acc_w - mean * mean, 0.0))
        out.extend(((acc_w / 2.0, mean - sd), (acc_w / 2.0, mean + sd)))

    for n, w in rest:
        while w > 0.0:
            take = min(w, bound - seen) if bound - seen > 1e-15 * total else w
            acc_w += take
            acc_wn += take * n
            acc_wnn += take * n * n
            seen += take
            w -= take
            if seen >= bound - 1e-12 * total:
                flush()
                acc_w = acc_wn = acc_wnn = 0.0
                bound += step
    if acc_w > 1e-15 * total:
        flush()
    return out




def _bracketed_root(f, lo: float, f_lo: float, hi: float, f_hi: float) -> float:
    """The root of an increasing f in [lo, hi] (f(lo) < 0 <= f(hi)) to 1e-12 relative, as bisection finds it.

    False position with the Illinois fix, falling back to a bisection step whenever two steps did not
    halve the bracket: E[D(t)] is smooth, so this takes about a third of the evaluations bisection does.
    """
    side = 0
    widths = [hi - lo, hi - lo]
    for _ in range(400):
        if hi - lo <= 1e-12 * hi:
            break
        if hi - lo > 0.5 * widths[-2]:
            x = 0.5 * (lo + hi)
        else:
            x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
            if not lo < x < hi:
                x = 0.5 * (lo + hi)
        widths.append(hi - lo)
        fx = f(x)
        if fx < 0.0:
            lo, f_lo = x, fx
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = x, fx
            if side == 1:
                f_lo *= 0.5
            side = 1
            if fx == 0.0:
                return x
    return 0.5 * (lo + hi)


def _carried(mu: float) -> float:
    """(1 - e^-μ) / μ: the share of a node's blocks each of its Poisson(μ) conversations carries."""
    return -math.expm1(-mu) / mu if mu > 1e-9 else 1.0 - 0.5 * mu


def _clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
