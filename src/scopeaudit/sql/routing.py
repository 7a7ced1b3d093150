"""The route matcher compiled to SQL: a logged method and request target -> operation id.

``operation_expr`` is equal, row by row, to ``Aggregator.operation`` (see its docstring);
``normalised_path_expr`` is NULL exactly where the router's kind is INVALID, and
``status_class_expr`` is ``status_class``. The rules of :mod:`scopeaudit.catalog.routes` are
reproduced so:

* **normalising**: cut at the first ``?`` (the aggregator does), strip Python whitespace,
  replace ``scheme://host`` by ``/``, cut at ``#``; no leading ``/`` is INVALID; a run of
  slashes becomes one (``routes.REPEATED_SLASHES``, the router's own pattern); one trailing
  slash goes. The result stays *undecoded* (the "raw path").
* **percent-decoding** is never done for matching: each literal template segment becomes a
  regex accepting every raw spelling that decodes to it (``issues`` or ``%69ssues``), and
  separators are raw ``/``, so ``%2F`` can never split or join segments; a parameter is
  ``[^/]+`` (decoded non-empty iff raw non-empty).
* **order**: the router's trie is walked depth first in its own search order (literal
  children, mixed children, the parameter child, then ``**``), giving one anchored regex
  per (base path, trie terminal). The first match in that order is the router's answer,
  because the router's search visits the same terminals in the same order and returns the
  first that matches. A ``**`` terminal appears twice: matching zero more segments (right
  after the node's own operations) and one or more (after all its children), which is
  where the router tries it in each case. Base paths are tried longest first, and for HEAD
  the GET rules follow the HEAD rules of each base, as ``Router.match`` does.
* **shapes** of unmatched requests need decoding; ``shape_expr`` does it with DuckDB's
  ``url_decode`` (exact but for undecodable escapes, below), ``raw_shape_expr`` portably
  without decoding (a grouping at least as fine as the Python shape: the warehouse
  query's, whose rows are re-routed and re-shaped by the reader).

The methods passed in are upper-cased here (the readers upper-case them before the
aggregator sees them). Targets must already be scrubbed as the readers do
(:func:`scopeaudit.sql.identity.scrub_target_expr`), because the aggregator routes the
scrubbed target. For speed, compute :func:`normalised_path_expr` once in a subquery and
pass it to :func:`operation_from_parts`; ``operation_expr`` inlines it.

``operation_expr`` and ``shape_expr`` (DuckDB-exact shapes) are the reference form the
differential tests (tests/unit/test_sql_routing.py) hold against the Python aggregator; the
``sql`` command's warehouse query is built from the same parts (``operation_from_parts``
with portable raw shapes).

Known differences from Python, both left as they are (an exact fix would mean decoding
percent-escapes in SQL the way Python does, byte by byte):

* **escapes that are not UTF-8** (``%FF``): in ``shape_expr`` such a segment stays raw
  (``/v1/x/%25FF``) where Python decodes it with U+FFFD (``/v1/x/\\ufffd``). Only the
  DuckDB shape of an unmatched request is affected: routing never decodes, and the
  warehouse query's raw shapes do not decode either.
* **mixed template segments** (``{id}.json``) are matched as ``[^/\\n]+`` around their
  encoded literal parts, on the raw segment; Python matches ``.+?`` on the decoded one.
  Two corner cases differ: a raw ``%0A`` in the parameter part (a newline once decoded,
  which Python's ``.`` refuses; the SQL accepts it), and a raw ``%`` (or ``%`` and one
  hex digit) at the end of the parameter part that forms an escape with the literal part's
  first characters (``x%41.json`` decodes to ``xA.json``: Python does not match
  ``{id}41.json``, the SQL does). None of the built-in or imported real catalogs has a
  mixed segment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlglot import exp

from scopeaudit.catalog.model import Catalog
from scopeaudit.catalog.routes import REPEATED_SLASHES, Router
from scopeaudit.sql.regex import Flavour, encoded_literal
from scopeaudit.sql.unicode import DIGITS
from scopeaudit.usage.semantics import (
    OWN_CLASS_STATUSES,
    UNKNOWN_STATUS_CLASS,
    UNMATCHED_PREFIX,
    status_class,
)
from scopeaudit.usage.semantics import UUID as _UUID  # used with fullmatch: anchored here

_SEG = "seg__"  # the lambda parameter over path segments


# --- small builders ---------------------------------------------------------------------


def lit(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def regex_like(value: exp.Expr, pattern: str) -> exp.Expr:
    return exp.RegexpLike(this=value, expression=lit(pattern))


# Dialects whose REGEXP_REPLACE replaces only the first match unless given the 'g' flag.
_FIRST_MATCH_ONLY = frozenset({"duckdb", "postgres"})


def regex_replace(value: exp.Expr, pattern: str, replacement: str, dialect: str) -> exp.Expr:
    """Every match of ``pattern`` replaced, as Python's ``re.sub`` does. Trino, Spark and
    BigQuery's REGEXP_REPLACE always replace every match; DuckDB and PostgreSQL only the
    first unless given the ``'g'`` flag, which is written out here (not left to how sqlglot
    happens to render its own RegexpReplace). It matters: anchored patterns match at most
    once, but the token, secret-parameter and ``{…}`` patterns can match several times in
    one value."""
    Flavour(dialect)  # a known dialect
    args: list[exp.Expr] = [value, lit(pattern), lit(replacement)]
    if dialect in _FIRST_MATCH_ONLY:
        args.append(lit("g"))
    return exp.Anonymous(this="REGEXP_REPLACE", expressions=args)


def concat(*parts: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=parts[0], expression=concat(*parts[1:]), safe=True) \
        if len(parts) > 1 else parts[0]


def case(whens: Sequence[tuple[exp.Expr, exp.Expr]],
         default: exp.Expr | None = None) -> exp.Expr:
    if not whens:
        return default if default is not None else exp.Null()
    node = exp.Case()
    for cond, value in whens:  # built in place: a copy per branch is quadratic
        node = node.when(cond, value, copy=False)
    return node.else_(default, copy=False) if default is not None else node


# --- normalising ------------------------------------------------------------------------


def cut_query_expr(target: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """The target up to its first ``?``: what the aggregator hands the router."""
    return regex_replace(target, r"(?s)\?.*", "", dialect)


def normalised_path_expr(target: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """The raw (undecoded) normalised path of a target; NULL for an INVALID target."""
    fl = Flavour(dialect)
    ws = fl.whitespace_class()
    text = cut_query_expr(target, dialect)
    text = regex_replace(regex_replace(text, rf"\A{ws}+", "", dialect), rf"{ws}+{fl.end}", "",
                         dialect)
    text = regex_replace(text, r"\A[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*/?", "/", dialect)
    text = regex_replace(text, r"(?s)#.*", "", dialect)
    text = regex_replace(text, REPEATED_SLASHES, "/", dialect)
    trimmed = exp.Substring(this=text, start=exp.Literal.number(1),
                            length=exp.Sub(this=exp.Length(this=text),
                                           expression=exp.Literal.number(1)))
    return case([
        (exp.not_(regex_like(text, r"\A/")), exp.Null()),
        (regex_like(text, rf"(?s)\A/.*/{fl.end}"), trimmed),
    ], text)


def status_class_expr(status: exp.Expr) -> exp.Expr:
    """``status_class``: each of OWN_CLASS_STATUSES apart, else by hundreds ('0xx' … '9xx');
    '?' out of 0..999 (the aggregator's marker; the readers refuse such statuses). Integer
    input."""
    whens: list[tuple[exp.Expr, exp.Expr]] = [
        (exp.EQ(this=status, expression=exp.Literal.number(own)), lit(status_class(own)))
        for own in OWN_CLASS_STATUSES]
    for hundred in range(10):
        whens.append((exp.Between(this=status, low=exp.Literal.number(hundred * 100),
                                  high=exp.Literal.number(hundred * 100 + 99)),
                      lit(f"{hundred}xx")))
    return case(whens, lit(UNKNOWN_STATUS_CLASS))


# --- the route rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class RouteRule:
    """One way a raw path reaches an operation, in the router's order of preference."""

    method: str
    pattern: str  # anchored regex over the raw normalised path; "" means "is not /"
    operation: str


@dataclass(frozen=True)
class _Terminal:
    segments: tuple[str, ...]  # regex per template segment (after the base path)
    more: bool  # a ``**`` tried with one or more segments left
    method: str
    operation: str


def _terminals(router: Router, fl: Flavour) -> Iterator[_Terminal]:
    """The router's own terminals, in its search order, each segment as a regex over the raw
    segment."""
    for t in router.terminals():
        segs = tuple("[^/]+" if seg is None
                     else encoded_literal(fl, seg) if isinstance(seg, str)
                     else r"[^/\n]+".join(encoded_literal(fl, part) for part in seg)
                     for seg in t.segments)
        yield _Terminal(segs, t.more, t.method, t.operation.id)


def route_rules(catalog: Catalog, dialect: str = "duckdb") -> dict[str, list[RouteRule]]:
    """Per logged method, the rules in the order the router tries them."""
    fl = Flavour(dialect)
    router = catalog.router
    terminals = list(_terminals(router, fl))
    by_base: list[list[RouteRule]] = []
    for base in router.base_paths:
        prefix = "".join("/" + encoded_literal(fl, seg)
                         for seg in (base.strip("/").split("/") if base else []))
        rules = []
        for t in terminals:
            body = prefix + "".join("/" + seg for seg in t.segments)
            # "" stands for "one or more segments after the root": the path is not "/"
            more = rf"\A{body}/" if body else ""
            pattern = more if t.more else rf"\A{body or '/'}{fl.end}"
            rules.append(RouteRule(t.method, pattern, t.operation))
        by_base.append(rules)
    methods = sorted({t.method for t in terminals} | ({"HEAD"} if any(
        t.method == "GET" for t in terminals) else set()))
    out: dict[str, list[RouteRule]] = {}
    for method in methods:
        ordered: list[RouteRule] = []
        for rules in by_base:
            ordered += [r for r in rules if r.method == method]
            if method == "HEAD":
                ordered += [r for r in rules if r.method == "GET"]
        out[method] = ordered
    return out


def route_expr(catalog: Catalog, method: exp.Expr, path: exp.Expr,
               dialect: str = "duckdb") -> exp.Expr:
    """The matched operation id, or NULL; ``method`` upper-case, ``path`` normalised."""
    per_method = []
    for name, rules in route_rules(catalog, dialect).items():
        whens = [(regex_like(path, r.pattern) if r.pattern
                  else exp.NEQ(this=path, expression=lit("/")), lit(r.operation))
                 for r in rules]
        per_method.append((exp.EQ(this=method, expression=lit(name)), case(whens)))
    return case(per_method)


# --- shapes -------------------------------------------------------------------------------


# The inside of an RE2 class of str.isdigit, which is wider than \d (superscripts, …).
_DIGITS = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}"
                  for a, b in DIGITS)


def _looks_like_id(seg: exp.Expr) -> exp.Expr:
    """``routekey.looks_like_id`` in RE2 (DuckDB): isdigit by a class generated from
    Python; isalpha is Unicode's letter categories, ``\\p{L}``. (Its last clause,
    ``"-" not in seg.strip("-")[:1]``, always holds: after stripping ``-`` the first
    character is no ``-``.)"""
    length = exp.Length(this=seg)
    return exp.or_(
        regex_like(seg, rf"\A[{_DIGITS}]+\z"),
        regex_like(seg, rf"\A{_UUID}\z"),
        exp.and_(exp.GTE(this=length, expression=exp.Literal.number(16)),
                 regex_like(seg, rf"(?:[^{_DIGITS}]*[{_DIGITS}]){{4}}")),
        exp.and_(exp.GTE(this=length, expression=exp.Literal.number(6)),
                 regex_like(seg, rf"[{_DIGITS}]"), regex_like(seg, r"\p{L}")),
    )


def _over_segments(text: exp.Expr, body: exp.Expr) -> exp.Expr:
    """DuckDB: ``text`` split on ``/``, ``body`` (over column ``seg__``) applied to each
    segment, joined again."""
    lam = exp.Lambda(this=body, expressions=[exp.to_identifier(_SEG)])
    return exp.ArrayToString(this=exp.Transform(
        this=exp.Split(this=text, expression=lit("/")), expression=lam), expression=lit("/"))


def _braces(text: exp.Expr, dialect: str) -> exp.Expr:
    """``shape_of`` then ``{}`` -> ``{id}``, as ``semantics.unmatched_shape`` ends."""
    return exp.Replace(this=regex_replace(text, r"\{[^{}/]+\}", "{}", dialect),
                       expression=lit("{}"), replacement=lit("{id}"))


def _generalise(text: exp.Expr) -> exp.Expr:
    """``semantics.unmatched_shape`` (DuckDB): identifier-like segments become ``{id}``."""
    seg = exp.column(_SEG)
    body = case([(exp.and_(exp.NEQ(this=seg, expression=lit("")), _looks_like_id(seg)),
                  lit("{id}"))], seg)
    return _braces(_over_segments(text, body), "duckdb")


def _display_path(path: exp.Expr) -> exp.Expr:
    """``RouteMatch.path`` (DuckDB): each raw segment percent-decoded once, then ``%`` and
    ``/`` escaped again. A segment whose escapes are not valid UTF-8 stays raw (Python
    would decode it with U+FFFD replacements; DuckDB's url_decode refuses it)."""
    seg = exp.column(_SEG)
    decoded = exp.Coalesce(this=exp.Try(this=exp.Anonymous(this="URL_DECODE",
                                                           expressions=[seg])),
                           expressions=[seg])
    escaped = exp.Replace(this=exp.Replace(this=decoded, expression=lit("%"),
                                           replacement=lit("%25")),
                          expression=lit("/"), replacement=lit("%2F"))
    return _over_segments(path, escaped)


def shape_expr(path: exp.Expr) -> exp.Expr:
    """The unmatched shape of a normalised raw path, exactly as the aggregator's (DuckDB
    only; see _display_path for the one difference). The reference form for
    ``operation_expr`` and its differential tests; the warehouse query uses
    raw_shape_expr."""
    return _generalise(_display_path(path))


def raw_shape_expr(path: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """A portable grouping of unmatched raw paths at least as fine as the Python shape:
    a segment with a ``%`` stays as it is; any other is ``{id}`` only when it is an
    identifier by ASCII digits and letters alone (which Python's wider test also says),
    else it keeps its text with ``{…}`` spans as ``semantics.unmatched_shape`` writes them.
    Two paths with one raw shape therefore have one Python shape; the reverse need not
    hold."""
    end = Flavour(dialect).end
    seg = exp.column(_SEG)
    length = exp.Length(this=seg)
    ascii_id = exp.or_(
        regex_like(seg, rf"\A[0-9]+{end}"),
        regex_like(seg, rf"\A{_UUID}{end}"),
        exp.and_(exp.GTE(this=length, expression=exp.Literal.number(16)),
                 regex_like(seg, r"(?:[^0-9]*[0-9]){4}")),
        exp.and_(exp.GTE(this=length, expression=exp.Literal.number(6)),
                 regex_like(seg, "[0-9]"), regex_like(seg, "[A-Za-z]")),
    )
    has_pct = regex_like(seg, "%")
    body = case([(has_pct, seg), (exp.EQ(this=seg, expression=lit("")), seg),
                 (ascii_id, lit("{id}"))], _braces(seg, dialect))
    return over_segments(path, body, dialect)


def over_segments(text: exp.Expr, body: exp.Expr,
                  dialect: str) -> exp.Expr:
    """``body`` (over column ``seg__``) applied to each ``/``-separated segment of
    ``text``, per dialect: a lambda where the dialect has one, else a subquery over the
    unnested segments in their order."""
    if dialect in ("duckdb", "trino", "spark"):
        return _over_segments(text, body)
    order = exp.column("o__")
    if dialect == "bigquery":
        unnest = exp.Unnest(expressions=[exp.Split(this=text, expression=lit("/"))],
                            alias=exp.TableAlias(this=exp.to_identifier(_SEG)),
                            offset=exp.to_identifier("o__"))
    else:
        # WITH ORDINALITY: sqlglot spells it as the Unnest's offset (its column name)
        unnest = exp.Unnest(expressions=[exp.Anonymous(this="STRING_TO_ARRAY",
                                                       expressions=[text, lit("/")])],
                            alias=exp.TableAlias(this=exp.to_identifier("u__"),
                                                 columns=[exp.to_identifier(_SEG)]),
                            offset=exp.to_identifier("o__"))
    select = exp.select(body).from_(unnest).order_by(order)
    return exp.ArrayToString(this=exp.Array(expressions=[select]), expression=lit("/"))


# --- the operation column -----------------------------------------------------------------


def operation_from_parts(catalog: Catalog, method: exp.Expr, cut: exp.Expr,
                         path: exp.Expr, dialect: str = "duckdb", *,
                         exact_shape: bool) -> exp.Expr:
    """The operation column from precomputed parts: ``method`` upper-case, ``cut`` the
    target up to its first ``?`` (cut_query_expr), ``path`` its normalised_path_expr.
    With ``exact_shape`` (DuckDB only: operation_expr, the reference form) unmatched
    requests get the aggregator's shape, else raw_shape_expr's (the warehouse query)."""
    if exact_shape and dialect != "duckdb":
        raise ValueError("exact shapes need DuckDB's url_decode; use exact_shape=False")

    def shaped(text: exp.Expr, decode: bool) -> exp.Expr:
        shape = (shape_expr(text) if decode else _generalise(text)) if exact_shape \
            else raw_shape_expr(text, dialect)
        return concat(lit(UNMATCHED_PREFIX), method, lit(" "), shape)

    return case([
        (exp.Is(this=path, expression=exp.Null()), shaped(cut, False)),
        (exp.EQ(this=method, expression=lit("OPTIONS")), exp.Null()),
    ], exp.Coalesce(this=route_expr(catalog, method, path, dialect),
                    expressions=[shaped(path, True)]))


def operation_expr(catalog: Catalog, method: exp.Expr, target: exp.Expr,
                   *, dialect: str = "duckdb") -> exp.Expr:
    """SQL expression equal, for every (method, target), to what Aggregator.operation
    returns: the operation id; '~METHOD shape' for an unmatched request; NULL for a
    preflight (OPTIONS). ``target`` as the readers pass it on (scrubbed of secrets).

    The public entry point, held row by row against the aggregator by the differential
    tests. In DuckDB the unmatched shapes are the aggregator's (shape_expr, but for the
    differences in the module docstring); in the other dialects they are
    raw_shape_expr's, a grouping at least as fine."""
    upper = exp.Upper(this=method)
    return operation_from_parts(catalog, upper, cut_query_expr(target, dialect),
                                normalised_path_expr(target, dialect), dialect,
                                exact_shape=dialect == "duckdb")
