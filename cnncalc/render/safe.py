"""Text from a spec made safe for what reads it: a terminal, a CI log, JSON, Markdown, a spreadsheet.

A spec is written by anyone (a pull request), and its names are printed by cnncalc into places that act
on what they read: a CI log runs `::error ...` workflow commands found at the start of a line, a terminal
obeys escape sequences, GitHub renders Markdown and its HTML, a spreadsheet evaluates a cell starting
with '='. Every name is therefore printed on one line, with its control characters made visible:

    visible("a\\nb\\x1b[2J")  →  'a\\\\nb\\\\x1b[2J'    (the two characters '\\' 'n', not a line break)

A lone surrogate (a UTF-16 half, which YAML's "\\ud800" escape can produce and no UTF-8 stream can
write) is shown as U+D800 in text and as the escape \\ud800 in JSON.
"""

from __future__ import annotations

import re

# Patterns are compiled on first use (re keeps them): most commands never write JSON or Markdown.
_SURROGATES = "[\ud800-\udfff]"
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible_char(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return f"U+{ord(char):04X}"
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` on one line: every character that is not printable (controls, line and paragraph
    separators, bidirectional overrides, surrogates; a space is kept) written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _visible_char(c) for c in text)


def json_text(document: str) -> str:
    """A JSON document written by json.dumps(ensure_ascii=False) with its lone surrogates as \\uXXXX
    escapes, so that it can be written as UTF-8 (surrogates only occur inside JSON strings)."""
    return re.sub(_SURROGATES, lambda match: f"\\u{ord(match.group()):04x}", document)


_MARKDOWN_SPECIAL = r"[\\`*\[\]<>|~&!#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"


def markdown_text(text: str) -> str:
    """Text from a spec inside GitHub-flavoured Markdown, table cells and headings alike: one visible
    line, every character with a Markdown or HTML meaning escaped with a backslash (a backslash first,
    so that `a\\|b` cannot become an escaped backslash and a cell break). `<img ...>` stays text."""
    return re.sub(_MARKDOWN_SPECIAL, lambda match: "\\" + match.group(), visible(text))


CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A cell from a spec in CSV: one visible line, and a cell a spreadsheet would run as a formula
    (starting with =, +, -, @, tab or CR: OWASP's CSV injection rule) prefixed with a '."""
    if text.startswith(CSV_FORMULA_STARTS):
        text = "'" + text
    return visible(text)
