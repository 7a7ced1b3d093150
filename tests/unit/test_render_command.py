"""`scopeaudit render REPORT.json --format F` (issue #19 item 7): one run, every report. The
example's JSON golden, rendered again, gives every other golden file byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import normalise
from scopeaudit import __version__
from scopeaudit.render.json_render import SCHEMA_ID
from scopeaudit.report_reader import SCHEMA_ID as READ_SCHEMA_ID
from support import run

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")


@pytest.fixture
def example_json(tmp_path: Path) -> Path:
    # the golden holds "<version>" where the tool wrote its version
    path = tmp_path / "audit.json"
    path.write_text((GOLDEN / "example.json").read_text().replace("<version>", __version__))
    return path


def test_the_reader_reads_the_schema_the_writer_writes() -> None:
    assert READ_SCHEMA_ID == SCHEMA_ID


@pytest.mark.parametrize(("fmt", "golden"), [
    ("json", "example.json"), ("markdown", "example.md"), ("sarif", "example.sarif"),
    ("csv", "example.csv"), ("html", "example.html"), ("table", "example.txt"),
])
def test_rendering_the_json_again_gives_the_golden_files(
        capsys: pytest.CaptureFixture[str], example_json: Path, fmt: str,
        golden: str) -> None:
    code, out, err = run(capsys, "render", str(example_json), "--format", fmt,
                         "--fail-on", "never")
    assert code == 0, err
    assert normalise(out) == (GOLDEN / golden).read_text()


def test_render_exits_as_the_gate(capsys: pytest.CaptureFixture[str],
                                  example_json: Path) -> None:
    assert run(capsys, "render", str(example_json), "--format", "concise")[0] == 1  # high
    assert run(capsys, "render", str(example_json), "--fail-on", "critical")[0] == 1  # SA301
    assert run(capsys, "render", str(example_json), "--exit-zero")[0] == 0
    # baselined findings stay baselined: they never count
    doc = json.loads(example_json.read_text())
    for f in doc["findings"]:
        f["baselined"] = True
    example_json.write_text(json.dumps(doc))
    assert run(capsys, "render", str(example_json), "--fail-on", "info")[0] == 0


def test_lint_json_renders_as_lint(capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    args = ("--keys", EXAMPLE_KEYS, "--as-of", "2026-11-27", "--no-timestamp", "--no-config")
    _, direct, _ = run(capsys, "lint", *args, "--format", "markdown")
    report = tmp_path / "lint.json"
    run(capsys, "lint", *args, "--format", "json", "-o", str(report))
    code, again, _ = run(capsys, "render", str(report), "--format", "markdown")
    assert code == 1 and again == direct and "## scopeaudit lint report" in again


@pytest.mark.parametrize(("content", "expected"), [
    ('{"schema": "scopeaudit/baseline/v1", "findings": []}',
     "not a scopeaudit audit report: expected schema scopeaudit/audit/v1, found schema "
     "'scopeaudit/baseline/v1' (write one with `--format json`)"),
    ('{"schema": "scopeaudit/audit/v2"}',
     "not a scopeaudit audit report: expected schema scopeaudit/audit/v1, found schema "
     "'scopeaudit/audit/v2'"),
    ("[1, 2]", "not a scopeaudit audit report: expected schema scopeaudit/audit/v1, found no "
     "schema"),
    ('{"schema": "scopeaudit/audit/v1", "mode": "lint"}',
     "not a valid scopeaudit/audit/v1 report: missing 'keys'"),
    ('{\n  "schema": ', "2: invalid JSON"),
    # json's own message stops at "starting at": the column ends the sentence
    ('{\n  "schema": "scopeaudit/au', "2: invalid JSON: Unterminated string starting at "
     "column 13"),
])
def test_a_wrong_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         content: str, expected: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    code, out, err = run(capsys, "render", str(path), "--format", "markdown")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"scopeaudit: error: {path}:"), err
    assert expected in err, err


def test_a_folder_is_no_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "render", str(tmp_path))
    assert code == 2 and err == f"scopeaudit: error: {tmp_path}: a folder, not a report " \
        "(a --format json file)\n"


def test_missing_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "render", str(tmp_path / "nope.json"))
    assert code == 2 and err.strip().endswith("nope.json: no such report")


def test_render_gates_with_the_configuration(capsys: pytest.CaptureFixture[str],
                                             example_json: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "scopeaudit.toml").write_text('fail-on = "never"\n')
    assert run(capsys, "render", str(example_json))[0] == 0
    assert run(capsys, "render", str(example_json), "--fail-on", "high")[0] == 1
    assert run(capsys, "render", str(example_json), "--no-config")[0] == 1


def test_render_with_a_baseline(capsys: pytest.CaptureFixture[str], example_json: Path,
                                tmp_path: Path) -> None:
    from scopeaudit.gate import baseline_document
    from scopeaudit.report_reader import read_audit_report

    baseline = tmp_path / "baseline.json"
    baseline.write_text(baseline_document(read_audit_report(str(example_json)).findings))
    code, out, _ = run(capsys, "render", str(example_json), "--baseline", str(baseline),
                       "--fail-on", "info", "--format", "json")
    assert code == 0
    assert all(f["baselined"] for f in json.loads(out)["findings"])
