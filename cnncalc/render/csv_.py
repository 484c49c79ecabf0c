"""CSV: one row per layer, exact integers, for spreadsheets."""

from __future__ import annotations

import csv
import io
from typing import Iterator

from ..report import Report
from .safe import csv_text

COLUMNS = ("index", "name", "kind", "description", "output", "weights", "biases", "params", "trainable",
           "non_trainable", "activations", "new_tensor", "macs", "rf_size", "rf_jump", "rf_start")


def _dims(values: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in values)


def iter_csv(report: Report, batch: int = 500) -> Iterator[str]:
    """The CSV in pieces of `batch` rows: the header, then the layers in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for count, layer in enumerate(report.layers, 1):
        field = layer.receptive_field
        writer.writerow((
            layer.index, csv_text(layer.name), layer.kind, csv_text(layer.description), _dims(layer.output_shape),
            layer.weight_count, layer.bias_count, layer.param_count, layer.trainable_count,
            layer.non_trainable_count, layer.activation_count, str(layer.new_tensor).lower(), layer.macs,
            _dims(field.size), _dims(field.jump), _dims(field.start),
        ))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_csv(report: Report) -> str:
    return "".join(iter_csv(report))
