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

from .analytic import ClassHits, LruModel, LruPrediction, _compress, _history_groups, _follow_up_sums
from .traffic.distributions import GAUSS_NODES, Dist, Fixed, Geometric, _gauss_legendre, quantile_nodes, std_normal
from .traffic.resolved import Traffic

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
        return [tuple(self._moments(t))], [[]], [0.0] * len(self.traffic.kinds), [self.think.mean_min(t)]

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
    return ct.table.representatives == 1 and ct.spec.follow_ups == (("continue", 1.0),) \
        and all(traffic.spec.group(g).count == 1 for g in ct.spec.prefix) and len(ct.spec.prefix) <= 1
