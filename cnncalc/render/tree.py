"""Which rows a table shows: layers and groups as a tree, collapsed below `depth` (like torchinfo's depth)."""

from typing import Iterator, NamedTuple

from ..report import GroupResult, LayerResult, Report


class Row(NamedTuple):
    indent: int  # nesting level, 0 at the top
    layer: LayerResult | None = None
    group: GroupResult | None = None
    collapsed: bool = False  # a group shown as one row with its subtotals
    parent: str = ""  # the enclosing group's name

    @property
    def label(self) -> str:
        """The name without its enclosing group's prefix: `conv1` under `layer1.basic1`."""
        name = self.group.name if self.group is not None else self.layer.name
        prefix = self.parent + "."
        return name[len(prefix):] if self.parent and name.startswith(prefix) else name


def tree_rows(report: Report, depth: int | None = None) -> list[Row]:
    """Group header rows before their layers; at level `depth` a group is one collapsed row."""
    return list(iter_tree_rows(report, depth))


def iter_tree_rows(report: Report, depth: int | None = None) -> Iterator[Row]:
    """tree_rows one row at a time."""
    groups = {g.name: g for g in report.groups}
    opened: set[str] = set()
    block: tuple[str, ...] | None = None
    hidden = False
    for layer in report.layers:
        if layer.block is not block:  # layers of one group share its path: looked at once per run of them
            block = layer.block
            hidden = False
            for level, name in enumerate(block, start=1):
                collapsed = depth is not None and level >= depth
                if name not in opened:
                    opened.add(name)
                    parent = block[level - 2] if level > 1 else ""
                    yield Row(level - 1, group=groups[name], collapsed=collapsed, parent=parent)
                if collapsed:
                    hidden = True
                    break
        if not hidden:
            yield Row(len(block), layer=layer, parent=block[-1] if block else "")
