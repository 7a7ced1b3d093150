"""Views of a catalog for `scopeaudit catalog`."""

from __future__ import annotations

from tabulate import tabulate

from scopeaudit.catalog.loader import catalog_document
from scopeaudit.catalog.model import Catalog
from scopeaudit.render.text import json_text, show_invisible


def requirement_text(requires: tuple[frozenset[str], ...]) -> str:
    """``a | b + c`` for a OR (b AND c); ``(none)`` when no scope is needed."""
    if not requires:
        return "(none)"
    return " | ".join(" + ".join(sorted(alt)) or "(anonymous)" for alt in
                      sorted(requires, key=sorted))


def render_catalog_table(catalog: Catalog) -> str:
    # every name, path and description may come from an OpenAPI document: each is shown as
    # in the reports, its line breaks included, so that none can forge a row or a line
    v = show_invisible
    ops = [(v(op.method), v(op.path), v(requirement_text(op.requires)), op.provenance.value,
            v(op.id)) for op in catalog.operations]
    scopes = [(v(s.name), v(s.description)) for s in catalog.scopes]
    counts = ", ".join(f"{n} {p}" for p, n in catalog.provenance_counts().items())
    return (
        f"{v(catalog.name)} {v(catalog.version)} ({v(catalog.source)}): {len(catalog.operations)} "
        f"operations ({counts}), {len(catalog.scopes)} scopes\n\n"
        + tabulate(ops, headers=("method", "path", "scopes", "provenance", "id")) + "\n\n"
        + tabulate(scopes, headers=("scope", "grants")) + "\n"
    )


def render_catalog_json(catalog: Catalog) -> str:
    # The same document as a catalog file, so the output can be edited and fed back.
    return json_text(catalog_document(catalog))
