"""Multi-turn chat traffic: turn-count distribution, per-turn prompt tokens and cached blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from .scenario import WorkloadSpec

TAIL = 1e-13  # turn-distribution mass left out of the sums
MAX_TURNS = 1_000_000


class Turn(NamedTuple):  # a tuple: hundreds are built per workload, at a third of a dataclass's cost
    """Turn j of a conversation, weighted by how many conversations reach it."""

    index: int          # j, from 1
    p_reach: float      # P(N >= j)
    p_more: float       # P(N > j): a follow-up reuses this turn's blocks
    prompt_tokens: int  # S + (j-1)(u+o) + u
    private_blocks: int  # full blocks of S + j(u+o), less the shared system-prompt blocks


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a cheap cache key (turn_table shares them)
class TurnTable:
    """The turns of one turn structure at one block size, and the sums over them the models need.

    Arrival rates and think times leave it unchanged, so the points of a sweep over them share it.
    """

    turns: tuple[Turn, ...]
    mean_turns: float           # E[N]

    @cached_property
    def conversation_prompt_tokens(self) -> float:
        """Prompt tokens of the mean conversation (all its turns)."""
        return sum(t.p_reach * t.prompt_tokens for t in self.turns)

    @cached_property
    def mean_prompt_tokens(self) -> float:
        """Prompt tokens of the mean request."""
        return self.conversation_prompt_tokens / self.mean_turns

    @cached_property
    def request_prompts(self) -> tuple[tuple[float, int], ...]:
        """(share of requests, prompt tokens) of the turns that weigh in a mean over requests."""
        return tuple((t.p_reach / self.mean_turns, t.prompt_tokens) for t in self.turns if t.p_reach > 1e-12)

    @cached_property
    def block_power_sums(self) -> tuple[list[float], list[float]]:
        """([Σ P(N>j) n_j^r], [Σ P(N=j) n_j^r]) for r = 0..3 over turns holding private blocks.

        The first list counts blocks idle between turns, the second blocks left after the last turn.
        """
        i0 = i1 = i2 = i3 = d0 = d1 = d2 = d3 = 0.0  # unrolled over r
        for t in self.turns:
            n = t.private_blocks
            if n <= 0:
                continue
            more = t.p_more
            last = t.p_reach - more
            n2 = n * n
            n3 = n2 * n
            i0 += more
            i1 += more * n
            i2 += more * n2
            i3 += more * n3
            d0 += last
            d1 += last * n
            d2 += last * n2
            d3 += last * n3
        return [i0, i1, i2, i3], [d0, d1, d2, d3]

    @cached_property
    def follow_ups(self) -> list[tuple[float, int]]:
        """(P(N>j), n_j) for every turn that has a follow-up reusing its blocks."""
        return [(t.p_more, t.private_blocks) for t in self.turns if t.p_more > 0.0]


@dataclass(frozen=True)
class Traffic:
    """Everything the models need from a workload, for one block size: its rates and its turn table."""

    spec: WorkloadSpec
    block_size: int
    shared_blocks: int          # s = floor(S / b)
    table: TurnTable

    @property
    def turns(self) -> tuple[Turn, ...]:
        return self.table.turns

    @property
    def mean_turns(self) -> float:
        return self.table.mean_turns

    @property
    def arrival_rate(self) -> float:
        return self.spec.arrival_rate

    @property
    def request_rate(self) -> float:
        return self.spec.arrival_rate * self.mean_turns

    def prompt_tokens_per_conversation(self) -> float:
        return self.table.conversation_prompt_tokens

    @property
    def mean_prompt_tokens(self) -> float:
        return self.table.mean_prompt_tokens

    @property
    def request_prompts(self) -> tuple[tuple[float, int], ...]:
        return self.table.request_prompts

    @property
    def block_power_sums(self) -> tuple[list[float], list[float]]:
        return self.table.block_power_sums

    @property
    def follow_ups(self) -> list[tuple[float, int]]:
        return self.table.follow_ups


def turn_probabilities(turns_dist: str, turns_mean: float) -> list[tuple[float, float]]:
    """[(P(N >= j), P(N > j)) for j = 1, 2, ...] until the remaining mass is negligible."""
    if turns_dist == "fixed":
        n = int(turns_mean)
        return [(1.0, 1.0 if j < n else 0.0) for j in range(1, n + 1)]
    q = 1.0 - 1.0 / turns_mean  # geometric: P(N > j) = q^j
    if q <= 0.0:
        return [(1.0, 0.0)]
    count = min(MAX_TURNS, max(1, math.ceil(math.log(TAIL) / math.log(q))))
    return [(q ** (j - 1), q ** j) for j in range(1, count + 1)]


@lru_cache(maxsize=64)
def build_traffic(spec: WorkloadSpec, block_size: int) -> Traffic:
    """Per-turn token and block counts for a workload at a block size (cached: sweeps reuse it)."""
    table = turn_table(spec.turns_dist, spec.turns_mean, spec.system_prompt_tokens, spec.user_tokens,
                       spec.output_tokens, block_size)
    return Traffic(spec, block_size, spec.system_prompt_tokens // block_size, table)


@lru_cache(maxsize=64)
def turn_table(turns_dist: str, turns_mean: float, s_tok: int, u: int, o: int, block_size: int) -> TurnTable:
    """The turn table of one turn structure at a block size (cached apart from build_traffic: rates and
    think times leave it unchanged)."""
    shared = s_tok // block_size
    turns = []
    for j, (reach, more) in enumerate(turn_probabilities(turns_dist, turns_mean), start=1):
        prompt = s_tok + (j - 1) * (u + o) + u
        blocks = (s_tok + j * (u + o)) // block_size - shared
        turns.append(Turn(j, reach, more, prompt, blocks))
    return TurnTable(tuple(turns), sum(t.p_reach for t in turns))
