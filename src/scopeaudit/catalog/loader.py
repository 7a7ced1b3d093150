"""Reading scopeaudit's own catalog format (the built-in insp.ac data file uses it too), and
telling it apart from an OpenAPI/Swagger document (see openapi.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.catalog.routes import shape_of, template_segments
from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.catalog.openapi import ImportOptions, ImportReport
    from scopeaudit.diagnostics import Diagnostics

CATALOG_FORMAT = "scopeaudit/catalog/v1"
_BUILTIN = "inspac-v1.json"


def load_builtin() -> Catalog:
    text = resources.files("scopeaudit.catalog").joinpath("data", _BUILTIN).read_text("utf-8")
    return catalog_from_document(json.loads(text), source="built-in")


def catalog_from_document(doc: Any, source: str) -> Catalog:
    """Build a Catalog from a parsed scopeaudit catalog document, checking every field."""
    if not isinstance(doc, dict):
        raise InputError("a catalog must be a mapping", file=source)
    if doc.get("format") != CATALOG_FORMAT:
        raise InputError(f"not a scopeaudit catalog (expected format: {CATALOG_FORMAT})",
                         file=source)
    scopes = tuple(
        Scope(name=_str(s, "name", source), description=str(s.get("description", "")))
        for s in _list(doc, "scopes", source)
    )
    known: set[str] = set()
    for scope in scopes:
        if scope.name in known:
            raise InputError(f"scope {scope.name!r} is declared twice", file=source)
        known.add(scope.name)
    operations: list[Operation] = []
    seen_ids: set[str] = set()
    # METHOD + path shape -> the operation that claimed it: the router keeps only the first,
    # so a second operation with the same shape would be silently unreachable.
    seen_routes: dict[tuple[str, str], str] = {}
    for raw in _list(doc, "operations", source):
        op_id = _str(raw, "id", source)
        if op_id in seen_ids:
            raise InputError(f"operation id {op_id!r} is defined twice", file=source)
        seen_ids.add(op_id)
        alternatives = raw.get("scopes")
        if not isinstance(alternatives, list) or not all(
            isinstance(alt, list) and all(isinstance(s, str) for s in alt) for alt in alternatives
        ):
            raise InputError(f"operation {op_id}: scopes must be a list of lists of names",
                             file=source)
        if not alternatives:
            # No alternative at all would make the operation impossible to call; an operation
            # that needs no scope is written [[]] (one empty alternative).
            raise InputError(f"operation {op_id}: scopes must list at least one alternative "
                             "(use [[]] for an operation that needs no scope)", file=source)
        for alt in alternatives:
            for name in alt:
                if name not in known:
                    raise InputError(f"operation {op_id}: scope {name!r} is not declared",
                                     file=source)
        try:
            provenance = Provenance(raw.get("provenance", "inferred"))
        except ValueError:
            raise InputError(f"operation {op_id}: unknown provenance {raw.get('provenance')!r}",
                             file=source) from None
        method = _str(raw, "method", source).upper()
        path = _str(raw, "path", source)
        route = (method, "/" + "/".join(shape_of(seg) for seg in template_segments(path)))
        if route in seen_routes:
            raise InputError(f"operation {op_id}: {method} {path} is already operation "
                             f"{seen_routes[route]!r} (same method and path shape)", file=source)
        seen_routes[route] = op_id
        operations.append(
            Operation(
                id=op_id,
                method=method,
                path=path,
                requires=tuple(frozenset(alt) for alt in alternatives),
                provenance=provenance,
                note=str(raw.get("note", "")),
            )
        )
    res = doc.get("resources", {})
    if not isinstance(res, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in res.values()
    ):
        raise InputError("resources must map a resource name to a list of path prefixes",
                         file=source)
    base_paths = doc.get("base_paths", [""])
    if (not isinstance(base_paths, list) or not base_paths
            or not all(isinstance(b, str) for b in base_paths)):
        raise InputError("base_paths must be a non-empty list of path prefixes "
                         '(include "" to match paths without a prefix)', file=source)
    fams = doc.get("families", {})
    if not isinstance(fams, dict) or not all(
        isinstance(k, str) and k and isinstance(v, list) and all(isinstance(s, str) for s in v)
        for k, v in fams.items()
    ):
        raise InputError("families must map a path prefix to the list of scopes a request "
                         "under it might need", file=source)
    for prefix, names in fams.items():
        for name in names:
            if name not in known:
                raise InputError(f"families: {prefix}: scope {name!r} is not declared",
                                 file=source)
    return Catalog(
        name=str(doc.get("name", source)),
        version=str(doc.get("version", "")),
        scopes=scopes,
        operations=tuple(operations),
        resources=tuple(sorted((str(k), tuple(v)) for k, v in res.items())),
        source=source,
        base_paths=tuple(base_paths),
        families=tuple((prefix, frozenset(names)) for prefix, names in fams.items()),
    )


def _list(doc: dict[str, Any], field: str, source: str) -> list[dict[str, Any]]:
    value = doc.get(field)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{field} must be a list of mappings", file=source)
    return value


def _str(doc: dict[str, Any], field: str, source: str) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value:
        raise InputError(f"missing or empty {field!r} in {doc!r:.80}", file=source)
    return value


@dataclass(frozen=True)
class LoadedCatalog:
    catalog: Catalog
    openapi: ImportReport | None = None  # what an OpenAPI import read; None for our format


def load_catalog_file(path: str, options: ImportOptions | None = None,
                      diagnostics: Diagnostics | None = None) -> Catalog:
    """A catalog file: scopeaudit's own format, or an OpenAPI 3.x / Swagger 2.0 document
    (JSON or YAML). ``options`` apply to OpenAPI documents only."""
    return read_catalog_file(path, options, diagnostics).catalog


def read_catalog_file(path: str, options: ImportOptions | None = None,
                      diagnostics: Diagnostics | None = None) -> LoadedCatalog:
    """As load_catalog_file, with what an OpenAPI import read (for ``scopeaudit catalog``)."""
    from scopeaudit.catalog.documents import read_document
    from scopeaudit.catalog.openapi import import_openapi, is_openapi_document

    doc = read_document(path)
    if is_openapi_document(doc.data):
        imported = import_openapi(doc, options, diagnostics)
        return LoadedCatalog(imported.catalog, imported.report)
    if options is not None and options.overrides is not None:
        raise InputError("--catalog-overrides applies to OpenAPI documents only; this is a "
                         "scopeaudit catalog: edit it instead", file=path)
    if options is not None and options.semantics is not None and diagnostics is not None:
        diagnostics.warn("--scope-list-semantics applies to OpenAPI documents only; "
                         "ignored for a scopeaudit catalog", file=path)
    return LoadedCatalog(catalog_from_document(doc.data, source=path))


def catalog_document(catalog: Catalog) -> dict[str, Any]:
    """The catalog in scopeaudit's own format (also what ``catalog --format json`` prints)."""
    # Everything catalog_from_document reads is written, so the output loads back (through
    # --catalog) to the same catalog: resources decide which scopes an unmatched request might
    # have needed, and the order of alternatives is kept as given.
    operations: list[dict[str, Any]] = []
    for op in catalog.operations:
        entry: dict[str, Any] = {
            "id": op.id,
            "method": op.method,
            "path": op.path,
            "scopes": [sorted(alt) for alt in op.requires],
            "provenance": op.provenance.value,
        }
        if op.note:
            entry["note"] = op.note
        operations.append(entry)
    document: dict[str, Any] = {
        "format": CATALOG_FORMAT,
        "name": catalog.name,
        "version": catalog.version,
        "base_paths": list(catalog.base_paths),
        "resources": {name: list(prefixes) for name, prefixes in catalog.resources},
    }
    if catalog.families:
        # path prefix -> scopes an unmatched request under it might need (OpenAPI imports)
        document["families"] = {prefix: sorted(scopes) for prefix, scopes in catalog.families}
    document["scopes"] = [{"name": s.name, "description": s.description}
                          for s in catalog.scopes]
    document["operations"] = operations
    return document


def catalog_yaml(catalog: Catalog) -> str:
    """The catalog in scopeaudit's own format as YAML (``catalog --format catalog``): one
    operation per block, its scope alternatives on one line. Loads back to the same catalog.

    A string holding an invisible character (an OpenAPI document's may) is double-quoted,
    where YAML has escapes, and the character written as one (``\\u202e``, as the reports
    show it): it loads back the same, and never reaches a terminal raw."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    from scopeaudit.render.text import for_terminal, has_invisible

    def quoted(value: Any) -> Any:
        if isinstance(value, str):
            return DoubleQuotedScalarString(value) if has_invisible(value) else value
        if isinstance(value, dict):
            return {quoted(k): quoted(v) for k, v in value.items()}
        if isinstance(value, list):
            return [quoted(v) for v in value]
        return value

    def flow(items: list[Any]) -> CommentedSeq:
        seq = CommentedSeq(items)
        seq.fa.set_flow_style()
        return seq

    document = quoted(catalog_document(catalog))
    for op in document["operations"]:
        op["scopes"] = flow([flow(alt) for alt in op["scopes"]])
    if "families" in document:
        document["families"] = CommentedMap(
            (prefix, flow(scopes)) for prefix, scopes in document["families"].items())
    document["base_paths"] = flow(document["base_paths"])
    document["resources"] = CommentedMap(
        (name, flow(prefixes)) for name, prefixes in document["resources"].items())
    yaml = YAML(typ="rt")
    yaml.width = 4096  # one line per scope list, however long
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(CommentedMap(document), out)
    return for_terminal(out.getvalue())  # every invisible character is double-quoted here
