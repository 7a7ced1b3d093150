"""Which engine reads each log input, and reading them all in input order.

The two engines live here: ``stream`` (:mod:`scopeaudit.engine.stream`) is the streaming
reader (every format, stdin, URLs; ``--jobs`` processes), built on usage/'s readers and
aggregator.
``duckdb`` (a dependency of scopeaudit) aggregates JSON Lines, CSV and Parquet files in
DuckDB on ``--jobs`` threads, with the same result byte for byte
(:mod:`scopeaudit.engine.duckdb_engine`); every other input (nginx, Envoy, API Gateway,
Kong, stdin, URLs) still goes through the streaming reader, and so does a file DuckDB would
read differently. ``auto`` (the default) uses DuckDB for Parquet, and for local JSON Lines
and CSV files of at least ``AUTO_MIN_BYTES`` of lines (a gzip file by the size its trailer
gives) whose first records' route keys repeat (``routes_repeat``), and the streaming reader
for the rest. DuckDB itself is imported only when an input needs it (so ``scopeaudit
--help`` never loads it). If DuckDB cannot be imported (an install without it), ``auto``
streams everything but Parquet.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from scopeaudit.catalog.model import Catalog
from scopeaudit.compression import lines_size
from scopeaudit.engine.keys import Keys, key_list
from scopeaudit.errors import InputError
from scopeaudit.usage.aggregate import Usage, merge_usage
from scopeaudit.usage.inputs import input_label
from scopeaudit.usage.options import LogOptions
from scopeaudit.usage.record import InputStats

if TYPE_CHECKING:
    import duckdb

ENGINES = ("auto", "stream", "duckdb")
# Below this many bytes of lines `auto` keeps the streaming reader: DuckDB's start-up (about
# 0.1 s of CPU more than streaming) and the extra pass that hashes and counts lines cost more
# than they save on a small file; from about 4 MiB (25,000 records) on, DuckDB costs less
# (benchmarks/bench_idstyles.py). Twice that, to be sure.
AUTO_MIN_BYTES = 8 << 20
# ... and when the route keys of its first records repeat: at most one distinct (method,
# route key) per AUTO_MIN_REPEAT records. DuckDB groups rows by route key and Python then
# routes every group; where nearly every record has a key of its own (ids the route key
# cannot fold, such as digit-free slugs: about one in two of 512 records distinct, against
# one in fourteen with every other id style), grouping saves nothing and the streaming
# reader is faster (benchmarks/bench_idstyles.py, 1M records: 42-44 s against 54-63 s).
AUTO_MIN_REPEAT = 4
_AUTO_SAMPLE_MIN = 64  # fewer records in the sample tell nothing: DuckDB
# Kong's records are nested objects (the plain, flat layout never matches them) and apigw
# computes its path and method in Python: both stay with the streaming reader.
_DUCKDB_FORMATS = ("jsonl", "ndjson", "json", "csv")
_PARQUET_SUFFIXES = (".parquet", ".parq")
INSTALL_HINT = "install DuckDB, a dependency of scopeaudit (pip install duckdb)"

Progress = Callable[[str, int], None]


def duckdb_available() -> bool:
    """Whether DuckDB can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("duckdb") is not None
    except (ImportError, ValueError):
        return False


def is_parquet(path: str, spec: str | None) -> bool:
    if spec is not None:
        return spec.partition(":")[0].strip().lower() == "parquet"
    return path.lower().endswith(_PARQUET_SUFFIXES)


def _local(path: str) -> bool:
    from scopeaudit.http.policy import is_url
    from scopeaudit.remote import is_remote

    return path != "-" and not is_url(path) and not is_remote(path)


def _regular(path: str) -> bool | None:
    """Whether the path is a regular file (None: it cannot be looked at). DuckDB reads a
    file more than once and by its size: a named pipe or a process substitution
    (``<(zcat x.gz)``, a /dev/fd path) would read as empty; the streaming reader reads it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def choose(path: str, spec: str | None, engine: str, have_duckdb: bool) -> str:
    """``duckdb`` or ``stream`` for one input; an InputError when none can read it."""
    from scopeaudit.usage.readers import format_kind

    if is_parquet(path, spec):
        if engine == "stream":
            raise InputError("Parquet is read by the DuckDB engine only; use --engine auto "
                             "or --engine duckdb", file=input_label(path))
        if not have_duckdb:
            raise InputError(f"Parquet needs the DuckDB engine: {INSTALL_HINT}",
                             file=input_label(path))
        if not _local(path) or _regular(path) is False:
            raise InputError("Parquet is read from local regular files only",
                             file=input_label(path))
        return "duckdb"
    if engine == "stream" or not have_duckdb or not _local(path):
        return "stream"
    if format_kind(spec, path) not in _DUCKDB_FORMATS:
        return "stream"
    if not _regular(path):
        return "stream"  # a pipe, a device, or nothing there: the streaming reader says so
    if engine == "duckdb":
        return "duckdb"
    try:
        return "duckdb" if lines_size(path) >= AUTO_MIN_BYTES else "stream"
    except OSError:
        return "stream"


def routes_repeat(path: str, spec: str | None, maps: Mapping[str, str],
                  catalog: Catalog) -> bool:
    """Whether the route keys of the input's first records repeat (see AUTO_MIN_REPEAT):
    the records the streaming reader reads from the first lines DuckDB would learn the
    layout from."""
    import io

    from scopeaudit.engine.duckdb_engine import Fallback, read_head
    from scopeaudit.usage.identity import KeyResolver
    from scopeaudit.usage.readers import make_reader
    from scopeaudit.usage.record import ReadContext

    try:
        _, sample = read_head(path)
        reader = make_reader(spec, path, maps)
        records = list(reader.read(io.BytesIO(b"\n".join(sample) + b"\n"), ReadContext(
            InputStats(input_label(path)), KeyResolver(()), on_token=_ignore_token)))
    except (Fallback, InputError, OSError, ValueError):
        return True  # DuckDB's own reading decides (and falls back where it must)
    if len(records) < _AUTO_SAMPLE_MIN:
        return True
    key = catalog.route_key.key
    keys = {(r.method, key(r.target.split("?", 1)[0])) for r in records}
    return len(keys) * AUTO_MIN_REPEAT <= len(records)


def _ignore_token(key: str, line: int) -> None:
    """A token in the sample is reported when the input is read."""


def read_logs(logs: LogOptions, paths: Sequence[str], keys: Keys, catalog: Catalog,
              progress: Progress | None = None
              ) -> tuple[Usage, list[InputStats], int, int, list[str]]:
    """Every input of ``paths`` (``logs.paths`` expanded: usage.inputcheck.plan_inputs)
    through its engine, merged in input order. Returns (usage, per-input stats, records,
    requests, warnings), as ``read_units`` does."""
    if logs.engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}, "
                         f"not {logs.engine!r}")
    have = duckdb_available()
    if logs.engine == "duckdb" and not have:
        raise InputError(f"--engine duckdb needs DuckDB, which is not installed: "
                         f"{INSTALL_HINT}")
    plan = [(path, choose(path, logs.format_for(path), logs.engine, have))
            for path in paths]
    if logs.engine == "auto":
        plan = [(path, "stream" if chosen == "duckdb"
                 and not is_parquet(path, logs.format_for(path))
                 and not routes_repeat(path, logs.format_for(path), logs.maps, catalog)
                 else chosen) for path, chosen in plan]
    parts: list[Usage] = []
    stats_all: list[InputStats] = []
    warnings: list[str] = []
    records = requests = 0
    pending: list[str] = []  # consecutive streaming inputs, read together on --jobs cores

    con: duckdb.DuckDBPyConnection | None = None

    def flush() -> None:
        nonlocal records, requests, con
        if not pending:
            return
        if con is not None:
            # read_units may fork worker processes: never with a DuckDB connection open
            # (its threads and locks would be copied half-way); the next input opens another
            con.close()
            con = None
        from scopeaudit.engine.stream import plan_units, read_units

        units, hashes = plan_units(pending, logs.format_for, logs.jobs,
                                   logs.split_min_bytes)
        usage, stats, n, hits, said = read_units(
            units, hashes, key_list(keys), catalog, logs.maps, logs.strict,
            logs.jobs, progress, logs.http, logs.read)
        parts.append(usage)
        stats_all.extend(stats)
        warnings.extend(said)
        records += n
        requests += hits
        pending.clear()

    spill = contextlib.ExitStack()
    spill_dir: str | None = None
    try:
        for path, engine in plan:
            if engine == "stream":
                pending.append(path)
                continue
            from scopeaudit.engine import duckdb_engine

            if spill_dir is None:
                spill_dir = spill.enter_context(duckdb_engine.spill_directory())
            if con is None:
                con = duckdb_engine.connect(logs.jobs, spill_dir)
            spec = logs.format_for(path)
            try:
                result = duckdb_engine.read_input(
                    path, spec, input_label(path), keys, catalog,
                    logs.maps, logs.strict, con, is_parquet(path, spec), logs.jobs)
            except duckdb_engine.Fallback as exc:
                if is_parquet(path, spec):
                    raise InputError(f"cannot read this Parquet file: {exc}",
                                     file=input_label(path)) from None
                pending.append(path)  # the streaming reader gives the same result, slower
                continue
            flush()
            parts.append(result.usage)
            stats_all.append(result.stats)
            records += result.stats.records
            requests += result.requests
            if progress is not None:
                progress(result.stats.path, result.stats.records)
        flush()
    finally:
        try:
            if con is not None:
                con.close()
        finally:
            spill.close()  # the spill directory goes once DuckDB is done with it
    return merge_usage(parts), stats_all, records, requests, warnings
