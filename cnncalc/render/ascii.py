"""`--ascii`: cnncalc's output in plain ASCII, for terminals, logs and fonts without Unicode.

cnncalc's own symbols get their usual ASCII spelling: × → x, · → *, − → -, ≥ → >=, 10⁶ → 10^6, Φ → Phi,
box drawing → + - |. Anything else (a layer name in another script) loses its accents (é → e) or, failing
that, becomes '?', so that the output is ASCII whatever the spec holds.
"""

from __future__ import annotations

import re
import unicodedata

SYMBOLS = {
    "×": "x", "·": "*", "−": "-", "–": "-", "—": "-", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "≠": "!=",
    "≈": "~", "ᵀ": "^T", "√": "sqrt", "…": "...", "Φ": "Phi", "‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ",
    "─": "-", "━": "-", "│": "|", "┃": "|", "├": "|", "└": "`", "┌": "+", "┐": "+", "┘": "+", "┬": "+", "┴": "+",
    "┼": "+", "┤": "|", "▸": ">", "▾": "v",
}
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
_SUPERSCRIPT_RUN = re.compile(f"[{SUPERSCRIPTS}]+")
_FROM_SUPERSCRIPT = str.maketrans(SUPERSCRIPTS, "0123456789-")
_TABLE = str.maketrans(SYMBOLS)


def to_ascii(text: str) -> str:
    """The text in ASCII: known symbols spelt out, superscripts as ^n, accents dropped, the rest '?'."""
    if text.isascii():
        return text
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group().translate(_FROM_SUPERSCRIPT), text).translate(_TABLE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isascii() else "?" for c in decomposed if not unicodedata.combining(c))
