"""Closed form for routers that ignore the prefix (random, round robin, least loaded).

Each request lands on one of N replicas with probability p = 1/N, whatever replica served the
conversation before. On one replica, a turn that lands there leaves a copy of the conversation's
history (n_j blocks after turn j) that stays the newest until the conversation's next visit to
that replica: a geometric number of turns later, or never when the conversation ends first. The
stack-position argument of analytic.py then holds per replica with two changes:

- D(t), the other conversations' blocks refreshed within t, counts copies whose lifetimes are
  these gaps between visits (think times summed), not single think times;
- a follow-up finds the copy its last visit here left, j turns ago with probability p(1-p)^(j-1),
  after a gap of j think times, and that copy is the history of j turns before: only with j = 1
  can the whole history hit.

With N = 1 every term reduces to analytic.LruModel.
"""

from __future__ import annotations

import math

from bisect import bisect_right
from functools import lru_cache
from operator import mul

from .analytic import ClassHits, LruModel, LruPrediction, _compress, _history_groups, _follow_up_sums
from .traffic.distributions import (GAUSS_NODES, Atoms, Dist, Exponential, Fixed, Gamma, Geometric, LogNormal,
                                    _gauss_legendre, quantile_nodes, std_normal)
from .traffic.resolved import Traffic
from .traffic.turns import ClassTable

MAX_LAGS = 5000
# Gaps of two or more think times are smoother than one: half the nodes change results by < 0.05 points.
LAG_NODES = _gauss_legendre(3)
LAG_GROUPS = 4  # and half the history groups


class GapSums:
    """Sums of m think times: S_m ~ Erlang(m, mean) for exponential think times, m x mean when fixed."""

    def __init__(self, think: Dist):
        self.mean = think.mean
        self.fixed = isinstance(think, Fixed) or think.mean == 0.0

    def exceed(self, t: float, count: int) -> list[float]:
        """[P(S_i > t) ... ] as P_i = P(S_i reaches past the i-th unit of t), i = 1..count: the
        increments of E[min(S_m, t)] / mean, so that E[min(S_m, t)] = mean x (P_1 + ... + P_m)."""
        if self.mean == 0.0:
            return [0.0] * count
        x = t / self.mean
        if self.fixed:
            return [min(1.0, max(0.0, x - i)) for i in range(count)]
        # exponential: P_i = P(Poisson(x) >= i)
        out = []
        tail = -math.expm1(-x)
        log_pmf = -x
        for i in range(1, count + 1):
            out.append(max(tail, 0.0))
            log_pmf += math.log(x) - math.log(i) if x > 0 else -math.inf
            tail -= math.exp(log_pmf) if log_pmf > -745 else 0.0
            if tail <= 1e-17:
                out.extend([0.0] * (count - i))
                break
        return out

    def quantile(self, m: int, v: float) -> float:
        """z with P(S_m < z) = v."""
        if self.fixed:
            return m * self.mean
        if m == 1:
            return -self.mean * math.log1p(-v)
        # Wilson-Hilferty start, then Newton on the Erlang CDF (small m, where the start is rough)
        k = 1.0 / (9.0 * m)
        z = m * self.mean * max(1e-6, 1.0 - k + std_normal().inv_cdf(v) * math.sqrt(k)) ** 3
        if m >= 10:
            return z
        for _ in range(30):
            x = z / self.mean
            cdf = 1.0 - _poisson_below(m, x)
            pdf = math.exp(-x + (m - 1) * math.log(x) - math.lgamma(m)) / self.mean if x > 0 else 0.0
            if pdf <= 0.0:
                break
            step = (cdf - v) / pdf
            z = max(z - step, z / 10.0)
            if abs(step) <= 1e-10 * z:
                break
        return z

    def cdf(self, m: int, z: float) -> float:
        """P(S_m < z)."""
        if self.fixed:
            return 1.0 if m * self.mean < z else 0.0
        return max(0.0, 1.0 - _poisson_below(m, z / self.mean))


def _poisson_below(m: int, x: float) -> float:
    """P(Poisson(x) < m)."""
    if x <= 0.0:
        return 1.0
    if x > 700.0:  # e^-x underflows: sum the terms in log space
        log_x = math.log(x)
        return min(1.0, sum(math.exp(-x + i * log_x - math.lgamma(i + 1)) for i in range(m)))
    term = total = math.exp(-x)
    for i in range(1, m):
        term *= x / i
        total += term
    return min(1.0, total)


def _over_quantiles(v_t: float, nodes, value_at) -> float:
    """Integral of value_at(v) over v in [0, 1], in quadrature pieces cut around v_t = P(gap < T)."""
    total = 0.0
    for weight, v in quantile_nodes(v_t, nodes):
        total += weight * value_at(v)
    return total


class BlindRoutingModel(LruModel):
    """One replica's LRU cache when each request picks one of `replicas` replicas regardless of its prefix.

    This closed form covers the textbook traffic: one class with fixed tokens per turn that continue the
    conversation, geometric or fixed turns, exponential or fixed think times, cached as an engine does.
    """

    def __init__(self, traffic: Traffic, capacity_blocks: int, arrival_rate: float, replicas: int):
        # arrival_rate: conversations per second over the whole cluster (every replica sees them all)
        super().__init__(traffic, capacity_blocks, arrival_rate)
        if not textbook(traffic):
            raise ValueError("cluster.routing: the prefix-blind closed form covers one class with fixed tokens "
                             "per turn; this workload has classes or token distributions")
        ct = traffic.classes[0]
        self.ct = ct
        self.biggest = [0]   # D here counts copies, not the affinity sums the flush split reads
        self.think = ct.think
        self.room = self.rooms[0]
        self.p = 1.0 / replicas
        self.gaps = GapSums(ct.think)
        self.fixed_turns = not isinstance(ct.spec.turns, Geometric)
        self.q = 0.0 if self.fixed_turns else ct.spec.turns.q  # P(another turn)
        self.a = self.q * (1.0 - self.p)  # another turn, not here
        idle, done, _ = self.sums[0]
        # Σ P(N >= j) n_j^r, r = 0..3: the idle and the finished sums together
        self.copy_sums = [i + d for i, d in zip(idle, done)]
        table = ct.table
        sizes = _follow_up_sums(table)[1]
        self.fitting = bisect_right(sizes, self.room)
        if self.fixed_turns:
            self.turn_blocks = [ms[0] for ms in table.touched]
        else:
            self.lag_groups = _history_groups(table, self.fitting, LAG_GROUPS)

    # --- D: copies refreshed within t ---------------------------------------------------------
    def _bracket(self, t: float) -> float:
        """E[min(L, t)] for a copy's lifetime L (geometric turns: the same for every copy)."""
        p, a, mean = self.p, self.a, self.gaps.mean
        none = 1.0 - self.q * p / (1.0 - a) if a < 1.0 else 0.0
        if mean == 0.0:
            return none * t
        x = t / mean
        if self.gaps.fixed:
            k = math.floor(x)
            series = (1.0 - a ** k) / (1.0 - a) + (x - k) * a ** k
        else:
            series = -math.expm1(-x * (1.0 - a)) / (1.0 - a)
        # Σ_m π_m E[min(S_m, t)] with π_m = q p a^(m-1) and E[min(S_m, t)] = mean Σ_{i<=m} P_i
        return mean * self.q * p / (1.0 - a) * series + none * t

    def _fixed_turn_moments(self, t: float) -> list[float]:
        """Σ_j n_j^r E[min(L_j, t)] for fixed turns: a copy after turn j has N - j turns left."""
        p, mean = self.p, self.gaps.mean
        blocks = self.turn_blocks
        turns = len(blocks)
        steps = self.gaps.exceed(t, turns)
        # bracket_R = mean Σ_{i<=R} P_i ((1-p)^(i-1) - (1-p)^R) + (1-p)^R t, for R = N - j
        a_sum = b_sum = 0.0
        brackets = [t]  # R = 0: never touched again here
        stay = 1.0
        for i in range(1, turns):
            a_sum += steps[i - 1] * stay
            b_sum += steps[i - 1]
            stay *= 1.0 - p
            brackets.append(mean * (a_sum - stay * b_sum) + stay * t)
        out = [0.0] * 4
        for j, n in enumerate(blocks, start=1):
            if n <= 0:
                continue
            br = brackets[turns - j]
            for r in range(4):
                out[r] += n ** r * br
        return out

    def _moments(self, t: float) -> list[float]:
        if self.fixed_turns:
            return [self.lam[0] * self.p * m for m in self._fixed_turn_moments(t)]
        scale = self.lam[0] * self.p * self._bracket(t)
        return [scale * c for c in self.copy_sums]

    def _parts(self, t: float) -> tuple:
        # the only shared node is the prefix every request starts with: always above the others
        return [tuple(self._moments(t))], [[]], [0.0] * len(self.traffic.kinds), None

    def _never_fills(self, view) -> bool:
        # copies a conversation never returns to stay: any private block eventually fills the cache
        return self.copy_sums[1] <= 0.0

    # --- hits ---------------------------------------------------------------------------------
    def _lag_groups(self, lag: int) -> tuple[float, list[tuple[float, float]]]:
        """(weight, groups of copy sizes) of the follow-ups whose last visit here was `lag` turns back."""
        weight = self.p * (1.0 - self.p) ** (lag - 1)
        if not self.fixed_turns:
            # follow-up k reuses the copy of turn k - lag, with P(N >= k) = q^(lag-1) P(N > k - lag)
            return weight * self.q ** (lag - 1), self.lag_groups
        turns = len(self.turn_blocks)
        copies = [(1.0, n) for i, n in enumerate(self.turn_blocks, start=1) if i <= turns - lag and n > 0]
        return weight, _compress(copies, LAG_GROUPS)

    def _blocks_hit(self, z: float, groups: list[tuple[float, float]]) -> float:
        return self.other_blocks(z).history_hits(self.room, groups)[0]

    def _over_gap(self, lag: int, t_char: float, groups: list[tuple[float, float]]) -> float:
        """E over the gap S_lag of the history blocks the copy still holds."""
        gaps = self.gaps
        if gaps.fixed:
            return self._blocks_hit(lag * gaps.mean, groups)
        v_t = gaps.cdf(lag, t_char) if math.isfinite(t_char) else 1.0
        return _over_quantiles(v_t, LAG_NODES, lambda v: self._blocks_hit(gaps.quantile(lag, v), groups))

    def _blocks_over_exponential(self, mean: float, t_char: float) -> float:
        """E[history blocks hit] for a gap ~ Exp(mean), quadrature pieces around P(gap < T)."""
        v_t = -math.expm1(-t_char / mean) if math.isfinite(t_char) else 1.0
        return _over_quantiles(v_t, GAUSS_NODES, lambda v: self._blocks_hit(-mean * math.log1p(-v), self.groups[0]))

    def _older_lags(self, t_char: float) -> float:
        """History blocks hit from copies two or more turns old (fixed turns or fixed think times).

        Each lag adds at most `decay` times the one before (its weight falls by that factor, its gap
        is longer and its copy no larger), so what is left after a lag that added `got` is at most
        got x decay / (1 - decay): stop once that cannot move the result by a millionth.
        """
        decay = (1.0 - self.p) * (1.0 if self.fixed_turns else self.q)
        blocks = 0.0
        for lag in range(2, MAX_LAGS):
            if self.fixed_turns and lag >= len(self.turn_blocks):
                break
            weight, groups = self._lag_groups(lag)
            if not groups or weight <= 0.0:
                break
            got = weight * self._over_gap(lag, t_char, groups)
            blocks += got
            if got * decay / (1.0 - decay) <= 1e-6 * blocks:
                break
        return blocks

    def predict(self) -> LruPrediction:
        tr = self.traffic
        ct = self.ct
        table = ct.table
        b = tr.block_size
        s = ct.shared_blocks
        prompt = table.conversation_prompt_tokens
        history_blocks = table.history_blocks
        t_char = self.characteristic_time()
        empty = self.empty[0]
        blocks, full = 0.0, empty
        if self.room > 0:
            # lag 1: the parent's averaging over one think time gives blocks and whole-history hits
            blocks1, full1 = self._history(0, self.views[0], self.think.nodes(t_char))
            full = empty + self.p * full1
            if not self.fixed_turns and not self.gaps.fixed:
                # Geometric turns, exponential think times: every lag reuses the same histories, and
                # Σ_j p a^(j-1) Erlang(j, m) = p / (1 - a) x Exp(m / (1 - a)), so all lags are one average.
                blocks = self.p / (1.0 - self.a) * self._blocks_over_exponential(self.gaps.mean / (1.0 - self.a),
                                                                                 t_char)
            else:
                blocks = self.p * blocks1 + self._older_lags(t_char)
        hit_tokens = b * (min(s, self.c) * table.mean_turns + blocks)
        ceiling_tokens = b * (s * table.mean_turns + history_blocks)
        occ = self._blind_occupancy(t_char)
        hits = ClassHits(ct.name, min(1.0, hit_tokens / prompt), min(1.0, full / table.mean_turns),
                         min(1.0, ceiling_tokens / prompt), min(1.0, (table.mean_turns - 1.0) / table.mean_turns),
                         min(1.0, b * min(s, self.c) * table.mean_turns / prompt),
                         min(1.0, blocks / history_blocks) if history_blocks > 0 else 1.0,
                         t_char, hit_tokens, prompt, full, table.mean_turns)
        return LruPrediction(
            token_hit_rate=hits.token_hit_rate,
            request_hit_rate=hits.request_hit_rate,
            ceiling_token_hit_rate=hits.ceiling_token_hit_rate,
            ceiling_request_hit_rate=hits.ceiling_request_hit_rate,
            characteristic_time_s=t_char,
            follow_up_block_hit_rate=hits.follow_up_block_hit_rate,
            occupancy_system_prompt=occ[0], occupancy_live=occ[1], occupancy_idle=occ[2],
            occupancy_finished=occ[3],
            hit_tokens_per_conversation=hit_tokens,
            prompt_tokens_per_conversation=prompt,
            classes=(hits,),
        )

    def _blind_occupancy(self, t_char: float) -> tuple[float, float, float, float]:
        """Shares held by the system prompt and by copies that are touched again here before eviction
        (live), evicted first (idle), or never touched here again (finished, or gone to other replicas).

        Split only for geometric turns with exponential think times (the gap to the next visit is then
        exponential); otherwise all copies count as idle.
        """
        c = float(self.c)
        s = min(self.ct.shared_blocks, self.c)
        horizon = t_char if math.isfinite(t_char) else 1e15
        copies = self.mean_other_blocks(horizon)
        scale = 1.0 / max(c, s + copies)
        if self.fixed_turns or self.gaps.fixed or self.a >= 1.0:
            return s * scale, 0.0, copies * scale, 0.0
        per_copy = self.lam[0] * self.p * self.copy_sums[1]
        returning = self.q * self.p / (1.0 - self.a)
        gap = self.gaps.mean / (1.0 - self.a)
        if math.isfinite(t_char):
            kept = math.exp(-t_char / gap)
            live = per_copy * returning * (gap * -math.expm1(-t_char / gap) - t_char * kept)
            finished = per_copy * (1.0 - returning) * t_char
        else:
            live, finished = per_copy * returning * gap, max(0.0, copies - per_copy * returning * gap)
        idle = max(0.0, copies - live - finished)
        return s * scale, live * scale, idle * scale, finished * scale


def textbook(traffic: Traffic) -> bool:
    """One class of the version-1 kind: fixed tokens, continuing turns, engine admission."""
    if len(traffic.classes) != 1 or traffic.admission != "engine":
        return False
    ct = traffic.classes[0]
    if not isinstance(ct.spec.think, (Exponential, Fixed)) or not isinstance(ct.spec.turns, (Geometric, Fixed)):
        return False
    return ct.table.representatives == 1 and ct.spec.follow_ups == (("continue", 1.0),) \
        and all(traffic.spec.group(g).count == 1 for g in ct.spec.prefix) and len(ct.spec.prefix) <= 1


MAX_GENERAL_LAGS = 64    # later returns to a replica count as never (their weight is (1 - p)^64)
LAG_REPRESENTATIVES = 32  # of a class's representative conversations, for the copies' history sizes


class LagSums:
    """Sums of g think times of a class: Erlang for exponential gaps, exact for fixed and gamma ones, else a
    lognormal of the same mean and variance (Fenton-Wilkinson: a sum of positive gaps is seldom near 0,
    which a gamma of the same moments would not respect when the gaps vary a lot)."""

    def __init__(self, think: Dist, lags: int):
        self.think = think
        self.lags = lags
        self.exact = GapSums(think) if isinstance(think, (Exponential, Fixed)) or think.mean == 0.0 else None
        mean, second = think.mean, think.moment(2)
        self.mean, self.var = mean, max(second - mean * mean, 1e-12 * mean * mean)
        self._laws: dict[int, Dist] = {}

    def law(self, g: int) -> Dist:
        """S_g's law (g = 1: the think time's own), made once per lag (every window asks for it)."""
        law = self._laws.get(g)
        if law is None:
            law = self._laws[g] = self._law(g)
        return law

    def _law(self, g: int) -> Dist:
        if g == 1:
            return self.think
        think = self.think
        if isinstance(think, Fixed) or self.mean == 0.0:
            return Fixed(g * self.mean)
        if isinstance(think, Gamma):
            return Gamma(g * think.mean_value, min(10_000.0, g * think.shape))
        mean, var = g * self.mean, g * self.var
        sigma2 = math.log1p(var / (mean * mean))
        return LogNormal(mean / math.exp(0.5 * sigma2), min(5.0, math.sqrt(sigma2)))

    def mean_min(self, t: float) -> list[float]:
        """[E[min(S_g, t)] for g = 1..lags]."""
        if self.exact is not None:
            steps = self.exact.exceed(t, self.lags)
            out, acc = [], 0.0
            for step in steps:
                acc += step
                out.append(self.exact.mean * acc)
            return out
        return [self.think.mean_min(t)] + [self.law(g).mean_min(t) for g in range(2, self.lags + 1)]


@lru_cache(maxsize=64)
def lag_items(table: ClassTable, p: float) -> tuple:
    """What a class's copies are on a replica a request reaches with probability p, cached per table:
    (lag weights, Σ over turns of P(N >= j) x_j, per lag Σ P(N >= j + g) x_j, per lag the follow-ups'
    (weight, blocks of the copy they share, whole history there) items, follow-ups never here before).

    x_j: per turn the mean over representatives of 1, 1{m > 0}, m, m^2, m^3, d, d^2, d^3 (d: dead blocks).
    A follow-up at turn k whose last visit here was turn k - g shares the least of n_(k-g) .. n_(k-1)
    blocks with that copy (each turn keeps a prefix of the one before), and finds its whole history
    there when that is n_(k-1) itself (a conversation that branches from one context; not one that grows).
    """
    k = table.representatives
    reach = [r for r, _ in table.reach]
    turns = len(reach)
    # lags whose weight together is below 1e-4 count as never coming back
    longest = math.ceil(math.log(1e-4) / math.log(1.0 - p)) if p < 1.0 else 1
    lags = max(1, min(MAX_GENERAL_LAGS, turns - 1, longest))
    weights = [p * (1.0 - p) ** (g - 1) for g in range(1, lags + 1)]
    per_turn = []
    for ms, ns in zip(table.touched, table.reused):
        row = [float(k), float(sum(1 for m in ms if m > 0))]
        row += [float(sum(m ** r for m in ms)) for r in (1, 2, 3)]
        row += [float(sum((m - n) ** r for m, n in zip(ms, ns) if m > n)) for r in (1, 2, 3)]
        per_turn.append([x / k for x in row])
    width = 8
    total = [sum(reach[j] * per_turn[j][i] for j in range(turns)) for i in range(width)]
    by_lag = [[w * sum(reach[j + g] * per_turn[j][i] for j in range(turns - g)) for i in range(width)]
              for g, w in enumerate(weights, start=1)]
    # per lag: {(blocks shared, whole history there): weight}; every `step`-th representative stands for
    # `step` of them (they are strata in a Latin hypercube, so a regular subset is still stratified)
    items: list[dict] = [{} for _ in weights]
    lag_weight = [0.0] * lags
    reused = table.reused
    step = max(1, k // LAG_REPRESENTATIVES)
    chosen = range(0, k, step)
    scale = 1.0 / len(chosen)
    live = [j for j in range(turns - 1) if reach[j + 1] > 1e-12]
    for i in chosen:
        for j in live:
            share = reused[j][i]
            for g in range(1, min(lags, turns - 1 - j) + 1):
                last = reused[j + g - 1][i]
                if last < share:
                    share = last
                weight = weights[g - 1] * reach[j + g] * scale
                lag_weight[g - 1] += weight
                if share > 0:
                    key = (share, share >= last)
                    bucket = items[g - 1]
                    bucket[key] = bucket.get(key, 0.0) + weight
    none = max(0.0, table.follow_up_weight - sum(lag_weight))
    return weights, total, by_lag, items, lag_weight, none


class LagTable:
    """One class's lags on a replica: the cached lag items, with the follow-ups' groups for one room."""

    def __init__(self, table: ClassTable, p: float, room: float, fixed_gap: bool):
        self.weights, self.total, self.by_lag, _, self.lag_weight, self.none = lag_items(table, p)
        self.lags = len(self.weights)
        # the window sums' t-free parts, summed in the order _window_sums once summed them at every window
        self.columns = [[a[i] for a in self.by_lag] for i in range(8)]
        self.rest = [self.total[i] - sum(a[i] for a in self.by_lag) for i in range(8)]
        self.groups = lag_groups(table, p, room, fixed_gap)   # per lag: (whole history there, the rest)


@lru_cache(maxsize=256)
def lag_groups(table: ClassTable, p: float, room: float, fixed_gap: bool) -> tuple:
    """Per lag, the follow-ups' copies compressed in groups split at the room (cached per room)."""
    out = []
    for g, lag in enumerate(lag_items(table, p)[3], start=1):
        size = GROUPS_FIRST if g == 1 else LAG_GROUPS
        pair = []
        for whole in (True, False):
            ordered = sorted((n, w) for (n, ok), w in lag.items() if ok == whole)
            ordered = [(w, n) for n, w in ordered]
            if fixed_gap and g == 1:
                pair.append([(w, float(n)) for w, n in ordered])
                continue
            cut = bisect_right([n for _, n in ordered], room)
            pair.append(_compress(ordered[:cut], size) + _compress(ordered[cut:], size))
        out.append(tuple(pair))
    return tuple(out)


GROUPS_FIRST = 8


class GeneralBlindModel(LruModel):
    """One replica's LRU cache when each request picks one of `replicas` replicas regardless of its prefix,
    for any traffic: a turn that lands here leaves a copy of the conversation's blocks that stays the newest
    until the conversation's next visit here (a geometric number of turns later, or never), and a follow-up
    finds the copy its last visit here left, after the sum of the think times since."""

    def __init__(self, traffic: Traffic, capacity_blocks: int, arrival_rate: float, replicas: int):
        super().__init__(traffic, capacity_blocks, arrival_rate)
        self.p = 1.0 / replicas
        self.biggest = [0] * len(traffic.classes)   # D counts copies here: no flush split
        self.lag_tables = [LagTable(ct.table, self.p, room, isinstance(ct.think, (Fixed, Atoms)))
                           for ct, room in zip(traffic.classes, self.rooms)]
        self.lag_sums = [LagSums(ct.think, lt.lags) for ct, lt in zip(traffic.classes, self.lag_tables)]

    def _window_sums(self, t: float) -> list[tuple]:
        out = []
        p = self.p
        for lt, sums in zip(self.lag_tables, self.lag_sums):
            m = sums.mean_min(t)
            columns, rest = lt.columns, lt.rest
            latest = [p * (sum(map(mul, columns[i], m)) + t * rest[i]) for i in range(5)]
            # dead blocks stay counted after the next visit here: t - E[min(L, t)] for the lags that come
            after = [t - mg for mg in m]
            dead = [p * sum(map(mul, columns[i], after)) for i in (5, 6, 7)]
            out.append((latest[0], latest[0], latest[1], latest[2], latest[3], latest[4], *dead))
        return out

    def _never_fills(self, view) -> bool:
        # copies a conversation never returns to stay: any private block eventually fills the cache
        return all(lt.total[2] <= 0.0 for lt in self.lag_tables) and not self.traffic.kinds

    def _own_gaps(self, ct, t_char: float) -> list[tuple[float, float]]:
        """The age of a follow-up's own last touch here: the sum of the gaps back to its last visit, or none."""
        lt, sums = self.lag_tables[ct.index], self.lag_sums[ct.index]
        follow = ct.table.follow_up_weight
        if follow <= 0:
            return [(1.0, math.inf)]
        out = []
        for g, weight in enumerate(lt.lag_weight, start=1):
            if weight > 1e-9 * follow:
                law = sums.law(g)
                nodes = law.nodes(t_char) if g == 1 else [(w, law.quantile(v)) for w, v in quantile_nodes(
                    law.cdf(t_char) if math.isfinite(t_char) else 1.0, LAG_NODES)]
                out.extend((weight / follow * w, z) for w, z in nodes)
        if lt.none > 0:
            out.append((lt.none / follow, math.inf))
        return out

    def _private(self, ci: int, view, t_char: float, nodes) -> tuple[float, float]:
        lt, sums = self.lag_tables[ci], self.lag_sums[ci]
        blocks = full = 0.0
        for g, (whole, part) in enumerate(lt.groups, start=1):
            if not whole and not part:
                continue
            law = sums.law(g)
            if g == 1:
                gaps = law.nodes(t_char)
            else:
                v_t = law.cdf(t_char) if math.isfinite(t_char) else 1.0
                gaps = [(w, law.quantile(v)) for w, v in quantile_nodes(v_t, LAG_NODES)]
            got = 0.0
            for weight, z in gaps:
                d = self.other_blocks(z, view)
                bl, fu = d.history_hits(view.room, whole) if whole else (0.0, 0.0)
                bl2, _ = d.history_hits(view.room, part) if part else (0.0, 0.0)
                got += weight * (bl + bl2)
                full += weight * fu
            blocks += got
            if g > 1 and got <= 1e-7 * max(blocks, 1e-300):
                break
        return blocks, full

    def _occupancy(self, t_chars: list[float], main: int) -> tuple[float, float, float, float]:
        c = float(self.c)
        t = t_chars[main] if math.isfinite(t_chars[main]) else 1e15
        copies = sum(k[1] for k in self._parts(t)[0])
        shared = float(min(self.traffic.hot_shared_blocks, self.c))
        scale = 1.0 / max(c, shared + copies)
        return shared * scale, 0.0, copies * scale, 0.0
