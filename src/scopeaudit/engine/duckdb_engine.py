"""The DuckDB engine: one input's aggregate computed by DuckDB, byte-identical to the
streaming reader's (tests/unit/test_engine_parity.py holds the two engines to that).

DuckDB reads a JSON Lines or CSV input as raw numbered lines (a Parquet input as rows:
engine/parquet.py). A line with the input's most common flat record layout, every field in a
form SQL reads exactly as the Python readers do and no token in it, is *plain*
(engine/plain.py): plain lines are grouped in SQL per key, method, route key, status class
and day, and per key and client (``build_query``); every other line is read by the streaming
engine's own reader, with its number. engine/groups.py replays the groups and those records
in first-line order into one Usage, by the rules of usage/semantics.py. Beside the queries a
pass in Python hashes the input and counts its lines; where DuckDB could read the lines
differently (the counts differ, a NUL, invalid UTF-8, a line over 2 MB), the input goes to the
streaming reader instead (``Fallback``): the same result, only slower.

Longer than 500 lines on purpose: the queries, the check pass that decides the fallback and
the replay that feeds them are one engine whose parts must change together to stay
byte-identical to the streaming reader.
"""

from __future__ import annotations

import codecs
import csv as csv_module
import hashlib
import io
import re
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scopeaudit.catalog.model import Catalog
from scopeaudit.compression import GZIP_MAGIC, lines_size
from scopeaudit.engine import parquet as parquet_rows
from scopeaudit.engine.groups import Builder
from scopeaudit.engine.keys import Keys, key_list
from scopeaudit.engine.plain import (
    Layout,
    before_end_sql,
    epoch_seconds_sql,
    find_csv_layout,
    find_layout,
    iso_in_range_sql,
    quote_ident,
    sql_literal,
)
from scopeaudit.errors import InputError
from scopeaudit.model import Key
from scopeaudit.secrets import TOKEN_MARK
from scopeaudit.usage.aggregate import Usage, note_token
from scopeaudit.usage.fields import FieldMap
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.inputs import MAX_LINE
from scopeaudit.usage.readers import CsvReader, JsonLinesReader, make_reader
from scopeaudit.usage.readers.envelopes import sniff
from scopeaudit.usage.record import InputStats, ReadContext, Record, TokenSink
from scopeaudit.usage.semantics import (
    DAY_SECONDS,
    IPV4,
    IPV4_FORMS,
    IPV4_PREFIX,
    OWN_CLASS_STATUSES,
    ROUTE_CACHE_LIMIT,
    UA_CHARS,
    RouteKey,
    client_name,
    network_of,
)

if TYPE_CHECKING:
    import duckdb


_BLOCK = 8 << 20
# The most bytes one inflate call may return: a gzip block of _BLOCK bytes can hold
# gigabytes of repeated lines, and the pre-scan holds one output piece at a time.
_INFLATE_MAX = 8 << 20
# The head the layout is learnt from: a whole first line of the longest the streaming reader
# reads (MAX_LINE) and its newline, so the CSV header and line 1 are seen whole whenever
# the streaming reader sees them whole.
_HEAD_BYTES = MAX_LINE + 1
_DELIM = "\x01"  # the column delimiter DuckDB splits on: checked absent from the input
_SAMPLE_LINES = 512
# DuckDB's own memory (it spills to the temporary directory past it): the queries' hash
# tables hold the groups, which grow with keys x routes x days x time lengths, and with the
# lines left to Python (each a group of its own, with its text), not with plain lines.
MEMORY_LIMIT = "512MB"


class Fallback(Exception):
    """This input is better read by the streaming engine, with the same result. The message
    says why (for tests and tracebacks); the user sees no difference but the speed."""


@dataclass(frozen=True)
class Prescan:
    sha256: str
    size: int
    lines: int
    empty: int  # lines with nothing on them: the query drops them (see build_query)
    trailing: int  # the empty lines that end the input


# Two newlines or more: a line's end, then empty lines.
_EMPTY_RUN = re.compile(rb"\n\n+")


def _empty_lines(text: bytes, after_newline: bool) -> int:
    """The empty lines in ``text`` (whose first byte follows a newline, or starts the
    input, when ``after_newline``), counted in C: a gigabyte of newlines is one match per
    piece."""
    empty = sum(run.end() - run.start() - 1 for run in _EMPTY_RUN.finditer(text))
    if after_newline and text[:1] == b"\n":
        empty += 1  # the first newline of the piece ends an empty line too
    return empty


def _trailing_empty(text: bytes, before: int, after_newline: bool) -> int:
    """The empty lines that end the input so far, ``before`` of them before ``text``."""
    if not text.endswith(b"\n\n"):
        ends = 1 if text.endswith(b"\n") else 0
    else:
        ends = len(text) - len(text.rstrip(b"\n"))
    if ends < len(text):
        return max(ends - 1, 0)
    return before + ends if after_newline else ends - 1


def read_head(path: str) -> tuple[bool, tuple[bytes, ...]]:
    """(gzip?, the first lines): what the layout is learnt from, before DuckDB starts."""
    with open(path, "rb") as handle:
        is_gzip = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        if not is_gzip:
            head = handle.read(_HEAD_BYTES)
        else:
            inflate = zlib.decompressobj(wbits=31)
            head = b""
            try:
                # compressed reads of 256 KiB until the head is full or the member ends
                while len(head) < _HEAD_BYTES and not inflate.eof:
                    data = inflate.unconsumed_tail or handle.read(1 << 18)
                    if not data:
                        break
                    head += inflate.decompress(data, _HEAD_BYTES - len(head))
            except zlib.error as exc:
                raise Fallback(f"gzip: {exc}") from None
    lines = head.split(b"\n")[:_SAMPLE_LINES]
    if b"\n" not in head:
        lines = []  # not even the first line is whole: learn nothing from it
    return is_gzip, tuple(lines)


class _Gunzip:
    """Inflates a gzip input block by block, each piece of output at most _INFLATE_MAX bytes
    (so memory stays bounded whatever the compression ratio), member after member."""

    def __init__(self) -> None:
        self.inflate = zlib.decompressobj(wbits=31)

    def pieces(self, block: bytes) -> Iterator[bytes]:
        data = block
        if self.inflate.eof and data:
            self.inflate = zlib.decompressobj(wbits=31)  # another member starts this block
        try:
            while True:
                out = self.inflate.decompress(data, _INFLATE_MAX)
                if out:
                    yield out
                if self.inflate.eof:
                    data = self.inflate.unused_data
                    if not data:
                        return
                    self.inflate = zlib.decompressobj(wbits=31)  # another gzip member
                    continue
                data = self.inflate.unconsumed_tail
                if not data and len(out) < _INFLATE_MAX:
                    return  # all input taken and no output held back
        except zlib.error as exc:
            raise Fallback(f"gzip: {exc}") from None


def prescan(path: str, is_gzip: bool, stop: threading.Event | None = None) -> Prescan:
    """One pass over the input's bytes (run beside the DuckDB query): sha256, the count of
    lines after decompression, of the empty ones and of those ending the input; Fallback when
    DuckDB's reading of the lines could differ (or when ``stop`` is set: the run is being
    interrupted)."""
    digest = hashlib.sha256()
    size = lines = empty = trailing = 0
    last = b"\n"
    delim = _DELIM.encode()
    with open(path, "rb") as handle:
        gunzip = _Gunzip() if is_gzip else None
        while block := handle.read(_BLOCK):
            if stop is not None and stop.is_set():
                raise Fallback("interrupted")
            digest.update(block)
            size += len(block)
            for text in (block,) if gunzip is None else gunzip.pieces(block):
                if b"\x00" in text or delim in text:
                    raise Fallback("a NUL or \\x01 byte")
                lines += text.count(b"\n")
                empty += _empty_lines(text, last == b"\n")
                trailing = _trailing_empty(text, trailing, last == b"\n")
                last = text[-1:]
        if gunzip is not None and not gunzip.inflate.eof:
            raise Fallback("the gzip stream ends early")
    if last != b"\n":
        lines += 1
    return Prescan(digest.hexdigest(), size, lines, empty, trailing)


# --- SQL ---------------------------------------------------------------------------------------


def csv_field_limit() -> int:
    """The csv module's current field size limit (131072 unless changed): a longer cell is
    an error to the streaming CSV reader."""
    return csv_module.field_size_limit()


def ipv4_prefix_sql(ip: str) -> str:
    """SQL: the /24 prefix (``'192.0.2.'``) of an address in one of the IPv4 forms
    network_of reads as that address (clients.IPV4_FORMS), else NULL. A bare canonical
    address, by far the most common, is tested first with the cheaper pattern."""
    return (f"CASE WHEN regexp_full_match({ip}, {sql_literal(IPV4)}) "
            f"THEN regexp_replace({ip}, '[0-9]+$', '') "
            f"WHEN regexp_full_match({ip}, {sql_literal(IPV4_FORMS)}) "
            rf"THEN regexp_extract({ip}, '([0-9]+\.[0-9]+\.[0-9]+\.)', 1) END")


def build_query(source_sql: str, layout: Layout, route_key: RouteKey) -> str:
    """The one query: every line classified; plain lines (the layout's regex matches, no
    token) grouped two ways (cells, clients); the rest listed with their numbers.

    Per row it does the least it can (its cost is the engine's): a JSON line's values come
    from one ``json_transform`` (a plain line has no escapes, so a value's text is what lies
    between its quotes), the status class stays a number and a client its user agent and
    raw address (Python names them, once per group), and one pass fills both groupings."""
    strings = dict(zip(layout.keys, layout.strings, strict=True))
    role_of = {key: field for field, key in layout.roles.items()}

    def source(key: str) -> str:
        if layout.csv:
            return f"parts[{layout.part(key)}]"
        return f"rec.{quote_ident(key)}"

    def value(field: str) -> str:
        """The field's text in a plain line, NULL when absent, '' or '-' (FieldMap's empty
        markers); a non-string's literal text (JSON null: NULL)."""
        key = layout.roles.get(field)
        if key is None:
            return "NULL"
        if strings[key]:
            return f"nullif(nullif({source(key)}, ''), '-')"
        return source(key)  # json_transform gives a number's text, NULL for null

    def text(field: str) -> str:
        """The value only if it is a string (FieldMap drops a non-string user agent or ip)."""
        key = layout.roles.get(field)
        return value(field) if key is not None and strings[key] else "NULL"

    time_string = strings[layout.roles["time"]]
    # CSV: the csv module refuses a cell longer than its field limit (the streaming reader
    # skips that row), so only lines no longer than the limit can be plain
    longest = min(MAX_LINE, csv_field_limit()) if layout.csv else MAX_LINE
    # CSV: line 1 is the header; JSON: any line may be a record
    first = 2 if layout.csv else 1
    if layout.csv:
        extract = "string_split(line, ',') END AS parts"
    else:
        # only the keys the audit reads: every value of a plain line is a JSON string or
        # literal, read here as its text
        wanted = [key for key in layout.keys if key in role_of]
        struct = "{" + ",".join(f"{_json_name(key)}:\"VARCHAR\"" for key in wanted) + "}"
        extract = f"json_transform(line, {sql_literal(struct)}) END AS rec"
    iso = "contains(t, 'T')" if time_string else "false"
    return _grouped(f"""
src AS ({source_sql}),
raw AS (
  SELECT n, line,
         n >= {first} AND line IS NOT NULL AND strlen(line) <= {longest}
           AND NOT contains(line, {sql_literal(TOKEN_MARK)}) AND NOT contains(line, ':59:59.9999')
           AND regexp_full_match(line, {sql_literal(layout.regex())}) AS shaped
  -- an empty line (NULL) is no record: dropped at once, counted by the pre-scan (a small
  -- gzip can hold a billion of them)
  FROM src WHERE line IS NOT NULL
),
vals AS (
  SELECT n, line, shaped,
         {value("time")} AS t, {value("key_id")} AS k, upper({value("method")}) AS m,
         split_part({value("path")}, '?', 1) AS pth,
         CAST({value("status")} AS INTEGER) AS st,
         coalesce(CAST({value("count")} AS BIGINT), 1) AS hits,
         coalesce(substr({text("user_agent")}, 1, {UA_CHARS}), '-') AS ua120, {text("ip")} AS ip
  FROM (SELECT n, line, shaped, CASE WHEN shaped THEN {extract} FROM raw)
),
rows AS (
  SELECT n, line, k, pth, st, hits, ua120, ip,
    -- An ISO time stays text (the plain form is a valid date, and lines that could round
    -- to the next day, at :59:59.9999 and later, are not plain): its groups' first and last
    -- are found as text and turned into seconds once per group. Epoch times are numbers
    -- (_epoch: milliseconds above 1e11).
    CASE WHEN {iso} THEN t END AS ts,
    CASE WHEN NOT {iso} THEN {epoch_seconds_sql("t")} END AS w,
    -- Only m is kept on plain lines: a NULL method keeps the others out of the groups
    CASE WHEN shaped THEN m END AS m0
  FROM vals
)""", route_key)  # noqa: S608


def _iso_seconds(text: str) -> str:
    """iso_utc_fast in SQL, for a plain ISO time: the minute's epoch (exact) plus the
    seconds."""
    return (f"CAST((CAST(left({text}, 10) AS DATE) - DATE '1970-01-01') * {DAY_SECONDS} "
            f"+ CAST(substr({text}, 12, 2) AS INTEGER) * 3600 "
            f"+ CAST(substr({text}, 15, 2) AS INTEGER) * 60 AS DOUBLE) "
            f"+ CAST(substr({text}, 18, length({text}) - 18) AS DOUBLE)")


# usage.aggregate.status_class in SQL: the statuses that are a class of their own
_OWN_CLASSES = ", ".join(str(status) for status in OWN_CLASS_STATUSES)


def _grouped(rows: str, route_key: RouteKey) -> str:
    """The grouping, over the CTEs ``rows`` (the last of them) gives: per line or row its
    number ``n``, the text ``line`` Python reads it from when it is not plain, and for a plain
    one k, pth (the path without its query), st, hits, ua120, ip, its time as ``ts`` (a plain
    ISO text) or ``w`` (seconds), and m0 (its method; NULL: not plain).

    An ISO time is grouped as text: a group's rows share the time's length, so its first and
    last are its least and greatest texts, turned into seconds once per group (a group split
    by length is merged again by the Builder, as a cell met twice is)."""
    return f"""
WITH {rows},
keyed AS (
  SELECT n, line, k, hits, ua120, ts, w, net,
    CASE WHEN net IS NULL THEN ip END AS ip,
    CASE WHEN {iso_in_range_sql("ts")} OR {before_end_sql("w")} THEN m0 END AS m,
    -- the status class as a number (a status of a class of its own, or the hundreds):
    -- named in Python
    CASE WHEN st IN ({_OWN_CLASSES}) THEN st ELSE st // 100 END AS cls,
    CAST(floor(w / {DAY_SECONDS}) AS BIGINT) AS d0,
    -- the route key: paths that route alike, most of their ids folded (usage/routekey.py;
    -- _assemble folds the rest)
    {route_key.sql('pth')} AS rk
  -- the client's network: an IPv4 address's /24 prefix here ('192.0.2.'), any other
  -- address raw for Python to judge (few: a key's clients are bounded)
  FROM (SELECT *, {ipv4_prefix_sql("ip")} AS net FROM rows)
),
days AS (
  SELECT k, m, rk, cls, hits, n,
    CASE WHEN m IS NOT NULL THEN ts END AS ts,
    CASE WHEN m IS NOT NULL THEN w END AS w,
    CASE WHEN m IS NOT NULL THEN ua120 END AS ua120,
    CASE WHEN m IS NOT NULL THEN net END AS net,
    CASE WHEN m IS NOT NULL THEN ip END AS ip,
    CASE WHEN m IS NOT NULL THEN left(ts, 10) END AS dkey,
    CASE WHEN m IS NOT NULL THEN strlen(ts) END AS tlen,
    -- Python's float floor division, exactly: floor(w / 86400) corrected by one where the
    -- quotient rounded across a day boundary
    CASE WHEN m IS NULL THEN NULL WHEN d0 * {DAY_SECONDS} > w THEN d0 - 1
         WHEN (d0 + 1) * {DAY_SECONDS} <= w THEN d0 + 1 ELSE d0 END AS eday,
    CASE WHEN m IS NULL THEN n END AS odd_n,
    CASE WHEN m IS NULL THEN line END AS odd_line
  FROM keyed
),
groups AS (
  -- Both groupings in one hash table, each row given twice (g: 0 its cell, or its odd
  -- line alone; 1 its client), the other grouping's keys NULL: GROUPING SETS would first
  -- materialise every row (memory growing with the input; DuckDB spills it to disk)
  SELECT g = 1 AS client, k, m, rk, cls,
    CASE WHEN g = 1 THEN ua120 ELSE odd_line END AS a, net, ip,
    dkey, eday, count(*) AS records, sum(hits) AS hits, min(ts) AS ts_low,
    max(ts) AS ts_high, min(w) AS w_low, max(w) AS w_high, min(n) AS first_n,
    max(n) AS last_n
  FROM (SELECT g, k, m, rk, hits, ts, w, n, tlen,
          CASE WHEN g = 0 THEN cls END AS cls, CASE WHEN g = 0 THEN dkey END AS dkey,
          CASE WHEN g = 0 THEN eday END AS eday, CASE WHEN g = 0 THEN odd_n END AS odd_n,
          CASE WHEN g = 0 THEN odd_line END AS odd_line,
          CASE WHEN g = 1 THEN ua120 END AS ua120, CASE WHEN g = 1 THEN net END AS net,
          CASE WHEN g = 1 THEN ip END AS ip
        FROM days, (VALUES (0), (1)) AS sets(g)
        WHERE g = 0 OR m IS NOT NULL)
  GROUP BY g, k, m, rk, cls, dkey, tlen, eday, odd_n, odd_line, ua120, net, ip
)
-- Cells (and each odd line, a group of its own, its number its first_n) and clients, in
-- the order their first lines came; a cell before the client group its first line opens.
SELECT client, k, m, rk, cls, a, net, ip,
  coalesce(CAST(dkey AS DATE) - DATE '1970-01-01', eday) AS day, records,
  -- a sum as a BIGINT when it is one (a HUGEINT costs twice as much to hand to Python)
  CASE WHEN hits <= 9223372036854775807 THEN CAST(hits AS BIGINT) END AS hits,
  CASE WHEN hits > 9223372036854775807 THEN hits END AS big,
  CASE WHEN ts_low IS NOT NULL THEN {_iso_seconds("ts_low")} ELSE w_low END AS low,
  CASE WHEN ts_high IS NOT NULL THEN {_iso_seconds("ts_high")} ELSE w_high END AS high,
  first_n, last_n
FROM groups
ORDER BY first_n, client
"""  # noqa: S608


def _json_name(key: str) -> str:
    """A key as a JSON string (the layout's keys are printable ASCII without quotes or
    backslashes: see _NAME_OK)."""
    return f'"{key}"'


# --- running it ------------------------------------------------------------------------------


@contextmanager
def spill_directory() -> Iterator[str]:
    """A directory of this run's own for DuckDB to spill to, removed afterwards (never the
    shared temporary directory, where other runs' files live)."""
    folder = tempfile.mkdtemp(prefix="scopeaudit-duckdb-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def connect(threads: int, temp_directory: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection spilling to ``temp_directory`` (see spill_directory)."""
    import duckdb

    con = duckdb.connect(config={"threads": max(1, threads),
                                 "preserve_insertion_order": True,
                                 "memory_limit": MEMORY_LIMIT,
                                 "temp_directory": temp_directory})
    # No progress bar: DuckDB would draw it on stdout, where the report may be going.
    con.execute("SET enable_progress_bar = false")
    return con


def _lines_source(path: str, gz: bool, skip: int = 0, limit: int | None = None) -> str:
    """The input's lines from line ``skip`` + 1 on (``limit`` of them, or all), numbered.

    The lines before ``skip`` are read and numbered too, then dropped: read_csv's own
    ``skip`` holds the lines it skips in memory, which would grow with the input."""
    lines = (f"SELECT line FROM read_csv({sql_literal(path)}, columns={{'line': 'VARCHAR'}}, "  # noqa: S608
             "delim=chr(1), quote='', escape='', header=false, auto_detect=false, "
             "new_line='\\n', strict_mode=false, encoding='utf-8', null_padding=false, "
             f"compression={sql_literal('gzip' if gz else 'none')})")
    if limit is not None:
        # the limit under the numbering: over it, the numbered lines would all be held
        lines += f" LIMIT {skip + limit}"
    numbered = f"SELECT row_number() OVER () AS n, line FROM ({lines})"  # noqa: S608
    return numbered if skip == 0 else f"SELECT * FROM ({numbered}) WHERE n > {skip}"  # noqa: S608


# Lines per chunk below which an input is not cut: a chunk costs a query of its own.
_CHUNK_MIN_LINES = 250_000


# What reading and numbering a line costs a range that only skips it, against reading and
# aggregating it (about 0.15 against 2.5 microseconds, measured on one thread); from a gzip
# file, which each range inflates from its start, 0.43 against 2.7.
_SKIP_COST = 0.06
_GZIP_SKIP_COST = 0.16


def chunks(size: int, sample: tuple[bytes, ...], gz: bool, jobs: int
           ) -> list[tuple[int, int | None]]:
    """(skip, limit) line ranges covering the input of about ``size`` bytes of lines, one
    query each.

    Numbering lines (``row_number() OVER ()``) keeps DuckDB's whole pipeline on one thread;
    so the input is cut into ``jobs`` ranges, each numbered from its own start and read by its
    own query, the queries side by side. A range also reads (and drops) the lines before it
    (a gzip range inflates them too), so each range is shorter than the one before by that
    cost, and all end together. The ranges are estimated from the sample's line length; the
    last one takes whatever remains, and the line count of the pre-scan checks the whole
    afterwards."""
    lines = [len(line) + 1 for line in sample if line]
    if jobs < 2 or not lines:
        return [(0, None)]
    estimate = size * len(lines) // sum(lines)
    parts = max(1, min(jobs, estimate // _CHUNK_MIN_LINES))
    if parts == 1:
        return [(0, None)]
    cost = _GZIP_SKIP_COST if gz else _SKIP_COST
    # lengths first * (1 - cost) ** i add up to the estimate
    first = estimate * cost / (1 - (1 - cost) ** parts)
    ranges: list[tuple[int, int | None]] = []
    start = 0
    for i in range(parts - 1):
        length = max(1, round(first * (1 - cost) ** i))
        ranges.append((start, length))
        start += length
    return [*ranges, (start, None)]


class _KeysFailed(Exception):
    """The key file, loaded while the queries run, failed: they are stopped."""


def _wait_for(runs: list[Future[Any]], keys: Keys) -> None:
    """Until every query has ended; _KeysFailed as soon as the key file being loaded beside
    them has failed (its error is then said at once, not once minutes of reading end)."""
    pending = set(runs)
    while pending:
        _, pending = wait(pending, timeout=0.1)
        if not isinstance(keys, tuple) and keys.failed():
            raise _KeysFailed


@dataclass
class EngineResult:
    usage: Usage
    stats: InputStats
    requests: int


def read_input(path: str, spec: str | None, label: str, keys: Keys,
               catalog: Catalog, maps: Mapping[str, str], strict: bool,
               con: duckdb.DuckDBPyConnection, parquet: bool, jobs: int = 1) -> EngineResult:
    """One input's Usage and stats, or Fallback (read it with the streaming engine).

    ``keys`` may be still to load (KeysLater): loading starts once the queries have been
    started, and they are waited for once the queries have run (the keys are needed only
    to resolve the groups' key ids)."""
    import duckdb


    reader = JsonLinesReader(FieldMap.build(maps)) if parquet else make_reader(spec, path,
                                                                                 maps)
    # apigw computes its path and method in Python (stages, route keys): not in SQL
    if not isinstance(reader, JsonLinesReader | CsvReader) or reader.name == "apigw":
        raise Fallback("a format whose fields SQL does not reproduce")
    fields = reader.fields
    csv = isinstance(reader, CsvReader)
    if any(c in path for c in "*?[{"):
        # DuckDB would expand a name like that as a glob of its own
        raise Fallback("glob characters in the file name")
    stats = InputStats(label, strict=strict)
    route_key = catalog.route_key
    typed: str | None = None
    if parquet:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
        stats.sha256, stats.bytes_read = digest.hexdigest(), Path(path).stat().st_size
        try:
            columns = parquet_rows.describe(con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({sql_literal(path)})"  # noqa: S608
            ).fetchall())
            typed = parquet_rows.typed_rows(path, columns, fields)
            source_sql = parquet_rows.row_json_source(path, columns)
            sample_rows = [] if typed is not None else con.execute(
                f"SELECT line FROM ({source_sql}) LIMIT {_SAMPLE_LINES}").fetchall()  # noqa: S608
        except duckdb.Error as exc:
            raise InputError(f"cannot read Parquet: {str(exc).splitlines()[0]}",
                             file=label) from None
        sample = tuple(str(r[0]).encode("utf-8") for r in sample_rows)
        is_gzip = False
    else:
        if Path(path).stat().st_size == 0:
            stats.sha256 = hashlib.sha256(b"").hexdigest()
            return EngineResult(Builder(label, catalog).finish(), stats, 0)
        is_gzip, sample = read_head(path)
        if not csv and sniff(b"\n".join(sample)[:1 << 16]):
            raise Fallback("a JSON document, not one record per line")
        source_sql = ""
    layout: Layout | None = None
    if csv:
        header = sample[0] if sample else b""
        if not header.strip():
            raise Fallback("no header on the first line")  # the reader finds it and says
        if header.startswith(codecs.BOM_UTF8):
            raise Fallback("a byte order mark before the CSV header")
        # the CSV reader's own checks of the header (a needed column missing is an error)
        for _ in reader.read(io.BytesIO(header + b"\n"),
                             ReadContext(InputStats(label), KeyResolver(()),
                                         on_token=_not_yet)):
            pass
        layout = find_csv_layout(header, fields)
    elif typed is None:
        layout = find_layout(sample, fields)
    if parquet:
        ranges: list[tuple[int, int | None]] = [(0, None)]
        if typed is not None:
            queries = [_grouped(typed, route_key)]
        elif layout is not None:
            queries = [build_query(source_sql, layout, route_key)]
        else:
            # The streaming reader cannot read Parquet: every row through the Python reader
            return _rows_in_python(con, source_sql, label, reader, key_list(keys), catalog,
                                   stats)
        con.execute(f"SET threads = {max(1, jobs)}")  # file_row_number numbers in parallel
    elif layout is None:
        raise Fallback("no flat record layout in the first lines")
    else:
        ranges = chunks(lines_size(path), sample, is_gzip, jobs)
        queries = [build_query(_lines_source(path, is_gzip, skip, limit), layout, route_key)
                   for skip, limit in ranges]
        con.execute("SET threads = 1")  # one thread per range: see chunks()
    # a connection of its own per query, so that they run side by side
    cursors = [con.cursor() for _ in queries]
    stop = threading.Event()
    try:
        with ThreadPoolExecutor(max_workers=len(queries) + 1) as pool:
            # The hash and line count run beside the queries (DuckDB releases the GIL).
            scan = None if parquet else pool.submit(prescan, path, is_gzip, stop)
            runs = [pool.submit(cursor.execute, query)
                    for cursor, query in zip(cursors, queries, strict=True)]
            keys_failed = False
            try:
                if not isinstance(keys, tuple):
                    keys.start()  # parsed while DuckDB reads (its threads hold no GIL)
                _wait_for(runs, keys)
                for run in runs:
                    run.result()
            except (KeyboardInterrupt, _KeysFailed) as exc:
                stop.set()  # the pre-scan ends at its next block
                for cursor in cursors:
                    cursor.interrupt()  # or the pool would wait for the queries to end
                if isinstance(exc, KeyboardInterrupt):
                    raise
                keys_failed = True  # the key file's error is raised below, all stopped
            except duckdb.Error as exc:
                if parquet:
                    raise InputError(f"cannot read Parquet: {str(exc).splitlines()[0]}",
                                     file=label) from None
                raise Fallback(f"DuckDB: {str(exc).splitlines()[0]}") from None
            finally:
                # Every thread has ended before going on; waiting must not raise (the
                # pre-scan's Fallback would replace an exception already on its way out,
                # a KeyboardInterrupt say): its result is read below, once all went well.
                for run in runs:
                    run.exception()
                if scan is not None:
                    scan.exception()
        if keys_failed:
            key_list(keys)  # raises the key file's error
        scanned = scan.result() if scan is not None else None
        expected_lines = None
        if scanned is not None:
            stats.sha256, stats.bytes_read = scanned.sha256, scanned.size
            # the lines the queries see (none empty) and the number of the last of them
            expected_lines = (scanned.lines - scanned.empty, scanned.lines - scanned.trailing)
        first_line = sample[0] if not parquet and sample and len(sample[0]) <= MAX_LINE \
            else None
        return _assemble(cursors, ranges, label, expected_lines, reader, first_line,
                         key_list(keys), catalog, stats)
    finally:
        for cursor in cursors:
            cursor.close()


def _rows_in_python(con: duckdb.DuckDBPyConnection, source_sql: str, label: str,
                    reader: JsonLinesReader | CsvReader, keys: tuple[Key, ...],
                    catalog: Catalog, stats: InputStats) -> EngineResult:
    """A Parquet input with no plain layout (nested columns, say): each row, as its JSON
    text, through the JSON Lines reader, in row order."""
    assert isinstance(reader, JsonLinesReader)
    resolver = KeyResolver(keys)
    builder = Builder(label, catalog)
    leaked = partial(note_token, builder.usage, label)
    cursor = con.cursor()
    try:
        cursor.execute(f"SELECT n, line FROM ({source_sql}) ORDER BY n")  # noqa: S608
        for n, line in _batches(cursor):
            for record in reader.read(io.BytesIO(line.encode("utf-8") + b"\n"),
                                      ReadContext(stats, resolver, first_line=n,
                                                  on_token=leaked)):
                builder.record(record)
    finally:
        cursor.close()
    stats.records = builder.records
    return EngineResult(builder.finish(), stats, builder.requests)


_UNSEEN = "\x00unseen"  # no key label is this


def _not_yet(key: str, line: int) -> None:
    """The token sink of a look at the CSV header alone: the reading proper reports it."""


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    """A query's rows, a batch at a time (the groups are never all held as Python rows)."""
    while batch := cursor.fetchmany(20_000):
        yield from batch


def _class_name(cls: int) -> str:
    """The status class the query gives as a number (a status of OWN_CLASS_STATUSES, or the
    hundreds) by name: what status_class names it."""
    return str(cls) if cls >= 100 else f"{cls}xx"


def _assemble(cursors: list[duckdb.DuckDBPyConnection], ranges: list[tuple[int, int | None]],
              label: str, expected_lines: tuple[int, int] | None,
              reader: JsonLinesReader | CsvReader,
              first_line: bytes | None, keys: tuple[Key, ...], catalog: Catalog,
              stats: InputStats) -> EngineResult:
    """The queries' groups and the Python-read lines, in line order, into one Usage."""
    resolver = KeyResolver(keys)
    builder = Builder(label, catalog)
    cell, client = builder.cell, builder.client
    leaked = partial(note_token, builder.usage, label)  # tokens on lines that are no record
    labels: dict[str | None, str | None] = {}
    route_keys: dict[str, str] = {}  # the query's route key (a refinement) -> the key
    finish_key = catalog.route_key.key
    clients: dict[tuple[str, str | None, str | None], str] = {}
    classes: dict[int, str] = {}
    csv = isinstance(reader, CsvReader)
    numbered = last = 0
    # Each query's groups come in first-line order, and every group of a range starts in
    # that range: the ranges one after the other are in first-line order too.
    rows = chain.from_iterable(_batches(cursor) for cursor in cursors)
    for (is_client, k, m, rk, cls, a, net, ip, day, records, hits, big, low, high, first_n,
         last_n) in rows:
        if m is not None:
            if hits is None:
                hits = big
            sql_key = rk
            rk = route_keys.get(sql_key)
            if rk is None:
                rk = finish_key(sql_key)
                if len(route_keys) >= ROUTE_CACHE_LIMIT:
                    route_keys.clear()
                route_keys[sql_key] = rk
            key = labels.get(k, _UNSEEN)
            if key is _UNSEEN:
                # a plain key holds no space and no token: resolve() is a pure lookup
                key = resolver.resolve(k)[0]
                if len(labels) >= ROUTE_CACHE_LIMIT:
                    labels.clear()  # a cache: bounded as the aggregator's own
                labels[k] = key
            if not is_client:
                numbered += records
                last = max(last, last_n)
                name = classes.get(cls)
                if name is None:
                    name = classes[cls] = _class_name(cls)
                cell(first_n, key, m, rk, rk, name, day, hits, low, high, records)
            elif key is not None:
                who = clients.get((a, net, ip))
                if who is None:
                    # network_of() of an IPv4 form is its /24 prefix and 0/24
                    who = client_name(a, f"{net}0/{IPV4_PREFIX}" if net is not None
                                      else network_of(ip))
                    if len(clients) >= ROUTE_CACHE_LIMIT:
                        clients.clear()
                    clients[(a, net, ip)] = who
                client(key, who, m, rk, hits, low, high)
        else:  # a line SQL left to Python: its number is first_n
            numbered += 1
            last = max(last, first_n)
            if a is None:
                continue  # no text to read (the query drops empty lines)
            if csv:
                assert isinstance(reader, CsvReader)
                found = _csv_records(first_n, a, reader, first_line or b"", resolver, stats,
                                     leaked)
            else:
                assert isinstance(reader, JsonLinesReader)
                raw = first_line if first_n == 1 and first_line is not None \
                    else a.encode("utf-8")
                found = reader.read(io.BytesIO(raw + b"\n"),
                                    ReadContext(stats, resolver, first_line=first_n,
                                                on_token=leaked))
            for record in found:
                builder.record(record)
    if (numbered, last) != (expected_lines or (last, last)):
        # DuckDB split the lines differently (a carriage return, say): numbers would be wrong
        raise Fallback(f"DuckDB read {numbered} lines, the last numbered {last}, where "
                       f"(lines, last) are {expected_lines}")
    stats.records = builder.records
    return EngineResult(builder.finish(), stats, builder.requests)


def _row_ends_on_its_line(text: str) -> bool:
    """Whether the csv module, as the streaming CSV reader runs it (``strict=True``), ends
    the row that starts with this line on this line (or fails on it, dropping the rest of
    the line): the next line then starts a row of its own. A quote opening a cell anywhere
    (not only an odd count of them: ``b"c,"d`` opens one) carries the row on."""
    rows = csv_module.reader(iter((text + "\n", "\n")), strict=True)
    with suppress(csv_module.Error, StopIteration):
        next(rows)
    return rows.line_num <= 1


def _csv_records(n: int, text: str, reader: CsvReader, header: bytes, resolver: KeyResolver,
                 stats: InputStats, leaked: TokenSink) -> Iterator[Record]:
    """A CSV row SQL left alone (quoted cells, a token, another form), read by the CSV reader
    after the header, its line number, skips and tokens put back in place."""
    if n == 1:
        # the header: no record, but a token on it is reported as the CSV reader does
        ReadContext(stats, resolver, on_token=leaked).leaked(1, header)
        return
    if '"' in text and not _row_ends_on_its_line(text):
        # a quoted cell that goes on over the next line: rows are not lines here
        raise Fallback("a quoted CSV cell spans lines")

    def row_leaked(key: str, line: int) -> None:
        if line > 1:  # the header's token is reported once, as line 1
            leaked(key, n)

    scratch = InputStats(stats.path)
    raw = header + b"\n" + text.encode("utf-8") + b"\n"
    yield from (record._replace(line=n) for record in reader.read(
        io.BytesIO(raw), ReadContext(scratch, resolver, on_token=row_leaked)))
    for _, reason in scratch.first_skipped:
        stats.skip(n, reason)
