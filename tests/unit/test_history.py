"""The run history (scopeaudit.history and `audit --history`, `scopeaudit history`): storage,
drift across runs, migrations, and robustness (killed writer, concurrent runs, foreign files).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from scopeaudit import history
from scopeaudit.errors import InputError
from scopeaudit.history import APPLICATION_ID, SCHEMA_VERSION, list_runs, record_run
from scopeaudit.model import (
    Audit,
    CatalogInfo,
    Finding,
    Key,
    KeyVerdict,
    Location,
    ScopeGrant,
    Severity,
)

ROOT = Path(__file__).resolve().parents[2]
T1, T2, T3, T4 = ("2026-08-01T06:00:00Z", "2026-09-01T06:00:00Z", "2026-10-01T06:00:00Z",
                  "2026-11-01T06:00:00Z")
LOC = Location("keys.yaml", 1)


def finding(key: str, scope: str | None, rule: str = "SA102",
            severity: Severity = Severity.HIGH) -> Finding:
    return Finding(rule, "unused-scope", severity, "m", LOC, key=key, scope=scope)


def audit_of(keys: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
             findings: list[Finding]) -> Audit:
    """keys: id -> (granted, unused)."""
    built, verdicts = [], []
    for key_id, (granted, unused) in keys.items():
        built.append(Key(key_id, LOC, tuple(ScopeGrant(s, LOC) for s in granted)))
        used = tuple(s for s in granted if s not in unused)
        verdicts.append(KeyVerdict(key_id, {s: "unused" if s in unused else "used"
                                            for s in granted}, used, unused, (), {}, 1, 0, 0,
                                   None, None, 1, (), (), ()))
    return Audit("audit", "0.1.0", date(2026, 11, 27), (),
                 CatalogInfo("insp.ac", "1", "builtin", 1, 1, {}), tuple(built),
                 tuple(findings), verdicts=tuple(verdicts))


def fps(group: tuple[object, ...]) -> list[str]:
    return [getattr(d, "fingerprint") for d in group]  # noqa: B009


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def count_runs(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        db.close()


# --------------------------------------------------------------------------- drift over runs

def test_drift_across_four_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite")
    keys = {"k1": (("issues:read", "works:write"), ("works:write",))}
    a, b = finding("k1", "works:write"), finding("k1", "issues:read", "SA107", Severity.LOW)

    d1 = record_run(db, audit_of(keys, [a]), run_at=T1)
    assert d1.previous_run is None and fps(d1.new) == [a.fingerprint]
    assert d1.keys_added == ("k1",)

    d2 = record_run(db, audit_of(keys, [a, b]), run_at=T2)
    assert d2.previous_run is not None and d2.previous_run.run_at == T1
    assert fps(d2.new) == [b.fingerprint]
    assert [(d.fingerprint, d.first_seen) for d in d2.persisting] == [(a.fingerprint, T1)]

    d3 = record_run(db, audit_of(keys, [b]), run_at=T3)  # a resolved
    assert fps(d3.resolved) == [a.fingerprint]
    assert [(d.fingerprint, d.first_seen) for d in d3.persisting] == [(b.fingerprint, T2)]

    d4 = record_run(db, audit_of(keys, [a, b]), run_at=T4)  # a is back
    assert d4.new == ()
    assert [(d.fingerprint, d.first_seen, d.resolved_at) for d in d4.regressed] == [
        (a.fingerprint, T1, T3)]
    assert [(d.fingerprint, d.first_seen) for d in d4.persisting] == [(b.fingerprint, T2)]
    # works:write unused on every run: 3 each time
    assert (d4.over_privilege, d4.previous_over_privilege) == (3, 3)

    runs = list_runs(db)
    assert [r.run_at for r in runs] == [T1, T2, T3, T4]
    assert [r.total for r in runs] == [1, 2, 1, 2]
    assert [r.findings["high"] for r in runs] == [1, 1, 0, 1]
    assert [r.over_privilege for r in runs] == [3, 3, 3, 3]


def test_a_pending_run_is_recorded_only_when_its_report_was(tmp_path: Path) -> None:
    # the CLI writes the report inside pending_run and records after it (cli.audit_commands._finish)
    db = str(tmp_path / "h.sqlite")
    keys = {"k1": (("works:write",), ("works:write",))}
    a = finding("k1", "works:write")
    record_run(db, audit_of(keys, [a]), run_at=T1)
    with history.pending_run(db, audit_of(keys, [a]), run_at=T2) as run:
        assert fps(run.drift.persisting) == [a.fingerprint]
    with pytest.raises(InputError), \
            history.pending_run(db, audit_of(keys, [a]), run_at=T3) as run:
        raise InputError("template error")  # the report failed
    assert [r.run_at for r in list_runs(db)] == [T1]
    with history.pending_run(db, audit_of(keys, [a]), run_at=T4) as run:
        run.record()
    assert [r.run_at for r in list_runs(db)] == [T1, T4]
    assert integrity(Path(db)) == "ok"


def test_keys_and_scopes_between_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite")
    record_run(db, audit_of({"k1": (("issues:read", "works:write"), ()),
                             "gone": (("sites:read",), ())}, []), run_at=T1)
    drift = record_run(db, audit_of({"k1": (("issues:read", "issues:write"), ()),
                                     "fresh": (("sites:read",), ())}, []), run_at=T2)
    assert drift.keys_added == ("fresh",)
    assert drift.keys_removed == ("gone",)
    assert drift.scopes_granted == (("k1", "issues:write"),)
    assert drift.scopes_revoked == (("k1", "works:write"),)


def test_run_time_is_generated_at_else_now(tmp_path: Path) -> None:
    from dataclasses import replace

    db = str(tmp_path / "h.sqlite")
    record_run(db, replace(audit_of({}, []), generated_at=T1))
    record_run(db, audit_of({}, []))
    runs = list_runs(db)
    assert runs[0].run_at == T1
    assert runs[1].run_at > "2026-01-01"  # now, whatever it is; a UTC ISO time
    assert runs[1].run_at.endswith("+00:00") or runs[1].run_at.endswith("Z")


# --------------------------------------------------------------------------- file properties

def test_single_self_contained_file_without_absolute_paths(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    record_run(str(db), audit_of({"k1": (("issues:read",), ())}, []), run_at=T1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]  # no -wal, no -journal
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert str(tmp_path) not in dump
    # copied elsewhere, it reads the same
    copy = tmp_path / "elsewhere" / "copy.sqlite"
    copy.parent.mkdir()
    copy.write_bytes(db.read_bytes())
    assert [r.run_at for r in list_runs(str(copy))] == [T1]


def test_a_wal_database_is_turned_back_to_delete_mode(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    record_run(str(db), audit_of({}, []), run_at=T1)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    record_run(str(db), audit_of({}, []), run_at=T2)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not (tmp_path / "h.sqlite-wal").exists()


# --------------------------------------------------------------------------- migrations

V1_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, run_at TEXT NOT NULL, tool_version TEXT NOT NULL,
  mode TEXT NOT NULL, as_of TEXT NOT NULL, window_since TEXT, window_until TEXT,
  catalog_name TEXT NOT NULL, catalog_version TEXT NOT NULL);
CREATE TABLE run_inputs (run_id INTEGER NOT NULL REFERENCES runs(id), path TEXT NOT NULL,
  kind TEXT NOT NULL, sha256 TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE run_keys (run_id INTEGER NOT NULL REFERENCES runs(id), key_id TEXT NOT NULL,
  granted TEXT NOT NULL, recommended TEXT NOT NULL, unused TEXT NOT NULL,
  PRIMARY KEY (run_id, key_id));
CREATE TABLE run_findings (run_id INTEGER NOT NULL REFERENCES runs(id),
  fingerprint TEXT NOT NULL, rule TEXT NOT NULL, key_id TEXT, scope TEXT,
  severity TEXT NOT NULL, suppressed INTEGER NOT NULL, baselined INTEGER NOT NULL,
  PRIMARY KEY (run_id, fingerprint));
CREATE INDEX run_findings_fingerprint ON run_findings (fingerprint, run_id);
"""


def make_v1(path: Path, fingerprint: str) -> None:
    """A history as scopeaudit with schema version 1 wrote it: one run, key k1 with
    works:write and issues:read unused (over-privilege 3 + 1 = 4, not stored in v1)."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA + f"""
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = 1;
INSERT INTO runs VALUES (1, '{T1}', '0.0.9', 'audit', '2026-08-01', '2026-05-04',
  '2026-08-01', 'insp.ac', '1');
INSERT INTO run_inputs VALUES (1, 'keys.yaml', 'keys', 'abc', 1);
INSERT INTO run_keys VALUES (1, 'k1', '["issues:read","works:write"]', '[]',
  '["issues:read","works:write"]');
INSERT INTO run_findings VALUES (1, '{fingerprint}', 'SA102', 'k1', 'works:write', 'high', 0, 0);
""")
    conn.close()


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite"
    a = finding("k1", "works:write")
    make_v1(db, a.fingerprint)
    assert history.schema_version(str(db)) == 1
    drift = record_run(str(db), audit_of(
        {"k1": (("issues:read", "works:write"), ("works:write",))}, [a]), run_at=T2)
    assert history.schema_version(str(db)) == SCHEMA_VERSION == 4
    # the v1 run, backfilled: issues:read 1 + works:write 3
    assert (drift.previous_unused_scopes, drift.previous_over_privilege) == (2, 4)
    assert [(d.fingerprint, d.first_seen) for d in drift.persisting] == [(a.fingerprint, T1)]
    runs = list_runs(str(db))
    assert [(r.tool_version, r.unused_scopes, r.over_privilege) for r in runs] == [
        ("0.0.9", 2, 4), ("0.1.0", 1, 3)]
    assert integrity(db) == "ok"


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    db = tmp_path / "v1.sqlite"
    make_v1(db, "f" * 32)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN half_done INTEGER")
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(history, "MIGRATIONS", (history.MIGRATIONS[0], broken))
    with pytest.raises(InputError, match="history database error"):
        record_run(str(db), audit_of({}, []), run_at=T2)
    assert history.schema_version(str(db)) == 1
    conn = sqlite3.connect(db)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    conn.close()
    assert "half_done" not in columns and "over_privilege" not in columns
    assert count_runs(db) == 1


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    record_run(str(db), audit_of({}, []), run_at=T1)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(InputError) as caught:
        record_run(str(db), audit_of({}, []), run_at=T2)
    assert str(caught.value) == (
        f"{db}: made by a newer scopeaudit (history schema version 99; this scopeaudit "
        f"reads up to {SCHEMA_VERSION}): upgrade scopeaudit")
    assert count_runs(db) == 1


def test_foreign_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(InputError, match="not a scopeaudit history"):
        record_run(str(other), audit_of({}, []))
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all, just text\n" * 100)
    with pytest.raises(InputError, match="not a scopeaudit history database") as caught:
        record_run(str(junk), audit_of({}, []))
    assert str(junk) in str(caught.value)
    assert junk.read_bytes() == b"this is not a database at all, just text\n" * 100
    with pytest.raises(InputError, match="no such history database"):
        list_runs(str(tmp_path / "missing.sqlite"))


# --------------------------------------------------------------------------- through the CLI

KEYS = """\
keys:
  - id: k1
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    scopes: [issues:read, issues:write, works:read]
  - id: k2
    owner: o
    expires: 2027-12-31
    scopes: [works:read]
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "keys.yaml").write_text(KEYS)
    lines = []
    start = date(2026, 8, 1)
    for day in range(90):  # 90 days of daily use: removals have high confidence
        stamp = date.fromordinal(start.toordinal() + day).isoformat()
        for key, path in (("k1", "/v1/issues"), ("k2", "/v1/works")):
            lines.append(json.dumps({"time": f"{stamp}T12:00:00Z", "key_id": key,
                                     "method": "GET", "path": path, "status": 200}))
    (tmp_path / "logs.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None,
        wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEAUDIT_")}
    full_env.update(env or {})
    command = [sys.executable, "-m", "scopeaudit", *args]
    if not wait:
        return subprocess.Popen(command, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=120)


AUDIT = ("audit", "--keys", "keys.yaml", "--logs", "logs.jsonl", "--as-of", "2026-11-27",
         "--no-timestamp", "--fail-on", "never")


def audit_json(cwd: Path, *extra: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    proc = cli(cwd, *AUDIT, "--format", "json", *extra, env=env)
    assert isinstance(proc, subprocess.CompletedProcess)
    assert proc.returncode == 0, proc.stderr
    doc: dict = json.loads(proc.stdout)  # type: ignore[type-arg]
    return doc


def validate(doc: dict) -> None:  # type: ignore[type-arg]
    import jsonschema

    schema = json.loads((ROOT / "docs" / "schema" / "audit-v1.schema.json").read_text())
    jsonschema.validate(doc, schema)


def test_cli_history_drift_in_json(workdir: Path) -> None:
    without = audit_json(workdir)
    assert without["drift"] is None
    validate(without)

    first = audit_json(workdir, "--history", "h.sqlite")
    validate(first)
    # k1 never used issues:write (3) nor works:read (1)
    assert first["drift"]["previous_run"] is None
    assert sorted((d["rule"], d["key"], d["scope"]) for d in first["drift"]["new"]) == [
        ("SA102", "k1", "issues:write"), ("SA102", "k1", "works:read")]
    assert first["drift"]["over_privilege"]["score"] == 4
    assert first["drift"]["over_privilege"]["by_key"] == {"k1": 4, "k2": 0}

    # k2 gets sites:write, k1 loses works:read; the history comes from the environment
    (workdir / "keys.yaml").write_text(KEYS.replace(
        "scopes: [works:read]", "scopes: [works:read, sites:write]").replace(
        "issues:write, works:read]", "issues:write]"))
    second = audit_json(workdir, env={"SCOPEAUDIT_HISTORY": "h.sqlite"})
    validate(second)
    drift = second["drift"]
    assert drift["previous_run"]["id"] == 1
    assert [(d["key"], d["scope"]) for d in drift["new"]] == [("k2", "sites:write")]
    assert [(d["key"], d["scope"]) for d in drift["persisting"]] == [("k1", "issues:write")]
    assert drift["persisting"][0]["first_seen"] == drift["previous_run"]["run_at"]
    assert [(d["key"], d["scope"]) for d in drift["resolved"]] == [("k1", "works:read")]
    assert drift["scopes_granted"] == [{"key": "k2", "scope": "sites:write"}]
    assert drift["scopes_revoked"] == [{"key": "k1", "scope": "works:read"}]
    assert drift["over_privilege"]["score"] == 6  # issues:write 3 + sites:write 3
    assert drift["over_privilege"]["previous_score"] == 4

    # the configuration file key `history`
    (workdir / "scopeaudit.toml").write_text('history = "h.sqlite"\n')
    third = audit_json(workdir)
    assert third["drift"]["previous_run"]["id"] == 2

    table = cli(workdir, *AUDIT)
    assert isinstance(table, subprocess.CompletedProcess)
    assert "Since last run (" in table.stdout and "run 3)" in table.stdout
    assert "0 new, 2 persisting, 0 resolved, 0 regressed" in table.stdout


def test_history_command(workdir: Path) -> None:
    audit_json(workdir, "--history", "h.sqlite")
    audit_json(workdir, "--history", "h.sqlite")
    proc = cli(workdir, "history", "h.sqlite", "--format", "json")
    assert isinstance(proc, subprocess.CompletedProcess) and proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "scopeaudit/history/v1"
    assert [r["id"] for r in doc["runs"]] == [1, 2]
    assert doc["runs"][0]["by_severity"]["high"] == 1  # SA102 on issues:write
    assert doc["trend"]["over_privilege"] == {"first": 4, "last": 4, "change": 0}
    table = cli(workdir, "history", "h.sqlite")
    assert isinstance(table, subprocess.CompletedProcess)
    assert "Trend over 2 runs" in table.stdout
    html = cli(workdir, "history", "h.sqlite", "--format", "html", "-o", "h.html")
    assert isinstance(html, subprocess.CompletedProcess) and html.returncode == 0
    page = (workdir / "h.html").read_text()
    assert page.count("<svg") == 2 and "<polyline" in page
    assert "Content-Security-Policy" in page and "script-src 'none'" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    missing = cli(workdir, "history", "nope.sqlite")
    assert isinstance(missing, subprocess.CompletedProcess)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "scopeaudit: error: nope.sqlite: no such history database"


def test_cli_corrupt_history_exits_2_naming_it(workdir: Path) -> None:
    (workdir / "bad.sqlite").write_text("garbage " * 200)
    proc = cli(workdir, *AUDIT, "--history", "bad.sqlite")
    assert isinstance(proc, subprocess.CompletedProcess)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "scopeaudit: error: bad.sqlite: not a scopeaudit history database (not an SQLite "
        "file, or corrupt)"]
    assert proc.stdout == ""


# --------------------------------------------------------------------------- robustness

def wait_for(flag: Path, proc: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the writer never reached the pause"
        time.sleep(0.02)


def test_a_run_killed_mid_write_leaves_the_previous_runs(workdir: Path) -> None:
    audit_json(workdir, "--history", "h.sqlite")
    audit_json(workdir, "--history", "h.sqlite")
    flag = workdir / "paused"
    proc = cli(workdir, *AUDIT, "--history", "h.sqlite",
               env={history.PAUSE_ENV: f"{flag}:60"}, wait=False)
    assert isinstance(proc, subprocess.Popen)
    wait_for(flag, proc)  # the run row and keys are written, the transaction is open
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    db = workdir / "h.sqlite"
    assert integrity(db) == "ok"  # a hot journal is rolled back on open
    assert count_runs(db) == 2
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM run_keys WHERE run_id > 2").fetchone()[0] == 0
    conn.close()
    # and the next run carries on from run 2
    assert audit_json(workdir, "--history", "h.sqlite")["drift"]["previous_run"]["id"] == 2
    assert count_runs(db) == 3


def test_two_runs_at_once_are_serialised(workdir: Path) -> None:
    audit_json(workdir, "--history", "h.sqlite")
    flag = workdir / "paused"
    first = cli(workdir, *AUDIT, "--format", "json", "--history", "h.sqlite",
                env={history.PAUSE_ENV: f"{flag}:1.5"}, wait=False)
    assert isinstance(first, subprocess.Popen)
    wait_for(flag, first)
    second = cli(workdir, *AUDIT, "--format", "json", "--history", "h.sqlite", wait=False)
    assert isinstance(second, subprocess.Popen)
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    # the second waited for the first and compared itself with it
    assert json.loads(out1)["drift"]["previous_run"]["id"] == 1
    assert json.loads(out2)["drift"]["previous_run"]["id"] == 2
    assert count_runs(workdir / "h.sqlite") == 3
    assert integrity(workdir / "h.sqlite") == "ok"


@pytest.mark.slow
def test_a_second_run_gives_up_after_the_timeout(workdir: Path) -> None:
    audit_json(workdir, "--history", "h.sqlite")
    flag = workdir / "paused"
    first = cli(workdir, *AUDIT, "--history", "h.sqlite",
                env={history.PAUSE_ENV: f"{flag}:4"}, wait=False)
    assert isinstance(first, subprocess.Popen)
    wait_for(flag, first)
    second = cli(workdir, *AUDIT, "--history", "h.sqlite", "--history-timeout", "0.2")
    assert isinstance(second, subprocess.CompletedProcess)
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        "scopeaudit: error: h.sqlite: the history database is in use by another run; gave up "
        "after 0.2s (--history-timeout)"]
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert count_runs(workdir / "h.sqlite") == 2
    assert integrity(workdir / "h.sqlite") == "ok"


# --------------------------------------------------------------------------- every format

def audit_with_drift(tmp_path: Path) -> Audit:
    """Two runs: run 1 has a (SA102 k1 works:write) and b (SA107 k1 issues:read); run 2 keeps
    a, resolves b, adds c (SA102 k1 issues:write, granted since) and key k2."""
    from dataclasses import replace

    db = str(tmp_path / "h.sqlite")
    a, b = finding("k1", "works:write"), finding("k1", "issues:read", "SA107", Severity.LOW)
    c = finding("k1", "issues:write")
    record_run(db, audit_of({"k1": (("issues:read", "works:write"), ("works:write",))},
                            [a, b]), run_at=T1)
    current = audit_of({"k1": (("issues:read", "issues:write", "works:write"),
                               ("issues:write", "works:write")),
                        "k2": (("sites:read",), ())}, [a, c])
    return replace(current, drift=record_run(db, current, run_at=T2))


def test_every_format_shows_since_last_run(tmp_path: Path) -> None:
    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    audit = audit_with_drift(tmp_path)
    a, c = finding("k1", "works:write"), finding("k1", "issues:write")

    def render(fmt: str) -> str:
        return renderer_for(OutputFormat(fmt))(audit, RenderOptions())

    table = render("table")
    assert f"Since last run ({T1}, run 1):" in table
    assert "1 new, 1 persisting, 1 resolved, 0 regressed" in table
    assert "scopes granted: k1 issues:write" in table
    assert "over-privilege: 6 from 2 unused scope(s), write 3 / read 1 (was 3, 1 unused)" in table

    markdown = render("markdown")
    assert "### Since last run" in markdown
    assert "| new | high | SA102 | k1 | issues:write | - |" in markdown
    assert "| resolved | low | SA107 | k1 | issues:read | - |" in markdown
    assert "- Keys added: k2" in markdown

    html = render("html")
    assert '<section id="drift"' in html and "Since last run" in html
    assert "<td>resolved</td><td>low</td><td>SA107</td>" in html

    csv_text = render("csv").splitlines()
    assert csv_text[0].endswith(",drift")
    states = {line.split(",")[9]: line.rsplit(",", 1)[1] for line in csv_text[1:]}
    assert states == {a.fingerprint: "persisting", c.fingerprint: "new"}

    sarif = json.loads(render("sarif"))
    run = sarif["runs"][0]
    assert {r["partialFingerprints"]["scopeaudit/v1"]: r["baselineState"]
            for r in run["results"]} == {a.fingerprint: "unchanged", c.fingerprint: "new"}
    assert run["properties"]["drift"]["resolved"] == 1
    assert run["properties"]["drift"]["over_privilege"] == 6
    oasis = ROOT.parent / "shared" / "realdata" / "sarif" / "sarif-schema-2.1.0.json"
    if oasis.is_file():
        import jsonschema

        jsonschema.Draft4Validator(json.loads(oasis.read_text(encoding="utf-8"))
                                   ).validate(sarif)

    doc = json.loads(render("json"))
    validate(doc)
    assert [d["fingerprint"] for d in doc["drift"]["persisting"]] == [a.fingerprint]
    assert doc["drift"]["persisting"][0]["first_seen"] == T1
    assert doc["drift"]["keys_added"] == ["k2"]
    assert doc["drift"]["scopes_granted"] == [{"key": "k1", "scope": "issues:write"}]


def test_without_history_no_format_mentions_drift() -> None:
    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    audit = audit_of({"k1": (("issues:read",), ())}, [finding("k1", "issues:read")])
    for fmt in OutputFormat:
        text = renderer_for(fmt)(audit, RenderOptions())
        assert "ince last run" not in text, fmt
        assert "drift" not in text.replace('"drift": null', ""), fmt
