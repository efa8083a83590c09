"""The deployment to copy: command lines built only from flags the engine's source defines."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from hypothesis import given, settings, strategies as st

from kvcache_calc import api
from kvcache_calc.cli import main
from kvcache_calc.deploy import deployment
from kvcache_calc.deploy.flags import ENGINES
from kvcache_calc.deploy.inputs import deploy_inputs
from kvcache_calc.scenario import parse_scenario

# a commit (full, or the abbreviated one a release records) or a release tag, then the file and its line
GITHUB_LINE = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/blob/([0-9a-f]{9,40}|v[\w.]+)/[\w./-]+#L\d+$")


def deployed(scenario: dict) -> dict:
    return deployment(parse_scenario(scenario))


def flags_of(command: dict) -> list[str]:
    return [a for a in command["argv"] if a.startswith("--")]


def assert_in_table(d: dict) -> None:
    """Every flag and variable of every command is in its engine version's table, with its source line."""
    for command in d["commands"]:
        table = ENGINES[command["engine"]]
        assert command["version"] == table.version
        for name in flags_of(command):
            assert name in table.flags, (command["engine"], name)
        for name in command["env"]:
            if name != "CUDA_VISIBLE_DEVICES":  # CUDA's, not the engine's
                assert any(name in e.flags for e in ENGINES.values()), name
    for flag in d["flags"]:
        assert GITHUB_LINE.match(flag["source_url"]), flag


def shell_words(text: str) -> list[list[str]]:
    """The commands of a copy text as a POSIX shell reads them (comments dropped, `&` ends one)."""
    commands = []
    for chunk in text.replace("\\\n", " ").splitlines():
        if chunk.strip() and not chunk.lstrip().startswith("#"):
            words = shlex.split(chunk)
            commands.append(words[:-1] if words[-1:] == ["&"] else words)
    return commands


def test_default_scenario_is_one_vllm_serve_with_the_memory_settings():
    d = deployed({})
    assert d["engine"] == "vllm" and d["model_id"] == "meta-llama/Llama-3.1-8B" and d["model_id_from"] == "preset"
    (command,) = d["commands"]
    argv = command["argv"]
    assert argv[:3] == ["vllm", "serve", "meta-llama/Llama-3.1-8B"]
    pairs = dict(zip(argv[3::1], argv[4::1]))
    assert pairs["--gpu-memory-utilization"] == "0.9"
    # vLLM's own defaults on an H100 (arg_utils.py:1797-1805 at v0.13.0)
    assert pairs["--max-num-seqs"] == "1024" and pairs["--max-num-batched-tokens"] == "8192"
    assert pairs["--block-size"] == "16" and pairs["--kv-cache-dtype"] == "auto"
    assert "--enable-prefix-caching" in argv and "--tensor-parallel-size" not in argv
    assert_in_table(d)
    assert shell_words(d["text"]) == [argv]


def test_the_scenario_settings_reach_the_flags():
    d = deployed({"model": {"preset": "llama-3.1-70b", "kv_dtype": "fp8"},
                  "hardware": {"gpu": "h100-sxm-80gb", "num_gpus": 4, "tensor_parallel": 2,
                               "gpu_memory_utilization": 0.85, "max_num_seqs": 128, "max_num_batched_tokens": 4096},
                  "cache": {"block_size": 32}, "deploy": {"model_id": "my-org/llama-70b-ft"}})
    argv = d["commands"][0]["argv"]
    assert argv[2] == "my-org/llama-70b-ft" and d["model_id_from"] == "scenario"
    text = " ".join(argv)
    for expected in ("--tensor-parallel-size 2", "--pipeline-parallel-size 2", "--gpu-memory-utilization 0.85",
                     "--max-num-seqs 128", "--max-num-batched-tokens 4096", "--block-size 32", "--kv-cache-dtype fp8"):
        assert expected in text
    assert_in_table(d)


def plan_of(s):
    from kvcache_calc.memory import plan_memory
    return plan_memory(s.model, s.hardware, None, s.cache.block_size)


def test_sglang_states_the_static_share_its_memory_plan_used():
    s = parse_scenario({"model": {"preset": "qwen3-32b"}, "deploy": {"engine": "sglang"}})
    d = deployment(s)
    argv = d["commands"][0]["argv"]
    assert argv[:3] == ["python", "-m", "sglang.launch_server"]
    fraction = float(argv[argv.index("--mem-fraction-static") + 1])
    # SGLang's own default on an H100 (server_args.py:848-887): 512 + 1.5 x 8192 + 2 x 256 + 1/8 x 1024 MiB
    reserved = 512 + 1.5 * 8192 + 2 * 256 + 1024 / 8
    assert fraction == s.hardware.mem_fraction_static == round((79.18 * 1024 - reserved) / (79.18 * 1024), 3)
    i = deploy_inputs(s)
    assert i.kv_gib_per_gpu == pytest.approx(plan_of(s).kv_gib_per_gpu)
    assert argv[argv.index("--page-size") + 1] == "16"
    assert argv[argv.index("--chunked-prefill-size") + 1] == "8192"
    assert any(n["code"] == "sglang_page_size" for n in d["notes"])
    assert_in_table(d)


def test_cuda_graphs_off_and_a_max_model_len_reach_both_engines():
    for engine, eager, length in (("vllm", "--enforce-eager", "--max-model-len"),
                                  ("sglang", "--disable-cuda-graph", "--context-length")):
        d = deployed({"hardware": {"cuda_graphs": "off", "max_model_len": 32768}, "deploy": {"engine": engine}})
        argv = d["commands"][0]["argv"]
        assert eager in argv and argv[argv.index(length) + 1] == "32768"
        assert_in_table(d)


def test_replicas_on_one_node_get_their_gpus_and_ports_and_sglang_a_cache_aware_router():
    d = deployed({"hardware": {"num_gpus": 2}, "cluster": {"replicas": 4}, "deploy": {"engine": "sglang"}})
    engines = [c for c in d["commands"] if c["role"] == "engine"]
    assert [c["env"]["CUDA_VISIBLE_DEVICES"] for c in engines] == ["0,1", "2,3", "4,5", "6,7"]
    assert [c["argv"][c["argv"].index("--port") + 1] for c in engines] == ["8000", "8001", "8002", "8003"]
    (router,) = [c for c in d["commands"] if c["role"] == "router"]
    argv = router["argv"]
    assert argv[argv.index("--policy") + 1] == "cache_aware"
    urls = argv[argv.index("--worker-urls") + 1:argv.index("--policy")]
    assert urls == [f"http://127.0.0.1:{8000 + i}" for i in range(4)]
    assert len(shell_words(d["text"])) == 5
    assert_in_table(d)


def test_a_large_cluster_names_hosts_and_vllm_affinity_names_the_routers():
    d = deployed({"hardware": {"num_gpus": 4}, "cluster": {"replicas": 3}})
    (command,) = d["commands"]  # the same command on every host
    assert "CUDA_VISIBLE_DEVICES" not in command["env"]
    assert "# on each of the 3 replica hosts (replica-1 ... replica-3)" in d["text"]
    sglang = deployed({"hardware": {"num_gpus": 4}, "cluster": {"replicas": 3}, "deploy": {"engine": "sglang"}})
    router = sglang["commands"][-1]["argv"]
    assert router[router.index("--worker-urls") + 1:router.index("--policy")] == [
        f"http://replica-{i}:8000" for i in (1, 2, 3)]
    (note,) = [n for n in d["notes"] if n["code"] == "vllm_router_affinity"]
    assert "Dynamo" in note["message_en"] and "llm-d" in note["message_en"]
    blind = deployed({"cluster": {"replicas": 2, "routing": "round_robin"}, "deploy": {"engine": "sglang"}})
    router = blind["commands"][-1]["argv"]
    assert router[router.index("--policy") + 1] == "round_robin"


def test_ten_thousand_replicas_cost_one_command_and_a_shell_list():
    # the advisor's "replicas to keep up" can ask for thousands: the text stays a few lines
    d = deployed({"cluster": {"replicas": 10_000}, "deploy": {"engine": "sglang"}})
    assert [c["role"] for c in d["commands"]] == ["engine", "router"]
    assert "--worker-urls $(seq -f 'http://replica-%g:8000' 1 10000)" in d["text"]
    assert len(d["text"]) < 2000


def test_a_cpu_tier_alone_uses_the_offloading_connector_and_a_disk_tier_lmcache():
    s = parse_scenario({"tiers": [{"name": "cpu", "capacity_gb": 200}]})
    argv = deployment(s)["commands"][0]["argv"]
    # not --kv-offloading-backend native: at v0.13.0 it leaves num_cpu_blocks 0, which the CPU spec refuses
    assert "--kv-offloading-backend" not in argv
    config = json.loads(argv[argv.index("--kv-transfer-config") + 1])
    kv_bytes = deploy_inputs(s).cpu_tier_gb * 1e9 / deploy_inputs(s).cpu_tier_tokens
    assert config["kv_connector"] == "OffloadingConnector" and config["kv_role"] == "kv_both"
    assert config["kv_connector_extra_config"]["num_cpu_blocks"] == int(200e9 / kv_bytes // 16)
    assert kv_bytes == 131072  # Llama-3.1-8B in BF16: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes
    both = deployed({"hardware": {"num_gpus": 2}, "tiers": [{"name": "cpu", "capacity_gb": 200},
                                                            {"name": "ssd", "capacity_gb": 2000}]})
    command = both["commands"][0]
    config = json.loads(command["argv"][command["argv"].index("--kv-transfer-config") + 1])
    assert config == {"kv_connector": "LMCacheConnectorV1", "kv_role": "kv_both"}
    # LMCache runs one store per GPU worker, sized in GiB (its "GB" is 1024^3 bytes)
    assert command["env"]["LMCACHE_MAX_LOCAL_CPU_SIZE"] == f"{100e9 / 2**30:.1f}"
    assert command["env"]["LMCACHE_MAX_LOCAL_DISK_SIZE"] == f"{1000e9 / 2**30:.1f}"
    assert_in_table(both)
    words = shell_words(both["text"])[0]
    assert words[:2] == [f"LMCACHE_CHUNK_SIZE={command['env']['LMCACHE_CHUNK_SIZE']}", "LMCACHE_LOCAL_CPU=True"]
    hicache = deployed({"tiers": [{"name": "cpu", "capacity_gb": 200}], "deploy": {"engine": "sglang"}})
    argv = hicache["commands"][0]["argv"]
    assert "--enable-hierarchical-cache" in argv and argv[argv.index("--hicache-size") + 1] == "200"


def test_a_given_cache_size_is_told_to_the_engine():
    d = deployed({"cache": {"capacity_tokens": 160_000}})
    argv = d["commands"][0]["argv"]
    assert argv[argv.index("--num-gpu-blocks-override") + 1] == "10000"
    d = deployed({"cache": {"capacity_tokens": 160_000}, "deploy": {"engine": "sglang"}})
    argv = d["commands"][0]["argv"]
    assert argv[argv.index("--max-total-tokens") + 1] == "160000"


def test_a_model_without_a_repository_gets_a_placeholder_and_a_note():
    d = deployed({"model": {"num_layers": 32, "num_kv_heads": 8, "head_dim": 128, "params_b": 8.0}})
    assert d["model_id"] == "YOUR-ORG/YOUR-MODEL"
    assert any(n["code"] == "model_id_placeholder" for n in d["notes"])


@pytest.mark.parametrize("model_id", ["a b", "$(reboot)", "x;rm -rf /", "`id`", "org/name --trust-remote-code",
                                      "-rf", "a" * 201])
def test_a_hostile_checkpoint_never_reaches_a_command(model_id):
    with pytest.raises(ValueError, match=r"^deploy\.model_id: .* is not allowed; expected a Hugging Face"):
        deployed({"deploy": {"model_id": model_id}})


def test_every_advice_item_has_its_command_line():
    # on two H100s vLLM's profile (1024 sampled rows) leaves 0.2 GiB of KV beside 65.7 GiB of weights per GPU
    scenario = {"model": {"preset": "llama-3.1-70b"}, "hardware": {"num_gpus": 4, "max_model_len": 32768},
                "workload": {"arrival_rate": 3.0}}
    out = api.deploy(scenario)
    items = api.predict(scenario)["advice"]
    assert items and sorted(out["advice"]) == sorted(i["id"] for i in items)
    for item in items:
        d = out["advice"][item["id"]]
        assert_in_table(d)
        if item["id"] == "kv_fp8":
            assert "--kv-cache-dtype fp8" in d["text"].replace(" \\\n ", "")
    assert api.deploy(scenario, "sglang")["current"]["engine"] == "sglang"
    # SGLang's default static share on two H100s leaves no pool beside 65.7 GiB of weights per GPU
    with pytest.raises(ValueError, match=r"^hardware\.mem_fraction_static: .*Not enough memory"):
        api.deploy({**scenario, "hardware": {"num_gpus": 2}}, "sglang")


def test_analyze_carries_the_deployments_through_the_json_boundary():
    reply = json.loads(api.handle("analyze", json.dumps({"scenario": {"deploy": {"engine": "sglang"}}})))
    assert reply["ok"]
    deploy = reply["result"]["deploy"]
    assert deploy["current"]["engine"] == "sglang"
    assert set(deploy["advice"]) == {i["id"] for i in reply["result"]["advice"]}
    bad = json.loads(api.handle("deploy", json.dumps({"scenario": {"deploy": {"engine": "trt"}}})))
    assert bad == {"ok": False, "error": {"message": 'deploy.engine: "trt" is not allowed; expected one of '
                                                     '"vllm", "sglang"', "field": "deploy.engine"}}


def test_cli_deploy_prints_the_command_and_its_sources(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"model": {"preset": "qwen3-8b"}, "tiers": [{"name": "cpu", "capacity_gb": 64}]}))
    assert main(["deploy", str(path)]) == 0
    out = capsys.readouterr().out
    assert "vllm serve Qwen/Qwen3-8B" in out and "#   --kv-transfer-config: https://github.com/" in out
    assert main(["deploy", str(path), "--engine", "sglang", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["current"]["engine"] == "sglang"
    assert main(["deploy", str(path), "--advice", "nope"]) == 2
    assert "--advice: 'nope' is not an advice item" in capsys.readouterr().err


@settings(max_examples=40, deadline=None)
@given(engine=st.sampled_from(["vllm", "sglang"]), gpus=st.sampled_from([1, 2, 4, 8]),
       tp_share=st.sampled_from([1, 2]), replicas=st.integers(1, 5),
       routing=st.sampled_from(["affinity", "random", "round_robin", "least_loaded"]),
       kv=st.sampled_from(["bf16", "fp16", "fp8", "int8", "fp4"]), block=st.sampled_from([1, 8, 16, 32, 64, 128, 256]),
       tiers=st.sampled_from([[], [{"name": "cpu", "capacity_gb": 50}], [{"name": "ssd", "capacity_gb": 500}],
                              [{"name": "cpu", "capacity_gb": 50}, {"name": "ssd", "capacity_tokens": 10_000_000}]]))
def test_any_scenario_gives_commands_of_known_flags(engine, gpus, tp_share, replicas, routing, kv, block, tiers):
    tp = max(1, gpus // tp_share)
    # 8K of context: Qwen3-32B's whole 40,960 does not fit beside its weights on one H100 (vLLM refuses)
    d = deployed({"model": {"preset": "qwen3-32b", "kv_dtype": kv},
                  "hardware": {"num_gpus": gpus, "tensor_parallel": tp, "max_model_len": 8192},
                  "cache": {"block_size": block},
                  "cluster": {"replicas": replicas, "routing": routing}, "tiers": tiers,
                  "deploy": {"engine": engine}})
    assert_in_table(d)
    words = shell_words(d["text"])
    assert len(words) == len(d["commands"])
    for parsed, command in zip(words, d["commands"]):
        env = [f"{k}={v}" for k, v in command["env"].items()]
        assert parsed == env + command["argv"]
