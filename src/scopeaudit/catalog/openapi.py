"""An OpenAPI 3.0/3.1 or Swagger 2.0 document -> a Catalog.

What is read, and how (README, "OpenAPI catalogs"):

* operations are paths x methods (get put post delete patch head options trace); their id is
  the ``operationId`` when present and unique, else ``METHOD path``; every one is
  ``documented``;
* required scopes come from security requirements: an operation's ``security`` replaces the
  document's; several requirement objects are alternatives (OR); the scopes of one object are
  all needed (AND; ``--scope-list-semantics any`` reads one object's list as alternatives
  instead); an empty object ``{}`` allows anonymous access (an empty alternative);
  ``security: []`` (or no requirement anywhere) means no security;
* scopes are read on any scheme type (DigitalOcean lists them on an ``http`` bearer scheme).
  A requirement object naming only schemes that never carry a scope (HTTP basic, API keys)
  describes another kind of credential: it is left out when the operation has a scoped
  alternative, and an operation with no other alternative needs no scope;
* ``x-atlassian-oauth2-scopes`` entries (OR between entries, AND within one) are added to the
  alternatives from ``security`` (duplicates dropped); a warning says where the two disagree;
* the catalog's scopes are the declared ones (OAuth2 flows, Swagger ``securityDefinitions``)
  and the used ones, with the declared descriptions;
* ``servers`` URLs (document, path and operation level; variables take their default and enum
  values) and Swagger ``basePath`` give the base paths stripped from logged paths;
* templates of the same shape and method (``/a/{id}`` and ``/a/{name}``) become one operation
  whose alternatives are those of both (a note on the operation says so);
* families: for every literal path prefix (up to the first template segment) under every base
  path, the scopes of the operations beneath it: what an unmatched request there might need.

Problems outside ``paths`` and ``security`` (a malformed ``info``, server or security scheme)
are warnings; a document that is not an OpenAPI document, has no ``paths``, or has an invalid
path item, operation or security requirement is an InputError naming the file and, where it
can be found, the line.

Longer than 500 lines on purpose: one importer walks one document with one locator (lines
found on demand) and one list of warnings, and the override file is read with the same
locator and checks; split, those would be handed between modules for no reader's gain.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast
from urllib.parse import unquote

from scopeaudit.catalog.documents import Document, read_document
from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.catalog.routes import shape_of, template_segments
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError

T = TypeVar("T")
Where = tuple[str, ...]  # the keys leading to a node, for its (lazily found) line
Semantics = Literal["all", "any"]
SEMANTICS: tuple[Semantics, ...] = ("all", "any")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ATLASSIAN_SCOPES = "x-atlassian-oauth2-scopes"
# Scheme types whose requirement lists are scopes by definition (OpenAPI 3.0 allows a list
# only for these); other schemes count as scoped when a document gives them scopes anyway.
_SCOPED_TYPES = frozenset({"oauth2", "openidconnect"})
_PARAM_RE = re.compile(r"\{[^{}/]+\}")
_VARIABLE_RE = re.compile(r"\{([^{}]+)\}")
_MAX_SERVER_VARIANTS = 16
# Alternatives one requirement object may give when its lists are read as any-of: one choice
# from each list, so their product (8 schemes of 20 scopes: 20**8). An operation needing a
# choice among thousands of scope sets is not something to audit against; it is refused.
MAX_ALTERNATIVES = 4096
_OVERRIDE_KEYS = frozenset({"semantics", "operations", "pseudo_scopes", "base_paths",
                            "ignore_anonymous"})
_OPERATION_OVERRIDE_KEYS = frozenset({"scopes", "semantics"})


def is_openapi_document(doc: Any) -> bool:
    """An OpenAPI 3.x (``openapi`` key) or Swagger 2.0 (``swagger`` key) document."""
    return isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc)


# --- options and the override file ----------------------------------------------------------


@dataclass(frozen=True)
class OperationOverride:
    """What one operation requires instead of what its document says."""

    scopes: tuple[frozenset[str], ...] | None = None  # alternatives, replacing the document's
    semantics: Semantics | None = None  # or: read this operation's scope lists this way


@dataclass(frozen=True)
class Overrides:
    """A per-document override file (``--catalog-overrides``)."""

    source: str
    semantics: Semantics | None = None
    # operationId or "METHOD path" (as written in the document) -> its override
    operations: tuple[tuple[str, OperationOverride], ...] = ()
    # names that stand for "no scope" (Slack's ``none``): dropped from every requirement
    pseudo_scopes: frozenset[str] = frozenset()
    base_paths: tuple[str, ...] | None = None  # replaces the ones servers/basePath give
    # leave out {} requirement objects (where anonymous access depends on the server's
    # settings, as in Jira), so the scoped alternatives decide
    ignore_anonymous: bool = False


@dataclass(frozen=True)
class ImportOptions:
    semantics: Semantics | None = None  # None: the override file's, else "all"
    overrides: Overrides | None = None

    @property
    def effective_semantics(self) -> Semantics:
        if self.semantics is not None:
            return self.semantics
        if self.overrides is not None and self.overrides.semantics is not None:
            return self.overrides.semantics
        return "all"


def load_overrides(path: str) -> Overrides:
    """Read an override file (YAML or JSON)::

        semantics: any                 # optional: how to read one requirement's scope list
        pseudo_scopes: [none]          # optional: names that mean "no scope needed"
        base_paths: ["/api", ""]       # optional: replaces the servers' base paths
        ignore_anonymous: true         # optional: leave out {} requirement objects
        operations:                    # by operationId or "METHOD path"
          getVolumes: {semantics: any}
          "POST /v2/volumes": {scopes: [[block_storage:create], [api:write]]}
          "GET /api.test": {scopes: [[]]}     # [[]]: needs no scope
    """
    doc = read_document(path)
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError("an override file must be a mapping", file=path)
    unknown = sorted(str(k) for k in data if k not in _OVERRIDE_KEYS)
    if unknown:
        raise InputError(f"unknown override field(s): {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(_OVERRIDE_KEYS))})", file=path,
                         line=_Locator(doc).line(unknown[0]))
    semantics = _semantics(data.get("semantics"), "semantics", path)
    pseudo = data.get("pseudo_scopes", [])
    if not isinstance(pseudo, list) or not all(isinstance(s, str) and s for s in pseudo):
        raise InputError("pseudo_scopes must be a list of scope names", file=path)
    base_paths: tuple[str, ...] | None = None
    if "base_paths" in data:
        raw = data["base_paths"]
        if not isinstance(raw, list) or not raw or not all(isinstance(b, str) for b in raw):
            raise InputError('base_paths must be a non-empty list of path prefixes (include "" '
                             "to match paths without a prefix)", file=path)
        base_paths = tuple(_dedupe(_normalise_base(b) for b in raw))
    ignore_anonymous = data.get("ignore_anonymous", False)
    if not isinstance(ignore_anonymous, bool):
        raise InputError("ignore_anonymous must be true or false", file=path,
                         line=_Locator(doc).line("ignore_anonymous"))
    ops = data.get("operations", {})
    if ops is None:
        ops = {}
    if not isinstance(ops, dict):
        raise InputError("operations must map an operationId or 'METHOD path' to an override",
                         file=path)
    operations: list[tuple[str, OperationOverride]] = []
    for key, value in ops.items():
        where = f"operations: {key}"
        line = _Locator(doc).line("operations", str(key))
        if not isinstance(key, str) or not key.strip():
            raise InputError("operations: keys must be an operationId or 'METHOD path'",
                             file=path, line=line)
        if not isinstance(value, dict) or not value or set(value) - _OPERATION_OVERRIDE_KEYS:
            raise InputError(f"{where}: an override is a mapping with scopes (a list of "
                             "alternatives, each a list of scope names) or semantics (all|any)",
                             file=path, line=line)
        if "scopes" in value and "semantics" in value:
            raise InputError(f"{where}: give scopes or semantics, not both", file=path,
                             line=line)
        scopes: tuple[frozenset[str], ...] | None = None
        if "scopes" in value:
            alts = value["scopes"]
            if (not isinstance(alts, list) or not alts or not all(
                    isinstance(alt, list) and all(isinstance(s, str) and s for s in alt)
                    for alt in alts)):
                raise InputError(f"{where}: scopes must be a non-empty list of alternatives, "
                                 "each a list of scope names ([[]] for no scope)", file=path,
                                 line=line)
            scopes = tuple(_dedupe(frozenset(alt) for alt in alts))
        operations.append((_override_key(key), OperationOverride(
            scopes=scopes, semantics=_semantics(value.get("semantics"), where, path, line))))
    keys = [k for k, _ in operations]
    if len(set(keys)) != len(keys):
        twice = next(k for k, n in Counter(keys).items() if n > 1)
        raise InputError(f"operations: {twice} is given twice", file=path)
    return Overrides(source=path, semantics=semantics, operations=tuple(operations),
                     pseudo_scopes=frozenset(pseudo), base_paths=base_paths,
                     ignore_anonymous=ignore_anonymous)


def _semantics(value: Any, where: str, path: str, line: int | None = None) -> Semantics | None:
    if value is None:
        return None
    if value not in SEMANTICS:
        raise InputError(f"{where}: semantics must be 'all' or 'any', not {value!r:.40}",
                         file=path, line=line)
    return cast(Semantics, value)


def _override_key(key: str) -> str:
    """``get /a`` and ``GET /a`` name the same operation; an operationId stays as written."""
    method, _, rest = key.strip().partition(" ")
    if method.lower() in HTTP_METHODS and rest.strip().startswith("/"):
        return f"{method.upper()} {rest.strip()}"
    return key.strip()


# --- what the import reports -----------------------------------------------------------------


@dataclass
class ImportReport:
    """What was read, for ``scopeaudit catalog`` (the counts are of the document, before
    same-shape templates are merged)."""

    kind: str  # "OpenAPI 3.0.1", "Swagger 2.0"
    semantics: Semantics
    document_operations: int = 0
    declared_scopes: int = 0
    used_scopes: int = 0
    anonymous: int = 0  # a requirement object {} allows anonymous access
    no_security: int = 0  # no requirement at all, or security: []
    other_credentials_only: int = 0  # only schemes that carry no scope
    authenticated_without_scope: int = 0  # a scoped scheme with an empty list
    atlassian: int = 0  # operations with x-atlassian-oauth2-scopes
    overridden: int = 0
    pseudo_scopes: tuple[str, ...] = ()
    merged: list[tuple[str, str]] = field(default_factory=list)  # (kept id, merged id)


@dataclass(frozen=True)
class OpenAPIImport:
    catalog: Catalog
    report: ImportReport


# --- the import ------------------------------------------------------------------------------


@dataclass
class _RawOperation:
    method: str  # upper case
    path: str
    operation_id: str | None
    requires: list[frozenset[str]]
    note: list[str]
    at: Where


def import_openapi(doc: Document, options: ImportOptions | None = None,
                   diagnostics: Diagnostics | None = None) -> OpenAPIImport:
    """The catalog an OpenAPI/Swagger document describes; warnings go to ``diagnostics``."""
    return _Importer(doc, options or ImportOptions(), diagnostics or Diagnostics()).run()


class _Importer:
    def __init__(self, doc: Document, options: ImportOptions, diagnostics: Diagnostics):
        self.doc = doc
        self.source = doc.path
        self.data: dict[str, Any] = doc.data
        self.options = options
        self.diagnostics = diagnostics
        self.locator = _Locator(doc)
        self.semantics = options.effective_semantics
        overrides = options.overrides
        self.pseudo = overrides.pseudo_scopes if overrides else frozenset()
        self.overrides = dict(overrides.operations) if overrides else {}
        self.ignore_anonymous = overrides.ignore_anonymous if overrides else False
        self.used_overrides: set[str] = set()
        self.scheme_types: dict[str, str] = {}
        self.declared: dict[str, str] = {}  # scope -> description, in declaration order
        self.undeclared_schemes: set[str] = set()
        self.scheme_scopes: dict[str, dict[str, str]] = {}  # scheme -> its declared scopes
        self.scoped: set[str] = set()  # schemes whose requirement lists are scopes

    def warn(self, message: str, at: Where = ()) -> None:
        line = self.locator.line(*at) if at else None
        self.diagnostics.warn(message, file=self.source, line=line)

    def fail(self, message: str, at: Where = ()) -> InputError:
        line = self.locator.line(*at) if at else None
        return InputError(message, file=self.source, line=line)

    # -- top level --

    def run(self) -> OpenAPIImport:
        data = self.data
        kind, swagger = self._version()
        report = ImportReport(kind=kind, semantics=self.semantics,
                              pseudo_scopes=tuple(sorted(self.pseudo)))
        name, version = self._info()
        paths = data.get("paths")
        if "paths" not in data:
            raise self.fail("an OpenAPI document without paths describes no operation")
        if not isinstance(paths, dict):
            raise self.fail(f"paths must be a mapping of paths to path items, not "
                            f"{_kind(paths)}", ("paths",))
        self._schemes(swagger)
        top_security = None
        if "security" in data:
            top_security = self._requirements(data["security"], "security",
                                              ("security",))
        bases = self._document_bases(swagger)
        items = self._path_items(paths)
        if not items:
            self.warn("the document's paths hold no operation")
        # Which schemes carry scopes: by type, by declaration, or by use anywhere.
        scoped = {n for n, t in self.scheme_types.items() if t.lower() in _SCOPED_TYPES}
        scoped |= {n for n, s in self.scheme_scopes.items() if s}
        raw_ops: list[tuple[str, str, dict[str, Any], list[dict[str, list[str]]] | None,
                            Where]] = []
        op_bases: list[str] = []
        for path, item in items:
            path_servers = item.get("servers")
            if path_servers is not None:
                op_bases.extend(self._server_bases(path_servers, f"{path}: servers",
                                                   ("paths", path, "servers")))
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                at = ("paths", path, method)
                where = f"{method.upper()} {path}"
                if not isinstance(op, dict):
                    raise self.fail(f"{where}: an operation must be a mapping, not {_kind(op)}",
                                    at)
                security = top_security
                if "security" in op:
                    security = self._requirements(
                        op["security"], f"{where}: security",
                        ("paths", path, method, "security"))
                for reqs in (security or []):
                    for scheme, scopes in reqs.items():
                        if scopes:
                            scoped.add(scheme)
                if "servers" in op:
                    op_bases.extend(self._server_bases(op["servers"], f"{where}: servers",
                                                       (*at, "servers")))
                raw_ops.append((path, method, op, security, at))
        report.document_operations = len(raw_ops)
        self.scoped = scoped
        operations = [self._operation(path, method, op, security, at, report)
                      for path, method, op, security, at in raw_ops]
        for key in sorted(set(self.overrides) - self.used_overrides):
            self.warn(f"override for {key!r} names no operation of the document")
        report.overridden = len(self.used_overrides)
        if self.options.overrides is not None and self.options.overrides.base_paths is not None:
            base_paths = self.options.overrides.base_paths
        else:
            base_paths = tuple(_dedupe([*bases, *op_bases]))
        catalog_ops = self._merge(self._ids(operations), report)
        used: set[str] = set()
        for op in catalog_ops:
            used |= op.scopes
        declared = {n: d for n, d in self.declared.items() if n not in self.pseudo}
        report.declared_scopes = len(declared)
        report.used_scopes = len(used)
        if "none" in used and "none" not in self.pseudo:
            self.warn("scope 'none' is required by some operations; if it means 'no scope "
                      "needed' (as in Slack's API), list it under pseudo_scopes in a "
                      "--catalog-overrides file")
        return OpenAPIImport(
            Catalog(
                name=name,
                version=version,
                scopes=tuple(Scope(n, declared.get(n, "")) for n in sorted(set(declared) | used)),
                operations=tuple(catalog_ops),
                source=self.source,
                base_paths=base_paths,
                families=_families(catalog_ops, base_paths),
            ),
            report,
        )

    def _version(self) -> tuple[str, bool]:
        data = self.data
        if "openapi" in data:
            value, swagger = data["openapi"], False
            key = "openapi"
        else:
            value, swagger = data["swagger"], True
            key = "swagger"
        at = (key,)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.warn(f"{key}: the version should be a string (\"{value}\"), not a number",
                      at)
            value = str(value)
        if not isinstance(value, str):
            raise self.fail(f"{key}: the version must be a string, not {_kind(value)}", at)
        if swagger and value.strip() != "2.0":
            raise self.fail(f"swagger: unsupported version {value!r:.20} (expected 2.0)", at)
        if not swagger and not value.strip().startswith("3."):
            raise self.fail(f"openapi: unsupported version {value!r:.20} (expected 3.x)", at)
        return ("Swagger " if swagger else "OpenAPI ") + value.strip(), swagger

    def _info(self) -> tuple[str, str]:
        from pathlib import Path

        info = self.data.get("info")
        fallback = Path(self.source).stem
        if not isinstance(info, dict):
            self.warn(f"info should be a mapping with title and version, not {_kind(info)}",
                      ("info",))
            return fallback, ""
        title, version = info.get("title"), info.get("version")
        if not isinstance(title, str) or not title.strip():
            self.warn("info.title is missing or not a string", ("info",))
            title = fallback
        if isinstance(version, int | float) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str):
            self.warn("info.version is missing or not a string", ("info",))
            version = ""
        return title.strip(), version.strip()

    # -- security schemes and requirements --

    def _schemes(self, swagger: bool) -> None:
        """Scheme types and declared scopes; a malformed scheme is a warning, not an error."""
        at: Where
        if swagger:
            schemes, where = self.data.get("securityDefinitions"), "securityDefinitions"
            at = ("securityDefinitions",)
        else:
            components = self.data.get("components")
            if components is not None and not isinstance(components, dict):
                self.warn(f"components should be a mapping, not {_kind(components)}",
                          ("components",))
                components = None
            schemes = components.get("securitySchemes") if components else None
            where = "components.securitySchemes"
            at = ("components", "securitySchemes")
        if schemes is None:
            return
        if not isinstance(schemes, dict):
            self.warn(f"{where} should be a mapping, not {_kind(schemes)}", at)
            return
        for name, scheme in schemes.items():
            if isinstance(scheme, dict) and isinstance(scheme.get("$ref"), str):
                scheme = self._resolve(scheme["$ref"])
            if not isinstance(name, str) or not isinstance(scheme, dict):
                self.warn(f"{where}.{name}: a security scheme should be a mapping; skipped",
                          at)
                continue
            kind = scheme.get("type")
            self.scheme_types[name] = kind if isinstance(kind, str) else ""
            declared: dict[str, str] = {}
            if swagger:
                self._declare(scheme.get("scopes"), f"{where}.{name}.scopes", declared, at)
            else:
                flows = scheme.get("flows")
                if flows is not None and not isinstance(flows, dict):
                    self.warn(f"{where}.{name}.flows should be a mapping; skipped", at)
                    flows = None
                for flow_name, flow in (flows or {}).items():
                    if not isinstance(flow, dict):
                        self.warn(f"{where}.{name}.flows.{flow_name} should be a mapping; "
                                  "skipped", at)
                        continue
                    self._declare(flow.get("scopes"), f"{where}.{name}.flows.{flow_name}.scopes",
                                  declared, at)
            self.scheme_scopes[name] = declared
            for scope, text in declared.items():
                self.declared.setdefault(scope, text)

    def _declare(self, scopes: Any, where: str, into: dict[str, str],
                 at: Where) -> None:
        if scopes is None:
            return
        if not isinstance(scopes, dict):
            self.warn(f"{where} should map scope names to descriptions; skipped", at)
            return
        for scope, text in scopes.items():
            if not isinstance(scope, str) or not scope:
                self.warn(f"{where}: a scope name should be a non-empty string; skipped", at)
                continue
            into.setdefault(scope, " ".join(text.split()) if isinstance(text, str) else "")

    def _requirements(self, value: Any, where: str,
                      at: Where) -> list[dict[str, list[str]]]:
        """A validated list of security requirement objects."""
        if not isinstance(value, list):
            raise self.fail(f"{where} must be a list of security requirement objects, not "
                            f"{_kind(value)}", at)
        out: list[dict[str, list[str]]] = []
        for i, req in enumerate(value):
            if not isinstance(req, dict):
                raise self.fail(f"{where}[{i}] must be a mapping of security scheme names to "
                                f"lists of scopes, not {_kind(req)}", at)
            entry: dict[str, list[str]] = {}
            for scheme, scopes in req.items():
                if not isinstance(scheme, str) or not scheme:
                    raise self.fail(f"{where}[{i}]: a security scheme name must be a string",
                                    at)
                if not isinstance(scopes, list) or not all(
                        isinstance(s, str) and s for s in scopes):
                    raise self.fail(f"{where}[{i}].{scheme} must be a list of scope names "
                                    f"(use [] for none), not {_kind(scopes)}", at)
                if scheme not in self.scheme_types and scheme not in self.undeclared_schemes:
                    self.undeclared_schemes.add(scheme)
                    self.warn(f"{where}: security scheme {scheme!r} is not declared", at)
                entry[scheme] = list(scopes)
            out.append(entry)
        return out

    # -- one operation --

    def _operation(self, path: str, method: str, op: dict[str, Any],
                   security: list[dict[str, list[str]]] | None, at: Where,
                   report: ImportReport) -> _RawOperation:
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId")
        if op_id is not None and (not isinstance(op_id, str) or not op_id.strip()):
            self.warn(f"{where}: operationId should be a non-empty string; ignored", at)
            op_id = None
        if isinstance(op_id, str):
            op_id = op_id.strip()
        override = None
        for key in (op_id, where):
            if key is not None and key in self.overrides:
                override = self.overrides[key]
                self.used_overrides.add(key)
                break
        semantics = self.semantics
        if override is not None and override.semantics is not None:
            semantics = override.semantics
        note: list[str] = []
        alternatives: list[frozenset[str]] = []
        other_only: list[str] = []  # schemes of requirements that name no scoped scheme
        if not security:
            report.no_security += 1
            note.append("no security requirement")
            alternatives.append(frozenset())
        else:
            for req in security:
                if not req:
                    if not self.ignore_anonymous:
                        alternatives.append(frozenset())
                    continue
                lists = [scopes for scheme, scopes in req.items() if scheme in self.scoped]
                if lists:
                    alternatives.extend(self._read_lists(lists, semantics, where, at))
                else:
                    other_only.extend(s for s in req if s not in other_only)
            if any(not req for req in security):
                report.anonymous += 1
                note.append("anonymous access allowed ({} in security)"
                            + ("; left out (override file)" if self.ignore_anonymous else ""))
            elif frozenset() in alternatives:
                report.authenticated_without_scope += 1
        if ATLASSIAN_SCOPES in op:
            report.atlassian += 1
            entries = self._atlassian(op[ATLASSIAN_SCOPES], where,
                                      ("paths", path, method, ATLASSIAN_SCOPES))
            missing = [a for a in alternatives if a and a not in entries]
            if missing:
                self.warn(f"{where}: security and {ATLASSIAN_SCOPES} disagree ("
                          + "; ".join(" + ".join(sorted(a)) for a in missing)
                          + f" is not in {ATLASSIAN_SCOPES}); both are kept", at)
            alternatives.extend(entries)
        if other_only:
            schemes = ", ".join(sorted(other_only))
            if alternatives:
                # Another kind of credential (basic auth, an API key): not what a scoped key
                # uses, so it gives no alternative (an empty one would make every scope
                # removable).
                note.append(f"also callable with {schemes} (no scopes; left out)")
            else:
                report.other_credentials_only += 1
                note.append(f"only {schemes} (no scopes): needs no scope")
        if not alternatives:
            alternatives.append(frozenset())  # e.g. only {} left out: still no scope named
        if override is not None and override.scopes is not None:
            alternatives = [alt - self.pseudo for alt in override.scopes]
            note.append("scopes from the override file")
        elif override is not None:
            note.append(f"scope lists read as {semantics}-of (override file)")
        return _RawOperation(method.upper(), path, op_id, _dedupe(alternatives), note, at)

    def _read_lists(self, lists: list[list[str]], semantics: Semantics, where: str,
                    at: Where) -> list[frozenset[str]]:
        """The alternatives one requirement object gives: its schemes' lists are all needed;
        each list is read as all-of (one alternative) or any-of (one alternative per scope)."""
        if semantics == "all":
            merged: set[str] = set()
            for scopes in lists:
                merged |= set(scopes)
            return [frozenset(merged - self.pseudo)]
        # One choice from each list, list after list, without duplicates at each step: the
        # product's distinct unions in the product's own order, but never more of them held
        # than the bound (the full product is never enumerated).
        found: list[frozenset[str]] = [frozenset()]
        for scopes in lists:
            choices = _dedupe(frozenset({s}) - self.pseudo for s in scopes) or [frozenset()]
            step: dict[frozenset[str], None] = {}  # insertion-ordered, first one kept
            for alt in found:
                for choice in choices:
                    step[alt | choice] = None
                    if len(step) > MAX_ALTERNATIVES:
                        raise self._too_many(lists, where, at)
            found = list(step)
        return found

    def _too_many(self, lists: list[list[str]], where: str, at: Where) -> InputError:
        sizes = " x ".join(str(len(set(scopes))) for scopes in lists)
        return self.fail(f"{where}: reading its scope lists as any-of ({sizes} scopes, one "
                         f"from each) gives more than {MAX_ALTERNATIVES} alternative scope "
                         "sets; state what it needs with --catalog-overrides (operations: "
                         "{ID: {scopes: [[...], ...]}}, or {ID: {semantics: all}})", at)

    def _atlassian(self, value: Any, where: str, at: Where) -> list[frozenset[str]]:
        if not isinstance(value, list):
            raise self.fail(f"{where}: {ATLASSIAN_SCOPES} must be a list of entries with "
                            "scopes", at)
        out: list[frozenset[str]] = []
        for i, entry in enumerate(value):
            scopes = entry.get("scopes") if isinstance(entry, dict) else None
            if not isinstance(scopes, list) or not all(isinstance(s, str) and s
                                                       for s in scopes):
                raise self.fail(f"{where}: {ATLASSIAN_SCOPES}[{i}] must be a mapping with a "
                                "list of scope names under scopes", at)
            out.append(frozenset(scopes) - self.pseudo)
        return out

    # -- ids and same-shape templates --

    def _ids(self, ops: list[_RawOperation]) -> list[tuple[str, _RawOperation]]:
        counts = Counter(op.operation_id for op in ops if op.operation_id)
        for op_id, n in sorted(counts.items()):
            if n > 1:
                self.warn(f"operationId {op_id!r} is used by {n} operations; they are named "
                          "'METHOD path' instead")
        taken: set[str] = set()
        out: list[tuple[str, _RawOperation]] = []
        for op in ops:
            if op.operation_id and counts[op.operation_id] == 1:
                op_id = op.operation_id
            else:
                op_id = f"{op.method} {op.path}"
            base, n = op_id, 2
            while op_id in taken:
                op_id, n = f"{base} ({n})", n + 1
            taken.add(op_id)
            out.append((op_id, op))
        return out

    def _merge(self, ops: list[tuple[str, _RawOperation]],
               report: ImportReport) -> list[Operation]:
        """One operation per method and path shape; same-shape templates combine their
        alternatives (the router could only ever reach the first)."""
        by_route: dict[tuple[str, str], int] = {}
        merged: list[tuple[str, _RawOperation]] = []
        for op_id, op in ops:
            route = (op.method, "/" + "/".join(shape_of(s) for s in template_segments(op.path)))
            if route not in by_route:
                by_route[route] = len(merged)
                merged.append((op_id, _RawOperation(op.method, op.path, op.operation_id,
                                                    list(op.requires), list(op.note),
                                                    op.at)))
                continue
            kept_id, kept = merged[by_route[route]]
            kept.requires = _dedupe([*kept.requires, *op.requires])
            kept.note.append(f"same shape as {op_id} ({op.method} {op.path}): alternatives "
                             "combined")
            report.merged.append((kept_id, op_id))
            self.warn(f"{op.method} {op.path} has the shape of {kept.method} {kept.path}; "
                      f"merged into {kept_id} (alternatives combined)", op.at)
        return [Operation(id=op_id, method=op.method, path=op.path,
                          requires=tuple(op.requires), provenance=Provenance.DOCUMENTED,
                          note="; ".join(op.note))
                for op_id, op in merged]

    # -- paths and servers --

    def _path_items(self, paths: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for path, item in paths.items():
            if not isinstance(path, str):
                raise self.fail(f"paths: a path must be a string, not {_kind(path)}",
                                ("paths",))
            if path.startswith("x-"):
                continue  # a specification extension
            at = ("paths", path)
            if not path.startswith("/"):
                self.warn(f"paths: {path!r:.60} does not start with '/'; skipped", at)
                continue
            if isinstance(item, dict) and isinstance(item.get("$ref"), str):
                resolved = self._resolve(item["$ref"])
                if not isinstance(resolved, dict):
                    self.warn(f"{path}: $ref {item['$ref']!r:.80} cannot be followed (only "
                              "references inside the document are); skipped", at)
                    continue
                item = {**resolved, **{k: v for k, v in item.items() if k != "$ref"}}
            if item is None:
                self.warn(f"{path}: empty path item; skipped", at)
                continue
            if not isinstance(item, dict):
                raise self.fail(f"{path}: a path item must be a mapping, not {_kind(item)}",
                                at)
            out.append((path, item))
        return out

    def _resolve(self, ref: str) -> Any:
        """A reference inside this document (``#/components/...``), or None."""
        if not ref.startswith("#/"):
            return None
        node: Any = self.data
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _document_bases(self, swagger: bool) -> list[str]:
        if swagger:
            base = self.data.get("basePath", "/")
            if not isinstance(base, str):
                self.warn("basePath should be a string; ignored", ("basePath",))
                return [""]
            return [_normalise_base(base)]
        servers = self.data.get("servers")
        if servers is None:
            return [""]
        return self._server_bases(servers, "servers", ("servers",)) or [""]

    def _server_bases(self, servers: Any, where: str, at: Where) -> list[str]:
        """The base paths of a servers list (a malformed server is a warning)."""
        if not isinstance(servers, list):
            self.warn(f"{where} should be a list of server objects; ignored", at)
            return []
        out: list[str] = []
        for i, server in enumerate(servers):
            url = server.get("url") if isinstance(server, dict) else None
            if not isinstance(url, str):
                self.warn(f"{where}[{i}] should be a mapping with a url; ignored", at)
                continue
            variables = server.get("variables") or {}
            if not isinstance(variables, dict):
                self.warn(f"{where}[{i}].variables should be a mapping; ignored", at)
                variables = {}
            for expanded in _expand_url(url, variables):
                path = server_path(expanded)
                if _VARIABLE_RE.search(path):
                    self.warn(f"{where}[{i}]: url {url!r:.80} has a variable in its path "
                              "without a default; ignored", at)
                    continue
                out.append(path)
        return _dedupe(out)


def _expand_url(url: str, variables: Mapping[Any, Any]) -> list[str]:
    """The URL with each variable replaced by its default and by each enum value."""
    names = _dedupe(_VARIABLE_RE.findall(url))
    values: list[list[str]] = []
    for name in names:
        spec = variables.get(name)
        options: list[str] = []
        if isinstance(spec, dict):
            if isinstance(spec.get("default"), str | int | float):
                options.append(str(spec["default"]))
            if isinstance(spec.get("enum"), list):
                options.extend(str(v) for v in spec["enum"] if isinstance(v, str | int | float))
        values.append(_dedupe(options) or ["{" + name + "}"])
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*values), _MAX_SERVER_VARIANTS):
        expanded = url
        for name, value in zip(names, combo, strict=True):
            expanded = expanded.replace("{" + name + "}", value)
        out.append(expanded)
    return out


def server_path(url: str) -> str:
    """The path part of a server URL, as a base path: ``https://h/api/v3/`` -> ``/api/v3``;
    a relative ``/api`` -> ``/api``; no path -> ``""``."""
    rest = url.strip()
    if "://" in rest:
        rest = rest.split("://", 1)[1]
        slash = rest.find("/")
        rest = rest[slash:] if slash >= 0 else ""
    elif rest.startswith("//"):
        slash = rest.find("/", 2)
        rest = rest[slash:] if slash >= 0 else ""
    for sep in ("?", "#"):
        rest = rest.split(sep, 1)[0]
    return _normalise_base(rest)


def _normalise_base(path: str) -> str:
    segments = [unquote(s) for s in path.strip().split("/") if s not in ("", ".")]
    return "/" + "/".join(segments) if segments else ""


def _families(ops: Iterable[Operation],
              base_paths: tuple[str, ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    """For each literal path prefix (up to the first template segment) of each operation,
    under each base path: the scopes of every operation beneath it. Logged paths keep the
    base path, so the prefixes do too."""
    by_prefix: dict[str, set[str]] = {}
    for op in ops:
        prefix = ""
        for seg in template_segments(op.path):
            if _PARAM_RE.search(seg) or seg == "**":
                break
            prefix += "/" + seg
            by_prefix.setdefault(prefix, set()).update(op.scopes)
    families: dict[str, set[str]] = {}
    for base in base_paths:
        for prefix, scopes in by_prefix.items():
            families.setdefault(base.rstrip("/") + prefix, set()).update(scopes)
    return tuple((prefix, frozenset(families[prefix])) for prefix in sorted(families))


def _dedupe(items: Iterable[T]) -> list[T]:
    seen: set[T] = set()
    out: list[T] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Locator:
    """Best-effort line numbers for keys of a parsed document (the safe YAML loader and the
    json module keep no positions): each key of a path is searched for after the previous
    one, so ``line("paths", "/pets", "get", "security")`` finds that operation's security."""

    def __init__(self, doc: Document) -> None:
        self.text = doc.text
        self.is_json = doc.is_json

    def line(self, *keys: str) -> int | None:
        pos = 0
        start = -1
        for depth, key in enumerate(keys):
            match = None
            if depth == 0 and self.is_json:
                # pretty-printed JSON: a top-level key sits at the start of a line
                quoted = re.escape(json.dumps(key, ensure_ascii=False))
                match = re.compile(rf"(?m)^[ \t]{{0,4}}(?P<key>{quoted})\s*:").search(self.text)
            if match is None:
                match = self._pattern(key, top=depth == 0).search(self.text, pos)
            if match is None:
                return None
            start, pos = match.start("key"), match.end()
        return self.text.count("\n", 0, start) + 1 if start >= 0 else None

    def _pattern(self, key: str, top: bool) -> re.Pattern[str]:
        quoted = re.escape(json.dumps(key, ensure_ascii=False))
        if self.is_json:
            return re.compile(rf"(?P<key>{quoted})\s*:")
        single = re.escape("'" + key.replace("'", "''") + "'")
        forms = f"{re.escape(key)}|{single}|{quoted}"
        if top:
            return re.compile(rf"(?m)^(?P<key>{forms})[ \t]*:(?=\s|$)")
        return re.compile(rf"(?m)(?:^[ \t]*(?:-[ \t]+)?|[{{,][ \t]*)(?P<key>{forms})[ \t]*:"
                          rf"(?=\s|$)")
