"""--engine: which engine reads what, the missing extra, Parquet inputs, configuration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scopeaudit import engine
from scopeaudit.errors import InputError
from support import run_quiet

KEYS = ("keys:\n  - {id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31, "
        "scopes: [issues:read, sites:read]}\n")
needs_duckdb = pytest.mark.skipif(not engine.duckdb_available(),
                                  reason="DuckDB is not installed")



def lines(n: int) -> str:
    return "".join(json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T10:00:00Z", "key_id": "k1",
                               "method": "GET", "path": f"/v1/issues/{i}", "status": 200})
                   + "\n" for i in range(n))


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    keys, log = tmp_path / "keys.yaml", tmp_path / "usage.jsonl"
    keys.write_text(KEYS)
    log.write_text(lines(20))
    return keys, log


@pytest.fixture
def no_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the extra were not installed: importing duckdb fails."""
    monkeypatch.setitem(sys.modules, "duckdb", None)  # type: ignore[arg-type]


def audit(keys: Path, *extra: str) -> tuple[int, str]:
    return run_quiet("audit", "--keys", str(keys), "--format", "json", "--no-timestamp",
               "--fail-on", "never", "-o", str(keys.parent / "out.json"), *extra)


def test_engine_duckdb_without_the_extra_is_a_clear_exit_2(
        logs: tuple[Path, Path], no_duckdb: None) -> None:
    keys, log = logs
    assert not engine.duckdb_available()
    code, err = audit(keys, "--logs", str(log), "--engine", "duckdb")
    assert code == 2
    assert "pip install duckdb" in err and "Traceback" not in err


def test_auto_and_stream_need_no_extra(logs: tuple[Path, Path], no_duckdb: None) -> None:
    keys, log = logs
    for choice in ("auto", "stream"):
        code, err = audit(keys, "--logs", str(log), "--engine", choice)
        assert code == 0, err
        report = json.loads((keys.parent / "out.json").read_text())
        assert report["usage"]["records"] == 20


def test_parquet_with_the_streaming_engine_is_refused(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    data = tmp_path / "usage.parquet"
    data.write_bytes(b"PAR1")
    code, err = audit(keys, "--logs", str(data), "--engine", "stream")
    assert code == 2 and "Parquet is read by the DuckDB engine only" in err
    assert f"{data}" in err


def test_parquet_without_the_extra_is_refused(tmp_path: Path, no_duckdb: None) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    data = tmp_path / "usage.parquet"
    data.write_bytes(b"PAR1")
    code, err = audit(keys, "--logs", str(data))
    assert code == 2 and "pip install duckdb" in err


@pytest.mark.parametrize(("path", "spec", "choice", "have", "expected"), [
    ("a.jsonl", None, "auto", True, "stream"),  # small: the streaming reader
    ("big.jsonl", None, "auto", True, "duckdb"),
    ("big.jsonl", None, "auto", False, "stream"),
    ("big.jsonl", None, "stream", True, "stream"),
    ("a.jsonl", None, "duckdb", True, "duckdb"),  # forced: any size
    ("a.log", None, "duckdb", True, "stream"),  # nginx stays streamed
    ("a.jsonl", "kong", "duckdb", True, "stream"),
    ("a.csv", None, "duckdb", True, "duckdb"),
    ("-", "jsonl", "duckdb", True, "stream"),  # stdin
    ("https://logs.example.com/a.jsonl", None, "duckdb", True, "stream"),
    ("a.parquet", None, "auto", True, "duckdb"),
    ("a.data", "parquet", "auto", True, "duckdb"),
])
def test_which_engine_reads_what(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str,
                                 spec: str | None, choice: str, have: bool,
                                 expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(engine, "AUTO_MIN_BYTES", 1000)
    if not path.startswith(("-", "http")):
        Path(path).write_bytes(b"x" * (5000 if path.startswith("big") else 10))
    assert engine.choose(path, spec, choice, have) == expected


def test_parquet_refused_by_choose_names_the_file() -> None:
    with pytest.raises(InputError, match="Parquet is read by the DuckDB engine only") as info:
        engine.choose("logs/a.parquet", None, "stream", True)
    assert info.value.file == "logs/a.parquet"


def test_engine_from_the_environment(logs: tuple[Path, Path], no_duckdb: None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    keys, log = logs
    monkeypatch.setenv("SCOPEAUDIT_ENGINE", "duckdb")
    code, err = audit(keys, "--logs", str(log))
    assert code == 2 and "pip install duckdb" in err
    monkeypatch.setenv("SCOPEAUDIT_ENGINE", "stream")
    code, err = audit(keys, "--logs", str(log))
    assert code == 0, err


def test_engine_from_the_configuration(logs: tuple[Path, Path], no_duckdb: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.cli import option_types

    assert option_types()["engine"] is str
    keys, log = logs
    (keys.parent / "scopeaudit.toml").write_text('engine = "duckdb"\n')
    monkeypatch.chdir(keys.parent)
    code, err = audit(keys, "--logs", str(log))
    assert code == 2 and "pip install duckdb" in err


@needs_duckdb
def test_parquet_rows_are_numbered_like_lines(tmp_path: Path) -> None:
    """A Parquet copy of a JSON Lines log gives the same audit; a bad row is named by its
    row number (1-based), as the line would be."""
    import duckdb

    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    rows = lines(30).splitlines()
    rows[6] = json.dumps({"ts": "2026-11-07T10:00:00Z", "key_id": "k1", "method": "GET",
                          "path": "/v1/issues", "status": "OK"})  # row 7: not a number
    log = tmp_path / "usage.jsonl"
    log.write_text("\n".join(rows) + "\n")
    parquet = tmp_path / "usage.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT ts, key_id, method, path, CAST(status AS VARCHAR) AS status "
                f"FROM read_json('{log}', columns={{ts: 'VARCHAR', key_id: 'VARCHAR', "
                f"method: 'VARCHAR', path: 'VARCHAR', status: 'JSON'}})) TO '{parquet}' "
                f"(FORMAT parquet)")
    con.close()
    reports = []
    for source in (log, parquet):
        out = tmp_path / f"{source.suffix}.json"
        code, err = run_quiet("audit", "--keys", str(keys), "--logs", str(source),
                              "--format", "json", "--no-timestamp", "--as-of", "2026-12-01",
                              "--fail-on", "never", "-o", str(out))
        assert code == 0, err
        reports.append(json.loads(out.read_text()))
    from_jsonl, from_parquet = reports
    assert from_parquet["inputs"][1]["records"] == 29
    assert from_parquet["inputs"][1]["skipped_lines"] == [7]
    # the same keys and verdicts; each key's source is the file it was read from
    for key in (*from_parquet["keys"], *from_jsonl["keys"]):
        key["sources"] = [{**u, "source": "<the input>"} for u in key["sources"]]
    assert from_parquet["keys"] == from_jsonl["keys"]
    assert from_parquet["usage"] == from_jsonl["usage"]


@needs_duckdb
def test_parquet_timestamps_are_read_as_utc(tmp_path: Path) -> None:
    import duckdb

    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    parquet = tmp_path / "typed.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY (SELECT TIMESTAMP '2026-11-20 10:00:00.250' AS ts, "
                f"TIMESTAMPTZ '2026-11-21 10:00:00+02' AS other, 'k1' AS key_id, "
                f"'GET' AS method, '/v1/sites' AS path, 200 AS status) TO '{parquet}' "
                f"(FORMAT parquet)")
    con.close()
    out = tmp_path / "out.json"
    code, err = run_quiet("audit", "--keys", str(keys), "--logs", str(parquet), "--format", "json",
                    "--no-timestamp", "--as-of", "2026-12-01", "--fail-on", "never",
                    "-o", str(out))
    assert code == 0, err
    report = json.loads(out.read_text())
    key = next(k for k in report["keys"] if k["id"] == "k1")
    assert key["first_seen"] == "2026-11-20T10:00:00Z"  # 10:00:00.250, shown to the second



@needs_duckdb
def test_parquet_with_nested_columns_and_with_no_rows(tmp_path: Path) -> None:
    """No flat layout: every row goes through the JSON reader (dotted --map paths work)."""
    import duckdb

    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    nested, empty = tmp_path / "nested.parquet", tmp_path / "empty.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT '2026-11-20T10:00:00Z' AS ts, {{'id': 'k1'}} AS identity, "
                f"'GET' AS method, '/v1/sites' AS path, 200 AS status "
                f"UNION ALL SELECT 'later', {{'id': 'k1'}}, 'GET', '/v1/sites', 200) "
                f"TO '{nested}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT 'x' AS ts WHERE false) TO '{empty}' (FORMAT parquet)")
    con.close()
    out = tmp_path / "out.json"
    args = ["audit", "--keys", str(keys), "--logs", str(nested), "--logs", str(empty),
            "--map", "key_id=identity.id", "--format", "json", "--no-timestamp",
            "--as-of", "2026-12-01", "--fail-on", "never", "-o", str(out)]
    # an input with no row is an error unless accepted
    code, err = run_quiet(*args)
    assert code == 2 and f"{empty}: no record read: the input is empty" in err, err
    code, err = run_quiet(*args, "--allow-empty")
    assert code == 0, err
    report = json.loads(out.read_text())
    assert [(i["records"], i["skipped_lines"]) for i in report["inputs"][1:]] == [
        (1, [2]), (0, [])]
    assert next(k for k in report["keys"] if k["id"] == "k1")["requests"]["accepted"] == 1


@needs_duckdb
@pytest.mark.parametrize("log_exists", [True, False])
def test_a_bad_key_file_is_reported_before_the_logs(tmp_path: Path, log_exists: bool) -> None:
    """The key file is parsed while DuckDB reads the logs; its error still comes first, as
    when it was loaded before them (whether or not the logs fail too)."""
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - id: [unclosed\n")
    log = tmp_path / "usage.jsonl"
    if log_exists:
        log.write_text(lines(50))
    code, err = run_quiet("audit", "--keys", str(keys), "--logs", str(log), "--engine", "duckdb",
                    "--format", "json", "-o", str(tmp_path / "out.json"))
    assert code == 2
    assert err.count("error:") == 1 and f"{keys}:2: invalid YAML" in err


@needs_duckdb
def test_a_bad_key_file_comes_before_a_log_duckdb_cannot_read(tmp_path: Path) -> None:
    """A Parquet input DuckDB cannot read, with a key file that fails too: the key file's
    error, as when the keys were loaded before the logs."""
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - id: [unclosed\n")
    broken = tmp_path / "usage.parquet"
    broken.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    code, err = run_quiet("audit", "--keys", str(keys), "--logs", str(broken), "--format", "json",
                    "-o", str(tmp_path / "out.json"))
    assert code == 2
    assert err.count("error:") == 1 and f"{keys}:2: invalid YAML" in err


def test_later_computes_once_and_hands_over_its_error() -> None:
    from scopeaudit.audit import Later

    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 7

    later = Later(compute)
    later.start()
    later.start()
    assert later() == 7 and later() == 7 and calls == [1]

    def fail() -> int:
        raise InputError("bad keys", file="k.yaml")

    failing = Later(fail)
    for _ in range(2):
        with pytest.raises(InputError, match="bad keys"):
            failing()


def test_auto_judges_a_gzip_file_by_its_lines(tmp_path: Path) -> None:
    """A gzip file of 8 MiB of lines or more goes to DuckDB even when it is far smaller on
    disk: it holds that much to read."""
    import gzip

    small, big = tmp_path / "small.jsonl.gz", tmp_path / "big.jsonl.gz"
    small.write_bytes(gzip.compress(lines(2000).encode()))
    big.write_bytes(gzip.compress(lines(2000).encode() * 300))
    assert big.stat().st_size < engine.AUTO_MIN_BYTES <= engine.lines_size(str(big))
    assert engine.choose(str(small), None, "auto", True) == "stream"
    assert engine.choose(str(big), None, "auto", True) == "duckdb"


def test_auto_reads_a_file_of_8_mib_with_duckdb(tmp_path: Path) -> None:
    """DuckDB is the default engine from 8 MiB of lines on (benchmarks/bench_idstyles.py:
    it costs less than streaming from about 4 MiB)."""
    log = tmp_path / "usage.jsonl"
    log.write_bytes(lines(100).encode() * (8 * 1024 * 1024 // len(lines(100)) + 1))
    assert engine.choose(str(log), None, "auto", True) == "duckdb"
    assert engine.choose(str(log), None, "auto", False) == "stream"


def slug_lines(n: int) -> str:
    """Paths whose ids are digit-free slugs: the route key keeps each one (no identifier)."""
    words = ("amber", "falcon", "river", "otter", "maple", "cedar", "quartz", "harbor")
    return "".join(json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T10:00:00Z", "key_id": "k1",
                               "method": "GET", "status": 200,
                               "path": "/v1/issues/" + "-".join(words[(i >> s) % 8]
                                                                for s in (0, 3, 6, 9, 12))})
                   + "\n" for i in range(n))


def test_auto_streams_a_file_whose_route_keys_do_not_repeat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 8 MiB, DuckDB only where its grouping by route key pays: with ids the route key
    cannot fold (slugs: every record a key of its own) `auto` keeps the streaming reader
    (benchmarks/bench_idstyles.py); numeric ids go to DuckDB. The same report either way."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.engine import duckdb_engine
    from scopeaudit.usage.options import LogOptions

    catalog = load_builtin()
    numeric, slugs = tmp_path / "numeric.jsonl", tmp_path / "slugs.jsonl"
    numeric.write_text(lines(600))
    slugs.write_text(slug_lines(600))
    assert engine.routes_repeat(str(numeric), None, {}, catalog)
    assert not engine.routes_repeat(str(slugs), None, {}, catalog)
    read: list[str] = []
    real = duckdb_engine.read_input

    def spy(path: str, *args: object, **kwargs: object) -> object:
        read.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(duckdb_engine, "read_input", spy)
    monkeypatch.setattr(engine, "AUTO_MIN_BYTES", 1)
    engine.read_logs(LogOptions((str(numeric), str(slugs))), [str(numeric), str(slugs)], (),
                     catalog)
    assert read == ["numeric.jsonl"]
    # too few records to judge by: DuckDB, as before
    few = tmp_path / "few.jsonl"
    few.write_text(slug_lines(20))
    assert engine.routes_repeat(str(few), None, {}, catalog)
