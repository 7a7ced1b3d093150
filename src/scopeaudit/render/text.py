"""Text helpers every view shares: invisible characters made visible, cells cut to size.

What reaches a terminal goes through :func:`show_invisible`: a one-line message as it is, a
text view through :func:`for_terminal`, a JSON document through :func:`json_text`.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from typing import Any, TypeVar

from scopeaudit.model import Finding
from scopeaudit.render.palette import SGR

F = TypeVar("F", bound=Finding)

LIST_LIMIT = 10  # skipped lines, clients, request shapes and gaps shown before "N more"


def first(items: Sequence[str], limit: int = LIST_LIMIT) -> tuple[str, ...]:
    """The first ``limit`` items of a list a report shows in part ("... and N more")."""
    return tuple(items[:limit])

# Control characters (C0, DEL, C1), line and paragraph separators, bidi marks, embeddings,
# overrides and isolates, zero-width and invisible formatting characters: each can break a
# line or a table row, move a terminal's cursor, or make one string look like another.
_INVISIBLE_SET = ("\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e"
                  "\u2060-\u2064\u2066-\u2069\ufeff")
_INVISIBLE = re.compile(f"[{_INVISIBLE_SET}]")
# in a JSON document, all but the line breaks json.dumps lays it out with
_INVISIBLE_IN_JSON = re.compile(f"(?!\\n)[{_INVISIBLE_SET}]")


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


def new_first(findings: Sequence[F]) -> tuple[tuple[F, ...], tuple[F, ...]]:
    """The findings that count (new: neither baselined nor suppressed), then the others, each
    in the Audit's order: every findings view leads with what is new."""
    return (tuple(f for f in findings if f.counts), tuple(f for f in findings if not f.counts))


def status_text(findings: Sequence[Finding]) -> str:
    """"1 new, 11 baselined, 2 suppressed": how the gate marked the findings (zeros left out,
    except new)."""
    baselined = sum(1 for f in findings if f.status == "baselined")
    suppressed = sum(1 for f in findings if f.status == "suppressed")
    new = len(findings) - baselined - suppressed
    return ", ".join([f"{new:,} new"] + ([f"{baselined:,} baselined"] if baselined else [])
                     + ([f"{suppressed:,} suppressed"] if suppressed else []))


def one_line(text: str, limit: int) -> str:
    """A terminal cell: invisible characters made visible, cut to ``limit`` characters.

    Keeps a hostile key name from moving the cursor or forging lines in a terminal.
    """
    text = show_invisible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def share_text(part: int, whole: int) -> str:
    """A share in words: "all", "none", or a percentage that never rounds to either."""
    if part == whole:
        return "all"
    if part == 0:
        return "none"
    pct = 100 * part / whole
    text = f"{pct:.1f}".rstrip("0").rstrip(".")
    if text in ("0", "100"):
        text = f"{pct:.3g}"
    return f"{text}%"


def percent(fraction: float) -> str:
    """A threshold as a percentage: 0.01 -> "1%", 0.005 -> "0.5%"."""
    return f"{fraction * 100:.4g}%"


def for_terminal(text: str) -> str:
    """A text view (a table, a list) as a terminal is given it: every invisible character but
    the line breaks that lay the view out, shown as in the reports. A value's own line
    breaks are the view's to show (:func:`one_line`, :func:`show_invisible`), or a value
    could forge a line.

    The severity colours of :mod:`scopeaudit.render.palette` pass, exactly those SGR
    sequences and nothing else: they set a colour or boldness and cannot move the cursor,
    change the title or hide text, and a value's own escape characters were shown as
    ``\x1b`` by the view long before (so no value can spell one)."""
    parts = SGR.split(text)
    marks = SGR.findall(text)
    out = [show_invisible(parts[0], keep="\n")]
    for mark, part in zip(marks, parts[1:], strict=True):
        out += [mark, show_invisible(part, keep="\n")]
    return "".join(out)


def fit_width(lines: list[str], width: int) -> list[str]:
    """Each line cut to ``width`` columns with an ellipsis (0: as they are); colour marks
    take no column."""
    if not width:
        return lines
    out = []
    for line in lines:
        marks = len(line) - len(SGR.sub("", line))
        out.append(line if len(line) - marks <= width else line[: width - 1 + marks] + "…")
    return out


def wrap_width(lines: list[str], width: int) -> list[str]:
    """Each line longer than ``width`` columns wrapped at spaces, its continuation indented
    two more than the line (0: as they are): sentences, not tables, which fit their own."""
    if not width:
        return lines
    out = []
    for line in lines:
        if len(line) - (len(line) - len(SGR.sub("", line))) <= width:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
        out.extend(fit_width(textwrap.wrap(line, width, subsequent_indent=indent,
                                           break_on_hyphens=False), width))
    return out


def json_text(document: Any) -> str:
    """A JSON document as scopeaudit writes one: indented, UTF-8 as it is, and every
    invisible character inside a string written as a JSON escape (``\\u202e``), which reads
    back as the same value but cannot move a terminal's cursor or turn its text around."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return _INVISIBLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"
