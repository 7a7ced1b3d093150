"""The severity colours, one palette for every view that colours a severity: the HTML
report, the history page and the terminal. Each severity has a colour for the web (dark
enough for white text on it) and an ANSI SGR code for a terminal; the order is the one
:class:`scopeaudit.model.Severity` defines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from scopeaudit.model import Severity


@dataclass(frozen=True)
class SeverityColour:
    severity: str
    web: str  # "#7f0000"
    ansi: str  # the SGR parameters: "1;31" (bold red)


_COLOURS = {
    Severity.CRITICAL: ("#7f0000", "1;97;41"),  # bold white on red: louder than high
    Severity.HIGH: ("#c62828", "1;31"),
    Severity.MEDIUM: ("#e65100", "33"),
    Severity.LOW: ("#1f5fa8", "34"),
    Severity.INFO: ("#5f6368", "2"),
}

PALETTE: tuple[SeverityColour, ...] = tuple(
    SeverityColour(s.value, *_COLOURS[s]) for s in Severity.descending())
_BY_NAME = {c.severity: c for c in PALETTE}


def paint(text: str, severity: str, color: bool) -> str:
    """``text`` in the severity's terminal colour, or as it is when ``color`` is off."""
    colour = _BY_NAME.get(severity)
    if not color or colour is None:
        return text
    return f"\x1b[{colour.ansi}m{text}{RESET}"


RESET = "\x1b[0m"
# exactly the sequences :func:`paint` writes: what a text view may carry to a terminal
SGR = re.compile("|".join(re.escape(f"\x1b[{c.ansi}m") for c in PALETTE) + "|" + re.escape(RESET))
