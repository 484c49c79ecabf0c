"""One memory story: `shapes` and `memory` give the same figure for what backward keeps, worked out here by
hand from the lecture's VGG16 column, and each says in one sentence how it differs from every layer's output."""

from __future__ import annotations

import json

from .cli_harness import run
from .conftest import SPECS

VGG16 = str(SPECS / "vgg16.yaml")
# the lecture's column: the input, 13 conv outputs (kept as their relus' outputs), 5 pool outputs, 3 fc outputs
LECTURE = (224 * 224 * 3 + 2 * 224 * 224 * 64 + 112 * 112 * 64 + 2 * 112 * 112 * 128 + 56 * 56 * 128
           + 3 * 56 * 56 * 256 + 28 * 28 * 256 + 3 * 28 * 28 * 512 + 14 * 14 * 512 + 3 * 14 * 14 * 512
           + 7 * 7 * 512 + 4096 + 4096 + 1000)
POOL_INDICES = 112 * 112 * 64 + 56 * 56 * 128 + 28 * 28 * 256 + 14 * 14 * 512 + 7 * 7 * 512  # int64, one per output
DROPOUT_MASKS = 2 * 4096  # one byte per value
KEPT = 4 * LECTURE + 8 * POOL_INDICES + DROPOUT_MASKS
SENTENCE = "what backward keeps, not every layer's output"


def test_shapes_and_memory_tell_one_memory_story():
    assert LECTURE == 15_237_608  # the notes' "24M" summed right
    shapes = run(["shapes", VGG16, "--no-color"]).stdout
    memory = run(["memory", VGG16, "--no-color"]).stdout
    figure = f"{KEPT / 1024**2:.1f} MiB"
    kept_line = next(line for line in shapes.splitlines() if line.startswith("Kept for backward:"))
    assert f"Kept for backward: {LECTURE:,} values at 4 B + {POOL_INDICES:,} indices at 8 B + {DROPOUT_MASKS:,} mask " \
           f"at 1 B = {figure} per sample" in kept_line and SENTENCE in kept_line
    assert f"{figure} ({KEPT:,} bytes) of activations: {SENTENCE}" in memory
    # the lecture's ×2 appears only labelled as the lecture's rule of thumb
    assert shapes.count("(×2)") == 1 and "the lecture's rule of thumb for training (×2)" in shapes
    totals = json.loads(run(["shapes", VGG16, "--format", "json"]).stdout)["totals"]
    assert totals["training_activation_bytes"] == KEPT == json.loads(
        run(["memory", VGG16, "--format", "json"]).stdout)["kept_for_backward"]
