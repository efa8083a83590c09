"""One class's conversations at one block size: representative conversations, turn by turn.

A conversation of the class is a path of turns. Turn 1's prompt is the shared prefix, the
conversation's context and its first user tokens; a follow-up keeps a prefix of the turn before
(all of it and the response for "continue", the prompt without the response for "resend", the
prompt without its last user tokens for "branch") and adds new user tokens. After each turn the
cache holds the turn's blocks beyond the shared prefix (m_j of them); the next turn reuses the
first n_j; the other m_j - n_j are dead (never touched again).

Token counts that vary are represented by K conversations built from equal-probability strata
(their conditional means, so every mean is exact), each turn's variables drawn in a Latin
hypercube: a fixed, seeded pairing of the strata across variables and turns. A class whose token
counts are fixed needs one conversation, and then the table is exactly the textbook turn table.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import mul, sub

from .distributions import Dist, Fixed, Geometric, reach_probabilities, reach_rows
from .spec import TrafficClass

ENGINE = "engine"              # the full blocks of prompt and output enter the cache (vLLM, SGLang)
TRACE_REPLAY = "trace_replay"  # every block id of the prompt, its partial last one too, and no output
ADMISSIONS = (ENGINE, TRACE_REPLAY)
MAX_REPRESENTATIVES = 64     # more changed the grid's hit rates by < 0.15 points
MIN_REPRESENTATIVES = 16
PATH_BUDGET = 1 << 16          # representatives x turns
LATENCY_GROUPS = 8             # per turn, for the prefill roofline's averages
MAX_TABLE_TURNS = 2048         # rows of a table; past them turns share the last row (see _table)
PERMUTATION_CHUNK = 256        # turns' worth of pairings drawn at a time
MANY_TAIL = 1e-6               # turn-count mass a class with varying tokens leaves out (at its last turn)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a cheap cache key
class ClassTable:
    """Per turn j: P(N >= j), P(N > j), and for each representative conversation its prompt tokens,
    the private blocks it holds after turn j (m_j) and those turn j + 1 reuses (n_j)."""

    reach: tuple[tuple[float, float], ...]
    shared_blocks: int
    prompts: tuple[tuple[float, ...], ...]
    touched: tuple[tuple[int, ...], ...]
    reused: tuple[tuple[int, ...], ...]
    block_size: int
    refused_share: float = 0.0     # conversations that end because their next prompt exceeds the context limit
    beyond_share: float = 0.0      # conversations longer than MAX_TABLE_TURNS (their later turns share its row)

    @property
    def representatives(self) -> int:
        return len(self.prompts[0])

    @cached_property
    def mean_turns(self) -> float:
        return sum(r for r, _ in self.reach)

    @cached_property
    def conversation_prompt_tokens(self) -> float:
        """Prompt tokens of the mean conversation (all its turns)."""
        return sum(r * sum(p) / len(p) for (r, _), p in zip(self.reach, self.prompts))

    @cached_property
    def mean_prompt_tokens(self) -> float:
        return self.conversation_prompt_tokens / self.mean_turns

    @cached_property
    def block_power_sums(self) -> tuple[list[float], list[float], list[float]]:
        """([Σ P(N>j) E m_j^r], [Σ P(N=j) E m_j^r], [Σ P(N>j) E (m_j - n_j)^r]) for r = 0..3.

        Blocks idle between turns, blocks left after the last turn, and dead blocks a follow-up
        leaves behind; r = 0 counts conversations that hold any block.
        """
        idle, done, dead = [0.0] * 4, [0.0] * 4, [0.0] * 4
        k = self.representatives
        if k > 1:
            return self._power_sums_of_many()
        for (reach, more), ms, ns in zip(self.reach, self.touched, self.reused):
            last = reach - more
            for m, n in zip(ms, ns):
                if m > 0:
                    m2 = m * m
                    if more:
                        idle[0] += more
                        idle[1] += more * m
                        idle[2] += more * m2
                        idle[3] += more * m2 * m
                    if last:
                        done[0] += last
                        done[1] += last * m
                        done[2] += last * m2
                        done[3] += last * m2 * m
                d = m - n
                if d > 0 and more:
                    d2 = d * d
                    dead[0] += more
                    dead[1] += more * d
                    dead[2] += more * d2
                    dead[3] += more * d2 * d
        return [x / k for x in idle], [x / k for x in done], [x / k for x in dead]

    def _power_sums_of_many(self) -> tuple[list[float], list[float], list[float]]:
        """block_power_sums over many representatives: per turn, the sums of their powers at once."""
        idle, done, dead = [0.0] * 4, [0.0] * 4, [0.0] * 4
        k = self.representatives
        for (reach, more), ms, ns in zip(self.reach, self.touched, self.reused):
            last = reach - more
            m2 = list(map(mul, ms, ms))
            powers = (k - ms.count(0), sum(ms), sum(m2), sum(map(mul, m2, ms)))
            for r, x in enumerate(powers):
                idle[r] += more * x
                done[r] += last * x
            if more:
                ds = list(map(sub, ms, ns))
                d2 = list(map(mul, ds, ds))
                for r, x in enumerate((k - ds.count(0), sum(ds), sum(d2), sum(map(mul, d2, ds)))):
                    dead[r] += more * x
        return [x / k for x in idle], [x / k for x in done], [x / k for x in dead]

    @cached_property
    def mark_sums(self) -> tuple[tuple[tuple[int, ...], tuple[list[float], ...]], ...]:
        """For idle, finished and dead blocks: the block counts in order and the running sums of weight,
        weight x m, x m^2, x m^3 over them (weights as in block_power_sums, turns without blocks too):
        the sums over the counts below any threshold by bisection."""
        k = self.representatives
        weights: tuple[dict, dict, dict] = ({}, {}, {})
        idle, done, dead = weights
        for (reach, more), ms, ns in zip(self.reach, self.touched, self.reused):
            last = (reach - more) / k
            more /= k
            counts = Counter(ms)
            if more:
                for m, c in counts.items():
                    idle[m] = idle.get(m, 0.0) + more * c
                for d, c in Counter(map(sub, ms, ns)).items():
                    if d > 0:
                        dead[d] = dead.get(d, 0.0) + more * c
            if last:
                for m, c in counts.items():
                    done[m] = done.get(m, 0.0) + last * c
        out = []
        for table in weights:
            values = sorted(table)
            sums: tuple[list[float], ...] = ([0.0], [0.0], [0.0], [0.0])
            for m in values:
                w = table[m]
                sums[0].append(sums[0][-1] + w)
                sums[1].append(sums[1][-1] + w * m)
                sums[2].append(sums[2][-1] + w * m * m)
                sums[3].append(sums[3][-1] + w * m * m * m)
            out.append((tuple(values), sums))
        return tuple(out)

    @cached_property
    def largest_mark(self) -> int:
        """The most blocks one conversation holds at any turn."""
        return max((max(ms) for ms in self.touched), default=0)

    @cached_property
    def follow_ups(self) -> list[tuple[float, int]]:
        """(weight, n) of every follow-up: P(N > j) / K for each representative's history n_j."""
        k = self.representatives
        out = []
        for (_, more), ns in zip(self.reach, self.reused):
            if more > 0.0:
                out.extend((more / k, n) for n in ns)
        return out

    @cached_property
    def history_blocks(self) -> float:
        """Σ P(N > j) E[n_j]: every history block a follow-up could find."""
        return sum(w * n for w, n in self.follow_ups)

    @cached_property
    def follow_up_weight(self) -> float:
        """E[N - 1]."""
        return sum(more for _, more in self.reach)

    @cached_property
    def request_prompts(self) -> tuple[tuple[float, float, float], ...]:
        """(share of the class's requests, prompt tokens, history tokens it could reuse) in at most
        LATENCY_GROUPS groups per turn (the means of representatives of similar prompts)."""
        out = []
        mean_turns = self.mean_turns
        for j, ((reach, _), ps) in enumerate(zip(self.reach, self.prompts)):
            if reach <= 1e-12:
                continue
            hist = self.reused[j - 1] if j else (0,) * len(ps)
            rows = sorted(zip(ps, hist))
            size = max(1, math.ceil(len(rows) / LATENCY_GROUPS))
            for a in range(0, len(rows), size):
                chunk = rows[a:a + size]
                share = reach / mean_turns * len(chunk) / len(rows)
                out.append((share, sum(p for p, _ in chunk) / len(chunk),
                            self.block_size * sum(h for _, h in chunk) / len(chunk)))
        return tuple(out)

    @cached_property
    def longest_blocks(self) -> int:
        """Blocks the longest conversation of noticeable weight (P(N >= j) > 1e-3) holds."""
        best = 0
        for (reach, _), ms in zip(self.reach, self.touched):
            if reach > 1e-3:
                best = max(best, max(ms))
        return best + self.shared_blocks

    def turns_holding(self, share: float = 0.99) -> int:
        """Turn index j* such that turns up to j* hold `share` of the blocks conversations keep idle."""
        weights = [r * max(sum(ms) / len(ms), 1.0) for (r, _), ms in zip(self.reach, self.touched)]
        total = sum(weights)
        acc = 0.0
        for j, w in enumerate(weights, start=1):
            acc += w
            if acc >= share * total:
                return j
        return len(weights)


_PERMUTATIONS: dict[int, tuple[random.Random, list[int], list[tuple[int, ...]]]] = {}


def _permutations(k: int, count: int) -> list[tuple[int, ...]]:
    """At least `count` seeded permutations of range(k): the pairing of strata across variables. The
    i-th is the i-th draw of one generator per k, however the pool grew, so the model is a function
    of the scenario alone (drawn once per process, extended as needed)."""
    rng, base, pool = _PERMUTATIONS.setdefault(k, (random.Random(20261201 + k), list(range(k)), []))
    while len(pool) < count:
        rng.shuffle(base)
        pool.append(tuple(base))
    return pool


@lru_cache(maxsize=512)
def _strata(d: Dist, k: int) -> tuple[float, ...]:
    return d.strata(k)


def _kinds(follow_ups: tuple[tuple[str, float], ...], k: int) -> tuple[str, ...]:
    """The follow-up kind of each stratum of k, in proportion to the probabilities."""
    out, acc = [], 0.0
    bounds = []
    for kind, p in follow_ups:
        acc += p
        bounds.append((acc, kind))
    for i in range(k):
        u = (i + 0.5) / k
        out.append(next((kind for b, kind in bounds if u < b), follow_ups[-1][0]))
    return tuple(out)


def class_table(cls: TrafficClass, prefix_tokens: int, block_size: int, admission: str = ENGINE,
                context_limit: int | None = None) -> ClassTable:
    """The representative conversations of a class behind `prefix_tokens` shared tokens, ending before
    a turn whose prompt exceeds `context_limit` (cached on what they depend on: the points of a sweep
    over rates, think times or capacity share them)."""
    return _table(cls.turns, cls.context, cls.user, cls.output, cls.follow_ups, prefix_tokens, block_size, admission,
                  context_limit)


# A panel of three classes builds about 75 tables (every sweep point of a token, turn or think law);
# 128 let an edit of a prompt size push out the tables the next panel needs (+70% on its time), 512 do
# not, and hold no measurable memory.
@lru_cache(maxsize=512)
def _table(turn_law: Dist, context_law: Dist, user_law: Dist, output_law: Dist,
           follow_ups: tuple[tuple[str, float], ...], prefix_tokens: int, block_size: int, admission: str,
           context_limit: int | None = None) -> ClassTable:
    cls = TrafficClass("", 1.0, (), turn_law, Fixed(0.0), context_law, user_law, output_law, follow_ups)
    # rows counted before they are built: a long turn law's table usually ends at the context limit
    turns = reach_rows(turn_law)
    if not cls.deterministic:
        # many representatives: the turns past a millionth of the conversations end there instead
        turns = reach_rows(turn_law, MANY_TAIL)
    # a longer law's turns past MAX_TABLE_TURNS share the last row (computed one turn further, for its reuse)
    lumped = turns > MAX_TABLE_TURNS
    law_turns, turns = turns, min(turns, MAX_TABLE_TURNS + 1)
    b = block_size
    shared = prefix_tokens // b
    rows = min(turns, MAX_TABLE_TURNS)
    k = 1 if cls.deterministic else max(MIN_REPRESENTATIVES, min(MAX_REPRESENTATIVES, PATH_BUDGET // rows))
    contexts = _strata(cls.context, k)
    users = _strata(cls.user, k)
    outputs = _strata(cls.output, k)
    kinds = _kinds(cls.follow_ups, k)
    # drawn as the turns need them: a conversation the context limit ends early needs few
    perms = _permutations(k, min(1 + 3 * turns, 4 + 3 * PERMUTATION_CHUNK)) if k > 1 else None
    trace = admission == TRACE_REPLAY
    refused = 0.0
    prompts_t, touched_t, reused_t = [], [], []
    identity = range(k)
    context = [contexts[x] for x in (perms[0] if perms else [0] * k)]
    prompt = user_prev = out_prev = full_prev = None
    for j in range(turns):
        if perms is not None and len(perms) < 4 + 3 * j:
            _permutations(k, min(1 + 3 * turns, 4 + 3 * (j + PERMUTATION_CHUNK)))  # extends perms in place
        pu = perms[1 + 3 * j] if perms else [0] * k
        po = perms[2 + 3 * j] if perms else [0] * k
        user = [max(1.0, users[x]) for x in pu]
        out = [outputs[x] for x in po]
        if j == 0:
            prompt = [prefix_tokens + c + u for c, u in zip(context, user)]
        else:
            pk = perms[3 + 3 * j] if perms else [0] * k
            kept = [prompt[i] + out_prev[i] if kinds[pk[i]] == "continue" else
                    prompt[i] if kinds[pk[i]] == "resend" else prompt[i] - user_prev[i] for i in identity]
            prompt = [c + u for c, u in zip(kept, user)]
            if context_limit is not None and sum(prompt) > context_limit * k:
                # The engine refuses a prompt longer than its max_model_len, so the conversation cannot
                # go on: it ends at turn j. This is also what bounds the table of a growing conversation
                # (about max_model_len / tokens per turn rows, whatever the mean turn count). With varying
                # tokens the representatives end together, when their mean prompt passes the limit.
                refused = reach_probabilities(turn_law, j + 1)[j][0]
                break
            if trace:
                limits = [int(p // b) for p in prompt]
            else:
                limits = [int((p - 1) // b) for p in prompt]
            reused_t.append(tuple(max(0, min(int(c // b), f, lim) - shared)
                                  for c, f, lim in zip(kept, full_prev, limits)))
        if trace:
            full_prev = [int(p // b) for p in prompt]
            touched = tuple(max(0, math.ceil(p / b) - shared) for p in prompt)
        else:
            full_prev = [int((p + o) // b) for p, o in zip(prompt, out)]
            touched = tuple(max(0, f - shared) for f in full_prev)
        user_prev, out_prev = user, out
        prompts_t.append(tuple(prompt))
        touched_t.append(touched)
    lumped = lumped and len(prompts_t) > MAX_TABLE_TURNS
    beyond = 0.0
    if lumped:
        # Turns MAX_TABLE_TURNS and later all take that turn's row: their weights are summed into it,
        # so turn and request counts stay exact and every later turn looks like that one. That is
        # exact for conversations that stop growing (branching ones, the only ones the context limit
        # does not end first) and understates the size of growing ones (no model, so no limit).
        prompts_t.pop()
        touched_t.pop()
        beyond = reach_probabilities(turn_law, MAX_TABLE_TURNS + 1)[MAX_TABLE_TURNS][0]
        reach = reach_probabilities(turn_law, MAX_TABLE_TURNS)
        reach[-1] = _tail_sums(turn_law, MAX_TABLE_TURNS, law_turns)
    else:
        reused_t.append((0,) * k)  # the last possible turn has no follow-up
        reach = reach_probabilities(turn_law, len(prompts_t))
        if len(reach) < reach_rows(turn_law):
            reach[-1] = (reach[-1][0], 0.0)  # the turns cut off (by the context or MANY_TAIL) end at this one
    return ClassTable(tuple(reach), shared, tuple(prompts_t), tuple(touched_t), tuple(reused_t), b, refused, beyond)


def _tail_sums(turn_law: Dist, first: int, rows: int) -> tuple[float, float]:
    """(Σ P(N >= j), Σ P(N > j)) over the turns j = first .. rows of the law's table (the last ends)."""
    if isinstance(turn_law, Geometric):
        q = turn_law.q
        reach = q ** (first - 1) * (1.0 - q ** (rows - first + 1)) / (1.0 - q)
        return reach, q * reach - q ** rows
    tail = reach_probabilities(turn_law, rows)[first - 1:]
    return sum(r for r, _ in tail), sum(m for _, m in tail[:-1])
