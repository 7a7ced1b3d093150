"""The CSV view: one row per finding, safe to open in a spreadsheet.

Hostile key ids, names and messages must parse back (csv module) to the same rows and columns,
every cell a spreadsheet would run as a formula must start with a single quote (OWASP CSV
injection), and no raw control character other than tab and newline may survive.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AS_OF, normalise
from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.lint import lint
from scopeaudit.model import Audit, Finding, Location, Severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.csv_render import render_csv
from scopeaudit.rules.inventory_rules import LintSettings
from support import check_golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "example.csv"

HEADER = ["severity", "rule", "name", "key", "scope", "confidence", "file", "line", "message",
          "fingerprint", "suppressed", "baselined"]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# C0 controls but tab and newline, DEL and C1 (written here, not imported from the renderer)
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

HOSTILE = [
    '=HYPERLINK("http://x")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\t=1",
    "a | b | c",
    "`rm -rf /` and ``double``",
    "<script>alert(1)</script>",
    '"><img onerror=alert(1)>',
    "@org/team",
    "\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "\r=carriage",
    "line one\nline two",
    'she said "hi", then left',
    "x" * 10_240,
]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def lint_text(text: str) -> Audit:
    inventory = parse_inventory(text.encode("utf-8"), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    return lint(inventory, load_builtin(), LintSettings(as_of=AS_OF), Diagnostics(),
                timestamp=False)


SMALL = """\
keys:
  - id: key_report
    name: Weekly report
    created: 2026-06-01
    scopes: [issues:read, issues:write]
"""


def small_finding() -> Finding:
    return lint_text(SMALL).findings[0]


def hostile_audit() -> Audit:
    base = lint_text(SMALL)
    f0 = base.findings[0]
    findings = tuple(
        dataclasses.replace(f0, key=h, scope=h, message=h, name=h, confidence=h,
                            location=Location(h, 7), discriminator=str(i))
        for i, h in enumerate(HOSTILE))
    return dataclasses.replace(base, findings=findings)


def test_example_golden_file(example_audit: Audit) -> None:
    text = normalise(render_csv(example_audit, RenderOptions()))
    check_golden(GOLDEN, text)


def test_example_rows(example_audit: Audit) -> None:
    text = render_csv(example_audit, RenderOptions())
    assert "\r" not in text  # \n line ends
    rows = parse(text)
    assert rows[0] == HEADER
    assert len(rows) == len(example_audit.findings) + 1
    assert all(len(r) == len(HEADER) for r in rows)
    by_rule = [dict(zip(HEADER, r, strict=True)) for r in rows[1:]]
    # worked out by hand from examples/keys.yaml: line 18 grants key_bi_export issues:write
    sa102 = next(r for r in by_rule if r["rule"] == "SA102" and r["key"] == "key_bi_export")
    assert sa102 == {
        "severity": "high", "rule": "SA102", "name": "unused-scope", "key": "key_bi_export",
        "scope": "issues:write", "confidence": "high", "file": "examples/keys.yaml",
        "line": "18",
        "message": "key 'key_bi_export' never exercised 'issues:write' in the window "
                   "(7655 accepted requests on 89 days)",
        "fingerprint": sa102["fingerprint"], "suppressed": "false", "baselined": "false",
    }
    assert re.fullmatch(r"[0-9a-f]{32}", sa102["fingerprint"])
    # empty, not "None", where a finding has no scope or confidence
    sa205 = next(r for r in by_rule if r["rule"] == "SA205")
    assert sa205["scope"] == "" and sa205["confidence"] == ""
    assert [r["rule"] for r in by_rule] == [f.rule for f in example_audit.findings]


def test_baselined_column() -> None:
    f = dataclasses.replace(small_finding(), baselined=True)
    rows = parse(render_csv(dataclasses.replace(lint_text(SMALL), findings=(f,)),
                            RenderOptions()))
    assert rows[1][HEADER.index("baselined")] == "true"
    assert rows[1][HEADER.index("suppressed")] == "false"


def test_suppressed_column() -> None:
    f = dataclasses.replace(small_finding(), suppressed=True)
    rows = parse(render_csv(dataclasses.replace(lint_text(SMALL), findings=(f,)),
                            RenderOptions()))
    assert rows[1][HEADER.index("suppressed")] == "true"


def test_an_audit_without_findings_is_just_the_header() -> None:
    audit = dataclasses.replace(lint_text(SMALL), findings=())
    assert render_csv(audit, RenderOptions()) == ",".join(HEADER) + "\n"


def test_hostile_cells_are_neutralised() -> None:
    audit = hostile_audit()
    text = render_csv(audit, RenderOptions())
    assert not RAW_CONTROL.search(text)
    rows = parse(text)
    assert len(rows) == len(HOSTILE) + 1
    assert all(len(r) == len(HEADER) for r in rows)
    text_columns = [HEADER.index(c) for c in ("name", "key", "scope", "confidence", "file",
                                              "message")]
    for original, row in zip(HOSTILE, rows[1:], strict=True):
        for column in text_columns:
            value = row[column]
            assert not value.startswith(DANGEROUS_START), (original[:20], value[:20])
            if original.startswith(DANGEROUS_START):
                assert value.startswith("'"), value[:20]
        assert row[HEADER.index("line")] == "7"

    got = {h[:30]: row[HEADER.index("message")] for h, row in zip(HOSTILE, rows[1:],
                                                                    strict=True)}
    # by hand: the exact cell each hostile text becomes
    assert got['=HYPERLINK("http://x")'] == '\'=HYPERLINK("http://x")'
    assert got["+1"] == "'+1"
    assert got["-2"] == "'-2"
    assert got["@SUM(A1)"] == "'@SUM(A1)"
    assert got["\t=1"] == "'\t=1"
    assert got["@org/team"] == "'@org/team"
    assert got["\r=carriage"] == "'\\x0d=carriage"
    assert got["\x1b[31mred\x1b[0m"] == "\\x1b[31mred\\x1b[0m"
    assert got["nul\x00byte"] == "nul\\x00byte"
    # not formulas, not HTML: CSV keeps them verbatim (the HTML report escapes, not this)
    for benign in ("a | b | c", "`rm -rf /` and ``double``", "<script>alert(1)</script>",
                   '"><img onerror=alert(1)>', "line one\nline two",
                   'she said "hi", then left'):
        assert got[benign[:30]] == benign
    assert got["x" * 30] == "x" * 10_240


def test_hostile_key_file_linted() -> None:
    keys = """\
keys:
  - id: "=HYPERLINK(\\"http://x\\")"
    name: "+1"
    scopes: ["-2", "@SUM(A1)", "|", "`x`"]
  - id: "@org/team"
    name: "\\e[31m<script>\\x00"
    scopes: ["\\"><img onerror=alert(1)>", "a\\nb \\"q\\""]
"""
    audit = lint_text(keys)
    text = render_csv(audit, RenderOptions())
    assert not RAW_CONTROL.search(text)
    rows = parse(text)
    assert len(rows) == len(audit.findings) + 1 and all(len(r) == 12 for r in rows)
    cells = {(r[HEADER.index("rule")], r[HEADER.index("key")], r[HEADER.index("scope")])
             for r in rows[1:]}
    # by hand: SA201 for every scope (none is known), SA205/SA206 for both keys
    hyperlink = '\'=HYPERLINK("http://x")'
    assert cells == {
        ("SA201", hyperlink, "'-2"), ("SA201", hyperlink, "'@SUM(A1)"),
        ("SA201", hyperlink, "|"), ("SA201", hyperlink, "`x`"),
        ("SA201", "'@org/team", '"><img onerror=alert(1)>'),
        ("SA201", "'@org/team", 'a\nb "q"'),
        ("SA205", hyperlink, ""), ("SA205", "'@org/team", ""),
        ("SA206", hyperlink, ""), ("SA206", "'@org/team", ""),
    }


def test_no_token_in_the_csv() -> None:
    token = "sk_live_" + "Zq8" * 8
    audit = lint_text(SMALL + f"    prefix: {token}\n")
    assert "SA210" in {f.rule for f in audit.findings}
    # even a finding that (wrongly) quoted the token is redacted on the way out
    leaky = dataclasses.replace(audit.findings[0], message=f"oops {token}")
    text = render_csv(dataclasses.replace(audit, findings=(*audit.findings, leaky)),
                      RenderOptions())
    assert "Zq8Zq8Zq8" not in text


# any text, often starting with a character a spreadsheet treats specially
_CELL_TEXT = st.builds(lambda head, tail: head + tail,
                       st.sampled_from(["", "", "'", "=", "+", "-", "@", "\t", "\r", "\x00"]),
                       st.text(max_size=60))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELL_TEXT, min_size=1, max_size=4))
def test_any_text_round_trips_safely(texts: list[str]) -> None:
    base = small_finding()
    findings = tuple(
        dataclasses.replace(base, key=t, message=t, severity=Severity.LOW) for t in texts)
    audit = dataclasses.replace(lint_text(SMALL), findings=findings)
    text = render_csv(audit, RenderOptions())
    assert not RAW_CONTROL.search(text)
    rows = parse(text)
    assert len(rows) == len(texts) + 1 and all(len(r) == len(HEADER) for r in rows)
    for t, row in zip(texts, rows[1:], strict=True):
        for value in (row[HEADER.index("key")], row[HEADER.index("message")]):
            assert not value.startswith(DANGEROUS_START)
            if not RAW_CONTROL.search(t) and "sk_" not in t.lower() \
                    and "bearer" not in t.lower():
                assert value == ("'" + t if t.startswith(DANGEROUS_START) else t)
