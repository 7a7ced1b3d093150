"""lint --against REF: no new access since a reference (a git ref or a second key file).

Hand-computed: the reference grants key_bi issues:read; the change gives key_bi
issues:write (SA217, high) and users:read (SA216, medium), and adds key_new with works:write
(SA215, high) and key_ro with sites:read only (SA214, low)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scopeaudit.cli import main

BEFORE = """keys:
  - id: key_bi
    owner: bi@example.com
    expires: 2027-01-01
    scopes:
      - issues:read
"""
AFTER = """keys:
  - id: key_bi
    owner: bi@example.com
    expires: 2027-01-01
    scopes:
      - issues:read
      - issues:write
      - users:read
  - id: key_new
    owner: new@example.com
    expires: 2027-01-01
    scopes: [works:write]
  - id: key_ro
    owner: ro@example.com
    expires: 2027-01-01
    scopes: [sites:read]
"""


def _lint(capsys: pytest.CaptureFixture[str], keys: Path, against: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["lint", "--keys", str(keys), "--against", against, "--no-config",
              "--as-of", "2026-11-27", "--format", "csv", "--fail-on", "high"])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out + err


def _changes(out: str) -> list[tuple[str, ...]]:
    rows = []
    for line in out.splitlines():
        cells = line.split(",")  # severity, rule, name, key, scope, ...
        if len(cells) > 1 and cells[1] in ("SA214", "SA215", "SA216", "SA217"):
            rows.append((cells[1], cells[3], cells[0], cells[4]))
    return rows


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "infra").mkdir()
    keys = tmp_path / "infra" / "keys.yaml"
    keys.write_text(BEFORE)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "infra/keys.yaml")
    _git(tmp_path, "commit", "-q", "-m", "keys")
    keys.write_text(AFTER)
    return tmp_path


def test_against_a_git_ref_catches_the_write_scope(repo: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(capsys, repo / "infra" / "keys.yaml", "HEAD")
    assert code == 1
    found = {(row[0], row[2]) for row in _changes(out)}  # (rule, severity)
    assert ("SA217", "high") in found and ("SA216", "medium") in found
    assert ("SA215", "high") in found and ("SA214", "low") in found
    assert len(_changes(out)) == 4
    assert "key_bi gains issues:write (not granted in HEAD:" in out


def test_justification_and_expiry_clear_it(repo: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    keys = repo / "infra" / "keys.yaml"
    keys.write_text(AFTER.replace(
        "    owner: bi@example.com\n",
        "    owner: bi@example.com\n    justification:\n      issues:write: INC-42 backfill\n",
        1))
    code, out = _lint(capsys, keys, "HEAD")
    rules = sorted(row[0] for row in _changes(out))
    assert rules == ["SA214", "SA215", "SA216"]  # issues:write cleared, users:read not
    # a justification past its expiry clears nothing
    keys.write_text(AFTER.replace("    owner: bi@example.com\n    expires: 2027-01-01\n",
                                  "    owner: bi@example.com\n    expires: 2026-01-01\n"
                                  "    justification: migration\n", 1))
    code, out = _lint(capsys, keys, "HEAD")
    assert code == 1 and "SA217" in [row[0] for row in _changes(out)]


def test_against_a_second_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "old.yaml").write_text(BEFORE)
    (tmp_path / "keys.yaml").write_text(AFTER.replace(
        "  - id: key_new\n", "  - id: key_new\n    justification: new sync\n", 1))
    code, out = _lint(capsys, tmp_path / "keys.yaml", str(tmp_path / "old.yaml"))
    assert code == 1
    assert sorted(row[0] for row in _changes(out)) == ["SA214", "SA216", "SA217"]


def test_a_bad_ref_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(capsys, repo / "infra" / "keys.yaml", "no-such-ref")
    assert code == 2
    assert "no-such-ref: --against: neither a file nor a git ref" in out
    code, out = _lint(capsys, repo / "infra" / "keys.yaml", "--output=x")
    assert code == 2 and "neither a file nor a git ref" in out
