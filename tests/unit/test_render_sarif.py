"""The SARIF view: valid against the OASIS schema, acceptable to GitHub code scanning, stable
fingerprints, and the same bytes for the same Audit.

GitHub's additional requirements are the ones listed in ../shared/realdata/sarif/README.md
(from GitHub's "SARIF support for code scanning" page). Expected values are worked out by hand
from examples/keys.yaml and the README's rules table, not read back from the program.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import AS_OF, normalise
from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.lint import lint
from scopeaudit.model import Audit, Finding, Location, Severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.sarif import render_sarif
from scopeaudit.rules.inventory_rules import LintSettings
from support import check_golden

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT.parent / "shared" / "realdata" / "sarif" / "sarif-schema-2.1.0.json"
GOLDEN = ROOT / "tests" / "golden" / "example.sarif"

# The README's rules table (id -> default severity), copied by hand.
README_RULES = {
    "SA101": "medium", "SA102": "medium", "SA104": "medium", "SA105": "medium",
    "SA106": "medium", "SA107": "info", "SA108": "info", "SA201": "high", "SA202": "low",
    "SA203": "medium", "SA204": "high", "SA205": "low", "SA206": "medium", "SA207": "medium",
    "SA208": "medium", "SA209": "high", "SA210": "critical", "SA301": "critical",
    "SA302": "low", "SA303": "high",
}
# The brief's mapping: severity -> (SARIF level, security-severity)
EXPECTED_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
                  "info": "note"}
EXPECTED_SECURITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
                     "info": "1.0"}


def sarif(audit: Audit) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_sarif(audit, RenderOptions()))
    return doc


def the_run(doc: dict[str, Any]) -> dict[str, Any]:
    assert len(doc["runs"]) == 1
    run: dict[str, Any] = doc["runs"][0]
    return run


@pytest.fixture(scope="module")
def oasis_validator() -> jsonschema.Draft4Validator:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"the OASIS SARIF 2.1.0 schema is not at {SCHEMA_PATH} "
                    "(it lives in ../shared beside the repository, never in it)")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.fixture(params=["example_audit", "example_lint"])
def any_example(request: pytest.FixtureRequest) -> Audit:
    audit: Audit = request.getfixturevalue(request.param)
    return audit


def lint_text(text: str, source: str = "keys.yaml") -> Audit:
    inventory = parse_inventory(text.encode("utf-8"), source, KeysFormat.YAML, Diagnostics())
    return lint(inventory, load_builtin(), LintSettings(as_of=AS_OF), Diagnostics(),
                timestamp=False)


def line_of(text: str, key_id: str, entry: str) -> int:
    """The 1-based line of ``entry`` inside the definition of ``key_id``, by reading text."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {key_id}")
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("- id:"):
            break
        if lines[i].split("#")[0].strip() == entry:
            return i + 1
    raise AssertionError(f"{entry!r} not found under {key_id}")


# --- validity ---------------------------------------------------------------------------


def test_examples_validate_against_the_oasis_schema(
        any_example: Audit, oasis_validator: jsonschema.Draft4Validator) -> None:
    doc = sarif(any_example)
    errors = sorted(oasis_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert len(the_run(doc)["results"]) == len(any_example.findings) > 0


def test_github_requirements(any_example: Audit) -> None:
    doc = sarif(any_example)
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    run = the_run(doc)
    driver = run["tool"]["driver"]
    assert driver["name"] == "scopeaudit" and driver["version"] == any_example.tool_version
    assert "informationUri" not in driver
    rules = driver["rules"]
    assert 0 < len(rules) <= 25_000
    for rule in rules:
        assert rule["id"]
        assert 0 < len(rule["name"]) <= 255
        for part in ("shortDescription", "fullDescription"):
            assert rule[part]["text"].strip() and len(rule[part]["text"]) <= 1024
        assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip()
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
        props = rule["properties"]
        assert props["tags"][0] == "security" and len(props["tags"]) <= 20
        assert props["precision"] in ("very-high", "high", "medium", "low")
        sev = props["security-severity"]
        assert isinstance(sev, str) and re.fullmatch(r"\d{1,2}\.\d", sev)
        assert 0.1 <= float(sev) <= 10.0

    results = run["results"]
    assert len(results) <= 25_000
    for result in results:
        assert result["message"]["text"].strip()
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("note", "warning", "error")
        assert 1 <= len(result["locations"]) <= 10
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri and "\\" not in uri and not uri.startswith("/") and ":" not in uri
        region = physical["region"]
        for field in ("startLine", "startColumn", "endLine", "endColumn"):
            assert isinstance(region[field], int) and region[field] >= 1, field
        assert region["endLine"] >= region["startLine"]
        assert region["endColumn"] > region["startColumn"]
        hashes = result["partialFingerprints"]
        assert isinstance(hashes["primaryLocationLineHash"], str)
        assert hashes["primaryLocationLineHash"]
        assert hashes["scopeaudit/v1"] == hashes["primaryLocationLineHash"]
    assert run["automationDetails"]["id"] == f"scopeaudit/{any_example.mode}/"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_rules_follow_the_readme_table(example_lint: Audit) -> None:
    rules = the_run(sarif(example_lint))["tool"]["driver"]["rules"]
    # every rule the Audit carries, in its order, lint or not: a lint upload still explains
    # SA1xx/SA3xx ids; the README's table is a subset (the registry may grow)
    assert [r["id"] for r in rules] == [r.id for r in example_lint.rules]
    assert set(README_RULES) <= {r["id"] for r in rules}
    for rule, entry in zip(rules, example_lint.rules, strict=True):
        severity = README_RULES.get(rule["id"], entry.severity.value)
        assert entry.severity.value == severity, rule["id"]
        assert rule["defaultConfiguration"]["level"] == EXPECTED_LEVEL[severity], rule["id"]
        assert rule["properties"]["security-severity"] == EXPECTED_SECURITY[severity]
    by_id = {r["id"]: r for r in rules}
    sa204 = by_id["SA204"]
    assert sa204["name"] == "write-scope-on-read-only-key"
    assert sa204["shortDescription"]["text"] == (
        "A key whose name or tags say it is for reporting holds a write scope.")
    assert sa204["fullDescription"]["text"].startswith("Looks for the words report, reporting")
    assert sa204["properties"]["tags"] == ["security", "inventory"]
    assert by_id["SA301"]["properties"]["tags"] == ["security", "logs"]
    assert by_id["SA102"]["properties"]["tags"] == ["security", "usage"]
    # help: what, why, example and remediation, in that order
    help_md = by_id["SA205"]["help"]["markdown"]
    positions = [help_md.index(h) for h in ("## What it does", "## Why it matters",
                                            "## Example", "## Remediation")]
    assert positions == sorted(positions)
    assert "```text\n- id: key_9f2\n  scopes: [sites:read]\n```" in help_md
    assert "Add `owner:` with a team or person" in by_id["SA205"]["help"]["text"]


def test_results_follow_the_audit(example_audit: Audit) -> None:
    results = the_run(sarif(example_audit))["results"]
    assert [(r["ruleId"], r["properties"]["key"], r["properties"]["scope"]) for r in results] \
        == [(f.rule, f.key, f.scope) for f in example_audit.findings]
    levels = [r["level"] for r in results]
    # by hand from the example's findings: 2 critical + 7 high, 14 medium, 3 low + 3 info
    # (14: the misspelt isues:read is SA201's alone, not also a medium SA102; key_dashboard
    # expired on the window's 4th day, so its two unused scopes are one deferral, SA108)
    assert {lv: levels.count(lv) for lv in set(levels)} == {"error": 9, "warning": 14,
                                                            "note": 6}
    for r in results:
        assert r["level"] == EXPECTED_LEVEL[r["properties"]["severity"]]
        assert "suppressions" not in r
    # a write scope unused: high (error) although SA102's default is medium
    sa102 = next(r for r in results if r["ruleId"] == "SA102"
                 and r["properties"]["key"] == "key_bi_export")
    assert sa102["level"] == "error"
    assert sa102["properties"] == {"key": "key_bi_export", "scope": "issues:write",
                                   "severity": "high", "confidence": "high"}
    assert sa102["message"]["text"].endswith("; confidence: high")
    assert sa102["message"]["text"].startswith(
        "key 'key_bi_export' never exercised 'issues:write' in the window")
    # a finding seen in a log (not in the repository: code scanning could show no location)
    # points at the key's definition, the log line beside it (issue #4): key_mobile_backend
    # is defined on line 44 and key_ticket_sync on line 31 of examples/keys.yaml (by hand)
    sa301 = {r["properties"]["key"]: r for r in results if r["ruleId"] == "SA301"}
    assert {k: (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for k, r in sa301.items()} == {"key_mobile_backend": ("examples/keys.yaml", 44),
                                           "key_ticket_sync": ("examples/keys.yaml", 31)}
    related = {k: r["relatedLocations"][0]["physicalLocation"] for k, r in sa301.items()}
    assert {k: p["artifactLocation"]["uri"] for k, p in related.items()} == {
        "key_mobile_backend": "examples/logs/edge-nginx.log.gz",
        "key_ticket_sync": "examples/logs/gateway-2026-10.jsonl.gz"}
    assert all(p["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for p in related.values())
    # the message names the log already ("... in examples/logs/edge-nginx.log.gz carry ...")
    assert "examples/logs/edge-nginx.log.gz" in sa301["key_mobile_backend"]["message"]["text"]
    # a key no definition names (SA303): the key file's first line, the log in the message
    sa303 = next(r for r in results if r["ruleId"] == "SA303")
    line = sa303["relatedLocations"][0]["physicalLocation"]["region"]["startLine"]
    assert sa303["message"]["text"].endswith(
        f"(log evidence: examples/logs/gateway-2026-08.jsonl.gz:{line})")
    assert sa303["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert sa303["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "examples/keys.yaml"


def test_scope_finding_points_at_the_granting_line(example_audit: Audit,
                                                   example_lint: Audit) -> None:
    text = (ROOT / "examples" / "keys.yaml").read_text(encoding="utf-8")
    expected = line_of(text, "key_bi_export", "- issues:write")
    assert expected == 18  # as read in the file by hand; the helper must agree
    for audit, rules in ((example_lint, {"SA204"}), (example_audit, {"SA204", "SA102"})):
        hits = [r for r in the_run(sarif(audit))["results"]
                if r["properties"]["key"] == "key_bi_export"
                and r["properties"]["scope"] == "issues:write"]
        assert {r["ruleId"] for r in hits} == rules
        for r in hits:
            physical = r["locations"][0]["physicalLocation"]
            assert physical["artifactLocation"]["uri"] == "examples/keys.yaml"
            assert physical["region"] == {"startLine": expected, "startColumn": 1,
                                          "endLine": expected, "endColumn": 2}


KEYS = """\
keys:
  - id: key_report
    name: Weekly report
    owner: bi@example.com
    created: 2026-06-01
    expires: 2027-06-01
    scopes:
      - issues:read
      - issues:write
      - issues:read
  - id: key_orphan
    created: 2024-01-01
    scopes: [works:read, wrks:write]
"""

MOVED = """\
# The same keys, with comments and blank lines that move every line down.

keys:

  # reporting
  - id: key_report
    name: Weekly report

    owner: bi@example.com
    created: 2026-06-01
    expires: 2027-06-01
    scopes:
      # read
      - issues:read

      - issues:write
      - issues:read

  - id: key_orphan   # nobody owns this one
    created: 2024-01-01

    scopes: [works:read, wrks:write]
"""


def test_fingerprints_survive_moved_lines() -> None:
    before, after = the_run(sarif(lint_text(KEYS)))["results"], \
        the_run(sarif(lint_text(MOVED)))["results"]

    def identities(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"])
                      for r in results)

    def lines(results: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return sorted((r["ruleId"],
                       r["locations"][0]["physicalLocation"]["region"]["startLine"])
                      for r in results)

    # by hand: SA204 issues:write, SA202 issues:read, SA201 wrks:write, SA205, SA206, SA208
    assert sorted(r["ruleId"] for r in before) == ["SA201", "SA202", "SA204", "SA205", "SA206",
                                                   "SA208"]
    assert lines(before) != lines(after)  # the lines did move
    assert dict(lines(before))["SA204"] == 9 and dict(lines(after))["SA204"] == 16
    assert identities(before) == identities(after)
    assert len({h for _, h in identities(before)}) == len(before)  # distinct per finding


def test_same_audit_same_bytes(example_audit: Audit) -> None:
    first = render_sarif(example_audit, RenderOptions())
    assert render_sarif(example_audit, RenderOptions()) == first
    assert render_sarif(dataclasses.replace(example_audit), RenderOptions()) == first
    # no clock: nothing time-like besides what the Audit carries (it carries none here)
    assert example_audit.generated_at is None
    assert not re.search(r"Utc\"|\d{4}-\d\d-\d\dT\d\d:", first)


def test_golden_file(example_audit: Audit) -> None:
    text = normalise(render_sarif(example_audit, RenderOptions()))
    check_golden(GOLDEN, text)


def test_cli_writes_the_same_sarif(example_lint: Audit) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scopeaudit", "lint", "--keys", "examples/keys.yaml",
         "--as-of", AS_OF.isoformat(), "--no-timestamp", "--format", "sarif"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 1, proc.stderr  # high findings
    assert proc.stdout == render_sarif(example_lint, RenderOptions())


# --- edge cases -------------------------------------------------------------------------


def test_suppressed_findings_are_marked(example_lint: Audit,
                                        oasis_validator: jsonschema.Draft4Validator) -> None:
    findings = list(example_lint.findings)
    findings[1] = dataclasses.replace(findings[1], suppressed=True)
    findings[2] = dataclasses.replace(findings[2], suppressed=True,
                                      suppression_reason="accepted until 2027-01 (JIRA-12)")
    findings[3] = dataclasses.replace(findings[3], baselined=True)
    doc = sarif(dataclasses.replace(example_lint, findings=tuple(findings)))
    oasis_validator.validate(doc)
    results = the_run(doc)["results"]
    assert results[1]["suppressions"] == [{"kind": "external"}]
    assert results[2]["suppressions"] == [{"kind": "external",
                                           "justification": "accepted until 2027-01 (JIRA-12)"}]
    assert [i for i, r in enumerate(results) if "suppressions" in r] == [1, 2]
    assert [i for i, r in enumerate(results) if "baselineState" in r] == [3]
    assert results[3]["baselineState"] == "unchanged"


def test_no_token_reaches_the_sarif(oasis_validator: jsonschema.Draft4Validator) -> None:
    token = "sk_live_" + "Zq8" * 8
    audit = lint_text(KEYS.replace("    created: 2024-01-01\n",
                                   f"    created: 2024-01-01\n    prefix: {token}\n"))
    assert "SA210" in {f.rule for f in audit.findings}
    text = render_sarif(audit, RenderOptions())
    oasis_validator.validate(json.loads(text))
    assert token not in text and "Zq8Zq8Zq8" not in text


def test_nothing_token_shaped_anywhere(any_example: Audit) -> None:
    # (checked with a pattern written here, not the program's own)
    text = render_sarif(any_example, RenderOptions())
    assert not re.search(r"sk_(live|test)_[A-Za-z0-9]{16}", text)
    sa210 = next(r for r in the_run(json.loads(text))["tool"]["driver"]["rules"]
                 if r["id"] == "SA210")
    # the registry's SA210 example shows where a token would be, without one
    assert "prefix: sk_live_…   # the whole 24-character secret pasted here" in \
        sa210["help"]["text"]


def test_uris_stay_relative() -> None:
    base = lint_text(KEYS)
    cases = {
        "./examples/keys.yaml": "examples/keys.yaml",
        "config\\keys dir\\keys.yaml": "config/keys%20dir/keys.yaml",
        "keys#1?.yaml": "keys%231%3F.yaml",
        "a:b/keys.yaml": "a%3Ab/keys.yaml",  # not a URI scheme
        "clés.yaml": "cl%C3%A9s.yaml",
    }
    for path, uri in cases.items():
        finding = dataclasses.replace(base.findings[0], location=Location(path, 3))
        result = the_run(sarif(dataclasses.replace(base, findings=(finding,))))["results"][0]
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": uri, "uriBaseId": "%SRCROOT%"}, path


def test_hostile_text_round_trips(oasis_validator: jsonschema.Draft4Validator) -> None:
    base = lint_text(KEYS)
    hostile = ('=HYPERLINK("http://x") | `tick` <script>x</script> "><img onerror=alert(1)> '
               "@org/team \x1b[31m\x00 line\nbreak \u2028 " + "x" * 10_000)
    finding = dataclasses.replace(base.findings[0], message=hostile, key=hostile[:40],
                                  confidence=None)
    text = render_sarif(dataclasses.replace(base, findings=(finding,)), RenderOptions())
    assert "\x1b" not in text and "\x00" not in text  # JSON escapes them
    doc = json.loads(text)
    oasis_validator.validate(doc)
    result = the_run(doc)["results"][0]
    assert result["message"]["text"] == hostile
    assert result["properties"]["key"] == hostile[:40]


def test_long_descriptions_are_cut_safely(example_lint: Audit) -> None:
    long_what = "word " * 300 + "end"  # 1,503 characters
    emoji = "\U0001f511" * 600  # 600 characters, 1,200 UTF-16 code units
    rules = (dataclasses.replace(example_lint.rules[0], what=long_what, summary=emoji),
             *example_lint.rules[1:])
    rule = the_run(sarif(dataclasses.replace(example_lint, rules=rules)))["tool"]["driver"][
        "rules"][0]
    full, short = rule["fullDescription"]["text"], rule["shortDescription"]["text"]
    assert len(full) <= 1024 and full.endswith("word…") and long_what.startswith(full[:-1])
    assert len(short.encode("utf-16-le")) // 2 <= 1024 and short.endswith("…")
    assert set(short[:-1]) == {"\U0001f511"} and len(short) == 512  # 511 keys + the ellipsis
    assert rule["help"]["text"].count("word") == 300  # help is not cut


def test_rules_missing_from_the_audit_get_a_descriptor(
        example_lint: Audit, oasis_validator: jsonschema.Draft4Validator) -> None:
    doc = sarif(dataclasses.replace(example_lint, rules=()))
    oasis_validator.validate(doc)
    run = the_run(doc)
    rules = run["tool"]["driver"]["rules"]
    # first-seen order of the lint's rules: SA201, SA203, SA204, SA206, SA207, SA208, SA202,
    # SA205 (the findings are sorted by severity, then rule)
    assert [r["id"] for r in rules] == ["SA201", "SA203", "SA204", "SA206", "SA207", "SA208",
                                        "SA202", "SA205"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"]


def test_more_results_than_github_accepts_are_cut_with_a_notice(example_lint: Audit) -> None:
    one = example_lint.findings[0]
    many = tuple(dataclasses.replace(one, discriminator=str(i)) for i in range(25_003))
    run = the_run(sarif(dataclasses.replace(example_lint, findings=many)))
    assert len(run["results"]) == 25_000
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and notes[0]["message"]["text"].startswith("3 findings left out")


def test_a_finding_without_a_rule_entry_still_has_its_severity() -> None:
    finding = Finding(rule="SA999", name="made-up", severity=Severity.CRITICAL,
                      message="m", location=Location("k.yaml", 1))
    base = lint_text(KEYS)
    run = the_run(sarif(dataclasses.replace(base, findings=(finding,), rules=())))
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.5"
    assert run["results"][0]["level"] == "error"
