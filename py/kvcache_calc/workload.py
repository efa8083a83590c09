"""Multi-turn chat traffic: turn-count distribution, per-turn prompt tokens and cached blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .scenario import WorkloadSpec

TAIL = 1e-13  # turn-distribution mass left out of the sums
MAX_TURNS = 1_000_000


@dataclass(frozen=True)
class Turn:
    """Turn j of a conversation, weighted by how many conversations reach it."""

    index: int          # j, from 1
    p_reach: float      # P(N >= j)
    p_more: float       # P(N > j): a follow-up reuses this turn's blocks
    prompt_tokens: int  # S + (j-1)(u+o) + u
    private_blocks: int  # full blocks of S + j(u+o), less the shared system-prompt blocks


@dataclass(frozen=True)
class Traffic:
    """Everything the models need from a workload, for one block size."""

    spec: WorkloadSpec
    block_size: int
    shared_blocks: int          # s = floor(S / b)
    turns: tuple[Turn, ...]
    mean_turns: float           # E[N]

    @property
    def arrival_rate(self) -> float:
        return self.spec.arrival_rate

    @property
    def request_rate(self) -> float:
        return self.spec.arrival_rate * self.mean_turns

    def prompt_tokens_per_conversation(self) -> float:
        return sum(t.p_reach * t.prompt_tokens for t in self.turns)

    @cached_property
    def block_power_sums(self) -> tuple[list[float], list[float]]:
        """([Σ P(N>j) n_j^r], [Σ P(N=j) n_j^r]) for r = 0..3 over turns holding private blocks.

        The first list counts blocks idle between turns, the second blocks left after the last turn.
        """
        idle = [0.0] * 4
        done = [0.0] * 4
        for t in self.turns:
            n = t.private_blocks
            if n <= 0:
                continue
            last = t.p_reach - t.p_more
            for r in range(4):
                idle[r] += t.p_more * n ** r
                done[r] += last * n ** r
        return idle, done

    @cached_property
    def follow_ups(self) -> list[tuple[float, int]]:
        """(P(N>j), n_j) for every turn that has a follow-up reusing its blocks."""
        return [(t.p_more, t.private_blocks) for t in self.turns if t.p_more > 0.0]


def turn_probabilities(spec: WorkloadSpec) -> list[tuple[float, float]]:
    """[(P(N >= j), P(N > j)) for j = 1, 2, ...] until the remaining mass is negligible."""
    if spec.turns_dist == "fixed":
        n = int(spec.turns_mean)
        return [(1.0, 1.0 if j < n else 0.0) for j in range(1, n + 1)]
    q = 1.0 - 1.0 / spec.turns_mean  # geometric: P(N > j) = q^j
    if q <= 0.0:
        return [(1.0, 0.0)]
    count = min(MAX_TURNS, max(1, math.ceil(math.log(TAIL) / math.log(q))))
    return [(q ** (j - 1), q ** j) for j in range(1, count + 1)]


@lru_cache(maxsize=64)
def build_traffic(spec: WorkloadSpec, block_size: int) -> Traffic:
    """Per-turn token and block counts for a workload at a block size (cached: sweeps reuse it)."""
    s_tok, u, o = spec.system_prompt_tokens, spec.user_tokens, spec.output_tokens
    shared = s_tok // block_size
    turns = []
    for j, (reach, more) in enumerate(turn_probabilities(spec), start=1):
        prompt = s_tok + (j - 1) * (u + o) + u
        blocks = (s_tok + j * (u + o)) // block_size - shared
        turns.append(Turn(j, reach, more, prompt, blocks))
    mean = sum(t.p_reach for t in turns)
    return Traffic(spec, block_size, shared, tuple(turns), mean)
