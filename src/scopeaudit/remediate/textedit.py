"""Edits to a file's text as (start, end, replacement) spans: everything outside the spans
stays byte for byte as it was, which is what keeps comments, order, quoting and layout."""

from __future__ import annotations

import re
from dataclasses import dataclass

# What ends a line for every key-file format (and for ruamel's YAML 1.2 reader and csv)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


class Lines:
    """Offsets of a text's lines, by 0-based line number (as ruamel counts them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        found = _LINE_BREAK.search(text)
        self.newline = found.group(0) if found else "\n"

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column

    def start(self, line: int) -> int:
        return self.starts[line]

    def end(self, line: int) -> int:
        """The offset just after the line's line break (the end of the text on the last)."""
        return self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)

    def content(self, line: int) -> str:
        """The line without its line break."""
        return _LINE_BREAK.sub("", self.text[self.start(line):self.end(line)])


def apply_spans(text: str, spans: list[Span]) -> str:
    """The text with every span replaced; spans must not overlap (insertions at one offset
    keep the order they are given in)."""
    ordered = sorted(enumerate(spans), key=lambda s: (s[1].start, s[1].end, s[0]))
    out: list[str] = []
    at = 0
    for _, span in ordered:
        if span.start < at:
            raise ValueError("overlapping edits")
        out.append(text[at:span.start])
        out.append(span.text)
        at = span.end
    out.append(text[at:])
    return "".join(out)
