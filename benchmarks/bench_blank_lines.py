#!/usr/bin/env python3
"""How long `scopeaudit audit` takes over a small gzip that inflates to a gigabyte of newlines.

A hostile or broken log can be mostly empty lines: 1 GiB of newlines compresses to about
1 MB, and is a billion lines. Empty lines are no records, so reading them must cost what
inflating them costs, not a billion turns of a Python loop (issue 14, item 4: such a file
once ran past 600 s).

Writes to benchmarks/data/ (once per size and format) a gzip of the given number of MiB of
newlines with a few real records at the start, in the middle (one of them malformed) and at
the end, in each format (JSON Lines, CSV, nginx), then audits each in a process of its own:
with ``--engine stream`` from the file and from stdin (``--logs -``), and, for JSON Lines and
CSV, with ``--engine duckdb`` (when DuckDB is installed). Each run's report is checked: the
records read, and the malformed line named by its line number past the empty lines.

    python benchmarks/bench_blank_lines.py                 # 1024 MiB of newlines
    python benchmarks/bench_blank_lines.py --mib 64 --timeout 900

``--python`` runs another interpreter (for instance a checkout's older code, with PYTHONPATH
set), which is how the numbers before a change are measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PIECE = 16 << 20  # newlines written per gzip write
KEYS = ("keys:\n  - {id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31, "
        "scopes: [issues:read]}\n")
EDGE = 3  # real records at the start and at the end
FORMATS = {
    "jsonl": ("usage.jsonl.gz", "jsonl"),
    "csv": ("usage.csv.gz", "csv"),
    "nginx": ("access.log.gz", "nginx"),
}


def record(fmt: str, second: int) -> bytes:
    stamp = f"2026-11-02T10:00:{second:02d}Z"
    if fmt == "jsonl":
        return json.dumps({"ts": stamp, "key_id": "k1", "method": "GET", "path": "/v1/issues",
                           "status": 200}, separators=(",", ":")).encode()
    if fmt == "csv":
        return f"{stamp},k1,GET,/v1/issues,200".encode()
    return (f'192.0.2.1 - k1 [02/Nov/2026:10:00:{second:02d} +0000] "GET /v1/issues HTTP/1.1" '
            f'200 5 "-" "bench/1"').encode()


def write_log(path: Path, fmt: str, mib: int) -> tuple[int, int]:
    """The log, and (records in it, the number of its malformed line)."""
    head = [b"time,key_id,method,path,status"] if fmt == "csv" else []
    lines = [*head, *(record(fmt, s) for s in range(EDGE))]
    newlines = mib << 20
    half = newlines // 2
    # lines before the middle: the head and records, then `half` empty lines (the first of
    # the newlines ends the last record)
    middle = len(lines) + half
    bad = middle + 1  # the malformed line follows the middle record
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wb", compresslevel=9) as out:
            out.write(b"\n".join(lines))
            _newlines(out, half)
            out.write(record(fmt, 30) + b"\nnot a record\n")
            _newlines(out, newlines - half - 1)
            out.write(b"\n".join(record(fmt, 40 + s) for s in range(EDGE)) + b"\n")
        tmp.rename(path)
    return 2 * EDGE + 1, bad


def _newlines(out: gzip.GzipFile, count: int) -> None:
    while count > 0:
        n = min(count, PIECE)
        out.write(b"\n" * n)
        count -= n


def audit(python: str, keys: Path, log: Path, fmt: str, engine: str, stdin: bool,
          timeout: float) -> tuple[float | None, dict[str, object] | None]:
    """(seconds, the report's input entry); (None, None) past the timeout."""
    args = [python, "-m", "scopeaudit", "audit", "--keys", str(keys), "--format", "json",
            "--no-timestamp", "--fail-on", "never", "--as-of", "2026-12-01", "--engine", engine,
            "--jobs", "1", "--log-format", fmt, "--logs", "-" if stdin else str(log)]
    start = time.perf_counter()
    try:
        with open(log, "rb") as source:
            proc = subprocess.run(args, stdin=source if stdin else subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, None
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"audit failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    inputs = json.loads(proc.stdout)["inputs"]
    return elapsed, next(i for i in inputs if i["kind"] == "logs")


def duckdb_installed(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import duckdb"], capture_output=True, check=False)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="MiB of newlines (default 1024)")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help="comma-separated: " + ", ".join(FORMATS))
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds before a run is stopped and reported as such")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    keys = DATA / "blank-keys.yaml"
    keys.write_text(KEYS)
    has_duckdb = duckdb_installed(args.python)
    print(f"{args.mib} MiB of newlines; timeout {args.timeout:.0f} s")
    for fmt in args.formats.split(","):
        name, spec = FORMATS[fmt]
        log = DATA / f"blank-{args.mib}mib-{name}"
        records, bad = write_log(log, fmt, args.mib)
        print(f"{log.name}: {log.stat().st_size / 1e6:.2f} MB gzip; malformed line {bad}")
        runs = [("stream", False), ("stream", True)]
        if has_duckdb and fmt in ("jsonl", "csv"):
            runs.append(("duckdb", False))
        for engine, stdin in runs:
            elapsed, entry = audit(args.python, keys, log, spec, engine, stdin, args.timeout)
            label = f"  {engine:<6} {'stdin' if stdin else 'file':<5}"
            if elapsed is None or entry is None:
                print(f"{label}  > {args.timeout:.0f} s (stopped)")
                continue
            got = (entry["records"], entry["skipped_lines"])
            ok = "ok" if got == (records, [bad]) else f"WRONG: {got}, expected {(records, [bad])}"
            print(f"{label} {elapsed:8.2f} s  records {entry['records']}  {ok}")


if __name__ == "__main__":
    main()
