"""The README tells the truth: its rules table is the registry's."""

from __future__ import annotations

import re
from pathlib import Path

from scopeaudit.rules.docs import rules_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rules_table_matches_registry() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", text, re.S)
    assert match, "README lost its rules markers"
    assert match.group(1) == rules_markdown(), (
        "README rules table is stale: paste `scopeaudit rules --format markdown` between the "
        "markers")


def test_readme_setup_commands_match_ci() -> None:
    text = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in text and "pip install -e '.[test]'" in ci
    pytest = re.compile(r"\.venv/bin/python -m pytest[^\n]*")
    readme_runs, ci_runs = pytest.findall(text), pytest.findall(ci)
    assert readme_runs and readme_runs == ci_runs  # CI runs the README's pytest, options too
    assert "--durations=20" in ci_runs[0]  # every run shows where the suite's time goes


def test_readme_html_example_reads_every_source() -> None:
    """The HTML report example audits both of the example's sources: without the edge log,
    the mobile back end's traffic is missing and its scopes would all look unused."""
    text = README.read_text(encoding="utf-8")
    example = re.search(r"```sh\n(scopeaudit audit [^`]*--format html -o report\.html)\n```",
                        text)
    assert example, "README lost its HTML report example"
    assert "examples/logs/gateway-*.jsonl.gz" in example.group(1)
    assert "examples/logs/edge-nginx.log.gz" in example.group(1)
