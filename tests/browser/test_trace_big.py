"""A big fine-grained trace in the page: it runs in a worker of its own with a progress bar, the
calculator answers an edit meanwhile, Cancel ends that worker (a fresh one replays the next trace),
and a run to the end shows CPython's numbers. One booted page; a generated Bailian-format trace
with 16-token blocks (about 20 MB)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BOOT_TIMEOUT_MS, cpython_answer

# a system prompt, a catalog of documents, multi-turn chats (bench/replay_speed.py's trace)
CATALOG = json.loads((Path(__file__).parents[1] / "data" / "document_catalog_scenario.json").read_text())


@pytest.fixture(scope="module")
def big_trace(tmp_path_factory):
    from kvcache_calc.traffic.records import synthetic_trace, write_jsonl

    path = tmp_path_factory.mktemp("traces") / "catalog_bailian.jsonl"
    write_jsonl(synthetic_trace(CATALOG, 4000, seed=2, fmt="bailian"), path)
    assert path.stat().st_size > 15e6
    return path


def panel(page) -> dict:
    return page.evaluate("""() => {
        const c = document.querySelector('#trace-panel');
        return { state: c.dataset.state, stage: c.dataset.stage, progress: c.dataset.progress ?? null,
                 worker: c.dataset.traceWorker ?? null, heap: c.dataset.heapBytes ?? null,
                 bar: document.querySelector('#trace-progress').value,
                 cancelShown: !document.querySelector('#trace-cancel').hidden };
    }""")


def test_edits_are_answered_during_a_replay_and_cancel_stops_it(booted, big_trace):
    page = booted.page
    page.set_input_files("#trace-file", str(big_trace))
    # the replay is reading the file: the bar moves and Cancel is offered
    page.wait_for_selector("#trace-panel[data-stage='replay'][data-progress]", state="attached",
                           timeout=BOOT_TIMEOUT_MS)
    during = panel(page)
    assert during["state"] == "busy" and during["cancelShown"], during
    assert 0 < float(during["progress"]) < 1 and during["bar"] == pytest.approx(float(during["progress"]))
    worker = during["worker"]

    # an edit is calculated while the trace worker is still busy with the same trace
    page.fill("input[name='workload.arrival_rate']", "3.5")
    booted.wait_idle()
    scenario = booted.scenario()
    assert scenario["workload"]["arrival_rate"] == 3.5
    expected = cpython_answer("predict", {"scenario": scenario, "advice": False})
    assert abs(booted.metric_values()["token_hit_rate"] - expected["token_hit_rate"]) <= 1e-9
    assert panel(page)["state"] == "busy", "the replay ended before the edit was answered: use a bigger trace"

    page.click("#trace-cancel")
    after = panel(page)
    assert after["state"] == "cancelled" and after["stage"] == "cancelled" and not after["cancelShown"], after
    assert int(after["worker"]) == int(worker) + 1   # the busy worker was ended, a fresh one took over
    assert "Cancelled" in page.text_content("#trace-stage")
    assert page.text_content("#trace-error") == ""
    assert not page.is_disabled("#trace-file")
    assert not booted.problems(), booted.problems()


def test_the_fresh_worker_replays_the_whole_trace_as_cpython(booted, big_trace):
    page = booted.page
    page.set_input_files("#trace-file", str(big_trace))
    page.wait_for_selector("#trace-panel[data-curve='drawn']", state="attached", timeout=4 * BOOT_TIMEOUT_MS)
    page.wait_for_selector("#trace-panel[data-state='done'], #trace-panel[data-state='error']", state="attached",
                           timeout=4 * BOOT_TIMEOUT_MS)
    done = panel(page)
    assert done["state"] == "done", page.text_content("#trace-error")
    assert float(done["progress"]) == 1 and int(done["heap"]) > 0
    expected = cpython_answer("replay", {"path": str(big_trace), "curve_points": 50})
    shown = page.get_attribute("#trace-panel [data-metric='trace.ceiling.token_hit_rate']", "data-value")
    assert abs(float(shown) - expected["ceiling"]["token_hit_rate"]) <= 1e-12
    for key in ("requests", "unique_blocks", "reused_blocks"):
        value = page.get_attribute(f"#trace-panel [data-metric='trace.stats.{key}']", "data-value")
        assert float(value) == expected["stats"][key], key
    assert expected["stats"]["block_size"] == 16
    assert not booted.problems(), booted.problems()
    print(f"\nworker memory after a {big_trace.stat().st_size / 1e6:.0f} MB trace: {int(done['heap']) / 1e6:.0f} MB")


def test_cancel_reads_in_chinese(booted):
    page = booted.page
    page.click("#language-switch")
    page.wait_for_selector("html[lang='zh-CN']", state="attached")
    assert page.text_content("#trace-cancel") == "取消"
    page.click("#language-switch")
    page.wait_for_selector("html[lang='en']", state="attached")
    assert page.text_content("#trace-cancel") == "Cancel"
    keys = page.evaluate("async () => (await import('./js/trace-i18n.js')).TRACE_STRING_KEYS")
    assert sorted(keys["en"]) == sorted(keys["zh"])
    assert json.dumps(keys).count("trace_cancel") == 2
