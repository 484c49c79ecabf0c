"""The memory code stays linear in the layers: the inference peak does not copy its live set each time
the peak grows, and `memory`'s JSON and tables read the saved tensors once, not once per layer.

Counted, not timed: the walks over the data are counted through sequences that count their passes,
and the peak's work through valgrind's instruction count when valgrind is installed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnncalc.engine import analyze
from cnncalc.memory import inference_peak
from cnncalc.parser import parse_text
from cnncalc.render.sizing import layer_rows, render_memory_json
from cnncalc.sizing import Settings, memory_report


class Counted(tuple):
    """A tuple that counts how many times it is walked."""

    passes = 0

    def __iter__(self):
        type(self).passes += 1
        return super().__iter__()


def wide(count: int) -> str:
    """`count` convs all reading the input: every output stays alive, so the peak grows at every layer."""
    return f"input: [3, 4, 4]\nlayers:\n  - repeat: {count}\n    layers:\n      - conv: {{filters: 3, kernel: 1}}\n" \
           "        from: input\n"


@pytest.mark.parametrize("count", [50, 400])
def test_memory_json_and_table_walk_the_saved_tensors_a_fixed_number_of_times(count):
    report = memory_report(analyze(parse_text(wide(count), "wide.yaml")), Settings("float32"), 2)
    Counted.passes = 0
    counted = report._replace(saved=Counted(report.saved))
    data = json.loads(render_memory_json(counted))
    rows = layer_rows(counted)
    assert len(data["layers"]) == len(rows) == count + 1
    assert Counted.passes <= 3  # once per use, whatever the number of layers (it was once per layer)
    assert sum(len(layer["saved"]) for layer in data["layers"]) == len(report.saved)


def test_inference_peak_work_is_linear_in_the_layers():
    """Each new peak used to copy the whole live set (`tuple(live)`): n²/2 copies for n growing
    outputs. Four times the layers must cost about four times the instructions, not sixteen."""
    from benchmarks.run import count_instructions

    if count_instructions("pass", []) is None:
        pytest.skip("valgrind is not installed")
    code = ("import sys\nfrom typing import NamedTuple\nfrom cnncalc.memory import inference_peak\n"
            "class N(NamedTuple):\n    name: str\n    inputs: tuple\n    activation_count: int\n    new_tensor: bool\n"
            "n = int(sys.argv[1])\nlayers = [N(f'c{i}', ('input',), 3, True) for i in range(n)]\n"
            "inference_peak(3, layers)\n")
    # once untimed first, so that no count includes compiling a module whose source just changed
    subprocess.run([sys.executable, "-c", code, "1"], check=True)
    bare = count_instructions(code, ["1"])
    small = count_instructions(code, ["5000"]) - bare
    large = count_instructions(code, ["20000"]) - bare
    assert large < 6 * small, (small, large)


def test_inference_peak_keeps_every_unread_output():
    """The pathological graph of the counts above, by hand: every output is a result and stays alive."""
    report = analyze(parse_text(wide(100), "wide.yaml"))
    peak = inference_peak(report.totals.input_activations, report.layers)
    assert peak.values == 48 + 100 * 48 and len(peak.live) == 101 and peak.layer == report.layers[-1].name
