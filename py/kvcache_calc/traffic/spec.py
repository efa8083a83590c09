"""The traffic a scenario describes: shared prefix groups and conversation classes, validated.

A workload without `classes` is one class (the version-1 fields: one system prompt, fixed tokens
per turn, geometric or fixed turns, exponential or fixed think times). With `classes`, each class
has a share of the conversation arrivals, the prefix groups its prompts start with (system prompts,
tool definitions, document catalogs, in order), and its own laws for turns, think time, context,
user and output tokens, and for what a follow-up reuses of the turn before.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .distributions import Dist, Exponential, Fixed, Geometric, dist_from_json

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
MAX_CLASSES = 8
MAX_GROUPS = 16
MAX_PATH = 3
MAX_CATALOG = 10_000_000
FOLLOW_UPS = ("continue", "resend", "branch")
SINGLE_CLASS = "default"
SYSTEM_GROUP = "system"


@dataclass(frozen=True)
class PrefixGroup:
    """A shared prefix: `count` variants of `tokens` tokens each (tenants' system prompts, documents),
    chosen with Zipf popularity: variant i with probability proportional to i^-zipf."""

    name: str
    tokens: int
    count: int = 1
    zipf: float = 1.0

    def to_json(self) -> dict:
        out: dict = {"name": self.name, "tokens": self.tokens}
        if self.count > 1:
            out.update(count=self.count, zipf=self.zipf)
        return out


@dataclass(frozen=True)
class TrafficClass:
    """Conversations of one kind: their share of arrivals, prefix path and laws."""

    name: str
    share: float                       # normalised share of conversation arrivals
    prefix: tuple[str, ...]            # prefix group names, in prompt order
    turns: Dist
    think: Dist                        # seconds from a turn to the next of the same conversation
    context: Dist                      # the conversation's own context at the start of turn 1
    user: Dist                         # new tokens of each turn (user message or tool output)
    output: Dist
    follow_ups: tuple[tuple[str, float], ...] = (("continue", 1.0),)   # (kind, probability)

    @property
    def deterministic(self) -> bool:
        """Every conversation has the same token counts and follow-up kind (only turns and gaps vary)."""
        return all(isinstance(d, Fixed) for d in (self.context, self.user, self.output)) \
            and len(self.follow_ups) == 1

    def to_json(self) -> dict:
        return {"name": self.name, "share": self.share, "prefix": list(self.prefix),
                "turns": _law_json(self.turns), "think_time_s": _law_json(self.think),
                "context_tokens": _law_json(self.context), "user_tokens": _law_json(self.user),
                "output_tokens": _law_json(self.output), "follow_ups": dict(self.follow_ups)}


def _law_json(law: Dist) -> Any:
    """A law's JSON, a fixed value as a bare number (whole when it is)."""
    if isinstance(law, Fixed):
        return int(law.value) if law.value.is_integer() else law.value
    return law.to_json()


@dataclass(frozen=True)
class TrafficSpec:
    """All conversations of a scenario: total arrival rate, prefix groups and classes."""

    arrival_rate: float                # conversations per second over the whole cluster
    groups: tuple[PrefixGroup, ...]
    classes: tuple[TrafficClass, ...]
    single: bool = False               # from the version-1 fields
    # the engine's max_model_len: a turn whose prompt is longer is refused, so the conversation ends
    # before it (None: no model, no limit)
    context_limit: int | None = None

    def group(self, name: str) -> PrefixGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def prefix_tokens(self, c: TrafficClass) -> int:
        return sum(self.group(n).tokens for n in c.prefix)

    def to_json(self) -> dict:
        return {"arrival_rate": self.arrival_rate, "prefixes": [g.to_json() for g in self.groups],
                "classes": [c.to_json() for c in self.classes]}

    def single_fields(self) -> dict:
        """The version-1 workload fields of this traffic; ValueError naming what they cannot say."""
        at = "workload.classes"
        if len(self.classes) != 1:
            raise ValueError(f"{at}: {len(self.classes)} classes; one class is needed")
        c = self.classes[0]
        at = f"{at}.0"
        checks = (
            (isinstance(c.turns, (Geometric, Fixed)), "turns", "a geometric or fixed turn count"),
            (isinstance(c.think, (Exponential, Fixed)), "think_time_s", "an exponential or fixed think time"),
            (isinstance(c.context, Fixed) and c.context.value == 0, "context_tokens", "no own context"),
            (isinstance(c.user, Fixed) and c.user.value.is_integer() and c.user.value >= 1, "user_tokens",
             "a fixed whole number of tokens"),
            (isinstance(c.output, Fixed) and c.output.value.is_integer(), "output_tokens",
             "a fixed whole number of tokens"),
            (c.follow_ups == (("continue", 1.0),), "follow_ups", "every follow-up continuing"),
            (len(c.prefix) <= 1 and all(g.count == 1 for g in self.groups if g.name in c.prefix), "prefix",
             "at most one prefix group, of one variant"))
        for ok, key, needed in checks:
            if not ok:
                raise ValueError(f"{at}.{key}: the one-class form needs {needed}")
        system = sum(g.tokens for g in self.groups if g.name in c.prefix)
        turns = c.turns.value if isinstance(c.turns, Fixed) else c.turns.mean
        think = c.think.value if isinstance(c.think, Fixed) else c.think.mean
        return {"turns_mean": turns, "turns_dist": "fixed" if isinstance(c.turns, Fixed) else "geometric",
                "think_time_s": think, "think_dist": "fixed" if isinstance(c.think, Fixed) else "exponential",
                "user_tokens": int(c.user.value), "output_tokens": int(c.output.value),
                "system_prompt_tokens": system}


def single_class(arrival_rate: float, turns_mean: float, turns_dist: str, think_time_s: float, think_dist: str,
                 user_tokens: int, output_tokens: int, system_prompt_tokens: int) -> TrafficSpec:
    """The version-1 workload as one class."""
    groups = (PrefixGroup(SYSTEM_GROUP, system_prompt_tokens),) if system_prompt_tokens > 0 else ()
    turns = Fixed(float(int(turns_mean))) if turns_dist == "fixed" else Geometric(turns_mean)
    think = Fixed(think_time_s) if think_dist == "fixed" or think_time_s == 0 else Exponential(think_time_s)
    cls = TrafficClass(SINGLE_CLASS, 1.0, tuple(g.name for g in groups), turns, think, Fixed(0.0),
                       Fixed(float(user_tokens)), Fixed(float(output_tokens)))
    return TrafficSpec(arrival_rate, groups, (cls,), single=True)


# --- parsing -----------------------------------------------------------------------------------

def _fail(path: str, value: Any, allowed: str) -> ValueError:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ValueError(f"{path}: {shown} is not allowed; expected {allowed}")


def _name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not re.match(NAME_PATTERN, value):
        raise _fail(path, value, "lower-case letters, digits, - or _, starting with a letter, at most 32 characters")
    return value


def _int(obj: dict, key: str, path: str, low: int, high: int, default: int | None = None) -> int:
    value = obj.get(key, default)
    if value is None:
        raise ValueError(f"{path}.{key}: required")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{path}.{key}", value, f"an integer >= {low} and <= {high}")
    return value


def _float(obj: dict, key: str, path: str, low: float, high: float, low_open: bool = False) -> float:
    value = obj[key]
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
        or (value <= low if low_open else value < low) or value > high
    if bad:
        raise _fail(f"{path}.{key}", value, f"a number {'>' if low_open else '>='} {low:g} and <= {high:g}")
    return float(value)


def _keys(obj: dict, path: str, allowed: tuple[str, ...], what: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValueError(f"{path}.{key}: unknown key; allowed keys in {what}: " + ", ".join(allowed))


GROUP_KEYS = ("name", "tokens", "count", "zipf")
CLASS_KEYS = ("name", "share", "rate", "prefix", "turns", "think_time_s", "context_tokens", "user_tokens",
              "output_tokens", "follow_ups")
CLASS_DEFAULTS = {"turns": {"dist": "geometric", "mean": 5.0},
                  "think_time_s": {"dist": "exponential", "mean": 60.0},
                  "context_tokens": 0, "user_tokens": 200, "output_tokens": 400}
# version-1 workload fields and where each lives in a class
PER_CLASS = {"turns_mean": "turns", "turns_dist": "turns", "think_time_s": "think_time_s",
             "think_dist": "think_time_s", "user_tokens": "user_tokens", "output_tokens": "output_tokens",
             "system_prompt_tokens": "prefix (a group in workload.prefixes)"}
ROLE_OF = {"turns": "turns", "think_time_s": "seconds", "context_tokens": "tokens", "user_tokens": "tokens",
           "output_tokens": "tokens"}


def _groups(raw: Any, path: str) -> tuple[PrefixGroup, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise _fail(path, raw if not isinstance(raw, list) else f"{len(raw)} groups",
                    f"a list of at most {MAX_GROUPS} prefix groups")
    out, names = [], set()
    for i, item in enumerate(raw):
        at = f"{path}.{i}"
        if not isinstance(item, dict):
            raise _fail(at, item, "an object with name, tokens and, for a catalog, count and zipf")
        _keys(item, at, GROUP_KEYS, "a prefix group")
        name = _name(item.get("name"), f"{at}.name")
        if name in names:
            raise _fail(f"{at}.name", name, "a name no other prefix group uses")
        names.add(name)
        tokens = _int(item, "tokens", at, 1, 10_000_000)
        count = _int(item, "count", at, 1, MAX_CATALOG, default=1)
        zipf = _float(item, "zipf", at, 0.0, 5.0) if "zipf" in item else 1.0
        out.append(PrefixGroup(name, tokens, count, zipf))
    return tuple(out)


def _follow_ups(raw: Any, path: str) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return (("continue", 1.0),)
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, raw, 'an object of weights, e.g. {"continue": 0.8, "branch": 0.2}')
    weights = {}
    for key, value in raw.items():
        if key not in FOLLOW_UPS:
            raise ValueError(f"{path}.{key}: unknown key; allowed keys: " + ", ".join(FOLLOW_UPS))
        weights[key] = _float(raw, key, path, 0.0, 1e12)
    total = sum(weights.values())
    if total <= 0:
        raise _fail(path, raw, "weights with a positive sum")
    return tuple((k, weights[k] / total) for k in FOLLOW_UPS if weights.get(k, 0.0) > 0)


def _class(item: Any, at: str, groups: dict[str, PrefixGroup]) -> tuple[dict, TrafficClass]:
    if not isinstance(item, dict):
        raise _fail(at, item, "an object with name, share (or rate), prefix and the class's laws")
    _keys(item, at, CLASS_KEYS, "a class")
    name = _name(item.get("name"), f"{at}.name")
    if "share" in item and "rate" in item:
        raise ValueError(f"{at}.rate: give share or rate, not both")
    weight = {"share": _float(item, "share", at, 0.0, 1e12, low_open=True)} if "share" in item else \
        {"rate": _float(item, "rate", at, 0.0, 1e6, low_open=True)} if "rate" in item else {}
    prefix = item.get("prefix", [])
    if isinstance(prefix, str):
        prefix = [prefix]
    if not isinstance(prefix, list) or len(prefix) > MAX_PATH:
        raise _fail(f"{at}.prefix", prefix, f"a list of at most {MAX_PATH} prefix group names, in prompt order")
    for j, g in enumerate(prefix):
        if not isinstance(g, str) or g not in groups:
            known = ", ".join(f'"{n}"' for n in groups) or "none defined in workload.prefixes"
            raise _fail(f"{at}.prefix.{j}", g, f"the name of a prefix group ({known})")
        if g in prefix[:j]:
            raise _fail(f"{at}.prefix.{j}", g, "a group not already in this class's prefix")
    laws = {key: dist_from_json(item.get(key, CLASS_DEFAULTS[key]), f"{at}.{key}", ROLE_OF[key])
            for key in CLASS_DEFAULTS}
    cls = TrafficClass(name, 1.0, tuple(prefix), laws["turns"], laws["think_time_s"], laws["context_tokens"],
                       laws["user_tokens"], laws["output_tokens"], _follow_ups(item.get("follow_ups"), f"{at}.follow_ups"))
    return weight, cls


def parse_traffic(workload: dict, arrival_rate: float | None, path: str = "workload") -> TrafficSpec:
    """The classes and prefix groups of a workload section (the rest of it already validated)."""
    groups = _groups(workload.get("prefixes"), f"{path}.prefixes")
    by_name = {g.name: g for g in groups}
    raw = workload.get("classes")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CLASSES:
        raise _fail(f"{path}.classes", raw if not isinstance(raw, list) else f"{len(raw)} classes",
                    f"a list of 1 to {MAX_CLASSES} classes")
    parsed, names = [], set()
    for i, item in enumerate(raw):
        weight, cls = _class(item, f"{path}.classes.{i}", by_name)
        if cls.name in names:
            raise _fail(f"{path}.classes.{i}.name", cls.name, "a name no other class uses")
        names.add(cls.name)
        parsed.append((weight, cls))
    by_rate = [("rate" in w) for w, _ in parsed]
    if any(by_rate) and not all(by_rate):
        i = by_rate.index(False) if by_rate[0] else by_rate.index(True)
        raise ValueError(f"{path}.classes.{i}: give every class a share, or every class a rate, not a mix")
    if all(by_rate):
        if arrival_rate is not None:
            raise ValueError(f"{path}.arrival_rate: not allowed when the classes give their own rates "
                             "(the total is their sum)")
        weights = [w["rate"] for w, _ in parsed]
        total_rate = sum(weights)
    else:
        weights = [w.get("share", 1.0) for w, _ in parsed]
        total_rate = 1.0 if arrival_rate is None else arrival_rate
    total = sum(weights)
    classes = tuple(TrafficClass(c.name, w / total, c.prefix, c.turns, c.think, c.context, c.user, c.output,
                                 c.follow_ups) for w, (_, c) in zip(weights, parsed))
    return TrafficSpec(total_rate, groups, classes)
