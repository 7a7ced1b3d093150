"""After a baseline, every findings view leads with what is new; the baselined and
suppressed findings are collapsed and counted ("1 new, 28 baselined") (issue #19, item 2)."""

from __future__ import annotations

import dataclasses

import pytest

from scopeaudit.model import Audit
from scopeaudit.render import RenderOptions
from scopeaudit.render.html import render_html
from scopeaudit.render.markdown import render_markdown
from scopeaudit.render.table import render_table


def _mark(audit: Audit, new: int | None) -> Audit:
    """Every finding baselined but the one at index ``new`` (None: all of them)."""
    return dataclasses.replace(audit, findings=tuple(
        f if i == new else dataclasses.replace(f, baselined=True)
        for i, f in enumerate(audit.findings)))


@pytest.fixture(scope="module")
def one_new(example_audit: Audit) -> Audit:
    # the last finding (an info SA108, row 29 of 29) is the new one
    return _mark(example_audit, len(example_audit.findings) - 1)


def test_table_lists_the_new_and_counts_the_rest(one_new: Audit) -> None:
    text = render_table(one_new, RenderOptions())
    rows = [line for line in text.splitlines() if line.startswith(("critical", "high",
                                                                    "medium", "low", "info"))]
    assert len(rows) == 1 and rows[0].split()[:3] == ["info", "SA108", "insufficient-evidence"]
    assert "Findings: 1 new, 28 baselined; --show-baselined lists the others." in text
    shown = render_table(one_new, RenderOptions(show_baselined=True))
    rows = [line for line in shown.splitlines() if line.startswith(("critical", "high",
                                                                     "medium", "low", "info"))]
    assert len(rows) == 29
    assert rows[0].startswith("info") and "[baselined]" not in rows[0]  # the new one first
    assert all(r.endswith("[baselined]") for r in rows[1:])


def test_markdown_collapses_the_baselined(one_new: Audit) -> None:
    text = render_markdown(one_new, RenderOptions())
    findings = text.split("### Findings\n\n")[1]
    assert findings.startswith("1 new, 28 baselined: the new ones first;")
    table, details = findings.split("<details>")
    assert table.count("\n| info | SA108") == 1 and table.count("\n| ") == 2  # the head and the row
    assert details.startswith("<summary>28 baselined or suppressed (not counted)</summary>")
    assert details.count("(baselined) |") == 28
    assert "- **Findings:** 29 (2 critical, 7 high, 14 medium, 3 low, 3 info); 1 new, 28 " \
           "baselined (only new ones count)" in text


def test_markdown_is_not_clean_above_a_table_of_findings(example_audit: Audit) -> None:
    text = render_markdown(_mark(example_audit, None), RenderOptions())
    assert "**Clean:** no new findings (0 new, 29 baselined)" in text
    assert "**Clean:** no findings" not in text
    findings = text.split("### Findings\n\n")[1]
    assert findings.split("<details>")[0].rstrip().endswith("No new findings.")


def test_html_table_has_the_new_and_a_toggle_for_the_rest(one_new: Audit) -> None:
    html = render_html(one_new, RenderOptions())
    main = html.split('id="findings-table"')[1].split("</table>")[0]
    assert main.count("<tr id=") == 1 and "<tr id=finding-28>" in main
    # up to the end of its table: each row holds a <details> of its own (the evidence)
    marked = html.split('<details id="findings-marked">')[1].split("</table>")[0]
    assert "<summary>28 baselined or suppressed (not counted): show</summary>" in marked
    assert marked.count("<tr id=finding-") == 28 and marked.count("class=baselined>") == 28
    assert "<strong>1 new, 28 baselined</strong>" in html
