"""A law for samples from a trace: the closest of a few named laws, or the empirical one where none fits.

Candidates are fitted by maximum likelihood (fixed, exponential, lognormal, gamma) and compared by
the Kolmogorov-Smirnov distance to the samples; a named law is kept when it is within KS_GOOD,
else the samples' quantiles are written (a short list a person can still read and edit).
"""

from __future__ import annotations

import math
import statistics

from ..traffic.distributions import Atoms, Dist, Exponential, Fixed, Gamma, LogNormal, Quantiles

KS_GOOD = 0.06       # a named law at most this far from the samples' CDF is used
QUANTILES = 16       # intervals of an empirical law
MAX_ATOMS = 16       # values of an empirical turn count


def _sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}") if x else 0.0


def ks_distance(samples: list[float], law: Dist) -> float:
    """sup |F_samples - F_law| over the sample points (sorted samples)."""
    n = len(samples)
    worst = 0.0
    i = 0
    while i < n:
        x = samples[i]
        j = i
        while j < n and samples[j] == x:
            j += 1
        f = law.cdf(x)
        below = law.below(x)
        worst = max(worst, abs(j / n - f), abs(i / n - below))
        i = j
    return worst


def _gamma_shape(samples: list[float]) -> float | None:
    """Minka's approximation of the gamma shape's maximum-likelihood estimate (positive samples)."""
    mean = statistics.fmean(samples)
    s = math.log(mean) - statistics.fmean(math.log(x) for x in samples)
    if s <= 0:
        return None
    return (3.0 - s + math.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)


def candidates(samples: list[float]) -> list[Dist]:
    """The named laws fitted to the samples (only those whose support the samples fit)."""
    mean = statistics.fmean(samples)
    out: list[Dist] = []
    if mean > 0:
        out.append(Exponential(_sig(mean)))
    if samples[0] > 0 and len(samples) > 2:
        logs = [math.log(x) for x in samples]
        sigma = statistics.pstdev(logs)
        if sigma > 0:
            out.append(LogNormal(_sig(math.exp(statistics.fmean(logs))), _sig(min(sigma, 5.0))))
        shape = _gamma_shape(samples)
        if shape is not None and 0.05 <= shape <= 10_000:
            out.append(Gamma(_sig(mean), _sig(shape)))
    return out


def empirical(samples: list[float], integer: bool = False) -> Dist:
    """The samples' quantiles at 1/K, ..., (K-1)/K, with the two ends placed so that the lowest and the
    highest interval keep their samples' mean (the maximum of a heavy tail would inflate the mean);
    rounded to 3 significant digits, whole for tokens."""
    n = len(samples)
    k = QUANTILES
    inner = []
    for i in range(1, k):
        pos = i / k * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        inner.append(samples[lo] + (samples[hi] - samples[lo]) * (pos - lo))
    first = samples[:max(1, n // k)]
    last = samples[n - max(1, n // k):]
    low = min(inner[0], max(samples[0], 2.0 * statistics.fmean(first) - inner[0]))
    high = max(inner[-1], min(samples[-1], 2.0 * statistics.fmean(last) - inner[-1]))
    values = [float(round(x)) if integer else _sig(x) for x in [low, *inner, high]]
    for i in range(1, len(values)):
        values[i] = max(values[i], values[i - 1])
    return Quantiles(tuple(values))


def fit_law(samples: list[float], integer: bool = False) -> tuple[Dist, dict]:
    """(law, {"law", "ks", "samples"}) for non-negative samples; integer rounds an empirical law's values."""
    xs = sorted(float(x) for x in samples)
    if not xs:
        raise ValueError("fit: no samples to fit a law to")
    if xs[0] == xs[-1]:
        law: Dist = Fixed(float(round(xs[0])) if integer else _sig(xs[0]))
        return law, {"law": "fixed", "ks": 0.0, "samples": len(xs)}
    best, best_ks = None, math.inf
    for law in candidates(xs):
        ks = ks_distance(xs, law)
        if ks < best_ks:
            best, best_ks = law, ks
    if best is None or best_ks > KS_GOOD:
        best = empirical(xs, integer)
        best_ks = ks_distance(xs, best)
    return best, {"law": best.kind, "ks": round(best_ks, 4), "samples": len(xs)}


def fit_turns(counts: list[int]) -> tuple[Dist, dict]:
    """A turn-count law: fixed, or the observed frequencies (the largest counts grouped in a few values)."""
    xs = sorted(counts)
    if xs[0] == xs[-1]:
        return Fixed(float(xs[0])), {"law": "fixed", "samples": len(xs)}
    freq: dict[int, int] = {}
    for n in xs:
        freq[n] = freq.get(n, 0) + 1
    values = sorted(freq)
    if len(values) > MAX_ATOMS:
        # keep the small counts exact; the tail becomes a few values at their groups' means
        keep = values[:MAX_ATOMS - 4]
        tail = [n for n in xs if n > keep[-1]]
        groups = [tail[i * len(tail) // 4:(i + 1) * len(tail) // 4] for i in range(4)]
        atoms = {n: freq[n] for n in keep}
        for g in groups:
            if g:
                v = round(statistics.fmean(g))
                atoms[v] = atoms.get(v, 0) + len(g)
        freq = atoms
        values = sorted(freq)
    total = len(xs)
    law = Atoms(tuple(float(v) for v in values), tuple(freq[v] / total for v in values))
    return law, {"law": "empirical", "samples": total}


def law_json(law: Dist) -> dict | float:
    """The law as scenario JSON, rounded for reading (a fixed value as a bare number)."""
    data = law.to_json()
    if data["dist"] == "fixed":
        return data["value"]
    if data["dist"] == "empirical" and "weights" in data:
        data["weights"] = [_sig(w, 4) for w in data["weights"]]
        data["values"] = [int(v) for v in data["values"]]
    return data
