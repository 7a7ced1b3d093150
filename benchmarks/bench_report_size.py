#!/usr/bin/env python3
"""Report size at a large organisation's scale (issue 19, item 6).

Writes (once, to benchmarks/data/report-size/) a deterministic key file of 1,000 keys that
each hold all 26 insp.ac scopes, and 90 days of gateway logs (JSON Lines, gzip) in which each
key uses a few operations from two or three clients: most keys use 2 to 8 scopes, some none
(an unused key), some start late (a deferred removal). The audit runs through the real
pipeline (read_usage, analyse), as ``scopeaudit audit`` would, and then each report is
rendered and measured:

* HTML: bytes, those of each section (where the report's bytes go), and the time from
  opening the file in headless Chromium (Debian's /usr/bin/chromium through Playwright,
  when both are present) to a first screenshot;
* SARIF: bytes and gzip-compressed bytes (GitHub's code-scanning upload takes at most
  10 MB of gzip-compressed SARIF, 25,000 results per run);
* JSON: bytes; Markdown: bytes and the time to render it (into its 1 MB budget).

Targets: HTML under 5 MB and under 2 s to a first screenshot; SARIF under GitHub's limit;
Markdown under 1 s. Times are wall-clock seconds, the median of ``--rounds`` (on a shared,
loaded machine the median says more than the best).

    python benchmarks/bench_report_size.py               # 1,000 keys
    python benchmarks/bench_report_size.py --keys 200 --rounds 1
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "report-size"
AS_OF = date(2026, 11, 27)
DAYS = 90
CHROMIUM = Path("/usr/bin/chromium")
MB = 1024 * 1024
SARIF_GZIP_LIMIT = 10 * MB
SARIF_RESULTS_LIMIT = 25_000  # per run; GitHub keeps only the first 5,000 when more


def write_inputs(keys: int, out: Path) -> tuple[Path, Path]:
    """The key file and the logs (skipped when already written for this many keys)."""
    from scopeaudit.catalog import load_builtin

    out.mkdir(parents=True, exist_ok=True)
    key_file, log_file = out / f"keys-{keys}.yaml", out / f"gateway-{keys}.jsonl.gz"
    if key_file.exists() and log_file.exists():
        return key_file, log_file
    catalog = load_builtin()
    scopes = sorted(catalog.scope_names)
    # single-scope operations: a request to one says exactly which scope it used
    ops = [op for op in catalog.operations
           if len(op.requires) == 1 and len(next(iter(op.requires))) == 1]
    rng = random.Random(19)
    lines = ["keys:"]
    plans = []
    for n in range(keys):
        kid = f"key_{n:04d}"
        created = AS_OF - timedelta(days=400 if n % 17 else 20)  # some keys start late
        kind = rng.choice(["ETL", "sync", "portal", "gateway", "mobile"])
        lines += [f"  - id: {kid}", f"    name: Integration {n} ({kind})",
                  f"    owner: team-{n % 40}@example.org", f"    created: {created}",
                  f"    expires: {created + timedelta(days=730)}", "    scopes:"]
        lines += [f"      - {s}" for s in scopes]
        used = [] if n % 23 == 0 else rng.sample(ops, rng.randint(2, 8))  # some keys unused
        clients = [(f"client-{n}/{v}.0", f"10.{n % 250}.{v}.7") for v in range(rng.randint(1, 3))]
        plans.append((kid, created, used, clients))
    key_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) \
        - timedelta(days=DAYS)
    records = []
    for day in range(DAYS):
        for kid, created, used, clients in plans:
            today = start + timedelta(days=day)
            if not used or today.date() < created or rng.random() < 0.3:
                continue
            for _ in range(rng.randint(1, 4)):
                op = rng.choice(used)
                t = today + timedelta(seconds=rng.randrange(86400))
                ua, ip = rng.choice(clients)
                path = op.path.replace("{id}", str(rng.randint(1, 9999)))
                records.append((t, kid, op.method, path, ua, ip))
    records.sort()
    with open(log_file, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="") as gz:
        for t, kid, method, path, ua, ip in records:
            gz.write(json.dumps({"ts": t.isoformat().replace("+00:00", "Z"), "key_id": kid,
                                 "method": method, "path": path, "status": 200, "ua": ua,
                                 "ip": ip}, separators=(",", ":")).encode() + b"\n")
    return key_file, log_file


def run_audit(key_file: Path, log_file: Path) -> Any:
    from scopeaudit.audit import AuditOptions, LogOptions, analyse, read_usage
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import load_inventory
    from scopeaudit.rules.inventory_rules import LintSettings

    diagnostics = Diagnostics()
    catalog = load_builtin()
    inventory = load_inventory(str(key_file), None, diagnostics)
    usage, stats, records, requests = read_usage(
        inventory, catalog, LogOptions(paths=(str(log_file),), jobs=1), diagnostics)
    return analyse(inventory, catalog, usage, stats, (records, requests),
                   AuditOptions(lint=LintSettings(as_of=AS_OF)), diagnostics, timestamp=False)


# where each part of the HTML report starts: a part runs to the next one's start
HTML_PARTS = (("head, style and script", "<!DOCTYPE"), ("summary", '<section id="summary"'),
              ("actions", '<section id="actions"'), ("tiles", '<div class="tiles">'),
              ("overview chart", '<section id="overview"'), ("matrix", '<section id="matrix"'),
              ("key cards", '<section id="keys"'), ("findings table", '<section id="findings"'),
              ("data island", '<script type="application/json" id="findings-data">'),
              ("method", '<section id="method"'))


def html_parts(html: str) -> list[tuple[str, int]]:
    """Bytes per part of the report, in page order (a part the report lacks is left out)."""
    starts = sorted((html.find(mark), name) for name, mark in HTML_PARTS if mark in html)
    ends = [start for start, _ in starts[1:]] + [len(html)]
    return [(name, len(html[start:end].encode("utf-8")))
            for (start, name), end in zip(starts, ends, strict=True)]


def median(rounds: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def first_screenshot(html: str, rounds: int) -> float | None:
    """Seconds from opening the report to a first screenshot, or None without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            times = []
            for _ in range(rounds):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(300_000)
                t = time.perf_counter()
                page.goto(path.as_uri(), timeout=300_000)
                page.screenshot(path=str(Path(tmp) / "first.png"))
                times.append(time.perf_counter() - t)
                page.close()
            browser.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    key_file, log_file = write_inputs(args.keys, DATA)
    # paths as a user types them (relative), as they are repeated on every row and card
    os.chdir(DATA)
    seconds, audit = median(1, lambda: run_audit(key_file.relative_to(DATA),
                                               log_file.relative_to(DATA)))
    print(f"{args.keys:,} keys x 26 scopes, {DAYS} days: {audit.usage.records:,} records, "
          f"{len(audit.findings):,} findings (audit {seconds:.1f} s)")
    options = RenderOptions()
    out: dict[str, str] = {}
    for fmt in (OutputFormat.HTML, OutputFormat.SARIF, OutputFormat.JSON,
                OutputFormat.MARKDOWN):
        render = renderer_for(fmt)
        seconds, out[fmt.value] = median(args.rounds, lambda r=render: r(audit, options))
        size = len(out[fmt.value].encode("utf-8"))
        print(f"  {fmt.value:9} {size / MB:7.2f} MB  rendered in {seconds:.2f} s")
    for name, size in html_parts(out["html"]):
        print(f"    html {name:22} {size / MB:5.2f} MB")
    sarif = out["sarif"].encode("utf-8")
    packed = len(gzip.compress(sarif, mtime=0))
    results = sum(len(run["results"]) for run in json.loads(sarif)["runs"])
    fits = packed < SARIF_GZIP_LIMIT and results <= SARIF_RESULTS_LIMIT
    print(f"  sarif gzip {packed / MB:.2f} MB (GitHub's limit: 10 MB gzip, 25,000 results); "
          f"{results:,} results: {'OK' if fits else 'OVER'}")
    shot = first_screenshot(out["html"], args.rounds)
    print("  html first screenshot: " + (f"{shot:.2f} s" if shot is not None
                                         else "skipped (no Chromium or Playwright)"))


if __name__ == "__main__":
    sys.exit(main())
