"""The Catalog: its scopes and operations (catalog/operations.py), the router built on
them, and what a report says of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from scopeaudit.catalog.operations import Operation, Provenance, Scope
from scopeaudit.catalog.routes import Router
from scopeaudit.model import CatalogInfo
from scopeaudit.usage.routekey import RouteKey

# the entries are imported from here by most callers; catalog/operations.py defines them
__all__ = ["Catalog", "Operation", "Provenance", "Scope", "catalog_info"]


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
        return Router(self.operations, base_paths=self.base_paths)

    @cached_property
    def route_key(self) -> RouteKey:
        """Which request paths share a routing decision (usage/routekey.py)."""
        return RouteKey.of(self.router, self.path_families)

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
