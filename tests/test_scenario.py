"""Validation at the boundary: every error names the field, the value and the allowed range."""

import math

import pytest

from kvcache_calc.scenario import normalized, parse_scenario
from kvcache_calc.schema import FIELDS, default_scenario


@pytest.mark.parametrize("scenario,pattern", [
    ({"workload": {"arrival_rate": -1}}, r"^workload\.arrival_rate: -1 is not allowed; expected a number > 0"),
    ({"workload": {"arrival_rate": 0}}, r"^workload\.arrival_rate: 0 is not allowed"),
    ({"workload": {"arrival_rate": math.nan}}, r"^workload\.arrival_rate: nan is not allowed"),
    ({"workload": {"arrival_rate": math.inf}}, r"^workload\.arrival_rate: inf is not allowed"),
    ({"workload": {"arrival_rate": "2"}}, r'^workload\.arrival_rate: "2" is not allowed'),
    ({"workload": {"arrival_rate": True}}, r"^workload\.arrival_rate: True is not allowed"),
    ({"workload": {"user_tokens": 2.5}}, r"^workload\.user_tokens: 2\.5 is not allowed; expected an integer >= 1"),
    ({"workload": {"user_tokens": 0}}, r"^workload\.user_tokens: 0 is not allowed"),
    ({"workload": {"turns_mean": 0.5}}, r"^workload\.turns_mean: 0\.5 is not allowed; expected a number >= 1"),
    ({"workload": {"turns_mean": 2.5, "turns_dist": "fixed"}}, r"^workload\.turns_mean: 2\.5 .* an integer when"),
    ({"workload": {"think_dist": "normal"}}, r'^workload\.think_dist: "normal" is not allowed; expected one of "exponential", "fixed"'),
    ({"workload": {"arival_rate": 1}}, r"^workload\.arival_rate: unknown key; allowed keys in workload: arrival_rate"),
    ({"workloads": {}}, r"^workloads: unknown key"),
    ({"version": 2}, r"^version: 2 is not allowed"),
    ({"hardware": {"gpu_memory_utilization": 1.2}}, r"^hardware\.gpu_memory_utilization: 1\.2 is not allowed; expected a number > 0 and <= 1"),
    ({"hardware": {"gpu": "h100"}}, r'^hardware\.gpu: "h100" is not allowed; expected one of "h100-sxm-80gb"'),
    ({"hardware": {"num_gpus": 4, "tensor_parallel": 3}}, r"^hardware\.tensor_parallel: 3 .* a divisor of hardware\.num_gpus \(4\)"),
    ({"model": {"preset": "gpt-5"}}, r'^model\.preset: "gpt-5" is not allowed'),
    ({"model": {"num_layers": 32}}, r"^model\.num_kv_heads: required"),
    ({"model": {"preset": "llama-3.1-8b", "sliding_window_layers": 40}}, r"^model\.sliding_window_layers: 40 "),
    ({"cache": {"capacity_tokens": 8}}, r"^cache\.capacity_tokens: 8 is not allowed; expected at least one block"),
    ({"cache": {"block_size": 0}}, r"^cache\.block_size: 0 is not allowed; expected an integer >= 1"),
    ({"cache": []}, r"^cache: \[\] is not allowed; expected an object"),
    ([], r"^scenario: \[\] is not allowed"),
])
def test_bad_input_names_field_value_and_range(scenario, pattern):
    with pytest.raises(ValueError, match=pattern):
        parse_scenario(scenario)


def test_empty_scenario_is_the_default_one():
    assert normalized(parse_scenario({})) == normalized(parse_scenario(default_scenario()))


def test_capacity_alone_needs_no_model_or_hardware():
    s = parse_scenario({"cache": {"capacity_tokens": 100_000}, "workload": {"arrival_rate": 2}})
    assert s.model is None and s.hardware is None


def test_preset_fields_can_be_overridden():
    s = parse_scenario({"model": {"preset": "llama-3.1-8b", "num_kv_heads": 4, "kv_dtype": "fp8"}})
    assert (s.model.num_kv_heads, s.model.kv_dtype, s.model.num_layers) == (4, "fp8", 32)


def test_dtype_override_without_preset_keeps_the_default_model():
    s = parse_scenario({"model": {"kv_dtype": "fp8"}})
    assert s.model.preset == "llama-3.1-8b" and s.model.kv_dtype == "fp8"


def test_every_field_has_help_and_url_key_in_both_languages():
    keys = [f.url_key for f in FIELDS]
    assert len(keys) == len(set(keys))
    for f in FIELDS:
        assert f.label_en and f.label_zh and f.help_en and f.help_zh


def test_docs_describe_every_field():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "scenario.md").read_text(encoding="utf-8")
    for f in FIELDS:
        assert f"`{f.path}`" in text and f"`{f.url_key}`" in text, f.path
