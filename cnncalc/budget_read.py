"""Reading the spec's `budget:` key (YAML nodes → a Budget, with located problems):

    budget: {params: 25M, macs: 5G, activations: 100MiB, rf: 200,
             memory: {training: 16GiB, batch: 32, optimizer: adam}}

Counts take K, M, G, T (10³ … 10¹²); sizes the units of `fit --memory` (KiB/MiB/GiB, kB/MB/GB or bytes);
`memory` is a size (training at batch 1) or a mapping with `training:` or `inference:` and the settings.
"""

from __future__ import annotations

from typing import Callable

import yaml

from .budget import (ACTIVATIONS, INFERENCE, KEYS, MACS, MEMORY, MEMORY_KEYS, PARAMS, RF, TRAINING, Budget, Limit,
                     MemorySetting, parse_count)
from .problems import Location
from .training import HALF_DTYPES, OPTIMIZERS, TRAINING_DTYPES

MAX_BATCH = 10**9
_STR, _INT, _FLOAT = ("tag:yaml.org,2002:" + t for t in ("str", "int", "float"))

Locate = Callable[[yaml.Node], Location]
Report = Callable[[yaml.Node, str], None]  # records a located error


class _Bad(Exception):
    """The value is wrong; its error is recorded."""


def _text(node: yaml.Node, what: str, example: str, report: Report) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (_STR, _INT, _FLOAT) or not node.value:
        shown = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping" if isinstance(node, yaml.MappingNode) \
            else f"'{node.value}'"
        report(node, f"{what} must be written as {example}, not {shown}")
        raise _Bad
    return node.value


def _positive(node: yaml.Node, what: str, report: Report, parse: Callable[[str], int], example: str,
              noun: str) -> int:
    """A positive number written as `example` says, read by `parse`; a located problem otherwise."""
    text = _text(node, what, example, report)
    try:
        value = parse(text)
    except ValueError as error:
        report(node, f"{what}: {error}")
        raise _Bad from None
    if value <= 0:
        report(node, f"{what} must be {noun}, not {text}")
        raise _Bad
    return value


def _count(node: yaml.Node, what: str, report: Report) -> int:
    return _positive(node, what, report, parse_count, "a count such as 25M or 25000000", "positive")


def _size(node: yaml.Node, what: str, report: Report) -> int:
    from .sizing import parse_size

    return _positive(node, what, report, parse_size, "a size such as 16GiB, 100MB or plain bytes", "a positive size")


# The settings named from a list: the names, and what the message says they must be.
_NAMED = {"optimizer": (OPTIMIZERS, "must be one of "),
          "dtype": (TRAINING_DTYPES, "of the memory budget must be a training dtype: ")}


def _entries(node: yaml.Node, what: str, allowed: tuple[str, ...], report: Report):
    """The mapping's (key, key node, value node); unknown, duplicate and non-text keys are errors."""
    from .parser import did_you_mean

    if not isinstance(node, yaml.MappingNode):
        report(node, f"{what} must be a mapping of {', '.join(allowed)}")
        raise _Bad
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR else None
        if key is None:
            report(key_node, f"a key in {what} must be a plain name")
        elif key in seen:
            report(key_node, f"duplicate key '{key}' in {what}; keep one")
        elif key not in allowed:
            report(key_node, f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}; {what} has "
                             f"{', '.join(allowed)}")
        else:
            seen.add(key)
            yield key, key_node, value_node


def _memory(node: yaml.Node, report: Report) -> tuple[int, str, MemorySetting]:
    """A size alone (training at batch 1), or {training|inference: SIZE, batch, optimizer, dtype, mixed}."""
    if not isinstance(node, yaml.MappingNode):
        return _size(node, "'memory'", report), node.value, MemorySetting()
    limit: tuple[int, str] | None = None
    setting = MemorySetting()
    for key, key_node, value_node in _entries(node, "'memory' of the budget", MEMORY_KEYS, report):
        try:
            if key in (TRAINING, INFERENCE):
                if limit is not None:
                    report(key_node, "'memory' takes one of 'training' and 'inference'; write two specs' budgets "
                                     "or keep one")
                    continue
                limit = (_size(value_node, f"'{key}'", report), value_node.value)
                setting = setting._replace(mode=key)
            elif key == "batch":
                batch = _count(value_node, "'batch'", report)
                if batch > MAX_BATCH or not str(value_node.value).replace("_", "").isdigit():
                    report(value_node, f"'batch' must be a whole number from 1 to {MAX_BATCH:,}")
                    continue
                setting = setting._replace(batch=batch)
            elif key in _NAMED:
                name = _text(value_node, f"'{key}'", "a name", report)
                choices, must = _NAMED[key]
                if name not in choices:
                    report(value_node, f"'{key}' {must}{', '.join(choices)}, not '{name}'")
                    continue
                setting = setting._replace(**{key: name})
            else:  # mixed
                if not (isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:bool"):
                    report(value_node, "'mixed' must be true or false")
                    continue
                setting = setting._replace(mixed=value_node.value.lower() in ("true", "yes", "on", "y"))
        except _Bad:
            continue
    if setting.mixed and setting.dtype is not None and setting.dtype not in HALF_DTYPES:
        report(node, f"'mixed' keeps float32 master weights for 16-bit training: write dtype "
                     f"{' or '.join(HALF_DTYPES)}, not {setting.dtype}")
        raise _Bad
    if limit is None:
        report(node, "'memory' needs 'training: SIZE' or 'inference: SIZE', e.g. {training: 16GiB, batch: 32}")
        raise _Bad
    return limit[0], limit[1], setting


def read_budget(key_node: yaml.Node, node: yaml.Node, locate: Locate, report: Report) -> Budget:
    """The budget written at `key_node: node`; each mistake is recorded through `report` and its limit left out."""
    limits: dict[str, Limit] = {}
    try:
        entries = list(_entries(node, "the budget", KEYS, report))
    except _Bad:
        return Budget(locate(key_node))
    for key, limit_key, value_node in entries:
        try:
            if key in (PARAMS, MACS):
                limits[key] = Limit(key, _count(value_node, f"'{key}'", report), value_node.value, locate(limit_key))
            elif key == ACTIVATIONS:
                limits[key] = Limit(key, _size(value_node, "'activations'", report), value_node.value,
                                    locate(limit_key))
            elif key == RF:
                if not (isinstance(value_node, yaml.ScalarNode) and value_node.tag == _INT
                        and value_node.value.replace("_", "").isdigit() and int(value_node.value) > 0):
                    report(value_node, "'rf' (the least receptive field, in input pixels) must be a positive whole "
                                       "number, e.g. 'rf: 200'")
                    continue
                limits[key] = Limit(key, int(value_node.value.replace("_", "")), value_node.value, locate(limit_key))
            else:
                value, written, setting = _memory(value_node, report)
                limits[key] = Limit(MEMORY, value, written, locate(limit_key), memory=setting)
        except _Bad:
            continue
    return Budget(locate(key_node), tuple(limits[key] for key in KEYS if key in limits))
