"""OpenAPI 3.x / Swagger 2.0 documents as catalogs: the import rules on small hand-written
specs, the five real specs in /work/shared/realdata/openapi (never copied into the
repository), broken documents through the CLI, the catalog export round trip, and audits on
generated logs.

Expectations are worked out by hand or counted independently here, with plain json/yaml
loading and loops that share no code with the importer; the README of the real specs gives
the starting counts, which the independent counts must reproduce.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from scopeaudit.audit import AuditOptions, analyse
from scopeaudit.catalog import Catalog, Operation, Scope
from scopeaudit.catalog.documents import Document
from scopeaudit.catalog.loader import catalog_document, load_catalog_file, read_catalog_file
from scopeaudit.catalog.openapi import (
    MAX_ALTERNATIVES,
    ImportOptions,
    ImportReport,
    Overrides,
    import_openapi,
    load_overrides,
)
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Audit, KeyVerdict
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.usage.aggregate import Aggregator, family_of
from scopeaudit.usage.record import InputStats, Record
from support import run as run_cli

REALDATA = Path(__file__).parents[2].parent / "shared" / "realdata" / "openapi"
PETSTORE = "swagger-petstore-openapi.yaml"
JIRA = "jira-platform-swagger.v3.json"
XERO = "xero_accounting.yaml"
DIGITALOCEAN = "digitalocean-public.v2.trimmed.yaml"
SLACK = "slack_web_openapi_v2_without_examples.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
EMPTY: frozenset[str] = frozenset()


def fs(*names: str) -> frozenset[str]:
    return frozenset(names)


# --- small hand-written specs ------------------------------------------------------------------


def spec(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "Mini", "version": "1.2"}}
    doc.update(top)
    doc["paths"] = paths
    return doc


OAUTH = {"type": "oauth2", "flows": {
    "authorizationCode": {"authorizationUrl": "https://a.example/auth",
                          "tokenUrl": "https://a.example/token",
                          "scopes": {"a:read": "Read A", "a:write": "Write A"}},
    "clientCredentials": {"tokenUrl": "https://a.example/token",
                          "scopes": {"b:read": "Read B", "a:read": "ignored: declared twice"}},
}}
SCHEMES = {"components": {"securitySchemes": {
    "oauth": OAUTH,
    "basic": {"type": "http", "scheme": "basic"},
    "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    "bearer": {"type": "http", "scheme": "bearer"},
}}}


def imported(doc: dict[str, Any], options: ImportOptions | None = None,
             name: str = "spec.json") -> tuple[Catalog, ImportReport, Diagnostics]:
    diagnostics = Diagnostics()
    result = import_openapi(Document(name, json.dumps(doc, indent=2), doc, True), options,
                            diagnostics)
    return result.catalog, result.report, diagnostics


def op(catalog: Catalog, method: str, path: str) -> Operation:
    found = [o for o in catalog.operations if (o.method, o.path) == (method, path)]
    assert len(found) == 1, (method, path, [o.id for o in catalog.operations])
    return found[0]


def alts(operation: Operation) -> set[frozenset[str]]:
    return set(operation.requires)


def routed(catalog: Catalog, method: str, target: str) -> str | None:
    match = catalog.router.match(method, target)
    return match.operation.id if match.operation is not None else None


def test_operations_are_paths_times_methods_with_ids() -> None:
    doc = spec({
        "/a": {"get": {"operationId": "listA"}, "post": {}, "parameters": [],
               "summary": "not an operation", "x-extra": {"get": {}}},
        "/a/{id}": {"put": {"operationId": "dup"}, "delete": {"operationId": "dup"},
                    "head": {}, "options": {}, "trace": {}, "patch": {"operationId": "patchA"}},
        "x-not-a-path": {"get": {}},
    })
    cat, report, diags = imported(doc)
    ids = [(o.method, o.path, o.id) for o in cat.operations]
    # the document order of paths, and of the methods as OpenAPI lists them
    assert ids == [
        ("GET", "/a", "listA"), ("POST", "/a", "POST /a"),
        ("PUT", "/a/{id}", "PUT /a/{id}"), ("DELETE", "/a/{id}", "DELETE /a/{id}"),
        ("PATCH", "/a/{id}", "patchA"), ("HEAD", "/a/{id}", "HEAD /a/{id}"),
        ("OPTIONS", "/a/{id}", "OPTIONS /a/{id}"), ("TRACE", "/a/{id}", "TRACE /a/{id}"),
    ]
    assert report.document_operations == 8
    assert all(o.provenance.value == "documented" for o in cat.operations)
    # an operationId used twice names neither operation, and says so
    assert [str(w) for w in diags.warnings] == [
        "spec.json: operationId 'dup' is used by 2 operations; they are named 'METHOD path' "
        "instead"]
    assert (cat.name, cat.version) == ("Mini", "1.2")


def test_operation_security_replaces_the_document_default() -> None:
    doc = spec({
        "/inherit": {"get": {}},
        "/own": {"get": {"security": [{"oauth": ["b:read"]}]}},
        "/open": {"get": {"security": []}},
    }, security=[{"oauth": ["a:read"]}], **SCHEMES)
    cat, report, _ = imported(doc)
    assert op(cat, "GET", "/inherit").requires == (fs("a:read"),)
    assert op(cat, "GET", "/own").requires == (fs("b:read"),)
    # security: [] at operation level: no security at all, whatever the default says
    assert op(cat, "GET", "/open").requires == (EMPTY,)
    assert "no security requirement" in op(cat, "GET", "/open").note
    assert report.no_security == 1


def test_objects_are_or_scopes_in_one_object_are_and() -> None:
    doc = spec({"/x": {"post": {"security": [
        {"oauth": ["a:write", "a:read"]},
        {"oauth": ["b:read"], "bearer": ["c:admin"]},  # two schemes in one object: AND
        {"oauth": ["a:write", "a:read"]},  # the same alternative twice counts once
    ]}}}, **SCHEMES)
    cat, _, _ = imported(doc)
    assert op(cat, "POST", "/x").requires == (fs("a:read", "a:write"), fs("b:read", "c:admin"))


def test_empty_object_allows_anonymous_access() -> None:
    doc = spec({
        "/x": {"get": {"security": [{"oauth": ["a:read"]}, {}]}},
        "/y": {"get": {"security": [{}]}},
    }, **SCHEMES)
    cat, report, _ = imported(doc)
    assert op(cat, "GET", "/x").requires == (fs("a:read"), EMPTY)
    assert op(cat, "GET", "/x").note == "anonymous access allowed ({} in security)"
    assert op(cat, "GET", "/y").requires == (EMPTY,)
    assert report.anonymous == 2
    # a key holding a:read used nothing on GET /x: the anonymous alternative is the least
    assert cat.operations[0].satisfied_by(set())


def test_scopes_on_any_scheme_type_are_read() -> None:
    # DigitalOcean: an http bearer scheme, no declared scope list, scopes only in requirements
    doc = spec({
        "/droplets": {"get": {"security": [{"bearer": ["droplet:read"]}]},
                      "post": {"security": [{"bearer": ["droplet:create"]}]}},
        "/account": {"get": {"security": [{"bearer": []}]}},
    }, components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})
    cat, report, _ = imported(doc)
    assert cat.scope_names == ("droplet:create", "droplet:read")
    assert op(cat, "GET", "/droplets").requires == (fs("droplet:read"),)
    # the scheme carries scopes elsewhere, so an empty list means "any valid token"
    assert op(cat, "GET", "/account").requires == (EMPTY,)
    assert report.authenticated_without_scope == 1
    assert (report.declared_scopes, report.used_scopes) == (0, 2)


def test_schemes_without_scopes_are_another_credential() -> None:
    doc = spec({
        # Petstore's GET /pet/{petId}: an API key OR oauth with scopes
        "/pet/{id}": {"get": {"security": [{"key": []}, {"oauth": ["a:read", "a:write"]}]}},
        # Jira's usual form: basic auth OR oauth OR anonymous
        "/issue": {"get": {"security": [{"basic": []}, {"oauth": ["a:read"]}, {}]}},
        "/inventory": {"get": {"security": [{"key": []}]}},
    }, **SCHEMES)
    cat, report, _ = imported(doc)
    pet = op(cat, "GET", "/pet/{id}")
    assert pet.requires == (fs("a:read", "a:write"),)
    assert pet.note == "also callable with key (no scopes; left out)"
    assert op(cat, "GET", "/issue").requires == (fs("a:read"), EMPTY)
    inventory = op(cat, "GET", "/inventory")
    assert inventory.requires == (EMPTY,)
    assert inventory.note == "only key (no scopes): needs no scope"
    assert report.other_credentials_only == 1


def test_scopes_are_declared_union_used_with_descriptions() -> None:
    doc = spec({"/x": {"get": {"security": [{"oauth": ["a:read", "z:undeclared"]}]}}},
               **SCHEMES)
    cat, report, _ = imported(doc)
    assert cat.scopes == (Scope("a:read", "Read A"), Scope("a:write", "Write A"),
                          Scope("b:read", "Read B"), Scope("z:undeclared", ""))
    assert (report.declared_scopes, report.used_scopes) == (3, 2)


def test_swagger_2_security_definitions_and_base_path() -> None:
    doc = {
        "swagger": "2.0", "info": {"title": "Old", "version": "9"}, "host": "h.example",
        "basePath": "/api/", "schemes": ["https"],
        "securityDefinitions": {
            "auth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://x",
                     "tokenUrl": "https://x", "scopes": {"chat:write": "Post", "none": "None"}},
            "basic": {"type": "basic"},
        },
        "security": [{"auth": ["chat:write"]}],
        "paths": {"/chat.post": {"post": {}},
                  "/api.test": {"get": {"security": [{"auth": ["none"]}]}}},
    }
    cat, report, diags = imported(doc)
    assert report.kind == "Swagger 2.0"
    assert cat.base_paths == ("/api",)
    assert op(cat, "POST", "/chat.post").requires == (fs("chat:write"),)
    assert routed(cat, "POST", "/api/chat.post") == "POST /chat.post"
    assert routed(cat, "POST", "/chat.post") is None  # the base path is part of the URL
    assert cat.scope_names == ("chat:write", "none")
    assert any("scope 'none' is required" in str(w) for w in diags.warnings)


def test_atlassian_extension_entries_are_added_as_alternatives() -> None:
    ext = [{"state": "Current", "scheme": "oauth", "scopes": ["a:read"]},
           {"state": "Beta", "scheme": "oauth", "scopes": ["read:x:jira", "read:y:jira"]}]
    doc = spec({
        "/agree": {"get": {"security": [{"basic": []}, {"oauth": ["a:read"]}, {}],
                           "x-atlassian-oauth2-scopes": ext}},
        "/differ": {"get": {"security": [{"oauth": ["b:read"]}],
                            "x-atlassian-oauth2-scopes": ext}},
        "/only-ext": {"get": {"security": [{"basic": []}], "x-atlassian-oauth2-scopes": ext}},
    }, **SCHEMES)
    cat, report, diags = imported(doc)
    assert op(cat, "GET", "/agree").requires == (fs("a:read"), EMPTY,
                                                 fs("read:x:jira", "read:y:jira"))
    # where security and the extension disagree, both are kept, with a warning
    assert op(cat, "GET", "/differ").requires == (fs("b:read"), fs("a:read"),
                                                  fs("read:x:jira", "read:y:jira"))
    assert [w.message for w in diags.warnings] == [
        "GET /differ: security and x-atlassian-oauth2-scopes disagree (b:read is not in "
        "x-atlassian-oauth2-scopes); both are kept"]
    assert op(cat, "GET", "/only-ext").requires == (fs("a:read"),
                                                    fs("read:x:jira", "read:y:jira"))
    assert report.atlassian == 3


def test_any_semantics_reads_one_list_as_alternatives() -> None:
    doc = spec({
        "/accounts": {"get": {"security": [{"oauth": ["a:write", "a:read"]}]}},
        "/mixed": {"get": {"security": [{"oauth": ["a:write", "a:read"], "bearer": ["c:x"]},
                                        {"bearer": []}]}},
    }, **SCHEMES)
    cat_all, _, _ = imported(doc)
    assert op(cat_all, "GET", "/accounts").requires == (fs("a:read", "a:write"),)
    cat_any, report, _ = imported(doc, ImportOptions(semantics="any"))
    assert report.semantics == "any"
    assert op(cat_any, "GET", "/accounts").requires == (fs("a:write"), fs("a:read"))
    # several schemes in one object stay AND: one choice from each list
    assert op(cat_any, "GET", "/mixed").requires == (fs("a:write", "c:x"), fs("a:read", "c:x"),
                                                     EMPTY)


def many_schemes(widths: list[int]) -> dict[str, Any]:
    """One operation whose one requirement object names len(widths) OAuth schemes, scheme i
    listing widths[i] scopes of its own."""
    schemes = {f"s{i}": {"type": "oauth2", "flows": {"clientCredentials": {
        "tokenUrl": "https://a.example/token",
        "scopes": {f"r{i}:s{j}": "" for j in range(width)}}}}
        for i, width in enumerate(widths)}
    requirement = {f"s{i}": [f"r{i}:s{j}" for j in range(width)]
                   for i, width in enumerate(widths)}
    return spec({"/x": {"get": {"operationId": "getX", "security": [requirement]}}},
                components={"securitySchemes": schemes})


def test_any_semantics_expansion_is_bounded_and_names_the_operation() -> None:
    # 8 schemes of 20 scopes read as any-of: 20**8 scope sets. Refused before they are made.
    with pytest.raises(InputError) as error:
        imported(many_schemes([20] * 8), ImportOptions(semantics="any"))
    message = str(error.value)
    assert message.startswith("spec.json:")
    assert "GET /x" in message
    assert f"more than {MAX_ALTERNATIVES} alternative scope sets" in message
    assert "--catalog-overrides" in message
    # read as all-of (what OpenAPI says), the same document is one alternative of 160 scopes
    cat, _, _ = imported(many_schemes([20] * 8))
    (alt,) = op(cat, "GET", "/x").requires
    assert len(alt) == 160


def test_any_semantics_expansion_up_to_the_bound_is_kept_whole() -> None:
    assert MAX_ALTERNATIVES == 4096 == 64 * 64
    cat, _, _ = imported(many_schemes([64, 64]), ImportOptions(semantics="any"))
    requires = op(cat, "GET", "/x").requires
    assert len(requires) == len(set(requires)) == 64 * 64
    # the product's order: the first list's first scope with each of the second's, ...
    assert requires[:2] == (fs("r0:s0", "r1:s0"), fs("r0:s0", "r1:s1"))
    assert requires[-1] == fs("r0:s63", "r1:s63")
    with pytest.raises(InputError, match="GET /x"):
        imported(many_schemes([64, 65]), ImportOptions(semantics="any"))


def test_any_semantics_counts_distinct_scope_sets_not_combinations() -> None:
    # The same 70 scopes listed by two schemes: 70 x 70 combinations, but only 70 singletons
    # and 70 * 69 / 2 pairs are distinct: 2485 scope sets, under the bound.
    scopes = [f"r:s{j}" for j in range(70)]
    schemes = {name: {"type": "oauth2", "flows": {"clientCredentials": {
        "tokenUrl": "https://a.example/token", "scopes": dict.fromkeys(scopes, "")}}}
        for name in ("one", "two")}
    doc = spec({"/x": {"get": {"security": [{"one": scopes, "two": scopes}]}}},
               components={"securitySchemes": schemes})
    cat, _, _ = imported(doc, ImportOptions(semantics="any"))
    requires = op(cat, "GET", "/x").requires
    assert len(requires) == 70 + 70 * 69 // 2
    assert requires[:3] == (fs("r:s0"), fs("r:s0", "r:s1"), fs("r:s0", "r:s2"))


def test_any_semantics_expansion_refused_on_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = tmp_path / "spec.json"
    document.write_text(json.dumps(many_schemes([20] * 8), indent=2), encoding="utf-8")
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys: []\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "lint", "--keys", str(keys), "--catalog", str(document),
                             "--scope-list-semantics", "any")
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"scopeaudit: error: {document}:")
    assert "GET /x" in line
    assert "internal error" not in line


def test_same_shape_templates_merge_and_literals_stay_apart() -> None:
    doc = spec({
        "/things/{thingId}": {"get": {"operationId": "byId",
                                      "security": [{"oauth": ["a:read"]}]}},
        "/things/{thingNumber}": {"get": {"operationId": "byNumber",
                                          "security": [{"oauth": ["b:read"]}]}},
        "/things/export": {"get": {"operationId": "export",
                                   "security": [{"oauth": ["a:write"]}]}},
        "/things/{id}/": {"delete": {"operationId": "remove",
                                     "security": [{"oauth": ["a:write"]}]}},
    }, **SCHEMES)
    cat, report, diags = imported(doc)
    assert [o.id for o in cat.operations] == ["byId", "export", "remove"]
    merged = op(cat, "GET", "/things/{thingId}")
    assert merged.requires == (fs("a:read"), fs("b:read"))
    assert merged.note == ("same shape as byNumber (GET /things/{thingNumber}): alternatives "
                           "combined")
    assert report.merged == [("byId", "byNumber")]
    assert [w.message for w in diags.warnings] == [
        "GET /things/{thingNumber} has the shape of GET /things/{thingId}; merged into byId "
        "(alternatives combined)"]
    assert routed(cat, "GET", "/things/export") == "export"
    assert routed(cat, "GET", "/things/42") == "byId"
    assert routed(cat, "DELETE", "/things/42") == "remove"
    assert routed(cat, "DELETE", "/things/export") == "remove"  # literal has no DELETE


@pytest.mark.parametrize(("servers", "expected"), [
    (None, ("",)),
    ([], ("",)),
    ([{"url": "https://api.example.com"}], ("",)),
    ([{"url": "https://api.example.com/"}], ("",)),
    ([{"url": "https://api.xero.com/api.xro/2.0"}], ("/api.xro/2.0",)),
    ([{"url": "/api/v3/"}], ("/api/v3",)),
    ([{"url": "v1"}], ("/v1",)),
    ([{"url": "//cdn.example.com/static?x=1"}], ("/static",)),
    ([{"url": "https://a.example/v1"}, {"url": "https://b.example/v1"},
      {"url": "http://localhost:8080"}], ("/v1", "")),
    ([{"url": "https://{region}.example.com/{base}/v2",
       "variables": {"region": {"default": "eu"},
                     "base": {"default": "api", "enum": ["api", "beta"]}}}],
     ("/api/v2", "/beta/v2")),
    ([{"url": "https://{agent_url}", "variables": {"agent_url": {"default": "{your-url}"}}}],
     ("",)),
])
def test_server_paths_become_base_paths(servers: Any, expected: tuple[str, ...]) -> None:
    top = {} if servers is None else {"servers": servers}
    cat, _, diags = imported(spec({"/x": {"get": {}}}, **top))
    assert cat.base_paths == expected
    assert diags.warnings == []


def test_operation_and_path_level_servers_add_base_paths() -> None:
    doc = spec({
        "/a": {"get": {}},
        "/chat": {"post": {"servers": [{"url": "https://inference.example.com/v9"}]}},
        "/b": {"servers": [{"url": "https://other.example.com/svc/"}], "get": {}},
    }, servers=[{"url": "https://api.example.com/v2"}])
    cat, _, _ = imported(doc)
    assert cat.base_paths == ("/v2", "/v9", "/svc")  # document order
    assert routed(cat, "POST", "https://inference.example.com/v9/chat") == "POST /chat"
    assert routed(cat, "GET", "/v2/a") == "GET /a"
    assert routed(cat, "GET", "/svc/b") == "GET /b"
    assert routed(cat, "GET", "/a") is None


def test_server_variable_without_default_in_the_path_is_a_warning() -> None:
    doc = spec({"/x": {"get": {}}}, servers=[{"url": "https://h.example/{tenant}/api"},
                                             {"url": "https://h.example/v1"}])
    cat, _, diags = imported(doc)
    assert cat.base_paths == ("/v1",)
    assert len(diags.warnings) == 1
    assert "has a variable in its path without a default" in diags.warnings[0].message


def test_families_carry_the_base_path_and_stop_at_templates() -> None:
    doc = spec({
        "/Invoices": {"get": {"security": [{"oauth": ["a:read"]}]}},
        "/Invoices/{id}/Attachments": {"get": {"security": [{"oauth": ["b:read"]}]}},
        "/Reports/{name}": {"get": {"security": [{"oauth": ["a:write"]}]}},
        "/{tenant}/things": {"get": {"security": [{"oauth": ["c:read"]}]}},
    }, servers=[{"url": "https://api.example.com/api.xro/2.0"}], **SCHEMES)
    cat, _, _ = imported(doc)
    assert cat.families == (("/api.xro/2.0/Invoices", fs("a:read", "b:read")),
                            ("/api.xro/2.0/Reports", fs("a:write")))
    # an unmatched request under a family: only that family's scopes could be needed
    assert family_of(cat.path_families, "/api.xro/2.0/Invoices/{id}/History") == fs("a:read",
                                                                                "b:read")
    assert family_of(cat.path_families, "/api.xro/2.0/Reports") == fs("a:write")
    # elsewhere (or without the base path): any scope could be
    assert family_of(cat.path_families, "/api.xro/2.0/Other") is None
    assert family_of(cat.path_families, "/Invoices/1") is None


def test_lenient_outside_paths_and_security() -> None:
    doc = spec({"/x": {"get": {"security": [{"oauth": ["a:read"]}],
                               "operationId": 7}}},
               info="not a mapping",
               servers=[{"url": 5}, "nonsense", {"url": "https://h/v1"}],
               components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": "bad"},
                                               "broken": ["x"]},
                           "schemas": {"Bad": {"type": "object", "nullable": "false"}}})
    doc["openapi"] = 3.0
    cat, _, diags = imported(doc, name="lenient.json")
    assert op(cat, "GET", "/x").requires == (fs("a:read"),)
    assert op(cat, "GET", "/x").id == "GET /x"
    assert cat.name == "lenient"
    assert cat.base_paths == ("/v1",)
    messages = [w.message for w in diags.warnings]
    assert messages == [
        'openapi: the version should be a string ("3.0"), not a number',
        "info should be a mapping with title and version, not a string",
        "components.securitySchemes.oauth.flows should be a mapping; skipped",
        "components.securitySchemes.broken: a security scheme should be a mapping; skipped",
        "servers[0] should be a mapping with a url; ignored",
        "servers[1] should be a mapping with a url; ignored",
        "GET /x: operationId should be a non-empty string; ignored",
    ]
    # each warning names the file, and where a line was found, the line
    assert all(w.file == "lenient.json" for w in diags.warnings)


def test_local_path_item_refs_are_followed_external_ones_skipped() -> None:
    doc = spec({
        "/a": {"$ref": "#/components/pathItems/A"},
        "/b": {"$ref": "other.yaml#/B"},
    }, components={"pathItems": {"A": {"get": {"operationId": "getA"}}}})
    cat, _, diags = imported(doc)
    assert [o.id for o in cat.operations] == ["getA"]
    assert "cannot be followed" in diags.warnings[0].message


def test_scope_names_classified_as_reads_and_writes() -> None:
    reads = ["issues:read", "read:jira-work", "read:attachment:jira", "accounting.settings.read",
             "users:read.email", "admin.apps:read", "nfs:list", "droplet:read",
             "https://www.googleapis.com/auth/drive.readonly"]
    writes = ["issues:write", "write:jira-work", "manage:jira-project", "accounting.settings",
              "admin", "database:view_credentials", "chat:write:bot", "domain:create",
              "none", "read-write:things", "read:thing.write"]
    assert [n for n in reads if Scope(n).is_write] == []
    assert [n for n in writes if not Scope(n).is_write] == []


# --- the override file -------------------------------------------------------------------------


OVERRIDE_SPEC = spec({
    "/volumes": {"get": {"operationId": "listVolumes",
                         "security": [{"bearer": ["api:read", "block_storage:read"]}]},
                 "post": {"security": [{"bearer": ["api:write", "block_storage:create"]}]}},
    "/snapshots": {"get": {"security": [{"bearer": ["snapshot:read", "storage:read"]}]}},
    "/api.test": {"get": {"security": [{"bearer": ["none"]}]}},
    "/issue": {"get": {"security": [{"bearer": ["x:read"]}, {}]}},
}, components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})


def write_overrides(tmp_path: Path, text: str, name: str = "overrides.yaml") -> Overrides:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return load_overrides(str(path))


def test_overrides_by_operation_id_and_method_path(tmp_path: Path) -> None:
    overrides = write_overrides(tmp_path, """\
        operations:
          listVolumes: {semantics: any}
          post /volumes:
            scopes: [[block_storage:create], [api:write, extra:scope]]
          "GET /nowhere": {scopes: [[]]}
        pseudo_scopes: [none]
        """)
    cat, report, diags = imported(OVERRIDE_SPEC, ImportOptions(overrides=overrides))
    assert op(cat, "GET", "/volumes").requires == (fs("api:read"), fs("block_storage:read"))
    assert op(cat, "GET", "/volumes").note == "scope lists read as any-of (override file)"
    assert op(cat, "POST", "/volumes").requires == (fs("block_storage:create"),
                                                    fs("api:write", "extra:scope"))
    assert op(cat, "POST", "/volumes").note == "scopes from the override file"
    # untouched operations keep the document's (all-of) reading
    assert op(cat, "GET", "/snapshots").requires == (fs("snapshot:read", "storage:read"),)
    # a pseudo-scope means "no scope": it is neither required nor a catalog scope
    assert op(cat, "GET", "/api.test").requires == (EMPTY,)
    assert "none" not in cat.scope_names
    assert "extra:scope" in cat.scope_names
    assert report.overridden == 2
    assert [w.message for w in diags.warnings] == [
        "override for 'GET /nowhere' names no operation of the document"]


def test_semantics_from_the_file_and_the_option_wins(tmp_path: Path) -> None:
    overrides = write_overrides(tmp_path, "semantics: any\n")
    cat, report, _ = imported(OVERRIDE_SPEC, ImportOptions(overrides=overrides))
    assert report.semantics == "any"
    assert op(cat, "GET", "/snapshots").requires == (fs("snapshot:read"), fs("storage:read"))
    cat, report, _ = imported(OVERRIDE_SPEC, ImportOptions(semantics="all",
                                                           overrides=overrides))
    assert report.semantics == "all"
    assert op(cat, "GET", "/snapshots").requires == (fs("snapshot:read", "storage:read"),)


def test_override_base_paths_and_ignore_anonymous(tmp_path: Path) -> None:
    overrides = write_overrides(tmp_path, '{"base_paths": ["/gw/", ""], '
                                '"ignore_anonymous": true}', name="o.json")
    cat, report, _ = imported(OVERRIDE_SPEC, ImportOptions(overrides=overrides))
    assert cat.base_paths == ("/gw", "")
    assert op(cat, "GET", "/issue").requires == (fs("x:read"),)
    assert report.anonymous == 1
    assert routed(cat, "GET", "/gw/issue") == routed(cat, "GET", "/issue") == "GET /issue"


@pytest.mark.parametrize(("text", "words"), [
    ("- a\n- b\n", "must be a mapping"),
    ("semantics: some\n", "semantics must be 'all' or 'any'"),
    ("operations:\n  x: {scopes: [a]}\n", "x: scopes must be a non-empty list"),
    ("operations:\n  x: {scopes: []}\n", "x: scopes must be a non-empty list"),
    ("operations:\n  x: {scopes: [[a]], semantics: any}\n", "not both"),
    ("operations:\n  x: {scope: [[a]]}\n", "an override is a mapping"),
    ("operations:\n  GET /a: {scopes: [[a]]}\n  get /a: {scopes: [[b]]}\n", "given twice"),
    ("pseudo_scopes: none\n", "pseudo_scopes must be a list"),
    ("base_paths: []\n", "base_paths must be a non-empty list"),
    ("ignore_anonymous: maybe\n", "ignore_anonymous must be true or false"),
    ("opertions: {}\n", "unknown override field(s): opertions"),
    ("operations: [unclosed\n", "invalid YAML"),
])
def test_broken_override_file_is_an_input_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_overrides(str(path))
    assert words in exc.value.message
    assert exc.value.file == str(path)


# --- broken documents through the CLI -----------------------------------------------------------


BROKEN_DOCS: list[tuple[str, str, int | None, str]] = [
    # name, content, the line the error must name (None: no line), words
    ("syntax.yaml", "openapi: 3.0.0\ninfo: {title: x\npaths: {}\n", 3, "invalid YAML"),
    ("syntax.json", '{"openapi": "3.0.0",\n "paths": {,}}\n', 2, "invalid JSON"),
    ("no-paths.yaml", "openapi: 3.0.0\ninfo: {title: x, version: '1'}\n", None,
     "without paths"),
    ("paths-list.yaml", "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  - /a\n", 3,
     "paths must be a mapping"),
    ("version.yaml", "openapi: 2.5.0\npaths: {}\n", 1, "unsupported version"),
    ("swagger-version.json", '{"swagger": "1.2",\n "paths": {}}', 1, "unsupported version"),
    ("security-not-list.yaml", dedent("""\
        openapi: 3.0.0
        info: {title: x, version: '1'}
        paths:
          /a:
            get:
              summary: ok
              security:
                oauth: [a:read]
        """), 7, "GET /a: security must be a list"),
    ("security-entry-string.yaml", dedent("""\
        openapi: 3.0.0
        info: {title: x, version: '1'}
        security:
          - oauth: [a:read]
        paths:
          /a:
            get: {}
          /b:
            post:
              security:
                - oauth
        """), 10, "POST /b: security[0] must be a mapping"),
    ("scopes-not-list.yaml", dedent("""\
        openapi: 3.0.0
        info: {title: x, version: '1'}
        paths:
          /a:
            get:
              security:
                - oauth: a:read
        """), 6, "security[0].oauth must be a list of scope names"),
    ("top-security.yaml", dedent("""\
        openapi: 3.0.0
        info: {title: x, version: '1'}
        security: oauth
        paths: {}
        """), 3, "security must be a list"),
    ("operation-string.json", json.dumps(
        {"openapi": "3.1.0", "paths": {"/a": {"get": "nope"}}}, indent=1), 5,
     "GET /a: an operation must be a mapping"),
    ("path-item-list.json", json.dumps(
        {"openapi": "3.1.0", "paths": {"/a": ["get"]}}, indent=1), 4,
     "/a: a path item must be a mapping"),
    ("atlassian.json", json.dumps(
        {"openapi": "3.0.1", "paths": {"/a": {"get": {
            "x-atlassian-oauth2-scopes": [{"scopes": "read:x"}]}}}}, indent=1), 6,
     "x-atlassian-oauth2-scopes[0] must be a mapping with a list"),
]


@pytest.mark.parametrize(("name", "content", "line", "words"), BROKEN_DOCS,
                         ids=[b[0] for b in BROKEN_DOCS])
def test_broken_document_is_exit_2_with_file_and_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str,
        line: int | None, words: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError):
        load_catalog_file(str(path))
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(path))
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 1, err
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert lines[0].startswith(f"scopeaudit: error: {where}"), (lines[0], where)
    assert words in lines[0]


def test_warnings_name_the_line_of_what_they_are_about(tmp_path: Path) -> None:
    path = tmp_path / "lines.yaml"
    path.write_text(dedent("""\
        openapi: "3.0.0"
        info: {title: Lines, version: "1"}
        servers:
          - url: 7
        paths:
          /things/{a}:
            get:
              operationId: first
          /other:
            get: {}
          '/things/{b}':
            get:
              operationId: second
        """), encoding="utf-8")
    diags = Diagnostics()
    catalog = load_catalog_file(str(path), diagnostics=diags)
    assert [o.id for o in catalog.operations] == ["first", "GET /other"]
    assert [(w.file, w.line) for w in diags.warnings] == [(str(path), 3), (str(path), 12)]
    assert diags.warnings[1].message.startswith("GET /things/{b} has the shape of")


def test_json_top_level_security_error_names_its_line(tmp_path: Path) -> None:
    doc = {"openapi": "3.0.0", "paths": {"/a": {"get": {"security": [{"o": ["x"]}]}}},
           "security": "oops"}
    path = tmp_path / "top.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    # lines: 1 {, 2 openapi, 3 paths, 4 /a, 5 get, 6 security (operation), ...
    with pytest.raises(InputError) as exc:
        load_catalog_file(str(path))
    text = path.read_text(encoding="utf-8").splitlines()
    assert exc.value.line is not None
    assert text[exc.value.line - 1] == '  "security": "oops"'


def test_semantics_and_overrides_need_an_openapi_catalog(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "catalog", "--scope-list-semantics", "any")
    assert (code, out) == (2, "")
    assert "apply to an OpenAPI document given with --catalog" in err
    own = tmp_path / "own.json"
    code, out, _ = run_cli(capsys, "catalog", "--format", "json")
    own.write_text(out, encoding="utf-8")
    overrides = tmp_path / "o.yaml"
    overrides.write_text("semantics: any\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(own), "--catalog-overrides",
                             str(overrides))
    assert (code, out) == (2, "")
    assert "--catalog-overrides applies to OpenAPI documents only" in err
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(own),
                             "--scope-list-semantics", "any")
    assert code == 0
    assert err == (f"scopeaudit: warning: {own}: --scope-list-semantics applies to OpenAPI "
                   "documents only; ignored for a scopeaudit catalog\n")
    keys = tmp_path / "k.yaml"
    keys.write_text("keys:\n  - {id: k, scopes: [issues:read]}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "lint", "--keys", str(keys), "--catalog-overrides",
                             str(overrides))
    assert (code, out) == (2, "")
    assert "apply to an OpenAPI document given with --catalog" in err


# --- export and the summary ---------------------------------------------------------------------


def test_catalog_export_round_trips(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = spec({
        "/Invoices": {"get": {"operationId": "list", "security": [{"oauth": ["a:read"]}, {}]}},
        "/Invoices/{a}": {"get": {"security": [{"oauth": ["a:read", "b:read"]}]}},
        "/Invoices/{b}": {"get": {"security": [{"oauth": ["a:write"]}]}},
        "/none": {"get": {"security": [{"oauth": ["none"]}]}},
    }, servers=[{"url": "https://x/api.xro/2.0"}, {"url": "https://y/"}], **SCHEMES)
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    first = load_catalog_file(str(source))
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(source), "--format",
                             "catalog")
    assert code == 0
    assert err.count("warning") == 2  # the merge, and 'none'
    assert out.startswith("format: scopeaudit/catalog/v1\n")
    exported = tmp_path / "catalog.yaml"
    exported.write_text(out, encoding="utf-8")
    again = load_catalog_file(str(exported))
    assert dataclasses.replace(again, source=first.source) == first
    assert again.families == first.families != ()
    assert again.base_paths == ("/api.xro/2.0", "")
    # the JSON form round-trips too, families included
    as_json = tmp_path / "catalog.json"
    as_json.write_text(json.dumps(catalog_document(first)), encoding="utf-8")
    assert dataclasses.replace(load_catalog_file(str(as_json)), source=first.source) == first


def test_builtin_catalog_as_yaml_round_trips(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    from scopeaudit.catalog import load_builtin

    code, out, err = run_cli(capsys, "catalog", "--format", "catalog")
    assert (code, err) == (0, "")
    saved = tmp_path / "inspac.yaml"
    saved.write_text(out, encoding="utf-8")
    assert dataclasses.replace(load_catalog_file(str(saved)), source="built-in") == \
        load_builtin()


def test_catalog_table_shows_what_was_read(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    doc = spec({
        "/a": {"get": {"security": [{"oauth": ["a:read"]}, {"oauth": ["b:read", "a:write"]}]},
               "post": {"security": [{"basic": []}]}},
        "/b": {"get": {"security": [{}]}, "put": {"security": []}},
        "/c/{x}": {"get": {"security": [{"oauth": ["a:read"]}]}},
        "/c/{y}": {"get": {"security": [{"oauth": ["b:read"]}]}},
    }, servers=[{"url": "/v1"}], **SCHEMES)
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(source))
    assert code == 0
    assert err.startswith(f"scopeaudit: warning: {source}:1: GET /c/{{y}} has the shape")
    summary = out[out.index("what was read:"):].splitlines()
    assert summary == [
        "what was read:",
        "  document: OpenAPI 3.0.3, 6 operations; scope lists read as all-of",
        "  operations: 5 (1 same-shape templates merged into others); 2 need a scope, "
        "3 can be called without one",
        "  without a scope: 1 allow anonymous access ({}), 1 have no security, "
        "1 only schemes without scopes, 0 a scoped scheme with no scope",
        "  alternatives: 7 in all; 2 operations have more than one (OR); 1 need several "
        "scopes (AND)",
        "  scopes: 3 (3 declared, 3 required by an operation, 0 never required)",
        "  base paths: /v1",
        "  path families for unmatched requests: 3",  # /v1/a, /v1/b, /v1/c
        "  warnings: 1",
    ]


# --- the real specs ------------------------------------------------------------------------------


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(f"real OpenAPI spec {path} is not present (see "
                    "/work/shared/realdata/openapi/README.md)")
    return path


@pytest.fixture(scope="module")
def raw() -> dict[str, Document]:
    """Each real spec parsed once (json / ruamel safe YAML), shared by the independent counts
    and the importer."""
    return {}


def document(raw: dict[str, Document], name: str) -> Document:
    """The spec parsed with plain json / ruamel safe YAML (not the program's reader)."""
    if name not in raw:
        path = realdata(name)
        text = path.read_text(encoding="utf-8")
        if name.endswith(".json"):
            raw[name] = Document(str(path), text, json.loads(text), True)
        else:
            from ruamel.yaml import YAML

            raw[name] = Document(str(path), text, YAML(typ="safe").load(text), False)
    return raw[name]


@pytest.fixture(scope="module")
def catalogs() -> dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]:
    return {}


def real(raw: dict[str, Document],
         catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]],
         name: str, semantics: str = "all") -> tuple[Catalog, ImportReport, list[str]]:
    if (name, semantics) not in catalogs:
        diags = Diagnostics()
        result = import_openapi(document(raw, name),
                                ImportOptions(semantics="any" if semantics == "any" else "all"),
                                diags)
        catalogs[name, semantics] = (result.catalog, result.report,
                                     [str(w) for w in diags.warnings])
    return catalogs[name, semantics]


# Independent counting: plain loops over the parsed documents.

def raw_ops(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, o) for p, item in doc["paths"].items() for m, o in item.items()
            if m in METHODS]


def effective_security(doc: dict[str, Any], o: dict[str, Any]) -> list[dict[str, list[str]]]:
    if "security" in o:
        sec: list[dict[str, list[str]]] = o["security"]
        return sec
    top: list[dict[str, list[str]]] = doc.get("security") or []
    return top


def declared_scopes(doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    if "securityDefinitions" in doc:
        for scheme in doc["securityDefinitions"].values():
            out |= set(scheme.get("scopes") or {})
    for scheme in doc.get("components", {}).get("securitySchemes", {}).values():
        for flow in (scheme.get("flows") or {}).values():
            out |= set(flow.get("scopes") or {})
    return out


def readme_counts(doc: dict[str, Any]) -> dict[str, int]:
    """The columns of the real specs' README table, counted as its "Counts" section says."""
    ops = raw_ops(doc)
    used: set[str] = set()
    for _, _, o in ops:
        for req in o.get("security") or []:
            for scopes in req.values():
                used |= set(scopes)
    return {
        "ops": len(ops),
        "ops_with_scope": sum(1 for _, _, o in ops
                              if any(s for req in o.get("security") or [] for s in req.values())),
        "scopes_used": len(used),
        "declared": len(declared_scopes(doc)),
        "or": sum(1 for _, _, o in ops if len(o.get("security") or []) > 1),
        "and": sum(1 for _, _, o in ops for req in o.get("security") or []
                   if sum(len(s) for s in req.values()) > 1),
        "no_security": sum(1 for _, _, o in ops if "security" not in o),
    }


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def concrete(path: str) -> str:
    """A request path for a template: every parameter becomes a value no literal has."""
    return re.sub(r"\{[^}]*\}", "v4lue", path)


@pytest.mark.parametrize(("name", "expected"), [
    (DIGITALOCEAN, {"ops": 659, "ops_with_scope": 641, "scopes_used": 142, "declared": 0,
                    "or": 2, "and": 27, "no_security": 0}),
    (JIRA, {"ops": 468, "ops_with_scope": 433, "scopes_used": 6, "declared": 183, "or": 445,
            "and": 8, "no_security": 10}),
    (XERO, {"ops": 235, "ops_with_scope": 235, "scopes_used": 13, "declared": 16, "or": 0,
            "and": 109, "no_security": 0}),
    (PETSTORE, {"ops": 19, "ops_with_scope": 8, "scopes_used": 2, "declared": 2, "or": 1,
                "and": 8, "no_security": 10}),
    (SLACK, {"ops": 174, "ops_with_scope": 174, "scopes_used": 61, "declared": 67, "or": 0,
             "and": 25, "no_security": 0}),
])
def test_readme_counts_reproduced_independently(raw: dict[str, Document], name: str,
                                                expected: dict[str, int]) -> None:
    assert readme_counts(document(raw, name).data) == expected


@pytest.mark.parametrize("name", [DIGITALOCEAN, JIRA, XERO, PETSTORE, SLACK])
def test_every_operation_imported_and_reachable(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]],
        name: str) -> None:
    doc = document(raw, name).data
    cat, report, _ = real(raw, catalogs, name)
    ops = raw_ops(doc)
    assert report.document_operations == len(ops)
    # one catalog operation per method and path shape
    shapes = {(m, shape(p)) for m, p, _ in ops}
    assert len(cat.operations) == len(shapes)
    assert len({o.id for o in cat.operations}) == len(cat.operations)
    ids = Counter(o.get("operationId") for _, _, o in ops)
    by_route = {(o.method, shape(o.path)): o for o in cat.operations}
    base = cat.base_paths[0]
    for method, path, o in ops:
        target = by_route[method, shape(path)]
        if target.path == path:
            expected_id = o["operationId"] if ids[o.get("operationId")] == 1 and \
                o.get("operationId") else f"{method} {path}"
            assert target.id == expected_id
        if method == "OPTIONS":
            continue  # a preflight is never matched to an operation
        assert routed(cat, method, base + concrete(path)) == target.id, (method, path)
    assert all(o.provenance.value == "documented" for o in cat.operations)


@pytest.mark.parametrize(("name", "scopes", "declared", "used", "base_paths"), [
    (DIGITALOCEAN, 142, 0, 142, ("",)),
    (JIRA, 184, 183, 179, ("",)),
    (XERO, 16, 16, 13, ("/api.xro/2.0",)),
    (PETSTORE, 2, 2, 2, ("/api/v3",)),
    (SLACK, 67, 67, 61, ("/api",)),
])
def test_scope_counts_and_base_paths(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]],
        name: str, scopes: int, declared: int, used: int, base_paths: tuple[str, ...]) -> None:
    doc = document(raw, name).data
    cat, report, _ = real(raw, catalogs, name)
    # independently: declared scopes, and scopes named by security or the Atlassian extension
    named: set[str] = set()
    for _, _, o in raw_ops(doc):
        for req in effective_security(doc, o):
            for s in req.values():
                named |= set(s)
        for entry in o.get("x-atlassian-oauth2-scopes", []):
            named |= set(entry["scopes"])
    assert (len(declared_scopes(doc)), len(named), len(declared_scopes(doc) | named)) == \
        (declared, used, scopes)
    assert set(cat.scope_names) == declared_scopes(doc) | named
    assert (len(cat.scopes), report.declared_scopes, report.used_scopes) == (scopes, declared,
                                                                             used)
    assert cat.base_paths == base_paths


def test_petstore_or_and(raw: dict[str, Document],
                         catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport,
                                                               list[str]]]) -> None:
    cat, report, warnings = real(raw, catalogs, PETSTORE)
    assert warnings == []
    both = fs("read:pets", "write:pets")
    # the document's one OR: an API key (no scopes) or petstore_auth with both scopes (AND)
    pet = op(cat, "GET", "/pet/{petId}")
    assert pet.requires == (both,)
    assert pet.note == "also callable with api_key (no scopes; left out)"
    assert [o.id for o in cat.operations if o.requires == (both,)] == [
        "updatePet", "addPet", "findPetsByStatus", "findPetsByTags", "getPetById",
        "updatePetWithForm", "deletePet", "uploadFile"]
    assert op(cat, "GET", "/store/inventory").requires == (EMPTY,)
    assert (report.no_security, report.other_credentials_only, report.anonymous) == (10, 1, 0)
    assert cat.scope("read:pets") == Scope("read:pets", "read your pets")
    # literal segments beat templates
    assert routed(cat, "GET", "/api/v3/pet/findByStatus?status=sold") == "findPetsByStatus"
    assert routed(cat, "GET", "/api/v3/pet/10") == "getPetById"
    assert routed(cat, "GET", "https://petstore3.swagger.io/api/v3/user/login") == "loginUser"
    assert routed(cat, "GET", "/api/v3/user/alice") == "getUserByName"
    assert routed(cat, "GET", "/pet/10") is None


def test_jira_anonymous_extension_and_attachment(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]) -> None:
    doc = document(raw, JIRA).data
    cat, report, warnings = real(raw, catalogs, JIRA)
    assert warnings == []
    ops = raw_ops(doc)
    with_empty = {(m, p) for m, p, o in ops if {} in (o.get("security") or [])}
    assert len(with_empty) == 222
    assert report.anonymous == 222
    assert report.atlassian == sum(1 for _, _, o in ops if "x-atlassian-oauth2-scopes" in o) \
        == 432
    by_route = {(o.method, o.path): o for o in cat.operations}
    for route in with_empty:
        assert EMPTY in by_route[route].requires, route
        assert "anonymous access allowed" in by_route[route].note
    # Independently: which operations need no scope at all. {} (anonymous), no security,
    # an OAuth2 requirement with an empty list (any OAuth token), or only basic auth
    # (another credential) with no extension.
    def free(o: dict[str, Any]) -> bool:
        sec = o.get("security")
        if not sec:
            return True
        if {} in sec or {"OAuth2": []} in sec:
            return True
        return all(set(req) == {"basicAuth"} for req in sec) and \
            "x-atlassian-oauth2-scopes" not in o
    expected_free = {(m, p) for m, p, o in ops if free(o)}
    assert len(expected_free) == 222 + 10 + 4 + 13
    assert {r for r, o in by_route.items() if EMPTY in o.requires} == expected_free
    # every classic OAuth2 list and every extension entry is one alternative
    for method, path, o in ops:
        requires = set(by_route[method, path].requires)
        for req in o.get("security") or []:
            if "OAuth2" in req:
                assert frozenset(req["OAuth2"]) in requires
        for entry in o.get("x-atlassian-oauth2-scopes", []):
            assert frozenset(entry["scopes"]) in requires
    attachment = op(cat, "GET", "/rest/api/3/attachment/{id}")
    assert attachment.id == "getAttachment"
    assert alts(attachment) == {
        fs("read:jira-work"),
        fs("read:attachment:jira", "read:user:jira", "read:application-role:jira",
           "read:avatar:jira", "read:group:jira"),
        EMPTY,  # the document's {}: anonymous access is allowed
    }
    assert alts(op(cat, "GET", "/rest/api/3/webhook")) == {
        fs("read:jira-work", "manage:jira-webhook"), fs("read:webhook:jira", "read:jql:jira")}
    assert routed(cat, "GET", "/rest/api/3/issue/createmeta") == "getCreateIssueMeta"
    assert routed(cat, "GET", "/rest/api/3/issue/PROJ-1") == "getIssue"
    assert op(cat, "GET", "/rest/api/3/issue/{issueIdOrKey}").note == (
        "anonymous access allowed ({} in security); also callable with basicAuth (no scopes; "
        "left out)")


def test_digitalocean_or_and_servers_and_literals(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]) -> None:
    doc = document(raw, DIGITALOCEAN).data
    cat, report, warnings = real(raw, catalogs, DIGITALOCEAN)
    assert warnings == []
    assert op(cat, "POST", "/v2/domains/{domain_name}/records").requires == (
        fs("domain:create"), fs("domain:update"))
    assert op(cat, "DELETE", "/v2/domains/{domain_name}/records/{domain_record_id}"
              ).requires == (fs("domain:delete"), fs("domain:update"))
    assert op(cat, "DELETE", "/v2/droplets/{droplet_id}/destroy_with_associated_resources/"
              "dangerous").requires == (fs("droplet:delete", "block_storage:delete",
                                           "block_storage_snapshot:delete", "image:delete",
                                           "reserved_ip:delete"),)
    # with all-of lists, the catalog's ORs and ANDs are the document's
    assert [o.id for o in cat.operations if len(o.requires) > 1] == [
        "domains_create_record", "domains_delete_record"]
    assert sum(1 for o in cat.operations for a in o.requires if len(a) > 1) == 27
    # security: [] on the bogus upload path; 14 inference operations with a scheme that has
    # no scopes; 3 bearer_auth: [] (any token)
    assert op(cat, "PUT", "/<upload_url>").requires == (EMPTY,)
    assert (report.no_security, report.other_credentials_only,
            report.authenticated_without_scope) == (1, 14, 3)
    # 15 operations with their own servers: hosts only, so no base path beyond ""
    op_servers = [(m, p) for m, p, o in raw_ops(doc) if "servers" in o]
    assert len(op_servers) == 15
    assert routed(cat, "POST", "https://inference.do-ai.run/v1/chat/completions") == \
        next(o.id for o in cat.operations if o.path == "/v1/chat/completions")
    # literal segments shadowed by templates: paths differing in one segment, a literal in
    # one and a template in the other; the README's 17 pairs are those sharing a method
    paths = doc["paths"]
    pairs = set()
    for p in paths:
        for q in paths:
            ps, qs = p.split("/"), q.split("/")
            if len(ps) != len(qs):
                continue
            diff = [i for i, (a, b) in enumerate(zip(ps, qs, strict=True)) if a != b]
            if len(diff) == 1 and "{" not in ps[diff[0]] and re.fullmatch(r"\{[^}]*\}",
                                                                          qs[diff[0]]):
                pairs.add((p, q))
    assert ("/v2/apps/regions", "/v2/apps/{id}") in pairs
    shadowed = [(m, p, q) for p, q in pairs for m in set(paths[p]) & set(paths[q])
                if m in METHODS]
    assert len(shadowed) == 17
    for literal, template in pairs:
        for method in ("get", "post", "put", "patch", "delete"):
            if method in paths[literal]:
                expected = op(cat, method.upper(), literal).id
            elif method in paths[template]:
                expected = op(cat, method.upper(), template).id  # falls back to the template
            else:
                continue
            assert routed(cat, method.upper(), concrete(literal)) == expected, (method, literal)
    assert routed(cat, "GET", "/v2/apps/regions") == "apps_list_regions"
    assert routed(cat, "GET", "/v2/apps/4f6c71e2") == "apps_get"


def test_xero_any_semantics_merges_and_base_path(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]) -> None:
    doc = document(raw, XERO).data
    cat, report, warnings = real(raw, catalogs, XERO, "any")
    cat_all, _, _ = real(raw, catalogs, XERO, "all")
    ops = raw_ops(doc)
    groups: dict[tuple[str, str], list[str]] = {}
    for m, p, _ in ops:
        groups.setdefault((m, shape(p)), []).append(p)
    collisions = [g for g in groups.values() if len(g) > 1]
    assert len(collisions) == 14 and all(len(g) == 2 for g in collisions)
    assert len(cat.operations) == 235 - 14
    assert len(report.merged) == 14
    assert len(warnings) == 14
    assert op(cat, "GET", "/Accounts").requires == (fs("accounting.settings"),
                                                   fs("accounting.settings.read"))
    assert op(cat_all, "GET", "/Accounts").requires == (
        fs("accounting.settings", "accounting.settings.read"),)
    # any-of: every two-scope list became two alternatives, none needs two scopes
    assert sum(1 for o in cat.operations for a in o.requires if len(a) > 1) == 0
    two = {(m, shape(p)) for m, p, o in ops if len(o["security"][0]["OAuth2"]) == 2}
    # 109 two-scope lists; 13 of the 14 collisions pair two of them (Journals lists one)
    assert sum(1 for o in cat.operations if len(o.requires) == 2) == len(two) == 109 - 13
    merged = op(cat, "GET", "/Accounts/{AccountID}/Attachments/{AttachmentID}")
    assert merged.id == "getAccountAttachmentById"
    assert "getAccountAttachmentByFileName" in merged.note
    assert routed(cat, "GET", "/api.xro/2.0/Accounts/297c2dc5-cc47-4afd-8ec8-74990b8761e9/"
                  "Attachments/receipt.pdf") == "getAccountAttachmentById"
    assert routed(cat, "GET", "https://api.xero.com/api.xro/2.0/Invoices?page=2") == \
        "getInvoices"
    assert routed(cat, "GET", "/Invoices") is None
    never = set(cat.scope_names) - {s for o in cat.operations for s in o.scopes}
    assert never == {"email", "openid", "profile"}
    # the Invoices family, by hand from the spec: transactions (read-write and read-only)
    # and attachments (both) on the /Invoices/... paths
    assert dict(cat.families)["/api.xro/2.0/Invoices"] == fs(
        "accounting.transactions", "accounting.transactions.read", "accounting.attachments",
        "accounting.attachments.read")


def test_slack_swagger_any_of_and_pseudo_scope(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]],
        tmp_path: Path) -> None:
    doc = document(raw, SLACK)
    cat, report, warnings = real(raw, catalogs, SLACK, "any")
    assert report.kind == "Swagger 2.0"
    assert alts(op(cat, "POST", "/chat.postMessage")) == {fs("chat:write:user"),
                                                           fs("chat:write:bot")}
    assert alts(op(cat, "POST", "/conversations.create")) == {
        fs("channels:write"), fs("groups:write"), fs("im:write"), fs("mpim:write")}
    assert routed(cat, "POST", "https://slack.com/api/chat.postMessage") == "chat_postMessage"
    assert len(warnings) == 1 and "scope 'none'" in warnings[0]
    # with 'none' as a pseudo-scope, the 20 operations that name it need no scope
    (tmp_path / "o.yaml").write_text("pseudo_scopes: [none]\n", encoding="utf-8")
    overrides = load_overrides(str(tmp_path / "o.yaml"))
    diags = Diagnostics()
    result = import_openapi(doc, ImportOptions(semantics="any", overrides=overrides), diags)
    none_ops = [(m, p) for m, p, o in raw_ops(doc.data)
                if o["security"] == [{"slackAuth": ["none"]}]]
    assert len(none_ops) == 20
    assert sorted((o.method, o.path) for o in result.catalog.operations
                  if o.requires == (EMPTY,)) == sorted(none_ops)
    assert len(result.catalog.scopes) == 66 and "none" not in result.catalog.scope_names
    assert diags.warnings == []


@pytest.mark.parametrize(("name", "extra"), [
    (PETSTORE, ()), (JIRA, ()), (SLACK, ("--scope-list-semantics", "any")),
])
def test_real_spec_export_round_trips(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      name: str, extra: tuple[str, ...]) -> None:
    source = str(realdata(name))
    code, out, _ = run_cli(capsys, "catalog", "--catalog", source, "--format", "catalog",
                           *extra)
    assert code == 0
    exported = tmp_path / "catalog.yaml"
    exported.write_text(out, encoding="utf-8")
    loaded = read_catalog_file(source, ImportOptions(semantics="any" if extra else "all"))
    again = load_catalog_file(str(exported))
    assert dataclasses.replace(again, source=source) == loaded.catalog


def test_real_spec_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "catalog", "--catalog", str(realdata(JIRA)))
    assert (code, err) == (0, "")
    summary = out[out.index("what was read:"):].splitlines()
    assert summary[1] == "  document: OpenAPI 3.0.1, 468 operations; scope lists read as all-of"
    assert summary[2] == "  operations: 468; 219 need a scope, 249 can be called without one"
    assert summary[3] == ("  without a scope: 222 allow anonymous access ({}), 10 have no "
                          "security, 13 only schemes without scopes, 4 a scoped scheme with "
                          "no scope")
    assert summary[5] == "  x-atlassian-oauth2-scopes: on 432 operations (its entries are " \
        "added as alternatives)"
    assert summary[6] == ("  scopes: 184 (183 declared, 179 required by an operation, 5 never "
                          "required)")


# --- audits on generated logs ------------------------------------------------------------------


UNTIL = date(2026, 11, 26)
SINCE = UNTIL - timedelta(days=89)


def stamp(n: int) -> str:
    d = SINCE + timedelta(days=n)
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def log_lines(key: str, method: str, path: str, status: int = 200,
              days: range = range(90)) -> list[str]:
    return [json.dumps({"ts": stamp(n), "key_id": key, "method": method, "path": path,
                        "status": status}) for n in days]


def keys_yaml(keys: dict[str, list[str]]) -> str:
    return "keys:\n" + "".join(
        f"  - {{id: {k}, owner: o@example.com, created: 2026-01-01, expires: 2027-12-31, "
        f"scopes: [{', '.join(v)}]}}\n" for k, v in keys.items())


def cli_audit(capsys: pytest.CaptureFixture[str], tmp_path: Path, spec_path: Path,
              keys: dict[str, list[str]], lines: list[str], *extra: str) -> dict[str, Any]:
    keys_file = tmp_path / "keys.yaml"
    keys_file.write_text(keys_yaml(keys), encoding="utf-8")
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "audit", "--catalog", str(spec_path), "--keys",
                             str(keys_file), "--logs", str(logs), "--format", "json",
                             "--no-timestamp", "--fail-on", "never", "--as-of", "2026-11-27",
                             "--jobs", "1", *extra)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def key_report(report: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(k for k in report["keys"] if k["id"] == key)
    return found


def test_jira_audit_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    app = ["read:jira-work", "manage:jira-webhook", "read:webhook:jira", "read:jql:jira",
           "write:webhook:jira", "read:field:jira", "read:project:jira", "read:jira-user",
           "write:jira-work"]
    granular = ["read:application-role:jira", "read:group:jira", "read:user:jira",
                "read:avatar:jira", "read:jira-user", "delete:webhook:jira"]
    keys = {"jira_app": app, "jira_granular": granular, "jira_idle": ["read:jira-work"]}
    lines = [
        # {read:jira-work, manage:jira-webhook} (a write) or {read:webhook, read:jql} (reads)
        *log_lines("jira_app", "GET", "/rest/api/3/webhook"),
        # {read:jira-work, manage:jira-webhook}: 1 write, 2 scopes, or {read:field,
        # read:project, write:webhook}: 1 write, 3 scopes -> the classic pair
        *log_lines("jira_app", "POST", "/rest/api/3/webhook"),
        # {read:jira-user} or four granular reads the key does not all hold
        *log_lines("jira_app", "GET", "/rest/api/3/myself"),
        # createIssue allows anonymous access ({}): no scope needed
        *log_lines("jira_app", "POST", "/rest/api/3/issue"),
        # {read:jira-user} (1 scope) or the four granular reads (4 scopes): both held
        *log_lines("jira_granular", "GET", "/rest/api/3/myself"),
        # no such operation: logged as /rest/api/{id}/webhook ("3" looks like an id), its
        # family judged on the real path: /rest/api/3/webhook, whose operations name
        # read:group:jira and delete:webhook:jira of the key's scopes (not the other three)
        *log_lines("jira_granular", "PATCH", "/rest/api/3/webhook", days=range(3)),
    ]
    report = cli_audit(capsys, tmp_path, realdata(JIRA), keys, lines)
    a = key_report(report, "jira_app")
    used = {"read:webhook:jira", "read:jql:jira", "read:jira-work", "manage:jira-webhook",
            "read:jira-user"}
    assert a["scopes"] == {s: ("used" if s in used else "unused") for s in app}
    assert a["recommended"] == sorted(used)
    assert a["remove"] == sorted(set(app) - used)
    g = key_report(report, "jira_granular")
    webhook_family = {"read:group:jira", "delete:webhook:jira"}
    assert g["scopes"] == {s: ("used" if s == "read:jira-user" else
                               "unknown" if s in webhook_family else "unused")
                           for s in granular}
    assert g["recommended"] == sorted(webhook_family | {"read:jira-user"})
    assert g["remove"] == sorted(set(granular) - webhook_family - {"read:jira-user"})
    idle = key_report(report, "jira_idle")
    assert (idle["scopes"], idle["recommended"], idle["remove"]) == (
        {"read:jira-work": "unused"}, [], ["read:jira-work"])
    assert report["replay"]["would_be_denied"] == 0
    assert report["replay"]["requests"] == 5 * 90

    # ignore_anonymous: createIssue then needs write:jira-work (1 write) or five granular
    # scopes (4 writes), and the key holds write:jira-work
    overrides = tmp_path / "jira-overrides.yaml"
    overrides.write_text("ignore_anonymous: true\n", encoding="utf-8")
    report = cli_audit(capsys, tmp_path, realdata(JIRA), keys, lines,
                       "--catalog-overrides", str(overrides))
    a = key_report(report, "jira_app")
    assert a["recommended"] == sorted(used | {"write:jira-work"})
    assert a["remove"] == sorted(set(app) - used - {"write:jira-work"})
    assert report["replay"]["would_be_denied"] == 0


@pytest.mark.slow
def test_xero_audit_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reports = ["accounting.settings", "accounting.settings.read", "accounting.transactions",
               "accounting.transactions.read", "accounting.reports.read",
               "accounting.contacts", "email"]
    sync = ["accounting.transactions", "accounting.contacts.read", "accounting.attachments",
            "accounting.journals.read"]
    keys = {"xero_reports": reports, "xero_sync": sync,
            "xero_idle": ["accounting.settings.read"]}
    uuid = "297c2dc5-cc47-4afd-8ec8-74990b8761e9"
    base = "/api.xro/2.0"
    lines = [
        # any-of: settings or settings.read -> the read-only one (no write scope)
        *log_lines("xero_reports", "GET", f"{base}/Accounts"),
        *log_lines("xero_reports", "GET", f"https://api.xero.com{base}/Invoices?page=1"),
        *log_lines("xero_reports", "GET", f"{base}/Reports/BalanceSheet"),
        *log_lines("xero_sync", "POST", f"{base}/Invoices"),  # transactions only
        # merged same-shape operations: contacts or contacts.read -> contacts.read
        *log_lines("xero_sync", "GET", f"{base}/Contacts/{uuid}"),
        # attachments or attachments.read; the key holds only the read-write one
        *log_lines("xero_sync", "GET", f"{base}/Invoices/{uuid}/Attachments/scan.pdf"),
        # no such operation; under the Journals family: journals.read becomes unknown
        *log_lines("xero_sync", "GET", f"{base}/Journals/{uuid}/Lines", days=range(5)),
    ]
    report = cli_audit(capsys, tmp_path, realdata(XERO), keys, lines,
                       "--scope-list-semantics", "any")
    r = key_report(report, "xero_reports")
    used = {"accounting.settings.read", "accounting.transactions.read",
            "accounting.reports.read"}
    assert r["scopes"] == {s: ("used" if s in used else "unused") for s in reports}
    assert r["recommended"] == sorted(used)
    assert r["remove"] == sorted(set(reports) - used)
    s = key_report(report, "xero_sync")
    assert s["scopes"] == {"accounting.transactions": "used", "accounting.contacts.read": "used",
                           "accounting.attachments": "used",
                           "accounting.journals.read": "unknown"}
    assert s["recommended"] == sorted(sync)
    assert s["remove"] == []
    assert key_report(report, "xero_idle")["remove"] == ["accounting.settings.read"]
    assert report["replay"]["would_be_denied"] == 0
    assert report["replay"]["unverifiable"] == 5


# --- audits through the API on the imported catalogs (all-of Xero, DigitalOcean) --------------


def api_audit(catalog: Catalog, keys: dict[str, list[str]],
              requests: list[tuple[str, str, str]]) -> Audit:
    """Every (key, method, target) once a day for 90 days, all accepted."""
    inventory = parse_inventory(keys_yaml(keys).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    records = [Record(datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp(), key,
                      method, target, 200, "ua", "192.0.2.1", 1, 1, False)
               for n in range(90) for d in [SINCE + timedelta(days=n)]
               for key, method, target in requests]
    agg = Aggregator(catalog)
    agg.consume(records, "logs.jsonl")
    stats = InputStats("logs.jsonl")
    stats.records = len(records)
    return analyse(inventory, catalog, agg.finish(), [stats], (len(records), len(records)),
                   AuditOptions(lint=LintSettings(as_of=date(2026, 11, 27))), Diagnostics(),
                   timestamp=False)


def verdict(audit: Audit, key: str) -> KeyVerdict:
    return next(v for v in audit.verdicts if v.key_id == key)


def test_xero_all_of_needs_both_listed_scopes(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]) -> None:
    cat, _, _ = real(raw, catalogs, XERO, "all")
    audit = api_audit(cat, {"k": ["accounting.settings", "accounting.settings.read",
                                  "accounting.contacts"]},
                      [("k", "GET", "/api.xro/2.0/Accounts")])
    v = verdict(audit, "k")
    assert v.recommended == ("accounting.settings", "accounting.settings.read")
    assert v.remove == ("accounting.contacts",)
    assert audit.replay is not None and audit.replay.would_be_denied == 0


def test_digitalocean_least_privileged_alternative(
        raw: dict[str, Document],
        catalogs: dict[tuple[str, str], tuple[Catalog, ImportReport, list[str]]]) -> None:
    cat, _, _ = real(raw, catalogs, DIGITALOCEAN)
    records = "/v2/domains/example.com/records"
    audit = api_audit(cat, {
        # both alternatives held: both are one write scope, the tie goes to the name order
        "both": ["domain:create", "domain:update", "domain:read", "app:read"],
        "update_only": ["domain:update", "app:read"],
    }, [("both", "POST", records), ("both", "GET", "/v2/apps/regions"),
        ("update_only", "POST", records), ("update_only", "GET", "/v2/apps/6a7b8c9d")])
    both = verdict(audit, "both")
    assert both.states == {"domain:create": "used", "domain:update": "unused",
                           "domain:read": "unused", "app:read": "used"}
    assert both.remove == ("domain:read", "domain:update")
    only = verdict(audit, "update_only")
    assert only.recommended == ("app:read", "domain:update")
    assert only.remove == ()
    assert audit.replay is not None and audit.replay.would_be_denied == 0
