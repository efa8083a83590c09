"""Request-trace readers: Mooncake/AIPerf JSONL, Qwen Bailian JSONL and a minimal CSV, plain or .gz.

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


def open_text(path: str) -> io.TextIOBase:
    """The file as text, decompressing `.gz`; a ValueError names the path when it cannot be opened."""
    try:
        if str(path).endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise ValueError(f"trace: cannot read {str(path)!r}: {exc.strerror}") from None


def detect_format(path: str) -> str:
    """'csv' by file name, else 'bailian' when the first JSON object has chat_id, else 'mooncake'."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    with open_text(path) as f:
        try:
            for _, line in zip(range(50), f):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    return "bailian" if "chat_id" in obj else "mooncake"
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"trace: cannot read {str(path)!r}: {exc}") from None
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


def _mooncake(obj: dict, number: int) -> Request:
    return Request(_time(obj) / 1000.0, _int(obj, "input_length", 1), _int(obj, "output_length"),
                   _ids(obj.get("hash_ids")), number)


class BailianChain:
    """Re-keys Bailian's per-block ids into chained ids: a block's id depends on the whole prefix."""

    def __init__(self) -> None:
        self.ids: dict[tuple[int, int], int] = {}

    def rekey(self, hashes: list) -> list:
        ids, out, parent = self.ids, [], -1
        for h in hashes:
            key = (parent, h)
            parent = ids.get(key, -1)
            if parent < 0:
                parent = ids[key] = len(ids)
            out.append(parent)
        return out


def _bailian(chain: BailianChain) -> Callable[[dict, int], Request]:
    def parse(obj: dict, number: int) -> Request:
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

    def __post_init__(self) -> None:
        if self.fmt is None:
            self.fmt = detect_format(self.path)
        if self.fmt not in FORMATS:
            raise ValueError(f'format: "{self.fmt}" is not allowed; expected one of '
                             + ", ".join(f'"{f}"' for f in FORMATS))
        if self.block_size is None:
            self.block_size = DEFAULT_BLOCK_SIZE[self.fmt]
        if isinstance(self.block_size, bool) or not isinstance(self.block_size, int) \
                or not 1 <= self.block_size <= 1 << 20:
            raise ValueError(f"block_size: {self.block_size!r} is not allowed; "
                             "expected an integer >= 1 and <= 1048576")

    def requests(self) -> Iterator[Request]:
        """The usable requests in file order."""
        self.skipped = Skipped()
        with open_text(self.path) as f:
            try:
                if self.fmt == "csv":
                    yield from _csv(f, self.skipped)
                else:
                    parse = _bailian(BailianChain()) if self.fmt == "bailian" else _mooncake
                    yield from _jsonl(f, parse, self.skipped)
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise ValueError(f"trace: cannot read {self.path!r}: {exc}") from None


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
    return ValueError(f"trace: {source.path!r} has no usable request line "
                      f"(expected {source.fmt} format){detail}")
