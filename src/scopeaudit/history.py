"""The run history (``audit --history PATH``): one SQLite file, one transaction per run.

Storage rules, each held by tests/unit/test_history.py:

- A run is written in ONE transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), together with the
  read of the previous run that its drift is computed against: a run killed mid-write leaves
  the database exactly as it was, and two runs at once are serialised (the second waits up to
  the busy timeout, then fails with one line naming the database).
- A run is recorded only once its report is written (:func:`pending_run`): a failed report
  leaves the history as it was.
- ``journal_mode=DELETE``: the database is one self-contained file that can be copied between
  machines; nothing in it is an absolute path (inputs are stored as given).
- The schema is versioned with ``PRAGMA user_version`` and marked with ``application_id``.
  :data:`MIGRATIONS` upgrades an older database inside the same transaction; a database newer
  than this scopeaudit is refused, as is a file that is not a scopeaudit history.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scopeaudit.drift import (
    FindingRecord,
    KeyRecord,
    Snapshot,
    compute_drift,
    over_privilege,
    snapshot_of,
)
from scopeaudit.errors import InputError
from scopeaudit.model import Audit, Drift, Severity
from scopeaudit.window import utc_timestamp

APPLICATION_ID = 0x53434155  # "SCAU"
DEFAULT_TIMEOUT = 30.0
# Test hook: "FLAGFILE:SECONDS" makes a writer create FLAGFILE and sleep inside the write
# transaction (after the run row, before its findings), so tests can kill or race it.
PAUSE_ENV = "SCOPEAUDIT_HISTORY_TEST_PAUSE"


def _v1(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_at TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        mode TEXT NOT NULL,
        as_of TEXT NOT NULL,
        window_since TEXT,
        window_until TEXT,
        catalog_name TEXT NOT NULL,
        catalog_version TEXT NOT NULL)""")
    db.execute("""CREATE TABLE run_inputs (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        records INTEGER NOT NULL)""")
    db.execute("""CREATE TABLE run_keys (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        key_id TEXT NOT NULL,
        granted TEXT NOT NULL,
        recommended TEXT NOT NULL,
        unused TEXT NOT NULL,
        PRIMARY KEY (run_id, key_id))""")
    db.execute("""CREATE TABLE run_findings (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        key_id TEXT,
        scope TEXT,
        severity TEXT NOT NULL,
        suppressed INTEGER NOT NULL,
        baselined INTEGER NOT NULL,
        PRIMARY KEY (run_id, fingerprint))""")
    db.execute("CREATE INDEX run_findings_fingerprint ON run_findings (fingerprint, run_id)")


def _v2(db: sqlite3.Connection) -> None:
    """Over-privilege per run and per key, backfilled from the unused scopes v1 kept."""
    db.execute("ALTER TABLE runs ADD COLUMN unused_scopes INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE runs ADD COLUMN over_privilege INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE run_keys ADD COLUMN over_privilege INTEGER NOT NULL DEFAULT 0")
    totals: dict[int, tuple[int, int]] = {}
    rows = db.execute("SELECT run_id, key_id, unused FROM run_keys").fetchall()
    for run_id, key_id, unused in rows:
        scopes = json.loads(unused)
        weight = over_privilege(scopes)
        db.execute("UPDATE run_keys SET over_privilege = ? WHERE run_id = ? AND key_id = ?",
                   (weight, run_id, key_id))
        count, total = totals.get(run_id, (0, 0))
        totals[run_id] = (count + len(scopes), total + weight)
    db.executemany("UPDATE runs SET unused_scopes = ?, over_privilege = ? WHERE id = ?",
                   [(count, total, run_id) for run_id, (count, total) in totals.items()])


def _v3(db: sqlite3.Connection) -> None:
    """The sources that carried each key's traffic, with the last day of it: a source absent
    from a later run defers that key's removals (scopeaudit.quality, SA306)."""
    db.execute("""CREATE TABLE run_sources (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        key_id TEXT NOT NULL,
        source TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (run_id, key_id, source))""")


def _v4(db: sqlite3.Connection) -> None:
    """Removals announced by ``fix --announce`` (staged removal): open until applied or
    withdrawn (the scope was used after its announcement)."""
    db.execute("""CREATE TABLE announcements (
        key_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        announced TEXT NOT NULL,
        run_at TEXT NOT NULL,
        closed TEXT,
        outcome TEXT,
        reason TEXT,
        PRIMARY KEY (key_id, scope, announced))""")


# MIGRATIONS[i] takes a database from schema version i to i + 1.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class RunSummary:
    """One row of ``scopeaudit history``."""

    id: int
    run_at: str
    tool_version: str
    mode: str
    window: str | None  # "since..until"
    keys: int
    findings: dict[str, int]  # by severity, most severe first
    counted: int  # not suppressed nor baselined
    unused_scopes: int
    over_privilege: int

    @property
    def total(self) -> int:
        return sum(self.findings.values())


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def _transaction(path: str, timeout: float, create: bool) -> Iterator[sqlite3.Connection]:
    """An open, migrated database inside BEGIN IMMEDIATE; committed if the body returns."""
    if not create and not Path(path).is_file():
        raise InputError("no such history database", file=path)
    try:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open the history database: {exc}", file=path) from None
    try:
        try:
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _error(exc, path, timeout) from None
        try:
            _migrate(db, path)
            yield db
            if db.in_transaction:  # the body may have rolled back (a run not recorded)
                db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise _error(exc, path, timeout) from None
    finally:
        db.close()


def _error(exc: sqlite3.Error, path: str, timeout: float) -> InputError:
    if _is_busy(exc):
        return InputError(f"the history database is in use by another run; gave up after "
                          f"{timeout:g}s (--history-timeout)", file=path)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return InputError("not a scopeaudit history database (not an SQLite file, or "
                          "corrupt)", file=path)
    return InputError(f"history database error: {exc}", file=path)


def _migrate(db: sqlite3.Connection, path: str) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    app = int(db.execute("PRAGMA application_id").fetchone()[0])
    if version == 0:
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise InputError("an SQLite database that is not a scopeaudit history", file=path)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    elif app != APPLICATION_ID:
        raise InputError("an SQLite database that is not a scopeaudit history", file=path)
    if version > SCHEMA_VERSION:
        raise InputError(f"made by a newer scopeaudit (history schema version {version}; this "
                         f"scopeaudit reads up to {SCHEMA_VERSION}): upgrade scopeaudit",
                         file=path)
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](db)
        db.execute(f"PRAGMA user_version = {step + 1}")


def schema_version(path: str) -> int:
    """The database's schema version (for tests and diagnostics); no migration."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _previous(db: sqlite3.Connection) -> Snapshot | None:
    row = db.execute("SELECT id, run_at, tool_version FROM runs ORDER BY id DESC LIMIT 1"
                     ).fetchone()
    if row is None:
        return None
    run_id, run_at, tool_version = row
    keys = {
        key_id: KeyRecord(key_id, tuple(json.loads(g)), tuple(json.loads(r)),
                          tuple(json.loads(u)))
        for key_id, g, r, u in db.execute(
            "SELECT key_id, granted, recommended, unused FROM run_keys WHERE run_id = ?",
            (run_id,))
    }
    findings = {
        fp: FindingRecord(fp, rule, key, scope, severity, bool(sup), bool(base))
        for fp, rule, key, scope, severity, sup, base in db.execute(
            "SELECT fingerprint, rule, key_id, scope, severity, suppressed, baselined "
            "FROM run_findings WHERE run_id = ?", (run_id,))
    }
    return Snapshot(run_at, tool_version, keys, findings, id=run_id)


def _first_seen(db: sqlite3.Connection, fingerprints: set[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for fp, run_at in db.execute(
            "SELECT f.fingerprint, r.run_at FROM run_findings f JOIN runs r "
            "ON r.id = f.run_id ORDER BY f.run_id"):
        if fp in fingerprints:
            seen.setdefault(fp, run_at)
    return seen


def _pause_hook() -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    flag, _, seconds = spec.rpartition(":")
    Path(flag).write_text("writing\n", encoding="utf-8")
    time.sleep(float(seconds))


def _insert(db: sqlite3.Connection, audit: Audit, snap: Snapshot) -> int:
    window = audit.window
    cursor = db.execute(
        "INSERT INTO runs (run_at, tool_version, mode, as_of, window_since, window_until, "
        "catalog_name, catalog_version, unused_scopes, over_privilege) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (snap.run_at, audit.tool_version, audit.mode, audit.as_of.isoformat(),
         window.since.isoformat() if window else None,
         window.until.isoformat() if window else None,
         audit.catalog.name, audit.catalog.version, snap.unused_scopes, snap.over_privilege))
    run_id = cursor.lastrowid
    assert run_id is not None
    db.executemany(
        "INSERT INTO run_inputs (run_id, path, kind, sha256, records) VALUES (?, ?, ?, ?, ?)",
        [(run_id, i.path, i.kind, i.sha256, i.records) for i in audit.inputs])
    db.executemany(
        "INSERT INTO run_keys (run_id, key_id, granted, recommended, unused, over_privilege) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(run_id, k.key_id, json.dumps(list(k.granted)), json.dumps(list(k.recommended)),
          json.dumps(list(k.unused)), k.over_privilege) for k in snap.keys.values()])
    db.executemany(
        "INSERT INTO run_sources (run_id, key_id, source, last_seen) VALUES (?, ?, ?, ?)",
        [(run_id, v.key_id, u.source, u.last_seen) for v in audit.verdicts
         for u in v.sources])
    _pause_hook()
    db.executemany(
        "INSERT INTO run_findings (run_id, fingerprint, rule, key_id, scope, severity, "
        "suppressed, baselined) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, f.fingerprint, f.rule, f.key, f.scope, f.severity, int(f.suppressed),
          int(f.baselined)) for f in snap.findings.values()])
    return run_id


class PendingRun:
    """A run about to be recorded: its drift against the previous run, with the history held
    (BEGIN IMMEDIATE) until :meth:`record` or the end of :func:`pending_run`."""

    def __init__(self, db: sqlite3.Connection, audit: Audit, snap: Snapshot,
                 drift: Drift) -> None:
        self._db, self._audit, self._snap = db, audit, snap
        self.drift = drift
        self.recorded = False

    def record(self) -> None:
        _insert(self._db, self._audit, self._snap)
        self.recorded = True


@contextmanager
def pending_run(path: str, audit: Audit, *, run_at: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> Iterator[PendingRun]:
    """The drift of ``audit`` against the previous run in the history at ``path`` (created
    if missing); the run is recorded only if the body calls ``record()`` and returns.

    The report that shows the drift is written inside the body, and the run recorded after
    it: a report that failed (a full disk, a template error) leaves no run behind, so the
    next run's drift never calls "persisting" findings nobody saw. Drift and record stay in
    one transaction, so no other run can slip in between them. The run time is ``run_at``,
    else the Audit's generated_at, else now."""
    stamp = run_at or audit.generated_at or utc_timestamp()
    snap = snapshot_of(audit, stamp)
    with _transaction(path, timeout, create=True) as db:
        previous = _previous(db)
        run = PendingRun(db, audit, snap,
                         compute_drift(snap, previous, _first_seen(db, set(snap.findings))))
        yield run
        if not run.recorded:
            db.execute("ROLLBACK")


def record_run(path: str, audit: Audit, *, run_at: str | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> Drift:
    """Record ``audit`` in the history at ``path`` (created if missing) and return its drift
    against the previous run there (see :func:`pending_run`)."""
    with pending_run(path, audit, run_at=run_at, timeout=timeout) as run:
        run.record()
    return run.drift


def earlier_sources(path: str, timeout: float = DEFAULT_TIMEOUT) -> dict[tuple[str, str], str]:
    """(key, source) -> the last day any run recorded in the history at ``path`` saw that
    key's traffic from that source; empty when there is no history yet."""
    if not Path(path).is_file():
        return {}
    with _transaction(path, timeout, create=False) as db:
        return {(key, source): last for key, source, last in db.execute(
            "SELECT key_id, source, max(last_seen) FROM run_sources GROUP BY key_id, source "
            "ORDER BY key_id, source")}


def list_runs(path: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[RunSummary, ...]:
    """Every run in the history, oldest first."""
    with _transaction(path, timeout, create=False) as db:
        counts: dict[int, dict[str, int]] = {}
        counted: dict[int, int] = {}
        for run_id, severity, n, c in db.execute(
                "SELECT run_id, severity, count(*), sum(suppressed = 0 AND baselined = 0) "
                "FROM run_findings GROUP BY run_id, severity"):
            counts.setdefault(run_id, {})[severity] = n
            counted[run_id] = counted.get(run_id, 0) + c
        keys = dict(db.execute("SELECT run_id, count(*) FROM run_keys GROUP BY run_id"))
        rows = db.execute(
            "SELECT id, run_at, tool_version, mode, window_since, window_until, unused_scopes, "
            "over_privilege FROM runs ORDER BY id").fetchall()
    order = [s.value for s in Severity.descending()]
    return tuple(
        RunSummary(run_id, run_at, version, mode,
                   f"{since}..{until}" if since and until else None, keys.get(run_id, 0),
                   {s: counts.get(run_id, {}).get(s, 0) for s in order},
                   counted.get(run_id, 0), unused, op)
        for run_id, run_at, version, mode, since, until, unused, op in rows)


@dataclass(frozen=True)
class Announcement:
    """A removal announced by ``fix --announce`` on the audit day ``announced`` (ISO)."""

    key_id: str
    scope: str
    announced: str


class Announcements:
    """The open announcements of a history, inside its transaction (:func:`announcements`)."""

    def __init__(self, db: sqlite3.Connection | None) -> None:
        self._db = db
        self.open: tuple[Announcement, ...] = () if db is None else tuple(
            Announcement(k, s, a) for k, s, a in db.execute(
                "SELECT key_id, scope, announced FROM announcements WHERE closed IS NULL "
                "ORDER BY key_id, scope, announced"))

    def announce(self, items: list[tuple[str, str]], day: str) -> None:
        """Record new announcements; one already open for a (key, scope) is kept as it is."""
        assert self._db is not None
        known = {(a.key_id, a.scope) for a in self.open}
        self._db.executemany(
            "INSERT OR IGNORE INTO announcements (key_id, scope, announced, run_at) "
            "VALUES (?, ?, ?, ?)",
            [(k, s, day, utc_timestamp()) for k, s in items if (k, s) not in known])

    def close(self, items: list[tuple[Announcement, str, str]], day: str) -> None:
        """Close announcements as (announcement, outcome: applied | withdrawn, reason)."""
        if self._db is None or not items:
            return
        self._db.executemany(
            "UPDATE announcements SET closed = ?, outcome = ?, reason = ? "
            "WHERE key_id = ? AND scope = ? AND announced = ?",
            [(day, outcome, reason, a.key_id, a.scope, a.announced)
             for a, outcome, reason in items])


@contextmanager
def announcements(path: str, timeout: float = DEFAULT_TIMEOUT, *, create: bool
                  ) -> Iterator[Announcements]:
    """The history's open announcements, held in one transaction until the body returns
    (committed then). Without ``create``, a history that does not exist has none."""
    if not create and not Path(path).is_file():
        yield Announcements(None)
        return
    with _transaction(path, timeout, create=True) as db:
        yield Announcements(db)
