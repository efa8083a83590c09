"""Trace replay: the exact LRU hit-rate curve for every capacity in one pass, other policies per capacity.

LRU is a stack policy: at capacity C it holds the C most recently used blocks. So one pass that
finds each block's stack distance d (its 1-based place in recency order just before the request)
answers every capacity: the block is cached at C iff d <= C. A request reuses its leading run of
cached blocks, so with D_k = max(d_1..d_k) it hits k blocks at C for every k with D_k <= C.

The recency stack is kept as segments: the blocks one request touched, in prompt order (tail-first
touching leaves the head on top). Segments never move; a newer segment lies above every older
one, and a block leaves its segment when a later request touches it. So a block's distance is the
live size of the segments above its own (blocks pushed after it, a running sum, less blocks taken
out of those since, a Fenwick tree over segments) plus its live offset inside. A block's place is only its segment; a request's reused blocks come in runs that
sit consecutively in one segment (checked with one list comparison), and each run costs a few
Python steps, whatever its length. Per-block work is a handful of dict and list methods in C, so
the whole curve costs less than one plain replay at one capacity, which loops over blocks in Python.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import repeat
from typing import Iterable, Sequence

from .cache import BeladyCache, make_cache
from .trace import Request, TraceFile, given_name, no_usable_lines, run_in_time_order

TRIM_AFTER = 64                 # dead leading positions a segment keeps before it is cut
REUSE_BINS = ((1.0, "<1 s"), (10.0, "1-10 s"), (60.0, "10-60 s"), (600.0, "1-10 min"),
              (3600.0, "10-60 min"), (math.inf, "1 h+"))
DEFAULT_CURVE_POINTS = 50
REUSE_LIMITS = [limit for limit, _ in REUSE_BINS]


class NoRequests(ValueError):
    """The request stream was empty."""


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
    slope: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    request_at: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    prompt_tokens: int = 0
    ceiling_tokens: int = 0
    requests: int = 0
    reuse_tokens: list[int] = field(default_factory=lambda: [0] * len(REUSE_BINS))

    def add(self, r: Request, runs: list, seen: int, now: float) -> None:
        """Count one measured request from the runs of its leading reused blocks."""
        b, length = self.block_size, r.input_length
        self.requests += 1
        self.prompt_tokens += length
        if not seen:
            return
        full = min(seen, length // b)                      # leading seen blocks worth b tokens
        part = min(length - full * b, b) if full < seen else 0   # the block input_length ends in
        top = 0
        ramp, reuse, slope = self._ramp, self.reuse_tokens, self.slope
        for a, e, d0, seg_time, _, _ in runs:
            tokens = 0
            m = (e if e < full else full) - a
            if m > 0:
                if d0 > top:   # the usual case of _ramp, inline
                    slope[d0] += b
                    slope[d0 + m] -= b
                    top = d0 + m - 1
                else:
                    top = ramp(d0, m, b, top)
                tokens = m * b
            if part and a <= full < e:
                top = ramp(d0 + full - a, 1, part, top)
                tokens += part
            last = d0 + e - a - 1
            if last > top:
                top = last   # blocks past input_length count for request hits only
            if tokens:
                reuse[bisect.bisect_right(REUSE_LIMITS, now - seg_time)] += tokens
        self.ceiling_tokens += min(seen * b, length)
        self.request_at[top] += 1

    def _ramp(self, d0: int, m: int, w: int, top: int) -> int:
        """Add m blocks of w tokens at distances d0.., raised to the running max `top`."""
        slope = self.slope
        if d0 <= top:   # blocks nearer than an earlier block of the prompt wait for it: a point at top
            c = min(m, top - d0 + 1)
            slope[top] += c * w
            slope[top + 1] -= c * w
            m -= c
            d0 = top + 1
            if m <= 0:
                return top
        slope[d0] += w
        slope[d0 + m] -= w
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


class RecencyStack:
    """The LRU recency stack as segments (see the module docstring); `lru_pass` drives it inline.

    Live blocks above a segment = blocks pushed after it (prefix sums, appended) minus blocks taken
    out of the segments after it (a Fenwick tree of dead counts, touched only by removals)."""

    def __init__(self) -> None:
        self.place: dict = {}                   # block -> its segment
        self.members: list = []                 # per segment: its blocks in prompt order (cut in front)
        self.lo: list[int] = []                 # per segment: first live position in members
        self.holes: dict[int, list[int]] = {}   # segment -> sorted dead positions past lo (rare)
        self.born: list = []                    # per segment: first position first seen there, or a set
        self.time: list[float] = []             # per segment: when its request came
        self.pushed: list[int] = []             # per segment: blocks pushed up to and including it
        self.dead: list[int] = [0] * 1025       # Fenwick tree of blocks taken out, segment s at s + 1

    def grow(self) -> None:
        """Double the Fenwick tree, in linear time."""
        old = self.dead
        prefix = [0] * len(old)
        for i in range(1, len(old)):
            prefix[i] = old[i] + prefix[i & (i - 1)]
        n = 2 * (len(old) - 1)
        tree = [0] * (n + 1)
        for i in range(1, len(old)):
            tree[i] = prefix[i] - prefix[i - 1]
        for i in range(1, n + 1):
            j = i + (i & -i)
            if j <= n:
                tree[j] += tree[i]
        self.dead = tree

    def remove(self, seg: int, pos: int, m: int) -> None:
        """Take m blocks at positions pos.. out of segment seg."""
        tree, i, n = self.dead, seg + 1, len(self.dead)
        while i < n:
            tree[i] += m
            i += i & -i
        self.cut(seg, pos, m)

    def cut(self, seg: int, pos: int, m: int) -> None:
        """The segment side of `remove`: its first live position, holes, and memory."""
        lo, holes = self.lo, self.holes
        if pos != lo[seg]:
            h = holes.setdefault(seg, [])
            for p in range(pos, pos + m):
                bisect.insort(h, p)
            return
        start = pos + m
        h = holes.get(seg) if holes else None
        if h:
            while h and h[0] == start:
                h.pop(0)
                start += 1
            if not h:
                del holes[seg]
                h = None
        members = self.members[seg]
        if start >= len(members):
            self.members[seg], self.born[seg], start = (), 0, 0
        elif start > TRIM_AFTER and 2 * start > len(members) and h is None and type(self.born[seg]) is int:
            # memory stays proportional to live blocks, not to every block a trace ever named
            self.members[seg] = members[start:]
            self.born[seg] -= start
            start = 0
        lo[seg] = start

    def position(self, seg: int, block) -> int:
        """Where a live block sits in its segment."""
        members, p = self.members[seg], self.lo[seg]
        return p if members[p] == block else members.index(block, p)

    def push_general(self, blocks: list, where: list, seen: int) -> tuple[int, int]:
        """Remove the reused blocks of a request with repeated ids or reused blocks after a miss, keep
        its unique blocks as the new segment (already their place): (unique blocks, blocks removed)."""
        unique = list(dict.fromkeys(blocks))
        old = {b: s for b, s in zip(blocks, where) if s is not None}
        leading = set(blocks[:seen])
        fresh = set()
        for new_pos, b in enumerate(unique):
            s = old.get(b)
            if s is None:
                fresh.add(new_pos)
                continue
            p = self.position(s, b)
            born = self.born[s]
            if b not in leading and (p >= born if type(born) is int else p in born):
                fresh.add(new_pos)      # still never reused: only a leading run counts as reuse
            self.remove(s, p, 1)
        self.members.append(unique)
        self.born.append(fresh)
        return len(unique), len(old)

    def never_reused(self) -> int:
        """Live blocks still in the segment that first saw them."""
        count = 0
        for seg, members in enumerate(self.members):
            if not members:
                continue
            lo, born, dead = self.lo[seg], self.born[seg], self.holes.get(seg, ())
            if type(born) is int:
                start = max(lo, born)
                count += len(members) - start
                if dead:
                    count -= sum(1 for p in dead if p >= start)
            else:
                count += sum(1 for p in born if lo <= p < len(members) and p not in dead)
        return count


def lru_pass(requests: Iterable[Request], block_size: int, window: tuple[float, float] | None = None) -> LruPass:
    """One pass over time-ordered requests; only those inside `window` (from, until) are measured."""
    stack = RecencyStack()
    place, members, lo, holes, seg_time, born, pushed = stack.place, stack.members, stack.lo, stack.holes, \
        stack.time, stack.born, stack.pushed
    place_get, cut = place.get, stack.cut
    acc = CurveAccumulator(block_size)
    add = acc.add
    first = last = None
    out_tokens = dead_total = pushed_total = 0
    tree = stack.dead
    size = len(tree)
    lo_t, hi_t = window if window is not None else (-math.inf, math.inf)
    for r in requests:
        now = r.time_s
        if first is None:
            first = now
        last = now
        blocks = r.blocks
        n = len(blocks)
        where = list(map(place_get, blocks))
        try:
            seen = where.index(None)
        except ValueError:
            seen = n
        runs = []
        if seen:
            a = 0
            while a < seen:
                s = where[a]
                e = _run_end(where, a, seen, s)
                sb, first_live = members[s], lo[s]
                p = first_live if sb[first_live] == blocks[a] else sb.index(blocks[a], first_live)
                if e - a > 1 and sb[p:p + e - a] != blocks[a:e]:
                    k, q, end = a + 1, p + 1, len(sb)   # not consecutive there: the run stops earlier
                    while k < e and q < end and sb[q] == blocks[k]:
                        k += 1
                        q += 1
                    e = k
                offset = p - first_live
                if holes and s in holes:
                    offset -= bisect.bisect_left(holes[s], p)
                i, dead_below = s + 1, 0
                while i:
                    dead_below += tree[i]
                    i &= i - 1
                above = pushed_total - pushed[s] - dead_total + dead_below
                runs.append((a, e, above + offset + 1, seg_time[s], s, p))
                a = e
        seg = len(lo)
        before = len(place)
        place.update(zip(blocks, repeat(seg)))
        if len(place) - before == n - seen and (len(runs) < 2 or len({run[4] for run in runs}) == len(runs)):
            for a, e, _, _, s, p in runs:   # inline: the common case of `RecencyStack.remove`
                m = e - a
                i = s + 1
                while i < size:
                    tree[i] += m
                    i += i & -i
                dead_total += m
                start = p + m
                if p == lo[s] and start < len(members[s]) and start <= TRIM_AFTER and not (holes and s in holes):
                    lo[s] = start
                else:
                    cut(s, p, m)
            members.append(blocks)
            born.append(seen)
            pushed_total += n
        else:
            unique, removed = stack.push_general(blocks, where, seen)
            pushed_total += unique
            dead_total += removed
        pushed.append(pushed_total)
        lo.append(0)
        seg_time.append(now)
        if seg + 2 >= size:
            stack.grow()
            tree = stack.dead
            size = len(tree)
        if lo_t <= now < hi_t:
            add(r, runs, seen, now)
            out_tokens += r.output_length
    if first is None:
        raise NoRequests("trace: no usable request")
    max_d = max(acc.slope) if acc.slope else 1
    unique = len(place)
    return LruPass(acc, unique, unique - stack.never_reused(), first, last, out_tokens, max_d)


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
