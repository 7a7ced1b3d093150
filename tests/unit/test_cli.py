"""The command line: exit codes, output routing, errors as one line, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scopeaudit.cli import main
from support import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")


def test_help_is_fast_to_import() -> None:
    # `scopeaudit --help` must not pay for the heavy modules
    code = ("import sys, scopeaudit.cli; "
            "heavy = [m for m in ('tabulate', 'ruamel.yaml', 'jinja2', 'httpx', 'duckdb', "
            "'sqlglot') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "lint" in out and "Exit codes" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "scopeaudit" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("scopeaudit")


@pytest.mark.parametrize(("fail_on", "expected"), [
    ("info", 1), ("high", 1), ("critical", 0), ("never", 0), ("HIGH", 1),
])
def test_lint_exit_code_follows_fail_on(capsys: pytest.CaptureFixture[str], fail_on: str,
                                        expected: int) -> None:
    # the example holds high findings (SA201, SA203, SA204) and no critical one
    code, _, _ = run(capsys, "lint", "--keys", EXAMPLE_KEYS, "--as-of", "2026-11-27",
                     "--fail-on", fail_on)
    assert code == expected


def test_lint_default_fail_on_is_high(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - {id: k, scopes: [issues:read]}\n")  # SA205 low, SA206 medium
    code, out, _ = run(capsys, "lint", "--keys", str(keys))
    assert code == 0
    assert "SA206" in out and "SA205" in out


@pytest.mark.parametrize("args", [
    ("lint",),  # missing --keys
    ("lint", "--keys", EXAMPLE_KEYS, "--fail-on", "severe"),
    ("lint", "--keys", EXAMPLE_KEYS, "--bogus"),
    ("lint", "--keys", EXAMPLE_KEYS, "--format", "yaml"),
    ("nosuchcommand",),
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "Traceback" not in err


def test_bad_as_of_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", "--keys", EXAMPLE_KEYS, "--as-of", "27/11/2026")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "--as-of expects a date" in err


@pytest.mark.parametrize("name", ["nope", "nope.yaml"])
def test_a_missing_key_file_says_so_with_or_without_an_extension(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    # without an extension it used to say the format could not be told from it
    code, _, err = run(capsys, "lint", "--keys", str(tmp_path / name), "--no-config")
    assert code == 2 and err == f"scopeaudit: error: {tmp_path / name}: no such file\n"


def test_json_output_shape_and_determinism(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("lint", "--keys", EXAMPLE_KEYS, "--as-of", "2026-11-27", "--format", "json",
            "--no-timestamp", "--fail-on", "never")
    _, first, _ = run(capsys, *args)
    _, second, _ = run(capsys, *args)
    assert first == second
    doc = json.loads(first)
    assert doc["schema"] == "scopeaudit/audit/v1" and doc["mode"] == "lint"
    assert "generated_at" not in doc
    assert len(doc["keys"]) == 11
    finding = doc["findings"][0]
    assert set(finding) >= {"rule", "name", "severity", "key", "scope", "message", "location",
                            "fingerprint", "confidence", "evidence"}
    assert set(finding["location"]) == {"file", "line"}
    assert doc["summary"]["findings"] == len(doc["findings"])
    _, stamped, _ = run(capsys, *args[:-3], "--fail-on", "never")
    assert "generated_at" in json.loads(stamped)


def test_output_file_and_unwritable_output(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, "lint", "--keys", EXAMPLE_KEYS, "--format", "json", "-o",
                       str(target), "--fail-on", "never")
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["mode"] == "lint"
    code, _, err = run(capsys, "lint", "--keys", EXAMPLE_KEYS, "-o",
                       str(tmp_path / "missing-dir" / "r.txt"))
    assert code == 2 and "missing-dir" in err and "Traceback" not in err


def test_warnings_go_to_stderr_not_the_report(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - id: k\n    colour: blue\n    scopes: []\n")
    code, out, err = run(capsys, "lint", "--keys", str(keys), "--format", "json",
                         "--fail-on", "never")
    assert code == 0
    assert f"{keys}:3: unknown field 'colour' ignored" in err
    assert json.loads(out)["warnings"] == [f"{keys}:3: unknown field 'colour' ignored"]


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and all(f"SA2{n:02d}" in out for n in range(1, 11))
    code, out, _ = run(capsys, "explain", "SA201")
    assert code == 0
    for heading in ("What it does", "Why it matters", "Example", "Remediation"):
        assert heading in out
    code, by_name, _ = run(capsys, "explain", "unknown-scope")
    assert code == 0 and by_name == out
    code, _, err = run(capsys, "explain", "SA999")
    assert code == 2 and "unknown rule" in err


def test_internal_error_is_one_line_exit_2_and_debug_shows_traceback(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import scopeaudit.lint

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaboom sk_" + "live_0FAKE0TOKEN0FOR0TESTS000")

    monkeypatch.setattr(scopeaudit.lint, "lint", boom)
    code, _, err = run(capsys, "lint", "--keys", EXAMPLE_KEYS)
    assert code == 2
    assert err.count("\n") == 1 and "internal error: RuntimeError: kaboom" in err
    assert "0FAKE0TOKEN0FOR0TESTS000" not in err
    with pytest.raises(RuntimeError):
        main(["--debug", "lint", "--keys", EXAMPLE_KEYS])


def test_interrupt_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import scopeaudit.lint

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scopeaudit.lint, "lint", interrupted)
    code, _, err = run(capsys, "lint", "--keys", EXAMPLE_KEYS)
    # click prints a newline first (after the ^C the terminal shows), then our one line
    assert code == 2 and err.strip() == "scopeaudit: interrupted"


@pytest.mark.parametrize(("args", "expected"), [
    (("lint", "--keys", EXAMPLE_KEYS, "--format", "jsn"),
     "scopeaudit: error: Invalid value for '--format': 'jsn' is not one of"),
    (("lint", "--keys", EXAMPLE_KEYS, "--fail-on", "hgih"),
     "scopeaudit: error: Invalid value for '--fail-on': 'hgih'"),
    (("audit", "--keys", EXAMPLE_KEYS),
     "scopeaudit: error: Missing option '--logs': give it, or set `logs` in the configuration"),
    (("explain",), "scopeaudit: error: Missing argument 'RULE'."),
])
def test_usage_mistakes_are_one_line(capsys: pytest.CaptureFixture[str],
                                     args: tuple[str, ...], expected: str) -> None:
    # click would print a usage block first; the README promises one line, and a CI log
    # should show the mistake, with where to look
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(expected) and err.count("\n") == 1
    assert f"(see 'scopeaudit {args[0]} --help')" in err


def test_an_output_that_cannot_be_written_is_refused_first(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # checked before the work starts: a missing log would otherwise be reported first
    for target, reason in ((tmp_path / "missing" / "report.json", "no such folder"),
                           (tmp_path, "is a directory")):
        code, out, err = run(capsys, "audit", "--keys", EXAMPLE_KEYS,
                             "--logs", str(tmp_path / "absent.jsonl"), "-o", str(target))
        assert code == 2 and out == ""
        assert err.startswith(f"scopeaudit: error: {target}: ") and reason in err
        assert err.count("\n") == 1


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("name", "text", "option", "message"), [
    ("scopeaudit.toml", f"fail-on = {nested(100_000)}\n", "--config",
     "invalid TOML: nested too deeply"),
    ("baseline.json", f'{{"schema": "scopeaudit/baseline/v1", "findings": {nested(100_000)}}}',
     "--baseline", "invalid JSON: nested too deeply"),
])
def test_input_nested_too_deeply_is_one_line(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, name: str, text: str,
                                             option: str, message: str) -> None:
    # the parsers recurse per level: 100,000 levels was an internal RecursionError
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(capsys, "lint", "--keys", EXAMPLE_KEYS, option, str(path))
    assert (code, out) == (2, "")
    assert err == f"scopeaudit: error: {path}: {message}\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "99999999d"), "--since 99999999d: counted back from 2026-11-27, the window "
                               "would start before 0001-01-01"),
    (("--until", "0001-01-05", "--since", "90d"),
     "--since 90d: counted back from 0001-01-05, the window would start before 0001-01-01"),
])
def test_a_window_before_the_calendar_is_one_line(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path, args: tuple[str, ...],
                                                  message: str) -> None:
    log = tmp_path / "logs.jsonl"
    log.write_text('{"time": "2026-11-27T12:00:00Z", "key_id": "key_bi_export", '
                   '"method": "GET", "path": "/v1/issues", "status": 200}\n')
    code, out, err = run(capsys, "audit", "--keys", EXAMPLE_KEYS, "--logs", str(log),
                         "--as-of", "2026-11-27", "--no-config", *args)
    assert (code, out) == (2, "")
    assert err == f"scopeaudit: error: {message}\n"
    # and the warehouse query's window, read from the same options
    code, out, err = run(capsys, "sql", "--dialect", "duckdb", "--table", "t", "--since",
                         "99999999d", "--until", "2026-01-01")
    assert (code, out) == (2, "")
    assert err == ("scopeaudit: error: --since 99999999d: counted back from 2026-01-01, the "
                   "window would start before 0001-01-01\n")


def test_the_warehouse_query_ends_on_the_calendars_last_day(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sql", "--dialect", "duckdb", "--table", "t", "--until",
                       "9999-12-31")
    # 253402300800: 10000-01-01T00:00:00Z in epoch seconds, the end of 9999-12-31
    assert code == 0 and "< 253402300800" in out
