#!/usr/bin/env python3
"""The DuckDB engine against the stdlib-json loops and a hand-written DuckDB query.

For each size (1M and 10M records by default), on JSON Lines (the files bench_audit.py
writes) and on the same records as Parquet (written here with DuckDB's COPY), each in its own
process so that its peak RSS is its own, side by side in one run:

* the stdlib-json loops of bench_audit.py (the same grouping with a regex router, and the
  cheapest loop on raw paths), on the JSON Lines file;
* a hand-written DuckDB query doing the GROUP BY on raw paths (key x method x path without the
  query x status class x UTC day: count, first and last time) into a table: the best a data
  engineer would write by hand, with no line numbers, no malformed-line accounting, no
  identity matching, no routing and no report;
* ``scopeaudit audit --engine duckdb`` end to end (keys + catalog + logs -> JSON report).

Prints records/s, the ratios, peak RSS, and how each scales from the smallest size to the
largest. Targets (issue 9): scopeaudit >= 4x the stdlib loop, no slower than the hand-written
query, peak RSS at 10M <= 1.5x that at 1M.

    python benchmarks/bench_duckdb.py                  # 1M and 10M records
    python benchmarks/bench_duckdb.py --sizes 1000000  # 1M only
    python benchmarks/bench_duckdb.py --repeat 3       # three rounds, medians (peak RSS: max)

Traffic profiles as in bench_audit.py (``--profile integrations|uniform``, default
integrations). The figures of each run, with the machine's load, go into the issue's note.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import (  # noqa: E402 - the sibling benchmark's data and baselines
    BASELINE,
    BASELINE_SAME,
    DATA,
    arguments,
    log_file,
    peak_rss,
    write_keys,
)

# The hand-written query, as a data engineer would write it: DuckDB's own JSON/Parquet reader
# (types inferred), one GROUP BY on the raw path, the result kept in a table.
HAND = r'''
import sys, time
import duckdb
path, kind = sys.argv[1], sys.argv[2]
source = f"read_json('{path}')" if kind == "jsonl" else f"read_parquet('{path}')"
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
con.execute(f"""
CREATE TABLE usage AS
SELECT key_id, method, split_part(path, '?', 1) AS path,
       CASE WHEN status IN (401, 403) THEN CAST(status AS VARCHAR)
            ELSE CAST(status // 100 AS VARCHAR) || 'xx' END AS status_class,
       CAST(ts AS DATE) AS day, count(*) AS requests, min(ts) AS first, max(ts) AS last
FROM {source}
GROUP BY ALL""")
groups = con.execute("SELECT count(*) FROM usage").fetchone()[0]
print(time.perf_counter() - start, groups)
'''


def write_parquet(jsonl: Path, parquet: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json('{jsonl}')) TO '{parquet}' "
                "(FORMAT parquet, COMPRESSION zstd)")
    con.close()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def spread(values: list[float]) -> str:
    return f" [{min(values):.1f}-{max(values):.1f} s]" if len(values) > 1 else ""


def main() -> None:
    args = arguments(__doc__, repeat=True)
    DATA.mkdir(exist_ok=True)
    keys = DATA / "bench-keys.yaml"
    write_keys(keys)
    scopeaudit = str(Path(sys.executable).parent / "scopeaudit")
    catalog = DATA / "catalog.json"
    subprocess.run([scopeaudit, "catalog", "--format", "json", "-o", str(catalog)], check=True)
    print(f"{os.cpu_count()} cores; load average at the start: {load()}; "
          f"{args.repeat} round(s) per size, medians shown", flush=True)
    rss: dict[tuple[str, int], int] = {}
    rate: dict[tuple[str, int], float] = {}
    for n in args.sizes:
        jsonl = log_file(n, args.profile)
        parquet = jsonl.with_suffix(".parquet")
        if not parquet.exists():
            print(f"writing {parquet} ...", flush=True)
            write_parquet(jsonl, parquet)
        # Every program once per round, the rounds one after the other: a machine whose
        # speed drifts (a shared host) drifts for all of them alike
        times: dict[str, list[float]] = {}
        peaks: dict[str, list[int]] = {}
        groups: dict[str, int] = {}
        for _ in range(args.repeat):
            runs = {"same": [sys.executable, "-c", BASELINE_SAME, str(jsonl), str(catalog)],
                    "raw": [sys.executable, "-c", BASELINE, str(jsonl)]}
            for kind, data in (("jsonl", jsonl), ("parquet", parquet)):
                runs[f"hand {kind}"] = [sys.executable, "-c", HAND, str(data), kind]
                runs[f"scopeaudit {kind}"] = [
                    scopeaudit, "audit", "--engine", "duckdb", "--keys", str(keys), "--logs",
                    str(data), "--format", "json", "-o", "/dev/null", "--fail-on", "never",
                    "--no-timestamp"]
            for name, cmd in runs.items():
                elapsed, peak, out = peak_rss(cmd)
                times.setdefault(name, []).append(elapsed)
                peaks.setdefault(name, []).append(peak)
                if name.startswith("hand"):
                    groups[name] = int(out.split()[1])
        t = {name: statistics.median(values) for name, values in times.items()}
        m = {name: max(values) for name, values in peaks.items()}
        print(f"{n:,} records (load {load()}):\n"
              f"  stdlib loop, same grouping (regex router), JSONL {n / t['same']:>10,.0f} rec/s "
              f"({t['same']:.1f} s{spread(times['same'])}, peak {m['same'] / 1024:.0f} MiB)\n"
              f"  stdlib loop, raw paths, JSONL                    {n / t['raw']:>10,.0f} rec/s "
              f"({t['raw']:.1f} s{spread(times['raw'])}, peak {m['raw'] / 1024:.0f} MiB)",
              flush=True)
        for kind in ("jsonl", "parquet"):
            hand, ours = f"hand {kind}", f"scopeaudit {kind}"
            rss[(kind, n)] = m[ours]
            rate[(kind, n)] = n / t[ours]
            print(f"  {kind}:\n"
                  f"    hand-written DuckDB GROUP BY on raw paths  {n / t[hand]:>10,.0f} rec/s "
                  f"({t[hand]:.1f} s{spread(times[hand])}, peak {m[hand] / 1024:.0f} MiB, "
                  f"{groups[hand]:,} groups)\n"
                  f"    scopeaudit audit --engine duckdb            {n / t[ours]:>10,.0f} rec/s "
                  f"({t[ours]:.1f} s{spread(times[ours])}, peak {m[ours] / 1024:.0f} MiB)\n"
                  f"    scopeaudit vs the same-grouping loop: {t['same'] / t[ours]:.2f}x "
                  f"(target >= 4x); vs the raw-path loop: {t['raw'] / t[ours]:.2f}x; "
                  f"vs the hand-written query: {t[hand] / t[ours]:.2f}x (target >= 1x)",
                  flush=True)
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        for kind in ("jsonl", "parquet"):
            print(f"{kind}: from {small:,} to {large:,} records, peak RSS "
                  f"{rss[(kind, large)] / rss[(kind, small)]:.2f}x (target <= 1.5x), "
                  f"throughput {rate[(kind, large)] / rate[(kind, small)]:.2f}x")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
