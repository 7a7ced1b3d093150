"""Configuration discovery and checking (the CLI precedence tests are in test_cli_config.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scopeaudit.config import discover, load
from scopeaudit.errors import InputError
from scopeaudit.model import Severity

TYPES: dict[str, type | tuple[type, ...]] = {
    "fail-on": str, "broad-key-threshold": int, "no-timestamp": bool, "logs": list,
    "since": str, "rotation-days": int, "shared-key-clients": int,
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_closest_file_wins_and_stops_at_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(tmp_path / "scopeaudit.toml", 'fail-on = "low"\n')  # outside the repository
    deep = repo / "infra" / "keys"
    deep.mkdir(parents=True)
    assert discover(deep) is None
    write(repo / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.scopeaudit]
    assert discover(deep) is None
    write(repo / "pyproject.toml", "[tool.scopeaudit]\nfail-on = 'high'\n")
    assert discover(deep) == repo / "pyproject.toml"
    write(repo / "infra" / ".scopeaudit.toml", "fail-on = 'medium'\n")
    assert discover(deep) == repo / "infra" / ".scopeaudit.toml"
    write(repo / "infra" / "scopeaudit.toml", "fail-on = 'critical'\n")
    assert discover(deep) == repo / "infra" / "scopeaudit.toml"  # first of the names


def test_options_rules_and_ignores(tmp_path: Path) -> None:
    path = write(tmp_path / "scopeaudit.toml", """\
fail-on = "medium"
logs = "logs/*.jsonl.gz"
no-timestamp = true

[rules.SA203]
severity = "high"
broad-key-threshold = 12

[rules.shared-key]
disabled = true

[[ignore]]
rule = "SA102"
key = "key_bi_*"
scope = "issues:write"
reason = "backfill until the Q1 rewrite"
expires = 2027-03-31

[[ignore]]
rule = "unused-scope"
reason = "no date"
""")
    config = load(path, TYPES)
    assert config.options == {"fail-on": "medium", "logs": ["logs/*.jsonl.gz"],
                              "no-timestamp": True, "broad-key-threshold": 12}
    assert config.rules["SA203"].severity is Severity.HIGH
    assert config.rules["SA106"].disabled is True
    first, second = config.ignores
    assert (first.rule, first.key, first.scope, first.expires) == (
        "SA102", "key_bi_*", "issues:write", date(2027, 3, 31))
    assert first.location.line == 12
    assert (second.rule, second.location.line, second.expires) == ("SA102", 19, None)
    assert config.warnings == (f"{path}:19: [[ignore]] for SA102 has no 'expires' date; it "
                               "will suppress forever",)


def test_pyproject_tool_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
[project]
name = "infra"

[tool.scopeaudit]
fail-on = "low"

[[tool.scopeaudit.ignore]]
rule = "SA206"
key = "key_legacy"
reason = "rotated by hand"
expires = "2027-01-01"
""")
    config = load(path, TYPES)
    assert config.options == {"fail-on": "low"}
    assert config.ignores[0].location.line == 7
    assert config.ignores[0].expires == date(2027, 1, 1)


@pytest.mark.parametrize(("text", "line", "message"), [
    ('fail-on = "high"\nfailon = "low"\n', 2, "unknown key 'failon'"),
    ('fail-on = 3\n', 1, "'fail-on' must be a string, found a whole number"),
    ('broad-key-threshold = "ten"\n', 1, "must be a whole number"),
    ('no-timestamp = "yes"\n', 1, "must be true or false"),
    ('logs = [1, 2]\n', 1, "must be a string or a list of strings"),
    ('\n[rules.SA999]\nseverity = "high"\n', 2, "unknown rule 'SA999'"),
    ('[rules.SA203]\nseverity = "severe"\n', 2, "unknown severity"),
    ('[rules.SA203]\nrotation-days = 3\n', 2, r"unknown key 'rotation-days' in \[rules\.SA203\]"),
    ('[[ignore]]\nrule = "SA102"\n', 1, "needs a 'reason'"),
    ('[[ignore]]\nreason = "x"\n', 1, "needs 'rule'"),
    ('[[ignore]]\nrule = "SA102"\nreason = "x"\nexpires = "soon"\n', 1, "must be a date"),
    ('[[ignore]]\nrule = "SA102"\nreason = "x"\ncolour = "red"\n', 1, "unknown key 'colour'"),
    ('fail-on = "high"\nfail-on = "low"\n', 2, "invalid TOML"),
])
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "scopeaudit.toml", text)
    with pytest.raises(InputError, match=message) as exc:
        load(path, TYPES)
    assert (exc.value.file, exc.value.line) == (str(path), line)
