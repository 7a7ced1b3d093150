"""The terminal table fits the terminal's width and shows severities in colour, from the one
severity palette the HTML report and the history page use too."""

from __future__ import annotations

import dataclasses
import re

import pytest

from scopeaudit.model import Audit
from scopeaudit.render import RenderOptions
from scopeaudit.render.palette import PALETTE, paint
from scopeaudit.render.table import render_table, terminal_width
from scopeaudit.render.text import for_terminal

SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("width", [100, 80, 60])
def test_every_line_fits_the_width(example_audit: Audit, width: int) -> None:
    wide = render_table(example_audit, RenderOptions(width=0))
    assert max(map(len, wide.split("\n"))) > 200  # the issue's ~250 columns, unfitted
    text = render_table(example_audit, RenderOptions(width=width))
    assert max(map(len, text.split("\n"))) <= width
    # nothing lost that a reader needs: every finding's rule, key and line, every key
    flat = " ".join(text.split())
    for f in example_audit.findings:
        assert f"{f.location.file}:{f.location.line}" in flat
        assert f"{f.rule} {f.name}" in flat
    for k in example_audit.keys:
        assert k.id in text
    # a whole message, wrapped rather than cut (by hand: SA301 on the nginx log, line 61323)
    assert ("1 record in examples/logs/edge-nginx.log.gz carries a raw token (key "
            "'key_mobile_backend'); first at line 61323") in flat


def test_a_wide_enough_terminal_gets_the_table_as_it_was(example_audit: Audit) -> None:
    # the example's widest line: the key table with key_platform_admin's 26 scopes to remove
    assert render_table(example_audit, RenderOptions(width=1000)) == \
        render_table(example_audit, RenderOptions(width=0))


def test_no_width_given_and_no_terminal_means_no_limit(example_audit: Audit) -> None:
    # under pytest stdout is captured, not a terminal: a report to a pipe or file stays whole
    assert terminal_width(RenderOptions()) == 0
    assert terminal_width(RenderOptions(width=100)) == 100


def test_colour_marks_each_severity_from_the_palette(example_audit: Audit) -> None:
    plain = render_table(example_audit, RenderOptions(width=100))
    coloured = render_table(example_audit, RenderOptions(width=100, color=True))
    assert SGR.sub("", coloured) == plain and not SGR.search(plain)
    # by hand: the example's two critical findings start their lines in bold white on red
    assert coloured.count("\x1b[1;97;41mcritical\x1b[0m  SA301") == 2
    for c in PALETTE:
        assert paint(c.severity, c.severity, True) == f"\x1b[{c.ansi}m{c.severity}\x1b[0m"
    # the terminal gets the palette's own marks, and nothing a value could carry
    assert for_terminal(coloured) == coloured


def test_a_values_escape_sequence_is_never_passed_as_colour(example_audit: Audit) -> None:
    f = dataclasses.replace(example_audit.findings[0], message="evil \x1b[1;31mred\x1b[0m",
                            key="k\x1b]0;title\x07")
    text = render_table(dataclasses.replace(example_audit, findings=(f,)),
                        RenderOptions(width=100, color=True))
    shown = for_terminal(text)
    assert "evil \\x1b[1;31mred\\x1b[0m" in shown and "\\x1b]0;title\\x07" in shown
    assert SGR.findall(shown) == ["\x1b[1;97;41m", "\x1b[0m"]  # the severity's only
    # and a raw palette mark in text a view did not escape is the only kind kept
    assert for_terminal("\x1b[2J\x1b[31m") == "\\x1b[2J\\x1b[31m"


def test_one_severity_palette_for_the_html_report_and_the_history_page(
        example_audit: Audit) -> None:
    from scopeaudit.history import RunSummary
    from scopeaudit.render.history_view import render_history_html
    from scopeaudit.render.html import render_html

    html = render_html(example_audit, RenderOptions())
    fields = {f.name for f in dataclasses.fields(RunSummary)}
    run = RunSummary(**{name: _sample(name) for name in fields})
    history = render_history_html((run,), "history.sqlite")
    for c in PALETTE:
        assert f"--sev-{c.severity}: {c.web};" in html
        assert f".sev-{c.severity} {{ stroke: {c.web}; fill: {c.web}; }}" in history
    # the history table's severity columns: the palette's order, most severe first
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", history)
    assert header is not None
    names = re.findall(r"<th>([a-z ]+)</th>", header.group(1))
    assert names[5:10] == ["critical", "high", "medium", "low", "info"]


def _sample(name: str) -> object:
    if name == "findings":
        return {"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 5}
    if name in ("run_at", "tool_version", "keys_source", "as_of"):
        return "2026-11-27T00:00:00Z"
    return 1
