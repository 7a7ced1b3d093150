"""The route matcher compiled to SQL, run in DuckDB, against the Python router/aggregator.

Differential: for many (method, target) pairs the SQL operation column must equal
``Aggregator.operation`` on the scrubbed target (as the readers hand it on), and the SQL
INVALID flag the router's kind. Pairs come from every catalog operation (identifier and
literal substitutions, trailing slashes, base paths, schemes and hosts, queries and
fragments, HEAD/OPTIONS/lower-case methods, percent-encodings), unmatched shapes, invalid
targets, and hypothesis. The built-in catalog, hand-made routers with the trie's corner
cases, and the imported real OpenAPI catalogs (base paths, id-literal segments) are used.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

import pytest

pytest.importorskip("duckdb", reason="the SQL is run in DuckDB: install the test extra")
import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from scopeaudit.catalog import Catalog, MatchKind, Operation, Provenance, load_builtin
from scopeaudit.catalog.loader import load_catalog_file
from scopeaudit.sql import unicode
from scopeaudit.sql.identity import scrub_target_expr
from scopeaudit.sql.regex import DIALECTS, PY_WHITESPACE
from scopeaudit.sql.routing import (
    cut_query_expr,
    normalised_path_expr,
    operation_expr,
    operation_from_parts,
    regex_replace,
    status_class_expr,
)
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.semantics import status_class

REALDATA = Path(__file__).parents[2].parent / "shared" / "realdata" / "openapi"
METHODS = ("GET", "get", "HEAD", "head", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
           "options", "PROPFIND")
PREFIXES = ("", "https://api.insp.ac", "http://h:8080", "HTTPS://X.Y")
SUFFIXES = ("", "/", "?limit=1", "#f", "/?a=b#c", "?api_key=sk_live_abcdefghijklmnop1234",
            "//")
IDS = ("42", "0", "3f2a9c4e-1b2c-4d3e-8f90-a1b2c3d4e5f6", "abc123def", "export", "a%2Fb",
       "%34%32", "caf%C3%A9", "x y", "{id}", "e3b0c44298fc1c149afbf4c8996fb924")


def undecodable(target: str) -> bool:
    """Escapes that are not UTF-8: DuckDB keeps such a segment raw in the unmatched shape
    where Python writes U+FFFD (routing._display_path; see the module docstring)."""
    try:
        unquote_to_bytes(target).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def op(method: str, path: str, op_id: str | None = None) -> Operation:
    return Operation(id=op_id or f"{method} {path}", method=method, path=path,
                     requires=(frozenset({"x:read"}),), provenance=Provenance.DOCUMENTED)


def catalog_of(ops: list[Operation], bases: tuple[str, ...] = ("",)) -> Catalog:
    return Catalog(name="t", version="1", scopes=(), operations=tuple(ops), base_paths=bases)


def expected(catalog: Catalog, method: str, target: str) -> tuple[str | None, bool]:
    """What the reader + aggregator make of a logged (method, target)."""
    scrubbed, _, _ = KeyResolver(()).scrub_target(target)
    agg = Aggregator(catalog)
    result = agg.operation(method.upper(), scrubbed)
    return result, agg.usage.invalid_targets == 1


# keyed by id, holding the catalog too: a freed catalog's id can be reused by a new one
_QUERIES: dict[tuple[int, bool], tuple[Catalog, str]] = {}


def _query(catalog: Catalog, two_stage: bool) -> str:
    """The differential query over table r(i, m, t), compiled once per catalog."""
    cached = _QUERIES.get((id(catalog), two_stage))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    target = scrub_target_expr(exp.column("t")).sql("duckdb")
    # INVALID is "no normalised path"
    invalid = f"{normalised_path_expr(exp.column('s')).sql('duckdb')} IS NULL"
    if two_stage:
        operation = operation_from_parts(catalog, exp.column("mu"), exp.column("c"),
                                         exp.column("p"), exact_shape=True).sql("duckdb")
        inner = (f"SELECT i, UPPER(m) AS mu, {cut_query_expr(exp.column('s')).sql('duckdb')} "
                 f"AS c, {normalised_path_expr(exp.column('s')).sql('duckdb')} AS p, "
                 f"{invalid} AS inv FROM (SELECT *, {target} AS s FROM r)")
        query = f"SELECT {operation}, inv FROM ({inner}) ORDER BY i"
    else:
        sql = operation_expr(catalog, exp.column("m"), exp.column("s")).sql("duckdb")
        query = f"SELECT {sql}, {invalid} FROM (SELECT *, {target} AS s FROM r) ORDER BY i"
    _QUERIES[(id(catalog), two_stage)] = (catalog, query)
    return query


def sql_results(catalog: Catalog, pairs: list[tuple[str, str]],
                two_stage: bool = False) -> list[tuple[str | None, bool]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE r (i INTEGER, m VARCHAR, t VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?)",
                    [(i, m, t) for i, (m, t) in enumerate(pairs)])
    return [(row[0], bool(row[1])) for row in con.execute(_query(catalog, two_stage)).fetchall()]


def assert_same(catalog: Catalog, pairs: list[tuple[str, str]], two_stage: bool = False) -> int:
    got = sql_results(catalog, pairs, two_stage)
    wrong = []
    for (method, target), sql_row in zip(pairs, got, strict=True):
        want = expected(catalog, method, target)
        if sql_row != want:
            wrong.append((method, target, sql_row, want))
    assert not wrong, f"{len(wrong)} of {len(pairs)} differ, e.g. {wrong[:5]}"
    return len(pairs)


def pairs_for(catalog: Catalog, per_op: int = 3) -> list[tuple[str, str]]:
    """Every operation's path with substitutions and decorations, plus unmatched and
    invalid targets."""
    pairs: list[tuple[str, str]] = []
    bases = [b for b in catalog.base_paths if b] or [""]
    for n, operation in enumerate(catalog.operations):
        for k in range(per_op):
            fill = IDS[(n + k) % len(IDS)]
            path = re.sub(r"\{[^{}/]+\}", fill, operation.path).replace("**", f"a/{fill}")
            base = bases[(n + k) % len(bases)] if k % 2 == 0 else ""
            prefix = PREFIXES[(n + k) % len(PREFIXES)]
            suffix = SUFFIXES[(n * 3 + k) % len(SUFFIXES)]
            method = (operation.method, "HEAD", operation.method.lower(), "OPTIONS",
                      "GET")[(n + k) % 5]
            pairs.append((method, prefix + base + path + suffix))
            # a literal segment percent-encoded, and the path under an unknown prefix
            encoded = "/".join(quote(s, safe="") if i % 2 else
                               "".join(f"%{b:02x}" for b in s.encode()) if s and k == 1 else s
                               for i, s in enumerate((base + path).split("/")))
            pairs.append((operation.method, encoded))
            pairs.append((operation.method, "/zz" + path + f"/{fill}9x"))
    pairs += [(m, t) for m in ("GET", "OPTIONS") for t in (
        "*", "", " ", "v1/issues", "?x", "#f", "https://h", "https://h?x=1", "//", "/",
        " /v1/issues ", "\t/v1/issues/7\n", "/v1/issues\n?x", "/v1/a b ?c", "http:/x",
        "/v1/issues/" + "7" * 30, "/v1/%zz/%", "/v1;token=abc/x", "/v1/sk_live_abcdefghijklmnop99")]
    return pairs


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()


def test_builtin_catalog_every_operation(builtin: Catalog) -> None:
    pairs = [(m, t) for m, t in pairs_for(builtin, per_op=6) if not undecodable(t)]
    assert assert_same(builtin, pairs) > 900


def test_two_stage_form_agrees(builtin: Catalog) -> None:
    pairs = [(m, t) for m, t in pairs_for(builtin) if not undecodable(t)]
    assert_same(builtin, pairs, two_stage=True)


def test_hand_made_edge_cases() -> None:
    # literals before templates with fallback, ** with zero and more segments, HEAD's
    # own operation before GET, base paths longest first, an id-like literal
    cat = catalog_of([
        op("GET", "/v1/issues/{id}", "get"),
        op("GET", "/v1/issues/export", "export"),
        op("GET", "/v1/issues/export/csv", "csv"),
        op("GET", "/v1/issues/{id}/comments", "comments"),
        op("PATCH", "/v1/issues/{id}", "update"),
        op("GET", "/v1/files/**", "files"),
        op("GET", "/v1/files/{id}", "file"),
        op("HEAD", "/v1/files/{id}", "file.head"),
        op("GET", "/v1/2/items", "v2items"),
        op("GET", "/**", "anything"),
        op("POST", "/", "root"),
    ], bases=("/api", "/api/v2", ""))
    targets = ["/v1/issues/export", "/v1/issues/exports", "/v1/issues/export/comments",
               "/v1/issues/export/csv", "/v1/issues/export/pdf", "/v1/files", "/v1/files/",
               "/v1/files/1", "/v1/files/1/2", "/v1/files//", "/api/v2/v1/issues/3",
               "/api/v1/issues/3", "/api/v2", "/api", "/", "/v1/2/items", "/v1/%32/items",
               "/api/v2/v1/2/items", "/v1%2Fissues/3", "/x", "//x", "//api//v2//v1/issues//3//",
               "/api//v1/files//", "//v1/issues/export//csv"]
    pairs = [(m, t) for t in targets for m in ("GET", "HEAD", "PATCH", "POST", "OPTIONS")]
    assert_same(cat, pairs)


def test_an_empty_catalog_shapes_everything() -> None:
    assert_same(catalog_of([]), [("GET", "/v1/x/42"), ("OPTIONS", "/"), ("GET", "*")])


def test_undecodable_escapes_stay_raw_in_the_shape(builtin: Catalog) -> None:
    # The one documented difference: Python decodes %FF to U+FFFD, DuckDB keeps it.
    (got, invalid), = sql_results(builtin, [("GET", "/v1/nope/%FF")])
    assert got == "~GET /v1/nope/%25FF" and not invalid
    assert expected(builtin, "GET", "/v1/nope/%FF")[0] == "~GET /v1/nope/\ufffd"


# Repeated slashes route as one (nginx's merge_slashes): at the start, in the middle, at the
# end, with query strings and fragments, after a scheme and host; the expected operations
# worked out by hand from the built-in catalog.
REPEATED_SLASHES = [
    ("GET", "//v1/issues", "issues.list"),
    ("GET", "/v1//issues", "issues.list"),
    ("GET", "/v1/issues//", "issues.list"),
    ("GET", "///v1///issues///?limit=5", "issues.list"),
    ("GET", "/v1//issues//42?x=//y", "issues.get"),
    ("PATCH", "//v1/issues/42//#frag", "issues.update"),
    ("HEAD", "https://api.insp.ac//v1//sites/7", "sites.get"),
    ("GET", "/v1//schedules//a//b", "schedules.read"),
    ("GET", "//v1//nothing//42//", "~GET /v1/nothing/{id}"),
    ("GET", "//", "~GET /"),
    ("OPTIONS", "//v1//issues", None),
    # escaped slashes are none: one segment "%2F%2Fissues", an identifier by its shape
    ("GET", "/v1/%2F%2Fissues", "~GET /v1/{id}"),
]


def test_repeated_slashes_route_as_one(builtin: Catalog) -> None:
    pairs = [(m, t) for m, t, _ in REPEATED_SLASHES]
    assert assert_same(builtin, pairs) == len(pairs)
    assert assert_same(builtin, pairs, two_stage=True) == len(pairs)
    assert [op for op, _ in sql_results(builtin, pairs)] == [
        want for _, _, want in REPEATED_SLASHES]


_SEGMENT = st.one_of(
    st.sampled_from(["/", "//", "v1", "issues", "users", "schedules", "42", "export", "",
                     "%2F", "%69", "a%2Fb", "{x}", "\u00e9", "sk_live_abcdefghijklmnop12", "x?y",
                     "x#y", " ", "%25", "abc123def456", "\u0661\u0662"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
)


_TARGET = st.tuples(st.sampled_from(METHODS), st.sampled_from(PREFIXES),
                    st.lists(_SEGMENT, max_size=5), st.sampled_from(SUFFIXES)).map(
    lambda t: (t[0], t[1] + "/" + "/".join(t[2]) + t[3])).filter(
    lambda p: not undecodable(p[1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(_TARGET, min_size=1, max_size=40))
def test_hypothesis_targets(pairs: list[tuple[str, str]]) -> None:
    # batches of targets, in the two-stage form (the smaller query): one DuckDB query per
    # example keeps this quick
    assert_same(_BUILTIN, pairs, two_stage=True)


_BUILTIN = load_builtin()


@pytest.mark.parametrize("status", [0, 99, 100, 200, 204, 301, 400, 401, 403, 404, 405, 406,
                                    429, 500, 999])
def test_status_class(status: int) -> None:
    sql = status_class_expr(exp.Literal.number(status)).sql("duckdb")
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone() == (status_class(status),)


def test_status_class_by_hand() -> None:
    sql = status_class_expr(exp.column("s")).sql("duckdb")
    rows = duckdb.connect().execute(
        f"SELECT {sql} FROM (VALUES (401), (403), (404), (405), (406), (200), (7)) v(s)"
    ).fetchall()
    # 404 and 405 apart too: an unmatched request so answered reached no handler
    assert [r[0] for r in rows] == ["401", "403", "404", "405", "4xx", "2xx", "0xx"]


@pytest.mark.parametrize("name", [
    "swagger-petstore-openapi.yaml", "xero_accounting.yaml",
    "slack_web_openapi_v2_without_examples.json", "jira-platform-swagger.v3.json",
    "digitalocean-public.v2.trimmed.yaml"])
def test_real_openapi_catalogs(name: str) -> None:
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"{path} is not here (shared real data)")
    cat = load_catalog_file(str(path), None, None)
    pairs = [(m, t) for m, t in pairs_for(cat, per_op=2) if not undecodable(t)]
    # the two-stage form: the inlined one repeats the path expression in every rule
    assert assert_same(cat, pairs, two_stage=True) >= 6 * len(cat.operations)


def test_matched_kinds_are_covered(builtin: Catalog) -> None:
    # The pairs really exercise every kind, so agreement is not vacuous.
    kinds = {builtin.router.match(m.upper(), t).kind for m, t in pairs_for(builtin)}
    assert kinds == set(MatchKind)


# --- precomputed tables and global replacement ---------------------------------------------


def test_unicode_tables_are_a_full_scan_of_this_python() -> None:
    # The tables are literals (scanning 1.1M code points at import took ~0.4 s). A Python
    # whose Unicode data differs fails here: run `python -m scopeaudit.sql.unicode`.
    assert unicode.scan(str.isspace) == unicode.WHITESPACE, "regenerate sql/unicode.py"
    assert unicode.scan(str.isdigit) == unicode.DIGITS, "regenerate sql/unicode.py"
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PY_WHITESPACE
    assert unicode.generated().startswith(f'UNICODE_VERSION = "{unicode.UNICODE_VERSION}"')


def test_isdigit_and_isspace_reach_the_sql(builtin: Catalog) -> None:
    # superscript two is a digit to str.isdigit (not to \d), U+3000 a space to str.strip()
    pairs = [("GET", "/v1/nope/\u00b2\u00b3\u00b9"), ("GET", "\u3000/v1/issues\u2028")]
    assert assert_same(builtin, pairs) == 2
    assert sql_results(builtin, pairs)[0][0] == "~GET /v1/nope/{id}"


TWO_TOKENS = ("/v1/sk_live_abcdefghijklmnop1234/x/sk_live_qrstuvwxyzabcdef5678"
              "?api_key=a&token=b;access_token=c")


def test_every_match_is_replaced_in_a_target_holding_two_tokens() -> None:
    sql = scrub_target_expr(exp.column("t")).sql("duckdb")
    (got,) = duckdb.connect().execute(f"SELECT {sql} FROM (SELECT ? AS t)",
                                      [TWO_TOKENS]).fetchone()  # type: ignore[misc]
    want, _, _ = KeyResolver(()).scrub_target(TWO_TOKENS)
    assert got == want == ("/v1/[token]/x/[token]"
                           "?api_key=[redacted]&token=[redacted];access_token=[redacted]")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_global_replacement_is_explicit_per_dialect(dialect: str) -> None:
    # DuckDB and PostgreSQL replace the first match unless told 'g'; Trino, Spark and
    # BigQuery always replace every match and take no such flag.
    sql = regex_replace(exp.column("t"), "a", "b", dialect).sql(dialect)
    flag = ", 'g'" if dialect in ("duckdb", "postgres") else ""
    assert sql.upper() == f"REGEXP_REPLACE(T, 'A', 'B'{flag.upper()})"
