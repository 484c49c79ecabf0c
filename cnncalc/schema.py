"""The spec format as a JSON Schema (draft 2020-12), generated from the layer registry the parser and engine use.

Editors read it (yaml-language-server: VS Code, Neovim, JetBrains, Helix) for completion, hover text and inline
errors. It is built from REGISTRY on demand, so a new kind or parameter is in it as soon as it is in the
registry. The parser stays the authority: every spec the parser accepts validates, and the schema catches the
mistakes of structure (an unknown key or kind, a boolean where a count belongs, a missing parameter); arithmetic
(a stride that does not fit) and cross-references (unique names) are the parser's and the engine's.
"""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .kinds import REGISTRY
from .kinds.base import CHOICE, LayerKind, Param
from .kinds.params import MAX_SPATIAL_DIMS, PARAM_TYPES
from .spec import DEFAULT_DTYPE, DTYPE_BYTES, INPUT_NAME

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


# -- parameter types: their schemas are kinds/params.py's PARAM_TYPES ----------------------------------------
def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def param_schema(param: Param) -> Schema:
    """The parameter's type (or, inside a block, a `$expression`), its description and its default (a default
    of None is described, not given)."""
    value = {"enum": list(param.choices)} if param.type == CHOICE else PARAM_TYPES[param.type].schema
    schema: Schema = {"description": param.description, "anyOf": [value, _ref("expression")]}
    if not param.required and param.default is not None:
        schema["default"] = _json_value(param.default)
    return schema


def kind_description(kind: LayerKind) -> str:
    """The hover text of a kind key: what it does and its three rules."""
    return (f"{kind.summary}\n\nShape: {kind.shape_rule}\nParams: {kind.param_rule}\nMACs: {kind.mac_rule}")


def kind_value_schema(kind: LayerKind) -> Schema:
    """What may follow `kind:`: a mapping of its parameters; its main parameter alone when that is the only
    one required (`fc: 4096`); nothing when none is required (`relu:`)."""
    required = [p.name for p in kind.params if p.required]
    mapping: Schema = {
        "type": "object",
        "properties": {**{p.name: param_schema(p) for p in kind.params}, **LAYER_KEYS},
        "additionalProperties": False,
    }
    if required:
        mapping["required"] = required
    choices = [mapping]
    if kind.main_param is not None and required in ([], [kind.main_param]):
        main = kind.param(kind.main_param)
        assert main is not None
        choices.append(param_schema(main))
    if not required:
        choices.append({"type": "null"})
    return {"description": kind_description(kind), "anyOf": choices}


def kinds_defs() -> Schema:
    return {f"kind_{name}": kind_value_schema(kind) for name, kind in REGISTRY.items()}


# == Structure outside the layer kinds ======================================================================
# The one place to extend when the spec format grows: root keys, the keys a layer may carry besides its kind,
# the shapes a `layers:` item may take, blocks. Kinds and their parameters come from REGISTRY (above) and need
# no change here. tests/test_schema.py checks these keys against the parser's own lists.
#
# JSON Schema cannot look up a name elsewhere in the document, so a spec with `blocks:` gets a looser layer
# list (any other name may invoke a block: `- basic: {filters: 64}`) and a spec without keeps the strict one
# (an unknown kind is an error). A `$expression` is accepted wherever a block may use one; the parser
# refuses it outside a block definition.

# What the reader refuses in a name, as far as a pattern can say it (read_layers.check_name): '/', ':', '$',
# white space, control characters (C0, DEL, C1) and the bidirectional overrides that reorder what a reader sees
NAME_PATTERN = r"^[^/:$\s\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+$"
# the spec's name: any printable text, over several lines too (a block scalar), so only controls other than \t, \n
SPEC_NAME_PATTERN = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]+$"

LAYER_NAME: Schema = {
    "description": "The layer's name (default: its kind's prefix and a number: conv1, fc2, ...); unique within "
                   "its scope. Other layers take its output with `from:`.",
    "anyOf": [
        {"type": "string", "minLength": 1, "pattern": NAME_PATTERN, "not": {"const": INPUT_NAME}},
        {"type": "integer"},
    ],
}
_SOURCE: Schema = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]}
SOURCES: Schema = {
    "description": f"The layer's inputs: a layer or group name (or '{INPUT_NAME}'), or a list of them for a merge "
                   "(add, mul, concat). Default: the layer above.",
    "anyOf": [_SOURCE, {"type": "array", "items": _SOURCE, "minItems": 1}],
}
EXPRESSION: Schema = {
    "description": "Inside a block definition: an expression over the block's parameters, e.g. $filters * 4.",
    "type": "string",
    "pattern": r"^\$",
}
# Keys a kind layer may carry besides its kind (beside the kind key, or inside its parameter mapping).
LAYER_KEYS: dict[str, Schema] = {"name": _ref("layer_name"), "from": _ref("sources")}
MERGES = ("add", "mul", "concat")
RESERVED = ("repeat", "branches", "merge", "layers", "blocks", "input")  # never a block name
WITH_BLOCKS = "_with_blocks"  # the suffix of the layer-list $defs for a spec that has `blocks:`


def layer_defs(family: str) -> Schema:
    """The $defs that hold layers, for a spec without blocks (family '') or with them (WITH_BLOCKS)."""
    kinds_and_words = sorted(REGISTRY) + list(LAYER_KEYS) + list(RESERVED)
    items = [_ref("bare_layer"), _ref("kind_layer"), _ref(f"repeat_block{family}"), _ref(f"branches_block{family}")]
    if family:
        items += [_ref("bare_block"), _ref("block_layer")]
    one_source = {"anyOf": [_SOURCE, {"type": "array", "items": _SOURCE, "minItems": 1, "maxItems": 1}]}
    return {
        f"layers{family}": {
            "description": "The layers in order; each takes the output of the one above unless it says `from:`.",
            "type": "array",
            "minItems": 1,
            "items": _ref(f"layer{family}"),
        },
        f"layer{family}": {
            "description": "A kind name (relu), a mapping with one kind key (conv: {filters: 64, kernel: 3}), "
                           "a repeat block or group (layers:), a branches block"
                           + (", or a block from `blocks:`." if family else "."),
            "anyOf": items,
        },
        f"repeat_block{family}": {
            "description": "Its layers, unrolled `repeat` times; without `repeat`, a named group of layers.",
            "type": "object",
            "properties": {
                "repeat": {"description": "How many times (default 1).",
                           "anyOf": [{"type": "integer", "minimum": 1}, _ref("expression")]},
                "layers": _ref(f"layers{family}"),
                "name": {**LAYER_NAME, "description": "Names the group: its layers are named group.layer, and "
                                                      "`from: group` takes its output."},
            },
            "required": ["layers"],
            "additionalProperties": False,
        },
        f"branches_block{family}": {
            "description": "Parallel branches from one input, merged: `merge: add` (residual), `mul` (a gate) or `concat`.",
            "type": "object",
            "properties": {
                "branches": {
                    "description": "Two or more branches, each a list of layers ([] passes the input through).",
                    "type": "array",
                    "minItems": 2,
                    "items": {"anyOf": [{"type": "array", "items": _ref(f"layer{family}")}, _ref(f"layer{family}")]},
                },
                "merge": {"description": "How the branch outputs are combined.",
                          "anyOf": [{"enum": list(MERGES)}, _ref("expression")]},
                "name": LAYER_NAME,
                "from": {**one_source, "description": "The one input every branch starts from."},
            },
            "required": ["branches", "merge"],
            "additionalProperties": False,
        },
        **({
            "bare_block": {
                "description": "A block from `blocks:` with its default arguments.",
                "type": "string",
                "not": {"enum": kinds_and_words},
            },
            "block_layer": {
                "description": "A block from `blocks:` with its arguments: `basic: {filters: 64}`.",
                "type": "object",
                "properties": {"name": _ref("layer_name"), "from": _ref("sources")},
                "additionalProperties": {
                    "description": "The block's arguments.",
                    "anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": _ref("block_value")}],
                },
                "propertyNames": {"not": {"enum": sorted(REGISTRY) + list(RESERVED)}},
                "minProperties": 1,
            },
        } if family else {}),
    }


def structure_defs() -> Schema:
    """The $defs of everything that is not a kind."""
    bare = sorted(name for name, kind in REGISTRY.items() if not any(p.required for p in kind.params))
    return {
        "layer_name": LAYER_NAME,
        "sources": SOURCES,
        "expression": EXPRESSION,
        "bare_layer": {
            "description": "A kind written alone takes its default parameters.",
            "enum": bare,
        },
        "kind_layer": {
            "type": "object",
            "properties": {**LAYER_KEYS, **{name: _ref(f"kind_{name}") for name in REGISTRY}},
            "additionalProperties": False,
            "oneOf": [{"required": [name]} for name in REGISTRY],  # exactly one kind per layer
        },
        "block_value": {"description": "A number, a boolean or a text ($expression inside a block).",
                        "type": ["number", "boolean", "string"]},
        "block_definitions": {
            "description": "Reusable blocks: a name, its parameters and its layers. A layer invokes one by name.",
            "type": "object",
            "propertyNames": {"not": {"enum": sorted(REGISTRY) + list(LAYER_KEYS) + list(RESERVED)}},
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "params": {
                        "description": "The block's parameters and their defaults (null: required); the layers "
                                       "use them as $name.",
                        "type": "object",
                        "additionalProperties": {"anyOf": [{"type": "null"}, _ref("block_value")]},
                    },
                    "layers": _ref(f"layers{WITH_BLOCKS}"),
                    "description": {"description": "What the block is (free text)."},
                },
                "required": ["layers"],
                "additionalProperties": False,
            },
        },
        **layer_defs(""),
        **layer_defs(WITH_BLOCKS),
    }


COUNT_TEXT = r"^\s*(\d[\d_]*(\.\d*)?|\.\d+)\s*[kKmMgGtT]?\s*$"
SIZE_TEXT = r"^\s*(\d+(\.\d*)?|\.\d+)\s*([bB]|[kKmMgGtT][iI]?[bB])?\s*$"


def budget_schema() -> Schema:
    """The `budget:` key: limits that `cnncalc check` holds the network to."""
    from .training import OPTIMIZERS, TRAINING_DTYPES

    count = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": COUNT_TEXT}]}
    size = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": SIZE_TEXT}]}
    return {
        "description": "Limits that `cnncalc check` holds the network to (a --max-* flag overrides one). Counts "
                       "take K, M, G, T (10³ … 10¹²); sizes KiB, MiB, GiB (2¹⁰ …) or kB, MB, GB (10³ …).",
        "type": "object",
        "properties": {
            "params": {**count, "description": "The most parameters (weights and biases), e.g. 25M."},
            "macs": {**count, "description": "The most multiply-accumulates per sample, e.g. 5G."},
            "activations": {**size, "description": "The most activation memory per sample, forward (every "
                                                   "layer's output), e.g. 100MiB."},
            "rf": {"type": "integer", "minimum": 1,
                   "description": "The least receptive field, in input pixels per spatial dim, at the last layer "
                                  "with spatial dims."},
            "memory": {
                "description": "The most memory, as `cnncalc memory` computes it: a size (training at batch 1), "
                               "or the size and its settings.",
                "anyOf": [size, {
                    "type": "object",
                    "properties": {
                        "training": {**size, "description": "The most memory of one training step."},
                        "inference": {**size, "description": "The most memory of a forward pass."},
                        "batch": {"type": "integer", "minimum": 1, "description": "Samples per batch (default 1)."},
                        "optimizer": {"enum": list(OPTIMIZERS), "default": "sgd",
                                      "description": "The optimizer (its state counts)."},
                        "dtype": {"enum": list(TRAINING_DTYPES), "description": "The dtype to train in "
                                                                               "(default: the spec's)."},
                        "mixed": {"type": "boolean", "default": False,
                                  "description": "Mixed precision: 16-bit values, float32 master weights."},
                    },
                    "additionalProperties": False,
                    "oneOf": [{"required": ["training"]}, {"required": ["inference"]}],
                }],
            },
        },
        "additionalProperties": False,
    }


def root_schema() -> Schema:
    """The spec's top-level mapping."""
    return {
        "type": "object",
        "properties": {
            "name": {"description": "The network's name (default: the file name).",
                     "anyOf": [{"type": "string", "minLength": 1, "pattern": SPEC_NAME_PATTERN}, {"type": "number"}]},
            "input": {
                "description": "The input shape, channels first: [C], [C, L], [C, H, W] or [C, D, H, W].",
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 1 + MAX_SPATIAL_DIMS,
            },
            "dtype": {"description": "Bytes per value for the memory totals.", "enum": list(DTYPE_BYTES),
                      "default": DEFAULT_DTYPE},
            "blocks": _ref("block_definitions"),
            "layers": {"description": "The layers in order."},
            "budget": budget_schema(),  # the if/then/else below gives their shape
        },
        "required": ["input", "layers"],
        "additionalProperties": False,
        "if": {"required": ["blocks"]},
        "then": {"properties": {"layers": _ref(f"layers{WITH_BLOCKS}")}},
        "else": {"properties": {"layers": _ref("layers")}},
    }
# == end of the structure ===================================================================================


def spec_schema() -> Schema:
    """The whole schema, as a JSON-ready dict."""
    return {
        "$schema": DIALECT,
        "title": "cnncalc spec",
        "description": "A convolutional network for cnncalc: the input shape and the layers in order.",
        "$comment": f"Generated from cnncalc {__version__}'s layer registry by `cnncalc schema`.",
        **root_schema(),
        "$defs": {**structure_defs(), **kinds_defs()},
    }


def render_schema() -> str:
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
