"""`memory` and `fit` as a table (render/layout.py), JSON, CSV or Markdown. Formatting only: the numbers come
from sizing.py."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, TextIO

from ..kinds import REGISTRY
from ..memory import SavedTensor
from ..sizing import Breakdown, Component, FitReport, MemoryReport, Term, peak_text
from ..timeline import BLOCK, CATEGORIES
from .console import TableOptions, show
from .json_ import fields_dict
from .layout import BOLD, DIM, LABEL, NOTE, NUMBER, Block, Cell, Column, Para, Row, Table
from .numbers import byte_size, shape_text, thousands
from .safe import json_text, markdown_text, visible

BAR_WIDTH = 16
MARKDOWN_BAR_WIDTH = 12
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(part: int, whole: int, width: int = BAR_WIDTH, ascii: bool = False) -> str:
    """A bar of `width` characters filled in proportion part/whole, to an eighth of a character; in ASCII,
    '#' to the nearest character."""
    if ascii:
        return "#" * (round(width * part / whole) if whole else 0)
    eighths = round(8 * width * part / whole) if whole else 0
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def term_text(term: Term) -> str:
    """'2 × 138,357,544 × 4 B (exp_avg, exp_avg_sq)'."""
    text = (f"{term.copies} × " if term.copies != 1 else "") + f"{thousands(term.values)} × {term.bytes_per_value} B"
    return text + (f" ({term.what})" if term.what else "")


def arithmetic(component: Component, batch: int) -> str:
    """The component's bytes as a sum: batch × (per-sample terms) + the fixed terms."""
    per = [term_text(t) for t in component.terms if t.per_sample]
    fixed = [term_text(t) for t in component.terms if not t.per_sample]
    parts = []
    if per:
        inner = " + ".join(per)
        parts.append(inner if batch == 1 else f"{batch} × " + (f"({inner})" if len(per) > 1 else inner))
    parts.extend(fixed)
    return " + ".join(parts) if parts else "0"


def settings_text(report: MemoryReport | FitReport) -> str:
    s = report.settings
    if s.mixed:
        precision = f"mixed precision ({s.dtype} weights, gradients and activations, float32 master weights and state)"
    else:
        precision = s.dtype
    inference = not s.trains or getattr(report, "mode", "training") == "inference"
    return precision if inference else f"{precision}, {s.optimizer}"


def memory_title(report: MemoryReport) -> str:
    return f"{visible(report.name)}: input {shape_text(report.input_shape)}, batch {report.batch}, {settings_text(report)}"


def saved_text(saved: SavedTensor) -> str:
    """'output 3,211,264 × 4 B', 'input (counted at relu2)', 'mean 64 × 4 B per batch'."""
    if not saved.first:
        return f"{saved.what} (counted at {saved.counted_at})"
    return (f"{saved.what} {thousands(saved.values)} × {saved.bytes_per_value} B"
            + ("" if saved.per_sample else " per batch"))


def layer_rows(report: MemoryReport) -> list[tuple[str, str, str, str, int]]:
    """(index, name, layer, what it keeps, bytes counted there at the batch), the input first."""
    by_layer: dict[str, list[SavedTensor]] = {}
    for saved in report.saved:
        by_layer.setdefault(saved.layer, []).append(saved)
    rows = []
    entries = [("0", "input", "input")] + [(str(r.index), r.name, r.description) for r in report.layers]
    for index, name, description in entries:
        kept = by_layer.get(name, [])
        rows.append((index, name, description, ", ".join(saved_text(s) for s in kept) or "nothing",
                     sum(s.bytes_at(report.batch) for s in kept if s.first)))
    return rows


def sections(report: MemoryReport) -> list[tuple[str, Breakdown]]:
    """The breakdowns to show: training (when the dtype trains) and inference."""
    out = []
    if report.timeline is not None:
        out.append((f"Training: the peak of one step (forward, backward, update), {peak_text(report.timeline)}",
                    report.training))
    out.append(("Inference (forward only)", report.inference))
    return out


def training_notes(report: MemoryReport, si: bool = False) -> list[str]:
    """What the training total is and is not: the sum it replaced, and what a GPU adds on top."""
    line = report.timeline
    if line is None:
        return [f"{report.settings.dtype} runs inference only: cnncalc does not model training in it "
                "(pass --dtype float16, bfloat16 or float32 for training memory)."]
    notes = []
    if report.kept is not None:
        notes.append(f"Everything kept for backward at once: {byte_size(report.kept.bytes, si)} "
                     f"({thousands(report.kept.bytes)} bytes) of activations: what backward keeps, not every "
                     "layer's output; by the peak some are freed and gradients have appeared.")
    notes.append(f"On a GPU, blocks rounded up to {BLOCK} bytes make the peak {byte_size(line.rounded_peak_bytes, si)} "
                 f"(+{thousands(line.rounded_peak_bytes - line.peak_bytes)} bytes); the CUDA context "
                 "(~300-500 MiB), cuDNN workspace and the allocator's 2 MiB segments come on top.")
    return notes


KEPT_COLUMNS = (Column("index", "#", NUMBER, 20), Column("name", "name", LABEL, 100, right=False),
                Column("layer", "layer", NUMBER, 60, right=False), Column("keeps", "keeps", NOTE, 50, right=False),
                Column("bytes", "bytes", NUMBER, 90))
BREAKDOWN_COLUMNS = (Column("component", "component", LABEL, 100, right=False),
                     Column("arithmetic", "arithmetic", NOTE, 40, right=False), Column("bytes", "bytes", NUMBER, 90),
                     Column("bar", "", NUMBER, 30, right=False), Column("share", "share", NUMBER, 80),
                     Column("note", "note", NOTE, 20, right=False))
MEMORY_KEYS = ["index", "name", "layer", "keeps", "bytes", "component", "arithmetic", "bar", "share", "note"]


def memory_blocks(report: MemoryReport, si: bool = False, layers: bool = True, ascii: bool = False) -> list[Block]:
    """The title, the tensors each layer keeps (unless `layers` is False), the training and inference
    breakdowns, the lower-bound note."""
    blocks: list[Block] = [Para(memory_title(report), BOLD)]
    if layers:
        rows = [Row((index, name, description, kept, byte_size(counted, si)))
                for index, name, description, kept, counted in layer_rows(report)]
        blocks += [Table(KEPT_COLUMNS, rows, "Tensors kept for the backward pass"),
                   Para("A tensor kept by several layers (a conv output, kept by the in-place ReLU after it and by the "
                        "next layer) is counted once, where it is first kept.", DIM), Para("")]
    for heading, section in sections(report):
        rows = [Row((c.label, arithmetic(c, report.batch), byte_size(c.bytes, si),
                     bar(c.bytes, section.total, ascii=ascii), percent(c.bytes, section.total), Cell(c.note, mark=DIM)))
                for c in section.components]
        rows.append(Row(("total", f"{byte_size(section.fixed_bytes, si)} + {report.batch} × "
                                  f"{byte_size(section.per_sample_bytes, si)} per sample",
                         byte_size(section.total, si), "", "100%", f"{thousands(section.total)} bytes"), BOLD))
        blocks.append(Table(BREAKDOWN_COLUMNS, rows, heading))
    blocks += [Para(note, DIM) for note in training_notes(report, si)]
    return blocks




def render_memory_table(report: MemoryReport, options: TableOptions = TableOptions(), si: bool = False,
                        layers: bool = True, out: TextIO | None = None) -> None:
    show(memory_blocks(report, si, layers, options.ascii), options, out)


FIT_NOTE = ("The reserve covers what a GPU adds on top: the CUDA context (~300-500 MiB), cuDNN workspace, "
            "the allocator's 512-byte blocks and 2 MiB segments.")
LOWER_BOUND_NOTE = ("A lower bound: framework workspace (cuDNN), the CUDA context (~300-500 MiB) and allocator "
                    "fragmentation come on top, often 10-30% more.")


def _component_dict(c: Component) -> dict[str, Any]:
    return {**fields_dict(c, ("key", "label", "bytes", "fixed_bytes", "per_sample_bytes")),
            "terms": [fields_dict(t, ("what", "values", "copies", "bytes_per_value", "per_sample", "bytes"))
                      for t in c.terms],
            "note": c.note}


def _section_dict(section: Breakdown) -> dict[str, Any]:
    return {"components": [_component_dict(c) for c in section.components], "fixed_bytes": section.fixed_bytes,
            "per_sample_bytes": section.per_sample_bytes, "total": section.total}


def timeline_dict(report: MemoryReport) -> dict[str, Any] | None:
    """The step's moments as plain data: phase, layer, bytes per category at the report's batch."""
    line = report.timeline
    if line is None:
        return None
    batch = report.batch
    return {
        "categories": list(CATEGORIES),
        "peak": line.peak,
        "peak_bytes": line.peak_bytes,
        "block_bytes": BLOCK,
        "rounded_peak": line.rounded_peak,
        "rounded_peak_bytes": line.rounded_peak_bytes,
        "moments": [{"phase": m.phase, "layer": m.layer, "bytes": m.at(batch), "rounded_bytes": rounded,
                     "parts": [f + batch * p for f, p in zip(m.fixed, m.per_sample)]}
                    for m, rounded in zip(line.moments, line.rounded)],
    }


def memory_dict(report: MemoryReport) -> dict[str, Any]:
    training, inference = report.training, report.inference
    keys = {c.key: c.bytes for c in training.components}
    by_layer: dict[str, list[SavedTensor]] = {}
    for s in report.saved:  # grouped once: linear in the layers
        by_layer.setdefault(s.layer, []).append(s)
    line = report.timeline
    return {
        "name": report.name,
        "source": report.source,
        "input": list(report.input_shape),
        "batch": report.batch,
        "dtype": report.settings.dtype,
        "mixed": report.settings.mixed,
        "optimizer": report.settings.optimizer,
        "attention": report.settings.attention,
        "trains": line is not None,
        "params": report.params,
        "non_trainable": report.non_trainable,
        "parameters": report.inference["parameters"].bytes,
        "master_weights": keys.get("master_weights", 0),
        "gradients": keys.get("gradients", 0),
        "optimizer_state": keys.get("optimizer_state", 0),
        "buffers": report.inference["buffers"].bytes,
        "input_batch": keys.get("input", 0),
        "activations": keys.get("activations", 0),
        "activation_gradients": keys.get("activation_gradients", 0),
        "temporaries": keys.get("temporaries", 0),
        "kept_for_backward": report.kept.bytes if report.kept is not None else 0,
        "inference_peak": inference["inference_peak"].bytes,
        "total": training.total if line is not None else None,
        "peak_at": ({"phase": line.peak_moment.phase, "layer": line.peak_moment.layer, "text": peak_text(line)}
                    if line is not None else None),
        "gpu_rounded_total": line.rounded_peak_bytes if line is not None else None,
        "inference_total": inference.total,
        "training": _section_dict(training),
        "inference": _section_dict(inference),
        "peak": {"values": report.peak.values, "layer": report.peak.layer, "live": list(report.peak.live),
                 "scratch": None if report.peak.scratch is None else report.peak.scratch._asdict()},
        "timeline": timeline_dict(report),
        "layers": [
            {"name": name, "saved": [
                {"what": s.what, "values": s.values, "bytes_per_value": s.bytes_per_value, "per_sample": s.per_sample,
                 "storage": s.storage, "counted_at": s.counted_at, "bytes": s.bytes_at(report.batch) if s.first else 0}
                for s in by_layer.get(name, ())]}
            for name in ["input"] + [r.name for r in report.layers]
        ],
    }


def render_memory_json(report: MemoryReport) -> str:
    return json_text(json.dumps(memory_dict(report), indent=2, ensure_ascii=False)) + "\n"


MEMORY_CSV_COLUMNS = ("section", "component", "bytes", "fixed_bytes", "per_sample_bytes", "batch", "arithmetic")


def render_memory_csv(report: MemoryReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MEMORY_CSV_COLUMNS)
    for name, section in (("training", report.training), ("inference", report.inference)):
        if name == "training" and report.timeline is None:
            continue
        for c in section.components:
            writer.writerow((name, c.key, c.bytes, c.fixed_bytes, c.per_sample_bytes, report.batch,
                             arithmetic(c, report.batch)))
        writer.writerow((name, "total", section.total, section.fixed_bytes, section.per_sample_bytes, report.batch, ""))
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A cell, heading or line of Markdown: names from the spec escaped for GitHub (safe.markdown_text)."""
    return markdown_text(text)


def render_memory_markdown(report: MemoryReport, si: bool = False, layers: bool = True) -> str:
    lines = [f"### {_cell(memory_title(report))}", ""]
    for heading, section in sections(report):
        lines += [f"{_cell(heading)}:", "", "| component | arithmetic | bytes | share |", "|---|---|---:|---|"]
        for c in section.components:
            note = f" — {_cell(c.note)}" if c.note else ""
            lines.append(f"| {_cell(c.label)} | {_cell(arithmetic(c, report.batch))}{note} | {byte_size(c.bytes, si)} "
                         f"| {bar(c.bytes, section.total, MARKDOWN_BAR_WIDTH)} {percent(c.bytes, section.total)} |")
        lines += [f"| **total** | {byte_size(section.fixed_bytes, si)} + {report.batch} × "
                  f"{byte_size(section.per_sample_bytes, si)} per sample | **{byte_size(section.total, si)}** "
                  f"| 100% |", ""]
    if layers:
        lines += ["Tensors kept for the backward pass:", "", "| # | name | layer | keeps | bytes |",
                  "|---:|---|---|---|---:|"]
        for index, name, description, kept, counted in layer_rows(report):
            lines.append(f"| {index} | {_cell(name)} | {_cell(description)} | {_cell(kept)} | "
                         f"{byte_size(counted, si)} |")
        lines.append("")
    lines += [f"- {_cell(note)}" for note in training_notes(report, si)]
    return "\n".join(lines) + "\n"


def saved_rules_markdown() -> str:
    """The documentation's table of what each kind keeps for backward, from the registry: kinds with the
    same rule share a row."""
    rules: dict[str, list[str]] = {}
    for kind in REGISTRY.values():
        rules.setdefault(kind.saved_rule, []).append(f"`{kind.name}`")
    lines = ["| kind | kept for the backward pass |", "|---|---|"]
    lines += [f"| {', '.join(names)} | {_cell(rule)} |" for rule, names in rules.items()]
    return "\n".join(lines) + "\n"


# --- fit ----------------------------------------------------------------------------------------

def fit_lines(report: FitReport, si: bool = False) -> list[str]:
    b = lambda n: byte_size(n, si)  # noqa: E731
    lines = [
        f"{visible(report.name)}: {report.mode}, {settings_text(report)}",
        f"budget {b(report.budget)} − reserve {b(report.reserve)} = {b(report.usable)} usable "
        f"({thousands(report.usable)} bytes)",
        f"memory = {b(report.fixed_bytes)} + batch × {b(report.per_sample_bytes)} "
        f"({thousands(report.fixed_bytes)} + batch × {thousands(report.per_sample_bytes)} bytes)",
    ]
    if report.batch == 0:
        lines.append(f"does not fit: batch 1 needs {b(report.bytes_at_next)}, {b(report.missing)} "
                     f"({thousands(report.missing)} bytes) more than the {b(report.usable)} usable")
        return lines
    lines += [
        f"largest batch: {report.batch} ({b(report.bytes_at_batch)}: {thousands(report.bytes_at_batch)} bytes; "
        f"batch {report.batch + 1} would need {thousands(report.bytes_at_next)})"
        + (f"; the peak comes {report.peak}" if report.peak else ""),
        f"largest power of two: {report.batch_power_of_two} ({b(report.bytes_at_power_of_two)})",
    ]
    epoch = report.epoch
    if epoch is not None:
        lines.append(
            f"dataset of {thousands(epoch.size)}: {thousands(epoch.iterations)} iterations per epoch at batch "
            f"{report.batch}, {thousands(epoch.iterations_power_of_two)} at {report.batch_power_of_two}; "
            f"full batch ({thousands(epoch.size)} at once): {epoch.full_batch_iterations} "
            f"({b(epoch.full_batch_bytes)}, {'fits' if epoch.full_batch_fits else 'does not fit'}); "
            f"stochastic (batch 1): {thousands(epoch.stochastic_iterations)}")
    return lines


def render_fit_table(report: FitReport, options: TableOptions = TableOptions(), si: bool = False,
                     out: TextIO | None = None) -> None:
    blocks: list[Block] = [Para(line, BOLD if line.startswith(("largest batch", "does not fit")) else None)
                           for line in fit_lines(report, si)]
    show(blocks + [Para(FIT_NOTE, DIM)], options, out)


def fit_dict(report: FitReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": report.name,
        "mode": report.mode,
        "dtype": report.settings.dtype,
        "mixed": report.settings.mixed,
        "optimizer": report.settings.optimizer,
        "attention": report.settings.attention,
        "batch": report.batch,
        "batch_power_of_two": report.batch_power_of_two,
        "bytes_at_batch": report.bytes_at_batch,
        "bytes_at_power_of_two": report.bytes_at_power_of_two,
        "bytes_at_next": report.bytes_at_next,
        "budget": report.budget,
        "reserve": report.reserve,
        "usable": report.usable,
        "fixed_bytes": report.fixed_bytes,
        "per_sample_bytes": report.per_sample_bytes,
        "fits": report.batch > 0,
        "missing": report.missing,
        "peak_at": report.peak,
    }
    if report.epoch is not None:
        e = report.epoch
        data["dataset"] = {"size": e.size, "iterations": e.iterations,
                           "iterations_power_of_two": e.iterations_power_of_two,
                           "full_batch_iterations": e.full_batch_iterations, "full_batch_bytes": e.full_batch_bytes,
                           "full_batch_fits": e.full_batch_fits, "stochastic_iterations": e.stochastic_iterations}
    return data


def render_fit_json(report: FitReport) -> str:
    return json_text(json.dumps(fit_dict(report), indent=2, ensure_ascii=False)) + "\n"


