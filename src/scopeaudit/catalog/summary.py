"""What ``scopeaudit catalog`` says it read: counts of operations, scopes and requirements."""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.catalog.model import Catalog
from scopeaudit.catalog.openapi import ImportReport
from scopeaudit.render.text import show_invisible


@dataclass(frozen=True)
class CatalogCounts:
    operations: int
    scopes: int
    required_scopes: int  # named by some operation's alternatives
    need_scope: int  # operations with no empty alternative
    no_scope: int  # operations with an empty alternative: callable without any scope
    with_alternatives: int  # operations with more than one alternative (OR)
    alternatives: int  # alternatives over all operations
    and_alternatives: int  # alternatives naming more than one scope (AND)
    base_paths: tuple[str, ...]
    families: int

    @classmethod
    def of(cls, catalog: Catalog) -> CatalogCounts:
        required: set[str] = set()
        for op in catalog.operations:
            required |= op.scopes
        no_scope = sum(1 for op in catalog.operations if frozenset() in op.requires)
        return cls(
            operations=len(catalog.operations),
            scopes=len(catalog.scopes),
            required_scopes=len(required),
            need_scope=len(catalog.operations) - no_scope,
            no_scope=no_scope,
            with_alternatives=sum(1 for op in catalog.operations if len(op.requires) > 1),
            alternatives=sum(len(op.requires) for op in catalog.operations),
            and_alternatives=sum(1 for op in catalog.operations for alt in op.requires
                                 if len(alt) > 1),
            base_paths=catalog.base_paths,
            families=len(catalog.path_families),
        )


def summary_text(catalog: Catalog, report: ImportReport | None, warnings: int) -> str:
    """Lines for the end of the catalog table. Nothing here names the file, so two equal
    catalogs read from different places give the same summary."""
    c = CatalogCounts.of(catalog)
    lines = ["what was read:"]
    if report is not None:
        lines.append(f"  document: {report.kind}, {report.document_operations} operations; "
                     f"scope lists read as {report.semantics}-of"
                     + (f"; pseudo-scopes: {show_invisible(', '.join(report.pseudo_scopes))}"
                        if report.pseudo_scopes else ""))
    merged = ""
    if report is not None and report.merged:
        merged = f" ({len(report.merged)} same-shape templates merged into others)"
    lines.append(f"  operations: {c.operations}{merged}; {c.need_scope} need a scope, "
                 f"{c.no_scope} can be called without one")
    if report is not None:
        lines.append(f"  without a scope: {report.anonymous} allow anonymous access ({{}}), "
                     f"{report.no_security} have no security, "
                     f"{report.other_credentials_only} only schemes without scopes, "
                     f"{report.authenticated_without_scope} a scoped scheme with no scope")
    lines.append(f"  alternatives: {c.alternatives} in all; {c.with_alternatives} operations "
                 f"have more than one (OR); {c.and_alternatives} need several scopes (AND)")
    if report is not None and report.atlassian:
        lines.append(f"  x-atlassian-oauth2-scopes: on {report.atlassian} operations "
                     "(its entries are added as alternatives)")
    if report is not None and report.overridden:
        lines.append(f"  override file: {report.overridden} operations")
    if report is not None:
        unused = c.scopes - c.required_scopes
        lines.append(f"  scopes: {c.scopes} ({report.declared_scopes} declared, "
                     f"{report.used_scopes} required by an operation, {unused} never "
                     "required)")
    else:
        lines.append(f"  scopes: {c.scopes} ({c.required_scopes} required by an operation)")
    lines.append("  base paths: " + ", ".join(show_invisible(b) or '"" (no prefix)'
                                              for b in c.base_paths))
    lines.append(f"  path families for unmatched requests: {c.families}")
    lines.append(f"  warnings: {warnings}")
    return "\n".join(lines) + "\n"
