"""ImportedNetwork → a readable YAML spec, what `cnncalc import` prints.

Each layer is written as its kind with the parameters that differ from the kind's defaults, under the
model's own name; `from:` only where a layer does not read the layer above it. The header comment names
the source file and its format (ONNX opset, producer), and the notes the import made.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..kinds import REGISTRY
from ..spec import INPUT_NAME
from .network import ImportedNetwork

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"})


def _text(value: str) -> str:
    """A name or word as YAML reads it back as the same text."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # YAML 1.1 reads 1e-06 as text: the mantissa needs its point (1.0e-06)
        if value != value or value in (float("inf"), float("-inf")):
            return ".nan" if value != value else ("-.inf" if value < 0 else ".inf")
        text = repr(value)
        mantissa, exponent = text.split("e") if "e" in text else (text, None)
        if "." not in mantissa and mantissa.lstrip("-").isdigit():
            mantissa += ".0"
        return mantissa + (f"e{exponent}" if exponent is not None else "")
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _text(str(value))


def _params(kind: str, params: dict[str, Any]) -> str:
    defaults = REGISTRY[kind].defaults
    written = {k: v for k, v in params.items() if k not in defaults or defaults[k] != v}
    if not written:
        return ""
    return "{" + ", ".join(f"{key}: {_value(value)}" for key, value in written.items()) + "}"


def to_yaml(network: ImportedNetwork) -> str:
    lines = [f"# Imported by cnncalc from {network.source}"]
    lines += [f"# {line}" for line in network.header]
    lines += [f"# {note.severity}: {note.message}" for note in network.notes]
    lines.append(f"name: {_text(network.name)}")
    lines.append("input: [" + ", ".join(str(d) for d in network.input_shape) + "]")
    lines.append("layers:")
    previous = INPUT_NAME
    for layer in network.layers:
        params = _params(layer.kind, layer.params)
        comment = f"  # {layer.origin}" if " " in layer.origin else ""
        lines.append(f"  - name: {_text(layer.name)}{comment}")
        lines.append(f"    {layer.kind}:{' ' + params if params else ''}")
        if layer.inputs != (previous,):
            sources = [_text(source) for source in layer.inputs]
            lines.append(f"    from: {sources[0] if len(sources) == 1 else '[' + ', '.join(sources) + ']'}")
        previous = layer.name
    return "\n".join(lines) + "\n"
