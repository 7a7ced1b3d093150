"""The warehouse query: the organisation's raw log table -> rows ``scopeaudit audit`` reads.

Each row is read as the readers read a record (usage/fields.py, FieldMap.record), from
the same definitions: the time by timeparse's patterns (sql/times.py), the method and a
request line in the path by fields' (METHOD_TEXT, PROTOCOL_TEXT), the status by
NUMBER_TEXT, the key by the key matchers (sql/identity.py: the key column's identity, else
a token's in the target), the client by usage/clients.py. A value a reader refuses leaves
its row out, never the query: no cast ever meets text its pattern has not accepted.

Then one GROUP BY per key x method x operation (or unmatched raw shape) x status class x
UTC day x client (user agent, /24 network), and each group becomes at most two rows in the
readers' own columns, so the result saved as JSON lines, CSV or Parquet (read by the
DuckDB engine: the ``scopeaudit[duckdb]`` extra) feeds ``audit --logs``:

``ts`` (epoch seconds), ``key_id``, ``method``, ``path``, ``status``, ``user_agent``,
``ip``, ``count``, ``tokens``.

* A group of n requests is a row at its first time with count n - 1 and a row at its last
  time with count 1 (one row when n = 1): the reader's cell then has the group's count,
  first and last time, which one row with one time could not give. A time from the year
  5138 on (timeparse.MS_THRESHOLD seconds) is written in milliseconds, which the reader
  reads back as the same time.
* ``path`` is one real (normalised, scrubbed) path of the group, which the reader routes
  again: to the same operation, or to the same unmatched shape, because the group's raw
  shape is at least as fine as the Python shape (routing.raw_shape_expr). A path ending
  in ``/`` or whitespace gets one ``/`` more, which the reader's trailing-slash rule takes
  off again. Query strings never leave the warehouse.
* ``status`` is the smallest status of the group's class (the reader classes it again).
* ``ip`` is the /24 network address (``203.0.113.0``) of an IPv4 client in any of the forms
  the readers take as one (usage.clients.IPV4_FORMS: with a port, IPv4-mapped, bracketed),
  which the reader turns into the same client network; a bracketed IPv6 address loses its
  brackets and port (clients.BRACKETED_IPV6); blank text is ``?`` (no IP address); any
  other value is passed as logged, for the reader to judge (usage.clients.network_of).
* ``key_id`` never holds a token (see identity.py); ``tokens`` counts the group's
  requests that carried one (key, path or user agent: SA301). The readers ignore the
  column today: the count is there to see, and for the reader to take (reported).
* Rows the readers would refuse (no time in their range, path, method or status) are left
  out; OPTIONS and keyless requests are kept, so the days covered and the unattributed and
  preflight counts stay as the raw logs give them.

The query is a chain of stages (subqueries), each computing its columns once for the next
(``_stage``); no WHERE filters before the grouping (see ``ok_``).
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
    target_key_expr,
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
from scopeaudit.sql.times import FIELDS as TIME_FIELDS
from scopeaudit.sql.times import (
    day_expr,
    in_range,
    out_time_expr,
    time_fields,
    time_kind_expr,
    time_seconds_expr,
    unbracketed_expr,
)
from scopeaudit.usage.fields import METHOD_TEXT, NUMBER_TEXT, PROTOCOL_TEXT
from scopeaudit.usage.semantics import (
    BRACKETED_IPV6,
    DAY_SECONDS,
    IPV4_FORMS,
    NOT_AN_ADDRESS,
    UA_CHARS,
)

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


def _timestamp_epoch(value: exp.Expr, dialect: str) -> exp.Expr:
    """Seconds since the epoch (fractional) of a native timestamp column."""
    if dialect == "duckdb":
        return exp.Anonymous(this="EPOCH", expressions=[value])
    if dialect == "trino":
        return exp.Anonymous(this="TO_UNIXTIME", expressions=[value])
    if dialect in ("spark", "bigquery"):
        return exp.Div(this=exp.Anonymous(this="UNIX_MICROS", expressions=[value]),
                       expression=exp.Literal.number(1_000_000))
    return exp.Extract(this=exp.var("EPOCH"), expression=value)


def _day_bounds(spec: WarehouseSpec, epoch: exp.Expr) -> list[exp.Expr]:
    conds: list[exp.Expr] = []
    if spec.since is not None:
        start = datetime(spec.since.year, spec.since.month, spec.since.day, tzinfo=UTC)
        conds.append(exp.GTE(this=epoch, expression=exp.Literal.number(int(start.timestamp()))))
    if spec.until is not None:
        # the next day's first second, counted from the day's own (9999-12-31 has no next day)
        end = datetime(spec.until.year, spec.until.month, spec.until.day, tzinfo=UTC)
        conds.append(exp.LT(this=epoch,
                            expression=exp.Literal.number(int(end.timestamp()) + DAY_SECONDS)))
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


def _stage(select: exp.Select, name: str, dialect: str) -> exp.Expr:
    """``select`` as the next stage's FROM. Each stage computes its columns once: the next
    names them, often several times. PostgreSQL would pull a plain subquery up into its
    parent and compute a column at every mention (it has no common subexpressions):
    ``OFFSET 0`` keeps the stage a stage there. The other engines keep a column computed
    once as it is."""
    if dialect == "postgres":
        select = select.offset(0)
    return exp.alias_(select.subquery(), name, table=True)


def _request_line(dialect: str) -> tuple[exp.Expr, exp.Expr]:
    """(method, target) as ``FieldMap.record`` takes them from the method column and the
    path (``method_raw``, ``path_raw``, and ``path_text``, stripped): a path that is a whole
    request line ("GET /x HTTP/1.1") gives its target, and its method where the method
    column has none; without a method, a path with a space is split at the first one
    ("PATCH  /x"). Either may be NULL: the reader then refuses the row."""
    fl = Flavour(dialect)
    method, path, stripped = (exp.column(c) for c in ("method_raw", "path_raw", "path_text"))
    line = (rf"\A({METHOD_TEXT}) ([^{fl.whitespace_class()[1:-1]}]+)(?:{PROTOCOL_TEXT})?"
            rf"{fl.end}")
    no_method = _missing(method)
    has_line = exp.and_(exp.not_(_missing(path)), regex_like(stripped, line))
    from_line = exp.and_(has_line, exp.or_(no_method, regex_like(path, " ")))
    split = exp.and_(no_method, exp.not_(_missing(path)), exp.not_(has_line),
                     regex_like(stripped, " "))
    target = case([(from_line, regex_replace(stripped, line, fl.group(2), dialect)),
                   (split, regex_replace(stripped, r"\A[^ ]* ", "", dialect)),
                   (_missing(path), exp.Null())], path)
    method_text = case([(exp.not_(no_method), method),
                        (has_line, regex_replace(stripped, line, fl.group(1), dialect)),
                        (split, regex_replace(stripped, rf"\A([^ ]*) .*{fl.end}",
                                              fl.group(1), dialect))])
    return method_text, target


def _status(stripped: exp.Expr, dialect: str) -> exp.Expr:
    """``fields._status`` of a text (``stripped`` of whitespace): NUMBER_TEXT up to 999,
    else NULL. Leading zeros are taken off first, so the cast sees at most three digits."""
    fl = Flavour(dialect)
    # NUMBER_TEXT with its value in range: zeros, then one to three digits
    short = rf"\A0*([0-9]{{1,3}}){fl.end}"
    return exp.Cast(this=case([(exp.and_(regex_like(stripped, rf"\A{NUMBER_TEXT}{fl.end}"),
                                         regex_like(stripped, short)),
                                regex_replace(stripped, short, fl.group(1), dialect))]),
                    to=exp.DataType.build("BIGINT"))


def warehouse_query(catalog: Catalog, spec: WarehouseSpec) -> exp.Expr:
    """The aggregation query as an expression tree; render with ``render``."""
    d = spec.dialect
    fl = Flavour(d)
    src = {f: _identifier_path(spec.sources.get(f, DEFAULT_SOURCES[f]), d, exp.Column)
           for f in COLUMNS}
    table = _identifier_path(spec.table, d, exp.Table)
    col = exp.column
    text_time = spec.ts_type != "timestamp"

    # 1. read: every column as text (a timestamp column as seconds), and stripped where a
    # reader strips it
    read = exp.select(
        exp.alias_(_text(src["ts"]) if text_time else _timestamp_epoch(src["ts"], d),
                   "ts_raw" if text_time else "ts_any"),
        *[exp.alias_(_text(src[f]), name) for f, name in (
            ("key_id", "key_raw"), ("method", "method_raw"), ("path", "path_raw"),
            ("status", "status_raw"), ("user_agent", "user_agent_raw"), ("ip", "ip_raw"))]
    ).from_(table)
    stripped = exp.select("*", *[exp.alias_(strip_expr(col(f"{f}_raw"), d), f"{f}_text")
                                 for f in ("path", "status", "ip", *(("ts",) * text_time))]
                          ).from_(_stage(read, "read_", d))
    # 2. forms: which form each value has, as the readers define them
    method_text, target = _request_line(d)
    forms = exp.select(
        "*", exp.alias_(method_text, "method_text"), exp.alias_(target, "target_raw"),
        exp.alias_(_status(col("status_text"), d), "status_"),
        *[exp.alias_(unbracketed_expr(col("ts_text"), d), "ts_bare")] * text_time,
    ).from_(_stage(stripped, "stripped_", d))
    if text_time:
        # the time's form (kind) and numbers, then its seconds
        raw_ts, text_ts, bare_ts = col("ts_raw"), col("ts_text"), col("ts_bare")
        kinds = exp.select("*", exp.alias_(time_kind_expr(
            raw_ts, text_ts, bare_ts, d, numbers=spec.ts_type == "epoch"), "ts_kind")
        ).from_(_stage(forms, "forms_", d))
        fields = exp.select("*", *[exp.alias_(value, name) for name, value in time_fields(
            col("ts_kind"), raw_ts, text_ts, bare_ts, d).items()]
        ).from_(_stage(kinds, "kinds_", d))
        timed = exp.select("*", exp.alias_(time_seconds_expr(
            col("ts_kind"), {name: col(name) for name in TIME_FIELDS}), "ts_any")
        ).from_(_stage(fields, "fields_", d))
        timed_name = "timed_"
    else:
        timed, timed_name = forms, "forms_"
    # 3. values: the readers' fields, secrets out
    ua, ip, key_raw = col("user_agent_raw"), col("ip_raw"), col("key_raw")
    target_raw = col("target_raw")
    method_ok = regex_like(col("method_text"), rf"\A{METHOD_TEXT}{fl.end}")
    in_window = exp.and_(in_range(col("ts_any")), *_day_bounds(spec, col("ts_any")))
    values = exp.select(
        exp.alias_(case([(in_window, col("ts_any"))]), "ts_"), "status_",
        exp.alias_(case([(method_ok, exp.Upper(this=col("method_text")))]), "method_"),
        # the key column's identity, else (the reader's scrub_target) a token's in the target
        exp.alias_(exp.func("COALESCE", case([(_missing(key_raw), exp.Null())],
                                             key_expr(key_raw, d, spec.keys)),
                            target_key_expr(target_raw, d, spec.keys)), "key_"),
        exp.alias_(exp.or_(key_token_expr(key_raw, d), has_token_expr(target_raw),
                           has_token_expr(ua), has_token_expr(ip)), "token_"),
        exp.alias_(scrub_target_expr(target_raw, d), "target_"),
        exp.alias_(case([(_missing(ua), exp.Null())], exp.Substring(
            this=scrub_text_expr(ua, d), start=exp.Literal.number(1),
            length=exp.Literal.number(UA_CHARS))), "ua_"),
        # "" and "-" are no address; any other text the reader judges (network_of); blank
        # text, or "-" with blanks around it, is no IP address, and never passed on as one
        # of those markers
        exp.alias_(case([(_missing(ip), exp.Null()),
                         (_missing(col("ip_text")), lit(NOT_AN_ADDRESS))],
                        client_ip_expr(col("ip_text"), d)), "ip_"),
        # the rows the readers take: a time (in their range, and the query's days), a
        # target, a method and a status. The others are grouped apart and left out after
        # grouping (HAVING, below), not here: a WHERE that an engine pushes down through the
        # stages (Spark does) would be written out there in terms of every stage's
        # expressions, each as often as it is named, which grows without bound.
        exp.alias_(exp.func("COALESCE", exp.and_(
            in_window, method_ok, exp.not_(exp.Is(this=target_raw, expression=exp.Null())),
            exp.not_(exp.Is(this=col("status_"), expression=exp.Null()))), exp.false()), "ok_"),
    ).from_(_stage(timed, timed_name, d))
    # 3. route
    cut = exp.column("cut_")
    path = exp.column("path_")
    parts = exp.select("*", exp.alias_(cut_query_expr(exp.column("target_"), d), "cut_"),
                       exp.alias_(normalised_path_expr(exp.column("target_"), d), "path_")) \
        .from_(_stage(values, "values_", d))
    kept = case([
        (exp.Is(this=path, expression=exp.Null()), cut),
        (regex_like(path, rf"[/{fl.whitespace_class()[1:-1]}]{fl.end}"), concat(path, lit("/"))),
    ], path)
    routed = exp.select(
        "*",
        exp.alias_(operation_from_parts(catalog, exp.column("method_"), cut, path, d,
                                        exact_shape=False), "op_"),
        exp.alias_(status_class_expr(exp.column("status_")), "class_"),
        exp.alias_(day_expr(exp.column("ts_")), "day_"),
        exp.alias_(kept, "out_path_"),
    ).from_(_stage(parts, "parts_", d))
    # 4. group
    keys = ["ok_", "key_", "method_", "op_", "class_", "day_", "ua_", "ip_"]
    grouped = exp.select(
        *keys,
        exp.alias_(exp.Count(this=exp.Star()), "n_"),
        exp.alias_(exp.Min(this=exp.column("ts_")), "first_"),
        exp.alias_(exp.Max(this=exp.column("ts_")), "last_"),
        exp.alias_(exp.Min(this=exp.column("status_")), "status_"),
        exp.alias_(exp.Min(this=exp.column("out_path_")), "path_"),
        exp.alias_(exp.Sum(this=case([(exp.column("token_"), exp.Literal.number(1))],
                                     exp.Literal.number(0))), "tokens_"),
    ).from_(_stage(routed, "routed_", d)).group_by(*keys).having(exp.EQ(
        this=exp.Min(this=case([(exp.column("ok_"), exp.Literal.number(1))],
                               exp.Literal.number(0))),
        expression=exp.Literal.number(1)))
    # 5. two rows per group, in the readers' columns: each group met once, beside a row
    # of a two-row table (the first row, and the last where there are two)
    n, i, one = exp.column("n_"), exp.column("i"), exp.Literal.number(1)
    first = exp.EQ(this=i, expression=exp.Literal.number(0))

    def either(at_first: exp.Expr, at_last: exp.Expr) -> exp.Expr:
        return case([(first, at_first)], at_last)

    two = exp.values([(exp.Literal.number(0),), (one,)], alias="r_", columns=["i"])
    rows = exp.select(
        exp.alias_(out_time_expr(either(exp.column("first_"), exp.column("last_"))), "ts"),
        exp.alias_(exp.column("key_"), "key_id"),
        exp.alias_(exp.column("method_"), "method"), exp.alias_(exp.column("path_"), "path"),
        exp.alias_(exp.column("status_"), "status"),
        exp.alias_(exp.column("ua_"), "user_agent"), exp.alias_(exp.column("ip_"), "ip"),
        exp.alias_(either(case([(exp.GT(this=n, expression=one),
                                 exp.Sub(this=n, expression=one))], n), one), "count"),
        exp.alias_(either(exp.column("tokens_"), exp.Literal.number(0)), "tokens"),
    ).from_(_stage(grouped, "grouped_", d)).join(two, join_type="cross").where(
        exp.or_(first, exp.GT(this=n, expression=one)))
    return exp.select("*").from_(exp.alias_(rows.subquery(), "rows_", table=True)).order_by(
        *[exp.Ordered(this=exp.column(c), nulls_first=True)
          for c in ("key_id", "ts", "method", "path", "status", "user_agent", "ip")],
        exp.column("count"))


def render(query: exp.Expr, dialect: str, pretty: bool = True) -> str:
    """The query as SQL text, every identifier quoted (after the dialect's case folding of
    the unquoted ones, so ``Logs`` means what it means to that warehouse)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    return normalize_identifiers(query, dialect=dialect).sql(dialect=dialect, identify=True,
                                                             pretty=pretty)
