#!/usr/bin/env python3
"""Does the id style in request paths change the audit's speed (issue 17)?

The same traffic (bench_audit.py's integrations profile: 50 keys, a few operations each,
identifiers in paths) is written once per id style, the n-th identifier of each style
standing for the same resource, so every style must give the same report:

    numeric   /v1/issues/48213
    uuid      /v1/issues/0b6e1f0c-3c1f-7a4e-...        (random-looking, from a hash of n)
    hex24     /v1/issues/5f8d0d55b54764421b7156c9     (a Mongo ObjectId)
    prefixed  /v1/issues/obj_48213
    ulid      /v1/issues/01HZX3T2V9...                (26 Crockford base-32 characters)
    slug      /v1/issues/amber-falcon-river-otter     (no digit at all)

and each in the formats asked for: JSON Lines, the same gzipped, Parquet (written from the
JSON Lines by DuckDB; the streaming reader reads none) and nginx ``combined`` (the key in
``$http_x_key_id``; only the streaming reader reads it). Each program runs in a
process of its own (wall time and peak RSS are its own), every program once per round, the
rounds one after the other; medians of the rounds are printed (the machine is shared: the
spread of the rounds and the load average are printed too), then a table per format, and
whether every style, format and engine gave the same verdicts (a digest of ``--format
json --no-timestamp`` without its inputs and the log's name).

Baselines in the same run, on the JSON Lines file: the stdlib ``json.loads`` loop grouping by
raw path (bench_audit.py) and a hand-written DuckDB GROUP BY on raw paths (bench_duckdb.py);
with Parquet, the hand-written query on the Parquet file too.

    python benchmarks/bench_idstyles.py --sizes 1000000 --repeat 3
    python benchmarks/bench_idstyles.py --sizes 200000 --styles numeric hex24 --formats jsonl
    python benchmarks/bench_idstyles.py --sizes 10000000 --repeat 1 --formats jsonl parquet \
        --src /tmp/snapshot/src    # scopeaudit as committed, while the worktree changes
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import statistics
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import (  # noqa: E402 - the sibling benchmarks' data and baselines
    BASELINE,
    DATA,
    timed,
    write_integration_logs,
    write_keys,
)
from bench_duckdb import HAND, write_parquet  # noqa: E402

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_WORDS = ("amber", "falcon", "river", "otter", "maple", "cedar", "quartz", "harbor", "meadow",
          "ember", "lantern", "summit", "willow", "canyon", "glacier", "heron", "juniper",
          "kestrel", "lagoon", "marble", "nectar", "orchid", "pebble", "quill", "raven",
          "saffron", "thistle", "umber", "velvet", "walnut", "yarrow", "zephyr")


def _digest(n: int) -> bytes:
    return hashlib.md5(str(n).encode(), usedforsecurity=False).digest()


def _ulid(n: int) -> str:
    value = int.from_bytes(_digest(n), "big")
    chars = [_CROCKFORD[(value >> (5 * i)) & 31] for i in range(24)]
    return "01" + "".join(chars)  # a ULID of these years starts with 01


def _slug(n: int) -> str:
    words = []
    for _ in range(4):
        n, digit = divmod(n, len(_WORDS))
        words.append(_WORDS[digit])
    return "-".join(words)


STYLES: dict[str, Callable[[int], str]] = {
    "numeric": str,
    "uuid": lambda n: str(uuid.UUID(bytes=_digest(n))),
    "hex24": lambda n: _digest(n).hex()[:24],
    "prefixed": lambda n: f"obj_{n}",
    "ulid": _ulid,
    "slug": _slug,
}
FORMATS = ("jsonl", "gzip", "parquet", "nginx")
# combined, and the key id an auth layer set, as log-formats.md advises
NGINX = ('nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
         '"$http_referer" "$http_user_agent" "$http_x_key_id"')
ENGINES = ("auto", "duckdb", "stream")  # auto: no --engine option at all (the default)


def style_file(n: int, style: str, fmt: str) -> Path:
    """The log of ``n`` records with ids of ``style`` in ``fmt``, written on first use."""
    jsonl = DATA / f"ids-{style}-{n}.jsonl"
    if not jsonl.exists():
        print(f"writing {n:,} records ({style} ids) to {jsonl} ...", flush=True)
        write_integration_logs(jsonl, n, STYLES[style])
    if fmt == "jsonl":
        return jsonl
    if fmt == "gzip":
        out = jsonl.with_suffix(".jsonl.gz")
        if not out.exists():
            with open(jsonl, "rb") as src, gzip.open(out, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        return out
    if fmt == "parquet":
        out = jsonl.with_suffix(".parquet")
        if not out.exists():
            write_parquet(jsonl, out)
        return out
    out = jsonl.with_suffix(".log")
    if not out.exists():
        _write_nginx(jsonl, out)
    return out


def _write_nginx(jsonl: Path, out: Path) -> None:
    import json
    from datetime import datetime

    with open(jsonl, "rb") as src, open(out, "w", encoding="ascii") as dst:
        for line in src:
            r = json.loads(line)
            when = datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
            dst.write(f'{r["ip"]} - - [{when:%d/%b/%Y:%H:%M:%S} +0000] '
                      f'"{r["method"]} {r["path"]} HTTP/1.1" {r["status"]} 12 "-" '
                      f'"{r["ua"]}" "{r["key_id"]}"\n')


def verdicts(report: str, log: str) -> str:
    """A digest of the report's verdicts: the report without its inputs (their names and
    hashes differ by file), the log's name put as "LOG" wherever it is said."""
    import json

    document = json.loads(report.replace(json.dumps(Path(log).name)[1:-1], "LOG"))
    document.pop("inputs")
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:12]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--styles", nargs="+", choices=list(STYLES), default=list(STYLES))
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--before", metavar="DIR",
                        help="a copy of an older src/ (the folder holding scopeaudit/): each "
                             "engine is run with it too, as '<engine> before', in the same "
                             "rounds")
    parser.add_argument("--src", metavar="DIR",
                        help="run scopeaudit from this folder (holding scopeaudit/) rather "
                             "than the installed one: a snapshot of a commit, say")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    keys = DATA / "bench-keys.yaml"
    write_keys(keys)
    scopeaudit = str(Path(sys.executable).parent / "scopeaudit")
    print(f"{os.cpu_count()} cores; load average at the start: {load()}; {args.repeat} "
          f"round(s), medians shown [min-max]", flush=True)
    for n in args.sizes:
        runs: dict[tuple[str, str, str], list[str]] = {}
        for style in args.styles:
            jsonl = style_file(n, style, "jsonl")
            if not args.no_baselines:
                runs[(style, "jsonl", "stdlib loop")] = [sys.executable, "-c", BASELINE,
                                                         str(jsonl)]
                runs[(style, "jsonl", "hand DuckDB")] = [sys.executable, "-c", HAND,
                                                         str(jsonl), "jsonl"]
            for fmt in args.formats:
                data = style_file(n, style, fmt)
                if fmt == "parquet" and not args.no_baselines:
                    runs[(style, fmt, "hand DuckDB")] = [sys.executable, "-c", HAND,
                                                         str(data), "parquet"]
                for engine in args.engines:
                    if fmt == "nginx" and engine == "duckdb":
                        continue  # DuckDB reads no nginx: that would be the stream run
                    if fmt == "parquet" and engine == "stream":
                        continue  # the streaming reader reads no Parquet
                    cmd = [*(["env", f"PYTHONPATH={args.src}"] if args.src else []),
                           scopeaudit, "audit", "--keys", str(keys), "--logs", str(data),
                           "--format", "json", "--no-timestamp", "--fail-on", "never"]
                    if fmt == "nginx":
                        cmd += ["--log-format", NGINX]
                    if engine != "auto":
                        cmd += ["--engine", engine]
                    runs[(style, fmt, engine)] = cmd
                    if args.before:
                        runs[(style, fmt, f"{engine} before")] = [
                            "env", f"PYTHONPATH={args.before}", *cmd]
        times: dict[tuple[str, str, str], list[float]] = {}
        cpus: dict[tuple[str, str, str], list[float]] = {}
        peaks: dict[tuple[str, str, str], int] = {}
        reports: dict[tuple[str, str, str], str] = {}
        for _ in range(args.repeat):
            for name, cmd in runs.items():
                elapsed, peak, out, cpu = timed(cmd)
                times.setdefault(name, []).append(elapsed)
                cpus.setdefault(name, []).append(cpu)
                peaks[name] = max(peaks.get(name, 0), peak)
                if not name[2].startswith(("stdlib", "hand")):
                    reports[name] = verdicts(out, cmd[cmd.index("--logs") + 1])
        print(f"\n{n:,} records, load average now {load()}", flush=True)
        programs = (["stdlib loop", "hand DuckDB"] if not args.no_baselines else []) \
            + [e + b for e in args.engines for b in ("", " before")[:1 + bool(args.before)]]
        for fmt in args.formats:
            print(f"\n{fmt}: wall seconds, median of {args.repeat} [min-max] / CPU seconds "
                  f"(user + system), median (peak MiB)")
            print("| id style | " + " | ".join(programs) + " |")
            print("|---" * (len(programs) + 1) + "|")
            for style in args.styles:
                cells = []
                for program in programs:
                    name = (style, "jsonl" if program == "stdlib loop"
                            or (program == "hand DuckDB" and fmt != "parquet") else fmt,
                            program)
                    if name not in times:
                        cells.append("-")
                        continue
                    ts = times[name]
                    cells.append(f"{statistics.median(ts):.2f} [{min(ts):.2f}-{max(ts):.2f}]"
                                 f" / {statistics.median(cpus[name]):.2f}"
                                 f" ({peaks[name] // 1024})")
                print(f"| {style} | " + " | ".join(cells) + " |")
        distinct = sorted(set(reports.values()))
        print(f"\nverdicts: {len(distinct)} distinct of {len(reports)} runs "
              f"({'identical' if len(distinct) == 1 else 'DIFFERENT'})")
        if len(distinct) > 1:
            for name, digest in sorted(reports.items()):
                print(f"  {digest} {name}")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
