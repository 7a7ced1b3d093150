"""The built-in insp.ac v1 catalog, checked by hand against reference/inspac-api.md, and the
``scopeaudit catalog`` command (table, JSON, and loading its JSON back through --catalog).

The expected tables below are copied from the reference by hand on purpose: they must not be
derived from the data file they check.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scopeaudit.catalog import Catalog, MatchKind, Provenance, load_builtin
from scopeaudit.catalog.loader import CATALOG_FORMAT, catalog_document, load_catalog_file
from scopeaudit.errors import InputError
from support import run

DOC = Provenance.DOCUMENTED
IMP = Provenance.IMPLIED
INF = Provenance.INFERRED

# reference "Scopes" table: scope -> words its description must carry (from the grant sentence)
EXPECTED_SCOPES: dict[str, tuple[str, ...]] = {
    "issues:read": ("list and retrieve", "issues"),
    "issues:write": ("create and update", "issues"),
    "works:read": ("list and retrieve", "work orders"),
    "works:write": ("create and update", "work orders"),
    "sites:read": ("list and retrieve", "sites"),
    "sites:write": ("create and update", "sites"),
    "assets:read": ("list and retrieve", "assets"),
    "assets:write": ("create and update", "assets"),
    "users:read": ("list and retrieve", "user profiles"),
    "users:write": ("create and update", "user profiles"),
    "checkins:read": ("list and retrieve", "site check-ins"),
    "checkins:write": ("create and update", "site check-ins"),
    "logs:read": ("list and retrieve", "logs/comments"),
    "logs:write": ("create", "logs/comments", "append-only"),
    "sensors:read": ("list and retrieve", "sensor readings"),
    "sensors:write": ("ingest", "sensor readings"),
    "templates:read": ("list and retrieve", "templates"),
    "templates:write": ("create and update", "templates"),
    "runs:read": ("list and retrieve", "inspection runs"),
    "runs:write": ("create and update", "inspection runs"),
    "schedules:read": ("list and retrieve", "unified schedule occurrences"),
    "schedules:write": ("update occurrence status", "obligation links",
                        "not create/update of schedules"),
    "calendar:read": ("list", "calendar-formatted schedule occurrences"),
    "media:write": ("upload and complete", "media attachment"),
    "integrations:read": ("list", "integration-platform", "action", "trigger", "subscription",
                          "catalogs"),
    "integrations:write": ("create and delete", "integration-platform",
                           "trigger subscriptions"),
}

# reference "Operations" table, one row per operation; where a row gives two labels the
# catalog carries the weaker one ("DOC path, IMPLIED scope" -> implied).
# (id, method, path, scope, provenance)
EXPECTED_OPERATIONS: list[tuple[str, str, str, str, Provenance]] = [
    ("issues.list", "GET", "/v1/issues", "issues:read", IMP),
    ("issues.get", "GET", "/v1/issues/{id}", "issues:read", IMP),
    ("issues.create", "POST", "/v1/issues", "issues:write", IMP),
    ("issues.update", "PATCH", "/v1/issues/{id}", "issues:write", INF),
    ("users.list", "GET", "/v1/users", "users:read", DOC),
    ("users.get", "GET", "/v1/users/{id}", "users:read", DOC),
    ("users.create", "POST", "/v1/users", "users:write", DOC),
    ("users.update", "PATCH", "/v1/users/{id}", "users:write", DOC),
    ("checkins.list", "GET", "/v1/checkins", "checkins:read", DOC),
    ("checkins.get", "GET", "/v1/checkins/{id}", "checkins:read", DOC),
    ("checkins.create", "POST", "/v1/checkins", "checkins:write", DOC),
    ("checkins.update", "PATCH", "/v1/checkins/{id}", "checkins:write", DOC),
    ("logs.list", "GET", "/v1/logs", "logs:read", DOC),
    ("logs.get", "GET", "/v1/logs/{id}", "logs:read", DOC),
    ("logs.create", "POST", "/v1/logs", "logs:write", DOC),
    ("sensors.list", "GET", "/v1/sensor-readings", "sensors:read", DOC),
    ("sensors.get", "GET", "/v1/sensor-readings/{id}", "sensors:read", DOC),
    ("sensors.ingest", "POST", "/v1/sensor-readings", "sensors:write", DOC),
    ("works.list", "GET", "/v1/works", "works:read", INF),
    ("works.get", "GET", "/v1/works/{id}", "works:read", INF),
    ("works.create", "POST", "/v1/works", "works:write", INF),
    ("works.update", "PATCH", "/v1/works/{id}", "works:write", INF),
    ("sites.list", "GET", "/v1/sites", "sites:read", INF),
    ("sites.get", "GET", "/v1/sites/{id}", "sites:read", INF),
    ("sites.create", "POST", "/v1/sites", "sites:write", INF),
    ("sites.update", "PATCH", "/v1/sites/{id}", "sites:write", INF),
    ("assets.list", "GET", "/v1/assets", "assets:read", INF),
    ("assets.get", "GET", "/v1/assets/{id}", "assets:read", INF),
    ("assets.create", "POST", "/v1/assets", "assets:write", INF),
    ("assets.update", "PATCH", "/v1/assets/{id}", "assets:write", INF),
    ("templates.list", "GET", "/v1/templates", "templates:read", INF),
    ("templates.get", "GET", "/v1/templates/{id}", "templates:read", INF),
    ("templates.create", "POST", "/v1/templates", "templates:write", INF),
    ("templates.update", "PATCH", "/v1/templates/{id}", "templates:write", INF),
    ("runs.list", "GET", "/v1/runs", "runs:read", INF),
    ("runs.get", "GET", "/v1/runs/{id}", "runs:read", INF),
    ("runs.create", "POST", "/v1/runs", "runs:write", INF),
    ("runs.update", "PATCH", "/v1/runs/{id}", "runs:write", INF),
]

# "`works` could be `/v1/work-orders`": the same four operations on the alternative path.
# The ids are the catalog's to choose; method, path, scope and provenance are not.
EXPECTED_WORK_ORDERS: list[tuple[str, str, str, Provenance]] = [
    ("GET", "/v1/work-orders", "works:read", INF),
    ("GET", "/v1/work-orders/{id}", "works:read", INF),
    ("POST", "/v1/work-orders", "works:write", INF),
    ("PATCH", "/v1/work-orders/{id}", "works:write", INF),
]

# Resources whose paths are unknown: a resource-prefix fallback each, marked inferred.
FALLBACK_PREFIXES = {
    "schedules": "/v1/schedules",
    "calendar": "/v1/calendar",
    "media": "/v1/media",
    "integrations": "/v1/integrations",
}

# Routing under the fallbacks, as each scope's grant sentence says. None: no scope grants it
# (no calendar:write, no media:read), so the request must stay unmatched, never guessed.
FALLBACK_ROUTES: list[tuple[str, str, str | None]] = [
    ("GET", "/v1/schedules", "schedules:read"),
    ("GET", "/v1/schedules/occurrences", "schedules:read"),
    ("GET", "/v1/schedules/occurrences/occ_1", "schedules:read"),
    ("HEAD", "/v1/schedules/occurrences/occ_1", "schedules:read"),
    ("PATCH", "/v1/schedules/occurrences/occ_1", "schedules:write"),
    ("POST", "/v1/schedules/occurrences/occ_1/obligations", "schedules:write"),
    ("GET", "/v1/calendar", "calendar:read"),
    ("GET", "/v1/calendar/occurrences?from=2024-01-01", "calendar:read"),
    ("HEAD", "/v1/calendar/2024/06", "calendar:read"),
    ("POST", "/v1/calendar", None),
    ("POST", "/v1/calendar/events", None),
    ("PUT", "/v1/calendar/events/1", None),
    ("PATCH", "/v1/calendar/events/1", None),
    ("DELETE", "/v1/calendar/events/1", None),
    ("POST", "/v1/media", "media:write"),
    ("POST", "/v1/media/uploads", "media:write"),
    ("POST", "/v1/media/uploads/up_1/complete", "media:write"),
    ("GET", "/v1/media", None),
    ("GET", "/v1/media/m_1", None),
    ("HEAD", "/v1/media/m_1", None),
    ("GET", "/v1/integrations/actions", "integrations:read"),
    ("GET", "/v1/integrations/triggers", "integrations:read"),
    ("GET", "/v1/integrations/subscriptions", "integrations:read"),
    ("POST", "/v1/integrations/subscriptions", "integrations:write"),
    ("DELETE", "/v1/integrations/subscriptions/sub_1", "integrations:write"),
]


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()



# --- scopes --------------------------------------------------------------------------------


def test_exactly_the_26_documented_scopes(builtin: Catalog) -> None:
    assert len(EXPECTED_SCOPES) == 26
    assert len(builtin.scopes) == 26
    assert sorted(builtin.scope_names) == sorted(EXPECTED_SCOPES)
    assert len(set(builtin.scope_names)) == 26


@pytest.mark.parametrize("name", sorted(EXPECTED_SCOPES))
def test_scope_description_states_its_grant(builtin: Catalog, name: str) -> None:
    scope = builtin.scope(name)
    assert scope is not None
    assert scope.description.strip()
    assert "\n" not in scope.description
    for words in EXPECTED_SCOPES[name]:
        assert words in scope.description.lower(), (name, words, scope.description)


def test_write_scopes_are_exactly_the_13_write_ones(builtin: Catalog) -> None:
    expected = {name for name in EXPECTED_SCOPES if name.endswith(":write")}
    assert len(expected) == 13
    assert builtin.write_scopes == expected
    for scope in builtin.scopes:
        assert scope.is_write is scope.name.endswith(":write")


def test_scopes_that_do_not_exist(builtin: Catalog) -> None:
    for name in ("calendar:write", "media:read", "keys:read", "sensor-readings:read",
                 "work-orders:read", "issues:admin"):
        assert not builtin.has_scope(name)
        assert builtin.scope(name) is None


def test_write_does_not_imply_read(builtin: Catalog) -> None:
    issues_list = builtin.router.match("GET", "/v1/issues").operation
    assert issues_list is not None
    assert not issues_list.satisfied_by({"issues:write"})
    assert issues_list.satisfied_by({"issues:read"})


# --- operations ----------------------------------------------------------------------------


@pytest.mark.parametrize(("op_id", "method", "path", "scope", "provenance"),
                         EXPECTED_OPERATIONS, ids=[row[0] for row in EXPECTED_OPERATIONS])
def test_reference_operation(builtin: Catalog, op_id: str, method: str, path: str,
                             scope: str, provenance: Provenance) -> None:
    by_id = {op.id: op for op in builtin.operations}
    assert op_id in by_id
    op = by_id[op_id]
    assert (op.method, op.path) == (method, path)
    assert op.requires == (frozenset({scope}),)
    assert op.provenance is provenance
    # ... and a request for it is routed to it.
    concrete = path.replace("{id}", "abc123")
    result = builtin.router.match(method, concrete)
    assert result.kind is MatchKind.MATCHED
    assert result.operation == op


@pytest.mark.parametrize(("method", "path", "scope", "provenance"), EXPECTED_WORK_ORDERS,
                         ids=[f"{m} {p}" for m, p, _, _ in EXPECTED_WORK_ORDERS])
def test_works_alternative_path(builtin: Catalog, method: str, path: str, scope: str,
                                provenance: Provenance) -> None:
    found = [op for op in builtin.operations if (op.method, op.path) == (method, path)]
    assert len(found) == 1
    assert found[0].requires == (frozenset({scope}),)
    assert found[0].provenance is provenance
    result = builtin.router.match(method, path.replace("{id}", "wo_9"))
    assert result.operation == found[0]


def test_no_operations_beyond_the_reference(builtin: Catalog) -> None:
    expected = {(m, p) for _, m, p, _, _ in EXPECTED_OPERATIONS}
    expected |= {(m, p) for m, p, _, _ in EXPECTED_WORK_ORDERS}
    concrete = {(op.method, op.path) for op in builtin.operations if not op.path.endswith("/**")}
    assert concrete == expected
    fallbacks = {op.path for op in builtin.operations if op.path.endswith("/**")}
    assert fallbacks == {prefix + "/**" for prefix in FALLBACK_PREFIXES.values()}


def test_operation_ids_are_unique(builtin: Catalog) -> None:
    ids = [op.id for op in builtin.operations]
    assert len(ids) == len(set(ids))


def test_provenance_counts(builtin: Catalog) -> None:
    counts = builtin.provenance_counts()
    assert counts["documented"] == sum(1 for row in EXPECTED_OPERATIONS if row[4] is DOC) == 14
    assert counts["implied"] == 3
    assert sum(counts.values()) == len(builtin.operations)


def test_every_scope_is_required_somewhere(builtin: Catalog) -> None:
    required: set[str] = set()
    for op in builtin.operations:
        required |= op.scopes
    assert required == set(EXPECTED_SCOPES)


def test_every_operation_needs_a_scope_of_its_own_resource(builtin: Catalog) -> None:
    # Scope prefixes are not path names (/v1/sensor-readings is sensors:*), so check against
    # the catalog's resource map, which must list every resource's path prefixes.
    prefixes = dict(builtin.resources)
    for op in builtin.operations:
        assert op.requires, op.id
        for alt in op.requires:
            assert alt, f"{op.id}: no operation of insp.ac v1 is anonymous"
            for scope in alt:
                resource = scope.split(":")[0]
                assert any(op.path == p or op.path.startswith(p + "/")
                           for p in prefixes[resource]), (op.id, scope)


def test_resource_map(builtin: Catalog) -> None:
    resources = dict(builtin.resources)
    assert set(resources) == {s.split(":")[0] for s in EXPECTED_SCOPES}
    assert resources["sensors"] == ("/v1/sensor-readings",)
    assert set(resources["works"]) == {"/v1/works", "/v1/work-orders"}
    for name, prefix in FALLBACK_PREFIXES.items():
        assert resources[name] == (prefix,)


# --- resource-prefix fallbacks -------------------------------------------------------------


@pytest.mark.parametrize("resource", sorted(FALLBACK_PREFIXES))
def test_fallbacks_are_inferred_prefixes(builtin: Catalog, resource: str) -> None:
    ops = [op for op in builtin.operations
           if op.path == FALLBACK_PREFIXES[resource] + "/**"]
    assert ops
    for op in ops:
        assert op.provenance is INF
        for alt in op.requires:
            assert {s.split(":")[0] for s in alt} == {resource}


@pytest.mark.parametrize(("method", "target", "scope"), FALLBACK_ROUTES,
                         ids=[f"{m} {t}" for m, t, _ in FALLBACK_ROUTES])
def test_fallback_routes_as_the_grant_says(builtin: Catalog, method: str, target: str,
                                           scope: str | None) -> None:
    result = builtin.router.match(method, target)
    if scope is None:
        assert result.kind is MatchKind.UNMATCHED
        assert result.operation is None
    else:
        assert result.kind is MatchKind.MATCHED
        assert result.operation is not None
        assert result.operation.requires == (frozenset({scope}),)
        assert result.operation.provenance is INF


def test_no_operation_grants_calendar_write_or_media_read(builtin: Catalog) -> None:
    calendar = [op for op in builtin.operations if op.path.startswith("/v1/calendar")]
    media = [op for op in builtin.operations if op.path.startswith("/v1/media")]
    assert {op.method for op in calendar} == {"GET"}
    assert "GET" not in {op.method for op in media}
    assert "HEAD" not in {op.method for op in media}


# --- the data file -------------------------------------------------------------------------


def test_builtin_data_file_is_a_valid_catalog_document() -> None:
    from importlib import resources

    text = (resources.files("scopeaudit.catalog") / "data" / "inspac-v1.json").read_text("utf-8")
    doc = json.loads(text)
    assert doc["format"] == CATALOG_FORMAT
    assert doc["name"] == "insp.ac"
    assert doc["version"] == "v1"


# --- `scopeaudit catalog` ------------------------------------------------------------------


def test_catalog_table(capsys: pytest.CaptureFixture[str], builtin: Catalog) -> None:
    code, out, err = run(capsys, "catalog")
    assert code == 0
    assert err == ""
    first = out.splitlines()[0]
    assert first.startswith("insp.ac v1 (built-in): ")
    assert f"{len(builtin.operations)} operations" in first
    assert "14 documented, 3 implied" in first
    assert "26 scopes" in first
    lines = out.splitlines()
    for op_id, method, path, scope, provenance in EXPECTED_OPERATIONS:
        row = [line for line in lines if line.rstrip().endswith(" " + op_id)]
        assert len(row) == 1, op_id
        assert row[0].split()[:4] == [method, path, scope, provenance.value]
    for name in EXPECTED_SCOPES:
        assert any(line.split()[:1] == [name] for line in lines), name


def test_catalog_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", "--format", "json")
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    assert {"format", "name", "version", "scopes", "operations"} <= set(doc)
    assert doc["format"] == CATALOG_FORMAT
    assert (doc["name"], doc["version"]) == ("insp.ac", "v1")
    assert [set(s) for s in doc["scopes"]] == [{"name", "description"}] * 26
    assert sorted(s["name"] for s in doc["scopes"]) == sorted(EXPECTED_SCOPES)
    assert all(isinstance(s["description"], str) and s["description"] for s in doc["scopes"])
    for op in doc["operations"]:
        assert {"id", "method", "path", "scopes", "provenance"} <= set(op)
        assert set(op) <= {"id", "method", "path", "scopes", "provenance", "note"}
        assert isinstance(op["scopes"], list)
        assert all(isinstance(alt, list) and all(isinstance(s, str) for s in alt)
                   for alt in op["scopes"])
        assert op["provenance"] in {"documented", "implied", "inferred"}
    by_id = {op["id"]: op for op in doc["operations"]}
    for op_id, method, path, scope, provenance in EXPECTED_OPERATIONS:
        assert by_id[op_id]["method"] == method
        assert by_id[op_id]["path"] == path
        assert by_id[op_id]["scopes"] == [[scope]]
        assert by_id[op_id]["provenance"] == provenance.value


def test_catalog_json_loads_back_to_the_same_catalog(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, builtin: Catalog) -> None:
    code, out, _ = run(capsys, "catalog", "--format", "json")
    assert code == 0
    saved = tmp_path / "catalog.json"
    saved.write_text(out, encoding="utf-8")

    loaded = load_catalog_file(str(saved))
    assert loaded.source == str(saved)
    assert dataclasses.replace(loaded, source=builtin.source) == builtin

    code, again, err = run(capsys, "catalog", "--format", "json", "--catalog", str(saved))
    assert (code, err) == (0, "")
    assert again == out

    code, table, _ = run(capsys, "catalog", "--catalog", str(saved))
    assert code == 0
    code, builtin_table, _ = run(capsys, "catalog")
    assert table.splitlines()[1:] == builtin_table.splitlines()[1:]


def test_catalog_json_to_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     builtin: Catalog) -> None:
    target = tmp_path / "out.json"
    code, out, _ = run(capsys, "catalog", "--format", "json", "-o", str(target))
    assert (code, out) == (0, "")
    loaded = load_catalog_file(str(target))
    assert dataclasses.replace(loaded, source=builtin.source) == builtin


def test_catalog_json_also_loads_as_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         builtin: Catalog) -> None:
    _, out, _ = run(capsys, "catalog", "--format", "json")
    saved = tmp_path / "catalog.yaml"
    saved.write_text(out, encoding="utf-8")
    assert dataclasses.replace(load_catalog_file(str(saved)), source="built-in") == builtin


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": CATALOG_FORMAT,
        "name": "mini",
        "version": "1",
        "scopes": [{"name": "a:read", "description": "A"},
                   {"name": "b:read", "description": "B"},
                   {"name": "c:write", "description": "C"}],
        "operations": [
            {"id": "a.get", "method": "GET", "path": "/a/{id}", "scopes": [["a:read"]],
             "provenance": "documented"},
        ],
    }
    doc.update(overrides)
    return doc


def test_round_trip_keeps_alternatives_notes_and_base_paths(tmp_path: Path) -> None:
    doc = _doc(
        base_paths=["/api", ""],
        resources={"a": ["/a"], "b": ["/b", "/bee"]},
        operations=[
            {"id": "x.both", "method": "post", "path": "/x", "provenance": "implied",
             "scopes": [["c:write"], ["b:read", "a:read"]], "note": "either"},
            {"id": "x.any", "method": "GET", "path": "/x", "scopes": [[]]},
        ],
    )
    first = tmp_path / "first.json"
    first.write_text(json.dumps(doc), encoding="utf-8")
    cat = load_catalog_file(str(first))
    assert cat.operations[0].requires == (frozenset({"c:write"}),
                                          frozenset({"a:read", "b:read"}))
    assert cat.operations[0].method == "POST"
    assert cat.operations[1].requires == (frozenset(),)
    assert cat.operations[1].provenance is INF  # missing provenance: the weakest
    second = tmp_path / "second.json"
    second.write_text(json.dumps(catalog_document(cat)), encoding="utf-8")
    again = load_catalog_file(str(second))
    assert dataclasses.replace(again, source=cat.source) == cat
    assert again.router.match("GET", "/api/x").kind is MatchKind.MATCHED


def test_catalog_via_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "catalog", "--format", "json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["scopes"]) == 26


# --- broken --catalog files ----------------------------------------------------------------


def _assert_one_line_error(err: str, path: Path, *words: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("scopeaudit: error: ")
    assert str(path) in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_invalid_json_catalog_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        fmt: str) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "scopeaudit/catalog/v1",\n  "scopes": [,]}', encoding="utf-8")
    code, out, err = run(capsys, "catalog", "--format", fmt, "--catalog", str(bad))
    assert code == 2
    assert out == ""
    _assert_one_line_error(err, bad, "invalid JSON", f"{bad}:2:")


def test_undeclared_scope_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "undeclared.json"
    doc = _doc()
    doc["operations"][0]["scopes"] = [["a:read", "nope:read"]]
    bad.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = run(capsys, "catalog", "--catalog", str(bad))
    assert code == 2
    assert out == ""
    _assert_one_line_error(err, bad, "nope:read", "a.get", "not declared")


BROKEN_DOCS: list[tuple[str, Any, str]] = [
    ("not-a-mapping", [1, 2], "mapping"),
    ("wrong-format", _doc(format="something/else"), "not a scopeaudit catalog"),
    ("scopes-not-a-list", _doc(scopes={"a:read": "A"}), "scopes"),
    ("scope-without-name", _doc(scopes=[{"description": "x"}]), "name"),
    ("duplicate-scope", _doc(scopes=[{"name": "a:read"}, {"name": "a:read"}]), "a:read"),
    ("duplicate-op-id", _doc(operations=[
        {"id": "a.get", "method": "GET", "path": "/a", "scopes": [["a:read"]]},
        {"id": "a.get", "method": "POST", "path": "/a", "scopes": [["a:read"]]},
    ]), "a.get"),
    ("same-route-twice", _doc(operations=[
        {"id": "a.get", "method": "GET", "path": "/a/{id}", "scopes": [["a:read"]]},
        {"id": "b.get", "method": "get", "path": "/a/{other}/", "scopes": [["b:read"]]},
    ]), "b.get"),
    ("scopes-not-nested", _doc(operations=[
        {"id": "a.get", "method": "GET", "path": "/a", "scopes": ["a:read"]},
    ]), "a.get"),
    ("no-alternative", _doc(operations=[
        {"id": "a.get", "method": "GET", "path": "/a", "scopes": []},
    ]), "a.get"),
    ("bad-provenance", _doc(operations=[
        {"id": "a.get", "method": "GET", "path": "/a", "scopes": [["a:read"]],
         "provenance": "certain"},
    ]), "certain"),
    ("missing-path", _doc(operations=[
        {"id": "a.get", "method": "GET", "scopes": [["a:read"]]},
    ]), "path"),
    ("resources-not-a-map", _doc(resources=["/a"]), "resources"),
    ("resource-prefixes-not-a-list", _doc(resources={"a": "/a"}), "resources"),
    ("resource-prefix-not-a-string", _doc(resources={"a": [5]}), "resources"),
    ("base-paths-not-a-list", _doc(base_paths="/api"), "base_paths"),
    ("base-paths-empty", _doc(base_paths=[]), "base_paths"),
]


@pytest.mark.parametrize(("name", "doc", "word"), BROKEN_DOCS, ids=[b[0] for b in BROKEN_DOCS])
def test_broken_catalog_document_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           name: str, doc: Any, word: str) -> None:
    bad = tmp_path / f"{name}.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError):
        load_catalog_file(str(bad))
    code, out, err = run(capsys, "catalog", "--catalog", str(bad))
    assert code == 2
    assert out == ""
    _assert_one_line_error(err, bad, word)


@pytest.mark.parametrize(("name", "content"), [
    ("empty.json", ""),
    ("not-utf8.json", b'{"format": "\xff"}'),
    ("nul.json", b'{"format": "x"}\x00'),
    ("broken.yaml", "format: [unclosed\n"),
    ("control-char.yaml", "format: scopeaudit/catalog/v1\nscopes: [\x01]\n"),
])
def test_unreadable_catalog_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           name: str, content: str | bytes) -> None:
    bad = tmp_path / name
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "catalog", "--catalog", str(bad))
    assert code == 2
    assert out == ""
    _assert_one_line_error(err, bad)
    assert "internal error" not in err


def test_missing_catalog_file_is_exit_2(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, "catalog", "--catalog", str(missing))
    assert (code, out) == (2, "")
    _assert_one_line_error(err, missing, "no such file")
