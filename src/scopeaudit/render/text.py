"""Text helpers every view shares: invisible characters made visible (scopeaudit/visible.py),
cells cut to size.

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
from scopeaudit.visible import INVISIBLE_SET, has_invisible, one_line, show_invisible

# defined in scopeaudit/visible.py, below the views; imported from here by the views
__all__ = ["LIST_LIMIT", "first", "fit_width", "for_terminal", "has_invisible", "json_text",
           "new_first", "one_line", "percent", "share_text", "show_invisible", "status_text",
           "wrap_width"]

# in a JSON document, all but the line breaks json.dumps lays it out with
_INVISIBLE_IN_JSON = re.compile(f"(?!\\n)[{INVISIBLE_SET}]")

F = TypeVar("F", bound=Finding)

LIST_LIMIT = 10  # skipped lines, clients, request shapes and gaps shown before "N more"


def first(items: Sequence[str], limit: int = LIST_LIMIT) -> tuple[str, ...]:
    """The first ``limit`` items of a list a report shows in part ("... and N more")."""
    return tuple(items[:limit])


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
