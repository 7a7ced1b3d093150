"""Rule documentation views, all generated from the registry."""

from __future__ import annotations

from tabulate import tabulate

from scopeaudit.render.text import json_text
from scopeaudit.rules.registry import all_rules


def rules_table() -> str:
    rows = [(r.id, r.name, r.severity.value, r.summary) for r in all_rules(include_code=True)]
    return tabulate(rows, headers=("id", "name", "severity", "summary")) + "\n"


def rules_json() -> str:
    doc = [
        {"id": r.id, "name": r.name, "severity": r.severity.value, "family": r.family,
         "summary": r.summary, "what": r.what, "why": r.why, "example": r.example,
         "remediation": r.remediation}
        for r in all_rules(include_code=True)
    ]
    return json_text(doc)


def rules_markdown() -> str:
    """The README's rules table (kept in sync by tests/unit/test_readme.py)."""
    lines = ["| id | name | default severity | summary |", "|---|---|---|---|"]
    lines += [f"| {r.id} | `{r.name}` | {r.severity.value} | {r.summary} |"
              for r in all_rules(include_code=True)]
    return "\n".join(lines) + "\n"
