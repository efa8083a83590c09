"""predict's status (the headline's one sentence) and the model it names, assumed or chosen."""

import json

from kvcache_calc import api
from kvcache_calc.advise import KEEP_UP, OVERLOAD_WARNINGS


def test_a_cluster_that_keeps_up_is_ok_and_names_its_preset():
    result = api.predict({"model": {"preset": "qwen3-8b"}}, with_advice=False)
    assert result["status"]["state"] == "ok"
    assert result["status"]["overload"] == [] and result["status"]["replicas_needed"] is None
    assert result["status"]["model"] == {"preset": "qwen3-8b", "label": "Qwen3-8B", "assumed_from": None,
                                         "assumed_fields": []}
    assert not any(w["code"] == "model_fields_assumed" for w in result["warnings"])


def test_an_overloaded_cluster_says_how_many_replicas_keep_up_as_its_advice_does():
    result = api.predict({"workload": {"arrival_rate": 20}})
    status = result["status"]
    assert status["state"] == "overloaded" and set(status["overload"]) <= set(OVERLOAD_WARNINGS)
    assert status["overload"] and not status["cannot_keep_up"]
    keep_up = next(a for a in result["advice"] if a["id"] == KEEP_UP)
    assert status["replicas_needed"] == keep_up["change"]["cluster"]["replicas"] > 1
    fewer = api.predict({"workload": {"arrival_rate": 20}, "cluster": {"replicas": status["replicas_needed"] - 1}},
                        with_advice=False)
    enough = api.predict({"workload": {"arrival_rate": 20}, "cluster": {"replicas": status["replicas_needed"]}},
                         with_advice=False)
    assert fewer["status"]["state"] == "overloaded" and enough["status"]["state"] == "ok"


def test_traffic_no_allowed_cluster_serves_cannot_keep_up():
    status = api.predict({"workload": {"arrival_rate": 1_000_000}}, with_advice=False)["status"]
    assert status["state"] == "overloaded" and status["replicas_needed"] is None and status["cannot_keep_up"]


def test_a_model_section_without_preset_says_which_preset_its_fields_came_from():
    result = api.predict({"model": {}}, with_advice=False)
    model = result["status"]["model"]
    assert model["assumed_from"] == "llama-3.1-8b" == model["preset"] and model["label"] == "Llama-3.1-8B"
    assert {"num_layers", "num_kv_heads", "head_dim", "params_b", "kv_dtype"} <= set(model["assumed_fields"])
    warning = next(w for w in result["warnings"] if w["code"] == "model_fields_assumed")
    assert warning["params"] == {"preset": "llama-3.1-8b", "fields": model["assumed_fields"]}
    assert "Llama-3.1-8B" in warning["message_en"] and "Llama-3.1-8B" in warning["message_zh"]


def test_fields_given_without_a_preset_are_not_listed_as_assumed():
    model = api.predict({"model": {"kv_dtype": "fp8"}}, with_advice=False)["model"]
    assert model["assumed_from"] == "llama-3.1-8b"
    assert "kv_dtype" not in model["assumed_fields"] and "num_layers" in model["assumed_fields"]


def test_no_model_section_is_the_default_preset_chosen_and_a_given_architecture_assumes_nothing():
    default = api.predict({}, with_advice=False)
    assert default["model"]["preset"] == "llama-3.1-8b" and default["model"]["assumed_from"] is None
    custom = api.predict({"model": {"num_layers": 32, "num_kv_heads": 8, "head_dim": 128, "params_b": 8.0},
                          "deploy": {"model_id": "org/my-model"}}, with_advice=False)
    assert custom["model"] == {"preset": None, "label": "org/my-model", "assumed_from": None, "assumed_fields": []}
    direct = api.predict({"cache": {"capacity_tokens": 100_000}}, with_advice=False)
    assert direct["model"] is None and direct["status"]["model"] is None


def test_analyze_carries_the_same_status_through_the_worker_protocol():
    reply = json.loads(api.handle("analyze", json.dumps({"scenario": {"model": {}}})))
    assert reply["ok"]
    assert reply["result"]["predict"]["status"] == api.predict({"model": {}}, with_advice=False)["status"]


def test_first_prompts_longer_than_max_model_len_are_refused_traffic():
    result = api.predict({"hardware": {"max_model_len": 1000}}, with_advice=False)
    assert result["status"]["state"] == "refused"
    warning = next(w for w in result["warnings"] if w["code"] == "first_prompt_exceeds_max_model_len")
    # the 1000-token system prompt and 200 user tokens
    assert warning["params"] == {"share": 1.0, "max_model_len": 1000, "first_prompt_tokens": 1200.0}
    fits = api.predict({"hardware": {"max_model_len": 1200}}, with_advice=False)
    assert fits["status"]["state"] == "ok"
    assert not any(w["code"] == "first_prompt_exceeds_max_model_len" for w in fits["warnings"])
