"""Trace replay: the exact LRU hit-rate curve for every capacity in one pass, other policies per capacity.

LRU is a stack policy: at capacity C it holds the C most recently used blocks. So one pass that
finds each block's stack distance d (its 1-based place in recency order just before the request)
answers every capacity: the block is cached at C iff d <= C. A request reuses its leading run of
cached blocks, so with D_k = max(d_1..d_k) it hits k blocks at C for every k with D_k <= C.

The recency stack is kept as segments: the blocks one request touched, in prompt order (tail-first
touching leaves the head on top). Segments never move; a newer segment lies above every older
one, and a block leaves its segment when a later request touches it. So a block's distance is the
live size of the segments above its own (a Fenwick tree over segments, by creation) plus its live
offset inside. A request's reused blocks come in runs that sit consecutively in one segment, and
each run costs a few Python steps, whatever its length; per-block work is done by dict and list
methods in C.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from operator import sub
from typing import Iterable, Sequence

from .cache import BeladyCache, make_cache
from .trace import Request, TraceFile, given_name, no_usable_lines, run_in_time_order

SHIFT = 32                      # a block's place: segment << SHIFT | position in the segment
LOW = (1 << SHIFT) - 1
REUSE_BINS = ((1.0, "<1 s"), (10.0, "1-10 s"), (60.0, "10-60 s"), (600.0, "1-10 min"),
              (3600.0, "10-60 min"), (math.inf, "1 h+"))
DEFAULT_CURVE_POINTS = 50


class NoRequests(ValueError):
    """The request stream was empty."""


class StackDistances:
    """The LRU recency stack of blocks, as segments; `access` gives distances, then touches."""

    def __init__(self) -> None:
        self.place: dict = {}           # block -> segment << SHIFT | position
        self.lo: list[int] = []         # per segment: first live position
        self.holes: dict[int, list[int]] = {}  # segment -> sorted dead positions >= lo (rare)
        self.time: list[float] = []     # per segment: when its request came
        self.tree: list[int] = [0] * 1025  # Fenwick tree of live sizes, segment s at index s + 1
        self.total = 0                  # live blocks (= unique blocks seen)

    def _above(self, seg: int) -> int:
        """Live blocks in segments newer than `seg`."""
        tree, i, s = self.tree, seg + 1, 0
        while i:
            s += tree[i]
            i &= i - 1
        return self.total - s

    def _add(self, seg: int, delta: int) -> None:
        tree, i, n = self.tree, seg + 1, len(self.tree)
        while i < n:
            tree[i] += delta
            i += i & -i

    def _grow(self) -> None:
        sizes = [self._size(s) for s in range(len(self.lo) - 1)]
        n = 2 * (len(self.tree) - 1)
        tree = [0] * (n + 1)
        for s, v in enumerate(sizes, start=1):
            tree[s] += v
            j = s + (s & -s)
            if j <= n:
                tree[j] += tree[s]
        self.tree = tree

    def _size(self, seg: int) -> int:
        tree, i, s = self.tree, seg + 1, 0
        while i:
            s += tree[i]
            i &= i - 1
        j, t = seg, 0
        while j:
            t += tree[j]
            j &= j - 1
        return s - t

    def access(self, blocks: Sequence, now: float) -> tuple[list[tuple[int, int, int, float]], int]:
        """([(first index, end index, distance of the first, its segment's time)] for the leading
        run of blocks seen before, that run's length); then the request's blocks go on top."""
        place = self.place
        where = list(map(place.get, blocks))
        n = len(where)
        try:
            seen = where.index(None)
        except ValueError:
            seen = n
        runs = []
        if seen:
            keys = list(map(sub, where[:seen], range(seen)))
            lo, holes, times = self.lo, self.holes, self.time
            a = 0
            while a < seen:
                key = keys[a]
                e = _run_end(keys, a, seen, key)
                v = where[a]
                seg, pos = v >> SHIFT, v & LOW
                offset = pos - lo[seg]
                if holes and seg in holes:
                    offset -= bisect.bisect_left(holes[seg], pos)
                runs.append((a, e, self._above(seg) + offset + 1, times[seg]))
                a = e
        unique = blocks if len(set(blocks)) == n else list(dict.fromkeys(blocks))
        if unique is blocks and (seen == n or where.count(None) == n - seen):
            for a, e, _, _ in runs:
                self._remove(where[a], e - a)
        else:
            self._remove_each(where, unique, place)
        self._push(unique, now)
        return runs, seen

    def _remove(self, v: int, m: int) -> None:
        seg, pos = v >> SHIFT, v & LOW
        self._add(seg, -m)
        self.total -= m
        lo = self.lo
        if pos == lo[seg]:
            lo[seg] = pos + m
            h = self.holes.get(seg)
            if h:
                while h and h[0] == lo[seg]:
                    h.pop(0)
                    lo[seg] += 1
                if not h:
                    del self.holes[seg]
        else:
            h = self.holes.setdefault(seg, [])
            for p in range(pos, pos + m):
                bisect.insort(h, p)

    def _remove_each(self, where: list, unique: Sequence, place: dict) -> None:
        # the general path: repeated or scattered reused blocks (ids not prefix-chained)
        for v in sorted(place[b] for b in unique if b in place):
            self._remove(v, 1)

    def _push(self, unique: Sequence, now: float) -> None:
        seg = len(self.lo)
        self.lo.append(0)
        self.time.append(now)
        if seg + 1 >= len(self.tree):
            self._grow()
        m = len(unique)
        self._add(seg, m)
        self.total += m
        base = seg << SHIFT
        self.place.update(zip(unique, range(base, base + m)))


def _run_end(keys: list, a: int, end: int, key: int) -> int:
    """The end of the run of `key` starting at a (galloping, then bisection; compares in C)."""
    if keys[end - 1] == key and keys[a:end].count(key) == end - a:
        return end
    good, step = a + 1, 1
    while True:
        probe = min(end, good + step)
        if keys[good:probe].count(key) != probe - good:
            break
        good, step = probe, step * 2
    bad = probe
    while bad - good > 1:
        mid = (good + bad) // 2
        if keys[good:mid].count(key) == mid - good:
            good = mid
        else:
            bad = mid
    return good


@dataclass
class CurveAccumulator:
    """Hit tokens and whole-prefix hits as functions of capacity, built from stack distances.

    A run of blocks at consecutive distances d0..d0+m-1, w tokens each, adds
    w * clamp(C - d0 + 1, 0, m) tokens at capacity C: slope +w from d0 and -w from d0 + m.
    """

    block_size: int
    slope: dict[int, int] = field(default_factory=dict)
    request_at: dict[int, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    ceiling_tokens: int = 0
    requests: int = 0
    reuse_tokens: list[int] = field(default_factory=lambda: [0] * len(REUSE_BINS))

    def add(self, r: Request, runs: list, seen: int, now: float) -> None:
        b, length = self.block_size, r.input_length
        self.requests += 1
        self.prompt_tokens += length
        if not seen:
            return
        full = min(seen, length // b)                      # leading seen blocks worth b tokens
        part = min(length - full * b, b) if full < seen else 0   # the block input_length ends in
        top = 0
        for a, e, d0, seg_time in runs:
            tokens = 0
            m = min(e, full) - a
            if m > 0:
                top = self._ramp(d0, m, b, top)
                tokens = m * b
            if part and a <= full < e:
                top = self._ramp(d0 + full - a, 1, part, top)
                tokens += part
            top = max(top, d0 + e - a - 1)   # blocks past input_length count for request hits only
            if tokens:
                age = now - seg_time
                for i, (limit, _) in enumerate(REUSE_BINS):
                    if age < limit:
                        self.reuse_tokens[i] += tokens
                        break
        self.ceiling_tokens += min(seen * b, length)
        self.request_at[top] = self.request_at.get(top, 0) + 1

    def _ramp(self, d0: int, m: int, w: int, top: int) -> int:
        """Add m blocks of w tokens at distances d0.., raised to the running max `top`."""
        slope = self.slope
        if d0 <= top:   # blocks nearer than an earlier block of the prompt wait for it: a point at top
            c = min(m, top - d0 + 1)
            slope[top] = slope.get(top, 0) + c * w
            slope[top + 1] = slope.get(top + 1, 0) - c * w
            m -= c
            d0 = top + 1
            if m <= 0:
                return top
        slope[d0] = slope.get(d0, 0) + w
        slope[d0 + m] = slope.get(d0 + m, 0) - w
        return d0 + m - 1

    def tokens_at(self, capacities: Sequence[int]) -> list[int]:
        """Hit tokens at each capacity in blocks (any order)."""
        order = sorted(range(len(capacities)), key=capacities.__getitem__)
        events = sorted(self.slope.items())
        out = [0] * len(capacities)
        s1 = s2 = i = 0
        for j in order:
            c = capacities[j]
            while i < len(events) and events[i][0] <= c:
                pos, w = events[i]
                s1 += w
                s2 += w * pos
                i += 1
            out[j] = s1 * (c + 1) - s2
        return out

    def requests_at(self, capacities: Sequence[int]) -> list[int]:
        """Requests whose whole reusable prefix is found, at each capacity in blocks."""
        points = sorted(self.request_at.items())
        keys = [p for p, _ in points]
        cumulative, total = [], 0
        for _, n in points:
            total += n
            cumulative.append(total)
        out = []
        for c in capacities:
            k = bisect.bisect_right(keys, c)
            out.append(cumulative[k - 1] if k else 0)
        return out


@dataclass
class LruPass:
    """The result of one LRU pass: the accumulated curve plus trace statistics."""

    curve: CurveAccumulator
    unique_blocks: int
    reused_blocks: int
    first_s: float
    last_s: float
    output_tokens: int
    max_distance: int


def lru_pass(requests: Iterable[Request], block_size: int, window: tuple[float, float] | None = None) -> LruPass:
    """One pass over time-ordered requests; only those inside `window` (from, until) are measured."""
    stack = StackDistances()
    acc = CurveAccumulator(block_size)
    reused: set = set()
    first = last = None
    out_tokens = 0
    lo_t, hi_t = window if window is not None else (-math.inf, math.inf)
    for r in requests:
        now = r.time_s
        if first is None:
            first = now
        last = now
        blocks = r.blocks
        runs, seen = stack.access(blocks, now)
        if seen:
            reused.update(blocks[:seen])
        if lo_t <= now < hi_t:
            acc.add(r, runs, seen, now)
            out_tokens += r.output_length
    if first is None:
        raise NoRequests("trace: no usable request")
    max_d = max(acc.slope) if acc.slope else 1
    return LruPass(acc, stack.total, len(reused), first, last, out_tokens, max_d)


def next_uses(requests: Sequence[Request]) -> list[list]:
    """For each request, each block's next request index (None: never again); a backward pass."""
    last: dict = {}
    out: list[list] = [[]] * len(requests)
    for i in range(len(requests) - 1, -1, -1):
        blocks = requests[i].blocks
        out[i] = list(map(last.get, blocks))
        last.update(zip(blocks, [i] * len(blocks)))
    return out


def policy_replay(requests: Sequence[Request], policy: str, capacity_blocks: int, block_size: int,
                  window: tuple[float, float] | None = None,
                  uses: list[list] | None = None) -> tuple[int, int, int]:
    """(hit tokens, prompt tokens, whole-prefix request hits) of one policy at one capacity, via cache.py."""
    cache = make_cache(policy, capacity_blocks)
    lo_t, hi_t = window if window is not None else (-math.inf, math.inf)
    belady = isinstance(cache, BeladyCache)
    if belady and uses is None:
        uses = next_uses(requests)
    seen_before: set = set()
    hit = prompt = whole = 0
    for i, r in enumerate(requests):
        blocks = r.blocks
        k = cache.cached_prefix(blocks)
        if lo_t <= r.time_s < hi_t:
            hit += min(k * block_size, r.input_length)
            prompt += r.input_length
            reusable = 0
            for x in blocks:
                if x not in seen_before:
                    break
                reusable += 1
            whole += 1 if reusable and k >= reusable else 0
        seen_before.update(blocks)
        if belady:
            cache.admit(blocks, uses[i])
        else:
            cache.admit(blocks)
    return hit, prompt, whole


def capacity_axis(max_blocks: int, points: int) -> list[int]:
    """`points` capacities in blocks, log-spaced from 1 to max_blocks (then every block if fewer)."""
    max_blocks = max(1, max_blocks)
    if max_blocks <= points:
        return list(range(1, max_blocks + 1))
    out: set[int] = set()
    step = 0
    while len(out) < points:
        n = points + step
        out = {max(1, round(max_blocks ** (i / (n - 1)))) for i in range(n)}
        step += 1
    return sorted(out)


def parse_capacities(text: str | Sequence) -> list[float]:
    """'512000,3e6,inf' or a list -> capacities in tokens (inf allowed)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        raw = item.strip() if isinstance(item, str) else item
        try:
            value = float(raw) if isinstance(raw, str) else raw
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError
        except ValueError:
            raise ValueError(f"capacity_tokens: {item!r} is not allowed; expected numbers of tokens "
                             "> 0 or inf, separated by commas") from None
        if value != value or value <= 0:
            raise ValueError(f"capacity_tokens: {item!r} is not allowed; expected numbers of tokens > 0 or inf")
        out.append(float(value))
    return out


def _rate(hit: float, total: float) -> float | None:
    return hit / total if total else None


def _point(cap_tokens: float, cap_blocks: int | None, block_size: int, hit: int, prompt: int,
           whole: int, requests: int, kv_bytes: float | None) -> dict:
    finite = math.isfinite(cap_tokens)
    p = {"capacity_tokens": int(cap_tokens) if finite else None, "capacity_blocks": cap_blocks,
         "unlimited": not finite, "token_hit_rate": _rate(hit, prompt),
         "request_hit_rate": _rate(whole, requests)}
    if kv_bytes is not None:
        p["capacity_gb"] = cap_tokens * kv_bytes / 1e9 if finite else None
    return p


def replay_requests(requests: Iterable[Request], block_size: int, capacities: Sequence[float] = (),
                    policy: str = "lru", curve_points: int = DEFAULT_CURVE_POINTS,
                    kv_bytes_per_token: float | None = None,
                    window: tuple[float, float] | None = None) -> dict:
    """Replay time-ordered requests: policy points at `capacities` (tokens), the LRU curve and stats."""
    if policy not in ("lru", "fifo", "lfu", "optimal"):
        raise ValueError(f'policy: "{policy}" is not allowed; expected one of "lru", "fifo", "lfu", "optimal"')
    if isinstance(curve_points, bool) or not isinstance(curve_points, int) or not 2 <= curve_points <= 10_000:
        raise ValueError(f"curve_points: {curve_points!r} is not allowed; expected an integer >= 2 and <= 10000")
    held = requests if policy == "lru" else list(requests)
    lp = lru_pass(held, block_size, window)
    acc = lp.curve
    b = block_size
    axis = capacity_axis(lp.max_distance, curve_points)
    tokens, whole = acc.tokens_at(axis), acc.requests_at(axis)
    ceiling_whole = sum(acc.request_at.values()) if acc.request_at else 0
    curve = [_point(c * b, c, b, t, acc.prompt_tokens, w, acc.requests, kv_bytes_per_token)
             for c, t, w in zip(axis, tokens, whole)]
    ceiling = _point(math.inf, None, b, acc.ceiling_tokens, acc.prompt_tokens, ceiling_whole,
                     acc.requests, kv_bytes_per_token)
    points = []
    uses = next_uses(held) if policy == "optimal" and any(math.isfinite(c) for c in capacities) else None
    for cap in capacities:
        if not math.isfinite(cap):
            points.append({**ceiling, "policy": policy})
            continue
        blocks = int(cap) // b
        if blocks < 1:
            raise ValueError(f"capacity_tokens: {cap:g} is not allowed; expected at least one block "
                             f"({b} tokens)")
        if policy == "lru":
            hit, w = acc.tokens_at([blocks])[0], acc.requests_at([blocks])[0]
            prompt = acc.prompt_tokens
        else:
            hit, prompt, w = policy_replay(held, policy, blocks, b, window, uses)
        points.append({**_point(cap, blocks, b, hit, prompt, w, acc.requests, kv_bytes_per_token),
                       "policy": policy})
    reused_total = sum(acc.reuse_tokens)
    span = lp.last_s - lp.first_s
    stats = {
        "requests": acc.requests, "prompt_tokens": acc.prompt_tokens,
        "output_tokens": lp.output_tokens, "block_size": b,
        "mean_input_tokens": _rate(acc.prompt_tokens, acc.requests),
        "mean_output_tokens": _rate(lp.output_tokens, acc.requests),
        "span_s": span, "request_rate": _rate(acc.requests - 1, span) if span > 0 else None,
        "unique_blocks": lp.unique_blocks, "unique_tokens": lp.unique_blocks * b,
        "reused_blocks": lp.reused_blocks,
        "reused_block_share": _rate(lp.reused_blocks, lp.unique_blocks),
        "reused_token_share": _rate(acc.ceiling_tokens, acc.prompt_tokens),
        "reuse_time_histogram": [
            {"bin": label, "tokens": t, "share": _rate(t, reused_total)}
            for (_, label), t in zip(REUSE_BINS, acc.reuse_tokens)],
    }
    if kv_bytes_per_token is not None:
        stats["kv_bytes_per_token"] = kv_bytes_per_token
        stats["unique_gb"] = lp.unique_blocks * b * kv_bytes_per_token / 1e9
    return {"policy": policy, "points": points, "ceiling": ceiling, "curve": curve, "stats": stats}


def replay(path: str, block_size: int | None = None, capacities: Sequence[float] | str = (),
           policy: str = "lru", curve_points: int = DEFAULT_CURVE_POINTS, fmt: str | None = None,
           kv_bytes_per_token: float | None = None, name: str | None = None) -> dict:
    """Replay a trace file (see docs/trace.md): points, ceiling, LRU curve, stats and skipped lines
    (`name`: what messages call the file; default its file name)."""
    source = TraceFile(str(path), fmt, block_size, name=given_name(name))
    caps = parse_capacities(capacities) if isinstance(capacities, str) else \
        parse_capacities(capacities) if capacities else []
    if kv_bytes_per_token is not None and (isinstance(kv_bytes_per_token, bool) or
                                           not isinstance(kv_bytes_per_token, (int, float)) or
                                           not 0 < kv_bytes_per_token < 1e12):
        raise ValueError(f"kv_bytes_per_token: {kv_bytes_per_token!r} is not allowed; expected a number > 0")

    def consume(requests):
        return replay_requests(requests, source.block_size, caps, policy, curve_points, kv_bytes_per_token)

    try:
        out = run_in_time_order(source, consume)
    except NoRequests:
        raise no_usable_lines(source) from None
    out["stats"]["format"] = source.fmt
    out["skipped"] = source.skipped.as_dict()
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:6.2f}%"


def replay_table(out: dict) -> str:
    """The replay result as a readable table."""
    s = out["stats"]
    lines = [f"{s['requests']:,} requests over {s['span_s']:,.0f} s, {s['prompt_tokens']:,} prompt tokens, "
             f"block size {s['block_size']}; {s['unique_blocks']:,} unique blocks",
             f"{'capacity (tokens)':>20}  {'policy':<8} {'token hit':>9} {'request hit':>11}"]
    for p in out["points"]:
        cap = "unlimited" if p["unlimited"] else f"{p['capacity_tokens']:,}"
        lines.append(f"{cap:>20}  {p['policy']:<8} {_pct(p['token_hit_rate']):>9} {_pct(p['request_hit_rate']):>11}")
    lines.append(f"Ceiling (unlimited capacity): {_pct(out['ceiling']['token_hit_rate']).strip()} of prompt tokens")
    lines.append("Reuse time of reused tokens: " + ", ".join(
        f"{h['bin']} {_pct(h['share']).strip()}" for h in s["reuse_time_histogram"]))
    lines.append("LRU curve: " + ", ".join(
        f"{p['capacity_tokens']:,}: {_pct(p['token_hit_rate']).strip()}" for p in out["curve"][::10]))
    sk = out.get("skipped", {})
    if sk.get("count"):
        lines.append(f"skipped {sk['count']} line(s):")
        lines += [f"  {m}" for m in sk["messages"]]
    return "\n".join(lines)
