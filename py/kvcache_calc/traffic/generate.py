"""Sampled traffic: the requests a workload sends, in time order, for the simulator and the trace writer.

One generator serves both, so a simulation and a generated trace with the same seed are the same
traffic (tests replay one and simulate the other, block for block). Conversations arrive as a
Poisson process; each draws its class, its prefix nodes (a variant of each group on the class's
path, with Zipf popularity), its number of turns and its context; each turn draws its user and
output tokens, and each follow-up its kind and the think time before it.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from .distributions import MAX_TURNS
from .prefixes import EXACT_RANKS, zipf_bins
from .resolved import Traffic
from .spec import PrefixGroup
from .turns import TRACE_REPLAY


@dataclass(slots=True)
class Request:
    """One request: when, whose, how long, and which runs of blocks it looks up and touches."""

    time: float
    conv: int
    cls: int
    turn: int                    # 1-based
    last: bool                   # the conversation's last turn
    prompt: int                  # prompt tokens
    output: int
    nodes: tuple                 # ((node key, blocks), ...) of its shared prefix, root first
    shared: int                  # blocks of the shared prefix
    kept: int                    # private blocks reused from the conversation's previous turn
    private: int                 # private blocks the request leaves in the cache
    diverged: bool               # the previous turn's blocks past `kept` are dead from now on
    limit: int                   # blocks a lookup may count from the start of the prompt
    generation: int              # the conversation's private run (a new one after a divergence)
    cuts: list | None = None     # per generation g > 0: the private blocks it shares with generation g - 1
    ids: list | None = None      # the prompt's block ids, when asked for
    admitted: list | None = None  # and those it leaves in the cache (shared, then its own)

    def common(self, generation: int) -> int:
        """Private blocks of this prompt an older generation's sequence holds too (a copy another
        replica kept): the least of the cuts since, and what it keeps of the turn before."""
        current = self.generation - 1 if self.diverged else self.generation
        common = self.kept
        cuts = self.cuts
        for g in range(generation + 1, current + 1):
            if cuts[g] < common:
                common = cuts[g]
        return common


@dataclass(slots=True)
class _Conversation:
    cls: int
    nodes: tuple
    shared: int
    shared_tokens: int
    turns: int
    context: int
    turn: int = 0
    prompt: int = 0
    user: int = 0
    output: int = 0
    full: int = 0                # full blocks (absolute) of the cached sequence after the last turn
    private: int = 0             # private blocks it touched
    generation: int = 0
    cuts: list = field(default_factory=lambda: [0])
    seq: list = field(default_factory=list)   # ids of the cached sequence's private full blocks


class ZipfSampler:
    """Variant ranks 1..count with probability proportional to rank^-exponent."""

    def __init__(self, group: PrefixGroup):
        self.count, self.s = group.count, group.zipf
        bins = zipf_bins(group.count, group.zipf)
        self.cumulative = list(itertools.accumulate(n * p for n, p in bins))
        self.starts = [1]
        for n, _ in bins[:-1]:
            self.starts.append(self.starts[-1] + int(n))
        self.sizes = [int(n) for n, _ in bins]

    def sample(self, rng: random.Random) -> int:
        if self.count == 1:
            return 1
        i = min(bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1]), len(self.sizes) - 1)
        a, n = self.starts[i], self.sizes[i]
        if n == 1 or a <= EXACT_RANKS:
            return a
        # within a range of ranks: the density x^-s on [a - 1/2, a + n - 1/2), by inversion
        lo, hi, s = a - 0.5, a + n - 0.5, self.s
        u = rng.random()
        if abs(s - 1.0) < 1e-12:
            x = lo * (hi / lo) ** u
        else:
            e = 1.0 - s
            x = (lo ** e + u * (hi ** e - lo ** e)) ** (1.0 / e)
        return min(a + n - 1, max(a, int(x + 0.5)))


class TrafficGenerator:
    """Requests of conversations arriving at `rate` per second from time 0 until `arrivals_until`, in
    time order, until `end` (a conversation under way then is cut there)."""

    def __init__(self, traffic: Traffic, rate: float, seed: int = 1, end: float = math.inf, with_ids: bool = False,
                 arrivals_until: float = math.inf):
        self.traffic = traffic
        self.rate = rate
        self.end = end
        self.arrivals_until = min(arrivals_until, end)
        self.rng = random.Random(seed)
        self.with_ids = with_ids
        spec = traffic.spec
        self.b = traffic.block_size
        self.trace = traffic.admission == TRACE_REPLAY
        self.class_cumulative = list(itertools.accumulate(c.share for c in spec.classes))
        self.samplers = {g.name: ZipfSampler(g) for g in spec.groups}
        self.paths = []   # per class: [(group name, kind index, blocks)] root first, and the prefix tokens
        for ct in traffic.classes:
            levels = [(name, k, traffic.kinds[k].blocks) for name, k in zip(ct.spec.prefix, ct.levels)]
            self.paths.append((levels, spec.prefix_tokens(ct.spec)))
        # per class: the turns the context limit lets a conversation have (as the model ends them)
        self.turn_limits = [len(ct.table.reach) if ct.table.refused_share > 0.0 else MAX_TURNS
                            for ct in traffic.classes]
        self.events: list = []           # (time, order, conversation)
        self.order = itertools.count()
        self.conversations = 0
        self.next_arrival = self.rng.expovariate(rate)
        self.node_ids: dict = {}         # node key -> its block ids (with_ids)
        self.fresh = itertools.count()
        self.now = 0.0

    def _new_conversation(self) -> _Conversation:
        rng = self.rng
        spec = self.traffic.spec
        ci = min(bisect.bisect_left(self.class_cumulative, rng.random() * self.class_cumulative[-1]),
                 len(spec.classes) - 1)
        cls = spec.classes[ci]
        levels, tokens = self.paths[ci]
        variants: tuple = ()
        nodes = []
        shared = 0
        for name, kind, blocks in levels:
            variants = variants + (self.samplers[name].sample(rng),)
            nodes.append(((kind, variants), blocks))
            shared += blocks
        turns = min(self.turn_limits[ci], max(1, int(round(cls.turns.sample(rng)))))
        context = max(0, int(round(cls.context.sample(rng))))
        return _Conversation(ci, tuple(nodes), shared, tokens, turns, context)

    def __iter__(self):
        return self

    def __next__(self) -> Request:
        arrival = self.next_arrival if self.next_arrival < self.arrivals_until else math.inf
        if arrival <= (self.events[0][0] if self.events else math.inf):
            now = arrival
            if now >= self.end:
                raise StopIteration
            self.conversations += 1
            conv_id, conv = self.conversations, self._new_conversation()
            self.next_arrival = now + self.rng.expovariate(self.rate)
        else:
            now, _, conv_id, conv = heapq.heappop(self.events)
            if now >= self.end:
                raise StopIteration
        self.now = now
        request = self._turn(now, conv_id, conv)
        if not request.last:
            cls = self.traffic.spec.classes[conv.cls]
            gap = max(0.0, cls.think.sample(self.rng))
            heapq.heappush(self.events, (now + gap, next(self.order), conv_id, conv))
        return request

    def _turn(self, now: float, conv_id: int, conv: _Conversation) -> Request:
        rng = self.rng
        b = self.b
        cls = self.traffic.spec.classes[conv.cls]
        s_blocks = conv.shared_tokens // b
        user = max(1, int(round(cls.user.sample(rng))))
        output = max(0, int(round(cls.output.sample(rng))))
        conv.turn += 1
        first = conv.turn == 1
        if first:
            kept_tokens = conv.shared_tokens + conv.context
        else:
            kind = _pick(cls.follow_ups, rng)
            kept_tokens = conv.prompt + conv.output if kind == "continue" else \
                conv.prompt if kind == "resend" else conv.prompt - conv.user
        prompt = kept_tokens + user
        limit = prompt // b if self.trace else (prompt - 1) // b
        if first:
            kept = 0
        else:
            kept = max(0, min(kept_tokens // b, conv.full, limit) - s_blocks)
        full = prompt // b if self.trace else (prompt + output) // b
        private = max(0, (-(-prompt // b) if self.trace else full) - s_blocks)
        diverged = not first and kept < conv.private
        if diverged:
            conv.generation += 1
            conv.cuts.append(kept)
        ids = admitted = None
        if self.with_ids:
            ids, admitted = self._ids(conv, kept, prompt, output)
        conv.prompt, conv.user, conv.output, conv.full, conv.private = prompt, user, output, full, private
        return Request(now, conv_id, conv.cls, conv.turn, conv.turn >= conv.turns, prompt, output, conv.nodes,
                       conv.shared, kept, private, diverged, limit, conv.generation, conv.cuts, ids, admitted)

    def _ids(self, conv: _Conversation, kept: int, prompt: int, output: int) -> tuple[list, list]:
        """The prompt's block ids (shared nodes', then the conversation's), and those the cache keeps."""
        b = self.b
        fresh = self.fresh
        out = []
        for key, blocks in conv.nodes:
            ids = self.node_ids.get(key)
            if ids is None:
                ids = self.node_ids[key] = [next(fresh) for _ in range(blocks)]
            out.extend(ids)
        s_blocks = conv.shared_tokens // b
        full = prompt // b - s_blocks
        mine = conv.seq[:kept] + [next(fresh) for _ in range(max(0, full - kept))]
        shared = list(out)
        out.extend(mine)
        if prompt % b:
            out.append(next(fresh))   # the partial last block: its content changes as the conversation grows
        if self.trace:
            conv.seq = mine
            return out, out
        # the output fills the prompt's partial block and more: new content, new ids
        conv.seq = mine + [next(fresh) for _ in range(max(0, (prompt + output) // b - s_blocks - full))]
        return out, shared + conv.seq


def _pick(weights: tuple[tuple[str, float], ...], rng: random.Random) -> str:
    if len(weights) == 1:
        return weights[0][0]
    u = rng.random()
    acc = 0.0
    for kind, p in weights:
        acc += p
        if u < acc:
            return kind
    return weights[-1][0]


