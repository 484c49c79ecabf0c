"""The tree of rows behind the table and Markdown: groups before their layers, collapsed at --depth."""

from cnncalc.engine import analyze
from cnncalc.parser import parse_file
from cnncalc.render.tree import tree_rows

from .conftest import TEST_SPECS


def shown(depth):
    report = analyze(parse_file(TEST_SPECS / "residual.yaml"))
    return [(row.indent, row.label, row.collapsed) if row.group else (row.indent, row.label)
            for row in tree_rows(report, depth)]


def test_depth_one_collapses_top_level_groups():
    assert shown(1) == [(0, "stage", True), (0, "conv1"), (0, "concat1")]


def test_depth_two_shows_blocks_collapsed_inside_the_group():
    assert shown(2) == [(0, "stage", False), (1, "res1", True), (1, "res2", True), (0, "conv1"), (0, "concat1")]


def test_full_depth_shows_every_layer_once_with_local_names():
    rows = shown(None)
    layer_rows = [row for row in rows if len(row) == 2]
    assert len(layer_rows) == 12  # 10 in the stage, then conv1 and concat1
    assert rows[:3] == [(0, "stage", False), (1, "res1", False), (2, "conv1")]
