"""Suppressions (globs, expiry boundary, stale entries) and the baseline, by hand."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scopeaudit.errors import InputError
from scopeaudit.gate import Suppression, apply_gate, baseline_document, load_baseline
from scopeaudit.model import Finding, Location, Severity

HERE = Location("scopeaudit.toml", 7)


def finding(rule: str = "SA102", key: str | None = "key_bi_export",
            scope: str | None = "issues:write", line: int = 10) -> Finding:
    names = {"SA102": "unused-scope", "SA206": "no-expiry", "SA303": "unknown-key"}
    return Finding(rule, names[rule], Severity.HIGH, "m", Location("keys.yaml", line), key,
                   scope)


def entry(**kw: object) -> Suppression:
    base: dict[str, object] = {"rule": "SA102", "reason": "accepted", "location": HERE}
    base.update(kw)
    return Suppression(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "scope", "matches"), [
    ("*", "*", True),
    ("key_bi_*", "*", True),
    ("key_bi_export", "issues:*", True),
    ("key_bi_export", "*:write", True),
    ("key_bi_?xport", "issues:write", True),
    ("key_BI_*", "*", False),  # globs are case-sensitive, as key ids are
    ("key_sensor_*", "*", False),
    ("*", "issues:read", False),
    ("*", "", False),  # an empty glob matches only a finding with no scope
])
def test_globs(key: str, scope: str, matches: bool) -> None:
    assert entry(key=key, scope=scope).matches(finding()) is matches


def test_rule_by_id_name_or_star_and_no_scope_findings() -> None:
    assert entry(rule="unused-scope").matches(finding())
    assert entry(rule="*").matches(finding())
    assert not entry(rule="SA101").matches(finding())
    no_scope = finding("SA206", scope=None)
    assert entry(rule="SA206").matches(no_scope)  # '*' scope matches a finding without one
    assert entry(rule="SA206", scope="").matches(no_scope)


@pytest.mark.parametrize(("as_of", "suppressing"), [
    (date(2026, 11, 29), True),  # the day before the expiry date
    (date(2026, 11, 30), True),  # the expiry day itself: still valid
    (date(2026, 12, 1), False),  # the day after: expired, and SA901
])
def test_expiry_boundary(as_of: date, suppressing: bool) -> None:
    result = apply_gate([finding()], [entry(expires=date(2026, 11, 30))], None, as_of)
    original = result.findings[0]
    assert original.suppressed is suppressing
    rules = [f.rule for f in result.findings[1:]]
    assert rules == ([] if suppressing else ["SA901"])
    if not suppressing:
        sa901 = result.findings[1]
        assert sa901.severity is Severity.MEDIUM and sa901.location == HERE


def test_suppressed_findings_are_kept_marked_and_counted_apart() -> None:
    result = apply_gate([finding(), finding(scope="issues:read")],
                        [entry(scope="issues:write", reason="backfill job")], None,
                        date(2026, 11, 27))
    assert [f.suppressed for f in result.findings] == [True, False]
    assert result.findings[0].suppression_reason == "backfill job"
    assert result.findings[0].counts is False and result.findings[1].counts is True
    assert (result.suppressed, result.baselined) == (1, 0)


def test_unused_suppression_is_sa902() -> None:
    result = apply_gate([finding()], [entry(rule="SA206")], None, date(2026, 11, 27))
    assert [f.rule for f in result.findings] == ["SA102", "SA902"]
    assert result.findings[1].severity is Severity.LOW


def test_baseline_round_trip_ignores_line_numbers(tmp_path: Path) -> None:
    before = [finding(line=10), finding("SA206", scope=None, line=3)]
    path = tmp_path / "baseline.json"
    path.write_text(baseline_document(before))
    doc = json.loads(path.read_text())
    assert doc["schema"] == "scopeaudit/baseline/v1" and "generated_at" not in doc
    assert [e["fingerprint"] for e in doc["findings"]] == sorted(f.fingerprint for f in before)
    known = load_baseline(str(path))
    moved = [finding(line=99), finding("SA206", scope=None, line=1), finding(scope="x:read")]
    result = apply_gate(moved, [], known, date(2026, 11, 27))
    assert [f.baselined for f in result.findings] == [True, True, False]
    assert result.baselined == 2
    assert baseline_document(before) == baseline_document(list(reversed(before)))


@pytest.mark.parametrize(("text", "message"), [
    ("{", "invalid JSON"),
    ('{"schema": "other"}', "not a scopeaudit baseline"),
    ('{"schema": "scopeaudit/baseline/v1", "findings": [1]}', "'findings' must be"),
])
def test_bad_baseline(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_baseline(str(path))
