"""Fit a scenario workload to a trace with conversation structure, and generate such traces.

Turns are linked by Bailian's chat_id/parent_chat_id, or, for prefix-chained ids without them
(Mooncake), by prefixes: a request whose prompt starts with every full block of an earlier prompt
that goes past the shared system prompt is that conversation's next turn (each prompt has at most
one next turn). The shared system prompt is the longest run of leading blocks that more than half
of the requests share.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Iterable

from .scenario import parse_scenario
from .trace import Request, TraceFile, no_usable_lines, run_in_time_order

SHARED_PREFIX_MAX_BLOCKS = 4096   # how deep the shared-prefix count looks


def shared_prefix_blocks(requests: Iterable[Request]) -> tuple[int, int]:
    """(leading blocks shared by more than half of the requests, requests seen)."""
    counts: list[dict] = []
    n = 0
    for r in requests:
        n += 1
        head = r.blocks[:SHARED_PREFIX_MAX_BLOCKS]
        while len(counts) < len(head):
            counts.append({})
        for c, x in zip(counts, head):
            c[x] = c.get(x, 0) + 1
    s = 0
    while s < len(counts) and max(counts[s].values()) * 2 > n:
        s += 1
    return s, n


@dataclass
class TurnStats:
    """Sums gathered while linking turns into conversations."""

    block_size: int
    shared_blocks: int
    conversations: int = 0
    requests: int = 0
    first_start: float = math.inf
    last_start: float = -math.inf
    first_tokens: int = 0
    follow_ups: int = 0
    follow_up_new_tokens: int = 0
    gap_s: float = 0.0
    output_tokens: int = 0
    open: dict = field(default_factory=dict)   # link key -> (time, input_length, output_length)

    def add(self, r: Request, parent: tuple | None) -> None:
        self.requests += 1
        self.output_tokens += r.output_length
        if parent is None:
            self.conversations += 1
            self.first_start = min(self.first_start, r.time_s)
            self.last_start = max(self.last_start, r.time_s)
            self.first_tokens += r.input_length
            return
        t, n_in, n_out = parent
        self.follow_ups += 1
        self.gap_s += max(0.0, r.time_s - t)
        self.follow_up_new_tokens += max(0, r.input_length - n_in - n_out)


def _link_by_prefix(requests: Iterable[Request], stats: TurnStats) -> None:
    s, b, open_ = stats.shared_blocks, stats.block_size, stats.open
    for r in requests:
        blocks = r.blocks
        parent = None
        for j in range(len(blocks), s, -1):
            parent = open_.pop(blocks[j - 1], None)
            if parent is not None:
                break
        stats.add(r, parent)
        full = min(len(blocks), r.input_length // b)
        if full > s:
            open_[blocks[full - 1]] = (r.time_s, r.input_length, r.output_length)


def _link_by_chat_id(requests: Iterable[Request], stats: TurnStats) -> None:
    open_ = stats.open
    for r in requests:
        parent = open_.pop(r.parent_chat_id, None) if r.parent_chat_id is not None else None
        stats.add(r, parent)
        open_[r.chat_id] = (r.time_s, r.input_length, r.output_length)


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def workload_from(stats: TurnStats) -> dict:
    """The scenario workload the sums imply."""
    b, s = stats.block_size, stats.shared_blocks
    convs = stats.conversations
    if convs == 0:
        raise ValueError("trace: no conversation found")
    span = stats.last_start - stats.first_start
    rate = (convs - 1) / span if convs > 1 and span > 0 else float(convs)
    mean_first = stats.first_tokens / convs
    if stats.follow_ups:
        user = stats.follow_up_new_tokens / stats.follow_ups
        system = min(max(mean_first - user, s * b), (s + 1) * b - 1)
    else:
        system = s * b
        user = mean_first - system
    think = stats.gap_s / stats.follow_ups if stats.follow_ups else 0.0
    return {
        "arrival_rate": _sig(rate), "turns_mean": _sig(max(1.0, stats.requests / convs)),
        "turns_dist": "geometric", "think_time_s": _sig(think), "think_dist": "exponential",
        "user_tokens": max(1, round(user)), "output_tokens": round(stats.output_tokens / stats.requests),
        "system_prompt_tokens": round(system),
    }


def fit_details(path: str, block_size: int | None = None, fmt: str | None = None,
                capacity_tokens: int | None = None) -> dict:
    """The fitted scenario plus what the fit saw (conversations, linked turns, shared blocks)."""
    source = TraceFile(str(path), fmt, block_size)
    s, n = shared_prefix_blocks(source.requests())
    if n == 0:
        raise no_usable_lines(source)
    stats = TurnStats(source.block_size, s)
    link = _link_by_chat_id if source.fmt == "bailian" else _link_by_prefix
    run_in_time_order(source, lambda reqs: link(reqs, _reset(stats)))
    cache: dict = {"block_size": source.block_size}
    if capacity_tokens is not None:
        cache["capacity_tokens"] = capacity_tokens
    scenario = {"version": 1, "cache": cache, "workload": workload_from(stats)}
    parse_scenario(scenario)   # the fit must be a valid scenario; raises naming the field if not
    return {"scenario": scenario, "requests": stats.requests, "conversations": stats.conversations,
            "follow_ups": stats.follow_ups, "shared_blocks": s, "format": source.fmt,
            "skipped": source.skipped.as_dict()}


def _reset(stats: TurnStats) -> TurnStats:
    fresh = TurnStats(stats.block_size, stats.shared_blocks)
    stats.__dict__.update(fresh.__dict__)
    return stats


def fit(path: str, block_size: int | None = None, fmt: str | None = None,
        capacity_tokens: int | None = None) -> dict:
    """A scenario JSON (version 1) whose workload matches the trace's conversations."""
    return fit_details(path, block_size, fmt, capacity_tokens)["scenario"]


def synthetic_trace(arrival_rate: float, turns_mean: float, think_time_s: float, user_tokens: int,
                    output_tokens: int, system_prompt_tokens: int, duration_s: float,
                    block_size: int = 512, seed: int = 1) -> list[dict]:
    """Mooncake-format records of the scenario workload: Poisson conversations started in
    [0, duration_s), geometric turns, exponential think times, each conversation run to its end.

    Full blocks get prefix-chained ids (the system prompt's are shared); a prompt's partial last
    block gets a fresh id, as its content changes when the conversation grows.
    """
    rng = random.Random(seed)
    ids = iter(range(1 << 62))
    system = [next(ids) for _ in range(system_prompt_tokens // block_size)]
    q = 1.0 - 1.0 / turns_mean
    records = []
    t = rng.expovariate(arrival_rate)
    while t < duration_s:
        chain = list(system)
        now, length = t, system_prompt_tokens + user_tokens
        while True:
            full = length // block_size
            while len(chain) < full:
                chain.append(next(ids))
            blocks = chain[:full] + ([next(ids)] if length % block_size else [])
            records.append({"timestamp": round(now * 1000.0, 3), "input_length": length,
                            "output_length": output_tokens, "hash_ids": blocks})
            if rng.random() >= q:
                break
            now += rng.expovariate(1.0 / think_time_s) if think_time_s > 0 else 0.0
            length += output_tokens + user_tokens
        t += rng.expovariate(arrival_rate)
    records.sort(key=lambda r: r["timestamp"])
    return records


def write_jsonl(records: Iterable[dict], path: str) -> None:
    """One JSON object per line."""
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")


def fit_table(details: dict) -> str:
    """The fitted workload as a readable table."""
    w = details["scenario"]["workload"]
    lines = [f"{details['requests']:,} requests in {details['conversations']:,} conversations "
             f"({details['follow_ups']:,} follow-up turns linked); shared prefix "
             f"{details['shared_blocks']} block(s) of {details['scenario']['cache']['block_size']} tokens"]
    lines += [f"  {key:<22} {value}" for key, value in w.items()]
    if details["skipped"]["count"]:
        lines.append(f"skipped {details['skipped']['count']} line(s); first: {details['skipped']['messages'][0]}")
    return "\n".join(lines)
