"""Words a newcomer brings from other frameworks and notations, and how cnncalc writes them.

Each function gives the words an error adds (empty when it has nothing to add); none accepts the
foreign word: the spec stays an error until it is written cnncalc's way.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from .problems import ERROR, Problem

if TYPE_CHECKING:
    from .spec import Spec

_FOREIGN = {  # another framework's kind (lower case, no '_', no 1d/2d/3d) → cnncalc's
    "dense": "fc", "linear": "fc", "fullyconnected": "fc", "innerproduct": "fc", "gemm": "fc",
    "convolution": "conv", "convtranspose": "deconv", "conv2dtranspose": "deconv", "transposedconv": "deconv",
    "deconvolution": "deconv", "depthwiseconv": "dwconv", "maxpooling": "maxpool", "averagepooling": "avgpool",
    "avgpooling": "avgpool", "averagepool": "avgpool", "globalaveragepooling": "globalavgpool",
    "globalmaxpooling": "globalmaxpool", "adaptiveavgpool": "adaptiveavgpool", "batchnormalization": "batchnorm",
    "bn": "batchnorm", "upsampling": "upsample", "zeropadding": "pad",
}
_WHY = {
    "fc": "cnncalc calls a fully connected layer fc",
    "conv": "cnncalc calls a convolution conv, in any number of dimensions: the input's shape gives them",
    "deconv": "cnncalc calls a transposed convolution deconv",
    "dwconv": "cnncalc calls a depthwise convolution dwconv",
}
_FOLDS = re.compile(r"[_\s-]")
_DIMS = re.compile(r"([123])d$")
ACTIVATION_KEYS = frozenset({"activation", "act", "activation_fn", "nonlinearity"})


def kind_hint(word: str, kinds: Iterable[str]) -> str:
    """"; did you mean 'fc'? (cnncalc calls a fully connected layer fc)" for a kind written as PyTorch, Keras
    or Caffe write it (`dense`, `Linear`, `Conv2d`, `ReLU`, `MaxPool2d`, `BatchNorm2d`), else ''."""
    if len(word) > 40:
        return ""
    known = set(kinds)
    folded = _DIMS.sub("", _FOLDS.sub("", word).lower())
    target = folded if folded in known else _FOREIGN.get(folded)
    if target is None or target == word or target not in known:
        return ""
    why = _WHY.get(target)
    if why is None:
        dims = _DIMS.search(word.lower())
        if _FOLDS.sub("", word.lower()) in (target, target + (dims.group(0) if dims else "")):
            ways = (["in lower case"] if word != word.lower() else []) + (
                [f"without '{dims.group(0)}': the input's shape gives the dimensions"] if dims else [])
            why = "cnncalc writes its kinds " + ", ".join(ways) if ways else f"cnncalc calls it {target}"
        else:
            why = f"cnncalc calls it {target}"
    return f"; did you mean '{target}'? ({why})"


def activation_hint(kind: str, value: object, kinds: Iterable[str]) -> str | None:
    """For `activation: tanh` inside a layer: activations are layers of their own in cnncalc."""
    known = set(kinds)
    word = value.strip() if isinstance(value, str) and len(value) <= 40 else ""
    folded = _FOLDS.sub("", word).lower()
    name = word if word in known else folded if folded in known else "relu"
    return f"cnncalc writes activations as their own layers: add `- {name}` after the {kind}"


_TIMES = re.compile(r"^\s*(\d{1,9})(?:\s*[x×X*]\s*(\d{1,9})){1,2}\s*$")


def size_hint(text: str) -> str:
    """"; write [5, 5] (one per spatial dim) or 5" for a size written `5x5`, else ''."""
    if len(text) > 40 or not _TIMES.match(text):
        return ""
    numbers = [int(n) for n in re.split(r"\s*[x×X*]\s*", text.strip())]
    single = f" or {numbers[0]}" if len(set(numbers)) == 1 else ""
    return f"; write [{', '.join(map(str, numbers))}] (one per spatial dim){single}"


def channels_last_hint(shape: tuple[int, ...]) -> str:
    """"input is [C, H, W], channels first: did you mean [1, 32, 32]?" for an input written [32, 32, 1]."""
    if len(shape) < 3 or shape[-1] not in (1, 3, 4) or shape[0] != shape[1] or shape[0] == shape[-1]:
        return ""
    letters = "C, " + ", ".join(("D", "H", "W")[3 - (len(shape) - 1):]) if len(shape) <= 4 else "C, …"
    guess = (shape[-1],) + shape[:-1]
    return f"input is [{letters}], channels first: did you mean [{', '.join(map(str, guess))}]?"


def explained(problems: list[Problem], spec: Spec) -> list[Problem]:
    """Errors with the words a newcomer needs: an error inside a block used several times names the use that
    failed (its location is the block's definition); the first error of a channels-last input says so."""
    uses: dict[str, int] = {}
    blocks = [span for span in spec.structure if span.kind == "block" and span.location is not None]
    for span in blocks:
        uses[span.label] = uses.get(span.label, 0) + 1
    blocks = [span for span in blocks if uses[span.label] > 1]
    position = {layer.path: i for i, layer in enumerate(spec.layers, 1)} if blocks else {}
    hint = channels_last_hint(spec.input_shape)
    result = []
    for problem in problems:
        if problem.severity == ERROR and problem.layer:
            at = position.get(problem.layer, 0)
            words = [f"block '{span.label}' as used at {span.location}"
                     for span in blocks if span.first <= at <= span.last]
            if hint:
                words.append(hint)
                hint = ""
            if words:
                problem = problem._replace(message=problem.message + "; " + "; ".join(words))
        result.append(problem)
    return result
