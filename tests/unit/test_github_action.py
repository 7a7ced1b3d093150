"""The GitHub Action's own logic, run locally with a fake job summary and output file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "github-action.sh"
KEYS = "keys:\n  - {id: k, owner: o, expires: 2030-01-01, scopes: [isues:read]}\n"


def run_action(tmp_path: Path, base_ref: str | None = None,
               **inputs: str) -> tuple[int, str, str, Path]:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    for appended in (summary, output):  # GitHub's files are the step's own
        appended.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCOPEAUDIT_", "INPUT_", "GITHUB_"))}
    if base_ref is not None:  # what GitHub sets on a pull_request event
        env["GITHUB_BASE_REF"] = base_ref
    env.update({
        "SCOPEAUDIT_BIN": str(Path(sys.executable).parent / "scopeaudit"),
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
        "ACTION_PATH": str(ROOT), "INPUT_SARIF_FILE": str(tmp_path / "out.sarif"),
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    })
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, summary.read_text() if summary.exists() else "", \
        output.read_text() if output.exists() else "", tmp_path / "out.sarif"


def test_gate_fails_but_the_step_succeeds_so_the_upload_runs(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text(KEYS)
    code, summary, output, sarif = run_action(tmp_path, keys="keys.yaml")
    assert code == 0  # the script never fails: the action's last step does
    assert output.strip() == "exit-code=1"  # SA201 is high
    assert "SA201" in summary and summary.startswith("#")
    assert json.loads(sarif.read_text())["version"] == "2.1.0"


def test_clean_keys_and_fail_on(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text(KEYS)
    assert run_action(tmp_path, keys="keys.yaml", fail_on="critical")[2].strip() == \
        "exit-code=0"


def test_errors_are_exit_code_2(tmp_path: Path) -> None:
    code, summary, output, _ = run_action(tmp_path, keys="missing.yaml")
    assert code == 0 and output.strip() == "exit-code=2" and summary == ""


def test_logs_switch_to_audit(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text(KEYS)
    (tmp_path / "a.jsonl").write_text(json.dumps({
        "ts": "2026-11-01T10:00:00Z", "key_id": "k", "method": "GET", "path": "/v1/issues",
        "status": 200}) + "\n")
    _, summary, output, _ = run_action(tmp_path, keys="keys.yaml", logs="a.jsonl\n\n",
                                          fail_on="never")
    assert output.strip() == "exit-code=0" and "Replay" in summary


def test_inputs_are_never_interpolated_into_run_lines() -> None:
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs and all("${{" not in run for run in runs)
    gate = next(step for step in steps if step.get("id") == "gate")
    assert all(v.startswith("${{") for v in gate["env"].values())
    upload = next(step for step in steps if "uses" in step)
    assert upload["if"].startswith("${{ always()")


def test_a_pull_request_cannot_choose_the_templates(tmp_path: Path) -> None:
    # the attack: a pull request adds template-dir to the configuration and a template
    # that runs a command inside this action's script
    (tmp_path / ".git").mkdir()
    (tmp_path / "keys.yaml").write_text(KEYS)
    (tmp_path / "scopeaudit.toml").write_text('keys = "keys.yaml"\ntemplate-dir = ".github/tpl"\n')
    (tmp_path / ".github" / "tpl").mkdir(parents=True)
    (tmp_path / ".github" / "tpl" / "report.md.j2").write_text(
        '{{ lipsum.__globals__["os"].system("touch pwned") }}')
    code, summary, output, _ = run_action(tmp_path)
    assert code == 0 and output.strip() == "exit-code=2" and summary == ""
    assert not (tmp_path / "pwned").exists()


def test_pull_requests_are_gated_on_new_access_by_default(tmp_path: Path) -> None:
    """On a pull request the action compares the keys with origin/<base branch>: a write
    scope added to an existing key is SA217 (high), which fails the gate; `against: false`
    turns the check off."""
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - {id: k, name: K, owner: o@example.org, created: 2026-01-01, "
                    "expires: 2030-01-01, scopes: [issues:read]}\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "keys.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
    keys.write_text(keys.read_text().replace("[issues:read]", "[issues:read, issues:write]"))
    _, before, output, _ = run_action(tmp_path, keys="keys.yaml", fail_on="never")
    assert "SA217" not in before  # not a pull request: no reference to compare with
    _, summary, output, _ = run_action(tmp_path, base_ref="main", keys="keys.yaml")
    assert "SA217" in summary and output.strip() == "exit-code=1"
    _, off, output, _ = run_action(tmp_path, base_ref="main", keys="keys.yaml", against="false",
                                   fail_on="never")
    assert "SA217" not in off and output.strip() == "exit-code=0"


def test_the_action_reads_the_logs_once(tmp_path: Path) -> None:
    """One audit run (a JSON report); SARIF, the job summary and the gate are rendered from
    it with `scopeaudit render`."""
    (tmp_path / "keys.yaml").write_text(KEYS)
    (tmp_path / "a.jsonl").write_text(json.dumps({
        "ts": "2026-11-01T10:00:00Z", "key_id": "k", "method": "GET", "path": "/v1/issues",
        "status": 200}) + "\n")
    calls = tmp_path / "calls.txt"
    wrapper = tmp_path / "scopeaudit-wrapper"
    real = Path(sys.executable).parent / "scopeaudit"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCOPEAUDIT_", "INPUT_", "GITHUB_"))}
    env.update({"SCOPEAUDIT_BIN": str(wrapper), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_OUTPUT": str(output), "ACTION_PATH": str(ROOT),
                "INPUT_SARIF_FILE": str(tmp_path / "out.sarif"), "INPUT_KEYS": "keys.yaml",
                "INPUT_LOGS": "a.jsonl", "INPUT_FAIL_ON": "high"})
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert calls.read_text().split() == ["audit", "render", "render"]
    assert output.read_text().strip() == "exit-code=1"  # SA201 is high
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"SA201"}
    assert "SA201" in summary.read_text() and "Replay" in summary.read_text()
