"""The aggregate: per key x operation x status class x UTC day, counts and first/last time.

This is the seam of the pipeline. Readers yield records; one ``Aggregator`` consumes them;
the ``Usage`` it produces is all the analysis ever sees. Memory grows with the distinct
(key, operation, status class, day) cells and the bounded client and shape tables, never with
the number of records. An embedded SQL engine or a warehouse query can produce the same
``Usage`` from the same cells.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from scopeaudit.catalog.model import Catalog
from scopeaudit.catalog.routes import MatchKind, shape_of
from scopeaudit.usage.record import Record

# Operation column for requests that match no operation: "~METHOD /shape".
UNMATCHED_PREFIX = "~"
MAX_CLIENTS_PER_KEY = 200
MAX_SHAPES = 10_000
MAX_TOKEN_LINES = 10
_ROUTE_CACHE_LIMIT = 200_000


def status_class(status: int) -> str:
    """401 and 403 stand apart: they are refusals, not use. Everything else is by hundreds."""
    if status == 401 or status == 403:
        return str(status)
    return f"{status // 100}xx"


REFUSED = frozenset({"401", "403"})


def network_of(ip: str | None) -> str:
    """The client's network: /24 for IPv4, /64 for IPv6 (addresses behind one NAT or
    one host's privacy addresses count once)."""
    if not ip:
        return "-"
    try:
        addr = ipaddress.ip_address(ip.strip().split("%")[0])
    except ValueError:
        return "?"
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


@dataclass
class Cell:
    count: int
    first: float
    last: float


@dataclass
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
    # key -> client id ("user agent @ network") -> use
    clients: dict[str, dict[str, ClientUse]]
    clients_overflow: dict[str, int]
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


class Aggregator:
    def __init__(self, catalog: Catalog) -> None:
        self._router = catalog.router
        self._route_cache: dict[tuple[str, str], str | None] = {}
        self._client_cache: dict[tuple[str | None, str | None], str] = {}
        self.usage = Usage({}, {}, {}, {}, {}, {})
        self._shapes: set[str] = set()
        self.consumed = (0, 0)  # (records, requests) of the last consume() call

    def _operation(self, method: str, target: str) -> str | None:
        """Operation id, "~METHOD shape" for an unmatched request, None for a preflight."""
        cut = target.find("?")
        path = target if cut < 0 else target[:cut]
        cache_key = (method, path)
        cached = self._route_cache.get(cache_key, "")
        if cached != "":
            return cached
        match = self._router.match(method, path)
        result: str | None
        if match.kind is MatchKind.MATCHED and match.operation is not None:
            result = match.operation.id
        elif match.kind is MatchKind.PREFLIGHT:
            result = None
        else:
            if match.kind is MatchKind.INVALID:
                self.usage.invalid_targets += 1
            result = self._shape(method, match.path)
        if len(self._route_cache) >= _ROUTE_CACHE_LIMIT:
            self._route_cache.clear()
        self._route_cache[cache_key] = result
        return result

    def _shape(self, method: str, path: str) -> str:
        shape = UNMATCHED_PREFIX + method + " " + generalise(path)
        if shape not in self._shapes:
            if len(self._shapes) >= MAX_SHAPES:
                self.usage.shapes_overflow += 1
                return UNMATCHED_PREFIX + method + " (other)"
            self._shapes.add(shape)
        return shape

    def _client(self, ua: str | None, ip: str | None) -> str:
        cache_key = (ua, ip)
        client = self._client_cache.get(cache_key)
        if client is None:
            client = f"{(ua or '-')[:120]} @ {network_of(ip)}"
            if len(self._client_cache) < _ROUTE_CACHE_LIMIT:
                self._client_cache[cache_key] = client
        return client

    def consume(self, records: Iterable[Record], source: str) -> tuple[int, int]:
        """Take every record of one input; returns (records, requests) consumed."""
        usage = self.usage
        n_records = n_hits = 0
        cells = usage.cells
        days = usage.days_by_input.setdefault(source, set())
        newest = usage.newest if usage.newest is not None else float("-inf")
        oldest = usage.oldest if usage.oldest is not None else float("inf")
        try:
            for rec in records:
                n_records += 1
                n_hits += rec.hits
                when = rec.time
                day = int(when // 86400)
                days.add(day)
                if when > newest:
                    newest = when
                if when < oldest:
                    oldest = when
                if rec.token:
                    self._token(source, rec)
                op = self._operation(rec.method, rec.target)
                if op is None:
                    usage.preflight += rec.hits
                    continue
                key = rec.key
                if key is None:
                    usage.unattributed += rec.hits
                    continue
                if key not in usage.first_seen_at:
                    usage.first_seen_at[key] = KeyLocation(source, rec.line)
                cell_key = (key, op, status_class(rec.status), day)
                cell = cells.get(cell_key)
                if cell is None:
                    cells[cell_key] = Cell(rec.hits, when, when)
                else:
                    cell.count += rec.hits
                    if when < cell.first:
                        cell.first = when
                    elif when > cell.last:
                        cell.last = when
                self._client_use(key, rec, op, when)
        finally:
            # Kept even when an input fails part-way (--strict, a truncated gzip).
            self.consumed = (n_records, n_hits)
            usage.newest = newest if newest != float("-inf") else None
            usage.oldest = oldest if oldest != float("inf") else None
        return n_records, n_hits

    def _client_use(self, key: str, rec: Record, op: str, when: float) -> None:
        per_key = self.usage.clients.get(key)
        if per_key is None:
            per_key = self.usage.clients[key] = {}
        client = self._client(rec.user_agent, rec.ip)
        use = per_key.get(client)
        if use is None:
            if len(per_key) >= MAX_CLIENTS_PER_KEY:
                self.usage.clients_overflow[key] = self.usage.clients_overflow.get(key, 0) + 1
                return
            use = per_key[client] = ClientUse()
        use.hits += rec.hits
        use.ops[op] = use.ops.get(op, 0) + rec.hits
        if when < use.first:
            use.first = when
        if when > use.last:
            use.last = when

    def _token(self, source: str, rec: Record) -> None:
        slot = (source, rec.key or "")
        count, lines = self.usage.tokens.get(slot, (0, []))
        if len(lines) < MAX_TOKEN_LINES:
            lines.append(rec.line)
        self.usage.tokens[slot] = (count + 1, lines)

    def finish(self) -> Usage:
        return self.usage


def generalise(path: str) -> str:
    """An unmatched path's shape: segments that look like identifiers become ``{id}``, so
    ``/v1/exports/8812`` and ``/v1/exports/9921`` count as one shape."""
    out = []
    for seg in path.split("/"):
        if seg and _looks_like_id(seg):
            out.append("{id}")
        else:
            out.append(seg)
    return shape_of("/".join(out)).replace("{}", "{id}")


def _looks_like_id(seg: str) -> bool:
    if seg.isdigit():
        return True
    if len(seg) >= 16 and sum(c.isdigit() for c in seg) >= 4:
        return True  # uuids, hashes, long opaque ids
    return len(seg) >= 6 and any(c.isdigit() for c in seg) and any(c.isalpha() for c in seg) \
        and "-" not in seg.strip("-")[:1]
