"""The least privileged scope set that satisfies a list of operations.

Each operation needs one of its alternatives (``a OR (b AND c)``), so the question is a
minimum hitting set over alternatives: choose one alternative per operation so that their
union grants least (fewest write scopes, then fewest scopes, then the names: evidence's
``privilege``). Choosing each operation's own least privileged alternative is not enough:
``[[issues:read], [works:read, sites:read]]`` alone picks ``issues:read``, but next to an
operation that needs ``works:read`` and ``sites:read`` anyway, that pick is one scope too many.

The search is exact branch and bound: operations with one alternative are forced; an
alternative that is a superset of another of the same operation is never better, so it is
dropped; the branch is the operation with fewest alternatives left; a branch is cut when
its set plus the most any single open operation must still add already grants as much as
the best set found. It visits at most ``limit`` branches; past that the best set found is
returned marked as not proved minimal (``exact`` False), never as the minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scopeaudit.catalog.model import Catalog
from scopeaudit.evidence import privilege

DEFAULT_LIMIT = 100_000

Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Cover:
    scopes: frozenset[str]
    exact: bool  # proved minimal; False when the search stopped at its limit
    steps: int  # branches visited


def minimal_cover(requirements: Sequence[Alternatives], catalog: Catalog,
                  limit: int = DEFAULT_LIMIT) -> Cover:
    """The least privileged scope set satisfying every requirement (a tuple of alternatives;
    one that has an empty alternative, or none, needs no scope)."""
    open_reqs: list[Alternatives] = []
    for alts in requirements:
        if not alts or any(not alt for alt in alts):
            continue
        ordered = sorted(set(alts), key=lambda a: (len(a), sorted(a)))
        kept = tuple(a for i, a in enumerate(ordered) if not any(b < a for b in ordered[:i]))
        if kept not in open_reqs:
            open_reqs.append(kept)
    search = _Search(catalog, limit)
    search.run(frozenset(), open_reqs)
    best = search.best if search.best is not None else frozenset()
    return Cover(best, not search.stopped, search.steps)


class _Search:
    def __init__(self, catalog: Catalog, limit: int) -> None:
        self.catalog = catalog
        self.limit = limit
        self.steps = 0
        self.stopped = False
        self.best: frozenset[str] | None = None
        self.best_cost: tuple[int, int, list[str]] | None = None

    def cost(self, scopes: frozenset[str]) -> tuple[int, int, list[str]]:
        return privilege(scopes, self.catalog)

    def run(self, chosen: frozenset[str], reqs: list[Alternatives]) -> None:
        left = [r for r in reqs if not any(a <= chosen for a in r)]
        if not left:
            cost = self.cost(chosen)
            if self.best_cost is None or cost < self.best_cost:
                self.best, self.best_cost = chosen, cost
            return
        if self.best is not None and self.steps >= self.limit:
            self.stopped = True
            return
        self.steps += 1
        added = [[self.cost(a - chosen)[:2] for a in r] for r in left]
        if self.best_cost is not None:
            base = self.cost(chosen)
            need = max(min(costs) for costs in added)
            # a branch that can at best tie is cut: the minimum is in writes and scopes, the
            # names only make the choice among equals stable (the first found in this order)
            if (base[0] + need[0], base[1] + need[1]) >= tuple(self.best_cost[:2]):
                return
        # the operation with fewest alternatives; its cheapest additions first
        i = min(range(len(left)), key=lambda j: (len(left[j]), j))
        for _, alt in sorted(zip(added[i], left[i], strict=True),
                             key=lambda ca: (ca[0], sorted(ca[1]))):
            self.run(chosen | alt, left)
