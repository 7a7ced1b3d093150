"""Values that used to be worked out in several places, now in one: the time a run is stamped
with (window.utc_timestamp, the same form in lint, audit, probe and the history), whether an
audit raises the alarm (Audit.alarming, read by the HTML and the Markdown views), and the
mark every token starts with (secrets.TOKEN_MARK, the readers' cheap test before TOKEN_RE)."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.lint import lint
from scopeaudit.model import Audit, Finding, Location, Severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.html import render_html
from scopeaudit.render.markdown import render_markdown
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.secrets import TOKEN_FIXED_PARTS, TOKEN_MARK, TOKEN_RE
from scopeaudit.window import utc_timestamp

AS_OF = date(2026, 11, 27)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _lint(timestamp: bool) -> Audit:
    keys = (b"keys:\n  - id: key_a\n    owner: team\n    expires: 2027-01-01\n"
            b"    scopes: [issues:read]\n")
    inventory = parse_inventory(keys, "keys.yaml", KeysFormat.YAML, Diagnostics())
    return lint(inventory, load_builtin(), LintSettings(as_of=AS_OF), Diagnostics(),
                timestamp=timestamp)


def test_lint_stamps_its_time_as_the_audit_does() -> None:
    """It wrote ``+00:00`` where the audit and the probe wrote ``Z``."""
    stamped = _lint(timestamp=True).generated_at
    assert stamped is not None and STAMP.fullmatch(stamped), stamped
    assert STAMP.fullmatch(utc_timestamp())


def _with(severity: Severity, *, suppressed: bool = False, baselined: bool = False) -> Audit:
    finding = Finding("SA203", "broad-key", severity, "m", Location("keys.yaml", 2),
                      key="key_a", suppressed=suppressed, baselined=baselined)
    return replace(_lint(timestamp=False), findings=(finding,))


@pytest.mark.parametrize(("audit", "alarming"), [
    (_with(Severity.CRITICAL), True),
    (_with(Severity.HIGH), True),
    (_with(Severity.MEDIUM), False),
    (_with(Severity.HIGH, suppressed=True), False),
    (_with(Severity.HIGH, baselined=True), False),
])
def test_every_view_raises_the_alarm_on_one_definition(audit: Audit, alarming: bool) -> None:
    assert audit.alarming is alarming
    options = RenderOptions()
    assert ("**Action needed:**" in render_markdown(audit, options)) is alarming
    assert ('<div class="tile bad">' in render_html(audit, options)) is alarming


SRC = Path(__file__).resolve().parents[2] / "src" / "scopeaudit"
# Files that still write the token mark themselves (none: the readers and engines take
# secrets.TOKEN_MARK since the #22 branches were merged).
MARK_PENDING: frozenset[str] = frozenset()


def _writes_the_mark(path: Path) -> bool:
    """A string or bytes constant that is the mark, or SQL text that tests for it."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            if text == TOKEN_MARK or f"'{TOKEN_MARK}'" in text:
                return True
    return False


def test_the_token_mark_is_written_once() -> None:
    writers = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if _writes_the_mark(p)}
    assert writers - MARK_PENDING == {"secrets.py"}
    assert writers >= MARK_PENDING, "a pending file no longer writes the mark: drop it"


def test_the_mark_starts_every_token() -> None:
    assert all(fixed.startswith(TOKEN_MARK) for fixed in TOKEN_FIXED_PARTS)
    assert TOKEN_RE.pattern.startswith(TOKEN_MARK)
