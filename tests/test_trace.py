"""Trace readers: formats, .gz, Bailian re-keying, bad lines reported by line number and skipped."""

import gzip
import json

import pytest

from kvcache_calc.api import handle
from kvcache_calc.replay import replay
from kvcache_calc.trace import MAX_MESSAGES, BailianChain, TraceFile, detect_format

GOOD = {"timestamp": 1500, "input_length": 1000, "output_length": 20, "hash_ids": [0, 1]}


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mooncake_fields_and_units(tmp_path):
    path = write(tmp_path / "t.jsonl", [json.dumps(GOOD)])
    (r,) = TraceFile(str(path)).requests()
    assert (r.time_s, r.input_length, r.output_length, r.blocks, r.line) == (1.5, 1000, 20, [0, 1], 1)
    assert TraceFile(str(path)).block_size == 512


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 2: not valid JSON"),
    ("[1, 2]", "line 2: list is not allowed; expected a JSON object"),
    ('{"timestamp": 1, "output_length": 1, "hash_ids": [1]}', "line 2: input_length: missing; expected an integer >= 1"),
    ('{"timestamp": -4, "input_length": 5, "output_length": 1, "hash_ids": [1]}',
     "line 2: timestamp: -4 is not allowed; expected a number >= 0"),
    ('{"timestamp": 1, "input_length": 5, "output_length": -1, "hash_ids": [1]}',
     "line 2: output_length: -1 is not allowed; expected an integer >= 0"),
    ('{"timestamp": 1, "input_length": 5, "output_length": 1, "hash_ids": [1, "x"]}',
     "line 2: hash_ids: [1, 'x'] is not allowed; expected a non-empty list of integers >= 0"),
    ('{"timestamp": 1, "input_length": 5, "output_length": 1, "hash_ids": []}', "line 2: hash_ids: []"),
    ('{"timestamp": 1, "input_length": true, "output_length": 1, "hash_ids": [3]}', "line 2: input_length: True"),
])
def test_bad_lines_are_reported_with_their_number_and_skipped(tmp_path, line, message):
    path = write(tmp_path / "t.jsonl", [json.dumps(GOOD), line, json.dumps({**GOOD, "timestamp": 2000})])
    source = TraceFile(str(path), "mooncake")
    assert [r.line for r in source.requests()] == [1, 3]
    assert source.skipped.count == 1
    assert source.skipped.messages[0].startswith(message), source.skipped.messages


def test_skipped_messages_are_capped_but_counted(tmp_path):
    path = write(tmp_path / "t.jsonl", ["oops"] * 30 + [json.dumps(GOOD)])
    out = replay(path, 512, "inf")
    assert out["skipped"]["count"] == 30 and len(out["skipped"]["messages"]) == MAX_MESSAGES
    assert out["skipped"]["messages"][-1].startswith(f"line {MAX_MESSAGES}:")
    assert out["stats"]["requests"] == 1


def test_a_file_without_usable_lines_says_so(tmp_path):
    path = write(tmp_path / "t.jsonl", ["oops", '{"timestamp": 1}'])
    with pytest.raises(ValueError, match=r"no usable request line.*2 line\(s\) skipped, first: line 1"):
        replay(path)
    empty = write(tmp_path / "e.jsonl", [""])
    with pytest.raises(ValueError, match="no usable request line"):
        replay(empty)
    reply = json.loads(handle("replay", json.dumps({"path": str(path)})))
    assert not reply["ok"] and "no usable request line" in reply["error"]["message"]


def test_gz_reads_like_plain(tmp_path):
    lines = [json.dumps({**GOOD, "timestamp": i * 100, "hash_ids": [0, i + 1]}) for i in range(5)]
    plain = write(tmp_path / "t.jsonl", lines)
    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as f:
        f.write("\n".join(lines))
    a = list(TraceFile(str(plain)).requests())
    b = list(TraceFile(str(tmp_path / "t.jsonl.gz")).requests())
    assert a == b and len(a) == 5
    assert replay(tmp_path / "t.jsonl.gz", 512, "inf")["ceiling"] == replay(plain, 512, "inf")["ceiling"]


def test_bailian_ids_are_rekeyed_into_a_prefix_chain(tmp_path):
    rows = [
        {"chat_id": 1, "parent_chat_id": -1, "timestamp": 0.5, "input_length": 48, "output_length": 3,
         "type": "text", "turn": 1, "hash_ids": [7, 8, 9]},
        # same block hashes in another order: equal ids only where the whole prefix is equal
        {"chat_id": 2, "parent_chat_id": -1, "timestamp": 1.0, "input_length": 48, "output_length": 3,
         "type": "text", "turn": 1, "hash_ids": [7, 9, 8]},
        {"chat_id": 3, "parent_chat_id": 1, "timestamp": 2.0, "input_length": 64, "output_length": 3,
         "type": "text", "turn": 2, "hash_ids": [7, 8, 9, 10]},
        {"chat_id": 4, "parent_chat_id": -1, "timestamp": 3.0, "input_length": 16, "output_length": 3,
         "type": "text", "turn": 0, "hash_ids": [7]},
    ]
    path = write(tmp_path / "b.jsonl", [json.dumps(r) for r in rows])
    assert detect_format(str(path)) == "bailian"
    source = TraceFile(str(path))
    a, b, c = source.requests()
    assert source.block_size == 16 and a.time_s == 0.5 and c.parent_chat_id == 1 and a.parent_chat_id is None
    assert a.blocks[0] == b.blocks[0] and a.blocks[1] != b.blocks[1] and a.blocks[2] != b.blocks[2]
    assert c.blocks[:3] == a.blocks and c.blocks[3] not in a.blocks + b.blocks
    assert source.skipped.messages == ["line 4: turn: 0 is not allowed; expected an integer >= 1"]
    out = replay(path, capacities="inf")
    assert out["ceiling"]["token_hit_rate"] == pytest.approx((16 + 48) / (48 + 48 + 64))


def test_chain_rekeying_is_stable():
    chain = BailianChain()
    assert chain.rekey([5, 5, 5]) == [0, 1, 2]
    assert chain.rekey([5, 5, 6]) == [0, 1, 3]
    # hashes past 64 bits, and ones that would collide if a pair were packed carelessly
    big = 1 << 64
    assert chain.rekey([big, 5, big + 7]) == [4, 5, 6]
    assert chain.rekey([big, 5, big + 7, 0]) == [4, 5, 6, 7]
    assert chain.rekey([0, big]) == [8, 9] and chain.rekey([1]) == [10]


def test_csv_format(tmp_path):
    path = write(tmp_path / "t.csv", [
        "timestamp_s,input_length,output_length,hash_ids",
        "0.0,1000,10,0 1",
        "1.5,1500,10,0 1 2",
        "2.0,abc,10,0",
        "3.0,100,10,0 x",
        "4.0,100,10",
    ])
    source = TraceFile(str(path))
    reqs = list(source.requests())
    assert source.fmt == "csv" and [r.blocks for r in reqs] == [[0, 1], [0, 1, 2]] and reqs[1].time_s == 1.5
    assert [m.split(":")[0] for m in source.skipped.messages] == ["line 4", "line 5", "line 6"]
    assert "input_length: 'abc' is not allowed" in source.skipped.messages[0]
    bad_header = write(tmp_path / "h.csv", ["time,in,out,ids", "0,1,1,1"])
    with pytest.raises(ValueError, match="line 1: header"):
        list(TraceFile(str(bad_header)).requests())


def test_unknown_format_and_block_size_are_rejected(tmp_path):
    path = write(tmp_path / "t.jsonl", [json.dumps(GOOD)])
    with pytest.raises(ValueError, match='format: "xml" is not allowed'):
        TraceFile(str(path), "xml")
    with pytest.raises(ValueError, match="block_size: 0 is not allowed"):
        TraceFile(str(path), block_size=0)
    with pytest.raises(ValueError, match="cannot read"):
        replay(tmp_path / "missing.jsonl")
