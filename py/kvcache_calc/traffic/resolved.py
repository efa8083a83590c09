"""The traffic at one block size and admission rule, resolved once for the models and the simulator."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from .distributions import Dist
from .prefixes import Kind, Profile, kinds_of, profiles_of
from .spec import TrafficClass, TrafficSpec
from .turns import ENGINE, ClassTable, class_table


@dataclass(frozen=True, eq=False)
class ClassTraffic:
    """One class: its share of the arrivals, its turn table, the kinds of its prefix path, its profiles."""

    index: int
    spec: TrafficClass
    table: ClassTable
    levels: tuple[int, ...]          # indices into Traffic.kinds, root first
    profiles: tuple[Profile, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def share(self) -> float:
        return self.spec.share

    @property
    def think(self) -> Dist:
        return self.spec.think

    @property
    def shared_blocks(self) -> int:
        return self.table.shared_blocks


@dataclass(frozen=True, eq=False)
class Traffic:
    """Every class and shared prefix kind of a workload, at one block size (shared by every rate)."""

    spec: TrafficSpec
    block_size: int
    admission: str
    classes: tuple[ClassTraffic, ...]
    kinds: tuple[Kind, ...]
    kind_classes: tuple[tuple[int, ...], ...]     # per kind: the classes whose path passes through it

    @property
    def arrival_rate(self) -> float:
        return self.spec.arrival_rate

    @cached_property
    def mean_turns(self) -> float:
        """Requests per conversation, over all classes."""
        return sum(c.share * c.table.mean_turns for c in self.classes)

    @property
    def request_rate(self) -> float:
        return self.arrival_rate * self.mean_turns

    @cached_property
    def conversation_prompt_tokens(self) -> float:
        return sum(c.share * c.table.conversation_prompt_tokens for c in self.classes)

    @cached_property
    def mean_prompt_tokens(self) -> float:
        return self.conversation_prompt_tokens / self.mean_turns

    @cached_property
    def mean_output_tokens(self) -> float:
        """Output tokens per request, over all classes."""
        if len(self.classes) == 1:
            return self.classes[0].spec.output.mean
        return sum(c.share * c.table.mean_turns * c.spec.output.mean for c in self.classes) / self.mean_turns

    @cached_property
    def request_prompts(self) -> tuple[tuple[float, float, float], ...]:
        """(share of all requests, prompt tokens, history tokens) over every class and turn."""
        out = []
        for c in self.classes:
            scale = c.share * c.table.mean_turns / self.mean_turns
            out.extend((w * scale, p, h) for w, p, h in c.table.request_prompts)
        return tuple(out)

    @cached_property
    def prompt_shares(self) -> tuple[tuple[float, float], ...]:
        """(share of all requests, prompt tokens) over every class and turn."""
        return tuple((w, p) for w, p, _ in self.request_prompts)

    @cached_property
    def longest_blocks(self) -> int:
        return max(c.table.longest_blocks for c in self.classes)

    @cached_property
    def hot_shared_blocks(self) -> int:
        """Blocks of the prefix every class starts with (one variant per group): always above the rest."""
        common = None
        for c in self.classes:
            path = c.spec.prefix
            common = path if common is None else tuple(a for a, b in zip(common, path) if a == b)
        tokens = 0
        for name in common or ():
            g = self.spec.group(name)
            if g.count > 1:
                break
            tokens += g.tokens
        return tokens // self.block_size

    @cached_property
    def hot_kinds(self) -> frozenset[int]:
        """Kinds of one node that every class passes through: the prefix all requests share."""
        everyone = len(self.classes)
        return frozenset(j for j, (kind, members) in enumerate(zip(self.kinds, self.kind_classes))
                         if len(members) == everyone and sum(n for n, _ in kind.bins) == 1.0)

    @cached_property
    def max_shared_blocks(self) -> int:
        return max(c.shared_blocks for c in self.classes)


@lru_cache(maxsize=64)
def build_traffic(spec: TrafficSpec, block_size: int, admission: str = ENGINE) -> Traffic:
    """The classes' turn tables and the prefix kinds (cached: sweeps over rates and capacity reuse it)."""
    kinds = kinds_of(spec, block_size)
    index = {k.path: i for i, k in enumerate(kinds)}
    classes = []
    for i, c in enumerate(spec.classes):
        table = class_table(c, spec.prefix_tokens(c), block_size, admission, spec.context_limit)
        levels = tuple(index[c.prefix[:d]] for d in range(1, len(c.prefix) + 1))
        classes.append(ClassTraffic(i, c, table, levels, profiles_of(spec, i)))
    kind_classes = tuple(tuple(c.index for c in classes if k.path == c.spec.prefix[:len(k.path)]) for k in kinds)
    return Traffic(spec, block_size, admission, tuple(classes), kinds, kind_classes)
