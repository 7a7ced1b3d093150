"""A parsed document whose every value remembers its line: what the key loaders share.

YAML, JSON and CSV each turn their input into this tree; one schema reader
(:mod:`scopeaudit.inventory.schema`) turns the tree into keys, so every format gets the same
validation and the same messages. A parser hands each entry of the key list to the schema's
reader as soon as it has read it, and keeps only the Key made of it (``PKey``): a file of
100,000 keys is never held as a tree of a million nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scopeaudit.model import Key


@dataclass(frozen=True, slots=True)
class PScalar:
    value: Any  # str, int, float, bool, None, date or datetime
    line: int
    # The scalar as written in the source, when the parser knows it: a number read where
    # text is expected (``id: 007``, ``last4: 0123``) is taken as written, not re-printed.
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class PSeq:
    items: tuple[PNode, ...]
    line: int


@dataclass(frozen=True, slots=True)
class PMap:
    # key -> (line of the key, value node), in document order
    items: dict[str, tuple[int, PNode]]
    line: int


@dataclass(frozen=True, slots=True)
class PKey:
    """An entry of the key list, already read into a Key by the schema."""

    key: Key
    line: int


PNode = PScalar | PSeq | PMap | PKey


class OpenSeq:
    """A list being parsed (YAML sequence, JSON array), before it is closed into a PSeq."""

    __slots__ = ("entries", "items", "line")

    def __init__(self, line: int, entries: bool) -> None:
        self.line = line
        self.items: list[PNode] = []
        self.entries = entries  # the key list: each item is read as soon as it is whole


class EntryReader(Protocol):
    """What a parser calls with each entry of the key list once it has read it whole."""

    def __call__(self, node: PNode) -> PKey: ...

    def restart(self) -> None:
        """Forget the entries read so far: the document is read again from its start."""


def describe(node: PNode) -> str:
    if isinstance(node, PMap | PKey):
        return "a mapping"
    if isinstance(node, PSeq):
        return "a list"
    if node.value is None:
        return "empty"
    return f"a {type(node.value).__name__}"
