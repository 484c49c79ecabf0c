"""The parsed spec: frozen values with the source location of everything a message may point at."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from .problems import Location, Problem

if TYPE_CHECKING:
    from .budget import Budget

DTYPE_BYTES: Mapping[str, int] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int8": 1,
}
DEFAULT_DTYPE = "float32"
INPUT_NAME = "input"


class LayerSpec(NamedTuple):
    """One layer as written: its kind, its validated parameters and where each came from.

    `params` holds only what the spec wrote (defaults are the kind's business);
    sizes are an int or a tuple with one int per spatial dim.
    """

    kind: str
    name: str
    params: Mapping[str, Any]
    location: Location
    param_locations: Mapping[str, Location] = MappingProxyType({})
    inputs: tuple[str, ...] = ()
    block: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return "/".join(self.block + (self.name,))


class Span(NamedTuple):
    """A stretch of layers the spec wrote as one thing: a `repeat` (count iterations), a block's use, a
    group, or `branches` (count branches; `parts` holds each branch's first and last layer, an empty
    branch as (first, first - 1); the merge is `last`). Layers are counted from 1, as LayerResult.index."""

    kind: str  # "repeat", "block", "group" or "branches"
    name: str  # the group's name ("" when unnamed)
    label: str  # what the spec wrote: the block's name for a block, "" otherwise
    first: int
    last: int
    count: int = 1
    parts: tuple[tuple[int, int], ...] = ()
    location: Location | None = None  # where a block is used (its layers' locations are in its definition)


class Spec(NamedTuple):
    """A whole network: its name, input shape (channels first), dtype and layers in order."""

    name: str
    source: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    dtype: str = DEFAULT_DTYPE
    location: Location = Location("<spec>", 1, 1)
    input_location: Location = Location("<spec>", 1, 1)
    warnings: tuple[Problem, ...] = ()  # found while reading (e.g. an output never used)
    structure: tuple[Span, ...] = ()  # repeats, blocks, groups and branches, outer before inner
    budget: Budget | None = None  # the limits of its `budget:` key, for `check`

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]
