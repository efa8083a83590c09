"""Block-level prefix cache with vLLM v1 semantics, and its eviction policies.

Blocks are hashable ids that name a whole prefix (vLLM chains block hashes, so equal ids mean an
equal prefix up to that block). A request reuses the longest leading run of cached blocks; when
it completes, all its full blocks are touched tail first — vLLM frees a request's blocks in
reverse order — so its head ends up the most recently used. The shape follows `cachetools`: a
small base, and each policy supplies how a touch is recorded and which block `popitem` evicts.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from typing import Hashable, Sequence


class BlockCache:
    """A cache of at most `capacity` blocks; subclasses choose the victim in `popitem`."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity: {capacity!r} is not allowed; expected at least one block")
        self.capacity = capacity
        self._order: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, block: Hashable) -> bool:
        return block in self._order

    def cached_prefix(self, blocks: Sequence[Hashable]) -> int:
        """How many leading blocks are cached (the reusable prefix); changes nothing."""
        order = self._order
        n = 0
        for block in blocks:
            if block not in order:
                break
            n += 1
        return n

    def admit(self, blocks: Sequence[Hashable]) -> None:
        """Record a request's blocks (tail first), then evict until the cache fits."""
        self._touch(blocks)
        order = self._order
        while len(order) > self.capacity:
            self.popitem()

    def _touch(self, blocks: Sequence[Hashable]) -> None:
        raise NotImplementedError

    def popitem(self) -> Hashable:
        """The eviction hook: remove one block and return it."""
        raise NotImplementedError


class LRUCache(BlockCache):
    """Least recently used block first (vLLM's free-block queue, SGLang's radix cache default)."""

    def _touch(self, blocks: Sequence[Hashable]) -> None:
        order = self._order
        move = order.move_to_end
        for block in reversed(blocks):
            if block in order:
                move(block)
            else:
                order[block] = None

    def popitem(self) -> Hashable:
        return self._order.popitem(last=False)[0]


class FIFOCache(BlockCache):
    """Oldest admitted block first; hits do not refresh a block."""

    def _touch(self, blocks: Sequence[Hashable]) -> None:
        order = self._order
        for block in reversed(blocks):
            if block not in order:
                order[block] = None

    def popitem(self) -> Hashable:
        return self._order.popitem(last=False)[0]


class LFUCache(BlockCache):
    """Least frequently used block first; ties go to the least recently used.

    Counts live while a block is cached (an evicted block starts again at zero). A heap holds
    (count, last touch, block) entries; stale entries are skipped when popped.
    """

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self._count: dict = {}
        self._heap: list = []
        self._clock = itertools.count()

    def _touch(self, blocks: Sequence[Hashable]) -> None:
        order, count, heap, clock = self._order, self._count, self._heap, self._clock
        for block in reversed(blocks):
            c = count.get(block, 0) + 1
            count[block] = c
            order[block] = stamp = next(clock)
            heapq.heappush(heap, (c, stamp, block))
        if len(heap) > 4 * len(order) + 64:
            self._compact()

    def _compact(self) -> None:
        self._heap = [(self._count[b], s, b) for b, s in self._order.items()]
        heapq.heapify(self._heap)

    def popitem(self) -> Hashable:
        heap, order, count = self._heap, self._order, self._count
        while True:
            c, stamp, block = heapq.heappop(heap)
            if order.get(block) == stamp and count.get(block) == c:
                del order[block]
                del count[block]
                return block


class BeladyCache(BlockCache):
    """Evict the block whose next use is farthest in the future (optimal; needs the future).

    `admit(blocks, next_uses)` gives, for each block, the time (any increasing index) of its next
    request, or None when it is never used again.
    """

    NEVER = float("inf")

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self._heap: list = []
        self._clock = itertools.count()  # equal next uses: the earlier touched (the tail) goes first

    def admit(self, blocks: Sequence[Hashable], next_uses: Sequence[float | None] = ()) -> None:
        if len(next_uses) != len(blocks):
            raise ValueError("next_uses: expected one next-use time per block")
        order, heap = self._order, self._heap
        for block, nxt in zip(reversed(blocks), reversed(next_uses)):
            when = self.NEVER if nxt is None else nxt
            order[block] = when
            heapq.heappush(heap, (-when, next(self._clock), block))
        while len(order) > self.capacity:
            self.popitem()

    def popitem(self) -> Hashable:
        heap, order = self._heap, self._order
        while True:
            neg, _, block = heapq.heappop(heap)
            if order.get(block) == -neg:
                del order[block]
                return block


class TieredLRU:
    """An LRU GPU cache above LRU tiers (CPU DRAM, SSD), each of its own capacity.

    exclusive: a block lives in one tier; a hit anywhere promotes it to the GPU, and what the GPU
    evicts is demoted to the next tier's most recent end (and so on down). The tiers together
    then hold exactly what one LRU of their summed size holds, the GPU its most recent part.
    inclusive: every tier keeps its own LRU copy of every block the GPU touches (write-through).
    """

    def __init__(self, capacities: Sequence[int], exclusive: bool = True):
        self.levels = [LRUCache(c) for c in capacities]
        self.exclusive = exclusive
        self.capacity = self.levels[0].capacity

    def __len__(self) -> int:
        return len(self.levels[0])

    def prefix_by_tier(self, blocks: Sequence[Hashable]) -> list[int]:
        """Leading cached blocks, counted by the topmost tier that holds each."""
        counts = [0] * len(self.levels)
        for block in blocks:
            for i, level in enumerate(self.levels):
                if block in level:
                    counts[i] += 1
                    break
            else:
                break
        return counts

    def cached_prefix(self, blocks: Sequence[Hashable]) -> int:
        return sum(self.prefix_by_tier(blocks))

    def admit(self, blocks: Sequence[Hashable]) -> None:
        if not self.exclusive:
            for level in self.levels:
                level.admit(blocks)
            return
        for level in self.levels[1:]:
            for block in blocks:
                level._order.pop(block, None)
        top = self.levels[0]
        top._touch(blocks)
        for upper, lower in zip(self.levels, self.levels[1:]):
            while len(upper) > upper.capacity:
                lower._order[upper.popitem()] = None
        bottom = self.levels[-1]
        while len(bottom) > bottom.capacity:
            bottom.popitem()


class RunLRU:
    """LRU over runs of blocks that are always touched together: exact for prefix-cache traffic.

    A request touches its shared prefix nodes and its conversation's blocks tail first, so after it
    the stack reads: its root node, the nodes below it, its conversation head to tail, then older
    runs, each still a head-first run (eviction only ever eats tails). The stack is therefore a list
    of (run, cached length), oldest first; evicting eats the oldest run's tail. A conversation whose
    next prompt diverges from the copy cached here (a resend, a branch, a partial last block, or
    turns served elsewhere meanwhile) starts a new run with the blocks it keeps; the old run's blocks
    past them stay where they are, dead. tests/test_simulate.py checks it against the block engine,
    result for result.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.runs: OrderedDict = OrderedDict()   # run -> cached blocks (its head), oldest first
        self.live: dict = {}                     # conversation -> the generation of its run here
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def lookup(self, nodes: Sequence, conv: int, common, limit: int) -> int:
        """Leading cached blocks of a prompt: its shared nodes', then its conversation's, up to the
        blocks it shares with the copy cached here (`common(generation)` of that copy)."""
        runs = self.runs
        found = 0
        for key, blocks in nodes:
            cached = runs.get(key, 0)
            if cached < blocks:
                return min(found + cached, limit)
            found += blocks
        generation = self.live.get(conv)
        if generation is None:
            return min(found, limit)
        return min(found + min(runs.get((conv, generation), 0), common(generation)), limit)

    def admit(self, nodes: Sequence, conv: int, generation: int, blocks: int, common) -> None:
        """Touch a request's runs tail first: its conversation's (generation `generation`, `blocks` long),
        then its nodes, the root last."""
        runs = self.runs
        old = self.live.get(conv)
        if old is not None and old != generation:
            key = (conv, old)
            cached = runs.get(key, 0)
            if cached:
                dead = cached - min(cached, common(old))   # the copy's tail past what the new run keeps
                if dead:
                    runs[key] = dead                       # in place: those blocks keep their recency
                else:
                    del runs[key]
                self.size -= cached - dead
        key = (conv, generation)
        self.live[conv] = generation
        self.size += blocks - runs.pop(key, 0)
        if blocks:
            runs[key] = blocks
        for node, size in reversed(nodes):
            self.size += size - runs.pop(node, 0)
            if size:
                runs[node] = size
        excess = self.size - self.capacity
        while excess > 0:
            oldest, held = next(iter(runs.items()))
            if held <= excess:
                del runs[oldest]
                self.size -= held
                excess -= held
            else:
                runs[oldest] = held - excess
                self.size -= excess
                excess = 0


POLICIES: dict[str, type[BlockCache]] = {"lru": LRUCache, "fifo": FIFOCache, "lfu": LFUCache,
                                         "optimal": BeladyCache}


def make_cache(policy: str, capacity: int) -> BlockCache:
    """A cache of `capacity` blocks with the named policy."""
    try:
        return POLICIES[policy](capacity)
    except KeyError:
        raise ValueError(f'policy: "{policy}" is not allowed; expected one of '
                         + ", ".join(f'"{p}"' for p in POLICIES)) from None
