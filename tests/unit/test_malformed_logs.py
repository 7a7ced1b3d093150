"""Malformed logs through the CLI: counted (or refused with file:line), never a traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = ("keys:\n  - {id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31, "
        "scopes: [issues:read]}\n")


def good(n: int) -> bytes:
    return b"".join(json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T10:00:00Z", "key_id": "k1",
                                "method": "GET", "path": "/v1/issues", "status": 200}
                               ).encode() + b"\n" for i in range(n))


def run(tmp_path: Path, log: Path, *extra: str) -> tuple[int, dict[str, object] | None, str]:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "audit", "--keys", str(keys),
                           "--logs", str(log), "--format", "json", "--no-timestamp",
                           "--fail-on", "never", *extra],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout) if proc.returncode == 0 else None
    return proc.returncode, doc, proc.stderr


def log_input(doc: dict[str, object] | None) -> dict[str, object]:
    assert doc is not None
    inputs = doc["inputs"]
    assert isinstance(inputs, list)
    entry = inputs[1]
    assert isinstance(entry, dict)
    return entry


@pytest.mark.parametrize(("name", "payload", "bad_lines"), [
    ("invalid-utf8.jsonl", good(3) + b'{"ts": "2026-11-02T10:00:00Z", "key_id": "k\xff"}\n'
     + good(2), [4]),
    ("wrong-types.jsonl", good(2) + b'{"ts": true, "key_id": "k1", "method": "GET", '
     b'"path": "/v1/issues", "status": 200}\n{"ts": "2026-11-02T10:00:00Z", "key_id": "k1", '
     b'"method": 7, "path": "/v1/issues", "status": 200}\n' + good(1), [3, 4]),
    ("missing-fields.jsonl", good(1) + b'{"ts": "2026-11-02T10:00:00Z", "key_id": "k1"}\n'
     + b'{"key_id": "k1", "method": "GET", "path": "/v1/issues", "status": 200}\n', [2, 3]),
    ("long-line.jsonl", good(2) + b'{"pad": "' + b"x" * (10 << 20) + b'"}\n' + good(2), [3]),
    # good records after the binary (with none, the input gave nothing: an error, see
    # test_evidence_quality.py)
    ("binary.jsonl", bytes(range(256)) * 40 + b"\n" + good(2), None),
])
def test_malformed_records_are_counted_with_lines(tmp_path: Path, name: str, payload: bytes,
                                                  bad_lines: list[int] | None) -> None:
    log = tmp_path / name
    log.write_bytes(payload)
    code, doc, err = run(tmp_path, log)
    assert code == 0, err
    entry = log_input(doc)
    assert entry["skipped"] >= 1  # type: ignore[operator]
    if bad_lines is not None:
        assert entry["skipped_lines"] == bad_lines
    assert "skipped (first at line" in err and f"{log}" in err


def _line(ts: object = "2026-11-02T10:00:00Z", status: object = 200, **more: object) -> bytes:
    return json.dumps({"ts": ts, "key_id": "k1", "method": "GET", "path": "/v1/issues",
                       "status": status, **more}, ensure_ascii=False).encode() + b"\n"


@pytest.mark.parametrize(("bad", "reason"), [
    # "²" is a digit to str.isdigit() and none to int() or float(): these stopped the whole
    # audit with an internal error
    (_line(status="²"), "status is not a number"),
    (_line(count="²"), "count is not a positive whole number"),
    (_line(ts="2026-11-02T10:00:²³Z"), "unreadable time"),
    # past the end of 9999 once in UTC: the date arithmetic overflowed later
    (_line(ts="9999-12-31T23:30:00-01:00"), "unreadable time"),
])
def test_a_value_the_standard_library_chokes_on_is_one_skipped_line(
        tmp_path: Path, bad: bytes, reason: str) -> None:
    log = tmp_path / "x.jsonl"
    log.write_bytes(good(2) + bad + good(1))
    code, doc, err = run(tmp_path, log)
    assert code == 0, err
    entry = log_input(doc)
    assert entry["skipped_lines"] == [3]
    assert entry["skip_reasons"] == [{"reason": reason, "count": 1}]


def test_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    whole = gzip.compress(good(2000))
    log = tmp_path / "cut.jsonl.gz"
    log.write_bytes(whole[: len(whole) // 2])
    code, doc, err = run(tmp_path, log)
    assert code == 0
    entry = log_input(doc)
    assert 0 < entry["records"] < 2000  # type: ignore[operator]
    assert entry["skipped"] == 1
    assert "input ends early" in err


@pytest.mark.parametrize(("payload", "line"), [
    (good(3) + b"{broken\n" + good(1), 4),
    (gzip.compress(good(5))[:40], 1),
])
def test_strict_makes_the_first_malformed_record_fatal(tmp_path: Path, payload: bytes,
                                                       line: int) -> None:
    log = tmp_path / ("x.jsonl.gz" if payload[:2] == b"\x1f\x8b" else "x.jsonl")
    log.write_bytes(payload)
    code, _, err = run(tmp_path, log, "--strict")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert f"{log}:{line}:" in err


def test_missing_log_and_empty_glob_are_errors(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, tmp_path / "nope.jsonl")
    assert code == 2 and "nope.jsonl: no such file" in err
    code, _, err = run(tmp_path, tmp_path / "*.jsonl")
    assert code == 2 and "matches no file" in err


def test_stdin_with_format(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    proc = subprocess.run([sys.executable, "-m", "scopeaudit", "audit", "--keys", str(keys),
                           "--logs", "-", "--log-format", "jsonl", "--format", "json",
                           "--fail-on", "never"], input=good(10), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["inputs"][1]["records"] == 10


def test_a_token_on_the_line_a_truncated_gzip_breaks_off_in_is_reported(tmp_path: Path
                                                                       ) -> None:
    """The line cut short by the end of a truncated gzip is no record (the input ends early
    there), but the token read of it is reported (SA301), by fingerprint only."""
    from scopeaudit.secrets import fingerprint

    token = "sk_" + "live_CUTx9f8e7d6c5b4a3210"
    cut = b'{"ts": "2026-11-02T10:00:00Z", "key_id": "' + token.encode() + b'", "meth'
    whole = gzip.compress(good(3) + cut)
    log = tmp_path / "cut.jsonl.gz"
    log.write_bytes(whole[:-8])  # the gzip trailer gone: every byte inflates, then it ends
    code, doc, err = run(tmp_path, log)
    assert code == 0, err
    entry = log_input(doc)
    assert (entry["records"], entry["skipped_lines"]) == (3, [4])
    assert doc is not None
    (finding,) = [f for f in doc["findings"] if f["rule"] == "SA301"]  # type: ignore[union-attr]
    assert finding["evidence"]["lines"] == [4]
    assert finding["key"] == "sha256:" + fingerprint(token)[:16]
    assert token not in json.dumps(doc) and token[8:] not in err
