"""What the commands import: start-up is most of cnncalc's time on a real network, so the commands load
only what they use. Each case runs in a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnncalc.parser import parse_text
from cnncalc.problems import SpecError

from .conftest import ROOT, SPECS, TEST_SPECS

PROBE = """
import os, sys
from cnncalc.cli import main
try:
    main(sys.argv[1:], prog_name="cnncalc")
except SystemExit as done:
    code = done.code
packages = os.environ["PROBE_PACKAGES"].split()
print("exit", code, "loaded", *sorted(name for name in sys.modules if name.split(".")[0] in packages), file=sys.stderr)
"""


def loaded(*args: str, packages: str) -> tuple[int, set[str]]:
    """Run `cnncalc ARGS` in a fresh interpreter: its exit code and which modules of `packages` it imported."""
    env = dict(os.environ, PROBE_PACKAGES=packages,
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", PROBE, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    words = done.stderr.strip().splitlines()[-1].split()
    assert words[0] == "exit", done.stderr
    return int(words[1]), set(words[3:])


@pytest.mark.parametrize("args", [
    ("check", str(SPECS / "vgg16.yaml")),
    ("check", "--format", "json", str(SPECS / "vgg16.yaml")),
    ("check", str(TEST_SPECS / "bad_stride.yaml")),
    ("shapes", "--format", "markdown", str(SPECS / "vgg16.yaml")),
    ("shapes", str(SPECS / "resnet18.yaml")),  # the table, to a pipe
    ("shapes", "--ascii", "--depth", "1", str(SPECS / "resnet18.yaml")),
])
def test_check_the_plain_formats_and_piped_tables_do_not_import_rich(args):
    code, modules = loaded(*args, packages="rich")
    assert code in (0, 1)
    assert modules == set()


def test_check_imports_neither_the_table_nor_sizing_nor_what_only_messages_need():
    code, modules = loaded("check", str(SPECS / "vgg16.yaml"), packages="cnncalc json difflib fractions")
    assert code == 0
    assert {"cnncalc.parser", "cnncalc.engine", "cnncalc.render.problems"} <= modules  # the probe sees imports
    assert not {"cnncalc.render.table", "cnncalc.render.console", "cnncalc.render.layout", "cnncalc.sizing",
                "json", "difflib", "fractions"} & modules



def test_check_of_a_valid_yaml_spec_loads_neither_the_model_readers_nor_what_only_mistakes_need():
    code, modules = loaded("check", str(SPECS / "vgg16.yaml"), packages="cnncalc mmap")
    assert code == 0
    assert {"cnncalc.importers", "cnncalc.read_layers", "cnncalc.values"} <= modules  # the probe sees imports
    # the wire reader (its first byte tells a YAML spec from an ONNX model), the newcomer hints, block expressions
    assert not {"cnncalc.importers.protowire", "mmap", "cnncalc.newcomer", "cnncalc.expr"} & modules


def test_a_mistake_still_gets_its_newcomer_hint_and_an_expression_its_value():
    with pytest.raises(SpecError) as caught:
        parse_text("input: [3, 8, 8]\nlayers:\n  - Linear: 10\n", "t.yaml")
    assert "did you mean 'fc'? (cnncalc calls a fully connected layer fc)" in caught.value.problems[0].message
    spec = parse_text("input: [3, 8, 8]\nblocks:\n  wide:\n    params: {c: 2}\n    layers:\n"
                      "      - conv: {filters: $c * 3, kernel: 1}\nlayers:\n  - wide: {c: 4}\n", "t.yaml")
    assert [layer.params["filters"] for layer in spec.layers] == [12]


@pytest.mark.parametrize("args, command", [
    (("check", str(SPECS / "vgg16.yaml")), "check"),
    (("shapes", str(SPECS / "vgg16.yaml")), "shapes"),
    (("solve", "--input", "32", "--output", "28"), "solve"),
    (("fit", str(SPECS / "lenet5.yaml"), "--memory", "1GiB"), "sizing"),
])
def test_a_command_builds_only_its_own_options(args, command):
    code, modules = loaded(*args, packages="cnncalc")
    assert code == 0
    assert {name for name in modules if name.startswith("cnncalc.cli.")} == {f"cnncalc.cli.{command}"}


@pytest.mark.parametrize("args", [
    ("check", str(SPECS / "resnet152.yaml")),  # floored layers (their messages' decimals), residual merges
    ("shapes", str(SPECS / "vgg16.yaml")),  # short counts, byte sizes
    ("shapes", str(SPECS / "resnet50.yaml")),
])
def test_whole_numbers_need_no_fractions(args):
    code, modules = loaded(*args, packages="fractions decimal")
    assert code == 0
    assert modules == set()


def test_a_typo_still_gets_its_suggestion():  # difflib is imported when a suggestion is wanted
    with pytest.raises(SpecError) as caught:
        parse_text("input: [3, 8, 8]\nlayers:\n  - rleu\n", "t.yaml")
    assert "(did you mean 'relu'?)" in caught.value.problems[0].message


FREEZE_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))  # runs after cnncalc's (LIFO)
from cnncalc.cli import main
main(sys.argv[1:], prog_name="cnncalc")
"""


def test_a_command_leaves_the_objects_alive_at_exit_out_of_the_last_collection_and_writes_everything():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", FREEZE_PROBE, "shapes", "--format", "csv", str(SPECS / "resnet152.yaml")],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stderr.split("frozen ")[1]) > 10_000  # every object alive then: no final search for cycles
    rows = done.stdout.splitlines()  # the header, then one row a layer, the classifier last: 2048·1000 + 1000
    last = rows[-1].split(",")
    assert last[0] == str(len(rows) - 1) and last[2] == "fc" and str(2048 * 1000 + 1000) in last, rows[-1]
