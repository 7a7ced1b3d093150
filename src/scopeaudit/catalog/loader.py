"""Reading scopeaudit's own catalog format (the built-in insp.ac data file uses it too)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.errors import InputError

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
    known = {s.name for s in scopes}
    operations: list[Operation] = []
    seen_ids: set[str] = set()
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
        operations.append(
            Operation(
                id=op_id,
                method=_str(raw, "method", source).upper(),
                path=_str(raw, "path", source),
                requires=tuple(frozenset(alt) for alt in alternatives),
                provenance=provenance,
                note=str(raw.get("note", "")),
            )
        )
    res = doc.get("resources", {})
    if not isinstance(res, dict):
        raise InputError("resources must map a resource name to path prefixes", file=source)
    return Catalog(
        name=str(doc.get("name", source)),
        version=str(doc.get("version", "")),
        scopes=scopes,
        operations=tuple(operations),
        resources=tuple((str(k), tuple(str(p) for p in v)) for k, v in sorted(res.items())),
        source=source,
        base_paths=tuple(str(b) for b in doc.get("base_paths", [""])),
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


def load_catalog_file(path: str) -> Catalog:
    """A scopeaudit catalog file (JSON or YAML)."""
    from pathlib import Path

    from scopeaudit.inventory import decode

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    text = decode(data, path)
    if path.lower().endswith((".yaml", ".yml")):
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError

        try:
            doc = YAML(typ="safe").load(text)
        except MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            raise InputError(f"invalid YAML: {exc.problem}", file=path, line=line) from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    return catalog_from_document(doc, source=path)


def catalog_document(catalog: Catalog) -> dict[str, Any]:
    """The catalog in scopeaudit's own format (also what ``catalog --format json`` prints)."""
    return {
        "format": CATALOG_FORMAT,
        "name": catalog.name,
        "version": catalog.version,
        "scopes": [{"name": s.name, "description": s.description} for s in catalog.scopes],
        "operations": [
            {
                "id": op.id,
                "method": op.method,
                "path": op.path,
                "scopes": sorted(sorted(alt) for alt in op.requires),
                "provenance": op.provenance.value,
            }
            for op in catalog.operations
        ],
    }
