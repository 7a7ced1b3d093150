"""One definition of invisible characters, used by every view."""

from __future__ import annotations

import csv
import io

import pytest

from scopeaudit.render.csv_render import cell
from scopeaudit.render.html import visible
from scopeaudit.render.markdown import md
from scopeaudit.render.text import one_line, show_invisible

# by hand: a control, DEL, a C1 control, the line separator, a zero-width space, a bidi
# override, a word joiner, an isolate and a byte-order mark
NASTY = {"\x1b": "\\x1b", "\x7f": "\\x7f", "\x85": "\\x85", "\u2028": "\\u2028",
         "\u200b": "\\u200b", "\u202e": "\\u202e", "\u2060": "\\u2060", "\u2067": "\\u2067",
         "\ufeff": "\\ufeff"}


@pytest.mark.parametrize(("char", "shown"), NASTY.items())
def test_every_view_shows_the_same_characters(char: str, shown: str) -> None:
    text = f"key{char}name"
    assert show_invisible(text) == f"key{shown}name"
    assert one_line(text, 100) == f"key{shown}name"  # table
    assert visible(text) == f"key{shown}name"  # HTML
    assert str(md(text)) == f"key{shown.replace(chr(92), chr(92) * 2)}name"  # Markdown
    assert cell(text) == f"key{shown}name"  # CSV


def test_plain_text_and_kept_characters() -> None:
    assert show_invisible("issues:read é ü 日本") == "issues:read é ü 日本"
    assert show_invisible("a\tb\nc", keep="\t\n") == "a\tb\nc"
    assert show_invisible("a\tb\nc\rd") == "a\\x09b\\x0ac\\x0dd"
    # a CSV cell keeps tab and newline (its quoting carries them) but not CR
    out = io.StringIO()
    csv.writer(out).writerow([cell("x\ty\nz\rw")])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["x\ty\nz\\x0dw"]
