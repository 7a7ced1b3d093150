"""Counted nouns in messages: ``1 day``, ``2 days``. A leaf every message may use."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 record``, ``2 records`` (``many``: the plural when it is not ``noun + 's'``)."""
    return f"{count} {noun}" if count == 1 else f"{count} {many or noun + 's'}"
