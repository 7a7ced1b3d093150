"""Which request probes which scope: the catalog's simplest GET that the scope alone allows.

Only read scopes are probed. A write scope could be tested only by a request that might
change data, and none is ever sent.
"""

from __future__ import annotations

from scopeaudit.catalog.model import Catalog, Operation, Provenance
from scopeaudit.probe.model import Target

_QUERY = "?limit=1"  # the smallest page a list route returns
_RANK = {Provenance.DOCUMENTED: 0, Provenance.IMPLIED: 1, Provenance.INFERRED: 2}


def _candidate(op: Operation, scope: str, index: int) -> tuple[int, int, int, int] | None:
    """A sort key for operations usable as the probe of ``scope``; None when unusable."""
    # Exactly this one scope: an operation that another scope also opens (an alternative), or
    # that anyone may call (no requirement), answers 2xx without proving anything about it.
    if op.method != "GET" or op.requires != (frozenset({scope}),):
        return None
    path = op.path
    fallback = path.endswith("/**")
    if fallback:
        path = path[:-3]
    if "{" in path or "*" in path or not path.startswith("/"):
        return None  # needs an identifier (or a pattern) the probe does not have
    return (1 if fallback else 0, _RANK[op.provenance], path.count("/"), index)


def plan_targets(catalog: Catalog) -> dict[str, Target | None]:
    """Every read scope of the catalog -> its probe (None: no usable GET operation)."""
    base = next((b for b in catalog.base_paths if b), "")
    plans: dict[str, Target | None] = {}
    for scope in catalog.scopes:
        if scope.is_write:
            continue
        ranked = sorted((key, op.id) for index, op in enumerate(catalog.operations)
                        if (key := _candidate(op, scope.name, index)) is not None)
        if not ranked:
            plans[scope.name] = None
            continue
        op = catalog.operations[ranked[0][0][3]]
        path = op.path.removesuffix("/**")
        # A 404 proves the scope only where the route surely exists: a documented one. An
        # implied or inferred route may not exist at all, and a false "granted" would be a
        # false SA212 (high).
        known = path == op.path and op.provenance is Provenance.DOCUMENTED
        plans[scope.name] = Target(scope.name, base + path + _QUERY, op.id,
                                   op.provenance.value, known_route=known)
    return plans
