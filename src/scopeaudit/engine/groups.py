"""A ``Usage`` from grouped rows: how an engine that aggregates outside Python (DuckDB) hands
its result to the pipeline, with the streaming aggregator's exact semantics.

The streaming :class:`~scopeaudit.usage.aggregate.Aggregator` sees records one by one, and a
few of its results depend on the order it sees them in: which clients fill a key's
``MAX_CLIENTS_PER_KEY`` list, where each key was first seen, which lines name a token, and
the insertion order of its tables (a key's unmatched shapes do not: see ``ShapeBound``). The
:class:`Builder` takes groups of records, each with the position of its first record (line,
then the record's place on its line), in that order (as an aggregator would have met their
first records) together with the single records the Python readers produced; it makes the
same decisions at the same moments. Counts, first and last times are order-free. Routing
reuses the aggregator's own code, once per route-cache key, for the path that first had it;
the SQL side names a group's paths by their route key, which routes as every origin-form
path with that key does (that is what makes the route key exact: usage/routekey.py); other
targets come from the Python readers with their own path.
"""

from __future__ import annotations

from collections.abc import Callable

from scopeaudit.catalog.model import Catalog
from scopeaudit.usage.aggregate import (
    INVALID,
    Aggregator,
    Cell,
    Decision,
    KeyLocation,
    Usage,
    count_input,
    listed_use,
    note_token,
    note_unattributed,
)
from scopeaudit.usage.record import Record
from scopeaudit.usage.semantics import (
    REFUSED,
    ROUTE_CACHE_LIMIT,
    UNMATCHED_PREFIX,
    client_id,
    status_class,
    utc_day,
)

RouteKey = tuple[str, str]  # (upper-case method, route-cache key of the path)


def route_key(key: Callable[[str], str], method: str, target: str) -> RouteKey:
    """The streaming aggregator's route-cache key for a record (see Aggregator.consume):
    the same computation, so the same paths share a routing decision."""
    cut = target.find("?")
    return (method, key(target if cut < 0 else target[:cut]))


class Builder:
    """One input's Usage, built from groups and records given in first-record order."""

    def __init__(self, source: str, catalog: Catalog) -> None:
        self.source = source
        self._aggregator = Aggregator(catalog)  # its routing code and shape table
        self.usage = self._aggregator.usage
        self.shapes = self._aggregator.shapes
        self._key = catalog.route_key.key
        # route key -> decision: the aggregator's route cache, bounded as it is (a key
        # routed again routes the same: see _route)
        self._ops: dict[RouteKey, Decision] = {}
        self.days: set[int] = set()
        self.records = self.requests = 0
        self._newest, self._oldest = float("-inf"), float("inf")

    def _route(self, method: str, rk: str, path: str) -> Decision:
        """The routing decision for a route key, made for the path that first had it. Once
        more than ROUTE_CACHE_LIMIT keys were met the table starts again, as the
        aggregator's cache does; a key routed again gets the same decision."""
        rkey = (method, rk)
        found = self._ops.get(rkey)
        if found is None:
            found = self._aggregator.route(method, path)
            if len(self._ops) >= ROUTE_CACHE_LIMIT:
                self._ops.clear()
            self._ops[rkey] = found
        return found

    def cell(self, line: int, key: str | None, method: str, rk: str, path: str, cls: str,
             day: int, hits: int, low: float, high: float, records: int) -> str | None:
        """A group of records sharing key, method, route key, status class and day; returns
        the group's operation (None: a preflight)."""
        usage = self.usage
        self.records += records
        self.requests += hits
        self.days.add(day)
        if high > self._newest:
            self._newest = high
        if low < self._oldest:
            self._oldest = low
        op, flags, family = self._route(method, rk, path)
        if flags & INVALID:
            usage.invalid_targets += records
        if op is None:
            usage.preflight += hits
            return None
        if key is None:
            usage.unattributed += hits
            if cls not in REFUSED:
                note_unattributed(usage, self.source, day, hits)
            return op
        if key not in usage.first_seen_at:
            usage.first_seen_at[key] = KeyLocation(self.source, line)
        if flags:
            op = self.shapes.shape(key, op, rk, family)
        slot = (key, op, cls, day)
        found = usage.cells.get(slot)
        if found is None:
            usage.cells[slot] = Cell(hits, low, high)
            if flags:
                self.shapes.cell(key, op, slot)
        else:
            found.count += hits
            if low < found.first:
                found.first = low
            if high > found.last:
                found.last = high
        return op

    def client(self, key: str, client: str, method: str, rk: str, hits: int, low: float,
               high: float) -> None:
        """A group of one key's records from one client to one route key; given after the
        cell group that holds its first record (so the route key has been routed; the SQL
        side's groups name origin-form paths by their route key, which routes as they do)."""
        op, flags, family = self._route(method, rk, rk)
        if op is not None and flags:
            op = self.shapes.shape(key, op, rk, family)
        self._use(key, client, op, hits, low, high)

    def _use(self, key: str, client: str, op: str | None, hits: int, low: float,
             high: float) -> None:
        if op is None:
            return  # a preflight is nobody's use
        use = listed_use(self.usage, key, client)  # past the bound: the key's overflow
        use.hits += hits
        seen = use.ops.get(op)
        if seen is None:
            use.ops[op] = hits
            if op.startswith(UNMATCHED_PREFIX):
                self.shapes.use(key, op, use)
        else:
            use.ops[op] = seen + hits
        if low < use.first:
            use.first = low
        if high > use.last:
            use.last = high

    def record(self, rec: Record) -> None:
        """One record a Python reader produced, in its place among the groups."""
        when, key, method, target, status, ua, ip, hits, line, token = rec
        if token:
            note_token(self.usage, self.source, key, line)
        _, rk = route_key(self._key, method, target)
        cut = target.find("?")
        cls = status_class(status)
        op = self.cell(line, key, method, rk, target if cut < 0 else target[:cut], cls,
                       utc_day(when), hits, when, when, 1)
        if key is not None:
            # the operation the cell had: this record's own path decided it if it was new
            self._use(key, client_id(ua, ip), op, hits, when, when)

    def finish(self) -> Usage:
        usage = self._aggregator.finish()
        usage.days_by_input[self.source] = self.days
        count_input(usage, self.source, usage.cells)
        if self.records:
            usage.newest, usage.oldest = self._newest, self._oldest
        return usage
