"""The Python API, for notebooks and scripts: `cnncalc.load`, `cnncalc.analyze`, `cnncalc.memory`.

    import cnncalc
    spec = cnncalc.load("specs/vgg16.yaml")           # or the YAML text itself
    report = cnncalc.analyze(spec)
    report.totals.params, report.layers[0].output_shape
    cnncalc.memory(spec, batch=32, optimizer="adam").training.total    # bytes

Every mistake in a spec raises cnncalc.SpecError; its `.problems` are each located (file:line:column).
The names in `__all__` are the API that semantic versioning covers (docs/api.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .problems import Problem, SpecError

if TYPE_CHECKING:
    from .report import Report
    from .sizing import MemoryReport
    from .spec import Spec

Source = Union[str, bytes, "os.PathLike[str]"]


def load(path_or_text: Source) -> Spec:
    """A spec read from a file, or from its text. A path (a `pathlib.Path`, or a one-line string that
    does not start with '{') is read as a file; a string of several lines (or a one-line flow mapping) is
    the YAML itself; bytes are a file's contents. Raises SpecError, its `.problems` each located."""
    from .parser import parse_bytes, parse_file, parse_text

    if isinstance(path_or_text, bytes):
        return parse_bytes(path_or_text, "<bytes>")
    if isinstance(path_or_text, str) and ("\n" in path_or_text or path_or_text.lstrip().startswith("{")):
        return parse_text(path_or_text, "<text>")
    return parse_file(Path(path_or_text))


def _spec(spec: Spec | Source) -> Spec:
    from .spec import Spec

    return spec if isinstance(spec, Spec) else load(spec)


def analyze(spec: Spec | Source, *, floor: bool = False, batch: int = 1) -> Report:
    """Every layer's output shape, parameters, MACs, activations and receptive field, and the totals
    (`report.totals.params`, `report.totals.macs`, `report.layers[i].output_shape`, ...). `spec` is a
    loaded spec, or what `load` takes. With `floor`, sizes that do not divide are floored as frameworks
    do (a warning each) instead of being errors. Raises SpecError."""
    from .engine import analyze as analyze_spec

    return analyze_spec(_spec(spec), floor=floor, batch=batch)


def memory(spec: Spec | Source, *, batch: int = 1, optimizer: str = "sgd", dtype: str | None = None,
           mixed: bool = False, floor: bool = False) -> MemoryReport:
    """The memory a training step needs, as `cnncalc memory` reports it: parameters, gradients, optimizer
    state, the activations kept for backward (`.training.total`, `.training.components`) and inference
    (`.inference.total`).
    `optimizer`: sgd, momentum, nesterov, rmsprop, adam or adamw. `dtype` defaults to the spec's.
    Raises SpecError for the spec, ValueError for settings that cannot train."""
    from .sizing import HALF_DTYPES, OPTIMIZERS, TRAINING_DTYPES, Settings, memory_report

    report = analyze(spec, floor=floor)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if dtype is None:
        dtype = report.dtype if report.dtype in TRAINING_DTYPES and (not mixed or report.dtype in HALF_DTYPES) \
            else "float16" if mixed else None
        if dtype is None:
            raise ValueError(f"the spec's dtype {report.dtype} is not a training dtype; "
                             f"pass dtype= one of {', '.join(TRAINING_DTYPES)}")
    if dtype not in TRAINING_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(TRAINING_DTYPES)}, not {dtype!r}")
    if mixed and dtype not in HALF_DTYPES:
        raise ValueError(f"mixed precision keeps float32 master weights for 16-bit training: use dtype "
                         f"{' or '.join(HALF_DTYPES)}, not {dtype}")
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive int, not {batch!r}")
    return memory_report(report, Settings(dtype=dtype, mixed=mixed, optimizer=optimizer), batch)


__all__ = ["Problem", "SpecError", "analyze", "load", "memory"]
