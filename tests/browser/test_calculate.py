"""Form -> Python -> results: same numbers as CPython, charts drawn, bad input handled, exports."""

from __future__ import annotations

import csv
import io
import json
import math
from urllib.parse import urlsplit

import pytest

from conftest import cpython_answer, reveal

RELATIVE = 1e-9

CANVAS_INK = """() => [...document.querySelectorAll('#charts canvas')].map((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
    const chart = window.Chart.getChart(canvas);
    return { chart: canvas.dataset.chart, width: canvas.width, inked,
             points: chart ? chart.data.datasets.map((d) => d.data.filter((p) => p !== null).length) : [],
             png: canvas.toDataURL('image/png').length };
})"""


def cpython(method: str, scenario: dict) -> dict:
    from kvcache_calc import api

    return json.loads(api.handle(method, json.dumps({"scenario": scenario})))


def assert_same_numbers(shown: dict, expected: dict):
    checked = 0
    for key, value in shown.items():
        want = expected[key]
        if want is None or (isinstance(want, float) and not math.isfinite(want)):
            assert value is None, key
            continue
        assert value is not None, key
        assert math.isclose(value, want, rel_tol=RELATIVE, abs_tol=1e-300), (key, value, want)
        checked += 1
    assert checked >= 20


@pytest.fixture(scope="module")
def page(booted):
    return booted.page


def test_preset_fill_calculate_matches_cpython(booted, page):
    page.select_option("select[name='model.preset']", "qwen3-32b")
    page.select_option("select[name='hardware.gpu']", "h200")
    page.fill("input[name='hardware.num_gpus']", "2")
    page.fill("input[name='workload.arrival_rate']", "3")
    page.fill("input[name='workload.think_time_s']", "20")
    page.fill("input[name='workload.system_prompt_tokens']", "1500")
    history_before = page.evaluate("history.length")
    page.click("#calculate")
    booted.wait_idle()
    scenario = booted.scenario()
    assert scenario["model"]["preset"] == "qwen3-32b"
    assert scenario["hardware"] == {**scenario["hardware"], "gpu": "h200", "num_gpus": 2}
    assert scenario["workload"]["arrival_rate"] == 3
    assert json.loads(page.get_attribute("#results-panel", "data-result-scenario")) == scenario
    expected = cpython("predict", scenario)
    assert expected["ok"], expected
    assert_same_numbers(booted.metric_values(), expected["result"])
    assert page.evaluate("history.length") == history_before + 1
    assert "rate=3" in page.url and "preset=qwen3-32b" in page.url
    assert booted.problems() == []


def test_preset_values_show_as_placeholders(page):
    page.select_option("select[name='model.preset']", "qwen3-8b")
    assert page.get_attribute("input[name='model.num_layers']", "placeholder") == "36"
    assert page.input_value("input[name='model.num_layers']") == ""
    page.select_option("select[name='hardware.gpu']", "l40s")
    assert page.get_attribute("input[name='hardware.memory_gib']", "placeholder") not in ("", None)
    # The TFLOP/s the roofline uses (latency.py): BF16 for fp4 weights on Hopper, FP8 on Blackwell.
    tflops = "input[name='hardware.tflops']"
    page.select_option("select[name='model.preset']", "gpt-oss-20b")
    page.select_option("select[name='hardware.gpu']", "h100-sxm-80gb")
    assert page.get_attribute(tflops, "placeholder").replace(",", "") == "989"
    page.select_option("select[name='hardware.gpu']", "b200")
    assert page.get_attribute(tflops, "placeholder").replace(",", "") == "4500"
    page.select_option("select[name='model.preset']", "deepseek-v3")
    page.select_option("select[name='hardware.gpu']", "h200")
    assert page.get_attribute(tflops, "placeholder").replace(",", "") == "1979"
    page.select_option("select[name='hardware.gpu']", "l40s")  # the later tests start from here


def test_typed_model_value_overrides_preset(booted, page):
    page.select_option("select[name='model.preset']", "llama-3.1-8b")
    reveal(page, "input[name='model.num_kv_heads']")  # the architecture is folded under the preset
    page.fill("input[name='model.num_kv_heads']", "4")
    booted.wait_idle()
    scenario = booted.scenario()
    assert scenario["model"]["num_kv_heads"] == 4
    expected = cpython("predict", scenario)
    assert_same_numbers(booted.metric_values(), expected["result"])
    page.fill("input[name='model.num_kv_heads']", "")
    booted.wait_idle()
    assert "num_kv_heads" not in booted.scenario()["model"]


def test_charts_drew(booted, page):
    booted.wait_idle()
    canvases = page.evaluate(CANVAS_INK)
    names = {c["chart"] for c in canvases}
    assert {"memory", "tornado"} <= names
    assert any(name.startswith("sweep:") for name in names)
    for canvas in canvases:
        assert canvas["width"] > 0 and canvas["inked"] > 500, canvas
        assert canvas["points"] and max(canvas["points"]) >= 2, canvas  # lines, not just axes
    analysis = cpython("analyze", booted.scenario())["result"]
    by_name = {c["chart"]: c for c in canvases}
    assert by_name["memory"]["points"][0] == len(analysis["memory_curve"]["points"])
    assert by_name["tornado"]["points"][0] == len(analysis["tornado"]["bars"])
    for sweep in analysis["sweeps"]:
        assert by_name[f"sweep:{sweep['path']}"]["points"][0] == len(sweep["points"])


def test_no_system_prompt_and_no_think_time_still_draw_every_chart(booted, page):
    # fields at zero: the sweeps run from zero (a log sweep around zero failed the whole panel)
    names = ("workload.system_prompt_tokens", "workload.think_time_s")
    before = {name: page.input_value(f"input[name='{name}']") for name in names}
    page.fill("input[name='workload.system_prompt_tokens']", "0")
    page.fill("input[name='workload.think_time_s']", "0")
    booted.wait_idle()
    assert page.text_content("#form-error") == ""
    assert "stale" not in page.get_attribute("#results-panel", "class")
    analysis = cpython("analyze", booted.scenario())["result"]
    by_name = {c["chart"]: c for c in page.evaluate(CANVAS_INK)}
    for path in names:
        sweep = next(sw for sw in analysis["sweeps"] if sw["path"] == path)
        assert sweep["points"][0]["value"] == 0 and len(sweep["points"]) == 7
        assert by_name[f"sweep:{path}"]["points"][0] == 7
    # with no think time, faster arrivals overload the replica: those points are dashed and explained
    rates = next(sw for sw in analysis["sweeps"] if sw["path"] == "workload.arrival_rate")["points"]
    flagged = [p["overloaded"] for p in rates]
    assert flagged[0] is False and flagged[-1] is True
    drawn = page.evaluate("""() => window.Chart.getChart(document.querySelector("canvas[data-chart='sweep:workload.arrival_rate']"))
        .data.datasets[0].data.map((p) => p.overloaded)""")
    assert drawn == flagged
    swings = page.evaluate("""() => window.Chart.getChart(document.querySelector("canvas[data-chart='tornado']"))
        .data.datasets.map((d) => d.overloaded)""")
    bars = analysis["tornado"]["bars"]
    assert swings == [[b["low_overloaded"] for b in bars], [b["high_overloaded"] for b in bars]]
    assert page.is_visible("#overload-note") and "replica cannot keep up" in page.text_content("#overload-note")
    for name, value in before.items():
        page.fill(f"input[name='{name}']", value)
    booted.wait_idle()
    assert page.text_content("#form-error") == ""
    restored = cpython("analyze", booted.scenario())["result"]
    rows = restored["memory_curve"]["points"] + [p for sw in restored["sweeps"] for p in sw["points"]]
    assert page.is_visible("#overload-note") == any(p["overloaded"] for p in rows)
    assert booted.problems() == []


def test_invalid_input_names_field_and_marks_stale(booted, page):
    page.fill("input[name='workload.arrival_rate']", "1")
    booted.wait_idle()
    good = booted.metric_values()
    for bad in ("-1", "abc", "1e999"):
        page.fill("input[name='workload.arrival_rate']", bad)
        booted.wait_idle()
        message = page.text_content(".field[data-path='workload.arrival_rate'] .field-error")
        assert "Conversation arrival rate" in message and "workload.arrival_rate" not in message  # the label
        assert "above 0 and at most 1,000,000" in message  # the range in words
        assert page.get_attribute("input[name='workload.arrival_rate']", "aria-invalid") == "true"
        assert "stale" in page.get_attribute("#results-panel", "class")
        assert page.is_visible("#stale-note")
        assert booted.metric_values() == good
        text = page.inner_text("body")
        for word in ("NaN", "Infinity", "undefined"):
            assert word not in text
    page.fill("input[name='workload.arrival_rate']", "1")
    booted.wait_idle()
    assert "stale" not in page.get_attribute("#results-panel", "class")
    assert not page.is_visible("#stale-note")
    assert page.text_content(".field[data-path='workload.arrival_rate'] .field-error") == ""
    assert booted.problems() == []


def test_cross_field_error_highlights_the_named_input(booted, page):
    page.fill("input[name='hardware.num_gpus']", "3")
    reveal(page, "input[name='hardware.tensor_parallel']")
    page.fill("input[name='hardware.tensor_parallel']", "2")
    booted.wait_idle()
    assert "Tensor parallel" in page.text_content("#form-error")  # the field's label, not its path
    page.fill("input[name='hardware.tensor_parallel']", "")
    page.fill("input[name='hardware.num_gpus']", "1")
    booted.wait_idle()
    assert page.text_content("#form-error") == ""


def test_apply_advice_patches_scenario(booted, page):
    booted.wait_idle()
    before = "?" + page.url.split("?", 1)[1]
    items = page.query_selector_all(".advice-item")
    assert items, "the default scenario has advice"
    analysis = cpython("analyze", booted.scenario())["result"]
    # Found by id: items with equal gains may come in another order in Pyodide (libm ulps).
    first_id = page.get_attribute(".advice-item", "data-advice")
    first = next(item for item in analysis["advice"] if item["id"] == first_id)
    history_before = page.evaluate("history.length")
    page.click(".advice-item .apply")
    booted.wait_idle()
    # the new numbers are in view: the results' top is on screen after Apply
    top = page.eval_on_selector("#results-panel", "(n) => n.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2
    scenario = booted.scenario()
    for key, patch in first["change"].items():
        if isinstance(patch, dict):
            for name, value in patch.items():
                assert scenario[key].get(name) == value
        else:
            assert scenario[key] == patch
    assert page.evaluate("history.length") == history_before + 1
    assert_same_numbers(booted.metric_values(), cpython("predict", scenario)["result"])
    booted.load_query(before)  # the next tests start from the scenario before the change


def test_a_hugging_face_config_becomes_the_model(booted, page):
    """Python reads the pasted config.json: the model becomes that checkpoint (no preset), bad values are named."""
    before = "?" + urlsplit(page.url).query
    config = {"num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "hidden_size": 2048,
              "head_dim": 128, "intermediate_size": 6144, "vocab_size": 151936, "torch_dtype": "bfloat16",
              "max_position_embeddings": 32768, "sliding_window": None, "name": "<img src=x onerror=alert(1)>"}
    page.click(".hf-config summary")
    page.fill(".hf-config-text", json.dumps(config))
    page.click(".hf-config-fill")
    page.wait_for_selector(".hf-config-status:not(:empty)")
    booted.wait_idle()
    assert page.input_value("input[name='model.num_layers']") == "28"
    assert page.input_value("input[name='model.num_kv_heads']") == "8"
    assert page.input_value("input[name='model.head_dim']") == "128"
    assert page.input_value("select[name='model.attention']") == "gqa"
    assert page.input_value("select[name='model.preset']") == ""
    imported = cpython_answer("import_hf_config", {"text": json.dumps(config)})
    assert booted.scenario()["model"] == imported["fields"]  # every number is Python's, the preset is gone
    assert "params_b" in imported["fields"] and booted.metric_values()["token_hit_rate"] is not None

    bad = {**config, "num_key_value_heads": 0, "hidden_size": "wide"}
    page.fill(".hf-config-text", json.dumps(bad))
    page.click(".hf-config-fill")
    page.wait_for_selector(".hf-config-problems li")
    problems = page.eval_on_selector_all(".hf-config-problems li", "(items) => items.map((i) => i.textContent)")
    assert "num_key_value_heads: 0 is not a positive integer" in problems
    assert any(p.startswith('hidden_size: "wide"') for p in problems)
    # nothing usable: the status says so and the list names each bad or missing value
    page.fill(".hf-config-text", json.dumps({"num_key_value_heads": 0, "hidden_size": "wide"}))
    page.click(".hf-config-fill")
    page.wait_for_selector(".hf-config-status:has-text('No model field')")
    problems = page.eval_on_selector_all(".hf-config-problems li", "(items) => items.map((i) => i.textContent)")
    assert "num_key_value_heads: 0 is not a positive integer" in problems
    assert any(p.startswith("num_hidden_layers: absent") for p in problems)
    page.fill(".hf-config-text", "{not json")
    page.click(".hf-config-fill")
    page.wait_for_selector(".hf-config-status:has-text('JSON')")
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert booted.problems() == []
    booted.load_query(before)  # the next tests start from the scenario before the change


def test_exports(booted, page):
    booted.wait_idle()
    with page.expect_download() as info:
        page.click("#download-json")
    exported = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert exported["scenario"] == booted.scenario()
    assert exported["result"]["predict"]["token_hit_rate"] == booted.metric_values()["token_hit_rate"]
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert rows[0] == ["kind", "key", "value"]
    assert ["scenario", "workload.arrival_rate", "1"] in rows
    assert any(row[:2] == ["result", "token_hit_rate"] for row in rows)
    with page.expect_download() as info:
        page.click("button[data-png='memory']")
    assert open(info.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert booted.problems() == []
