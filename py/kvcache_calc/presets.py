"""Model and GPU presets, read from the package's presets.json (the repository's top-level file)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def load_presets() -> dict:
    """The parsed presets.json: {"models": {id: {...}}, "gpus": {id: {...}}}."""
    text = resources.files("kvcache_calc").joinpath("presets.json").read_text(encoding="utf-8")
    return json.loads(text)


def model_ids() -> tuple[str, ...]:
    return tuple(load_presets()["models"])


def gpu_ids() -> tuple[str, ...]:
    return tuple(load_presets()["gpus"])


def model_preset(preset_id: str) -> dict:
    return load_presets()["models"][preset_id]


def gpu_preset(preset_id: str) -> dict:
    return load_presets()["gpus"][preset_id]


def gpu_arch(preset_id: str | None) -> str:
    """The GPU family of a preset ("hopper", "blackwell", "ampere", "ada", "cdna", ...; "" when unknown)."""
    if preset_id is None or preset_id not in load_presets()["gpus"]:
        return ""
    return gpu_preset(preset_id).get("arch", "")


def gpu_link(preset_id: str | None) -> str:
    """How a preset's GPUs talk within a node: "nvlink", "xgmi" or "pcie" ("" when unknown)."""
    if preset_id is None or preset_id not in load_presets()["gpus"]:
        return ""
    return gpu_preset(preset_id).get("gpu_link", "")
