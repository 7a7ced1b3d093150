"""A parsed document whose every value remembers its line: what the key loaders share.

YAML, JSON and CSV each turn their input into this tree; one schema reader
(:mod:`scopeaudit.inventory.schema`) turns the tree into keys, so every format gets the same
validation and the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PScalar:
    value: Any  # str, int, float, bool, None, date or datetime
    line: int
    # The scalar as written in the source, when the parser knows it: a number read where
    # text is expected (``id: 007``, ``last4: 0123``) is taken as written, not re-printed.
    raw: str | None = None


@dataclass(frozen=True)
class PSeq:
    items: tuple[PNode, ...]
    line: int


@dataclass(frozen=True)
class PMap:
    # key -> (line of the key, value node), in document order
    items: dict[str, tuple[int, PNode]]
    line: int


PNode = PScalar | PSeq | PMap


def describe(node: PNode) -> str:
    if isinstance(node, PMap):
        return "a mapping"
    if isinstance(node, PSeq):
        return "a list"
    if node.value is None:
        return "empty"
    return f"a {type(node.value).__name__}"
