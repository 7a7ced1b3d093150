"""CSV: one row per finding, for spreadsheets and ticket imports, from the Audit value.

Key names, ids and messages come from files a reviewer does not control, and a spreadsheet
runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula. Following OWASP's
CSV-injection guidance, every such cell (and one starting with a tab or carriage return) is
prefixed with a single quote, and the csv module quotes cells holding commas, quotes or line
breaks. Control characters other than tab and newline are shown as ``\\xNN`` escapes, so no
raw escape sequence or NUL reaches a terminal or an importer. Findings never hold a token;
every cell still passes through :func:`scopeaudit.secrets.redact` as a last line of defence.
"""

from __future__ import annotations

import csv
import io

from scopeaudit.model import Audit, Finding
from scopeaudit.render import RenderOptions
from scopeaudit.render.text import show_invisible
from scopeaudit.secrets import redact

HEADER = ("severity", "rule", "name", "key", "scope", "confidence", "file", "line", "message",
          "fingerprint", "suppressed", "baselined")

# Cells a spreadsheet would read as a formula (OWASP): = + - @, or a leading tab / CR.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str | int | bool | None) -> str:
    """One cell's text: None empty, booleans as true/false, tokens redacted, controls
    escaped, and a cell that could start a formula neutralised with a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = redact(str(value))
    if text.startswith(FORMULA_START):  # checked before escaping: a leading CR counts too
        text = "'" + text
    return show_invisible(text, keep="\t\n")  # the cell's quoting carries tab and newline


def finding_row(f: Finding) -> list[str]:
    return [cell(v) for v in (
        f.severity.value, f.rule, f.name, f.key, f.scope, f.confidence, f.location.file,
        f.location.line, f.message, f.fingerprint, f.suppressed, f.baselined,
    )]


def render_csv(audit: Audit, options: RenderOptions) -> str:
    """With --history (``audit.drift``), a last column ``drift``: new, persisting or
    regressed since the previous run; without one the columns are exactly HEADER."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    states = audit.drift.states() if audit.drift is not None else None
    writer.writerow([cell(h) for h in HEADER] + (["drift"] if states is not None else []))
    for finding in audit.findings:
        row = finding_row(finding)
        if states is not None:
            row.append(cell(states.get(finding.fingerprint, "")))
        writer.writerow(row)
    return out.getvalue()
