"""Where the report goes, and what each way of failing there gives (scopeaudit.output):

- the reader closes the pipe (EPIPE): the findings' exit code, nothing on stderr, and no run
  recorded in the history (nobody saw the whole report);
- a full disk (ENOSPC) or a closed stdout (EBADF): exit 2, one line naming the output;
- ``-o`` naming a file the run reads: exit 2 before anything is read or written;
- the history records a run only once its report is written.

The stdout cases run the real CLI in a subprocess: what a shell gives it (/dev/full, a pipe
closed early, a closed descriptor) cannot be faked inside pytest's own captured stdout.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from support import run as run_in

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")
# A device on which every write fails with ENOSPC (a full disk)
DEV_FULL = Path("/dev/full")


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SCOPEAUDIT_")}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scopeaudit", *args]


def many_keys(folder: Path, n: int = 1000) -> Path:
    """A key file whose table report (~200 bytes a key) is far larger than a pipe's buffer
    (64 KiB), so that a reader leaving early always cuts the report short."""
    keys = folder / "keys.yaml"
    keys.write_text("keys:\n" + "".join(
        f"  - {{id: key{i:05d}, scopes: [issues:read, works:write]}}\n" for i in range(n)))
    return keys


def logs(folder: Path) -> Path:
    path = folder / "logs.jsonl"
    path.write_text("".join(
        json.dumps({"time": f"2026-11-{d:02d}T12:00:00Z", "key_id": "key00000",
                    "method": "GET", "path": "/v1/issues", "status": 200}) + "\n"
        for d in range(1, 28)))
    return path


def runs_in(history: Path) -> int:
    if not history.exists():
        return 0
    db = sqlite3.connect(history)
    try:
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'runs'").fetchone()
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0]) if tables[0] else 0
    finally:
        db.close()


def read_100_then_close(args: list[str], cwd: Path) -> tuple[int, str]:
    """The CLI with a reader that takes the report's first 100 bytes and goes away (`| head
    -c 100`); (exit code, stderr)."""
    proc = subprocess.Popen(args, cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert len(head) == 100
    return code, err


# --- the reader goes away: not an error ------------------------------------------------------


@pytest.mark.parametrize(("fail_on", "expected"), [("never", 0), ("low", 1)])
def test_a_reader_that_leaves_after_100_bytes(tmp_path: Path, fail_on: str,
                                              expected: int) -> None:
    keys = many_keys(tmp_path)  # every key has findings (SA205 low, SA206 medium, ...)
    code, err = read_100_then_close(
        command("lint", "--keys", str(keys), "--no-config", "--fail-on", fail_on), tmp_path)
    assert (code, err) == (expected, "")


@pytest.mark.parametrize(("fail_on", "expected"), [("never", 0), ("low", 1)])
def test_a_reader_gone_before_the_first_byte(tmp_path: Path, fail_on: str,
                                             expected: int) -> None:
    # The pipe's reading end is closed before the CLI starts: its first write gets EPIPE
    # (click turned that into exit 1, "findings", whatever --fail-on said)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(command("lint", "--keys", EXAMPLE_KEYS, "--as-of", "2026-11-27",
                                      "--no-config", "--fail-on", fail_on),
                              cwd=tmp_path, env=env(), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (expected, "")


def test_a_reader_that_leaves_early_records_no_run(tmp_path: Path) -> None:
    keys, history = many_keys(tmp_path), tmp_path / "h.sqlite"
    code, err = read_100_then_close(
        command("audit", "--keys", str(keys), "--logs", str(logs(tmp_path)), "--no-config",
                "--as-of", "2026-11-27", "--since", "27d", "--fail-on", "never", "--history",
                str(history)),
        tmp_path)
    assert (code, err) == (0, "")
    assert runs_in(history) == 0  # nobody saw the whole report


# --- stdout cannot take the report: an output error ------------------------------------------


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_full_stdout_is_one_line_exit_2(tmp_path: Path) -> None:
    with DEV_FULL.open("w") as full:
        proc = subprocess.run(command("lint", "--keys", EXAMPLE_KEYS, "--no-config"),
                              cwd=tmp_path, env=env(), stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("scopeaudit: error: stdout: cannot write the report: No space "
                           "left on device\n")


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_full_output_file_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(command("lint", "--keys", EXAMPLE_KEYS, "--no-config", "-o",
                                  str(DEV_FULL)),
                          cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("scopeaudit: error: /dev/full: cannot write the report: No space "
                           "left on device\n")


@pytest.mark.parametrize("args", [
    ("lint", "--keys", EXAMPLE_KEYS, "--no-config", "--fail-on", "never"),
    ("rules",),
])
def test_a_closed_stdout_is_one_line_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    # `scopeaudit … >&-`: a report nobody can receive is not a success
    proc = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *command(*args)], cwd=tmp_path,
                          env=env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("scopeaudit: error: stdout: cannot write the report: standard "
                           "output is closed\n")


# --- -o never overwrites an input --------------------------------------------------------------


def test_output_same_as_the_key_file_is_refused(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_bytes(Path(EXAMPLE_KEYS).read_bytes())
    link = tmp_path / "link.yaml"
    link.symlink_to(keys)
    for output in (str(keys), str(link), f"{tmp_path}/./keys.yaml"):
        code, out, err = run_in(capsys, "lint", "--keys", str(keys), "--no-config", "-o",
                                output)
        assert (code, out) == (2, "")
        assert err == (f"scopeaudit: error: {output}: -o names the same file as --keys; the "
                       "report would overwrite it\n")
        assert keys.read_bytes() == Path(EXAMPLE_KEYS).read_bytes()


def test_output_same_as_a_log_or_the_history_is_refused(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    keys, log = many_keys(tmp_path, 2), logs(tmp_path)
    before = log.read_bytes()
    history = tmp_path / "h.sqlite"
    base = ("audit", "--keys", str(keys), "--no-config", "--as-of", "2026-11-27")
    cases = [
        ((*base, "--logs", str(tmp_path / "*.jsonl"), "-o", str(log)), str(log), "--logs"),
        # a history not yet created: the same path, resolved
        ((*base, "--logs", str(log), "--history", str(history), "-o",
          str(tmp_path / "sub" / ".." / "h.sqlite")), str(tmp_path / "sub" / ".." /
                                                        "h.sqlite"), "--history"),
    ]
    (tmp_path / "sub").mkdir()
    for args, output, option in cases:
        code, out, err = run_in(capsys, *args)
        assert (code, out) == (2, "")
        assert err == (f"scopeaudit: error: {output}: -o names the same file as {option}; "
                       "the report would overwrite it\n")
    assert log.read_bytes() == before and not history.exists()
    # and `scopeaudit history PATH -o PATH`
    code, _, err = run_in(capsys, "history", str(log), "-o", str(log))
    assert code == 2 and "-o names the same file as the history database" in err
    assert log.read_bytes() == before


def test_output_beside_the_inputs_is_written(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_bytes(Path(EXAMPLE_KEYS).read_bytes())
    report = tmp_path / "report.txt"
    report.write_text("an older report\n")
    code, out, _ = run_in(capsys, "lint", "--keys", str(keys), "--no-config", "--fail-on",
                          "never", "-o", str(report))
    assert (code, out) == (0, "") and "SA201" in report.read_text()


# --- the history records a run only after its report ----------------------------------------


def audit_args(folder: Path, *extra: str) -> tuple[str, ...]:
    return ("audit", "--keys", str(folder / "keys.yaml"), "--logs", str(folder / "logs.jsonl"),
            "--no-config", "--as-of", "2026-11-27", "--fail-on", "never", "--format", "json",
            "--history", str(folder / "h.sqlite"), *extra)


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_run_whose_report_failed_is_not_recorded(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    many_keys(tmp_path, 2)
    logs(tmp_path)
    code, _, err = run_in(capsys, *audit_args(tmp_path, "-o", str(DEV_FULL)))
    assert code == 2 and err.endswith("cannot write the report: No space left on device\n")
    assert runs_in(tmp_path / "h.sqlite") == 0
    # so the next run shows its findings as new: nobody has seen them yet
    code, out, _ = run_in(capsys, *audit_args(tmp_path))
    drift = json.loads(out)["drift"]
    assert code == 0 and drift["previous_run"] is None
    assert drift["new"] and drift["persisting"] == []
    assert runs_in(tmp_path / "h.sqlite") == 1


def test_a_template_error_records_no_run(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    many_keys(tmp_path, 2)
    logs(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text("{{ report.no_such_thing.deeper }}\n")
    code, out, err = run_in(capsys, *audit_args(tmp_path, "--format", "markdown",
                                                "--template-dir", str(templates)))
    assert (code, out) == (2, "") and "template error" in err
    assert runs_in(tmp_path / "h.sqlite") == 0


def test_a_written_report_is_recorded(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    many_keys(tmp_path, 2)
    logs(tmp_path)
    report = tmp_path / "report.json"
    for expected in (1, 2):
        code, _, _ = run_in(capsys, *audit_args(tmp_path, "-o", str(report)))
        assert code == 0 and runs_in(tmp_path / "h.sqlite") == expected
    assert json.loads(report.read_text())["drift"]["previous_run"]["id"] == 1
