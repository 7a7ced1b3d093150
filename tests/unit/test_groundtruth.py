"""Hand-built ground truth (tests/data/groundtruth): scenarios whose expected verdicts were
derived by hand from each scenario's design, before the tool was run on them. Each scenario's
expected.json says what the rules of evidence demand; this test holds the real CLI to it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "data" / "groundtruth"
LEVELS = {"low": 0, "medium": 1, "high": 2}


def _scenarios() -> list[Path]:
    return sorted(p.parent for p in SCENARIOS.glob("*/expected.json"))


def _run(scenario: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    make = scenario / "make.py"
    if make.exists():  # logs generated deterministically from the scenario's design
        subprocess.run([sys.executable, str(make)], cwd=scenario, check=True,
                       capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEAUDIT_")}
    return subprocess.run([sys.executable, "-m", "scopeaudit", *args], cwd=scenario,
                          capture_output=True, text=True, env=env, timeout=300)


def _removals(key: dict[str, Any]) -> dict[str, str]:
    """Every scope the report would take away, now or deferred, with its confidence level."""
    levels = {s: c["level"] for s, c in key.get("confidence", {}).items()}
    return {s: levels.get(s, "high") for s in [*key["remove"], *key.get("deferred", [])]}


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda p: p.name)
def test_groundtruth(scenario: Path, tmp_path: Path) -> None:
    expected = json.loads((scenario / "expected.json").read_text())
    work = tmp_path / scenario.name
    shutil.copytree(scenario, work)  # make.py writes its logs beside it, never into the tree
    proc = _run(work, expected["args"])
    assert proc.returncode in expected["expect_exit"], (proc.returncode, proc.stderr[-2000:])
    for text in expected.get("stderr_contains", []):
        assert text in proc.stderr, (text, proc.stderr[-2000:])
    if proc.returncode == 2:
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) >= 1
        return
    report = json.loads(proc.stdout)
    keys = {k["id"]: k for k in report["keys"]}
    problems: list[str] = []
    for key_id, want in expected.get("keys", {}).items():
        got = keys[key_id]
        removals = _removals(got)
        for scope in want.get("must_keep", []):
            if scope in removals:
                problems.append(f"{key_id}: {scope} removed ({removals[scope]}), must be kept")
        for scope in want.get("must_remove", []):
            if scope not in got["remove"]:
                problems.append(f"{key_id}: {scope} not recommended for removal")
        cap = want.get("max_removal_confidence")
        if cap is not None:
            for scope, level in removals.items():
                if LEVELS[level] > LEVELS[cap]:
                    problems.append(f"{key_id}: {scope} removed at {level}, at most {cap}")
        for scope in want.get("recommended_must_not_include", []):
            if scope in got["recommended"]:
                problems.append(f"{key_id}: recommends {scope}, which it does not hold")
        for scope, state in want.get("states", {}).items():
            if got["scopes"].get(scope) != state:
                problems.append(f"{key_id}: {scope} is {got['scopes'].get(scope)}, not {state}")
    replay = expected.get("replay_denied")
    if replay is not None and report["replay"]["would_be_denied"] != replay:
        problems.append(f"replay: {report['replay']['would_be_denied']} would be denied")
    found = {(f["rule"], f["key"]) for f in report["findings"]}
    found |= {(f["rule"], None) for f in report["findings"]}  # "key": null means any key
    for want_f in expected.get("findings_present", []):
        if (want_f["rule"], want_f.get("key")) not in found:
            problems.append(f"missing finding {want_f}")
    for want_f in expected.get("findings_absent", []):
        if (want_f["rule"], want_f.get("key")) in found:
            problems.append(f"unexpected finding {want_f}")
    assert not problems, "\n".join(problems)
