"""Help that reads like ruff's (issue #19): grouped options, short help that fits, examples,
completion, bare `scopeaudit`, options a configuration can give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from scopeaudit.cli import cli
from support import run


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in cli.commands.items():
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
    return found


def test_bare_scopeaudit_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: scopeaudit [OPTIONS] COMMAND") and "\\x0a" not in out
    assert "\n  lint " in out


def test_command_list_is_never_cut(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--help")
    listing = out.split("Commands:\n", 1)[1]
    assert "..." not in listing
    assert "Explain one rule in full (by id or name)." in listing
    width = max(len(name) for name in cli.commands)
    for name, command in cli.commands.items():
        short = command.get_short_help_str(limit=10_000)
        assert short.endswith("."), name
        assert 2 + width + 2 + len(short) <= 80, (name, short)  # one line in 80 columns


def test_audit_help_lists_options_by_group(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "audit", "--help")
    heads = [out.index(f"\n{h}:\n") for h in ("Inputs", "Logs", "Report", "Gate", "HTTP")]
    assert heads == sorted(heads)
    assert out.index("--format") < out.index("--http-timeout")
    assert heads[1] < out.index("--logs PATH") < heads[2]  # in Logs
    assert "--logs" in out and "[required]" not in out  # a configuration can give --logs


@pytest.mark.parametrize("name", [n for n, _ in _commands()])
def test_every_command_has_examples(capsys: pytest.CaptureFixture[str], name: str) -> None:
    _, out, _ = run(capsys, *name.split(), "--help")
    examples = out.split("\nExamples:\n", 1)[1]
    assert f"scopeaudit {name.split()[0]}" in examples


def test_missing_logs_names_the_option_and_the_configuration(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # no configuration above
    (tmp_path / "keys.yaml").write_text("keys: []\n")
    code, out, err = run(capsys, "audit", "--keys", "keys.yaml")
    assert code == 2 and out == ""
    assert "'--logs'" in err and "`logs` in the configuration file" in err
    # and a configuration gives it: no such error then
    (tmp_path / "scopeaudit.toml").write_text('logs = ["nothing-*.jsonl"]\n')
    code, _, err = run(capsys, "audit", "--keys", "keys.yaml")
    assert code == 2 and "--logs" not in err


def test_history_uses_the_configured_path(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "scopeaudit.toml").write_text('history = "runs.sqlite"\n')
    code, _, err = run(capsys, "history")
    assert code == 2
    assert err.strip().endswith("runs.sqlite: no such history database"), err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0 and "_SCOPEAUDIT_COMPLETE" in out


def test_a_usage_error_click_lays_out_over_lines_is_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "completion")
    assert code == 2
    assert err == ("scopeaudit: error: Missing argument '{bash|zsh|fish}'. Choose from: bash, "
                   "zsh, fish (see 'scopeaudit completion --help')\n")


def test_completion_completes_commands_and_options() -> None:
    env = {**os.environ, "_SCOPEAUDIT_COMPLETE": "bash_complete",
           "COMP_WORDS": "scopeaudit au", "COMP_CWORD": "1"}
    proc = subprocess.run([sys.executable, "-m", "scopeaudit"], env=env, capture_output=True,
                          text=True)
    assert "plain,audit" in proc.stdout.split()  # bash_complete: type,value lines
    env.update(COMP_WORDS="scopeaudit audit --fail-on h", COMP_CWORD="3")
    proc = subprocess.run([sys.executable, "-m", "scopeaudit"], env=env, capture_output=True,
                          text=True)
    assert "plain,high" in proc.stdout.split()
