"""Distributions of token counts, think times and turn counts: one small class per law.

Each law gives what the closed form and the traffic generator need: moments, CDF, quantiles,
E[min(X, t)], equal-probability strata with their conditional means (the model's representative
conversations keep the mean exact), quadrature nodes for E[g(X)], and a sampler. Token counts and
times are non-negative reals (the generator rounds tokens to integers); turn counts are integers >= 1.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SQRT2 = math.sqrt(2.0)
UNDERFLOW = -746.0   # math.exp of anything below is 0.0


@lru_cache(maxsize=1)
def std_normal():
    """The standard normal, imported on first use: statistics pulls in fractions and decimal, a cost
    every page boot would otherwise pay."""
    from statistics import NormalDist

    return NormalDist()


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / SQRT2)


def gamma_p(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x)."""
    if x <= 0.0:
        return 0.0
    if math.isinf(x):
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if log_front < UNDERFLOW:  # e^-x x^a / Γ(a) is 0.0 in floating point: so is every term below
        return 0.0 if x < a + 1.0 else 1.0
    if x < a + 1.0:
        # series: P = e^-x x^a / Gamma(a + 1) * sum x^n / ((a + 1) ... (a + n))
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if term < total * 1e-16:
                break
        return min(1.0, total * math.exp(log_front))
    # continued fraction for Q = 1 - P (modified Lentz)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def gamma_p_pair(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), P(a + 1, x)) from one series or continued fraction: P(a + 1, x) = P(a, x) - e^-x x^a / Γ(a + 1)."""
    if x <= 0.0:
        return 0.0, 0.0
    if math.isinf(x):
        return 1.0, 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if log_front < UNDERFLOW:
        return (0.0, 0.0) if x < a + 1.0 else (1.0, 1.0)
    if x < a + 1.0:
        # the series of P(a, x) is 1/a plus a tail that is the series of P(a + 1, x): summed apart,
        # the second needs no subtraction
        term = 1.0 / a
        tail = 0.0
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            tail += term
            if term < tail * 1e-16:
                break
        front = math.exp(log_front)
        return min(1.0, (1.0 / a + tail) * front), min(1.0, tail * front)
    lower = gamma_p(a, x)
    # here x >= a + 1, where P(a + 1, x) is not small: the difference loses nothing that matters
    return lower, max(0.0, lower - math.exp(log_front) / a)


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
CUT_OFFSETS = (-0.15, 0.0, 0.15)  # quadrature pieces in P(X < x) around P(X < cut)


def quantile_nodes(v_cut: float, nodes: list[tuple[float, float]] = GAUSS_NODES):
    """(weight, v) of a quadrature over v in [0, 1], in pieces cut around v_cut."""
    cuts = sorted({0.0, 1.0, *[min(max(v_cut + d, 0.0), 1.0) for d in CUT_OFFSETS]})
    for lo, hi in zip(cuts, cuts[1:]):
        if hi <= lo:
            continue
        for x, w in nodes:
            yield w * (hi - lo), min(lo + (hi - lo) * x, 1.0 - 1e-16)


class Dist:
    """A distribution on [0, inf); subclasses are frozen dataclasses."""

    kind = ""
    discrete = False   # only atoms: integer turn counts and histograms

    # --- what every law provides ------------------------------------------------------------
    def moment(self, r: int) -> float:
        """E[X^r] for r = 1, 2, 3."""
        raise NotImplementedError

    def cdf(self, x: float) -> float:
        """P(X <= x)."""
        raise NotImplementedError

    def below(self, x: float) -> float:
        """P(X < x) (differs from cdf only at atoms)."""
        return self.cdf(x)

    def mean_min(self, t: float) -> float:
        """E[min(X, t)]."""
        raise NotImplementedError

    def quantile(self, v: float) -> float:
        """The smallest x with P(X <= x) >= v, for v in (0, 1)."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> float:
        raise NotImplementedError

    def scaled(self, factor: float) -> "Dist":
        """The law of factor x X."""
        raise NotImplementedError

    def to_json(self) -> dict:
        raise NotImplementedError

    # --- derived --------------------------------------------------------------------------
    @property
    def mean(self) -> float:
        return self.moment(1)

    def partial_mean(self, t: float) -> float:
        """E[X; X < t]."""
        return self.mean_min(t) - t * (1.0 - self.below(t))

    def lorenz(self, v: float) -> float:
        """Integral of the quantile function from 0 to v: E[X; X below its v-quantile], atoms split."""
        if v <= 0.0:
            return 0.0
        if v >= 1.0:
            return self.mean
        q = self.quantile(v)
        return self.partial_mean(q) + q * (v - self.below(q))

    def strata(self, k: int) -> tuple[float, ...]:
        """Conditional means of k equal-probability strata: their average is the mean, exactly."""
        if k == 1:
            return (self.mean,)
        g = [self.lorenz(i / k) for i in range(k + 1)]
        return tuple(max(0.0, k * (b - a)) for a, b in zip(g, g[1:]))

    def nodes(self, cut: float | None) -> list[tuple[float, float]]:
        """(weight, x) nodes of E[g(X)]: Gauss-Legendre in v = P(X < x), in pieces around P(X < cut)."""
        v_cut = self.cdf(cut) if cut is not None and math.isfinite(cut) else 1.0
        return [(w, self.quantile(v)) for w, v in quantile_nodes(v_cut)]


@dataclass(frozen=True)
class Fixed(Dist):
    value: float
    kind = "fixed"

    def moment(self, r):
        return self.value ** r

    def cdf(self, x):
        return 1.0 if x >= self.value else 0.0

    def below(self, x):
        return 1.0 if x > self.value else 0.0

    def mean_min(self, t):
        return min(self.value, t)

    def quantile(self, v):
        return self.value

    def sample(self, rng):
        return self.value

    def scaled(self, factor):
        return Fixed(self.value * factor)

    def strata(self, k):
        return (float(self.value),) * k

    def nodes(self, cut):
        return [(1.0, self.value)]

    def to_json(self):
        return {"dist": "fixed", "value": self.value}


@dataclass(frozen=True)
class Exponential(Dist):
    mean_value: float
    kind = "exponential"

    def moment(self, r):
        return math.factorial(r) * self.mean_value ** r

    def cdf(self, x):
        return -math.expm1(-x / self.mean_value) if x > 0 else 0.0

    def mean_min(self, t):
        return self.mean_value * -math.expm1(-t / self.mean_value) if t > 0 else 0.0

    def quantile(self, v):
        return -self.mean_value * math.log1p(-v)

    def sample(self, rng):
        return rng.expovariate(1.0 / self.mean_value)

    def scaled(self, factor):
        return Exponential(self.mean_value * factor)

    def to_json(self):
        return {"dist": "exponential", "mean": self.mean_value}


@dataclass(frozen=True)
class LogNormal(Dist):
    median: float
    sigma: float
    kind = "lognormal"

    @property
    def mu(self) -> float:
        return math.log(self.median)

    def moment(self, r):
        return math.exp(r * self.mu + 0.5 * r * r * self.sigma ** 2)

    def cdf(self, x):
        return normal_cdf((math.log(x) - self.mu) / self.sigma) if x > 0 else 0.0

    def partial_mean(self, t):
        if t <= 0:
            return 0.0
        s = self.sigma
        return self.moment(1) * normal_cdf((math.log(t) - self.mu - s * s) / s)

    def mean_min(self, t):
        if t <= 0:
            return 0.0
        # partial_mean(t) + t (1 - cdf(t)) with the same arithmetic, log t and mu taken once
        mu, s = math.log(self.median), self.sigma
        log_t = math.log(t)
        mean = math.exp(mu + 0.5 * s ** 2)
        return mean * normal_cdf((log_t - mu - s * s) / s) + t * (1.0 - normal_cdf((log_t - mu) / s))

    def quantile(self, v):
        return math.exp(self.mu + self.sigma * std_normal().inv_cdf(min(max(v, 1e-300), 1.0 - 1e-16)))

    def sample(self, rng):
        return rng.lognormvariate(self.mu, self.sigma)

    def scaled(self, factor):
        return LogNormal(self.median * factor, self.sigma)

    def to_json(self):
        return {"dist": "lognormal", "median": self.median, "sigma": self.sigma}


@dataclass(frozen=True)
class Gamma(Dist):
    mean_value: float
    shape: float
    kind = "gamma"

    @property
    def theta(self) -> float:
        return self.mean_value / self.shape

    def moment(self, r):
        k, th = self.shape, self.theta
        out = 1.0
        for i in range(r):
            out *= (k + i) * th
        return out

    def cdf(self, x):
        return gamma_p(self.shape, x / self.theta) if x > 0 else 0.0

    def partial_mean(self, t):
        return self.mean_value * gamma_p(self.shape + 1.0, t / self.theta) if t > 0 else 0.0

    def mean_min(self, t):
        if t <= 0:
            return 0.0
        below, below_next = gamma_p_pair(self.shape, t / self.theta)
        return self.mean_value * below_next + t * (1.0 - below)

    def quantile(self, v):
        k, th = self.shape, self.theta
        v = min(max(v, 1e-300), 1.0 - 1e-16)
        # start: Wilson-Hilferty, or the lower tail P(k, x) ~ x^k / Gamma(k + 1) where it fails
        base = 1.0 - 1.0 / (9.0 * k) + std_normal().inv_cdf(v) / (3.0 * math.sqrt(k))
        x = k * base ** 3 if base > 0.2 else math.exp((math.log(v) + math.lgamma(k + 1.0)) / k)
        lo, hi = 0.0, max(x, k, 1e-300)
        while gamma_p(k, hi) < v:
            lo, hi = hi, hi * 2.0
        x = min(max(x, lo), hi)
        for _ in range(200):
            f = gamma_p(k, x) - v
            log_pdf = -x + (k - 1.0) * math.log(x) - math.lgamma(k) if x > 0 else -math.inf
            pdf = math.exp(log_pdf) if log_pdf > -700 else 0.0
            if f == 0.0 and pdf * x >= 1e-3:
                # the root, to 1e-13 of x where P's last bit moves x by less (in a flat tail it does not:
                # there bisection goes on as before); else bisection would take over from this end
                break
            if f > 0:
                hi = x
            else:
                lo = x
            nxt = x - f / pdf if pdf > 0 else math.nan
            if not lo < nxt < hi:
                nxt = math.sqrt(lo * hi) if lo > 0 and hi > 4.0 * lo else 0.5 * (lo + hi)
            if abs(nxt - x) <= 1e-13 * max(x, 1e-300):
                x = nxt
                break
            x = nxt
        return x * th

    def sample(self, rng):
        return rng.gammavariate(self.shape, self.theta)

    def scaled(self, factor):
        return Gamma(self.mean_value * factor, self.shape)

    def to_json(self):
        return {"dist": "gamma", "mean": self.mean_value, "shape": self.shape}


@dataclass(frozen=True)
class Quantiles(Dist):
    """An empirical law from equally spaced quantiles q_0 <= ... <= q_K (q_0 the minimum, q_K the
    maximum): uniform between neighbours, each interval holding 1/K of the mass."""

    values: tuple[float, ...]
    kind = "empirical"

    @property
    def k(self) -> int:
        return len(self.values) - 1

    def moment(self, r):
        total = 0.0
        for a, b in zip(self.values, self.values[1:]):
            # E[U^r] for U uniform on [a, b]
            total += (b ** (r + 1) - a ** (r + 1)) / ((r + 1) * (b - a)) if b > a else a ** r
        return total / self.k

    def cdf(self, x):
        vals = self.values
        if x < vals[0]:
            return 0.0
        if x >= vals[-1]:
            return 1.0
        i = bisect.bisect_right(vals, x) - 1
        a, b = vals[i], vals[i + 1]
        return (i + ((x - a) / (b - a) if b > a else 1.0)) / self.k

    def below(self, x):
        vals = self.values
        if x <= vals[0]:
            return 0.0
        if x > vals[-1]:
            return 1.0
        i = bisect.bisect_left(vals, x) - 1
        a, b = vals[i], vals[i + 1]
        return (i + ((x - a) / (b - a) if b > a else 1.0)) / self.k

    def mean_min(self, t):
        total = 0.0
        for a, b in zip(self.values, self.values[1:]):
            if t >= b:
                total += 0.5 * (a + b)
            elif t <= a:
                total += t
            else:
                inside = (t - a) / (b - a)
                total += inside * 0.5 * (a + t) + (1.0 - inside) * t
        return total / self.k

    def quantile(self, v):
        pos = min(max(v, 0.0), 1.0) * self.k
        i = min(int(pos), self.k - 1)
        a, b = self.values[i], self.values[i + 1]
        return a + (b - a) * (pos - i)

    def lorenz(self, v):
        pos = min(max(v, 0.0), 1.0) * self.k
        i = min(int(pos), self.k - 1)
        whole = sum(0.5 * (a + b) for a, b in zip(self.values[:i], self.values[1:i + 1]))
        a, b = self.values[i], self.values[i + 1]
        f = pos - i
        return (whole + f * (a + 0.5 * (b - a) * f)) / self.k

    def nodes(self, cut):
        # Gauss-Legendre inside every interval: the quantile function is linear there
        out = []
        w_int = 1.0 / self.k
        for a, b in zip(self.values, self.values[1:]):
            if b <= a:
                out.append((w_int, a))
                continue
            for x, w in _gauss_legendre(3):
                out.append((w * w_int, a + (b - a) * x))
        return out

    def sample(self, rng):
        return self.quantile(rng.random())

    def scaled(self, factor):
        return Quantiles(tuple(v * factor for v in self.values))

    def to_json(self):
        return {"dist": "empirical", "quantiles": list(self.values)}


@dataclass(frozen=True)
class Atoms(Dist):
    """A discrete law: values with probabilities (a histogram, or the pmf of a turn count)."""

    values: tuple[float, ...]
    weights: tuple[float, ...]   # normalised, same order as values (ascending)
    kind = "empirical"
    discrete = True

    def moment(self, r):
        return sum(w * v ** r for v, w in zip(self.values, self.weights))

    def cdf(self, x):
        return min(1.0, sum(w for v, w in zip(self.values, self.weights) if v <= x))

    def below(self, x):
        return min(1.0, sum(w for v, w in zip(self.values, self.weights) if v < x))

    def mean_min(self, t):
        return sum(w * min(v, t) for v, w in zip(self.values, self.weights))

    def quantile(self, v):
        acc = 0.0
        for value, w in zip(self.values, self.weights):
            acc += w
            if acc >= v - 1e-15:
                return value
        return self.values[-1]

    def nodes(self, cut):
        return list(zip(self.weights, self.values))

    def sample(self, rng):
        return rng.choices(self.values, cum_weights=self._cumulative)[0]

    @property
    def _cumulative(self) -> list[float]:
        acc, out = 0.0, []
        for w in self.weights:
            acc += w
            out.append(acc)
        return out

    def scaled(self, factor):
        return Atoms(tuple(v * factor for v in self.values), self.weights)

    def to_json(self):
        return {"dist": "empirical", "values": list(self.values), "weights": list(self.weights)}


@dataclass(frozen=True)
class Geometric(Dist):
    """Turns: P(N = k) = p (1 - p)^(k - 1) on {1, 2, ...} with mean 1/p."""

    mean_value: float
    kind = "geometric"
    discrete = True

    @property
    def q(self) -> float:
        return 1.0 - 1.0 / self.mean_value

    def moment(self, r):
        p, q = 1.0 / self.mean_value, self.q
        return {1: 1.0 / p, 2: (2.0 - p) / (p * p), 3: (6.0 - 6.0 * p + p * p) / p ** 3}[r]

    def cdf(self, x):
        return 1.0 - self.q ** math.floor(x) if x >= 1 else 0.0

    def below(self, x):
        return self.cdf(math.ceil(x) - 1)

    def mean_min(self, t):
        # E[min(N, t)] = sum_{j < t} P(N > j) over whole j, plus the fractional part
        if t <= 0:
            return 0.0
        q, k = self.q, math.floor(t)
        whole = (1.0 - q ** k) / (1.0 - q) if q < 1.0 else k
        return whole + (t - k) * q ** k

    def quantile(self, v):
        q = self.q
        if q <= 0.0:
            return 1.0
        return float(max(1, math.ceil(math.log1p(-v) / math.log(q) - 1e-12)))

    def sample(self, rng):
        p = 1.0 / self.mean_value
        if p >= 1.0:
            return 1.0
        u = 1.0 - rng.random()
        return float(1 + int(math.log(u) / math.log1p(-p)))

    def scaled(self, factor):
        return Geometric(max(1.0, 1.0 + (self.mean_value - 1.0) * factor))

    def to_json(self):
        return {"dist": "geometric", "mean": self.mean_value}


@dataclass(frozen=True)
class Mixture(Dist):
    components: tuple[tuple[float, Dist], ...]   # (weight, law), weights normalised
    kind = "mixture"

    @property
    def discrete(self) -> bool:  # type: ignore[override]
        return all(d.discrete for _, d in self.components)

    def moment(self, r):
        return sum(w * d.moment(r) for w, d in self.components)

    def cdf(self, x):
        return sum(w * d.cdf(x) for w, d in self.components)

    def below(self, x):
        return sum(w * d.below(x) for w, d in self.components)

    def mean_min(self, t):
        return sum(w * d.mean_min(t) for w, d in self.components)

    def partial_mean(self, t):
        return sum(w * d.partial_mean(t) for w, d in self.components)

    def quantile(self, v):
        if self.discrete:
            values = sorted({x for _, d in self.components for _, x in _atoms_of(d)})
            for x in values:
                if self.cdf(x) >= v - 1e-15:
                    return x
            return values[-1]
        lo = min(d.quantile(v) for _, d in self.components)
        hi = max(d.quantile(v) for _, d in self.components)
        for _ in range(200):  # the mixture's quantile lies between its components'
            mid = 0.5 * (lo + hi)
            if self.cdf(mid) >= v:
                hi = mid
            else:
                lo = mid
            if hi - lo <= 1e-12 * max(hi, 1e-300):
                break
        return hi

    def nodes(self, cut):
        return [(w * wn, x) for w, d in self.components for wn, x in d.nodes(cut)]

    def sample(self, rng):
        u = rng.random()
        acc = 0.0
        for w, d in self.components:
            acc += w
            if u < acc:
                return d.sample(rng)
        return self.components[-1][1].sample(rng)

    def scaled(self, factor):
        return Mixture(tuple((w, d.scaled(factor)) for w, d in self.components))

    def to_json(self):
        return {"dist": "mixture", "components": [{"weight": w, **d.to_json()} for w, d in self.components]}


def _atoms_of(d: Dist) -> list[tuple[float, float]]:
    """(probability, value) of a discrete law over its whole support (geometric: to 1e-13 of mass)."""
    if isinstance(d, Fixed):
        return [(1.0, d.value)]
    if isinstance(d, Atoms):
        return list(zip(d.weights, d.values))
    if isinstance(d, Geometric):
        return [(p, float(j)) for j, p in enumerate(integer_pmf(d), start=1) if p > 0]
    if isinstance(d, Mixture):
        return [(w * p, x) for w, c in d.components for p, x in _atoms_of(c)]
    raise TypeError(f"{d.kind} is not discrete")


def scale_turns(d: Dist, factor: float) -> Dist:
    """A turn-count law with every conversation's follow-ups (N - 1) scaled by `factor`, whole turns kept."""
    if isinstance(d, Geometric):
        return d.scaled(factor)
    if isinstance(d, Fixed):
        return Fixed(float(max(1, round(1 + (d.value - 1) * factor))))
    if isinstance(d, Atoms):
        merged: dict[float, float] = {}
        for v, w in zip(d.values, d.weights):
            key = float(max(1, round(1 + (v - 1) * factor)))
            merged[key] = merged.get(key, 0.0) + w
        keys = sorted(merged)
        return Atoms(tuple(keys), tuple(merged[k] for k in keys))
    if isinstance(d, Mixture):
        return Mixture(tuple((w, scale_turns(c, factor)) for w, c in d.components))
    raise TypeError(f"{d.kind} is not a turn-count law")


TAIL = 1e-13           # turn-count mass left out of the sums
MAX_TURNS = 1_000_000


def integer_pmf(d: Dist) -> list[float]:
    """P(N = j) for j = 1, 2, ... of an integer law on {1, 2, ...}, until the remaining mass is negligible."""
    if isinstance(d, Geometric):
        q = d.q
        if q <= 0.0:
            return [1.0]
        count = min(MAX_TURNS, max(1, math.ceil(math.log(TAIL) / math.log(q))))
        p = 1.0 - q
        return [p * q ** (j - 1) for j in range(1, count + 1)]
    pmf: dict[int, float] = {}
    for p, x in _atoms_of(d):
        pmf[int(x)] = pmf.get(int(x), 0.0) + p
    top = max(pmf)
    return [pmf.get(j, 0.0) for j in range(1, top + 1)]


def _geometric_rows(q: float) -> int:
    """len(integer_pmf) of a geometric law, without building it."""
    return min(MAX_TURNS, max(1, math.ceil(math.log(TAIL) / math.log(q))))


def reach_rows(d: Dist, below: float = 0.0) -> int:
    """How many rows reach_probabilities has, or, with `below`, the rows before the first whose
    P(N >= j) is under it (at least one)."""
    if isinstance(d, Geometric) and d.q > 0.0:
        q = d.q
        count = _geometric_rows(q)
        if below <= 0.0:
            return count
        j = max(1, math.ceil(math.log(below) / math.log(q)))
        while j > 1 and q ** (j - 1) < below:
            j -= 1
        while j < count and q ** j >= below:
            j += 1
        return min(j, count)
    reach = reach_probabilities(d)
    return next((j for j, (r, _) in enumerate(reach) if r < below), len(reach)) or 1


def reach_probabilities(d: Dist, rows: int | None = None) -> list[tuple[float, float]]:
    """[(P(N >= j), P(N > j)) for j = 1, 2, ...] of a turn-count law (the first `rows` of them)."""
    if isinstance(d, Geometric):
        q = d.q
        if q <= 0.0:
            return [(1.0, 0.0)]
        count = _geometric_rows(q) if rows is None else min(rows, _geometric_rows(q))
        return [(q ** (j - 1), q ** j) for j in range(1, count + 1)]
    if rows is not None:
        return reach_probabilities(d)[:rows]
    if isinstance(d, Fixed):
        n = int(d.value)
        return [(1.0, 1.0 if j < n else 0.0) for j in range(1, n + 1)]
    pmf = integer_pmf(d)
    out, reach = [], 1.0
    for p in pmf:
        more = max(0.0, reach - p)
        out.append((reach, more if more > 1e-15 else 0.0))
        reach = more
    return out



# --- JSON ------------------------------------------------------------------------------------
# role -> (laws allowed, largest value): tokens and seconds are reals >= 0, turns integers >= 1
ROLES = {
    "tokens": (("fixed", "exponential", "lognormal", "gamma", "empirical", "mixture"), 10_000_000.0),
    "seconds": (("fixed", "exponential", "lognormal", "gamma", "empirical", "mixture"), 10_000_000.0),
    "turns": (("fixed", "geometric", "empirical", "mixture"), 10_000.0),
}
MAX_POINTS = 200
MAX_COMPONENTS = 16
PARAMETERS = {"fixed": ("value",), "exponential": ("mean",), "lognormal": ("median", "sigma"),
              "gamma": ("mean", "shape"), "geometric": ("mean",)}


def _fail(path: str, value: Any, allowed: str) -> ValueError:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ValueError(f"{path}: {shown} is not allowed; expected {allowed}")


def _number(obj: dict, key: str, path: str, low: float, high: float, low_open: bool = False,
            integer: bool = False) -> float:
    where = f"{path}.{key}"
    kind = "an integer" if integer else "a number"
    allowed = f"{kind} {'>' if low_open else '>='} {low:g} and <= {high:g}"
    if key not in obj:
        raise ValueError(f"{where}: required; expected {allowed}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, value, allowed)
    if (value <= low if low_open else value < low) or value > high:
        raise _fail(where, value, allowed)
    if integer and float(value) != int(value):
        raise _fail(where, value, allowed)
    return float(value)


def dist_from_json(value: Any, path: str, role: str) -> Dist:
    """A law from its JSON (a bare number is a fixed value); ValueError names the field path."""
    kinds, high = ROLES[role]
    integer = role == "turns"
    low = 1.0 if integer else 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not low <= value <= high or (integer and value != int(value)):
            raise _fail(path, value, f"{'a whole number' if integer else 'a number'} >= {low:g} and <= {high:g}, "
                                     "or an object with \"dist\"")
        return Fixed(float(value))
    if not isinstance(value, dict):
        raise _fail(path, value, "a number or an object with \"dist\": " + ", ".join(f'"{k}"' for k in kinds))
    kind = value.get("dist")
    if kind not in kinds:
        raise _fail(f"{path}.dist", kind, "one of " + ", ".join(f'"{k}"' for k in kinds))
    allowed_keys = {"dist", "weight"} | set(PARAMETERS.get(kind, ())) | (
        {"quantiles", "values", "weights"} if kind == "empirical" else set()) | (
        {"components"} if kind == "mixture" else set())
    for key in value:
        if key not in allowed_keys:
            raise ValueError(f"{path}.{key}: unknown key; allowed keys for \"{kind}\": "
                             + ", ".join(sorted(allowed_keys - {"weight"})))
    if kind == "fixed":
        return Fixed(_number(value, "value", path, low, high, integer=integer))
    if kind == "exponential":
        return Exponential(_number(value, "mean", path, 0.0, high, low_open=True))
    if kind == "lognormal":
        return LogNormal(_number(value, "median", path, 0.0, high, low_open=True),
                         _number(value, "sigma", path, 0.0, 5.0, low_open=True))
    if kind == "gamma":
        return Gamma(_number(value, "mean", path, 0.0, high, low_open=True),
                     _number(value, "shape", path, 0.05, 10_000.0))
    if kind == "geometric":
        return Geometric(_number(value, "mean", path, 1.0, high))
    if kind == "empirical":
        return _empirical(value, path, low, high, integer)
    return _mixture(value, path, role)


def _points(value: Any, where: str, low: float, high: float, integer: bool) -> list[float]:
    kind = "whole numbers" if integer else "numbers"
    allowed = f"a list of 1 to {MAX_POINTS} {kind} >= {low:g} and <= {high:g}"
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_POINTS:
        raise _fail(where, value if not isinstance(value, list) else f"{len(value)} values", allowed)
    out = []
    for i, x in enumerate(value):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
                or not low <= x <= high or (integer and x != int(x)):
            raise _fail(f"{where}.{i}", x, f"{'a whole number' if integer else 'a number'} >= {low:g} and <= {high:g}")
        out.append(float(x))
    return out


def _empirical(obj: dict, path: str, low: float, high: float, integer: bool) -> Dist:
    if ("quantiles" in obj) == ("values" in obj):
        raise ValueError(f"{path}: give exactly one of quantiles (equally spaced, minimum to maximum) "
                         "and values with weights (a histogram)")
    if "quantiles" in obj:
        if integer:
            raise ValueError(f"{path}.quantiles: not allowed for a turn count; give values and weights")
        q = _points(obj["quantiles"], f"{path}.quantiles", low, high, False)
        if len(q) < 2:
            raise _fail(f"{path}.quantiles", obj["quantiles"], "at least 2 quantiles (the minimum and the maximum)")
        for i, (a, b) in enumerate(zip(q, q[1:]), start=1):
            if b < a:
                raise _fail(f"{path}.quantiles.{i}", obj["quantiles"][i], f"a number >= the one before ({a:g})")
        return Quantiles(tuple(q))
    values = _points(obj["values"], f"{path}.values", low, high, integer)
    if "weights" not in obj:
        raise ValueError(f"{path}.weights: required with values (one weight per value)")
    raw = obj["weights"]
    if not isinstance(raw, list) or len(raw) != len(values):
        raise _fail(f"{path}.weights", raw if not isinstance(raw, list) else f"{len(raw)} weights",
                    f"a list of {len(values)} weights, one per value")
    weights = []
    for i, w in enumerate(raw):
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise _fail(f"{path}.weights.{i}", w, "a number >= 0")
        weights.append(float(w))
    total = sum(weights)
    if total <= 0.0:
        raise _fail(f"{path}.weights", raw, "weights with a positive sum (a histogram needs some mass)")
    merged: dict[float, float] = {}
    for v, w in zip(values, weights):
        if w > 0:
            merged[v] = merged.get(v, 0.0) + w / total
    keys = sorted(merged)
    return Atoms(tuple(keys), tuple(merged[k] for k in keys))


def _mixture(obj: dict, path: str, role: str) -> Dist:
    where = f"{path}.components"
    raw = obj.get("components")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_COMPONENTS:
        raise _fail(where, raw if not isinstance(raw, list) else f"{len(raw)} components",
                    f"a list of 1 to {MAX_COMPONENTS} laws, each with a weight")
    parts = []
    for i, item in enumerate(raw):
        at = f"{where}.{i}"
        if not isinstance(item, dict):
            raise _fail(at, item, "an object with \"weight\" and \"dist\"")
        if item.get("dist") == "mixture":
            raise _fail(f"{at}.dist", "mixture", "a law that is not itself a mixture")
        weight = _number(item, "weight", at, 0.0, 1e12, low_open=True)
        parts.append((weight, dist_from_json(item, at, role)))
    total = sum(w for w, _ in parts)
    return Mixture(tuple((w / total, d) for w, d in parts))
