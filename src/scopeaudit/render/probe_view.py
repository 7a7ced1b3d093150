"""Views of a probe: a table for the terminal and the versioned JSON ``scopeaudit/probe/v1``.

The JSON is written field by field, like the audit contract, so an internal rename cannot
change what machines downstream read.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from scopeaudit.probe.model import ProbeReport, Result
from scopeaudit.render.json_render import finding_document
from scopeaudit.render.text import json_text, one_line, show_invisible
from scopeaudit.words import plural

SCHEMA_ID = "scopeaudit/probe/v1"


def render_probe(report: ProbeReport, fmt: str) -> str:
    return render_probe_json(report) if fmt == "json" else render_probe_table(report)


def _summary(report: ProbeReport) -> dict[str, int]:
    return {r.value.replace(" ", "_"): report.count(r) for r in Result}


def render_probe_json(report: ProbeReport) -> str:
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "tool": {"name": "scopeaudit", "version": report.tool_version},
        "generated_at": report.generated_at,
        "base_url": report.base_url,
        "key": {"fingerprint": report.key_fingerprint, "kind": report.key_kind},
        "catalog": {"name": report.catalog.name, "version": report.catalog.version,
                    "source": report.catalog.source},
        "scopes": [
            # code and reason may quote the server (its reason phrase): invisible characters
            # are shown as escapes, as in the table
            {"scope": r.scope, "kind": r.kind, "result": r.result.value, "status": r.status,
             "code": None if r.code is None else show_invisible(r.code),
             "request": r.request, "reason": show_invisible(r.reason) or None}
            for r in report.results
        ],
        "summary": _summary(report),
        "declared": None if report.declared is None else {
            "source": report.declared.source, "key": report.declared.key_id,
            "scopes": list(report.declared.scopes)},
        "findings": [finding_document(f) for f in report.findings],
        "warnings": list(report.warnings),
    }
    return json_text(doc)


def render_probe_table(report: ProbeReport) -> str:
    v = show_invisible  # scopes, routes and sources may come from an OpenAPI document
    rows = [(v(r.scope), r.result.value, "" if r.status is None else str(r.status),
             v(r.request or ""), one_line(r.reason, 90)) for r in report.results]
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in _summary(report).items())
    out = [f"{v(report.catalog.name)} {v(report.catalog.version)} probe of "
           f"{v(report.base_url)} with key {report.key_fingerprint} ({report.key_kind})", "",
           tabulate(rows, headers=("scope", "result", "status", "request", "detail")), "",
           counts]
    if report.declared is not None:
        out += ["", f"compared with {v(report.declared.key_id)} in "
                    f"{v(report.declared.source)}: "
                    f"{plural(len(report.findings), 'finding')}"]
        if report.findings:
            finding_rows = [(f.severity.value, f.rule, f.name, v(f.scope or ""),
                             v(str(f.location)), one_line(f.message, 120))
                            for f in report.findings]
            out += ["", tabulate(finding_rows, headers=("severity", "rule", "name", "scope",
                                                "location", "message"))]
    return "\n".join(out) + "\n"
