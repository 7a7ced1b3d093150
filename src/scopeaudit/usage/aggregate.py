"""The aggregate: per key x operation x status class x UTC day, counts and first/last time.

This is the seam of the pipeline. Readers yield records; one ``Aggregator`` consumes them;
the ``Usage`` it produces is all the analysis ever sees. Memory grows with the distinct
(key, operation, status class, day) cells and the bounded client and shape tables, never with
the number of records. An embedded SQL engine or a warehouse query can produce the same
``Usage`` from the same cells.

Longer than 500 lines on purpose: the cells, the Aggregator that fills them and the bounds and
merges over them are one data structure; every engine writes through these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from scopeaudit.catalog.model import Catalog
from scopeaudit.catalog.routes import MatchKind
from scopeaudit.usage.record import Record
from scopeaudit.usage.semantics import (
    CLASS_OF_STATUS,
    DAY_SECONDS,
    MAX_CLIENTS_PER_KEY,
    MAX_SHAPES_PER_KEY,
    MAX_TOKEN_LINES,
    OVERFLOW_TAIL,
    REFUSED,
    ROUTE_CACHE_LIMIT,
    UNKNOWN_STATUS_CLASS,
    UNMATCHED_PREFIX,
    client_id,
    unmatched_shape,
)

# A routing decision's flags (see Aggregator.route)
INVALID = 1  # the target is no valid origin-form path
UNMATCHED = 2  # no operation matched: the decision is a shape


@dataclass(slots=True)
class Cell:
    count: int
    first: float
    last: float


@dataclass(slots=True)
class ClientUse:
    hits: int = 0
    first: float = float("inf")
    last: float = float("-inf")
    ops: dict[str, int] = field(default_factory=dict)


@dataclass
class KeyLocation:
    """Where a key (or a token) was first seen in the logs."""

    file: str
    line: int


@dataclass
class Usage:
    """The aggregate. Treated as read-only once ``Aggregator.finish`` returns it."""

    # (key, operation id or "~METHOD shape", status class, day) -> Cell
    cells: dict[tuple[str, str, str, int], Cell]
    # key -> client id ("user agent @ network": usage/clients.py) -> use
    clients: dict[str, dict[str, ClientUse]]
    # key -> the use of all its clients past the bound of MAX_CLIENTS_PER_KEY, together
    clients_overflow: dict[str, ClientUse]
    # key -> where first seen
    first_seen_at: dict[str, KeyLocation]
    # (input path, key or "") -> (count, first lines) of records carrying a raw token
    tokens: dict[tuple[str, str], tuple[int, list[int]]]
    # input path -> days with at least one record
    days_by_input: dict[str, set[int]]
    unattributed: int = 0  # requests with no key identity at all
    preflight: int = 0  # OPTIONS: never use
    invalid_targets: int = 0
    newest: float | None = None
    oldest: float | None = None
    # unmatched shape -> the scopes its resource could need (None: any), judged on a real
    # path: a shape's {id} may have folded a literal such as the 3 in /rest/api/3. Of the
    # paths of the keys listing the shape, the one with the least route key decides (an
    # order-free choice: see ShapeBound); the overflow buckets have None.
    shape_families: dict[str, frozenset[str] | None] = field(default_factory=dict)
    # key -> its listed unmatched shapes -> (the least route key seen with it, that key's
    # family): what bounding the shapes per key and judging their families needs
    shape_routes: dict[str, dict[str, tuple[str, frozenset[str] | None]]] = field(
        default_factory=dict)
    # What each input could show (the evidence's quality, scopeaudit.quality), per input:
    # day -> accepted requests (not 401/403, not preflight), attributed to a key or not;
    accepted_by_input: dict[str, dict[int, int]] = field(default_factory=dict)
    # day -> those of them no key can be attributed to;
    unattributed_by_input: dict[str, dict[int, int]] = field(default_factory=dict)
    # key -> days with a record of that key (whatever its status); equal day sets of one
    # input are one object (an hourly file's keys share one), so this grows with the keys of
    # each input, not with their days
    key_days_by_input: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)

    # A work unit's aggregate crosses a process boundary (engine/stream.py). Pickling a
    # quarter of a million Cell objects one by one cost more than a second each way; the
    # cells travel as four flat columns instead.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        cells = state.pop("cells")
        state["cell_columns"] = (list(cells), [c.count for c in cells.values()],
                                 [c.first for c in cells.values()],
                                 [c.last for c in cells.values()])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        keys, counts, firsts, lasts = state.pop("cell_columns")
        state["cells"] = {k: Cell(n, f, t) for k, n, f, t in zip(keys, counts, firsts, lasts,
                                                                    strict=True)}
        self.__dict__.update(state)


# A routing decision: (operation id, "~METHOD shape" for an unmatched request, None for a
# preflight; INVALID | UNMATCHED flags; for a shape, the scopes its path's family could need)
Decision = tuple[str | None, int, frozenset[str] | None]


class Aggregator:
    """The streaming aggregator: records in, one input's Usage out (the rules it applies
    are usage/semantics.py's)."""

    def __init__(self, catalog: Catalog) -> None:
        self._router = catalog.router
        self._route_key = catalog.route_key.key
        self._families = catalog.path_families
        self._route_cache: dict[tuple[str, str], Decision] = {}
        # (method, route class) -> the operation every path of the class is routed to (see
        # RouteKey.route_class): routing once per route, not once per slug
        self._route_class = catalog.route_key.route_class
        self._matched: dict[tuple[str, str], Decision] = {}
        # (user agent, ip) -> client id, and (key, client id) -> its use record
        self._client_ids: dict[tuple[str | None, str | None], str] = {}
        self._client_uses: dict[tuple[str, str], ClientUse] = {}
        self.usage = Usage({}, {}, {}, {}, {}, {})
        self.shapes = ShapeBound(self.usage)
        self.consumed = (0, 0)  # (records, requests) of the last consume() call
        self._source: str | None = None  # the one input this aggregator reads

    def operation(self, method: str, target: str) -> str | None:
        """Operation id, "~METHOD shape" for an unmatched request, None for a preflight (the
        routing decision for a request target; a key's bound on its shapes is not applied:
        see ShapeBound)."""
        cut = target.find("?")
        path = target if cut < 0 else target[:cut]
        cache_key = (method, self._route_key(path))
        cached = self._route_cache.get(cache_key)
        if cached is None:
            cached = self.route(method, path)
            if len(self._route_cache) >= ROUTE_CACHE_LIMIT:
                self._route_cache.clear()
            self._route_cache[cache_key] = cached
        result, flags, _ = cached
        if flags & INVALID:
            self.usage.invalid_targets += 1
        return result

    def route(self, method: str, path: str) -> Decision:
        """The decision for a path (its query cut): the operation, else the unmatched shape
        with its flags and family, else (a preflight) None."""
        route_class = (method, self._route_class(path))
        found = self._matched.get(route_class)
        if found is not None:
            return found
        match = self._router.match(method, path)
        if match.kind is MatchKind.MATCHED and match.operation is not None:
            found = match.operation.id, 0, None
            if len(self._matched) >= ROUTE_CACHE_LIMIT:
                self._matched.clear()
            self._matched[route_class] = found
            return found
        if match.kind is MatchKind.PREFLIGHT:
            return None, 0, None
        flags = UNMATCHED | (INVALID if match.kind is MatchKind.INVALID else 0)
        return (UNMATCHED_PREFIX + method + " " + unmatched_shape(match.path), flags,
                family_of(self._families, match.path))

    def consume(self, records: Iterable[Record], source: str) -> tuple[int, int]:
        """Take every record of one input; returns (records, requests) consumed.

        The per-record hot path of the whole tool: everything it needs is bound to locals,
        and every cache it uses is exact (see usage/routekey.py).
        """
        usage = self.usage
        cells = usage.cells
        first_seen_at = usage.first_seen_at
        route_cache = self._route_cache
        route_key_of = self._route_key
        client_uses = self._client_uses
        client_ids = self._client_ids
        classes = CLASS_OF_STATUS
        shapes = self.shapes
        if self._source is not None and self._source != source:
            # per-input counts are taken from the cells (see _count_input)
            raise ValueError("an Aggregator aggregates one input; use one per input")
        self._source = source
        days = usage.days_by_input.setdefault(source, set())
        newest = usage.newest if usage.newest is not None else float("-inf")
        oldest = usage.oldest if usage.oldest is not None else float("inf")
        n_records = n_hits = 0
        last_day: int | None = None
        try:
            for rec in records:
                when, key, method, target, status, ua, ip, hits, line, token = rec
                n_records += 1
                n_hits += hits
                day = int(when // DAY_SECONDS)  # semantics.utc_day, inlined
                if day != last_day:
                    days.add(day)
                    last_day = day
                elif last_day is not None:
                    # one int object per day, not per cell: logs run in time order, so
                    # this shares it across the day's cells (32 of ~270 bytes a cell)
                    day = last_day
                if when > newest:
                    newest = when
                if when < oldest:
                    oldest = when
                if token:
                    self._token(source, rec)
                cut = target.find("?")
                path = target if cut < 0 else target[:cut]
                route_key = (method, route_key_of(path))
                cached = route_cache.get(route_key)
                if cached is None:
                    cached = self.route(method, path)
                    if len(route_cache) >= ROUTE_CACHE_LIMIT:
                        route_cache.clear()
                    route_cache[route_key] = cached
                op, flags, family = cached
                if flags and flags & INVALID:
                    usage.invalid_targets += 1
                if op is None:
                    usage.preflight += hits
                    continue
                if key is None:
                    usage.unattributed += hits
                    if status != 401 and status != 403:
                        note_unattributed(usage, source, day, hits)
                    continue
                if key not in first_seen_at:
                    first_seen_at[key] = KeyLocation(source, line)
                if flags:
                    op = shapes.shape(key, op, route_key[1], family)
                cell_key = (key, op, classes[status] if 0 <= status < 1000
                            else UNKNOWN_STATUS_CLASS, day)
                cell = cells.get(cell_key)
                if cell is None:
                    cells[cell_key] = Cell(hits, when, when)
                    if flags:
                        shapes.cell(key, op, cell_key)
                else:
                    cell.count += hits
                    if when < cell.first:
                        cell.first = when
                    elif when > cell.last:
                        cell.last = when
                client = client_ids.get((ua, ip))
                if client is None:
                    client = self._client_id(ua, ip)
                use = client_uses.get((key, client))
                if use is None:
                    use = self._client_use(key, client)
                use.hits += hits
                seen = use.ops.get(op)
                if seen is None:
                    use.ops[op] = hits
                    if flags:
                        shapes.use(key, op, use)
                else:
                    use.ops[op] = seen + hits
                if when < use.first:
                    use.first = when
                if when > use.last:
                    use.last = when
        finally:
            # Kept even when an input fails part-way (--strict, a truncated gzip).
            self._count_input(source)
            self.consumed = (n_records, n_hits)
            usage.newest = newest if newest != float("-inf") else None
            usage.oldest = oldest if oldest != float("inf") else None
        return n_records, n_hits

    def _count_input(self, source: str) -> None:
        """What the input could show, from its cells (every cell is this input's: one
        aggregator per input), once it is read rather than per record: accepted requests per
        day, attributed or not, and each key's days."""
        count_input(self.usage, source, self.usage.cells)

    def _client_id(self, ua: str | None, ip: str | None) -> str:
        client = client_id(ua, ip)
        if len(self._client_ids) < ROUTE_CACHE_LIMIT:
            self._client_ids[(ua, ip)] = client
        return client

    def _client_use(self, key: str, client: str) -> ClientUse:
        """The use record of (key, client): see listed_use."""
        use = listed_use(self.usage, key, client)
        if len(self._client_uses) < ROUTE_CACHE_LIMIT:
            self._client_uses[(key, client)] = use
        return use

    def _token(self, source: str, rec: Record) -> None:
        note_token(self.usage, source, rec.key, rec.line)

    def finish(self) -> Usage:
        bound_shapes(self.usage)
        return self.usage


class ShapeBound:
    """Each key's unmatched shapes, bounded: a key lists at most MAX_SHAPES_PER_KEY of them,
    and its requests to shapes it does not list count in its ``~METHOD (other)`` buckets.

    Which shapes a key lists must not depend on the order records come in (--jobs work units,
    inputs and engines are merged afterwards), so it is the least of the key's shapes in text
    order, never the first ones met; the bound is per key, so a noisy key never pushes
    another key's shapes into a bucket. Memory stays bounded while reading: a key holding
    twice the bound has the shapes past the bound moved into its buckets at once, and from
    then on a shape not below the least one moved goes there directly (it cannot be among
    the least). ``bound_shapes`` cuts every key to the bound once reading (or a merge) is
    done.
    """

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        # key -> the least shape moved out of its list: no shape at or above it is listed
        self._above: dict[str, str] = {}
        # (key, shape) -> the cells and the client use records that hold it: what moving
        # it into a bucket touches
        self._cells: dict[tuple[str, str], list[tuple[str, str, str, int]]] = {}
        self._uses: dict[tuple[str, str], list[ClientUse]] = {}

    def shape(self, key: str, op: str, route_key: str,
              family: frozenset[str] | None) -> str:
        """The operation a key's request to an unmatched shape ``op`` counts under: the
        shape, or its bucket. ``route_key`` and ``family`` are the request's (see
        Usage.shape_routes)."""
        routes = self.usage.shape_routes.get(key)
        if routes is None:
            routes = self.usage.shape_routes[key] = {}
        held = routes.get(op)
        if held is not None:
            if route_key < held[0]:
                routes[op] = (route_key, family)
            return op
        above = self._above.get(key)
        if above is not None and op >= above:
            return overflow_of(op)
        routes[op] = (route_key, family)
        if len(routes) > 2 * MAX_SHAPES_PER_KEY:
            moved = sorted(routes)[MAX_SHAPES_PER_KEY:]
            self._above[key] = moved[0]
            for gone in moved:
                del routes[gone]
                move_to_bucket(self.usage, key, gone, self._cells.pop((key, gone), ()),
                               self._uses.pop((key, gone), ()))
            if op >= moved[0]:
                return overflow_of(op)
        return op

    def cell(self, key: str, op: str, slot: tuple[str, str, str, int]) -> None:
        """A new cell of the key's unmatched ``op``."""
        self._cells.setdefault((key, op), []).append(slot)

    def use(self, key: str, op: str, use: ClientUse) -> None:
        """A client use record of the key met its unmatched ``op`` for the first time."""
        self._uses.setdefault((key, op), []).append(use)


def overflow_of(op: str) -> str:
    """The bucket of an unmatched shape's method: ``~GET (other)`` for ``~GET /v1/x``."""
    return op.partition(" ")[0] + OVERFLOW_TAIL


def is_overflow(op: str) -> bool:
    return op.startswith(UNMATCHED_PREFIX) and op.endswith(OVERFLOW_TAIL)


def move_to_bucket(usage: Usage, key: str, shape: str,
                   slots: Iterable[tuple[str, str, str, int]],
                   uses: Iterable[ClientUse | None]) -> None:
    """The key's ``slots`` (cells of ``shape``) and its requests in the ``uses`` records
    counted in the shape's bucket instead."""
    bucket = overflow_of(shape)
    cells = usage.cells
    for slot in slots:
        cell = cells.pop(slot)
        into = (key, bucket, slot[2], slot[3])
        mine = cells.get(into)
        if mine is None:
            cells[into] = cell
        else:
            mine.count += cell.count
            mine.first = min(mine.first, cell.first)
            mine.last = max(mine.last, cell.last)
    for use in uses:
        n = use.ops.pop(shape, 0) if use is not None else 0
        if n and use is not None:
            use.ops[bucket] = use.ops.get(bucket, 0) + n


def bound_shapes(usage: Usage) -> None:
    """Every key cut to its MAX_SHAPES_PER_KEY least shapes (the rest into its buckets), and
    ``shape_families`` judged from what is listed: each shape on the least route key any
    key listing it met, every bucket None."""
    moved: dict[str, set[str]] = {}
    for key, routes in usage.shape_routes.items():
        if len(routes) > MAX_SHAPES_PER_KEY:
            past = sorted(routes)[MAX_SHAPES_PER_KEY:]
            for shape in past:
                del routes[shape]
            moved[key] = set(past)
    if moved:
        slots: dict[tuple[str, str], list[tuple[str, str, str, int]]] = {}
        for slot in usage.cells:
            gone_of_key = moved.get(slot[0])
            if gone_of_key is not None and slot[1] in gone_of_key:
                slots.setdefault((slot[0], slot[1]), []).append(slot)
        for key, gone in moved.items():
            uses = [*usage.clients.get(key, {}).values(), usage.clients_overflow.get(key)]
            for shape in sorted(gone):
                move_to_bucket(usage, key, shape, slots.get((key, shape), ()), uses)
    families: dict[str, frozenset[str] | None] = {}
    least: dict[str, str] = {}
    for routes in usage.shape_routes.values():
        for shape, (route_key, family) in routes.items():
            had = least.get(shape)
            if had is None or route_key < had:
                least[shape] = route_key
                families[shape] = family
    for _, op, _, _ in usage.cells:
        if op.endswith(OVERFLOW_TAIL) and is_overflow(op):
            families[op] = None
    usage.shape_families = families


def listed_use(usage: Usage, key: str, client: str) -> ClientUse:
    """The use record of (key, client): its own while the key lists fewer than
    MAX_CLIENTS_PER_KEY clients or this is one of them, else the key's overflow record,
    shared by every client past the bound (the list only grows: later clients are counted,
    not listed; their requests and times still are, so a count of the key's clients can say
    "more than" the clients listed)."""
    per_key = usage.clients.setdefault(key, {})
    use = per_key.get(client)
    if use is None:
        if len(per_key) >= MAX_CLIENTS_PER_KEY:
            use = usage.clients_overflow.get(key)
            if use is None:
                use = usage.clients_overflow[key] = ClientUse()
            return use
        use = per_key[client] = ClientUse()
    return use


def unlisted_between(usage: Usage, key: str, start: float, end: float) -> bool:
    """Whether clients past the bound of the key's list made requests between ``start`` and
    ``end`` (as a listed client is judged in a period: by its first and last request)."""
    use = usage.clients_overflow.get(key)
    return use is not None and use.last >= start and use.first < end


def merge_use(mine: ClientUse, other: ClientUse) -> None:
    """``other``'s requests added to ``mine``."""
    mine.hits += other.hits
    mine.first = min(mine.first, other.first)
    mine.last = max(mine.last, other.last)
    for op, n in other.ops.items():
        mine.ops[op] = mine.ops.get(op, 0) + n


def count_input(usage: Usage, source: str,
                cells: dict[tuple[str, str, str, int], Cell]) -> None:
    """``usage``'s per-input counts of ``source``, from ``cells`` (that input's alone):
    accepted requests per day (those of the cells, and the unattributed ones counted apart)
    and each key's days."""
    accepted = dict(usage.unattributed_by_input.get(source, {}))
    key_days: dict[str, set[int]] = {}
    for (key, _, cls, day), cell in cells.items():
        known = key_days.get(key)
        if known is None:
            key_days[key] = {day}
        else:
            known.add(day)
        if cls not in REFUSED:
            accepted[day] = accepted.get(day, 0) + cell.count
    usage.accepted_by_input[source] = accepted
    usage.key_days_by_input[source] = shared_day_sets(key_days)


def shared_day_sets(key_days: Mapping[str, Set[int]]) -> dict[str, frozenset[int]]:
    """``key_days`` with equal day sets as one frozenset object."""
    shared: dict[frozenset[int], frozenset[int]] = {}
    out: dict[str, frozenset[int]] = {}
    for key, days in key_days.items():
        frozen = frozenset(days)
        out[key] = shared.setdefault(frozen, frozen)
    return out


def note_unattributed(usage: Usage, source: str, day: int, hits: int) -> None:
    """Accepted requests of ``source`` on ``day`` that carry no key identity."""
    per_day = usage.unattributed_by_input.setdefault(source, {})
    per_day[day] = per_day.get(day, 0) + hits


def note_token(usage: Usage, source: str, key: str | None, line: int) -> None:
    """A record of ``source`` carried a raw token: counted per (input, key), its first
    MAX_TOKEN_LINES lines kept for SA301."""
    slot = (source, key or "")
    count, lines = usage.tokens.get(slot, (0, []))
    if len(lines) < MAX_TOKEN_LINES:
        lines.append(line)
    usage.tokens[slot] = (count + 1, lines)


def family_of(families: tuple[tuple[str, frozenset[str]], ...],
              path: str) -> frozenset[str] | None:
    """The scopes a request to ``path`` could need when no operation matches it: those of the
    longest catalog path prefix it falls under; None when it falls under none (any scope)."""
    for prefix, scopes in families:
        prefix = prefix.rstrip("/")
        if path == prefix or path.startswith(prefix + "/"):
            return scopes
    return None


def merge_usage(parts: list[Usage]) -> Usage:
    """One aggregate from the aggregates of consecutive work units, taken in input order.

    Equal to consuming all records in one aggregator: counts add, first/last take min/max,
    first-seen locations and token lines keep the earliest units' first. One exception, past
    the bound of MAX_CLIENTS_PER_KEY clients: a later unit that met a client only after its
    own bound counted that client's requests as overflow, so a client an earlier unit listed
    gets fewer of them than one pass would give it (the key's total is the same), and the
    overflow's first and last times (which say whether clients past the bound were seen in a
    period: unlisted_between) include those requests. Such a unit met more than
    MAX_CLIENTS_PER_KEY clients of the key itself. Exact would need every unit to keep every
    client, which is what the bound exists to prevent.
    """
    if not parts:
        return Usage({}, {}, {}, {}, {}, {})
    # The first part is the base, merged into in place; each later part is dropped from the
    # list once merged, so memory holds the result and one part, not every part and a copy.
    merged = parts[0]
    while len(parts) > 1:
        part = parts.pop(1)
        for cell_key, cell in part.cells.items():
            mine = merged.cells.get(cell_key)
            if mine is None:
                merged.cells[cell_key] = cell
            else:
                mine.count += cell.count
                mine.first = min(mine.first, cell.first)
                mine.last = max(mine.last, cell.last)
        for key, clients in part.clients.items():
            per_key = merged.clients.setdefault(key, {})
            for client, use in clients.items():
                if client not in per_key and len(per_key) < MAX_CLIENTS_PER_KEY:
                    per_key[client] = use
                else:
                    merge_use(listed_use(merged, key, client), use)
        for key, use in part.clients_overflow.items():
            mine_overflow = merged.clients_overflow.get(key)
            if mine_overflow is None:
                merged.clients_overflow[key] = use
            else:
                merge_use(mine_overflow, use)
        for key, where in part.first_seen_at.items():
            merged.first_seen_at.setdefault(key, where)
        for slot, (count, lines) in part.tokens.items():
            had_count, had_lines = merged.tokens.get(slot, (0, []))
            merged.tokens[slot] = (had_count + count, (had_lines + lines)[:MAX_TOKEN_LINES])
        for source, days in part.days_by_input.items():
            merged.days_by_input.setdefault(source, set()).update(days)
        for key, routes in part.shape_routes.items():
            mine_routes = merged.shape_routes.setdefault(key, {})
            for shape, held in routes.items():
                had = mine_routes.get(shape)
                if had is None or held[0] < had[0]:
                    mine_routes[shape] = held
        for counts, more in ((merged.accepted_by_input, part.accepted_by_input),
                             (merged.unattributed_by_input, part.unattributed_by_input)):
            for source, per_day in more.items():
                mine_days = counts.setdefault(source, {})
                for day, n in per_day.items():
                    mine_days[day] = mine_days.get(day, 0) + n
        for source, by_key in part.key_days_by_input.items():
            mine_keys = merged.key_days_by_input.get(source)
            if mine_keys is None:  # another input: its day sets stay shared
                merged.key_days_by_input[source] = by_key
                continue
            merged.key_days_by_input[source] = shared_day_sets(
                {key: mine_keys.get(key, frozenset()) | by_key.get(key, frozenset())
                 for key in sorted(mine_keys.keys() | by_key.keys())})
        merged.unattributed += part.unattributed
        merged.preflight += part.preflight
        merged.invalid_targets += part.invalid_targets
        if part.newest is not None:
            merged.newest = part.newest if merged.newest is None else max(merged.newest,
                                                                          part.newest)
        if part.oldest is not None:
            merged.oldest = part.oldest if merged.oldest is None else min(merged.oldest,
                                                                          part.oldest)
    bound_shapes(merged)
    return merged
