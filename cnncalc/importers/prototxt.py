"""Protocol-buffer text format (Caffe's .prototxt) → a tree of located entries, without a schema.

    name: "LeNet"
    layer { name: "conv1" type: "Convolution" convolution_param { num_output: 20 kernel_size: 5 } }

A message is a list of entries (name, value, location); a value is a scalar token (a quoted string, a
number or an identifier such as MAX) or a nested message. `key: [1, 2]` lists become repeated entries.
The tokenizer gives each token its line and column; nesting is read with an explicit stack and stops at
MAX_DEPTH; every mistake is a located SpecError.
"""

from __future__ import annotations

import bisect
import re
from typing import Iterator, NamedTuple, Union

from ..problems import Location, Problem, SpecError

MAX_DEPTH = 64
MAX_ENTRIES = 4_000_000
_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n\f\v]+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[fF]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}:\[\],;<>])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "?": "?"}


class Scalar(NamedTuple):
    """A single value as written: its kind ('string', 'number' or 'ident') and its text (strings unquoted)."""

    kind: str
    text: str
    location: Location


class Entry(NamedTuple):
    name: str
    value: Union[Scalar, "Message"]
    location: Location


class Message(NamedTuple):
    entries: list[Entry]
    location: Location

    def all(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.name == name]

    def first(self, name: str) -> Entry | None:
        for e in self.entries:
            if e.name == name:
                return e
        return None


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt.isdigit():  # octal
                digits = re.match(r"[0-7]{1,3}", body[i + 1:])
                if digits:
                    out.append(chr(int(digits.group(), 8)))
                    i += 1 + len(digits.group())
                    continue
        out.append(c)
        i += 1
    return "".join(out)


class _Tokens:
    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tokens = self._scan()  # read as the parser asks: a mistake early in a huge file stops it early
        self.buffered: tuple[str, str, int] | None = None

    def location(self, offset: int) -> Location:
        line = bisect.bisect_right(self.lines, offset) - 1
        return Location(self.source, line + 1, offset - self.lines[line] + 1)

    def _scan(self) -> Iterator[tuple[str, str, int]]:
        text = self.text
        pos, end = 0, len(text)
        match = _TOKEN.match
        while pos < end:
            m = match(text, pos)
            if m is None:
                char = text[pos]
                shown = repr(char) if char.isprintable() else f"byte {ord(char):#04x}"
                raise SpecError([Problem(self.location(pos), f"unexpected character {shown} in the prototxt")])
            kind = m.lastgroup
            if kind != "space":
                yield kind, m.group(), pos
            pos = m.end()

    def peek(self) -> tuple[str, str, int] | None:
        if self.buffered is None:
            self.buffered = next(self.tokens, None)
        return self.buffered

    def next(self, what: str) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise SpecError([Problem(self.location(len(self.text)), f"the prototxt ends where {what} was expected")])
        self.buffered = None
        return token

    def error(self, token: tuple[str, str, int], message: str) -> SpecError:
        return SpecError([Problem(self.location(token[2]), message)])


def parse(text: str, source: str) -> Message:
    """The whole text as the top-level message; raises SpecError with the line and column at fault."""
    tokens = _Tokens(text, source)
    root = Message([], Location(source, 1, 1))
    stack: list[tuple[Message, str]] = [(root, "")]  # (message, its closing bracket)
    count = 0
    while True:
        token = tokens.peek()
        message, closing = stack[-1]
        if token is None:
            if len(stack) > 1:
                raise SpecError([Problem(message.location, f"this '{{' is never closed; add '{closing}'")])
            return root
        kind, value, offset = tokens.next("a field")
        if kind == "punct" and value in (";", ","):
            continue
        if kind == "punct" and value in ("}", ">"):
            if len(stack) == 1 or value != closing:
                raise tokens.error(token, f"unexpected '{value}'" + ("" if len(stack) == 1 else
                                                                      f"; this message closes with '{closing}'"))
            stack.pop()
            continue
        if kind != "ident":
            raise tokens.error(token, f"expected a field name, not {value!r}")
        name, where = value, tokens.location(offset)
        count += 1
        if count > MAX_ENTRIES:
            raise tokens.error(token, f"the prototxt has more than {MAX_ENTRIES:,} fields; cnncalc stops here")
        following = tokens.next(f"a value for '{name}'")
        colon = following[0] == "punct" and following[1] == ":"
        if colon:
            following = tokens.next(f"a value for '{name}'")
        if following[0] == "punct" and following[1] in ("{", "<"):
            if len(stack) > MAX_DEPTH:
                raise tokens.error(following, f"messages are nested more than {MAX_DEPTH} deep here; cnncalc stops "
                                              "there")
            child = Message([], where)
            message.entries.append(Entry(name, child, where))
            stack.append((child, "}" if following[1] == "{" else ">"))
            continue
        if not colon:
            raise tokens.error(following, f"expected ':' or '{{' after '{name}'")
        if following[0] == "punct" and following[1] == "[":
            while True:
                item = tokens.next(f"a value in the list '{name}'")
                if item[0] == "punct" and item[1] == "]":
                    break
                if item[0] == "punct" and item[1] == ",":
                    continue
                message.entries.append(Entry(name, _scalar(tokens, item), where))
            continue
        message.entries.append(Entry(name, _scalar(tokens, following), where))


def _scalar(tokens: _Tokens, token: tuple[str, str, int]) -> Scalar:
    kind, value, offset = token
    if kind == "punct":
        raise tokens.error(token, f"expected a value, not '{value}'")
    location = tokens.location(offset)
    if kind == "string":
        text = _unquote(value)
        while True:  # adjacent strings concatenate
            nxt = tokens.peek()
            if nxt is None or nxt[0] != "string":
                break
            tokens.buffered = None
            text += _unquote(nxt[1])
        return Scalar("string", text, location)
    return Scalar(kind, value, location)
