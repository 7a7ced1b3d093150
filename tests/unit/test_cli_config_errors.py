"""The configuration as a CI user meets it (issue #19): paths from the file, errors naming
the file and line, "did you mean", init next to an existing configuration, the pre-commit
hook's pattern, what `baseline write` says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from support import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = ROOT / "examples" / "keys.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "keys.yaml").write_text(EXAMPLE_KEYS.read_text())
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("SCOPEAUDIT_"):
            monkeypatch.delenv(name)
    return tmp_path


def test_paths_in_the_configuration_are_relative_to_it(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "scopeaudit.toml").write_text('keys = "infra/keys.yaml"\nas-of = "2026-11-27"\n'
                                          'format = "json"\nno-timestamp = true\n')
    code, top, err = run(capsys, "lint")
    assert code == 1, err  # the example's high findings
    (repo / "docs").mkdir()
    monkeypatch.chdir(repo / "docs")
    code, below, err = run(capsys, "lint")
    assert code == 1, err
    def seen(doc: str) -> list[tuple[str, str, str, int]]:
        return [(f["rule"], f["key"], f["fingerprint"], f["location"]["line"])
                for f in json.loads(doc)["findings"]]
    assert seen(below) == seen(top)
    assert json.loads(below)["findings"][0]["location"]["file"] == "../infra/keys.yaml"


def test_a_bad_choice_names_the_file_and_line(repo: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "scopeaudit.toml").write_text('# gate\nkeys = "infra/keys.yaml"\nfail-on = "hgh"\n')
    code, _, err = run(capsys, "lint")
    assert code == 2
    assert err.strip().endswith(
        "scopeaudit.toml:3: fail-on: 'hgh' is not one of critical, high, medium, low, info, "
        "never"), err
    assert "--fail-on" not in err
    (repo / "scopeaudit.toml").write_text('keys = "infra/keys.yaml"\nrotation-days = 0\n')
    code, _, err = run(capsys, "lint")
    assert code == 2 and re.search(r"scopeaudit\.toml:2: rotation-days: .*0", err), err


def test_an_unknown_key_gets_did_you_mean(repo: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "scopeaudit.toml").write_text('keys = "infra/keys.yaml"\nfail_on = "high"\n')
    code, _, err = run(capsys, "lint")
    assert code == 2
    assert err.strip().endswith("scopeaudit.toml:2: unknown key 'fail_on'; did you mean "
                                "'fail-on'?"), err
    (repo / "scopeaudit.toml").write_text('zzzz = 1\n')
    code, _, err = run(capsys, "lint")
    assert code == 2 and "max-unattributed" not in err and len(err) < 300, err


@pytest.mark.parametrize(("toml", "line", "expected"), [
    ('[rules.SA1O2]\nseverity = "low"\n', 1, "unknown rule 'SA1O2' in [rules]; did you mean "
     "'SA102'?"),
    ('[[ignore]]\nrule = "unknown-scop"\nreason = "r"\n', 1,
     "[[ignore]]: unknown rule 'unknown-scop'; did you mean 'unknown-scope'?"),
])
def test_unknown_rule_ids_get_did_you_mean(repo: Path, capsys: pytest.CaptureFixture[str],
                                           toml: str, line: int, expected: str) -> None:
    (repo / "scopeaudit.toml").write_text(toml)
    code, _, err = run(capsys, "lint", "--keys", "infra/keys.yaml")
    assert code == 2 and err.strip().endswith(f"scopeaudit.toml:{line}: {expected}"), err


def test_explain_gets_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "SA1O2")
    assert code == 2 and "did you mean 'SA102'?" in err


def test_init_leaves_the_root_alone_when_the_configuration_points_elsewhere(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "scopeaudit.toml").write_text('keys = "infra/keys.yaml"\n')
    code, _, err = run(capsys, "init")
    assert code == 0
    assert not (repo / "keys.yaml").exists()
    assert "reads its keys from infra/keys.yaml" in err
    assert "next: edit infra/keys.yaml" in err


def test_init_in_an_empty_folder_writes_both(repo: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    assert (repo / "keys.yaml").is_file() and (repo / "scopeaudit.toml").is_file()


def test_pre_commit_pattern_matches_the_readme_key_files() -> None:
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    pattern = re.compile(hooks[0]["files"])
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"--keys ([\w./-]+\.(?:ya?ml|json|csv))\b", readme))
    named |= set(re.findall(r"^\s*keys\s*=\s*\"([^\"]+)\"", readme, re.M))
    assert {"keys.yaml", "export.csv", "infra/keys.yaml"} <= named
    for name in (*named, "scopeaudit.toml", ".scopeaudit.toml", "pyproject.toml",
                 "deploy/insp-keys.json"):
        assert pattern.search(name), name
    assert not pattern.search("src/app.py")


def test_baseline_write_says_how_many_and_what_next(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "baseline", "write", "--keys", "infra/keys.yaml", "--as-of",
                       "2026-11-27", "-o", "baseline.json")
    assert code == 0
    count = len(json.loads((repo / "baseline.json").read_text())["findings"])
    assert count > 0
    assert f"baseline.json: {count} finding(s) baselined" in err
    assert "--baseline baseline.json" in err


def test_sa901_in_sarif_is_relative_to_the_repository(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "scopeaudit.toml").write_text(
        'keys = "infra/keys.yaml"\nas-of = "2026-11-27"\n\n[[ignore]]\nrule = "SA201"\n'
        'reason = "until the app ships"\nexpires = 2026-01-01\n')
    code, out, err = run(capsys, "lint", "--format", "sarif")
    assert code == 1, err
    results = json.loads(out)["runs"][0]["results"]
    sa901 = next(r for r in results if r["ruleId"] == "SA901")
    artifact = sa901["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "scopeaudit.toml", "uriBaseId": "%SRCROOT%"}
    assert sa901["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_split_reads_what_the_configuration_gives_audit(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "keys.yaml").write_text("keys:\n  - id: k\n    scopes: [issues:read]\n")
    (repo / "logs.jsonl").write_text(json.dumps({
        "time": "2026-11-01T00:00:00Z", "key_id": "k", "method": "GET", "path": "/v1/issues",
        "status": 200}) + "\n")
    (repo / "scopeaudit.toml").write_text('keys = "keys.yaml"\nlogs = ["logs.jsonl"]\n'
                                          'as-of = "2026-11-02"\n')
    code, out, err = run(capsys, "split")
    assert code == 0, err
    assert out.startswith("No shared key (SA106) to split.")  # read, judged: none shared
