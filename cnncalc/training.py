"""The vocabulary of training settings: dtypes that train, optimizers and the state each keeps.

Apart from cnncalc/sizing.py so that the command line can build its options without importing the
sizing machinery (every command would pay for it at start-up).
"""

from __future__ import annotations

from typing import Mapping

TRAINING_DTYPES: Mapping[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
HALF_DTYPES = ("float16", "bfloat16")
MASTER_DTYPE = "float32"

# What each optimizer keeps per parameter (PyTorch's state names); Nesterov is momentum's buffer.
OPTIMIZERS: Mapping[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nesterov": ("momentum_buffer",),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq"),
}


def default_training_dtype(spec_dtype: str, mixed: bool) -> str | None:
    """The dtype to train in when none is asked for: the spec's when it trains (and is 16-bit under mixed
    precision); float16 under mixed precision otherwise; None when the spec's dtype cannot train (int8)."""
    if spec_dtype in TRAINING_DTYPES and (not mixed or spec_dtype in HALF_DTYPES):
        return spec_dtype
    return "float16" if mixed else None
