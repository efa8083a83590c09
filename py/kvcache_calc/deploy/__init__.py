"""The deployment to copy: engine and router command lines that set up the scenario (docs/deploy.md)."""

from __future__ import annotations

from ..notes import Note
from ..scenario import Scenario
from .command import Command
from .inputs import DeployInputs, deploy_inputs
from .router import router_commands
from .sglang import sglang_command
from .vllm import vllm_command

ENGINE_COMMANDS = {"vllm": vllm_command, "sglang": sglang_command}


def _replica_commands(d: DeployInputs, engine: str, notes: list[Note]) -> list[Command]:
    """One engine command per replica sharing a node (its GPUs, its port); one for every host otherwise."""
    commands = []
    for i, port in enumerate(d.ports()):
        c = ENGINE_COMMANDS[engine](d, notes if i == 0 else [])
        if d.replicas > 1:
            c.flag("--port", port, "this replica's port")
            devices = d.visible_devices(i)
            if devices is not None:
                c.env = {"CUDA_VISIBLE_DEVICES": devices, **c.env}
        commands.append(c)
    return commands


def _copy_text(d: DeployInputs, commands: list[Command]) -> str:
    lines = []
    for i, c in enumerate(commands):
        if c.role == "engine" and d.replicas > 1:
            lines.append(f"# replica {i + 1} of {d.replicas} (127.0.0.1:{d.ports()[i]})" if d.one_node else
                         f"# on each of the {d.replicas} replica hosts (replica-1 ... replica-{d.replicas})")
        elif c.role == "router":
            lines.append("# the router in front of the replicas")
        lines.append(c.shell() + (" &" if c.role == "engine" and d.one_node and d.replicas > 1 else ""))
    return "\n".join(lines) + "\n"


def deployment(s: Scenario) -> dict:
    """The command lines (and the flags they use, with sources) for the scenario's engine."""
    engine = s.deploy.engine
    d = deploy_inputs(s)
    notes: list[Note] = []
    if d.model_id_from == "placeholder":
        notes.append(Note("model_id_placeholder",
                          "No checkpoint is known for this model: replace YOUR-ORG/YOUR-MODEL (the Checkpoint field).",
                          "此模型没有已知的检查点：请替换 YOUR-ORG/YOUR-MODEL（“模型检查点”字段）。"))
    if s.deploy.engine_version:
        notes.append(Note("engine_version_memory",
                          f"The memory plan follows {engine} {s.deploy.engine_version} (deploy.engine_version); the "
                          "flags below were checked against the release named with them.",
                          f"显存规划按 {engine} {s.deploy.engine_version}（deploy.engine_version）计算；下面的参数按其所注明的"
                          "版本核对。"))
    commands = _replica_commands(d, engine, notes)
    commands += router_commands(d, engine, notes)
    flags, seen = [], set()
    for c in commands:
        for used in c.used:
            if used["name"] not in seen:
                seen.add(used["name"])
                flags.append(used)
    first = commands[0].engine
    return {"engine": engine, "version": first.version, "repository": first.repository,
            "model_id": d.model_id, "model_id_from": d.model_id_from, "replicas": d.replicas,
            "commands": [c.as_json() for c in commands], "flags": flags,
            "notes": [n.as_json() for n in notes], "text": _copy_text(d, commands)}
