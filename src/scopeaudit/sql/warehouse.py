"""The warehouse query: the organisation's raw log table -> rows ``scopeaudit audit`` reads.

One GROUP BY per key x method x operation (or unmatched raw shape) x status class x UTC
day x client (user agent, /24 network), then each group becomes at most two rows in the
readers' own columns, so the result saved as CSV or JSON lines feeds ``audit --logs``
(as Parquet too, which the DuckDB engine reads: the ``scopeaudit[duckdb]`` extra):

``ts`` (epoch seconds), ``key_id``, ``method``, ``path``, ``status``, ``user_agent``,
``ip``, ``count``, ``tokens``.

* A group of n requests is a row at its first time with count n - 1 and a row at its last
  time with count 1 (one row when n = 1): the reader's cell then has the group's count,
  first and last time, which one row with one time could not give.
* ``path`` is one real (normalised, scrubbed) path of the group, which the reader routes
  again: to the same operation, or to the same unmatched shape, because the group's raw
  shape is at least as fine as the Python shape (routing.raw_shape_expr). A path ending
  in ``/`` or whitespace gets one ``/`` more, which the reader's trailing-slash rule takes
  off again. Query strings never leave the warehouse.
* ``status`` is the smallest status of the group's class (the reader classes it again).
* ``ip`` is the /24 network address (``203.0.113.0``) of an IPv4 client in any of the forms
  the readers take as one (usage.clients.IPV4_FORMS: with a port, IPv4-mapped, bracketed),
  which the reader turns into the same client network; a bracketed IPv6 address loses its
  brackets and port (clients.BRACKETED_IPV6); any other value is passed as logged, for
  the reader to judge (usage.clients.network_of).
* ``key_id`` never holds a token (see identity.py); ``tokens`` counts the group's
  requests that carried one (key, path or user agent: SA301). The readers ignore the
  column today: the count is there to see, and for the reader to take (reported).
* Rows the readers would refuse (no time, path, method or status) are left out; OPTIONS
  and keyless requests are kept, so the days covered and the unattributed and preflight
  counts stay as the raw logs give them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from scopeaudit.catalog.model import Catalog
from scopeaudit.model import Key
from scopeaudit.sql.identity import (
    has_token_expr,
    key_expr,
    key_token_expr,
    scrub_target_expr,
    scrub_text_expr,
    strip_expr,
)
from scopeaudit.sql.regex import DIALECTS, Flavour
from scopeaudit.sql.routing import (
    case,
    concat,
    cut_query_expr,
    lit,
    normalised_path_expr,
    operation_from_parts,
    regex_like,
    regex_replace,
    status_class_expr,
)
from scopeaudit.usage.clients import BRACKETED_IPV6, IPV4_FORMS, UA_CHARS
from scopeaudit.usage.timeparse import MS_THRESHOLD

# The fields (--map FIELD=COLUMN) and their default columns: the readers' own names.
COLUMNS = ("ts", "key_id", "method", "path", "status", "user_agent", "ip")
DEFAULT_SOURCES = {"ts": "ts", "key_id": "key_id", "method": "method", "path": "path",
                   "status": "status", "user_agent": "user_agent", "ip": "ip"}
TS_TYPES = ("timestamp", "iso", "epoch")


@dataclass(frozen=True)
class WarehouseSpec:
    """What the query is over: the table, its columns, how ``ts`` is stored, the days."""

    dialect: str
    table: str
    sources: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SOURCES))
    ts_type: str = "timestamp"
    since: date | None = None
    until: date | None = None  # inclusive
    keys: Sequence[Key] = ()

    def __post_init__(self) -> None:
        Flavour(self.dialect)
        if self.ts_type not in TS_TYPES:
            raise ValueError(f"unknown ts type {self.ts_type!r} (known: {', '.join(TS_TYPES)})")


def _identifier_path(text: str, dialect: str, into: type[exp.Expr]) -> exp.Expr:
    """A table or column name as the user wrote it: a dotted name with the dialect's
    quoting (``analytics."weird table"``, ``proj.dataset.tbl``); anything else is one name,
    however odd, and sqlglot quotes it. No text of it ever reaches the SQL unquoted."""
    try:
        parsed = sqlglot.parse_one(text, read=dialect, into=into)
    except SqlglotError:
        parsed = None
    ok = parsed is not None and isinstance(parsed, into) and all(
        isinstance(node, exp.Identifier | into | exp.Dot) for node in parsed.walk()) \
        and not parsed.args.get("alias")
    if ok and parsed is not None:
        return parsed
    if into is exp.Table:
        return exp.Table(this=exp.to_identifier(text, quoted=True))
    return exp.Column(this=exp.to_identifier(text, quoted=True))


def _epoch(value: exp.Expr, spec: WarehouseSpec) -> exp.Expr:
    """Seconds since the epoch (fractional) of the ``ts`` column."""
    d = spec.dialect
    if spec.ts_type == "epoch":
        number = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
        # the reader's rule (timeparse): values from MS_THRESHOLD on are milliseconds
        return case([(exp.GTE(this=number, expression=exp.Literal.number(MS_THRESHOLD)),
                      exp.Div(this=number, expression=exp.Literal.number(1000)))], number)
    stamp = value
    if spec.ts_type == "iso":
        # No zone means UTC, as the reader reads it, whatever the session's time zone.
        fl = Flavour(d)
        text = strip_expr(exp.Cast(this=value, to=exp.DataType.build("TEXT")), d)
        zoned = regex_like(text, r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
                                 rf"(?:[Zz]|[+-][0-9]{{2}}(?::?[0-9]{{2}})?){fl.end}")
        dated = regex_like(text, rf"\A[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{fl.end}")
        text = case([(zoned, text), (dated, concat(text, lit("T00:00:00Z")))],
                    concat(text, lit("Z")))
        if d == "trino":
            stamp = exp.Anonymous(this="FROM_ISO8601_TIMESTAMP", expressions=[
                regex_replace(text, r"\A([0-9-]+) ", Flavour(d).group(1) + "T", d)])
        elif d == "spark":
            stamp = exp.Anonymous(this="TO_TIMESTAMP", expressions=[text])
        elif d == "bigquery":
            stamp = exp.Anonymous(this="TIMESTAMP", expressions=[text])
        else:
            stamp = exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
    if d == "duckdb":
        return exp.Anonymous(this="EPOCH", expressions=[stamp])
    if d == "trino":
        return exp.Anonymous(this="TO_UNIXTIME", expressions=[stamp])
    if d in ("spark", "bigquery"):
        return exp.Div(this=exp.Anonymous(this="UNIX_MICROS", expressions=[stamp]),
                       expression=exp.Literal.number(1_000_000))
    return exp.Extract(this=exp.var("EPOCH"), expression=stamp)


def _day_bounds(spec: WarehouseSpec) -> list[exp.Expr]:
    conds: list[exp.Expr] = []
    epoch = exp.column("ts_")
    if spec.since is not None:
        start = datetime(spec.since.year, spec.since.month, spec.since.day, tzinfo=UTC)
        conds.append(exp.GTE(this=epoch, expression=exp.Literal.number(int(start.timestamp()))))
    if spec.until is not None:
        # the next day's first second, counted from the day's own (9999-12-31 has no next day)
        end = datetime(spec.until.year, spec.until.month, spec.until.day, tzinfo=UTC)
        conds.append(exp.LT(this=epoch,
                            expression=exp.Literal.number(int(end.timestamp()) + 86400)))
    return conds


def _missing(value: exp.Expr) -> exp.Expr:
    """The readers' empty markers: NULL, '' and '-'."""
    return exp.or_(exp.Is(this=value, expression=exp.Null()),
                   exp.In(this=value, expressions=[lit(""), lit("-")]))


def _text(value: exp.Expr) -> exp.Expr:
    return exp.Cast(this=value, to=exp.DataType.build("TEXT"))


def client_ip_expr(ip: exp.Expr, dialect: str) -> exp.Expr:
    """The ``ip`` a group of requests from the logged address ``ip`` (stripped, present) is
    handed on with: one the reader reads as the same client network (usage.clients), as
    few distinct ones as SQL can portably make. An IPv4 client in any of its forms
    (IPV4_FORMS) is its /24 network address, ``203.0.113.0``; a bracketed IPv6 address
    loses its brackets and port; any other value is passed on as logged (scrubbed of
    tokens), for the reader to judge."""
    end = Flavour(dialect).end
    group = Flavour(dialect).group(1)
    # the forms hold no digit before the address and no dot after its third one
    network = concat(regex_replace(ip, rf"\A[^0-9]*([0-9]+\.[0-9]+\.[0-9]+\.)[^.]*{end}",
                                   group, dialect), lit("0"))
    return case([(regex_like(ip, rf"\A(?:{IPV4_FORMS}){end}"), network)],
                regex_replace(scrub_text_expr(ip, dialect), rf"\A{BRACKETED_IPV6}{end}", group,
                              dialect))


def warehouse_query(catalog: Catalog, spec: WarehouseSpec) -> exp.Expr:
    """The aggregation query as an expression tree; render with ``render``."""
    d = spec.dialect
    fl = Flavour(d)
    src = {f: _identifier_path(spec.sources.get(f, DEFAULT_SOURCES[f]), d, exp.Column)
           for f in COLUMNS}
    table = _identifier_path(spec.table, d, exp.Table)

    # 1. read: text columns, the time as epoch seconds, the readers' refusals left out
    ws = fl.whitespace_class()
    path_text = strip_expr(_text(src["path"]), d)
    request_line = rf"\A[A-Za-z]+ ([^{ws[1:-1]}]+)(?: HTTP/[0-9.]+)?{fl.end}"
    target = case([(regex_like(path_text, request_line),
                    regex_replace(path_text, request_line, fl.group(1), d))],
                  _text(src["path"]))
    status = exp.TryCast(this=_text(src["status"]), to=exp.DataType.build("BIGINT"))
    read = exp.select(
        exp.alias_(_epoch(src["ts"], spec), "ts_"),
        exp.alias_(_text(src["key_id"]), "key_raw"),
        exp.alias_(exp.Upper(this=_text(src["method"])), "method_"),
        exp.alias_(target, "target_raw"),
        exp.alias_(status, "status_"),
        exp.alias_(_text(src["user_agent"]), "ua_raw"),
        exp.alias_(strip_expr(_text(src["ip"]), d), "ip_raw"),
    ).from_(table)
    # 2. clean: secrets out, the reader's fields
    ua, ip, key_raw = exp.column("ua_raw"), exp.column("ip_raw"), exp.column("key_raw")
    scrubbed = scrub_target_expr(exp.column("target_raw"), d)
    clean = exp.select(
        "ts_", "method_", "status_",
        exp.alias_(case([(_missing(key_raw), exp.Null())], key_expr(key_raw, d, spec.keys)),
                   "key_"),
        exp.alias_(exp.or_(key_token_expr(key_raw, d),
                           has_token_expr(exp.column("target_raw")),
                           has_token_expr(ua), has_token_expr(ip)), "token_"),
        exp.alias_(scrubbed, "target_"),
        exp.alias_(case([(_missing(ua), exp.Null())], exp.Substring(
            this=scrub_text_expr(ua, d), start=exp.Literal.number(1),
            length=exp.Literal.number(UA_CHARS))), "ua_"),
        exp.alias_(case([(_missing(ip), exp.Null())], client_ip_expr(ip, d)), "ip_"),
    ).from_(exp.alias_(read.subquery(), "read_", table=True)).where(exp.and_(
        exp.not_(exp.Is(this=exp.column("ts_"), expression=exp.Null())),
        exp.not_(_missing(exp.column("target_raw"))),
        regex_like(exp.column("method_"), rf"\A[A-Z]+{fl.end}"),
        exp.Between(this=exp.column("status_"), low=exp.Literal.number(0),
                    high=exp.Literal.number(999)),
        *_day_bounds(spec)))
    # 3. route
    cut = exp.column("cut_")
    path = exp.column("path_")
    parts = exp.select("*", exp.alias_(cut_query_expr(exp.column("target_"), d), "cut_"),
                       exp.alias_(normalised_path_expr(exp.column("target_"), d), "path_")) \
        .from_(exp.alias_(clean.subquery(), "clean_", table=True))
    kept = case([
        (exp.Is(this=path, expression=exp.Null()), cut),
        (regex_like(path, rf"[/{ws[1:-1]}]{fl.end}"), concat(path, lit("/"))),
    ], path)
    routed = exp.select(
        "*",
        exp.alias_(operation_from_parts(catalog, exp.column("method_"), cut, path, d,
                                        exact_shape=False), "op_"),
        exp.alias_(status_class_expr(exp.column("status_")), "class_"),
        exp.alias_(exp.Cast(this=exp.Floor(this=exp.Div(
            this=exp.column("ts_"), expression=exp.Literal.number(86400))),
            to=exp.DataType.build("BIGINT")), "day_"),
        exp.alias_(kept, "out_path_"),
    ).from_(exp.alias_(parts.subquery(), "parts_", table=True))
    # 4. group
    keys = ["key_", "method_", "op_", "class_", "day_", "ua_", "ip_"]
    grouped = exp.select(
        *keys,
        exp.alias_(exp.Count(this=exp.Star()), "n_"),
        exp.alias_(exp.Min(this=exp.column("ts_")), "first_"),
        exp.alias_(exp.Max(this=exp.column("ts_")), "last_"),
        exp.alias_(exp.Min(this=exp.column("status_")), "status_"),
        exp.alias_(exp.Min(this=exp.column("out_path_")), "path_"),
        exp.alias_(exp.Sum(this=case([(exp.column("token_"), exp.Literal.number(1))],
                                     exp.Literal.number(0))), "tokens_"),
    ).from_(exp.alias_(routed.subquery(), "routed_", table=True)).group_by(*keys)
    # 5. two rows per group, in the readers' columns
    n = exp.column("n_")
    one = exp.Literal.number(1)

    def row(ts: str, count: exp.Expr, tokens: exp.Expr) -> exp.Select:
        return exp.select(
            exp.alias_(exp.column(ts), "ts"), exp.alias_(exp.column("key_"), "key_id"),
            exp.alias_(exp.column("method_"), "method"), exp.alias_(exp.column("path_"), "path"),
            exp.alias_(exp.column("status_"), "status"),
            exp.alias_(exp.column("ua_"), "user_agent"), exp.alias_(exp.column("ip_"), "ip"),
            exp.alias_(count, "count"), exp.alias_(tokens, "tokens"),
        ).from_("grouped_")

    first = row("first_", case([(exp.GT(this=n, expression=one), exp.Sub(this=n, expression=one))],
                               n), exp.column("tokens_"))
    last = row("last_", one, exp.Literal.number(0)).where(exp.GT(this=n, expression=one))
    union = exp.union(first, last, distinct=False)
    query = exp.select("*").from_(exp.alias_(union.subquery(), "rows_", table=True)).order_by(
        *[exp.Ordered(this=exp.column(c), nulls_first=True)
          for c in ("key_id", "ts", "method", "path", "status", "user_agent", "ip")],
        exp.column("count"))
    return query.with_("grouped_", as_=grouped)


def render(query: exp.Expr, dialect: str, pretty: bool = True) -> str:
    """The query as SQL text, every identifier quoted (after the dialect's case folding of
    the unquoted ones, so ``Logs`` means what it means to that warehouse)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    return normalize_identifiers(query, dialect=dialect).sql(dialect=dialect, identify=True,
                                                             pretty=pretty)
