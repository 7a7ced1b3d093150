"""The streaming engine: inputs read on every core, in work units of one aggregator each,
merged in input order (usage/ holds the readers and the aggregator it runs).

A work unit is a whole input, or — for a large uncompressed file in a line-based format —
a newline-aligned byte range of it that knows the line number it starts at. Each unit is read
by its own reader into its own aggregator; the aggregates are merged in unit order
(:func:`~scopeaudit.usage.aggregate.merge_usage`), so the result is the same as one serial
pass, byte for byte in every report. Units of one file are planned by one sequential scan that
also hashes the whole file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from scopeaudit.catalog.model import Catalog
from scopeaudit.compression import GZIP_MAGIC
from scopeaudit.model import Key
from scopeaudit.usage.aggregate import Aggregator, Usage, merge_usage, note_token
from scopeaudit.usage.formats import NO_OPTIONS, ReadOptions
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.inputs import (
    TruncatedInput,
    input_label,
    open_input,
    open_range,
)
from scopeaudit.usage.jobs import SPLIT_MIN_BYTES
from scopeaudit.usage.readers.envelopes import sniff
from scopeaudit.usage.record import InputStats, ReadContext, Record

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings

_SCAN_BLOCK = 8 << 20

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Unit:
    path: str
    spec: str | None
    start: int = 0
    end: int | None = None  # None: the whole input, hashed while it is read
    first_line: int = 1


@dataclass
class UnitResult:
    usage: Usage
    stats: InputStats
    requests: int
    warnings: list[str] = field(default_factory=list)


def _splittable(path: str, kind: str, split_min: int) -> bool:
    from scopeaudit.http.policy import is_url
    from scopeaudit.usage.formats import JSON, find

    entry = find(kind)
    # only formats whose records never span lines (CSV's quoted cells can)
    if path == "-" or is_url(path) or entry is None or not entry.line_oriented:
        return False
    try:
        if not Path(path).is_file() or Path(path).stat().st_size < split_min:
            return False
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    if head[:2] == GZIP_MAGIC:
        return False
    # A JSON document (a pretty-printed array, say) is parsed whole, never split in lines
    return entry.family != JSON or not sniff(head)


def _scan(path: str, parts: int) -> tuple[str, list[tuple[int, int, int]]]:
    """One pass over the file: its sha256, and ``parts`` newline-aligned ranges
    (start, end, first line)."""
    size = Path(path).stat().st_size
    targets = [size * i // parts for i in range(1, parts)]
    digest = hashlib.sha256()
    cuts: list[tuple[int, int]] = [(0, 1)]  # (offset, line number at that offset)
    offset, lines = 0, 0
    with open(path, "rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            digest.update(block)
            end = offset + len(block)
            while targets and targets[0] < end:
                # the first newline at or after the target (searching this block only; a
                # cut past it moves to the next block's search)
                at = block.find(b"\n", max(0, targets[0] - offset))
                if at < 0:
                    targets[0] = end
                    break
                cut = offset + at + 1
                if cut > cuts[-1][0] and cut < size:
                    cuts.append((cut, lines + block.count(b"\n", 0, at + 1) + 1))
                targets.pop(0)
            lines += block.count(b"\n")
            offset = end
    bounds = [*cuts, (size, 0)]
    return digest.hexdigest(), [(bounds[i][0], bounds[i + 1][0], bounds[i][1])
                                for i in range(len(bounds) - 1)]


def plan_units(paths: list[str], spec_for: Callable[[str], str | None], jobs: int,
               split_min: int = SPLIT_MIN_BYTES) -> tuple[list[Unit], dict[str, str]]:
    """Work units in input order, and the sha256 of every input that was split."""
    from scopeaudit.usage.readers import format_kind

    units: list[Unit] = []
    hashes: dict[str, str] = {}
    for path in paths:
        spec = spec_for(path)
        if jobs > 1 and _splittable(path, format_kind(spec, path), split_min):
            digest, ranges = _scan(path, jobs)
            hashes[path] = digest
            units += [Unit(path, spec, start, end, first) for start, end, first in ranges]
        else:
            units.append(Unit(path, spec))
    return units, hashes


@dataclass(frozen=True)
class _Job:
    keys: tuple[Key, ...]
    catalog: Catalog
    maps: Mapping[str, str]
    strict: bool
    http: HttpSettings | None = None
    options: ReadOptions = NO_OPTIONS


def run_unit(unit: Unit, job: _Job, progress: Progress | None = None) -> UnitResult:
    from scopeaudit.usage.readers import make_reader

    reader = make_reader(unit.spec, unit.path, job.maps, job.options)
    label = input_label(unit.path)  # a URL's credentials stay out of stats and warnings
    stats = InputStats(label, strict=job.strict)
    aggregator = Aggregator(job.catalog)
    warnings: list[str] = []
    hashing = None
    if unit.end is None:
        stream, hashing = open_input(unit.path, job.http)
    else:
        stream = open_range(unit.path, unit.start, unit.end)
    try:
        ctx = ReadContext(stats, KeyResolver(job.keys), first_line=unit.first_line,
                          on_token=partial(note_token, aggregator.usage, label))
        records: Iterator[Record] = reader.read(stream, ctx)
        if progress is not None:
            records = _report(records, label, progress)
        try:
            aggregator.consume(records, label)
        except TruncatedInput as exc:
            # the line the input broke off in is no record; a token on it counts all the same
            ctx.skip(exc.line, f"input ends early ({exc.reason}); later lines are missing",
                     exc.tail)
            warnings.append(f"{label}: input ends early ({exc.reason}): read up to line "
                            f"{exc.line - 1}")
    finally:
        stream.close()
    stats.records, requests = aggregator.consumed
    if hashing is not None:
        stats.sha256 = hashing.sha256.hexdigest()
        stats.bytes_read = hashing.bytes_read
    else:
        stats.bytes_read = (unit.end or 0) - unit.start
    return UnitResult(aggregator.finish(), stats, requests, warnings)


def _report(records: Iterator[Record], path: str, progress: Progress) -> Iterator[Record]:
    for n, record in enumerate(records, start=1):
        if n % 100_000 == 0:
            progress(path, n)
        yield record


_WORKER_JOB: _Job | None = None
_EMPTY = Usage({}, {}, {}, {}, {}, {})


def _init_worker(job: _Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _run_in_worker(unit: Unit) -> UnitResult:
    assert _WORKER_JOB is not None
    return run_unit(unit, _WORKER_JOB)


def read_units(units: list[Unit], hashes: Mapping[str, str], keys: tuple[Key, ...],
               catalog: Catalog, maps: Mapping[str, str], strict: bool, jobs: int,
               progress: Progress | None = None, http: HttpSettings | None = None,
               options: ReadOptions = NO_OPTIONS
               ) -> tuple[Usage, list[InputStats], int, int, list[str]]:
    """Read every unit (in worker processes when jobs > 1 and there are several units) and
    merge. Returns (usage, one InputStats per input in order, records, requests, warnings)."""
    job = _Job(keys, catalog, maps, strict, http, options)
    results: list[UnitResult]
    if jobs > 1 and len(units) > 1:
        context = get_context("fork") if "fork" in _methods() else get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(units)), mp_context=context,
                                 initializer=_init_worker, initargs=(job,)) as pool:
            futures = [pool.submit(_run_in_worker, unit) for unit in units]
            done_records = 0
            for future in as_completed(futures):
                if progress is not None:
                    done_records += future.result().stats.records
                    progress(future.result().stats.path, done_records)
            results = [f.result() for f in futures]  # input order, whatever finished first
            del futures  # the results are the only references left: merging can free parts
    else:
        results = [run_unit(unit, job, progress) for unit in units]
    records = sum(r.stats.records for r in results)
    requests = sum(r.requests for r in results)
    # By the unit's raw path, never by its label: two URLs differing only in a redacted
    # query value (?sig=AAA, ?sig=BBB) are shown alike but are two inputs.
    by_path: dict[str, InputStats] = {}
    warnings: list[str] = []
    for unit, result in zip(units, results, strict=True):
        warnings += result.warnings
        stats = by_path.get(unit.path)
        if stats is None:
            by_path[unit.path] = result.stats
            continue
        stats.merge(result.stats)
    for path, digest in hashes.items():
        by_path[path].sha256 = digest
    parts = [r.usage for r in results]
    for result in results:
        result.usage = _EMPTY  # merge_usage frees each part as it goes; nothing else holds it
    usage = merge_usage(parts)
    return usage, list(by_path.values()), records, requests, warnings


def _methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()


