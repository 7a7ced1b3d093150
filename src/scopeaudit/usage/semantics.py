"""What a request counts as: the aggregation rules, defined once.

Every engine is built from these names: the streaming aggregator (usage/aggregate.py, on
``--jobs`` processes: engine/stream.py), the DuckDB engine (engine/duckdb_engine.py: its
query and the Builder that replays its groups) and the warehouse SQL (sql/). A rule changes
here (or in the module a name comes from) and every engine follows; the parity and
differential tests (tests/unit/test_engine_parity.py, test_engine_routekey.py,
test_sql_routing.py) hold them to one another.

* **operation**: the catalog's Router decides. The *route key* (``RouteKey``,
  usage/routekey.py) says which paths share its decision, so an engine routes once per key,
  whatever the id style. An unmatched request counts under its shape (``unmatched_shape``:
  segments that ``looks_like_id`` become ``{id}``).
* **client**: ``client_id``, the user agent's first ``UA_CHARS`` characters and the network of
  the address, its /``IPV4_PREFIX`` or /``IPV6_PREFIX`` (usage/clients.py, with the address
  forms SQL reduces itself, ``IPV4_FORMS``).
* **status class**: ``status_class``; ``REFUSED`` classes are no use, ``NO_HANDLER`` ones may
  have reached no handler.
* **day**: ``utc_day``, the UTC day number of a time in epoch seconds (usage/timeparse.py:
  Python's float floor division by ``DAY_SECONDS``, which the SQL reproduces exactly).
* **bounds**: a key lists ``MAX_SHAPES_PER_KEY`` unmatched shapes and ``MAX_CLIENTS_PER_KEY``
  clients, and ``MAX_TOKEN_LINES`` lines per input that carried a raw token; every engine's
  cache of decisions (routes, clients, key labels) holds ``ROUTE_CACHE_LIMIT`` entries and
  then starts again.
"""

from __future__ import annotations

from scopeaudit.catalog.routes import shape_of
from scopeaudit.usage.clients import (
    BRACKETED_IPV6,
    IPV4,
    IPV4_FORMS,
    IPV4_PREFIX,
    IPV6_PREFIX,
    NOT_AN_ADDRESS,
    UA_CHARS,
    client_id,
    client_name,
    network_of,
)
from scopeaudit.usage.routekey import UUID, RouteKey, looks_like_id
from scopeaudit.usage.timeparse import DAY_SECONDS
from scopeaudit.usage.timeparse import day_of as utc_day

__all__ = [
    "BRACKETED_IPV6", "CLASS_OF_STATUS", "DAY_SECONDS", "IPV4", "IPV4_FORMS", "IPV4_PREFIX",
    "IPV6_PREFIX", "MAX_CLIENTS_PER_KEY", "MAX_SHAPES_PER_KEY", "MAX_TOKEN_LINES",
    "NOT_AN_ADDRESS", "NO_HANDLER", "OVERFLOW_TAIL", "OWN_CLASS_STATUSES", "REFUSED",
    "ROUTE_CACHE_LIMIT", "UA_CHARS", "UNKNOWN_STATUS_CLASS", "UNMATCHED_PREFIX", "UUID",
    "RouteKey", "client_id", "client_name", "looks_like_id", "network_of", "status_class",
    "unmatched_shape", "utc_day",
]

# --- operation --------------------------------------------------------------------------------

# The operation column of a request that matches no operation: "~METHOD /shape".
UNMATCHED_PREFIX = "~"
# The shape's tail for a key's unmatched requests of one method past its MAX_SHAPES_PER_KEY
# shapes: a bucket of many paths.
OVERFLOW_TAIL = " (other)"


def unmatched_shape(path: str) -> str:
    """An unmatched path's shape: segments that look like identifiers become ``{id}``, so
    ``/v1/exports/8812`` and ``/v1/exports/9921`` count as one shape."""
    out = []
    for seg in path.split("/"):
        if seg and looks_like_id(seg):
            out.append("{id}")
        else:
            out.append(seg)
    return shape_of("/".join(out)).replace("{}", "{id}")


# --- status class -----------------------------------------------------------------------------

# Statuses that are a class of their own; every other status is classed by its hundreds.
# 401 and 403 are refusals, not use; 404 and 405 on a request that matches no operation and
# falls under no known resource mean it reached no handler (see evidence.py).
OWN_CLASS_STATUSES = (401, 403, 404, 405)
# The class of a status outside 0..999 (the readers refuse those; kept apart all the same)
UNKNOWN_STATUS_CLASS = "?"


def status_class(status: int) -> str:
    """The status's class: itself for OWN_CLASS_STATUSES, else its hundreds ("2xx");
    UNKNOWN_STATUS_CLASS outside 0..999."""
    if status in OWN_CLASS_STATUSES:
        return str(status)
    if not 0 <= status < 1000:
        return UNKNOWN_STATUS_CLASS
    return f"{status // 100}xx"


# status_class of 0..999, looked up on the streaming hot path
CLASS_OF_STATUS = tuple(status_class(s) for s in range(1000))
REFUSED = frozenset({"401", "403"})
NO_HANDLER = frozenset({"404", "405"})

# --- bounds -----------------------------------------------------------------------------------

# Each key lists at most this many unmatched shapes: the least of its shapes in text order
# (an order no engine, job count or input order can change; see aggregate.ShapeBound).
MAX_SHAPES_PER_KEY = 1_000
# Each key lists this many clients; later ones are counted together (aggregate.listed_use).
MAX_CLIENTS_PER_KEY = 200
# Lines kept per (input, key) that carried a raw token (SA301 names them).
MAX_TOKEN_LINES = 10
# Every engine's cache of decisions (route keys, clients, key labels) starts again when full.
ROUTE_CACHE_LIMIT = 200_000
