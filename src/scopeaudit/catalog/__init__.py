"""The catalog: scopes, operations, and matching requests to operations."""

from scopeaudit.catalog.loader import load_builtin
from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.catalog.routes import MatchKind, RouteMatch, Router

__all__ = [
    "Catalog",
    "MatchKind",
    "Operation",
    "Provenance",
    "RouteMatch",
    "Router",
    "Scope",
    "load_builtin",
]
