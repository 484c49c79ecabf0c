"""The every-kind specs, generated from the registry: each kind in each spatial dimensionality it declares."""

from __future__ import annotations

from cnncalc.kinds import REGISTRY, LayerKind
from cnncalc.kinds.params import BOOL, CHOICE, COUNT, NUMBER, PADDING, POOL_PADDING, POSITIVE_NUMBER, PROBABILITY, SIZE

CHANNELS, SIZE_PER_DIM = 8, 12
_VALUES = {COUNT: 4, SIZE: 3, PADDING: 1, POOL_PADDING: 1, BOOL: False, NUMBER: 1, POSITIVE_NUMBER: 1,
           PROBABILITY: 0.5}


def example(kind: LayerKind) -> dict:
    """The kind's own example parameters, else a value of each required parameter's type."""
    if kind.example is not None:
        return dict(kind.example)
    return {p.name: p.choices[0] if p.type == CHOICE else _VALUES[p.type] for p in kind.params if p.required}


def _yaml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_yaml, value)) + "]"
    return str(value)


def every_kind_text(ndim: int) -> str:
    lines = [f"name: every kind {ndim}d (generated)", f"input: [{CHANNELS}, {', '.join([str(SIZE_PER_DIM)] * ndim)}]",
             "layers:"]
    for name, kind in REGISTRY.items():
        if ndim not in kind.dims:
            continue
        params = "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in example(kind).items()) + "}"
        source = "[input, input]" if kind.max_inputs > 1 else "input"
        lines.append(f"  - {{name: {name}_{ndim}d, {name}: {params}, from: {source}}}")
    return "\n".join(lines) + "\n"


_WRITTEN: list = []


def every_kind_files() -> list:
    """The generated specs as files (in a temporary folder, written once per test session), for the tests
    that take spec files: every_kind_1d.yaml, every_kind_2d.yaml, every_kind_3d.yaml."""
    if not _WRITTEN:
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="cnncalc-every-kind-"))
        atexit.register(shutil.rmtree, folder, True)
        for ndim in (1, 2, 3):
            path = folder / f"every_kind_{ndim}d.yaml"
            path.write_text(every_kind_text(ndim), encoding="utf-8")
            _WRITTEN.append(path)
    return list(_WRITTEN)
