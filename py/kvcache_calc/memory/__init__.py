"""GPU memory: weights by quantization, the engine's reserves, and the KV cache tokens they leave."""

from .budget import BudgetTerm, InfeasibleMemory
from .kv import kv_bytes_per_token, kv_heads_per_gpu
from .plan import MemoryPlan, kv_bytes_per_token_per_gpu, max_model_len, memory_for_capacity_gib, plan_memory, weights_gib

__all__ = ["BudgetTerm", "InfeasibleMemory", "MemoryPlan", "kv_bytes_per_token", "kv_bytes_per_token_per_gpu",
           "kv_heads_per_gpu", "max_model_len", "memory_for_capacity_gib", "plan_memory", "weights_gib"]
