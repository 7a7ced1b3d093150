"""The CLI's structure (issue #22 item 2): the library entries apply the gate, the CLI's
lists come from their one definition."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.entry import InputRequest, KeysSpec, lint_keys
from scopeaudit.gate import GatePolicy, RuleSettings
from scopeaudit.model import Severity
from scopeaudit.rules.inventory_rules import LintSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")
REQUEST = InputRequest(KeysSpec(EXAMPLE_KEYS), LintSettings(as_of=date(2026, 11, 27)),
                       timestamp=False)


def _rules(policy: GatePolicy) -> dict[str, set[Severity]]:
    out: dict[str, set[Severity]] = {}
    for f in lint_keys(REQUEST, policy, Diagnostics()).findings:
        out.setdefault(f.rule, set()).add(f.severity)
    return out


def test_a_library_caller_gets_per_rule_disable_and_severity_overrides() -> None:
    plain = _rules(GatePolicy())
    # the example holds SA201 (high) and SA203 (high) findings
    assert plain["SA201"] == {Severity.HIGH} and "SA203" in plain
    gated = _rules(GatePolicy(rules={"SA203": RuleSettings(disabled=True),
                                     "SA201": RuleSettings(severity=Severity.LOW)}))
    assert "SA203" not in gated
    assert gated["SA201"] == {Severity.LOW}


def test_cli_formats_are_the_renderers_formats() -> None:
    from scopeaudit.cli import FORMATS
    from scopeaudit.render import OutputFormat

    assert set(FORMATS) == {f.value for f in OutputFormat}


def test_severity_choices_come_from_the_severity_definition() -> None:
    from scopeaudit.cli.options import FAIL_ON_CHOICES, SEVERITY_CHOICES

    assert SEVERITY_CHOICES == ("critical", "high", "medium", "low", "info")
    assert tuple(s.value for s in sorted(Severity, reverse=True)) == SEVERITY_CHOICES
    assert FAIL_ON_CHOICES[-1] == "never"


def test_the_cli_is_a_package_without_any_at_the_library_seam() -> None:
    import inspect

    import scopeaudit.entry as entry

    assert (ROOT / "src" / "scopeaudit" / "cli" / "__init__.py").is_file()
    for name in ("lint_keys", "audit_keys", "baseline_text", "read_audit"):
        signature = inspect.signature(getattr(entry, name))
        assert "Any" not in str(signature), (name, signature)
