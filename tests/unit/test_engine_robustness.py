"""The DuckDB engine's housekeeping: interrupts, its spill directory, no open connection
across a fork (the parity of its results is tests/unit/test_engine_parity.py's)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from scopeaudit.engine import duckdb_available
from support import both_engines, flat, good, write_keys

pytestmark = pytest.mark.skipif(not duckdb_available(), reason="DuckDB is not installed")


def test_ctrl_c_is_not_replaced_by_a_fallback(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt during the queries goes on out, even when the pre-scan beside
    them ends in Fallback (waiting for it once raised that instead)."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.engine import duckdb_engine

    def failing_prescan(*_: object) -> duckdb_engine.Prescan:
        raise duckdb_engine.Fallback("a NUL or \\x01 byte")

    class Pool(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
                   ) -> Future[Any]:
            if fn is failing_prescan:
                return super().submit(fn, *args, **kwargs)

            def interrupted() -> None:
                raise KeyboardInterrupt  # as the user's Ctrl-C reaches the main thread

            return super().submit(interrupted)

    monkeypatch.setattr(duckdb_engine, "prescan", failing_prescan)
    monkeypatch.setattr(duckdb_engine, "ThreadPoolExecutor", Pool)
    log = tmp_path / "a.jsonl"
    log.write_bytes(good(5))
    con = duckdb_engine.connect(1, str(tmp_path))
    try:
        with pytest.raises(KeyboardInterrupt):
            duckdb_engine.read_input(str(log), None, "a.jsonl", (), load_builtin(), {}, False,
                                     con, parquet=False)
    finally:
        con.close()


def test_a_prescan_fallback_still_falls_back(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-scan's Fallback, read after the queries, still sends the input to the
    streaming reader (same report), and that reader really read it: parity alone would also
    hold if both engines dropped the input."""
    from scopeaudit.engine import duckdb_engine

    calls: list[object] = []

    def failing_prescan(*args: object) -> duckdb_engine.Prescan:
        calls.append(args)
        raise duckdb_engine.Fallback("a NUL or \\x01 byte")

    monkeypatch.setattr(duckdb_engine, "prescan", failing_prescan)
    mixed, plain = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    mixed.write_bytes(flat(200, 3))
    plain.write_bytes(good(7))  # 7 accepted GETs of key k1, one record each
    doc, _ = both_engines(write_keys(tmp_path), [mixed, plain], tmp_path)
    assert len(calls) == 2  # the DuckDB run fell back for each input
    inputs = {Path(i["path"]).name: i for i in json.loads(doc)["inputs"] if i["kind"] != "keys"}
    assert (inputs["b.jsonl"]["records"], inputs["b.jsonl"]["skipped"]) == (7, 0)
    assert inputs["a.jsonl"]["records"] > 100  # most of flat()'s 200 lines are records
    key = next(k for k in json.loads(doc)["keys"] if k["id"] == "k1")
    assert key["requests"]["accepted"] >= 7


def test_duckdb_spills_to_a_directory_of_its_own_removed_afterwards(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.engine import duckdb_engine

    seen: list[tuple[str, str]] = []
    connect = duckdb_engine.connect

    def spy(threads: int, temp_directory: str) -> Any:
        con = connect(threads, temp_directory)
        row = con.execute("SELECT current_setting('temp_directory')").fetchone()
        assert row is not None
        seen.append((temp_directory, str(row[0])))
        return con

    monkeypatch.setattr(duckdb_engine, "connect", spy)
    log = tmp_path / "a.jsonl"
    log.write_bytes(flat(200, 4))
    both_engines(write_keys(tmp_path), [log], tmp_path)
    assert len(seen) == 1
    folder, setting = seen[0]
    assert Path(folder).name.startswith("scopeaudit-duckdb-")
    assert os.path.realpath(setting).rstrip("/") == os.path.realpath(folder).rstrip("/")
    assert not Path(folder).exists()  # removed at the end of the run


def test_no_connection_is_open_when_streaming_workers_fork(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_units may fork worker processes: the DuckDB connection is closed first (and
    another opened for the next DuckDB input)."""
    import scopeaudit.engine.stream as parallel
    from scopeaudit.engine import duckdb_engine

    open_cons: list[Any] = []
    connect = duckdb_engine.connect

    def tracked(threads: int, temp_directory: str) -> Any:
        con = connect(threads, temp_directory)
        open_cons.append(con)
        return con

    read_units = parallel.read_units  # imported by the engine when it streams
    checked: list[bool] = []

    def guarded(*args: Any, **kwargs: Any) -> Any:
        for con in open_cons:
            with pytest.raises(Exception, match="closed"):
                con.execute("SELECT 1")
        checked.append(True)
        return read_units(*args, **kwargs)

    monkeypatch.setattr(duckdb_engine, "connect", tracked)
    monkeypatch.setattr(parallel, "read_units", guarded)
    a, b, c, d = (tmp_path / f"{name}.jsonl" for name in "abcd")
    a.write_bytes(flat(200, 5))
    b.write_bytes(good(3) + b'{"a":"\x00"}\n')  # DuckDB hands it to the streaming reader
    c.write_bytes(flat(200, 6))
    d.write_bytes(flat(200, 7))
    # duckdb run: a, c in DuckDB; b streamed (connection closed) before c's result; d in
    # DuckDB again, on a new connection
    doc, _ = both_engines(write_keys(tmp_path), [a, b, c, d], tmp_path)
    assert len(checked) == 2 and len(open_cons) == 2
    assert json.loads(doc)["usage"]["records"] > 0
