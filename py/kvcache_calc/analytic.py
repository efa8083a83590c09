"""Closed-form LRU prefix-cache model: characteristic time plus the stack position of each history.

A conversation's blocks are touched together at every turn, tail first, so its head is the most
recent. After a gap of Z seconds, the head private block sits below the s shared blocks and D(Z)
distinct private blocks of other conversations; block i of the history survives iff
s + D(Z) + i < C. D(Z) is a compound-Poisson sum over the other conversations (Poisson arrivals),
with mean A(Z) = Λ·(E[min(Z,·)]·Σ P(N>j) n_j + Z·E[n_N]) and a variance of the same form with n².
Che's approximation replaces D by its mean (one characteristic time T with A(T) = C - s). We keep
its distribution instead: an atom at 0 (no other conversation touched anything) plus a translated
gamma matching the first three cumulants of the rest, whose CDF comes from the Wilson-Hilferty
transform. That, and counting the partial (tail-eaten) hits, holds the model to the simulator when
the cache holds only a few conversations.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .workload import Traffic, TurnTable

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class ThinkTime:
    """Think-time distribution: exponential or fixed, with mean `mean` seconds."""

    dist: str
    mean: float

    def cdf(self, t: float) -> float:
        """P(Z < t)."""
        if self.dist == "fixed" or self.mean == 0.0:
            return 1.0 if self.mean < t else 0.0
        return -math.expm1(-t / self.mean)

    def mean_min(self, t: float) -> float:
        """E[min(Z, t)]."""
        if self.dist == "fixed" or self.mean == 0.0:
            return min(self.mean, t)
        return self.mean * -math.expm1(-t / self.mean)


@dataclass(frozen=True)
class LruPrediction:
    token_hit_rate: float
    request_hit_rate: float
    ceiling_token_hit_rate: float
    ceiling_request_hit_rate: float
    characteristic_time_s: float       # T: A(T) = C - s; inf when the cache never fills
    follow_up_block_hit_rate: float    # share of history blocks of follow-ups found
    occupancy_system_prompt: float     # shares of capacity
    occupancy_live: float              # in-progress conversations that return before eviction
    occupancy_idle: float              # in-progress conversations evicted before they return
    occupancy_finished: float          # conversations that have ended
    hit_tokens_per_conversation: float
    prompt_tokens_per_conversation: float


class OtherBlocks:
    """Distribution of D: 0 with probability p0, else c + Gamma(k, theta) (moments of D | D > 0).

    Gamma CDFs come from the Wilson-Hilferty transform: (G / k theta)^(1/3) is close to
    Normal(1 - 1/(9k), 1/(9k)). `history_hits` is the hot loop of the model, so the constants
    of both transforms it needs (shape k and k + 1) are prepared here.
    """

    def __init__(self, p0: float, k1: float, k2: float, k3: float):
        # k1..k3: cumulants of D (compound Poisson: Λ x the moments of the block counts).
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
        self.wh = tuple(((s * theta) ** (-1.0 / 3.0), 1.0 / (9.0 * s), (9.0 * s) ** 0.5) for s in (k, k + 1.0))

    def survival_stats(self, a: float) -> tuple[float, float]:
        """(E[(a - D)+], P(D <= a)) for a whole number a: free stack positions and a full fit."""
        if a < 0.0:
            return 0.0, 0.0
        p0 = self.p0
        q = 1.0 - p0
        if self.k == 0.0:
            return p0 * a + q * max(a - self.mean, 0.0), p0 + (q if a + 0.5 >= self.mean else 0.0)
        (scale_k, v_k, inv_k), (scale_k1, v_k1, inv_k1) = self.wh
        y = a - self.c
        short = 0.0
        if y > 0.0:
            r = y ** (1.0 / 3.0)
            cdf_k = 0.5 * math.erfc(-(r * scale_k - 1.0 + v_k) * inv_k / SQRT2)
            cdf_k1 = 0.5 * math.erfc(-(r * scale_k1 - 1.0 + v_k1) * inv_k1 / SQRT2)
            short = y * cdf_k - self.k * self.theta * cdf_k1
            if short < 0.0:
                short = 0.0
        y += 0.5  # continuity correction: D is a whole number of blocks
        full = 0.0
        if y > 0.0:
            full = 0.5 * math.erfc(-(y ** (1.0 / 3.0) * scale_k - 1.0 + v_k) * inv_k / SQRT2)
        return p0 * a + q * short, p0 + q * full

    def history_hits(self, room: float, groups: list[tuple[float, float]]) -> tuple[float, float]:
        """Σ w (E[(room - D)+] - E[(room - n - D)+]) and Σ w P(D <= room - n) over (w, n) groups.

        `survival_stats` at room - n for every group, inlined with the same arithmetic: this loop
        is most of the time the model takes.
        """
        base, _ = self.survival_stats(room)
        blocks = full = 0.0
        if self.k == 0.0:
            for weight, n in groups:
                free, fits = self.survival_stats(room - n)
                blocks += weight * (base - free)
                full += weight * fits
            return blocks, full
        p0, c, k_theta = self.p0, self.c, self.k * self.theta
        q = 1.0 - p0
        (scale_k, v_k, inv_k), (scale_k1, v_k1, inv_k1) = self.wh
        erfc = math.erfc
        for weight, n in groups:
            a = room - n
            if a < 0.0:
                blocks += weight * base
                continue
            y = a - c
            short = 0.0
            if y > 0.0:
                r = y ** (1.0 / 3.0)
                short = (y * 0.5 * erfc(-(r * scale_k - 1.0 + v_k) * inv_k / SQRT2)
                         - k_theta * 0.5 * erfc(-(r * scale_k1 - 1.0 + v_k1) * inv_k1 / SQRT2))
                if short < 0.0:
                    short = 0.0
            y += 0.5
            fits = 0.0
            if y > 0.0:
                fits = 0.5 * erfc(-(y ** (1.0 / 3.0) * scale_k - 1.0 + v_k) * inv_k / SQRT2)
            blocks += weight * (base - (p0 * a + q * short))
            full += weight * (p0 + q * fits)
        return blocks, full


class LruModel:
    """The stack-position model for one replica's LRU cache of `capacity_blocks` blocks."""

    def __init__(self, traffic: Traffic, capacity_blocks: int, arrival_rate: float,
                 think: ThinkTime, plain_che: bool = False):
        self.traffic = traffic
        self.c = capacity_blocks
        self.lam = arrival_rate
        self.think = think
        self.plain_che = plain_che
        self.room = capacity_blocks - traffic.shared_blocks  # stack positions left for private blocks
        self.idle, self.done = traffic.block_power_sums
        self.follow_ups = traffic.follow_ups
        self.empty_follow_ups, sizes = _follow_up_sums(traffic.table)
        self.history_blocks = self.idle[1]  # Σ P(N>j) n_j: every history a follow-up could find
        # One gap length (fixed think time) is cheap: keep every turn. Averaging over random gaps
        # costs a quadrature node per group, and also smooths the hit functions the groups approximate.
        fixed_gap = think.dist == "fixed" or think.mean == 0.0
        self.fitting = bisect_right(sizes, self.room)  # histories that fit the room
        self.groups = _history_groups(traffic.table, None if fixed_gap else self.fitting, GROUPS)

    def _moment(self, r: int, t: float) -> float:
        """Λ (E[min(Z,t)] Σ P(N>j) n_j^r + t Σ P(N=j) n_j^r)."""
        return self.lam * (self.think.mean_min(t) * self.idle[r] + t * self.done[r])

    def _moments(self, t: float) -> list[float]:
        """[_moment(r, t) for r = 0..3], computing E[min(Z, t)] once."""
        held = self.think.mean_min(t)
        return [self.lam * (held * idle + t * done) for idle, done in zip(self.idle, self.done)]

    def mean_other_blocks(self, t: float) -> float:
        """A(t): expected distinct private blocks of other conversations touched in t seconds."""
        return self._moment(1, t)

    def _never_fills(self) -> bool:
        """No conversation leaves blocks behind and those in progress fit: A(t) stays below C - s."""
        return self.done[1] <= 0.0 and self.lam * self.think.mean * self.idle[1] < self.room

    def characteristic_time(self) -> float:
        """T with A(T) = C - s, by bisection (A increases with t); inf if the cache never fills."""
        target = self.room
        if target <= 0:
            return 0.0
        if self._never_fills():
            return math.inf
        hi = 1.0
        while self.mean_other_blocks(hi) < target:
            hi *= 2.0
            if hi > 1e15:
                return math.inf
        lo = 0.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if self.mean_other_blocks(mid) < target:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-12 * hi:
                break
        return 0.5 * (lo + hi)

    def other_blocks(self, z: float) -> OtherBlocks:
        """Distribution of D(z), the other conversations' private blocks touched during a gap z."""
        if self.plain_che:
            return OtherBlocks(0.0, self.mean_other_blocks(z), 0.0, 0.0)
        k0, k1, k2, k3 = self._moments(z)
        return OtherBlocks(math.exp(-k0), k1, k2, k3)

    def _gap_outcome(self, z: float) -> tuple[float, float]:
        """(history blocks hit, requests fully hit) over follow-up turns weighted by P(N>j), for gap z."""
        # block i of the history survives iff D <= room - 1 - i; all n of them iff D <= room - n
        blocks, full = self.other_blocks(z).history_hits(self.room, self.groups)
        return blocks, self.empty_follow_ups + full  # nothing to find: an empty history is a hit

    def _average_over_gaps(self, t_char: float) -> tuple[float, float]:
        think = self.think
        if think.dist == "fixed" or think.mean == 0.0:
            return self._gap_outcome(think.mean)
        # Z = -m ln(1 - v): Gauss-Legendre on v in pieces, denser where the hit probability changes.
        v_t = think.cdf(t_char) if math.isfinite(t_char) else 1.0
        blocks = full = 0.0
        for weight, v in quantile_nodes(v_t, GAUSS_NODES):
            bl, fu = self._gap_outcome(-think.mean * math.log1p(-v))
            blocks += weight * bl
            full += weight * fu
        return blocks, full

    def predict(self) -> LruPrediction:
        tr = self.traffic
        b = tr.block_size
        s = tr.shared_blocks
        prompt = tr.prompt_tokens_per_conversation()
        history_blocks = self.history_blocks
        t_char = self.characteristic_time()
        if self.room <= 0:
            blocks, full = 0.0, self.empty_follow_ups
        else:
            blocks, full = self._average_over_gaps(t_char)
        hit_tokens = b * (min(s, self.c) * tr.mean_turns + blocks)
        ceiling_tokens = b * (s * tr.mean_turns + history_blocks)
        occ = self._occupancy(t_char)
        return LruPrediction(
            token_hit_rate=_clamp01(hit_tokens / prompt),
            request_hit_rate=_clamp01(full / tr.mean_turns),
            ceiling_token_hit_rate=_clamp01(ceiling_tokens / prompt),
            ceiling_request_hit_rate=_clamp01((tr.mean_turns - 1.0) / tr.mean_turns),
            characteristic_time_s=t_char,
            follow_up_block_hit_rate=_clamp01(blocks / history_blocks) if history_blocks > 0 else 1.0,
            occupancy_system_prompt=occ[0], occupancy_live=occ[1], occupancy_idle=occ[2],
            occupancy_finished=occ[3],
            hit_tokens_per_conversation=hit_tokens,
            prompt_tokens_per_conversation=prompt,
        )

    def _occupancy(self, t_char: float) -> tuple[float, float, float, float]:
        """Shares of capacity held by the system prompt, returning / evicted-idle / finished conversations."""
        c = float(self.c)
        think = self.think
        s = min(self.traffic.shared_blocks, self.c)
        idle_blocks = self.lam * self.idle[1]
        if not math.isfinite(t_char):
            live = idle_blocks * think.mean
            return s / c, min(live / c, 1.0), 0.0, max(0.0, 1.0 - (s + live) / c)
        held = think.mean_min(t_char)
        if think.dist == "fixed" or think.mean == 0.0:
            live_time = held if think.mean < t_char else 0.0
        else:
            live_time = held - t_char * (1.0 - think.cdf(t_char))  # E[Z 1{Z<T}]
        live = idle_blocks * live_time
        idle = idle_blocks * (held - live_time)
        finished = self.lam * t_char * self.done[1]
        scale = 1.0 / max(c, s + live + idle + finished)
        return s * scale, live * scale, idle * scale, finished * scale


@lru_cache(maxsize=64)
def _follow_up_sums(table: TurnTable) -> tuple[float, tuple[int, ...]]:
    """Weight of follow-ups with no private history, and the history sizes in order."""
    empty = sum(w for w, n in table.follow_ups if n <= 0)
    return empty, tuple(sorted(n for _, n in table.follow_ups if n > 0))


@lru_cache(maxsize=256)
def _history_groups(table: TurnTable, fitting: int | None, groups: int) -> list[tuple[float, float]]:
    """(weight, history blocks) the model sums over: every follow-up with history, or, with `fitting`
    of them inside the room, the ones that fit and the ones that do not compressed separately.

    Cached: a sweep's points share the traffic and mostly the split (the set of histories that fit
    the room is fixed by how many do).
    """
    histories = [(w, n) for w, n in table.follow_ups if n > 0]
    if fitting is None:
        return [(w, float(n)) for w, n in histories]
    # histories longer than the room never fully hit: a step no gap smooths, so split there
    ordered = sorted(histories, key=lambda h: h[1])
    return _compress(ordered[:fitting], groups) + _compress(ordered[fitting:], groups)


def quantile_nodes(v_t: float, nodes: list[tuple[float, float]]) -> Iterator[tuple[float, float]]:
    """(weight, v) of a quadrature over v in [0, 1], in pieces cut around v_t = P(gap < T)."""
    cuts = sorted({0.0, 1.0, *[min(max(v_t + d, 0.0), 1.0) for d in CUT_OFFSETS]})
    for lo, hi in zip(cuts, cuts[1:]):
        if hi <= lo:
            continue
        for x, w in nodes:
            yield w * (hi - lo), min(lo + (hi - lo) * x, 1.0 - 1e-16)


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


def _clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def _gauss_legendre(n: int) -> list[tuple[float, float]]:
    """Nodes and weights on [0, 1]."""
    out = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1.0)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-15:
                break
        out.append(((1.0 - x) / 2.0, 1.0 / ((1.0 - x * x) * dp * dp)))
    return sorted(out)


GAUSS_NODES = _gauss_legendre(6)
GROUPS = 8
CUT_OFFSETS = (-0.15, 0.0, 0.15)  # quadrature pieces in P(Z < z) around P(Z < T)
