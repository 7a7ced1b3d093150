"""Staged removal: fix --announce records, a later fix --history applies what stayed unused.

The key file is the fix fixture's (tests/data/fix/keys.yaml); its removals, as
test_fix.py derives them: key_report issues:write and sites:read; key_flow issues:read,
works:read and assets:write; key_pinned users:read. The traffic is test_fix's (every day,
key_report lists issues and works, key_flow sites and assets, key_pinned issues), for 90
days up to the day before each run's --as-of.

1. 2026-11-27: ``--announce --only key_report --only key_flow``: five removals announced
   (key_pinned's users:read is not).
2. 2026-12-05 (8 days on): nothing applies; each is "applies from 2026-12-11".
3. 2026-12-12 (15 days on), with key_flow listing works from 2026-12-01: works:read was
   used after its announcement, so it is withdrawn and reported; key_report's two and
   key_flow's issues:read and assets:write apply; key_pinned's users:read is held, never
   announced.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from scopeaudit.cli import main
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import load_inventory

DATA = Path(__file__).resolve().parents[1] / "data" / "fix"
TRAFFIC = {"key_report": ["/v1/issues", "/v1/works"], "key_flow": ["/v1/sites", "/v1/assets"],
           "key_pinned": ["/v1/issues"]}


def _logs(path: Path, until: date, extra_from: date | None = None) -> Path:
    lines = []
    for n in range(90):
        day = until - timedelta(days=89 - n)
        for key, paths in sorted(TRAFFIC.items()):
            for p in paths + (["/v1/works"] if key == "key_flow" and extra_from
                              and day >= extra_from else []):
                lines.append(json.dumps({"time": f"{day}T12:00:00Z", "key_id": key,
                                         "method": "GET", "path": p, "status": 200}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fix(capsys: pytest.CaptureFixture[str], work: Path, as_of: date, *extra: str,
         extra_from: date | None = None) -> tuple[int, str, str]:
    logs = _logs(work / "logs.jsonl", as_of - timedelta(days=1), extra_from)
    with pytest.raises(SystemExit) as exit_info:
        main(["fix", "--keys", str(work / "keys.yaml"), "--logs", str(logs), "--as-of",
              as_of.isoformat(), "--no-config", "--history", str(work / "h.db"), *extra])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def _rows(db: Path) -> list[tuple[str, str, str, str | None, str | None]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT key_id, scope, announced, closed, outcome FROM "
                            "announcements ORDER BY key_id, scope").fetchall()
    finally:
        conn.close()


def _granted(keys: Path) -> dict[str, tuple[str, ...]]:
    inv = load_inventory(str(keys), None, Diagnostics())
    return {k.id: k.granted for k in inv.keys}


def test_announce_then_apply_what_stayed_unused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(DATA / "keys.yaml", tmp_path / "keys.yaml")
    before = (tmp_path / "keys.yaml").read_bytes()

    code, out, _ = _fix(capsys, tmp_path, date(2026, 11, 27), "--announce",
                        "--only", "key_report", "--only", "key_flow")
    assert code == 0
    assert out == (
        "key_flow assets:write: announced 2026-11-27; removed from 2026-12-11 if still unused "
        "(high confidence)\n"
        "key_flow issues:read: announced 2026-11-27; removed from 2026-12-11 if still unused "
        "(high confidence)\n"
        "key_flow works:read: announced 2026-11-27; removed from 2026-12-11 if still unused "
        "(high confidence)\n"
        "key_report issues:write: announced 2026-11-27; removed from 2026-12-11 if still "
        "unused (high confidence)\n"
        "key_report sites:read: announced 2026-11-27; removed from 2026-12-11 if still unused "
        "(high confidence)\n")
    assert (tmp_path / "keys.yaml").read_bytes() == before  # announcing changes nothing
    assert _rows(tmp_path / "h.db") == [
        ("key_flow", "assets:write", "2026-11-27", None, None),
        ("key_flow", "issues:read", "2026-11-27", None, None),
        ("key_flow", "works:read", "2026-11-27", None, None),
        ("key_report", "issues:write", "2026-11-27", None, None),
        ("key_report", "sites:read", "2026-11-27", None, None)]

    # 8 days on: too early for all of them
    code, out, err = _fix(capsys, tmp_path, date(2026, 12, 5), "--apply")
    assert code == 0 and out == ""
    assert (tmp_path / "keys.yaml").read_bytes() == before
    assert "not applied: key_report issues:write (announced 2026-11-27; applies from " \
           "2026-12-11)" in err
    assert "not applied: key_pinned users:read (not announced" in err

    # 15 days on, key_flow has listed works since 2026-12-01
    code, out, err = _fix(capsys, tmp_path, date(2026, 12, 12), "--apply",
                          extra_from=date(2026, 12, 1))
    assert code == 0
    assert "announcement withdrawn: key_flow works:read (used since its announcement on " \
           "2026-11-27; announce it again once unused)" in err
    assert "not applied: key_pinned users:read (not announced" in err
    assert "4 scope(s) removed from 2 key(s)" in err
    granted = _granted(tmp_path / "keys.yaml")
    assert granted["key_report"] == ("issues:read", "works:read", "works:write")
    assert granted["key_flow"] == ("assets:read", "sites:read", "works:read")
    assert granted["key_pinned"] == ("issues:read", "sites:read", "users:read")
    assert _rows(tmp_path / "h.db") == [
        ("key_flow", "assets:write", "2026-11-27", "2026-12-12", "applied"),
        ("key_flow", "issues:read", "2026-11-27", "2026-12-12", "applied"),
        ("key_flow", "works:read", "2026-11-27", "2026-12-12", "withdrawn"),
        ("key_report", "issues:write", "2026-11-27", "2026-12-12", "applied"),
        ("key_report", "sites:read", "2026-11-27", "2026-12-12", "applied")]


def test_announce_days_shortens_the_wait(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(DATA / "keys.yaml", tmp_path / "keys.yaml")
    _fix(capsys, tmp_path, date(2026, 11, 27), "--announce", "--only", "key_pinned")
    code, out, err = _fix(capsys, tmp_path, date(2026, 12, 5), "--announce-days", "7",
                          "--only", "key_pinned")
    assert code == 0
    assert "-      - users:read\n" in out
    assert "1 scope(s) removed from 1 key(s)" in err


def test_without_history_announce_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(DATA / "keys.yaml", tmp_path / "keys.yaml")
    logs = _logs(tmp_path / "logs.jsonl", date(2026, 11, 26))
    with pytest.raises(SystemExit) as exit_info:
        main(["fix", "--keys", str(tmp_path / "keys.yaml"), "--logs", str(logs),
              "--as-of", "2026-11-27", "--no-config", "--announce"])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "--announce records the removals in a history: give --history PATH" in err
