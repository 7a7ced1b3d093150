"""The scan report as a table, JSON (``scopeaudit/scan/v1``) or SARIF.

Every view is built from the ScanReport alone. The SARIF document is built with the audit's
own helpers (rule descriptors, results, redaction), so GitHub reads both the same way.
"""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from scopeaudit import __version__
from scopeaudit.render.sarif import (
    SARIF_SCHEMA,
    SARIF_VERSION,
    TOOL_NAME,
    result_document,
    rule_descriptor,
)
from scopeaudit.scan.findings import CODE_NEEDS_MISSING_SCOPE, UNRESOLVED_CALL
from scopeaudit.scan.model import SCAN_SCHEMA, CallStatus, ScannedCall, ScanReport
from scopeaudit.secrets import redact, redact_json

FORMATS = ("table", "json", "sarif")


def _requirement(alternatives: tuple[frozenset[str], ...]) -> str:
    if not alternatives or not any(alternatives):
        return "(none)"
    return " or ".join(" and ".join(sorted(alt)) for alt in alternatives)


def _scopes(call: ScannedCall) -> str:
    return _requirement(call.operation.requires) if call.operation is not None else ""


def render_table(report: ScanReport) -> str:
    rows = []
    for call in report.calls:
        site = call.site
        note = site.reason if call.status is CallStatus.UNDETERMINED else \
            "no operation matches" if call.status is CallStatus.UNMATCHED else \
            "" if site.base_known else "base URL not in sight"
        rows.append((str(site.location), site.method or "?", site.target or "?",
                     call.operation_label or call.status.value, _scopes(call), note))
    lines = [f"scopeaudit scan: {len(report.calls)} call(s) in {report.files_scanned} "
             f"file(s); catalog {report.catalog}", ""]
    if rows:
        lines.append(tabulate(rows, headers=("location", "method", "target", "operation",
                                             "scopes", "note")))
        lines.append("")
    lines.append(f"matched {report.count(CallStatus.MATCHED)}, unmatched "
                 f"{report.count(CallStatus.UNMATCHED)}, undetermined "
                 f"{report.count(CallStatus.UNDETERMINED)} (never guessed: their scopes are "
                 "not counted below)")
    lines.append("scopes the code needs: " + (", ".join(report.scopes_needed()) or "(none)"))
    either = [alts for alts in report.needed() if len(alts) > 1]
    for alts in either:
        lines.append(f"  and one of: {_requirement(alts)}")
    for skipped in report.skipped:
        lines.append(f"skipped {skipped.path}: {skipped.reason}")
    if report.findings:
        lines.append("")
        keys = ", ".join(report.keys)
        lines.append(f"findings{f' (checked against {keys})' if keys else ''}:")
        for f in report.findings:
            lines.append(f"  {f.location} {f.rule} {f.severity.value}: {f.message}")
    return redact("\n".join(lines)) + "\n"


def scan_document(report: ScanReport) -> dict[str, Any]:
    calls = []
    for call in report.calls:
        site = call.site
        op = call.operation
        calls.append({
            "file": site.location.file, "line": site.location.line,
            "column": site.location.column, "language": site.language, "client": site.client,
            "method": site.method, "target": site.target, "base_known": site.base_known,
            "status": call.status.value, "path": call.path,
            "operation": None if op is None else {
                "id": op.id, "method": op.method, "path": op.path,
                "requires": [sorted(alt) for alt in op.requires],
                "provenance": op.provenance.value},
            "reason": site.reason or None,
        })
    return {
        "schema": SCAN_SCHEMA,
        "tool_version": __version__,
        "catalog": report.catalog,
        "files_scanned": report.files_scanned,
        "max_file_bytes": report.max_file_bytes,
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "calls": calls,
        "summary": {status.value: report.count(status) for status in CallStatus},
        "scopes_needed": list(report.scopes_needed()),
        "requirements": [[sorted(alt) for alt in alts] for alts in report.needed()],
        "keys": list(report.keys),
        "findings": [{"rule": f.rule, "name": f.name, "severity": f.severity.value,
                      "message": f.message, "file": f.location.file,
                      "line": f.location.line, "key": f.key, "scope": f.scope,
                      "fingerprint": f.fingerprint} for f in report.findings],
    }


def render_json(report: ScanReport) -> str:
    return json.dumps(redact_json(scan_document(report)), indent=2, ensure_ascii=False) + "\n"


def render_sarif(report: ScanReport) -> str:
    rules = [CODE_NEEDS_MISSING_SCOPE, UNRESOLVED_CALL]
    index = {rule.id: i for i, rule in enumerate(rules)}
    run = {
        "tool": {"driver": {"name": TOOL_NAME, "version": __version__,
                            "rules": [rule_descriptor(r) for r in rules]}},
        "automationDetails": {"id": f"{TOOL_NAME}/scan/"},
        "invocations": [{"executionSuccessful": True}],
        "results": [result_document(f, index[f.rule]) for f in report.findings],
    }
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(redact_json(document), indent=2, ensure_ascii=False) + "\n"


def render_scan(report: ScanReport, fmt: str) -> str:
    return {"table": render_table, "json": render_json, "sarif": render_sarif}[fmt](report)
