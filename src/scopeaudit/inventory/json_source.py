"""JSON key files, parsed with positions.

The stdlib parser gives no line numbers for values, and findings must point at the line that
grants a scope, so this is a small recursive-descent reader over the JSON grammar. Strings use
the stdlib's own ``scanstring`` so escapes behave exactly as in :func:`json.loads`; duplicate
object keys are refused, as in YAML key files.
"""

from __future__ import annotations

import bisect
import json.decoder
import re
from json import JSONDecodeError

from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import PMap, PNode, PScalar, PSeq
from scopeaudit.secrets import redact

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")
_MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        # Lines end at \n, \r\n or \r, as in the other key-file formats.
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        # An error at the end of the input is reported on the last line that holds anything,
        # not on a line past the end of the file (a truncated file ends in a newline).
        self.last_line = self.line(len(text.rstrip()))

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def fail(self, message: str, pos: int) -> InputError:
        return InputError(f"invalid JSON: {redact(message)}", file=self.source,
                          line=max(1, min(self.line(pos), self.last_line)))

    def skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, depth: int) -> tuple[PNode, int]:
        if depth > _MAX_DEPTH:
            raise self.fail(f"nested deeper than {_MAX_DEPTH} levels", pos)
        pos = self.skip(pos)
        if pos >= len(self.text):
            raise self.fail("unexpected end of file", pos)
        ch = self.text[pos]
        if ch == "{":
            return self.obj(pos, depth)
        if ch == "[":
            return self.array(pos, depth)
        if ch == '"':
            text, end = self.string(pos)
            return PScalar(text, self.line(pos)), end
        for literal, val in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, pos):
                return PScalar(val, self.line(pos)), pos + len(literal)
        number = _NUMBER.match(self.text, pos)
        if number:
            raw = number.group(0)
            parsed: int | float = float(raw) if number.group(1) or number.group(2) else int(raw)
            return PScalar(parsed, self.line(pos), raw), number.end()
        raise self.fail(f"unexpected character {ch!r}", pos)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            # scanstring is the stdlib decoder's own string scanner (untyped in typeshed).
            text, end = json.decoder.scanstring(  # type: ignore[attr-defined]
                self.text, pos + 1, True
            )
        except JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos) from None
        # "\ud800" with no pair decodes to a lone surrogate, which no output can encode.
        surrogate = _SURROGATE.search(text)
        if surrogate is not None:
            raise self.fail(f"unpaired surrogate \\u{ord(surrogate.group(0)):04x} in a string",
                            pos)
        return str(text), int(end)

    def obj(self, start: int, depth: int) -> tuple[PMap, int]:
        items: dict[str, tuple[int, PNode]] = {}
        pos = self.skip(start + 1)
        if self.text.startswith("}", pos):
            return PMap(items, self.line(start)), pos + 1
        while True:
            pos = self.skip(pos)
            if not self.text.startswith('"', pos):
                raise self.fail("expected a property name in double quotes", pos)
            key_pos = pos
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail("expected ':' after a property name", pos)
            node, pos = self.value(pos + 1, depth + 1)
            if key in items:
                raise self.fail(f"duplicate key {key!r}", key_pos)
            items[key] = (self.line(key_pos), node)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("}", pos):
                return PMap(items, self.line(start)), pos + 1
            raise self.fail("expected ',' or '}'", pos)

    def array(self, start: int, depth: int) -> tuple[PSeq, int]:
        items: list[PNode] = []
        pos = self.skip(start + 1)
        if self.text.startswith("]", pos):
            return PSeq((), self.line(start)), pos + 1
        while True:
            node, pos = self.value(pos, depth + 1)
            items.append(node)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("]", pos):
                return PSeq(tuple(items), self.line(start)), pos + 1
            raise self.fail("expected ',' or ']'", pos)


def parse_json(text: str, source: str) -> PNode:
    parser = _Parser(text, source)
    if not text.strip():
        raise InputError("the file holds no key definitions", file=source, line=1)
    node, end = parser.value(0, 0)
    end = parser.skip(end)
    if end != len(text):
        raise parser.fail("extra data after the document", end)
    return node
