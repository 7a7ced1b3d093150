"""The DuckDB engine's route-cache key (SQL) is the streaming aggregator's (Python).

The key decides which paths share one routing decision; the operations would be the same
with a coarser or finer key (Router.cache_key is exact), but the bounded shape table counts
decisions, so the engine keys exactly as the aggregator does.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.catalog import load_builtin
from scopeaudit.engine import duckdb_available
from scopeaudit.engine.groups import route_key

pytestmark = pytest.mark.skipif(not duckdb_available(), reason="DuckDB is not installed")

_SEGMENTS = st.one_of(
    st.integers(0, 10**9).map(str), st.uuids().map(str), st.just(""), st.just("0"),
    st.text("abc12-_.%~", max_size=6), st.sampled_from(["v1", "issues", "12a", "a12", "007"]))
_PATHS = st.builds(lambda lead, segs, tail: lead + "/".join(segs) + tail,
                   st.sampled_from(["/", "", "//", "https://h/"]),
                   st.lists(_SEGMENTS, max_size=6), st.sampled_from(["", "/", "?x=1", "/7"]))


def sql_keys(paths: list[str], folds: bool) -> list[str]:
    import duckdb

    from scopeaudit.engine.duckdb_engine import route_key_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INTEGER, pth VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", list(enumerate(paths)))
    rows = con.execute(f"SELECT i, {route_key_sql(folds)} FROM p ORDER BY i").fetchall()
    return [str(key) for _, key in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(_PATHS, min_size=1, max_size=40), st.booleans())
def test_sql_route_key_is_the_aggregators(paths: list[str], folds: bool) -> None:
    cache_key = load_builtin().router.cache_key if folds else (lambda path: path)
    # the engine keys in SQL only origin-form paths (from '/'), the query cut
    paths = [p.split("?", 1)[0] for p in paths if p.startswith("/")] or ["/"]
    expected = [route_key(folds, cache_key, "GET", p)[1] for p in paths]
    assert sql_keys(paths, folds) == expected


def test_examples() -> None:
    paths = ["/v1/issues/12", "/v1/12/34", "/v1/issues/12/comments", "/123", "/9", "/a1/123",
             "/v1/assets/3f2b8c1e-1111-2222-3333-444455556666/7", "/v1/x/", "/", "/0012",
             "/v1//123", "//5", "/a/b1/2", "/a/1b/2", "/v1/issues/12/comments/3", "/x/y-7/8"]
    cache_key = load_builtin().router.cache_key
    assert sql_keys(paths, True) == [route_key(True, cache_key, "GET", p)[1] for p in paths]
    assert sql_keys(paths, True)[:2] == ["/v1/issues/0", "/v1/0/0"]
