"""Invisible characters made visible: the one place that says which characters could move
a terminal's cursor, break a line or make one string look like another, and how each is
shown. A leaf: the HTTP client (a server's reason phrase) and every view (render/text.py)
use it.
"""

from __future__ import annotations

import re

# Control characters (C0, DEL, C1), line and paragraph separators, bidi marks, embeddings,
# overrides and isolates, zero-width and invisible formatting characters: each can break a
# line or a table row, move a terminal's cursor, or make one string look like another.
INVISIBLE_SET = ("\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e"
                 "\u2060-\u2064\u2066-\u2069\ufeff")
_INVISIBLE = re.compile(f"[{INVISIBLE_SET}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def show_invisible(text: str, keep: str = "") -> str:
    """``text`` with every invisible or direction-changing character written as an escape
    (``\\x1b``, ``\\u202e``); the characters in ``keep`` (e.g. a CSV cell's tab and newline,
    which its quoting carries) stay as they are."""
    if _INVISIBLE.search(text) is None:  # the common case, and the fast one
        return text
    if not keep:
        return _INVISIBLE.sub(_escape, text)
    return _INVISIBLE.sub(lambda m: m.group(0) if m.group(0) in keep else _escape(m), text)


def one_line(text: str, limit: int) -> str:
    """A terminal cell: invisible characters made visible, cut to ``limit`` characters.

    Keeps a hostile key name from moving the cursor or forging lines in a terminal.
    """
    text = show_invisible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
