"""Small text helpers shared by the plain-text views."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str, limit: int) -> str:
    """Control characters made visible and the text cut to ``limit`` characters for a cell.

    Keeps a hostile key name from moving the cursor or forging lines in a terminal.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
