"""Each static rule (SA2xx): a case that fires and a case that does not, expectations by hand."""

from __future__ import annotations

from datetime import date
from textwrap import dedent

import pytest

from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Finding, Severity
from scopeaudit.rules.inventory_rules import CHECKS, LintContext, LintSettings, run_inventory_rules
from scopeaudit.rules.registry import REGISTRY

AS_OF = date(2026, 11, 27)
CATALOG = load_builtin()
GOOD = """\
  - id: good
    name: Ticketing sync
    owner: it@example.com
    created: 2026-06-01
    expires: 2027-06-01
    scopes: [issues:read, issues:write]
"""


def lint_yaml(text: str, **settings: int) -> list[Finding]:
    inventory = parse_inventory(dedent(text).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    ctx = LintContext(inventory, CATALOG, LintSettings(as_of=AS_OF, **settings))
    return run_inventory_rules(ctx)


def only(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def test_every_registered_inventory_rule_has_a_check_and_back() -> None:
    registered = {r.id for r in REGISTRY.values() if r.family == "inventory"}
    assert registered == set(CHECKS)


def test_a_well_kept_key_has_no_findings() -> None:
    assert lint_yaml("keys:\n" + GOOD) == []


def test_sa201_unknown_scope_fires_with_suggestion_and_scope_line() -> None:
    findings = only(lint_yaml("""\
        keys:
          - id: k1
            owner: a
            expires: 2027-01-01
            scopes:
              - issues:read
              - isues:read
        """), "SA201")
    assert len(findings) == 1
    f = findings[0]
    assert (f.key, f.scope, f.severity) == ("k1", "isues:read", Severity.HIGH)
    assert f.location.line == 7
    assert "did you mean 'issues:read'" in f.message
    assert f.evidence == {"suggestion": "issues:read"}


def test_sa201_no_suggestion_for_nonsense_and_silent_for_known() -> None:
    findings = only(lint_yaml("keys:\n  - {id: k, scopes: [zzzz, issues:read]}\n"), "SA201")
    assert [f.scope for f in findings] == ["zzzz"]
    assert "did you mean" not in findings[0].message
    assert only(lint_yaml("keys:\n" + GOOD), "SA201") == []


def test_sa202_duplicate_scope_points_at_the_repeat() -> None:
    findings = only(lint_yaml("""\
        keys:
          - id: k1
            scopes:
              - works:read
              - issues:read
              - works:read
        """), "SA202")
    assert [(f.scope, f.location.line, f.severity) for f in findings] == [
        ("works:read", 6, Severity.LOW)]
    assert findings[0].evidence == {"lines": [4, 6]}
    assert only(lint_yaml("keys:\n" + GOOD), "SA202") == []


def test_sa203_medium_at_threshold_not_below() -> None:
    ten = ", ".join(f"{r}:read" for r in
                    ("issues", "works", "sites", "assets", "users", "checkins", "logs",
                     "sensors", "templates", "runs"))
    nine = ten.rsplit(", ", 1)[0]
    fired = only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{ten}]}}\n"), "SA203")
    assert [(f.key, f.severity) for f in fired] == [("k", Severity.MEDIUM)]
    assert only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{nine}]}}\n"), "SA203") == []
    # the threshold is configurable
    lowered = only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{nine}]}}\n",
                             broad_key_threshold=9), "SA203")
    assert len(lowered) == 1


def test_sa203_duplicates_and_unknown_scopes_do_not_count_toward_breadth() -> None:
    nine = [f"{r}:read" for r in ("issues", "works", "sites", "assets", "users", "checkins",
                                  "logs", "sensors", "templates")]
    scopes = ", ".join([*nine, "issues:read", "bogus:read"])
    assert only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{scopes}]}}\n"), "SA203") == []


def test_sa203_high_when_every_write_scope_is_held() -> None:
    writes = sorted(CATALOG.write_scopes)
    assert len(writes) == 13
    scopes = ", ".join(writes)
    fired = only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{scopes}]}}\n"), "SA203")
    assert [(f.severity, f.evidence) for f in fired] == [
        (Severity.HIGH, {"scopes": 13, "threshold": 10})]
    missing_one = ", ".join(writes[1:])
    fired = only(lint_yaml(f"keys:\n  - {{id: k, scopes: [{missing_one}]}}\n"), "SA203")
    assert [f.severity for f in fired] == [Severity.MEDIUM]  # 12 scopes >= 10


@pytest.mark.parametrize(("name", "tags"), [
    ("BI export", "[]"), ("Weekly report", "[]"), ("Reporting", "[]"),
    ("Analytics feed", "[]"), ("Ops dashboard", "[]"), ("sync", "[read-only]"),
    ("sync", "[readonly]"), ("Looker (read only)", "[]"),
])
def test_sa204_fires_for_read_only_words(name: str, tags: str) -> None:
    fired = only(lint_yaml(f"""\
        keys:
          - id: k
            name: {name}
            tags: {tags}
            scopes:
              - issues:read
              - issues:write
        """), "SA204")
    assert [(f.scope, f.location.line, f.severity) for f in fired] == [
        ("issues:write", 7, Severity.HIGH)]


@pytest.mark.parametrize("name", ["Mobile back end", "Ambient sensors", "Data importer",
                                  "Debit sync"])
def test_sa204_silent_without_the_words(name: str) -> None:
    # "mobile" contains "bi" and "ambient" contains "bi" too: words, not substrings, count
    text = f"keys:\n  - {{id: k, name: {name}, scopes: [issues:write]}}\n"
    assert only(lint_yaml(text), "SA204") == []


def test_sa204_silent_for_read_only_key_with_read_scopes() -> None:
    text = "keys:\n  - {id: k, name: BI export, scopes: [issues:read, works:read]}\n"
    assert only(lint_yaml(text), "SA204") == []


def test_sa205_sa206_fire_and_not() -> None:
    findings = lint_yaml("keys:\n  - {id: bare, scopes: [issues:read]}\n" + GOOD)
    assert [(f.rule, f.key) for f in findings if f.rule in {"SA205", "SA206"}] == [
        ("SA205", "bare"), ("SA206", "bare")]


def test_sa207_expired_boundary() -> None:
    def expired(expires: str) -> list[Finding]:
        return only(lint_yaml(f"keys:\n  - {{id: k, expires: {expires}, scopes: []}}\n"),
                    "SA207")

    assert expired("2026-11-26")  # the day before the audit date
    assert not expired("2026-11-27")  # expires today: still valid today
    assert not expired("2026-11-28")
    assert "1 days before 2026-11-27" in expired("2026-11-26")[0].message


def test_sa208_rotation_boundary_and_setting() -> None:
    def overdue(created: str, **kw: int) -> list[Finding]:
        return only(lint_yaml(f"keys:\n  - {{id: k, created: {created}, scopes: []}}\n", **kw),
                    "SA208")

    assert not overdue("2025-11-27")  # exactly 365 days
    assert overdue("2025-11-26")  # 366 days
    assert overdue("2026-10-27", rotation_days=30)  # 31 days > 30
    assert overdue("2025-11-26")[0].evidence == {
        "created": "2025-11-26", "age_days": 366, "rotation_days": 365}


def test_sa209_duplicate_id_and_fingerprint() -> None:
    digest = "ab" * 32
    findings = only(lint_yaml(f"""\
        keys:
          - id: a
            scopes: []
          - id: a
            scopes: []
          - id: b
            sha256: {digest}
            scopes: []
          - id: c
            sha256: "sha256:{digest.upper()}"
            scopes: []
        """), "SA209")
    assert [(f.key, f.location.line, f.evidence) for f in findings] == [
        ("a", 4, {"lines": [2, 4]}), ("b", 9, {"lines": [6, 9]})]
    assert only(lint_yaml("keys:\n" + GOOD), "SA209") == []


def test_sa210_secret_in_definitions_names_line_never_the_token() -> None:
    token = "sk_live_" + "0FAKE0TOKEN0FOR0TESTS000"
    findings = only(lint_yaml(f"""\
        keys:
          - id: a
            scopes: []
          - id: b
            # pasted by mistake: {token}
            scopes: []
        """), "SA210")
    assert [(f.key, f.location.line, f.severity) for f in findings] == [
        ("b", 5, Severity.CRITICAL)]
    assert token not in repr(findings)
    assert "sha256:" in findings[0].message


def test_sa210_short_prefix_is_not_a_secret() -> None:
    text = "keys:\n  - {id: a, prefix: sk_live_7Hq2, scopes: []}\n"
    assert only(lint_yaml(text), "SA210") == []


def test_fingerprint_ignores_line_numbers() -> None:
    a = lint_yaml("keys:\n  - {id: k, scopes: [isues:read]}\n")
    b = lint_yaml("keys:\n\n\n  - {id: z, scopes: []}\n  - {id: k, scopes: [isues:read]}\n")
    fa = {f.fingerprint for f in a if f.rule == "SA201"}
    fb = {f.fingerprint for f in b if f.rule == "SA201"}
    assert fa == fb and len(fa) == 1


@pytest.mark.parametrize(("prefix", "kinds"), [
    ("sk_live_", "sk_live_…"), ("sk_live", "sk_live_…"), ("sk_test_", "sk_test_…"),
    ("sk_", "sk_live_… and sk_test_…"), ("s", "sk_live_… and sk_test_…"),
])
def test_sa213_catch_all_prefix(prefix: str, kinds: str) -> None:
    findings = only(lint_yaml(f"keys:\n  - {{id: a, prefix: '{prefix}', scopes: []}}\n"),
                    "SA213")
    assert [(f.key, f.location.line, f.severity) for f in findings] == [
        ("a", 2, Severity.HIGH)]
    assert f"every {kinds} token" in findings[0].message


@pytest.mark.parametrize("prefix", ["sk_live_7Hq2", "sk_live_a", "sk_test_0", "key_"])
def test_sa213_a_prefix_past_the_fixed_part_is_a_matcher(prefix: str) -> None:
    assert only(lint_yaml(f"keys:\n  - {{id: a, prefix: {prefix}, scopes: []}}\n"),
                "SA213") == []


def test_token_fixed_parts_start_every_token() -> None:
    from scopeaudit.secrets import TOKEN_FIXED_PARTS, TOKEN_RE

    for fixed in TOKEN_FIXED_PARTS:
        assert TOKEN_RE.fullmatch(fixed + "A1" * 8)
    for token in ("sk_live_" + "0" * 16, "sk_test_" + "z" * 30):
        assert TOKEN_RE.fullmatch(token) and token.startswith(TOKEN_FIXED_PARTS)
