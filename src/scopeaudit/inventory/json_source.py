"""JSON key files, parsed with positions.

The stdlib parser gives no line numbers for values, and findings must point at the line that
grants a scope, so this is a small reader over the JSON grammar: one regular expression cuts
the text into tokens (a C loop), and a pushdown automaton over them builds the tree, without
recursion. Strings with an escape are decoded by the stdlib's own ``scanstring`` so escapes
behave exactly as in :func:`json.loads`; duplicate object keys are refused, as in YAML key
files.
"""

from __future__ import annotations

import json.decoder
import re
from json import JSONDecodeError

from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import EntryReader, OpenSeq, PMap, PNode, PScalar, PSeq
from scopeaudit.secrets import redact

_WHITESPACE = " \t\n\r"
# Every token with the whitespace before it; "bad" is any other character (nothing is
# skipped: where no token starts, the automaton says what it expected there).
_TOKEN = re.compile(r"""[ \t\n\r]*(?:
    (?P<string>"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*")
  | (?P<punct>[{}\[\],:])
  | (?P<number>-?(?:0|[1-9][0-9]*)(?P<fraction>\.[0-9]+)?(?P<exponent>[eE][-+]?[0-9]+)?)
  | (?P<literal>true|false|null)
  | (?P<bad>.))""", re.VERBOSE | re.DOTALL)
_LITERALS = {"true": True, "false": False, "null": None}
_MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")

# What the automaton expects next.
(_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _OBJECT_NEXT, _ARRAY_NEXT,
 _END) = range(8)


class _Object:
    __slots__ = ("items", "key", "key_line", "key_pos", "line")

    def __init__(self, line: int) -> None:
        self.line = line
        self.items: dict[str, tuple[int, PNode]] = {}
        self.key = ""
        self.key_line = 0
        self.key_pos = 0


class _Parser:
    def __init__(self, text: str, source: str, entry: EntryReader | None) -> None:
        # Lines end at \n, \r\n or \r, as in the other key-file formats. A JSON string holds
        # no raw line break, so making every break one \n changes no value, only positions.
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.text = text
        self.source = source
        self.entry = entry
        self.counted = 0  # lines are counted up to here ...
        self.lines = 1  # ... and this is the line there

    def line(self, pos: int) -> int:
        """The line of ``pos``; counted onwards from the last position asked for."""
        if pos < self.counted:
            return self.text.count("\n", 0, pos) + 1
        self.lines += self.text.count("\n", self.counted, pos)
        self.counted = pos
        return self.lines

    def fail(self, message: str, pos: int) -> InputError:
        # An error at the end of the input is reported on the last line that holds anything,
        # not on a line past the end of the file (a truncated file ends in a newline).
        last = self.text.count("\n", 0, len(self.text.rstrip())) + 1
        line = self.text.count("\n", 0, pos) + 1
        return InputError(f"invalid JSON: {redact(message)}", file=self.source,
                          line=max(1, min(line, last)))

    def string(self, pos: int) -> str:
        """The string whose quote is at ``pos``, escapes decoded (or its error)."""
        try:
            # scanstring is the stdlib decoder's own string scanner (untyped in typeshed).
            text, _ = json.decoder.scanstring(  # type: ignore[attr-defined]
                self.text, pos + 1, True
            )
        except JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos) from None
        # "\ud800" with no pair decodes to a lone surrogate, which no output can encode.
        surrogate = _SURROGATE.search(text)
        if surrogate is not None:
            raise self.fail(f"unpaired surrogate \\u{ord(surrogate.group(0)):04x} in a string",
                            pos)
        return str(text)

    def bad_string(self, pos: int) -> InputError:
        """The error of a string that is no JSON string (unterminated, a raw control
        character), as the stdlib's scanner words it."""
        try:
            self.string(pos)
        except InputError as exc:
            return exc
        return self.fail("invalid string", pos)  # (the scanner would have said why)

    def token_text(self, token: re.Match[str], pos: int) -> str:
        """A string token's text: its characters, or decoded when it holds an escape."""
        raw = token.group("string")
        return raw[1:-1] if "\\" not in raw else self.string(pos)

    def parse(self) -> PNode:
        text = self.text
        end = len(text.rstrip(_WHITESPACE))
        stack: list[_Object | OpenSeq] = []
        root: list[PNode] = []
        expect = _VALUE
        for token in _TOKEN.finditer(text, 0, end):
            kind = token.lastgroup or "bad"  # (every alternative is a named group)
            pos = token.start(kind)
            char = text[pos]
            node: PNode | None = None
            if expect in (_VALUE, _VALUE_OR_CLOSE):
                if expect == _VALUE_OR_CLOSE and char == "]":
                    node = self.close(stack)
                elif len(stack) > _MAX_DEPTH:
                    # where the value was asked for, before the whitespace
                    raise self.fail(f"nested deeper than {_MAX_DEPTH} levels", token.start())
                elif char == "{":
                    stack.append(_Object(self.line(pos)))
                    expect = _KEY_OR_CLOSE
                elif char == "[":
                    top = stack[-1] if stack else None
                    # the document's list, or the list under the document's "keys"
                    entries = self.entry is not None and (
                        top is None or (len(stack) == 1 and isinstance(top, _Object)
                                        and top.key == "keys"))
                    stack.append(OpenSeq(self.line(pos), entries))
                    expect = _VALUE_OR_CLOSE
                elif kind == "string":
                    node = PScalar(self.token_text(token, pos), self.line(pos))
                elif kind == "number":
                    node = self.number(token, pos)
                elif kind == "literal":
                    node = PScalar(_LITERALS[token.group(kind)], self.line(pos))
                elif char == '"':
                    raise self.bad_string(pos)
                else:
                    raise self.fail(f"unexpected character {char!r}", pos)
            elif expect in (_KEY, _KEY_OR_CLOSE):
                if expect == _KEY_OR_CLOSE and char == "}":
                    node = self.close(stack)
                elif kind == "string":
                    top = stack[-1]
                    assert isinstance(top, _Object)
                    top.key, top.key_pos = self.token_text(token, pos), pos
                    top.key_line = self.line(pos)
                    expect = _COLON
                elif char == '"':
                    raise self.bad_string(pos)
                else:
                    raise self.fail("expected a property name in double quotes", pos)
            elif expect == _COLON:
                if char != ":":
                    raise self.fail("expected ':' after a property name", pos)
                expect = _VALUE
            elif expect == _OBJECT_NEXT:
                if char == ",":
                    expect = _KEY
                elif char == "}":
                    node = self.close(stack)
                else:
                    raise self.fail("expected ',' or '}'", pos)
            elif expect == _ARRAY_NEXT:
                if char == ",":
                    expect = _VALUE
                elif char == "]":
                    node = self.close(stack)
                else:
                    raise self.fail("expected ',' or ']'", pos)
            else:
                raise self.fail("extra data after the document", pos)
            if node is not None:
                expect = self.put(stack, root, node)
        if expect != _END:
            if expect in (_VALUE, _VALUE_OR_CLOSE) and len(stack) > _MAX_DEPTH:
                raise self.fail(f"nested deeper than {_MAX_DEPTH} levels", end)
            raise self.fail(_AT_END[expect], len(text))
        return root[0]

    def number(self, token: re.Match[str], pos: int) -> PScalar:
        raw = token.group("number")
        try:
            parsed: int | float = (float(raw) if token.group("fraction") or
                                   token.group("exponent") else int(raw))
        except ValueError:  # more digits than Python converts (4300)
            raise self.fail("a number too long to read", pos) from None
        return PScalar(parsed, self.line(pos), raw)

    def close(self, stack: list[_Object | OpenSeq]) -> PNode:
        done = stack.pop()
        if isinstance(done, _Object):
            return PMap(done.items, done.line)
        return PSeq(tuple(done.items), done.line)

    def put(self, stack: list[_Object | OpenSeq], root: list[PNode], node: PNode) -> int:
        """A finished value put where it goes; what is expected after it."""
        if not stack:
            root.append(node)
            return _END
        top = stack[-1]
        if isinstance(top, OpenSeq):
            if top.entries and self.entry is not None:
                node = self.entry(node)
            top.items.append(node)
            return _ARRAY_NEXT
        if top.key in top.items:
            raise self.fail(f"duplicate key {top.key!r}", top.key_pos)
        top.items[top.key] = (top.key_line, node)
        return _OBJECT_NEXT


# What is missing when the text ends while the automaton expects something.
_AT_END: dict[int, str] = {
    _VALUE: "unexpected end of file", _VALUE_OR_CLOSE: "unexpected end of file",
    _KEY: "expected a property name in double quotes",
    _KEY_OR_CLOSE: "expected a property name in double quotes",
    _COLON: "expected ':' after a property name", _OBJECT_NEXT: "expected ',' or '}'",
    _ARRAY_NEXT: "expected ',' or ']'",
}


def parse_json(text: str, source: str, entry: EntryReader | None = None) -> PNode:
    """The document's tree; ``entry`` reads each entry of the key list as it is finished."""
    if not text.strip():
        raise InputError("the file holds no key definitions", file=source, line=1)
    return _Parser(text, source, entry).parse()
