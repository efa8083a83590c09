"""Request-trace readers: Mooncake/AIPerf JSONL (single requests and multi-turn sessions), Qwen Bailian
JSONL and a minimal CSV, plain or .gz.

Each reader streams its file line by line and yields `Request`s in file order; a malformed line
is recorded in `Skipped` (with its line number) and left out. Block ids come out prefix-chained:
equal ids mean an equal prefix up to that block (Bailian's per-block ids are re-keyed into such a
chain, as vLLM chains its block hashes).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

FORMATS = ("mooncake", "bailian", "csv")
DEFAULT_BLOCK_SIZE = {"mooncake": 512, "bailian": 16, "csv": 512}
CSV_COLUMNS = ("timestamp_s", "input_length", "output_length", "hash_ids")
MAX_MESSAGES = 20


@dataclass(slots=True)
class Request:
    """One prompt of a trace; `blocks` are its prefix-chained block ids, head first."""

    time_s: float
    input_length: int
    output_length: int
    blocks: list
    line: int
    chat_id: int | None = None
    parent_chat_id: int | None = None
    turn: int | None = None
    session: object = None       # AIPerf multi-turn: the session the request is a turn of


@dataclass
class Skipped:
    """Lines left out: a count and the first MAX_MESSAGES messages."""

    count: int = 0
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    def as_dict(self) -> dict:
        return {"count": self.count, "messages": list(self.messages)}


class BadLine(ValueError):
    """A line the reader cannot use; the message names the field, the value and what is allowed."""


def file_name(path: str) -> str:
    """The name messages give a trace: its file name, not the directory it was read from (in the
    page's worker that is the mount point, which the user never chose)."""
    return os.path.basename(str(path)) or str(path)


def given_name(name: object) -> str | None:
    """A caller's name for the trace when it gives a usable one (only shown, never opened)."""
    return name[:200] if isinstance(name, str) and name.strip() else None


def _reason(exc: BaseException) -> str:
    """Why a read failed, without the path an OSError's text carries."""
    if isinstance(exc, OSError):
        return exc.strerror or (str(exc.args[0]) if exc.args else type(exc).__name__)
    return str(exc)


def open_text(path: str, name: str | None = None) -> io.TextIOBase:
    """The file as text, decompressing `.gz`; a ValueError names the file (`name`, else its file name)
    when it cannot be opened."""
    try:
        if str(path).endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise ValueError(f"trace: cannot read {name or file_name(path)!r}: {_reason(exc)}") from None


def detect_format(path: str, name: str | None = None) -> str:
    """'csv' by file name, else 'bailian' when the first JSON object has chat_id, else 'mooncake'."""
    lowered = str(path).lower().removesuffix(".gz")
    if lowered.endswith(".csv"):
        return "csv"
    with open_text(path, name) as f:
        try:
            for _, line in zip(range(50), f):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    return "bailian" if "chat_id" in obj else "mooncake"
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"trace: cannot read {name or file_name(path)!r}: {_reason(exc)}") from None
    return "mooncake"


def _int(obj: dict, key: str, minimum: int = 0) -> int:
    if key not in obj:
        raise BadLine(f"{key}: missing; expected an integer >= {minimum}")
    value = obj[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadLine(f"{key}: {value!r} is not allowed; expected an integer >= {minimum}")
    return value


def _time(obj: dict, key: str = "timestamp") -> float:
    if key not in obj:
        raise BadLine(f"{key}: missing; expected a number >= 0")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise BadLine(f"{key}: {value!r} is not allowed; expected a number >= 0")
    return float(value)


def _ids(value: Any, key: str = "hash_ids") -> list:
    if not isinstance(value, list) or not value \
            or not all(type(x) is int for x in value) or min(value) < 0:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise BadLine(f"{key}: {shown} is not allowed; expected a non-empty list of integers >= 0")
    return value


def _object(line: str) -> dict:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise BadLine(f"{type(obj).__name__} is not allowed; expected a JSON object")
    return obj


class FormatMismatch(ValueError):
    """A line in another trace format than the file's: an error, not a skipped line."""


FRESH_IDS = 1 << 48   # ids the readers make up (per-session blocks) start here, above any file's


class MooncakeSessions:
    """Mooncake/AIPerf lines: one request each, or, with `session_id`, the turns of a multi-turn session.

    A session's first line needs `timestamp` (ms); later lines give `delay` (ms after the turn before,
    whose response time the trace does not hold) or their own `timestamp`. AIPerf replays a session
    by sending each turn's history, the live responses and the new input (`input_length` and
    `hash_ids` describe only the new part), so turn k's prompt is every earlier input and output plus
    its own input. Its blocks: the first turn's own ids where they are whole blocks (shared prefixes
    keep their ids across sessions), the blocks of the turn before where this prompt repeats them
    whole, and new ids from there on.
    """

    def __init__(self) -> None:
        self.sessions: dict = {}     # session id -> (time s, prompt tokens, output tokens, block ids)
        self.turns: dict = {}
        self.fresh = FRESH_IDS

    def parse(self, obj: dict, number: int) -> Request:
        if "chat_id" in obj:
            raise FormatMismatch(f"line {number}: has chat_id (Qwen Bailian format) in a Mooncake/AIPerf "
                                 "trace; a trace holds one format")
        session = obj.get("session_id")
        if session is None:
            if "delay" in obj:
                raise BadLine("delay: only allowed with session_id (a turn of a multi-turn session)")
            return Request(_time(obj) / 1000.0, _int(obj, "input_length", 1), _int(obj, "output_length"),
                           _ids(obj.get("hash_ids")), number)
        if not isinstance(session, (str, int)) or isinstance(session, bool):
            raise BadLine(f"session_id: {session!r} is not allowed; expected a string or an integer")
        new_tokens = _int(obj, "input_length", 1)
        output = _int(obj, "output_length")
        ids = _ids(obj.get("hash_ids")) if "hash_ids" in obj else None
        before = self.sessions.get(session)
        if before is None:
            if "timestamp" not in obj:
                raise BadLine(f"timestamp: missing on the first turn of session {session!r}; expected ms >= 0")
            time_s = _time(obj) / 1000.0
            prompt = new_tokens
            full = prompt // self.block_size
            if ids is None:
                raise BadLine("hash_ids: missing on the first turn of a session; expected a non-empty list")
            blocks = list(ids[:full])
            blocks += [self._fresh() for _ in range(-(-prompt // self.block_size) - len(blocks))]
        else:
            last_time, last_prompt, last_output, last_blocks = before
            if "timestamp" in obj:
                time_s = _time(obj) / 1000.0
            else:
                time_s = last_time + _delay(obj) / 1000.0
            prompt = last_prompt + last_output + new_tokens
            kept = last_prompt // self.block_size   # the turn before's whole blocks repeat
            blocks = last_blocks[:kept] + [self._fresh() for _ in range(-(-prompt // self.block_size) - kept)]
        self.sessions[session] = (time_s, prompt, output, blocks)
        self.turns[session] = turn = self.turns.get(session, 0) + 1
        return Request(time_s, prompt, output, blocks, number, turn=turn, session=session)

    block_size = 512

    def _fresh(self) -> int:
        self.fresh += 1
        return self.fresh


def _delay(obj: dict) -> float:
    value = obj.get("delay")
    if value is None:
        raise BadLine("delay: missing on a later turn of a session (or give its timestamp); expected ms >= 0")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadLine(f"delay: {value!r} is not allowed; expected a number of ms >= 0")
    return float(value)


class BailianChain:
    """Re-keys Bailian's per-block ids into chained ids: a block's id depends on the whole prefix."""

    def __init__(self) -> None:
        self.ids: dict = {}   # (parent id, block hash) -> id; packed in one int, a third of a tuple's memory

    def rekey(self, hashes: list) -> list:
        ids, out, parent = self.ids, [], -1
        for h in hashes:
            key = parent << 64 | h if h < 1 << 64 else (parent, h)
            parent = ids.get(key, -1)
            if parent < 0:
                parent = ids[key] = len(ids)
            out.append(parent)
        return out


def _bailian(chain: BailianChain) -> Callable[[dict, int], Request]:
    def parse(obj: dict, number: int) -> Request:
        if "chat_id" not in obj and ("hash_ids" in obj or "session_id" in obj):
            raise FormatMismatch(f"line {number}: has no chat_id (Mooncake/AIPerf format) in a Qwen Bailian "
                                 "trace; a trace holds one format")
        chat, parent = _int(obj, "chat_id"), _int(obj, "parent_chat_id", -1)
        turn = _int(obj, "turn", 1)
        t, n_in, n_out = _time(obj), _int(obj, "input_length", 1), _int(obj, "output_length")
        return Request(t, n_in, n_out, chain.rekey(_ids(obj.get("hash_ids"))), number, chat,
                       None if parent < 0 else parent, turn)
    return parse


def _jsonl(f: Iterable[str], parse: Callable[[dict, int], Request], skipped: Skipped) -> Iterator[Request]:
    for number, line in enumerate(f, start=1):
        if not line.strip():
            continue
        try:
            yield parse(_object(line), number)
        except BadLine as exc:
            skipped.add(f"line {number}: {exc}")


def _csv(f: Iterable[str], skipped: Skipped) -> Iterator[Request]:
    rows = csv.reader(f)
    header = next(rows, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    if tuple(names) != CSV_COLUMNS:
        raise ValueError(f"trace: line 1: header {','.join(names)!r} is not allowed; expected "
                         f"{','.join(CSV_COLUMNS)!r}")
    for row in rows:
        number = rows.line_num
        if not row or not any(c.strip() for c in row):
            continue
        try:
            if len(row) != len(CSV_COLUMNS):
                raise BadLine(f"{len(row)} columns are not allowed; expected {len(CSV_COLUMNS)} "
                              f"({','.join(CSV_COLUMNS)})")
            obj: dict[str, Any] = {}
            for key, text in zip(CSV_COLUMNS[:3], row):
                try:
                    obj[key] = json.loads(text)
                except ValueError:
                    raise BadLine(f"{key}: {text!r} is not allowed; expected a number >= 0") from None
            try:
                obj["hash_ids"] = [int(x) for x in row[3].split()]
            except ValueError:
                raise BadLine(f"hash_ids: {row[3]!r} is not allowed; expected integers >= 0 "
                              "separated by spaces") from None
            yield Request(_time(obj, "timestamp_s"), _int(obj, "input_length", 1),
                          _int(obj, "output_length"), _ids(obj["hash_ids"]), number)
        except BadLine as exc:
            skipped.add(f"line {number}: {exc}")


@dataclass
class TraceFile:
    """A trace on disk; every `requests()` call streams it again and refills `skipped`."""

    path: str
    fmt: str | None = None
    block_size: int | None = None
    skipped: Skipped = field(default_factory=Skipped)
    name: str | None = None          # what messages call it (the user's file name); default: the path's

    def __post_init__(self) -> None:
        if self.name is None:
            self.name = file_name(self.path)
        if self.fmt is None:
            self.fmt = detect_format(self.path, self.name)
        if self.fmt not in FORMATS:
            raise ValueError(f'format: "{self.fmt}" is not allowed; expected one of '
                             + ", ".join(f'"{f}"' for f in FORMATS))
        if self.block_size is None:
            self.block_size = infer_block_size(self.path, DEFAULT_BLOCK_SIZE[self.fmt], name=self.name) \
                if self.fmt != "csv" else DEFAULT_BLOCK_SIZE[self.fmt]
        if isinstance(self.block_size, bool) or not isinstance(self.block_size, int) \
                or not 1 <= self.block_size <= 1 << 20:
            raise ValueError(f"block_size: {self.block_size!r} is not allowed; "
                             "expected an integer >= 1 and <= 1048576")

    def requests(self) -> Iterator[Request]:
        """The usable requests in file order."""
        self.skipped = Skipped()
        with open_text(self.path, self.name) as f:
            try:
                if self.fmt == "csv":
                    yield from _csv(f, self.skipped)
                else:
                    if self.fmt == "bailian":
                        parse = _bailian(BailianChain())
                    else:
                        sessions = MooncakeSessions()
                        sessions.block_size = self.block_size
                        parse = sessions.parse
                    yield from _jsonl(f, parse, self.skipped)
            except FormatMismatch as exc:
                raise ValueError(f"trace: {exc}") from None
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise ValueError(f"trace: cannot read {self.name!r}: {_reason(exc)}") from None


def infer_block_size(path: str, default: int, lines: int = 2000, name: str | None = None) -> int:
    """The block size the ids were made with, from the first lines: a prompt of n ids holds more than
    (n - 1) b and at most n b tokens. The format's default when it fits (or nothing can be told),
    else the largest power of two that fits, else the smallest size that does."""
    lo, hi = 1, 1 << 20
    with open_text(path, name) as f:
        try:
            for _, line in zip(range(lines), f):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(obj, dict):
                    continue
                ids, tokens = obj.get("hash_ids"), obj.get("input_length")
                if not isinstance(ids, list) or not ids or isinstance(tokens, bool) or not isinstance(tokens, int) \
                        or tokens < 1:
                    continue
                n = len(ids)
                lo = max(lo, -(-tokens // n))
                if n > 1:
                    hi = min(hi, (tokens - 1) // (n - 1))
        except (OSError, EOFError, UnicodeDecodeError):
            return default
    if lo > hi or lo <= default <= hi:
        return default
    powers = [1 << k for k in range(21) if lo <= 1 << k <= hi]
    return powers[-1] if powers else lo


class Unsorted(Exception):
    """Raised by `checked_order` at the first request earlier than the one before it."""


def checked_order(requests: Iterable[Request]) -> Iterator[Request]:
    """Pass requests through while their timestamps do not decrease; raise Unsorted otherwise."""
    last = -math.inf
    for r in requests:
        if r.time_s < last:
            raise Unsorted(r.line)
        last = r.time_s
        yield r


def run_in_time_order(source: TraceFile, consume: Callable[[Iterable[Request]], Any]) -> Any:
    """consume(requests in timestamp order, file order breaking ties).

    A sorted file is streamed once. An unsorted one is noticed while streaming; then the requests
    (only their ids and lengths) are held in memory, sorted, and `consume` starts again.
    """
    try:
        return consume(checked_order(source.requests()))
    except Unsorted:
        held = sorted(source.requests(), key=lambda r: (r.time_s, r.line))
        return consume(held)


def no_usable_lines(source: TraceFile) -> ValueError:
    """The error for a trace without one usable request."""
    s = source.skipped
    detail = f"; {s.count} line(s) skipped, first: {s.messages[0]}" if s.messages else ""
    return ValueError(f"trace: {source.name!r} has no usable request line "
                      f"(expected {source.fmt} format){detail}")
