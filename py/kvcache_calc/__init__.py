"""KV-cache prefix hit-rate calculator for multi-turn LLM serving (vLLM, SGLang semantics)."""

from .api import analyze, handle, predict, schema

__all__ = ["predict", "analyze", "schema", "handle"]
__version__ = "0.1.0"
