"""Catalog values: scopes, operations and what an operation requires."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING

from scopeaudit.model import CatalogInfo

if TYPE_CHECKING:
    from scopeaudit.catalog.routes import Router
    from scopeaudit.usage.routekey import RouteKey


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


@dataclass(frozen=True)
class Catalog:
    name: str
    version: str
    scopes: tuple[Scope, ...]
    operations: tuple[Operation, ...]
    # resource name -> path prefixes that belong to it (used to decide which scopes an
    # unmatched request might have needed)
    resources: tuple[tuple[str, tuple[str, ...]], ...] = ()
    source: str = "built-in"
    base_paths: tuple[str, ...] = field(default=("",))
    # path prefix -> the scopes a request under it could need; given by catalogs whose scope
    # names do not follow ``resource:action`` (OpenAPI imports); else derived from resources
    families: tuple[tuple[str, frozenset[str]], ...] = ()

    @cached_property
    def path_families(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """(path prefix, scopes), longest prefix first: what an unmatched request under the
        prefix might have needed (see usage.aggregate.family_of)."""
        if self.families:
            pairs = list(self.families)
        else:
            pairs = [(prefix, frozenset(s.name for s in self.scopes if s.resource == resource))
                     for resource, prefixes in self.resources for prefix in prefixes]
        return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))

    @cached_property
    def _by_name(self) -> dict[str, Scope]:
        return {s.name: s for s in self.scopes}

    @cached_property
    def router(self) -> Router:
        from scopeaudit.catalog.routes import Router

        return Router(self.operations, base_paths=self.base_paths)

    @cached_property
    def route_key(self) -> RouteKey:
        """Which request paths share a routing decision (usage/routekey.py)."""
        from scopeaudit.usage.routekey import RouteKey

        return RouteKey.of(self)

    def scope(self, name: str) -> Scope | None:
        return self._by_name.get(name)

    def has_scope(self, name: str) -> bool:
        return name in self._by_name

    @property
    def scope_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scopes)

    @property
    def write_scopes(self) -> frozenset[str]:
        return frozenset(s.name for s in self.scopes if s.is_write)

    def provenance_counts(self) -> dict[str, int]:
        counts = {p.value: 0 for p in Provenance}
        for op in self.operations:
            counts[op.provenance.value] += 1
        return counts


def catalog_info(catalog: Catalog) -> CatalogInfo:
    """What a report says of the catalog it judged by."""
    return CatalogInfo(
        name=catalog.name,
        version=catalog.version,
        source=catalog.source,
        operations=len(catalog.operations),
        scopes=len(catalog.scopes),
        provenance=catalog.provenance_counts(),
    )
