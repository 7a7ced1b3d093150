"""The terminal view: a findings table and a one-line summary."""

from __future__ import annotations

from tabulate import tabulate

from scopeaudit.model import Audit, count_by_severity
from scopeaudit.render.text import one_line


def render_table(audit: Audit) -> str:
    lines: list[str] = []
    if audit.findings:
        rows = [
            (f.severity.value, f"{f.rule} {f.name}", one_line(f.key or "-", 40),
             one_line(f.scope or "-", 30), f"{f.location.file}:{f.location.line}",
             one_line(f.message, 120))
            for f in audit.findings
        ]
        lines.append(tabulate(rows, headers=("severity", "rule", "key", "scope", "location",
                                             "message"), tablefmt="simple"))
    else:
        lines.append("No findings.")
    counts = count_by_severity(audit.findings)
    shown = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
    lines.append("")
    lines.append(f"{len(audit.keys)} keys checked; findings: {shown}.")
    return "\n".join(lines) + "\n"
