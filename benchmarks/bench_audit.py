#!/usr/bin/env python3
"""Throughput and peak memory of `scopeaudit audit`'s streaming reader.

Writes deterministic JSON Lines logs (50 keys, identifiers in paths) to benchmarks/data/,
then, each in its own process so peak RSS is its own:

* ``scopeaudit audit`` end to end (keys + catalog + logs -> JSON report);
* a plain stdlib-json loop doing the same grouping (key x operation x status class x UTC
  day, with a regex per catalog template) and, for context, one grouping by raw path;

and prints records/s for each, the ratios, and peak RSS at each size. Targets (issue 3):
scopeaudit >= 1.3x the stdlib loop; peak RSS at 10M <= 1.5x that at 1M.

Two traffic profiles (``--profile``):

* ``integrations`` (the default): each key is one integration, as in a real organisation. It
  calls a fixed handful of operations on the resources it holds, mostly successfully, with
  a busy-to-quiet spread of volume across keys (1/rank) and one or two clients per key.
* ``uniform``: every key calls every resource at random with random statuses: the worst case
  for the aggregate, whose size is the number of distinct key x operation x status class x
  day cells (about 275k at 1M records, close to the ~1M possible at 10M).

    python benchmarks/bench_audit.py                          # 1M and 10M, integrations
    python benchmarks/bench_audit.py --sizes 1000000 --profile uniform
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
# where the generated logs go (SCOPEAUDIT_BENCH_DATA: a folder outside the repository)
DATA = Path(os.environ.get("SCOPEAUDIT_BENCH_DATA", HERE / "data"))
N_KEYS = 50
RESOURCES = [("issues", "/v1/issues"), ("works", "/v1/works"), ("sites", "/v1/sites"),
             ("assets", "/v1/assets"), ("users", "/v1/users"), ("checkins", "/v1/checkins"),
             ("logs", "/v1/logs"), ("sensors", "/v1/sensor-readings"),
             ("templates", "/v1/templates"), ("runs", "/v1/runs")]

# The like-for-like baseline: the same grouping scopeaudit produces (key x operation x status
# class x UTC day), written the plain way: stdlib json, one regex per catalog template tried
# in order, query stripped, HEAD as GET.
BASELINE_SAME = r'''
import json, re, sys, time
catalog = json.load(open(sys.argv[2]))
routes = {}
for op in catalog["operations"]:
    pattern = re.escape(op["path"]).replace(r"/\*\*", "(?:/.*)?")
    pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", pattern)
    routes.setdefault(op["method"], []).append((re.compile(pattern + "/?$"), op["id"]))
counts = {}
start = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        d = json.loads(line)
        path = d["path"].split("?", 1)[0]
        method = d["method"]
        op = "?" + path
        for rx, op_id in routes.get("GET" if method == "HEAD" else method, ()):
            if rx.match(path):
                op = op_id
                break
        status = d["status"]
        cls = str(status) if status in (401, 403) else f"{status // 100}xx"
        k = (d["key_id"], op, cls, d["ts"][:10])
        counts[k] = counts.get(k, 0) + 1
        n += 1
elapsed = time.perf_counter() - start
print(n, elapsed, len(counts))
'''

# For context only: the cheapest loop, grouping by raw path instead of operation (a
# different, larger grouping: no route matching at all).
BASELINE = r'''
import json, sys, time
counts = {}
start = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        d = json.loads(line)
        path = d["path"].split("?", 1)[0]
        status = d["status"]
        cls = str(status) if status in (401, 403) else f"{status // 100}xx"
        k = (d["key_id"], d["method"], path, cls, d["ts"][:10])
        counts[k] = counts.get(k, 0) + 1
        n += 1
elapsed = time.perf_counter() - start
print(n, elapsed, len(counts))
'''


def write_keys(path: Path) -> None:
    rng = random.Random(1)
    lines = ["keys:"]
    for k in range(N_KEYS):
        picked = rng.sample(RESOURCES, 4)
        scopes = sorted({f"{r}:{a}" for r, _ in picked for a in ("read", "write")})
        lines += [f"  - id: key_{k:02d}", "    owner: bench@example.com", "    created: 2026-01-01",
                  "    expires: 2027-12-31", f"    scopes: [{', '.join(scopes)}]"]
    path.write_text("\n".join(lines) + "\n")


def write_logs(path: Path, n: int) -> None:
    rng = random.Random(n)
    start = datetime(2026, 8, 29, tzinfo=UTC)
    span = 90 * 86400
    statuses = [200] * 80 + [201] * 8 + [404] * 4 + [403] * 3 + [401] + [429] * 2 + [500] * 2
    uas = [f"client-{i}/1.{i}" for i in range(8)]

    def records() -> Iterator[dict[str, object]]:
        for i in range(n):
            t = start + timedelta(seconds=span * i / n)
            _, base = RESOURCES[rng.randrange(len(RESOURCES))]
            r = rng.random()
            if r < 0.5:
                method, target = "GET", f"{base}/{rng.randrange(1, 200000)}"
            elif r < 0.75:
                method, target = "GET", f"{base}?page={rng.randrange(1, 50)}&limit=100"
            elif r < 0.9:
                method, target = "PATCH", f"{base}/{rng.randrange(1, 200000)}"
            else:
                method, target = "POST", base
            yield {
                "ts": _stamp(t),
                "key_id": f"key_{rng.randrange(N_KEYS):02d}", "method": method, "path": target,
                "status": statuses[rng.randrange(len(statuses))],
                "ua": uas[rng.randrange(len(uas))], "ip": f"192.0.2.{rng.randrange(1, 255)}",
            }

    _write_jsonl(path, records())


def _write_jsonl(path: Path, records: Iterator[dict[str, object]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        buf = []
        for record in records:
            buf.append(json.dumps(record, separators=(",", ":")))
            if len(buf) >= 10000:
                out.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def write_integration_logs(path: Path, n: int,
                           ident: Callable[[int], str] = str) -> None:
    """Each key is one integration: the same few operations on its own resources, day after
    day; mostly 2xx, a little 404, 429 and 5xx; a few keys probing a resource they lack
    (403). Volume per key falls off as 1/rank. ``ident`` writes the n-th identifier in a
    path (bench_idstyles.py: the same traffic with ids of another style)."""
    rng = random.Random(n + 7)
    key_rng = random.Random(1)  # the same draws as write_keys: each key's own resources
    profiles = []
    for k in range(N_KEYS):
        held = key_rng.sample(RESOURCES, 4)
        used = held[:rng.randint(1, 3)]
        writer = rng.random() < 0.4
        calls: list[tuple[str, str]] = []
        for _, base in used:
            calls += [("GET", base + "/{id}"), ("GET", base + "?page={page}&limit=100")]
            if writer:
                calls += [("PATCH", base + "/{id}"), ("POST", base)]
        probe = rng.choice([r for r in RESOURCES if r not in held])[1] if k % 10 == 3 else None
        clients = [(f"integration-{k}/{c + 1}.0", f"10.{k}.{c}.{rng.randrange(1, 255)}")
                   for c in range(rng.randint(1, 2))]
        profiles.append((calls, probe, clients))
    weights = [1 / (rank + 1) for rank in range(N_KEYS)]
    keys = rng.choices(range(N_KEYS), weights=weights, k=n)
    start = datetime(2026, 8, 29, tzinfo=UTC)
    span = 90 * 86400

    def records() -> Iterator[dict[str, object]]:
        for i in range(n):
            t = start + timedelta(seconds=span * i / n)
            k = keys[i]
            calls, probe, clients = profiles[k]
            method, target = calls[rng.randrange(len(calls))]
            r = rng.random()
            if probe is not None and r < 0.02:
                method, target, status = "GET", probe + "/{id}", 403
            elif r < 0.03:
                status = 404
            elif r < 0.035:
                status = 429
            elif r < 0.038:
                status = 500
            else:
                status = 201 if method == "POST" else 200
            ua, ip = clients[rng.randrange(len(clients))]
            yield {
                "ts": _stamp(t), "key_id": f"key_{k:02d}", "method": method,
                "path": target.format(id=ident(rng.randrange(1, 200000)),
                                      page=rng.randrange(1, 50)),
                "status": status, "ua": ua, "ip": ip,
            }

    _write_jsonl(path, records())


def peak_rss(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, the child's own peak RSS (KiB) from GNU time, and its stdout. The CPU
    seconds (user + system, children included) go to stderr: on a busy machine they say
    more than the wall clock."""
    elapsed, rss, out, _ = timed(cmd)
    return elapsed, rss, out


def timed(cmd: list[str]) -> tuple[float, int, str, float]:
    """peak_rss, and the CPU seconds too."""
    gnu_time = Path("/usr/bin/time")
    if not gnu_time.exists():
        sys.exit("needs GNU time at /usr/bin/time (Debian package 'time')")
    start = time.perf_counter()
    proc = subprocess.run([str(gnu_time), "-v", *cmd], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    rss = next(int(line.split()[-1]) for line in proc.stderr.splitlines()
               if "Maximum resident set size" in line)
    cpu = sum(float(line.split()[-1]) for line in proc.stderr.splitlines()
              if "User time (seconds)" in line or "System time (seconds)" in line)
    shown = [Path(c).name if "/" in c and len(c) < 200 else c[:40] for c in cmd]
    print(f"    {' '.join(shown)}: {elapsed:.2f} s wall, {cpu:.2f} s CPU, "
          f"{rss // 1024} MiB peak", file=sys.stderr, flush=True)
    return elapsed, rss, proc.stdout, cpu


def arguments(doc: str, *, repeat: bool = False) -> argparse.Namespace:
    """The options every benchmark here takes: sizes and traffic profile (and, where the
    benchmark repeats its rounds, --repeat)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--profile", choices=["integrations", "uniform"],
                        default="integrations", help="traffic profile (see bench_audit.py)")
    if repeat:
        parser.add_argument("--repeat", type=int, default=1,
                            help="rounds per size, each program once per round, one after "
                                 "the other; medians are reported")
    return parser.parse_args()


def log_file(n: int, profile: str) -> Path:
    """The JSON Lines file of ``n`` records of ``profile``, written on first use."""
    # uniform logs keep their first name, from before profiles existed
    logs = DATA / (f"bench-{n}.jsonl" if profile == "uniform" else f"bench-{profile}-{n}.jsonl")
    if not logs.exists():
        print(f"writing {n:,} records to {logs} ...", flush=True)
        (write_logs if profile == "uniform" else write_integration_logs)(logs, n)
    return logs


def main() -> None:
    args = arguments(__doc__)
    DATA.mkdir(exist_ok=True)
    keys = DATA / "bench-keys.yaml"
    write_keys(keys)
    scopeaudit = str(Path(sys.executable).parent / "scopeaudit")
    results = []
    for n in args.sizes:
        logs = log_file(n, args.profile)
        catalog = DATA / "catalog.json"
        subprocess.run([scopeaudit, "catalog", "--format", "json", "-o", str(catalog)],
                       check=True)
        t_same, rss_same, out = peak_rss([sys.executable, "-c", BASELINE_SAME, str(logs),
                                          str(catalog)])
        _, _, same_groups = out.split()
        t_base, rss_base, out = peak_rss([sys.executable, "-c", BASELINE, str(logs)])
        _, _, groups = out.split()
        t_sa, rss_sa, _ = peak_rss([scopeaudit, "audit", "--keys", str(keys), "--logs", str(logs),
                                    "--format", "json", "-o", "/dev/null", "--fail-on", "never",
                                    "--no-timestamp", "--engine", "stream"])
        results.append((n, t_base, rss_base, t_sa, rss_sa))
        print(f"{n:,} records:\n"
              f"  stdlib loop, same grouping (regex router)   {n / t_same:>9,.0f} rec/s "
              f"({t_same:.1f} s, peak {rss_same / 1024:.0f} MiB, {int(same_groups):,} groups)\n"
              f"  stdlib loop, raw paths (context only)       {n / t_base:>9,.0f} rec/s "
              f"({t_base:.1f} s, peak {rss_base / 1024:.0f} MiB, {int(groups):,} groups)\n"
              f"  scopeaudit audit --engine stream, all cores {n / t_sa:>9,.0f} rec/s "
              f"({t_sa:.1f} s, peak {rss_sa / 1024:.0f} MiB)\n"
              f"  ratio to the same-grouping loop: {t_same / t_sa:.2f}x (target >= 1.3x); "
              f"to the raw-path loop: {t_base / t_sa:.2f}x", flush=True)
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(f"peak RSS of scopeaudit at {large[0]:,} vs {small[0]:,}: "
              f"{large[4] / small[4]:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
