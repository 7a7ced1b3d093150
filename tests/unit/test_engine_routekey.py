"""The route key (usage/routekey.py): one definition for both engines, exact, and blind to
the id style.

* The DuckDB engine's key (SQL) is a refinement of the streaming aggregator's (Python): it
  folds only segments the Python key folds, so the Python key of the SQL key is the path's
  own key (the engine keys each group by that: the key decides which paths share one routing
  decision, and the bounded shape table counts decisions, so the engines must key alike);
  and it folds every common id style itself, so its groups are as few.
* Exact: every path routes as its key does (operation, shape of an unmatched path, its
  family, invalid or not), on the built-in catalog and on catalogs whose literals look like
  identifiers (``v1``, ``/rest/api/3``, ``oauth2``, a literal ``0``) or that mix literal text
  and parameters in a segment.
* Folding: the same traffic with numeric, UUID, 24-hex, prefixed and ULID ids has one key per
  route (what makes routing cost independent of the id style).
"""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.catalog import load_builtin
from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.engine import duckdb_available
from scopeaudit.engine.groups import route_key
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.routekey import _FOLDABLE_RE, _SQL_FOLD_RE, RouteKey, looks_like_id

needs_duckdb = pytest.mark.skipif(not duckdb_available(), reason="DuckDB is not installed")

_IDS = st.one_of(
    st.integers(0, 10**9).map(str), st.uuids().map(str),
    st.binary(min_size=12, max_size=12).map(bytes.hex),  # a 24-hex ObjectId
    st.integers(0, 10**6).map(lambda n: f"obj_{n}"),
    st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26),  # ULID
    st.from_regex(r"[a-z]{2,4}_[0-9A-Za-z]{6}", fullmatch=True),  # iss_8fK2xQ
    st.text("abcdefxyz-", min_size=1, max_size=20),  # slugs, all-letter UUID-like shapes
    st.uuids().map(lambda u: str(u).translate(str.maketrans("0123456789", "abcdefabcd"))))
_SEGMENTS = st.one_of(
    _IDS, st.just(""), st.just("0"),
    st.text("abc12-_.%~AZ", max_size=8), st.text("aé1²", max_size=4),
    st.sampled_from(["v1", "v2", "issues", "12a", "a12", "007", "rest", "api", "3",
                     "oauth2", "export", "%41bc123", "x.json", "1.json", "abc1234.json",
                     "assets"]))
_PATHS = st.builds(lambda lead, segs, tail: lead + "/".join(segs) + tail,
                   st.sampled_from(["/", "", "//", "https://h/"]),
                   st.lists(_SEGMENTS, max_size=6), st.sampled_from(["", "/", "?x=1", "/7"]))


_UNRESERVED = set(string.ascii_letters + string.digits + "._~-")


def _catalog(paths: list[str], bases: tuple[str, ...] = ("",)) -> Catalog:
    ops = tuple(Operation(id=f"op{i}", method="GET", path=p,
                          requires=(frozenset({"things:read"}),),
                          provenance=Provenance.DOCUMENTED)
                for i, p in enumerate(paths))
    return Catalog(name="t", version="1", scopes=(Scope("things:read"),), operations=ops,
                   resources=(("things", ("/rest/api/3", "/v1/things")),),
                   base_paths=bases)


# Catalogs whose literals and mixed segments an id could be mistaken for.
_CATALOGS = {
    "builtin": load_builtin,
    "digits": lambda: _catalog(["/rest/api/3/issue/{id}", "/rest/api/{v}/project",
                                "/v1/oauth2/{id}", "/v1/things/{id}/abc1234",
                                "/v1/things/export"], bases=("", "/api/v2")),
    "mixed": lambda: _catalog(["/v1/things/{id}.json", "/v1/things/{id}",
                               "/v1/things/{id}/x{n}"]),
    "zero": lambda: _catalog(["/v1/things/0", "/v1/things/{id}"]),
}


def sql_keys(paths: list[str], key: RouteKey) -> list[str]:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INTEGER, pth VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", list(enumerate(paths)))
    rows = con.execute(f"SELECT i, {key.sql('pth')} FROM p ORDER BY i").fetchall()
    return [str(k) for _, k in rows]


def assert_refines(path: str, sql_key: str, key: RouteKey) -> None:
    """``sql_key`` is ``path`` with some of the segments ``key`` folds folded, and no other
    change: so ``key`` of it is ``key`` of the path."""
    full = route_key(key.key, "GET", path)[1]
    segs, got, want = path.split("/"), sql_key.split("/"), full.split("/")
    assert len(got) == len(segs) == len(want), (path, sql_key)
    for seg, sql_seg, key_seg in zip(segs, got, want, strict=True):
        assert sql_seg == seg or sql_seg == key_seg == "0", (path, sql_key, full)
    assert key.key(sql_key) == full


@needs_duckdb
@settings(max_examples=80, deadline=None)
@given(st.lists(_PATHS, min_size=1, max_size=40), st.sampled_from(sorted(_CATALOGS)))
def test_sql_route_key_refines_the_aggregators(paths: list[str], name: str) -> None:
    key = _CATALOGS[name]().route_key
    # the engine keys in SQL only origin-form paths (from '/'), the query cut
    paths = [p.split("?", 1)[0] for p in paths if p.startswith("/")] or ["/"]
    for path, sql_key in zip(paths, sql_keys(paths, key), strict=True):
        assert_refines(path, sql_key, key)


@needs_duckdb
@settings(max_examples=60, deadline=None)
@given(st.lists(_IDS.filter(lambda i: len(i) >= 6 and any(c.isdigit() for c in i)),
                min_size=1, max_size=3))
def test_the_sql_key_folds_the_common_id_styles_itself(idents: list[str]) -> None:
    """Ids of six characters or more with a digit (numbers, UUIDs, ObjectIds, ULIDs,
    prefixed ids): folded in SQL, so a route's traffic is one group whatever its ids."""
    key = load_builtin().route_key
    path = "/v1/issues/" + "/comments/".join(idents)
    expected = "/v1/issues/" + "/comments/".join("0" for _ in idents)
    assert sql_keys([path], key) == [expected]


def _decision(catalog: Catalog, method: str, path: str) -> tuple[object, ...]:
    return Aggregator(catalog).route(method, path)


@settings(max_examples=300, deadline=None)
@given(_PATHS, st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
       st.sampled_from(sorted(_CATALOGS)))
def test_a_path_routes_as_its_key(path: str, method: str, name: str) -> None:
    catalog = _CATALOGS[name]()
    path = path.split("?", 1)[0]
    key = catalog.route_key.key(path)
    assert _decision(catalog, method, path) == _decision(catalog, method, key)


@settings(max_examples=300, deadline=None)
@given(_PATHS, st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
       st.sampled_from(sorted(_CATALOGS)))
def test_a_path_is_routed_to_an_operation_exactly_when_its_class_is(
        path: str, method: str, name: str) -> None:
    """The route class (every segment the catalog cannot tell from ``0`` folded, slugs too)
    keys the cache of decisions that name an operation: a path routes to an operation if and
    only if its class routes to the same one."""
    catalog = _CATALOGS[name]()
    path = path.split("?", 1)[0]
    route_class = catalog.route_key.route_class(path)
    own, its_class = _decision(catalog, method, path), _decision(catalog, method, route_class)
    if _names_an_operation(own) or _names_an_operation(its_class):
        assert own == its_class, (path, route_class)


def _names_an_operation(decision: tuple[object, ...]) -> bool:
    return decision[1] == 0 and decision[0] is not None


@pytest.mark.parametrize("name", sorted(_CATALOGS))
def test_every_template_filled_with_slugs_and_ids_routes_as_its_class(name: str) -> None:
    """Each template's parameters (and, one at a time, each literal) replaced by slugs, ids
    and the catalog's own literals: a path that names an operation names the one its class
    names, and the other way round."""
    catalog = _CATALOGS[name]()
    route_class = catalog.route_key.route_class
    matched = 0
    for op in catalog.operations:
        segs = [s for s in op.path.split("/") if s]
        for ident in (*_STYLES, "amber-falcon-river", "export", "issue"):
            for i in range(len(segs)):
                filled = ["amber" if "{" in s else s for s in segs]
                filled[i] = ident
                for path in ("/" + "/".join(filled), "/api/v2/" + "/".join(filled)):
                    for method in ("GET", op.method):
                        own = _decision(catalog, method, path)
                        its_class = _decision(catalog, method, route_class(path))
                        if _names_an_operation(own) or _names_an_operation(its_class):
                            matched += 1
                            assert own == its_class, (path, route_class(path))
    assert matched > len(catalog.operations)


def test_slugs_share_a_route_class_and_keep_their_shape() -> None:
    catalog = load_builtin()
    aggregator = Aggregator(catalog)
    assert catalog.route_key.route_class("/v1/issues/amber-falcon") == "/v1/issues/0"
    assert catalog.route_key.route_class("/v1/issues/amber-falcon/x") == "/v1/issues/0/0"
    assert aggregator.route("GET", "/v1/issues/amber-falcon")[1] == 0  # an operation
    # an unmatched path keeps its slug in its shape (its class would say "{id}")
    unmatched = aggregator.route("GET", "/v1/nowhere/amber-falcon")[0]
    assert unmatched is not None and unmatched.endswith("/v1/nowhere/amber-falcon")


@given(st.text("0123456789abcxyzABQZ._~-", max_size=40) | _IDS)
def test_the_fold_regex_is_looks_like_id_on_unreserved_segments(seg: str) -> None:
    assert (_FOLDABLE_RE.fullmatch(seg) is not None) == looks_like_id(seg)


@given(st.text("0123456789abcxyzABQZ._~-", max_size=40) | _IDS)
def test_what_the_sql_fold_pattern_folds_is_an_id(seg: str) -> None:
    """What SQL folds is an id (so the SQL key refines the key)."""
    if _SQL_FOLD_RE.fullmatch(seg):
        assert looks_like_id(seg) and set(seg) <= _UNRESERVED, seg


def test_the_sql_fold_pattern_is_sound_on_every_short_segment() -> None:
    """Every segment of up to seven characters over digits, letters and the punctuation
    that matters: folded in SQL only if it is an id."""
    for length in range(1, 8):
        for chars in itertools.product("0a_-.", repeat=length):
            seg = "".join(chars)
            assert not _SQL_FOLD_RE.fullmatch(seg) or looks_like_id(seg), seg


@given(st.one_of(
    st.integers(0, 10**12).map(str), st.uuids().map(str),
    st.text(string.ascii_letters + string.digits, min_size=6, max_size=40),
    st.tuples(st.text(string.ascii_letters, min_size=1, max_size=6), st.sampled_from("_-"),
              st.text(string.ascii_letters + string.digits, min_size=1, max_size=20)
              ).map("".join)))
def test_the_sql_fold_pattern_holds_the_common_id_styles(seg: str) -> None:
    """Numbers, UUIDs, letter-and-digit runs (ObjectIds, ULIDs) and prefixed ids: every one
    of them that is an id is folded in SQL (so a route's traffic is one group)."""
    assert (_SQL_FOLD_RE.fullmatch(seg) is not None) == looks_like_id(seg), seg


@pytest.mark.parametrize("ident", ["48213", "3f2b8c1e-1111-2222-3333-444455556666",
                                   "5f8d0d55b54764421b7156c9", "obj_48213", "iss_8fK2xQ",
                                   "01HZX3T2V9K8M7N6P5Q4R3S2T1",
                                   "ABCDEFAB-CDEF-ABCD-ABCD-ABCDEFABCDEF"])
def test_every_id_style_folds(ident: str) -> None:
    key = load_builtin().route_key.key
    assert key(f"/v1/issues/{ident}") == "/v1/issues/0"
    assert key(f"/v1/issues/{ident}/comments/{ident}") == "/v1/issues/0/comments/0"


def test_what_is_not_folded() -> None:
    key = _CATALOGS["digits"]().route_key.key
    # catalog literals, base paths, family prefixes; encoded and digit-free segments
    for path in ("/rest/api/3/issue/0", "/v1/oauth2/0", "/v1/things/0/abc1234",
                 "/api/v2/v1/things/export", "/v1/things/amber-falcon", "/v1/things/%41bc123",
                 "/v1/things/é12345"):
        assert key(path) == path
    assert key("/rest/api/4/issue/12") == "/rest/api/0/issue/0"
    assert not _CATALOGS["zero"]().route_key.folds  # a literal "0" would be met by the key
    mixed = _CATALOGS["mixed"]().route_key.key
    assert mixed("/v1/things/abc1234.json/x12") == "/v1/things/abc1234.json/x12"
    assert mixed("/v1/things/abc1234/x12") == "/v1/things/0/x12"


@needs_duckdb
def test_examples() -> None:
    paths = ["/v1/issues/12", "/v1/12/34", "/v1/issues/12/comments", "/123", "/9", "/a1/123",
             "/v1/assets/3f2b8c1e-1111-2222-3333-444455556666/7", "/v1/x/", "/", "/0012",
             "/v1//123", "//5", "/a/b1/2", "/a/1b/2", "/v1/issues/12/comments/3", "/x/y-7/8",
             "/v1/issues/5f8d0d55b54764421b7156c9", "/v1/issues/obj_48213",
             "/v1/issues/01HZX3T2V9K8M7N6P5Q4R3S2T1", "/v1/issues/amber-falcon",
             "/v1/issues/2026-12-08_10.30.15", "/v1/issues/12/", "/v1/issues//12//"]
    key = load_builtin().route_key
    got = sql_keys(paths, key)
    for path, sql_key in zip(paths, got, strict=True):
        assert_refines(path, sql_key, key)
    assert got[:2] == ["/v1/issues/0", "/v1/0/34"]  # ids side by side: the first
    assert got[16:] == ["/v1/issues/0"] * 3 + ["/v1/issues/amber-falcon",
                                               "/v1/issues/2026-12-08_10.30.15",
                                               "/v1/issues/0/", "/v1/issues//0//"]
    assert key.key("/v1/0/34") == "/v1/0/0"
    # sixteen characters with four digits but no letter: left to the Python key
    assert key.key("/v1/issues/2026-12-08_10.30.15") == "/v1/issues/0"


@needs_duckdb
def test_known_segments_the_fold_pattern_matches_keep_their_path_whole() -> None:
    """A literal ``3`` or ``oauth2`` (or a mixed segment) is no id: a path holding one is
    not folded in SQL at all, and the Python key does the rest."""
    key = _CATALOGS["digits"]().route_key
    paths = ["/rest/api/3/issue/12", "/v1/oauth2/123456", "/rest/api/4/issue/12",
             "/v1/things/123/abc1234"]
    assert sql_keys(paths, key) == ["/rest/api/3/issue/12", "/v1/oauth2/123456",
                                    "/rest/api/0/issue/0", "/v1/things/123/abc1234"]
    mixed = _CATALOGS["mixed"]().route_key
    assert sql_keys(["/v1/things/abc1234.json", "/v1/things/abc12345/x12"], mixed) == [
        "/v1/things/abc1234.json", "/v1/things/abc12345/x12"]


_STYLES = ("48213", "0", "3f2b8c1e-1111-2222-3333-444455556666", "5f8d0d55b54764421b7156c9",
           "obj_48213", "01HZX3T2V9K8M7N6P5Q4R3S2T1", "oauth2", "abc1234", "v1", "3", "x12",
           "abc1234.json", "amber-falcon", "%41bc123")


@pytest.mark.parametrize("name", sorted(_CATALOGS))
def test_every_template_filled_with_every_id_style_routes_as_its_key(name: str) -> None:
    """Each template's parameters (and, one at a time, each literal) replaced by every id
    style and by the catalog's own literals: the path routes as its key."""
    catalog = _CATALOGS[name]()
    key = catalog.route_key.key
    for op in catalog.operations:
        segs = [s for s in op.path.split("/") if s]
        for ident in _STYLES:
            for i in range(len(segs)):
                filled = ["7" if "{" in s else s for s in segs]
                filled[i] = ident
                for path in ("/" + "/".join(filled), "/api/v2/" + "/".join(filled)):
                    for method in ("GET", op.method):
                        assert _decision(catalog, method, path) == \
                            _decision(catalog, method, key(path)), path
