"""Synthetic traces of a scenario's traffic, in the formats the trace readers read.

The records come from traffic.generate, the simulator's own generator, so replaying a generated
trace and simulating the scenario (with trace_replay admission, as a trace names prompts only) is
the same traffic, block for block.
"""

from __future__ import annotations

import json
from typing import Iterable

from .generate import TrafficGenerator
from .resolved import build_traffic
from .turns import TRACE_REPLAY

FORMATS = ("mooncake", "bailian", "aiperf")


def synthetic_trace(scenario, duration_s: float, seed: int = 1, fmt: str = "mooncake",
                    warmup_s: float | None = None) -> list[dict]:
    """Records of the scenario's requests in a window of `duration_s` seconds, as a real trace is: the
    traffic runs `warmup_s` before the window opens (default: none, every conversation starts in the
    window and runs to its end), and the window cuts what runs past it.

    mooncake: timestamp (ms), lengths, prefix-chained hash_ids of the prompt; bailian: also chat_id,
    parent_chat_id, turn and type, timestamps in seconds; aiperf: multi-turn sessions (session_id,
    delay in ms, each turn's new input only), which can only say that a turn continues the one before.
    """
    from ..scenario import Scenario, parse_scenario

    s = scenario if isinstance(scenario, Scenario) else parse_scenario(scenario)
    if fmt not in FORMATS:
        raise ValueError(f'format: "{fmt}" is not allowed; expected one of ' + ", ".join(f'"{f}"' for f in FORMATS))
    if fmt == "aiperf" and any(c.follow_ups != (("continue", 1.0),) for c in s.traffic.classes):
        raise ValueError("format: an AIPerf session continues each turn; a class that resends or branches "
                         "cannot be written as one (use mooncake or bailian)")
    traffic = build_traffic(s.traffic, s.cache.block_size, TRACE_REPLAY)
    if warmup_s is None:
        generator = TrafficGenerator(traffic, s.traffic.arrival_rate, seed, with_ids=True, arrivals_until=duration_s)
        start = 0.0
    else:
        start = warmup_s
        generator = TrafficGenerator(traffic, s.traffic.arrival_rate, seed, end=warmup_s + duration_s, with_ids=True)
    out = []
    fresh = iter(range(1 << 50, 1 << 60))

    def next_id() -> int:
        return next(fresh)

    last: dict = {}   # conversation -> (request id, time, prompt tokens, output tokens)
    number = 0
    for r in generator:
        if r.time < start:
            continue
        r.time -= start
        number += 1
        if fmt == "mooncake":
            rec = {"timestamp": round(r.time * 1000.0, 3), "input_length": r.prompt,
                   "output_length": r.output, "hash_ids": r.ids}
        elif fmt == "bailian":
            parent = last.get(r.conv)
            rec = {"chat_id": number, "parent_chat_id": parent[0] if parent else -1,
                   "timestamp": round(r.time, 6), "input_length": r.prompt, "output_length": r.output,
                   "type": "text", "turn": r.turn, "hash_ids": r.ids}
        else:
            parent = last.get(r.conv)
            rec = {"session_id": f"s{r.conv}", "output_length": r.output}
            if parent is None:
                rec.update(timestamp=round(r.time * 1000.0, 3), input_length=r.prompt, hash_ids=r.ids)
            else:
                new = r.prompt - parent[2] - parent[3]
                # the new input's own blocks (AIPerf rebuilds the prompt from the turns; these only name them)
                rec.update(delay=round((r.time - parent[1]) * 1000.0, 3), input_length=new,
                           hash_ids=[next_id() for _ in range(-(-new // traffic.block_size))])
        last[r.conv] = (number, r.time, r.prompt, r.output)
        out.append(rec)
    if fmt != "aiperf":
        out.sort(key=lambda rec: rec["timestamp"])
    return out


def write_jsonl(records: Iterable[dict], path: str) -> None:
    """One JSON object per line."""
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
