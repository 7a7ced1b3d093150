"""Catalog entries: scopes, operations and what an operation requires.

The leaf of the catalog package: route matching (routes.py) and the Catalog (model.py) are
built on these values, never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_WORD_SPLIT = re.compile(r"[:.]")
_READ_WORDS = frozenset({"read", "list", "view", "get", "readonly", "read-only"})
_WRITE_WORDS = frozenset({"write", "create", "update", "delete", "manage", "modify", "edit",
                          "read-write", "readwrite"})


class Provenance(Enum):
    """How sure the catalog is of an operation's path and scope; weakest of the two."""

    DOCUMENTED = "documented"
    IMPLIED = "implied"
    INFERRED = "inferred"


@dataclass(frozen=True)
class Scope:
    name: str
    description: str = ""

    @property
    def resource(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def is_write(self) -> bool:
        """A scope that can change data. Anything not plainly a read is treated as a write.

        Plainly a read: one of the name's ``:``- or ``.``-separated words is a read word and
        none is a write word. That reads ``issues:read`` (insp.ac), ``read:jira-work`` and
        ``read:attachment:jira`` (Atlassian), ``accounting.settings.read`` (Xero),
        ``users:read.email`` and ``admin.apps:read`` (Slack) and ``drive.readonly`` as reads,
        and ``database:view_credentials`` (a compound word), ``accounting.settings`` or
        ``admin`` as writes.
        """
        words = set(_WORD_SPLIT.split(self.name.lower()))
        return not (words & _READ_WORDS) or bool(words & _WRITE_WORDS)


@dataclass(frozen=True)
class Operation:
    """``METHOD path-template`` and the scopes it needs.

    ``requires`` lists alternatives, each a set of scopes that must all be held:
    ``((a,), (b, c))`` means a OR (b AND c). An empty alternative means no scope is needed.
    """

    id: str
    method: str
    path: str
    requires: tuple[frozenset[str], ...]
    provenance: Provenance
    note: str = ""

    @property
    def scopes(self) -> frozenset[str]:
        """Every scope named by any alternative."""
        out: frozenset[str] = frozenset()
        for alt in self.requires:
            out |= alt
        return out

    def satisfied_by(self, granted: frozenset[str] | set[str]) -> bool:
        return any(alt <= granted for alt in self.requires)
