"""The lint pipeline: key definitions + catalog -> an Audit holding the static findings."""

from __future__ import annotations

from scopeaudit import __version__
from scopeaudit.catalog.model import Catalog, catalog_info
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.model import Audit, InputFile, Inventory, sorted_findings
from scopeaudit.rules.inventory_rules import LintContext, LintSettings, run_inventory_rules
from scopeaudit.rules.registry import all_rules
from scopeaudit.window import utc_timestamp


def lint(inventory: Inventory, catalog: Catalog, settings: LintSettings,
         diagnostics: Diagnostics, *, timestamp: bool = True) -> Audit:
    findings = run_inventory_rules(LintContext(inventory, catalog, settings))
    return Audit(
        mode="lint",
        tool_version=__version__,
        as_of=settings.as_of,
        inputs=(InputFile(inventory.source, "keys", inventory.sha256, len(inventory.keys)),),
        catalog=catalog_info(catalog),
        keys=inventory.keys,
        findings=sorted_findings(findings),
        warnings=tuple(str(w) for w in diagnostics.warnings),
        generated_at=utc_timestamp() if timestamp else None,
        rules=all_rules(),
    )
