"""The aggregate: per key x operation x status class x UTC day, counts and first/last time.

This is the seam of the pipeline. Readers yield records; one ``Aggregator`` consumes them;
the ``Usage`` it produces is all the analysis ever sees. Memory grows with the distinct
(key, operation, status class, day) cells and the bounded client and shape tables, never with
the number of records. An embedded SQL engine or a warehouse query can produce the same
``Usage`` from the same cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from scopeaudit.catalog.model import Catalog
from scopeaudit.catalog.routes import MatchKind, shape_of
from scopeaudit.usage.clients import client_id
from scopeaudit.usage.record import Record
from scopeaudit.usage.routekey import looks_like_id

# Operation column for requests that match no operation: "~METHOD /shape".
UNMATCHED_PREFIX = "~"
# The shape's tail for a method's unmatched requests past MAX_SHAPES: a bucket of many paths.
OVERFLOW_TAIL = " (other)"
MAX_CLIENTS_PER_KEY = 200
MAX_SHAPES = 10_000
MAX_TOKEN_LINES = 10
_ROUTE_CACHE_LIMIT = 200_000


# Statuses that are a class of their own; every other status is classed by its hundreds.
# The one definition: the DuckDB engine's query and the warehouse SQL are written from it.
# 401 and 403 are refusals, not use; 404 and 405 on a request that matches no operation and
# falls under no known resource mean it reached no handler (see evidence.py).
OWN_CLASS_STATUSES = (401, 403, 404, 405)


def status_class(status: int) -> str:
    """The status's class: itself for OWN_CLASS_STATUSES, else its hundreds ("2xx")."""
    if status in OWN_CLASS_STATUSES:
        return str(status)
    return f"{status // 100}xx"


REFUSED = frozenset({"401", "403"})
NO_HANDLER = frozenset({"404", "405"})
_CLASS_OF_STATUS = tuple(status_class(s) for s in range(1000))


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
    shapes_overflow: int = 0
    newest: float | None = None
    oldest: float | None = None
    # unmatched shape -> the scopes its resource could need (None: any), judged on the first
    # real path seen: a shape's {id} may have folded a literal such as the 3 in /rest/api/3
    shape_families: dict[str, frozenset[str] | None] = field(default_factory=dict)
    # What each input could show (the evidence's quality, scopeaudit.quality), per input:
    # day -> accepted requests (not 401/403, not preflight), attributed to a key or not;
    accepted_by_input: dict[str, dict[int, int]] = field(default_factory=dict)
    # day -> those of them no key can be attributed to;
    unattributed_by_input: dict[str, dict[int, int]] = field(default_factory=dict)
    # key -> days with a record of that key (whatever its status); equal day sets of one
    # input are one object (an hourly file's keys share one), so this grows with the keys of
    # each input, not with their days
    key_days_by_input: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)

    # A work unit's aggregate crosses a process boundary (usage/parallel.py). Pickling a
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


class Aggregator:
    def __init__(self, catalog: Catalog) -> None:
        self._router = catalog.router
        self._route_key = catalog.route_key.key
        self._families = catalog.path_families
        self._route_cache: dict[tuple[str, str], tuple[str | None, bool]] = {}
        # (user agent, ip) -> client id, and (key, client id) -> its use record
        self._client_ids: dict[tuple[str | None, str | None], str] = {}
        self._client_uses: dict[tuple[str, str], ClientUse] = {}
        self.usage = Usage({}, {}, {}, {}, {}, {})
        self._shapes: set[str] = set()
        self.consumed = (0, 0)  # (records, requests) of the last consume() call
        self._source: str | None = None  # the one input this aggregator reads

    def _operation(self, method: str, target: str) -> str | None:
        """Operation id, "~METHOD shape" for an unmatched request, None for a preflight."""
        cut = target.find("?")
        path = target if cut < 0 else target[:cut]
        cache_key = (method, self._route_key(path))
        cached = self._route_cache.get(cache_key)
        if cached is None:
            cached = self._route(method, path)
            if len(self._route_cache) >= _ROUTE_CACHE_LIMIT:
                self._route_cache.clear()
            self._route_cache[cache_key] = cached
        result, invalid = cached
        if invalid:
            self.usage.invalid_targets += 1
        return result

    def _route(self, method: str, path: str) -> tuple[str | None, bool]:
        match = self._router.match(method, path)
        if match.kind is MatchKind.MATCHED and match.operation is not None:
            return match.operation.id, False
        if match.kind is MatchKind.PREFLIGHT:
            return None, False
        shape = self._shape(method, match.path)
        if shape not in self.usage.shape_families:
            # the overflow bucket mixes paths: any scope could be needed there
            overflow = shape.endswith(OVERFLOW_TAIL)
            self.usage.shape_families[shape] = (None if overflow
                                                else family_of(self._families, match.path))
        return shape, match.kind is MatchKind.INVALID

    def _shape(self, method: str, path: str) -> str:
        shape = UNMATCHED_PREFIX + method + " " + generalise(path)
        if shape not in self._shapes:
            if len(self._shapes) >= MAX_SHAPES:
                self.usage.shapes_overflow += 1
                return UNMATCHED_PREFIX + method + OVERFLOW_TAIL
            self._shapes.add(shape)
        return shape

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
        classes = _CLASS_OF_STATUS
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
                day = int(when // 86400)
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
                    cached = self._route(method, path)
                    if len(route_cache) >= _ROUTE_CACHE_LIMIT:
                        route_cache.clear()
                    route_cache[route_key] = cached
                op, invalid = cached
                if invalid:
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
                cell_key = (key, op, classes[status] if 0 <= status < 1000 else "?", day)
                cell = cells.get(cell_key)
                if cell is None:
                    cells[cell_key] = Cell(hits, when, when)
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
                use.ops[op] = use.ops.get(op, 0) + hits
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
        if len(self._client_ids) < _ROUTE_CACHE_LIMIT:
            self._client_ids[(ua, ip)] = client
        return client

    def _client_use(self, key: str, client: str) -> ClientUse:
        """The use record of (key, client): see listed_use."""
        use = listed_use(self.usage, key, client)
        if len(self._client_uses) < _ROUTE_CACHE_LIMIT:
            self._client_uses[(key, client)] = use
        return use

    def _token(self, source: str, rec: Record) -> None:
        note_token(self.usage, source, rec.key, rec.line)

    def finish(self) -> Usage:
        return self.usage


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


def generalise(path: str) -> str:
    """An unmatched path's shape: segments that look like identifiers become ``{id}``, so
    ``/v1/exports/8812`` and ``/v1/exports/9921`` count as one shape."""
    out = []
    for seg in path.split("/"):
        if seg and looks_like_id(seg):
            out.append("{id}")
        else:
            out.append(seg)
    return shape_of("/".join(out)).replace("{}", "{id}")


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
    shapes_overflow = merged.shapes_overflow
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
        for shape, family in part.shape_families.items():
            merged.shape_families.setdefault(shape, family)
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
        shapes_overflow += part.shapes_overflow
        if part.newest is not None:
            merged.newest = part.newest if merged.newest is None else max(merged.newest,
                                                                          part.newest)
        if part.oldest is not None:
            merged.oldest = part.oldest if merged.oldest is None else min(merged.oldest,
                                                                          part.oldest)
    merged.shapes_overflow = shapes_overflow
    return merged
