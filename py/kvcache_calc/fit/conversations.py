"""A trace's requests linked into conversations, each follow-up classified, each shared prefix found.

Links come from the trace where it has them (AIPerf `session_id`, Bailian `parent_chat_id`) and from
the block ids where it does not (Mooncake): a request is a follow-up of the latest earlier request
it shares a block with past the shared prefix it starts with (up to the last block where many
requests' prompts part ways: a system prompt, a tenant's prompt, a popular document), when it reuses
at least half of that request's own blocks or blocks past its conversation's first turn (a new
conversation that happens to share a rarer document reuses far less). A first turn within one block
past the shared prefix leaves no block for its follow-up to share: that follow-up starts a
conversation of its own, which for the cache is the same thing. A follow-up that keeps the whole of
the turn before *continues* it (the response carried when it grew by at least the response's length,
else a *resend*); one that keeps only a part *branches* from it (an edit, a regenerated answer,
another question on the same context).

Shared prefixes are the leading blocks of first turns that two or more conversations share; their
tree, cut where it branches, gives the prefix groups: one system prompt, several (a catalog of
tenants' prompts), and below them documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..trace import Request

REUSE_SHARE = 0.5     # a follow-up reuses at least this share of the turn before's own blocks
POPULAR_REQUESTS = 30  # a shared prefix's end: this many requests (and POPULAR_SHARE of them) hold it
POPULAR_SHARE = 0.002
PARTINGS = 3           # and their prompts part ways there at least this many ways
MAX_SHARED_DEPTH = 4096
STEADY_LATE_SHARE = 0.4    # a window of steady traffic has this share of its conversations start in its second half
EDGE_QUANTILE = 0.95       # conversations starting closer than this duration quantile to an end are not fitted


@dataclass
class Turn:
    time: float
    input: int
    output: int
    blocks: tuple
    kind: str = "first"        # first, continue, resend, branch
    kept_tokens: int = 0       # tokens it shares with the turn before (block-aligned)
    new_tokens: int = 0        # what it adds after them (less the response, for continue)


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    shared_blocks: int = 0     # leading blocks of its first turn that other conversations share too
    path: tuple = ()           # the shared prefix's segments (node ids where the tree branches)

    @property
    def start(self) -> float:
        return self.turns[0].time


def _classify(parent: Turn, child: Turn, common: int, b: int) -> None:
    """Set the child's kind, kept and new tokens from `common` leading blocks it shares with the parent."""
    whole = parent.input // b
    if common >= whole:
        added = child.input - parent.input
        if added >= parent.output:
            child.kind, child.kept_tokens, child.new_tokens = "continue", parent.input + parent.output, \
                added - parent.output
        else:
            child.kind, child.kept_tokens, child.new_tokens = "resend", parent.input, max(0, added)
    else:
        child.kind, child.kept_tokens = "branch", common * b
        child.new_tokens = max(0, child.input - common * b)


def _common(a: tuple, b: tuple) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _turn(r: Request) -> Turn:
    return Turn(r.time_s, r.input_length, r.output_length, tuple(r.blocks))


def by_session(requests: list[Request], b: int) -> list[Conversation]:
    """AIPerf sessions: each turn follows the one before in its session."""
    open_: dict = {}
    out = []
    for r in requests:
        t = _turn(r)
        conv = open_.get(r.session) if r.session is not None else None
        if conv is None:
            conv = Conversation([t])
            out.append(conv)
            if r.session is not None:
                open_[r.session] = conv
            continue
        parent = conv.turns[-1]
        _classify(parent, t, _common(parent.blocks, t.blocks), b)
        conv.turns.append(t)
    return out


def by_chat_id(requests: list[Request], b: int) -> list[Conversation]:
    """Bailian: each request names its parent request."""
    by_id: dict = {}
    out = []
    for r in requests:
        t = _turn(r)
        parent = by_id.get(r.parent_chat_id) if r.parent_chat_id is not None else None
        if parent is None:
            conv = Conversation([t])
            out.append(conv)
        else:
            conv, parent_turn = parent
            _classify(parent_turn, t, _common(parent_turn.blocks, t.blocks), b)
            conv.turns.append(t)
        if r.chat_id is not None:
            by_id[r.chat_id] = (conv, t)
    return out


def branch_points(requests: list[Request]) -> set:
    """Blocks where many requests' prompts part ways: the ends of shared prefixes (a system prompt, a
    tenant's prompt, a popular document). A long conversation's history is held by many requests too,
    but each turn extends it, so it rarely parts more than twice at one block."""
    count: dict = {}
    for r in requests:
        for x in r.blocks[:MAX_SHARED_DEPTH]:
            count[x] = count.get(x, 0) + 1
    least = max(POPULAR_REQUESTS, int(POPULAR_SHARE * len(requests)))
    children: dict = {}
    for r in requests:
        blocks = r.blocks[:MAX_SHARED_DEPTH]
        for x, nxt in zip(blocks, blocks[1:]):
            if count[x] >= least:
                seen = children.setdefault(x, set())
                if len(seen) < PARTINGS:
                    seen.add(nxt)
    return {x for x, seen in children.items() if len(seen) >= PARTINGS}


def _popular_depth(blocks: tuple, points: set) -> int:
    """Leading blocks up to the last branch point on the prompt's path."""
    depth = 0
    for i, x in enumerate(blocks[:MAX_SHARED_DEPTH]):
        if x in points:
            depth = i + 1
    return depth


def by_prefix(requests: list[Request], b: int) -> list[Conversation]:
    """Mooncake: a request follows the latest request it shares most of that request's blocks with,
    past the popular blocks they both start with."""
    points = branch_points(requests)
    owner: dict = {}   # block id -> (conversation, turn) of the latest request holding it
    out = []
    for r in requests:
        t = _turn(r)
        blocks = t.blocks
        hot = _popular_depth(blocks, points)
        depth = hot
        while depth < len(blocks) and blocks[depth] in owner:
            depth += 1
        parent = owner.get(blocks[depth - 1]) if depth > hot else None
        linked = False
        if parent is not None:
            conv, parent_turn = parent
            own = max(1, min(len(parent_turn.blocks), parent_turn.input // b) - hot)
            # past its first turn's whole blocks, only the conversation itself has sent them
            history = depth > conv.turns[0].input // b
            if history or depth >= parent_turn.input // b or depth - hot >= REUSE_SHARE * own:
                _classify(parent_turn, t, depth, b)
                conv.turns.append(t)
                linked = True
        if not linked:
            conv = Conversation([t])
            out.append(conv)
        for x in blocks:
            owner[x] = (conv, t)
    return out


def link(requests: Iterable[Request], b: int, fmt: str) -> list[Conversation]:
    """Conversations of time-ordered requests: by session, by chat id or by prefix, as the format allows."""
    held = list(requests)
    if any(r.session is not None for r in held):
        convs = by_session(held, b)
    elif fmt == "bailian":
        convs = by_chat_id(held, b)
    else:
        convs = by_prefix(held, b)
    mark_shared(convs, b)
    return convs


def mark_shared(convs: list[Conversation], b: int) -> None:
    """Each conversation's shared prefix (leading first-turn blocks another conversation's first turn
    holds too) and its path of segments through the tree those prefixes make."""
    count: dict = {}
    for c in convs:
        first = c.turns[0]
        for x in first.blocks[:first.input // b]:
            count[x] = count.get(x, 0) + 1
    children: dict = {}
    ends: dict = {}
    for c in convs:
        first = c.turns[0]
        whole = first.blocks[:first.input // b]
        depth = 0
        while depth < len(whole) and depth < MAX_SHARED_DEPTH and count[whole[depth]] >= 2:
            depth += 1
        c.shared_blocks = depth
        for a, x in zip((None,) + whole[:depth], whole[:depth]):
            children.setdefault(a, set()).add(x)
        if depth:
            ends[whole[depth - 1]] = ends.get(whole[depth - 1], 0) + 1
    # a segment ends where the tree branches or where some conversation's shared prefix ends
    for c in convs:
        first = c.turns[0]
        whole = first.blocks[:c.shared_blocks]
        path = []
        for i, x in enumerate(whole):
            last = i == len(whole) - 1
            if last or len(children.get(x, ())) > 1 or x in ends:
                path.append((i + 1, x))   # (depth in blocks, the node closing the segment)
        c.path = tuple(path)


def steady_conversations(convs: list[Conversation]) -> tuple[list[Conversation], tuple[float, float]]:
    """The conversations that start far enough from the trace's ends to be seen whole, and the window
    of their starts. A trace cut from steady traffic (conversations still start in its second half as
    in its first) is a window: near its start, conversations under way look like new ones with long
    contexts; near its end they are cut short. Far enough: the EDGE_QUANTILE of conversation durations,
    at most a quarter of the span each side. A trace whose conversations mostly start early (a batch
    of conversations played out) is fitted whole."""
    starts = sorted(c.start for c in convs)
    first, last = starts[0], max(t.time for c in convs for t in c.turns)
    late = sum(1 for x in starts if x >= (first + last) / 2)
    if late < STEADY_LATE_SHARE * len(starts):
        return convs, (first, starts[-1])
    durations = sorted(c.turns[-1].time - c.start for c in convs)
    edge = min(durations[int(EDGE_QUANTILE * (len(durations) - 1))], (last - first) / 4)
    lo, hi = first + edge, last - edge
    kept = [c for c in convs if lo <= c.start <= hi]
    if edge <= 0 or len(kept) < 2:
        return convs, (first, max(starts))
    return kept, (lo, hi)
