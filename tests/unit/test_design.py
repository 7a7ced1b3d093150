"""scopeaudit design: the minimal scope set for a list of operations, hand-computed.

The catalog ``OR_CATALOG`` has alternatives (the built-in one has none). The cases:

* greedy per operation is wrong: ``summary`` needs issues:read OR (works:read AND
  sites:read); ``export`` needs works:read AND sites:read. Taking summary's own least
  privileged alternative (issues:read) gives 3 scopes; the minimum is {sites:read,
  works:read}, which satisfies both.
* greedy by frequency is wrong (a hitting set): with A=issues:read, B=works:read,
  C=sites:read, D=assets:read, E=users:read, operations h1..h6 need A|C, A|C, A|D, B|C, B|C,
  B|E. C is in the most (4), but after C, h3 needs A or D and h6 B or E: 3 scopes. {A, B}
  hits all six, and it is the only pair: a pair with A must hit h4-h6 with one scope, B.
* fewest writes first: ``triage`` needs issues:write OR (issues:read AND works:read): the
  two read scopes (0 writes) beat the single write scope.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopeaudit.catalog import load_builtin
from scopeaudit.catalog.loader import catalog_from_document
from scopeaudit.catalog.model import Catalog
from scopeaudit.cli import main
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.remediate.design import Call, design, render_design
from scopeaudit.remediate.minimal import minimal_cover

A, B, C, D, E = "issues:read", "works:read", "sites:read", "assets:read", "users:read"


def _op(op_id: str, *alts: list[str]) -> dict[str, object]:
    return {"id": op_id, "method": "GET", "path": f"/v1/{op_id}", "scopes": list(alts),
            "provenance": "documented"}


OR_DOC = {
    "format": "scopeaudit/catalog/v1", "name": "or-test", "version": "1",
    "scopes": [{"name": s} for s in (A, B, C, D, E, "issues:write")],
    "operations": [
        _op("summary", [A], [B, C]),
        _op("export", [B, C]),
        _op("h1", [A], [C]), _op("h2", [A], [C]), _op("h3", [A], [D]),
        _op("h4", [B], [C]), _op("h5", [B], [C]), _op("h6", [B], [E]),
        _op("triage", ["issues:write"], [A, B]),
        _op("ping", []),
    ],
}


@pytest.fixture
def catalog() -> Catalog:
    return catalog_from_document(OR_DOC, source="or-test")


def _ids(*ids: str) -> list[Call]:
    return [Call(i, f"test:{n}", op_id=i) for n, i in enumerate(ids, start=1)]


def test_or_alternative_where_the_per_operation_choice_is_wrong(catalog: Catalog) -> None:
    result = design(_ids("summary", "export"), catalog)
    assert result.scopes == (C, B)
    assert result.exact
    # both operations are satisfied by both scopes
    assert dict(result.needed_by) == {C: ("export", "summary"), B: ("export", "summary")}


def test_hitting_set_where_the_most_frequent_scope_is_wrong(catalog: Catalog) -> None:
    result = design(_ids("h1", "h2", "h3", "h4", "h5", "h6"), catalog)
    assert result.scopes == (A, B)
    assert result.exact
    assert dict(result.needed_by) == {A: ("h1", "h2", "h3"), B: ("h4", "h5", "h6")}


def test_fewest_write_scopes_before_fewest_scopes(catalog: Catalog) -> None:
    assert design(_ids("triage"), catalog).scopes == (A, B)


def test_a_search_stopped_at_its_limit_is_said_to_be_a_bound(catalog: Catalog) -> None:
    reqs = [op.requires for op in catalog.operations if op.id.startswith("h")]
    full = minimal_cover(reqs, catalog)
    assert full.exact and full.scopes == frozenset({A, B})
    cut = minimal_cover(reqs, catalog, limit=1)
    assert not cut.exact
    assert len(cut.scopes) >= 2
    text = render_design(design(_ids("h1", "h2", "h3", "h4", "h5", "h6"), catalog, limit=1),
                         "k", "K", catalog)
    assert "a bound, not proved minimal" in text.splitlines()[0]


def test_operations_needing_no_scope_or_none_at_all(catalog: Catalog) -> None:
    result = design(_ids("ping"), catalog)
    assert result.scopes == ()
    assert result.no_scope == ("ping",)
    assert not result.unsatisfiable


def test_cli_lines_on_the_builtin_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    """issues.list and GET /v1/issues/42 (issues.get) need issues:read; POST
    /v1/sensor-readings (sensors.ingest) sensors:write; GET /v1/nothing matches nothing;
    isues.get is no operation; OPTIONS is a preflight. Exit 1: two cannot be satisfied."""
    calls = tmp_path / "calls.txt"
    calls.write_text("# the gateway's calls\nissues.list\nGET /v1/issues/42\n\n"
                     "post /v1/sensor-readings  # ingest\nGET /v1/nothing\nisues.get\n"
                     "OPTIONS /v1/issues\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["design", str(calls), "--id", "key_gateway", "--name", "Gateway"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 1
    assert out == (
        "# scopeaudit design: 3 operation(s) -> 2 scope(s), 1 of them write (minimal: fewest "
        "write scopes, then fewest scopes)\n"
        "keys:\n"
        "  - id: key_gateway\n"
        "    name: Gateway\n"
        "    scopes:\n"
        "      - issues:read    # issues.get, issues.list\n"
        "      - sensors:write  # sensors.ingest\n"
        "# need no scope: OPTIONS /v1/issues (a CORS preflight carries no key)\n"
        "# no scope set can satisfy:\n"
        f"#   GET /v1/nothing ({calls}:6): no operation of the catalog matches this method "
        "and path\n"
        f"#   isues.get ({calls}:7): no operation 'isues.get' in the catalog (did you mean "
        "'issues.get'?)\n")
    keys = parse_inventory(out.encode(), "design.yaml", KeysFormat.YAML, Diagnostics())
    assert [(k.id, k.granted) for k in keys.keys] == [("key_gateway",
                                                      ("issues:read", "sensors:write"))]


def test_cli_openapi_document_of_the_clients_calls(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Paths under the server's /v1: /issues/{issueId} GET is issues.get, /work-orders POST
    works.create@work-orders; the second's operationId names it."""
    doc = {"openapi": "3.0.3", "info": {"title": "client", "version": "1"},
           "servers": [{"url": "https://api.insp.ac/v1"}],
           "paths": {"/issues/{issueId}": {"get": {"operationId": "getIssue"}},
                     "/work-orders": {"post": {"operationId": "newOrder"}}}}
    spec = tmp_path / "client.json"
    spec.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["design", str(spec)])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0
    assert "      - issues:read  # issues.get\n" in out
    assert "      - works:write  # works.create@work-orders\n" in out
    assert "# the catalog only infers the scope of: works.create@work-orders\n" in out


def test_cli_bad_line_names_file_and_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls.txt"
    calls.write_text("issues.list\nlist all the issues please\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["design", str(calls)])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert err.strip().startswith(f"scopeaudit: error: {calls}:2: expected an operation id")
    assert "Traceback" not in err


def test_builtin_catalog_has_every_operation_satisfiable() -> None:
    cat = load_builtin()
    result = design(_ids(*(op.id for op in cat.operations)), cat)
    assert not result.unsatisfiable and result.exact
    assert set(result.scopes) == set(cat.scope_names)


def test_key_id_and_name_stay_text_in_yaml(catalog: Catalog) -> None:
    """``null`` and ``2024`` would read back as no value and a number unless quoted."""
    text = render_design(design(_ids("export"), catalog), "null", "2024", catalog)
    keys = parse_inventory(text.encode(), "d.yaml", KeysFormat.YAML, Diagnostics()).keys
    assert (keys[0].id, keys[0].name) == ("null", "2024")
