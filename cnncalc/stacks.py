"""Stack expressions such as `3x3x3 vs 7x7`, parsed into stacks of 2-D convolutions for `cnncalc compare`.

Grammar of an expression (whitespace between tokens is ignored; x may also be written X or ×):

    comparison = stack , { "vs" , stack } ;
    stack      = layer , { "," , layer } ;
    layer      = [ count , "*" ] , size , "x" , size , [ "x" , count ] , [ "@" , channels ] ;

A trailing `x count` is a repeat count and is allowed only after a square kernel and without a
leading `count *`: `3x3x3` = `3*3x3` = three 3×3 convs; `3x1x2` is refused as ambiguous (write `2*3x1`).
"""

from typing import NamedTuple

MAX_STACK_LAYERS = 1000
MAX_DIGITS = 9  # sizes, counts and channels below 10⁹
EXAMPLE = "3x3x3 vs 7x7"
BOTTLENECK_EXAMPLE = "--channels 256 1x1@64,3x3,1x1@256 vs 3x3"
_TIMES = "xX×"


class ExpressionError(Exception):
    """A stack expression that does not parse: `position` is the 0-based index of the bad character
    in `text` (len(text) when the expression ended too early)."""

    def __init__(self, text: str, position: int, message: str, example: str = EXAMPLE):
        super().__init__(message)
        self.text = text
        self.position = position
        self.message = message
        self.example = example


class StackError(Exception):
    """A stack the engine cannot compute with these settings (a kernel larger than the input, ...)."""

    def __init__(self, expression: str, message: str):
        super().__init__(f"{expression}: {message}")
        self.expression = expression
        self.message = message


# -- the expression grammar -------------------------------------------------------------------------------


class StackLayer(NamedTuple):
    """One convolution of a stack: its kernel (height, width) and, when written with @, its output channels
    (None: as many as its input). `position` is where its term starts in the expression (0-based)."""

    kernel: tuple[int, int]
    channels: int | None
    position: int


class Stack(NamedTuple):
    """One stack as written (`text`, starting at `position` in the expression) and its layers in order."""

    text: str
    position: int
    layers: tuple[StackLayer, ...]


class _Token(NamedTuple):
    kind: str  # int, x, *, @, ",", vs, end
    start: int
    end: int
    value: int = 0


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif "0" <= ch <= "9":
            j = i
            while j < len(text) and "0" <= text[j] <= "9":
                j += 1
            if j - i > MAX_DIGITS:
                raise ExpressionError(text, i, f"{text[i:j]} is too large (at most {10**MAX_DIGITS - 1:,})")
            tokens.append(_Token("int", i, j, int(text[i:j])))
            i = j
        elif ch in _TIMES:
            tokens.append(_Token("x", i, i + 1))
            i += 1
        elif ch in "*@,":
            tokens.append(_Token(ch, i, i + 1))
            i += 1
        elif text[i:i + 2].lower() == "vs":
            tokens.append(_Token("vs", i, i + 2))
            i += 2
        else:
            hint = ""
            if ch == "/":
                hint = "; strides are not part of an expression: use --stride"
            elif ch in "vV":
                hint = "; stacks are separated by 'vs'"
            raise ExpressionError(text, i, f"unexpected character '{ch}'{hint}")
    tokens.append(_Token("end", len(text), len(text)))
    return tokens


class _ExpressionParser:
    def __init__(self, text: str, channels_allowed: bool):
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.channels_allowed = channels_allowed

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, token: _Token, message: str, example: str = EXAMPLE) -> ExpressionError:
        return ExpressionError(self.text, token.start, message, example)

    def number(self, what: str, after: str | None) -> _Token:
        """An int token that is at least 1."""
        token = self.peek()
        if token.kind != "int":
            found = "the end of the expression" if token.kind == "end" else f"'{self.text[token.start:token.end]}'"
            raise self.error(token, f"expected {what}{f' after {after}' if after else ''}, found {found}")
        if token.value < 1:
            raise self.error(token, f"{what} must be at least 1")
        return self.advance()

    def comparison(self) -> tuple[Stack, ...]:
        if self.peek().kind == "end":
            raise self.error(self.peek(), "expected a stack such as 3x3x3")
        stacks = [self.stack(None)]
        while self.peek().kind == "vs":
            self.advance()
            stacks.append(self.stack("'vs'"))
        token = self.peek()
        if token.kind == "x":
            raise self.error(token, "a layer has at most three sizes: a kernel KhxKw and, after a square kernel, "
                                    "a repeat count (3x3x3)")
        if token.kind != "end":
            raise self.error(token, "expected ',' between the layers of a stack or 'vs' between stacks")
        return tuple(stacks)

    def stack(self, after: str | None) -> Stack:
        start = self.peek().start
        layers = list(self.term(after))
        while self.peek().kind == ",":
            self.advance()
            term_start = self.peek()
            layers.extend(self.term("','"))
            if len(layers) > MAX_STACK_LAYERS:
                raise self.error(term_start, f"at most {MAX_STACK_LAYERS:,} layers in a stack")
        end = self.tokens[self.index - 1].end
        return Stack(self.text[start:end], start, tuple(layers))

    def term(self, after: str | None) -> tuple[StackLayer, ...]:
        start = self.peek().start
        first = self.number("a kernel size such as 3x3", after)
        prefix: _Token | None = None
        if self.peek().kind == "*":
            prefix = first
            self.advance()
            height = self.number("a kernel size such as 3x3", f"the repeat count '{first.value}*'")
        else:
            height = first
        if self.peek().kind != "x":
            raise self.error(self.peek(), f"expected 'x' and the kernel width after {height.value} "
                                          f"(a kernel is written KxK or KhxKw, such as {height.value}x{height.value})")
        self.advance()
        width = self.number("the kernel width", f"'{height.value}x'")
        repeat = prefix.value if prefix else 1
        if self.peek().kind == "x":
            self.advance()
            suffix = self.number("a repeat count", f"'{height.value}x{width.value}x'")
            if prefix is not None:
                raise self.error(suffix, f"the repeat count is given twice ('{prefix.value}*' and 'x{suffix.value}'); "
                                         "keep one")
            if height.value != width.value:
                raise self.error(
                    suffix,
                    f"'{height.value}x{width.value}x{suffix.value}' is ambiguous: a repeat count may only follow a "
                    f"square kernel; write {suffix.value}*{height.value}x{width.value} for {suffix.value} stacked "
                    f"{height.value}×{width.value} convs",
                    f"{suffix.value}*{height.value}x{width.value} vs {height.value}x{height.value}",
                )
            repeat = suffix.value
            count_token = suffix
        else:
            count_token = prefix or height
        channels = None
        if self.peek().kind == "@":
            at = self.advance()
            if not self.channels_allowed:
                raise self.error(at, "per-layer channels (@) need --channels C, the channels into the stack",
                                 BOTTLENECK_EXAMPLE)
            channels = self.number("a channel count", "'@'").value
        if repeat > MAX_STACK_LAYERS:
            raise self.error(count_token, f"at most {MAX_STACK_LAYERS:,} layers in a stack")
        return tuple(StackLayer((height.value, width.value), channels, start) for _ in range(repeat))


def parse_expression(text: str, channels_allowed: bool = False) -> tuple[Stack, ...]:
    """The stacks of a comparison such as '3x3x3 vs 7x7'; raises ExpressionError pointing at the bad character.
    `@` (per-layer channels) is accepted only when `channels_allowed` (the caller has a channel count)."""
    return _ExpressionParser(text, channels_allowed).comparison()
