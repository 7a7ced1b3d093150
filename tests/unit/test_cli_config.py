"""The CI gate through the CLI: config precedence, suppressions, rule settings, baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Two findings by hand: SA206 no-expiry (medium) on k1 and SA201 unknown-scope (high) on k2.
KEYS = """\
keys:
  - id: k1
    owner: o
    scopes: [issues:read]
  - id: k2
    owner: o
    expires: 2027-12-31
    scopes: [isues:read]
"""


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEAUDIT_")}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", *args, "--format", "json",
                           "--as-of", "2026-11-27", "--no-timestamp"], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, doc, proc.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "keys.yaml").write_text(KEYS)
    return tmp_path


def rules(doc: dict) -> list[tuple[str, str | None, bool]]:
    return [(f["rule"], f["key"], f["suppressed"] or f["baselined"]) for f in doc["findings"]]


def test_precedence_flag_over_env_over_file_over_default(repo: Path) -> None:
    # default fail-on is high: SA201 (high) fails
    assert run(repo, "lint", "--keys", "keys.yaml")[0] == 1
    (repo / "scopeaudit.toml").write_text('fail-on = "critical"\n')
    assert run(repo, "lint", "--keys", "keys.yaml")[0] == 0  # file beats default
    env = {"SCOPEAUDIT_FAIL_ON": "medium"}
    assert run(repo, "lint", "--keys", "keys.yaml", env=env)[0] == 1  # env beats file
    assert run(repo, "lint", "--keys", "keys.yaml", "--fail-on", "never", env=env)[0] == 0


def test_every_option_has_a_file_key_and_an_env_var(repo: Path) -> None:
    (repo / "scopeaudit.toml").write_text('keys = "keys.yaml"\nrotation-days = 1\n')
    code, doc, _ = run(repo, "lint", "--fail-on", "never")  # --keys from the file
    assert code == 0 and len(doc["keys"]) == 2
    code, doc, _ = run(repo, "lint", "--fail-on", "never", env={"SCOPEAUDIT_NO_CONFIG": "1",
                                                                "SCOPEAUDIT_KEYS": "keys.yaml"})
    assert code == 0 and len(doc["keys"]) == 2


def test_closest_config_from_a_subdirectory_and_no_config(repo: Path) -> None:
    (repo / "scopeaudit.toml").write_text('fail-on = "never"\n')
    sub = repo / "infra" / "deep"
    sub.mkdir(parents=True)
    assert run(sub, "lint", "--keys", "../../keys.yaml")[0] == 0
    assert run(sub, "lint", "--keys", "../../keys.yaml", "--no-config")[0] == 1
    (repo / "infra" / ".scopeaudit.toml").write_text('fail-on = "high"\n')  # closer: wins
    assert run(sub, "lint", "--keys", "../../keys.yaml")[0] == 1
    other = repo / "elsewhere.toml"
    other.write_text('fail-on = "never"\n')
    assert run(sub, "lint", "--keys", "../../keys.yaml", "--config", str(other))[0] == 0


def test_bad_config_is_exit_2_with_file_and_line(repo: Path) -> None:
    (repo / "scopeaudit.toml").write_text('fail-on = "high"\nfial-on = "low"\n')
    code, _, err = run(repo, "lint", "--keys", "keys.yaml")
    assert code == 2 and "error: scopeaudit.toml:2: unknown key 'fial-on'" in err
    (repo / "scopeaudit.toml").write_text('rotation-days = "a year"\n')
    code, _, err = run(repo, "lint", "--keys", "keys.yaml")
    assert code == 2 and "scopeaudit.toml:1: 'rotation-days' must be a whole number" in err


def test_suppression_expiry_and_stale_entries(repo: Path) -> None:
    (repo / "scopeaudit.toml").write_text("""\
[[ignore]]
rule = "unknown-scope"
key = "k*"
reason = "fixed in the next release"
expires = 2026-11-27

[[ignore]]
rule = "SA209"
reason = "nothing matches this"
expires = 2027-01-01
""")
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml")
    assert code == 0  # SA201 suppressed on its expiry day; SA902 is low
    assert ("SA201", "k2", True) in rules(doc)
    assert ("SA902", None, False) in rules(doc)
    sa201 = next(f for f in doc["findings"] if f["rule"] == "SA201")
    assert sa201["suppression_reason"] == "fixed in the next release"
    assert doc["summary"]["suppressed"] == 1
    # the day after: the entry is expired, SA201 counts again and SA901 appears
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "lint", "--keys", "keys.yaml",
                           "--as-of", "2026-11-28", "--format", "json"], cwd=repo,
                          capture_output=True, text=True)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert ("SA201", "k2", False) in rules(doc) and ("SA901", None, False) in rules(doc)
    sa901 = next(f for f in doc["findings"] if f["rule"] == "SA901")
    assert sa901["location"] == {"file": "scopeaudit.toml", "line": 1}  # relative: SARIF
    # --no-ignores shows everything as it counts
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml", "--no-ignores")
    assert code == 1 and ("SA201", "k2", False) in rules(doc)


def test_rule_settings_severity_and_disable(repo: Path) -> None:
    (repo / "scopeaudit.toml").write_text(
        '[rules.SA201]\nseverity = "low"\n\n[rules.no-expiry]\ndisabled = true\n')
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml")
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("SA201", "low")]
    assert doc["gate"]["disabled_rules"] == ["SA206"]


def test_baseline_round_trip_and_reordered_keys(repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "baseline", "write", "--keys",
                           "keys.yaml", "--as-of", "2026-11-27", "-o", "baseline.json"],
                          cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    written = json.loads((repo / "baseline.json").read_text())
    assert {(e["rule"], e["key"]) for e in written["findings"]} == {("SA201", "k2"),
                                                                     ("SA206", "k1")}
    fingerprints = [e["fingerprint"] for e in written["findings"]]
    assert fingerprints == sorted(fingerprints)
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml", "--baseline", "baseline.json")
    assert code == 0 and doc["summary"]["baselined"] == 2
    # re-ordered keys, shifted lines: nothing new
    k1, k2 = KEYS.split("  - id: k2\n")
    (repo / "keys.yaml").write_text("# moved\n\nkeys:\n  - id: k2\n" + k2 + k1.split("keys:\n")[1])
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml", "--baseline", "baseline.json")
    assert code == 0 and doc["summary"]["baselined"] == 2
    # a new high finding is not in the baseline and fails the build
    with (repo / "keys.yaml").open("a") as handle:
        handle.write("  - id: k3\n    owner: o\n    expires: 2027-01-01\n    scopes: [x:y]\n")
    code, doc, _ = run(repo, "lint", "--keys", "keys.yaml", "--baseline", "baseline.json")
    assert code == 1 and ("SA201", "k3", False) in rules(doc)
    assert run(repo, "lint", "--keys", "keys.yaml", "--baseline", "baseline.json",
               "--exit-zero")[0] == 0


def test_init_writes_a_working_starter(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "init"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert (tmp_path / "scopeaudit.toml").is_file() and (tmp_path / "keys.yaml").is_file()
    code, doc, _ = run(tmp_path, "lint")  # keys from the starter config
    assert code == 0 and len(doc["keys"]) == 2
    again = subprocess.run([sys.executable, "-m", "scopeaudit", "init"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert "exists, left as it is" in again.stderr


def test_the_starter_config_names_every_output_format() -> None:
    from importlib.resources import files

    from scopeaudit.cli.options import FORMATS

    text = files("scopeaudit.starter").joinpath("scopeaudit.toml").read_text()
    line = next(line for line in text.splitlines() if line.startswith("# format = "))
    assert sorted(line.split("#")[2].strip().split("|")) == sorted(FORMATS)
