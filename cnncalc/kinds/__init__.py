"""The layer registry: every kind cnncalc knows, in one place.

Adding a kind is one class in one of these modules (shape rule, parameter count, MAC count,
receptive-field window, the tensors it keeps for the backward pass)
and its name in that module's KINDS.
"""

from __future__ import annotations

from . import adaptive, conv, dense, elementwise, merge, norm, opaque, pool, resize, shuffle, tokens
from .base import INPUT, OUTPUT, Computed, LayerContext, LayerFailure, LayerKind, Param, Saved, Window

REGISTRY: dict[str, LayerKind] = {
    kind.name: kind
    for module in (conv, pool, adaptive, dense, elementwise, norm, merge, resize, shuffle, tokens, opaque)
    for kind in module.KINDS
}

__all__ = ["INPUT", "OUTPUT", "REGISTRY", "Computed", "LayerContext", "LayerFailure", "LayerKind", "Param", "Saved", "Window"]
