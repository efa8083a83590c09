"""Units and data-type sizes."""

GIB = 1024**3
GB = 1000**3

DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "fp4": 0.5,
}


def gib(n_bytes: float) -> float:
    """Bytes to GiB."""
    return n_bytes / GIB
