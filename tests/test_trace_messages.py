"""Trace errors name the user's file, never the directory it was read from (the worker's mount point)."""

import gzip
import json

import pytest

from kvcache_calc import api

MOUNT = "trace-input"  # as js/trace-worker.js mounts a chosen file


def _error(method, path, **extra):
    reply = json.loads(api.handle(method, json.dumps({"path": str(path), **extra})))
    assert not reply["ok"]
    return reply["error"]["message"]


def _bad_traces(root):
    folder = root / MOUNT
    folder.mkdir()
    (folder / "chat log.jsonl").write_text('not json\n{"timestamp": 1}\n', encoding="utf-8")
    (folder / "日志.jsonl.gz").write_bytes(b"not gzip at all")
    (folder / "short.jsonl.gz").write_bytes(gzip.compress(b'{"timestamp": 0, "input_length": 5}\n'))
    (folder / "requests.csv").write_text("time,input,output,ids\n", encoding="utf-8")
    (folder / "latin1.jsonl").write_bytes(b'{"timestamp": 0, "input_length": 5, "hash_ids": [1]}\n\xff\xfe\n')
    return folder


@pytest.mark.parametrize("method", ["replay", "fit"])
@pytest.mark.parametrize("name", ["chat log.jsonl", "日志.jsonl.gz", "short.jsonl.gz", "requests.csv",
                                  "missing.jsonl"])
def test_a_bad_trace_is_named_by_its_file_name(tmp_path, method, name):
    folder = _bad_traces(tmp_path)
    message = _error(method, folder / name)
    assert message.startswith("trace: ")
    assert str(tmp_path) not in message and MOUNT not in message
    if name != "requests.csv":  # a wrong header is named by its line
        assert repr(name) in message


def test_the_name_the_page_gives_is_the_one_messages_use(tmp_path):
    folder = _bad_traces(tmp_path)
    message = _error("replay", folder / "chat log.jsonl", name="Chat log (Tuesday).jsonl")
    assert "'Chat log (Tuesday).jsonl'" in message and MOUNT not in message
    message = _error("fit", folder / "missing.jsonl", name="gone.jsonl")
    assert "'gone.jsonl'" in message and "No such file" in message


def test_an_undecodable_line_says_why_without_the_path(tmp_path):
    folder = _bad_traces(tmp_path)
    for method in ("replay", "fit"):
        message = _error(method, folder / "latin1.jsonl")
        assert MOUNT not in message and str(tmp_path) not in message
