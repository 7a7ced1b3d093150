#!/usr/bin/env python3
"""Write 90 days of request logs for the example organisation (examples/keys.yaml).

Deterministic: the same seed gives the same bytes (gzip with a fixed mtime). Writes
``examples/logs/gateway-YYYY-MM.jsonl.gz`` (API gateway export, JSON Lines) and
``examples/logs/edge-nginx.log.gz`` (the mobile back end's edge proxy, a custom nginx
log_format, see NGINX_FORMAT). The logs hold the problems a real audit meets:

* key_platform_admin: never used (an unused key with every write scope);
* key_bi_export: a daily export plus a monthly job; never writes, though it may;
* key_sensor_gw: heavy ingest, occasional 429s and 503s; never reads readings;
* key_ticket_sync: every 15 minutes; one record carries its raw token (Bearer …);
* key_mobile_backend: one key shared by an iOS app, an Android app and an admin's curl;
  one request passes its token in the query string;
* key_field_app: weekdays only, and a 403 storm on 2026-10-14..16 (a bad release);
* key_scheduler: a weekly job (Mondays) calling a work-order path the catalog lacks;
* key_dashboard: expired on 2026-09-01 and still polling: 401s from then on;
* key_zapier: subscriptions created on two days only;
* key_inspections: created 2026-11-05, mid-window;
* key_hr_sync: a well-scoped nightly job;
* key_contractor_2024: a key seen only in the logs;
* 2026-10-03: a log-shipping outage, no records at all.

Run: ``python examples/generate.py [--out DIR] [--seed N]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START = date(2026, 8, 29)
DAYS = 90
OUTAGE = date(2026, 10, 3)
NGINX_FORMAT = ('$remote_addr $http_x_key_id [$time_local] "$request" $status '
                '$body_bytes_sent "$http_user_agent"')
Event = tuple[datetime, str, str, str, int, str, str]  # time, key, method, target, status, ua, ip


def fake_token(rng: random.Random, tail: str = "") -> str:
    """A made-up token of the real shape, built at run time (never a literal in the repo)."""
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    return "sk_" + "live_" + body[: len(body) - len(tail)] + tail


def days() -> Iterator[date]:
    for n in range(DAYS):
        d = START + timedelta(days=n)
        if d != OUTAGE:
            yield d


def at(d: date, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, second, ms * 1000, tzinfo=UTC)


def gateway_events(rng: random.Random, ticket_token: str) -> Iterator[Event]:
    sgw_ua, sgw_ip = "northwind-sgw/2.4.1", "198.51.100.20"
    for d in days():
        # Sensor gateway: a reading every 30 seconds, an asset lookup every hour.
        for i in range(2880):
            status = 201
            if i % 997 == 0:
                status = 429
            elif i % 1499 == 0:
                status = 503
            yield (at(d, i // 120, (i // 2) % 60, (i % 2) * 30, rng.randrange(1000)),
                   "key_sensor_gw", "POST", "/v1/sensor-readings", status, sgw_ua, sgw_ip)
        for h in range(24):
            yield (at(d, h, 0, 5), "key_sensor_gw", "GET",
                   f"/v1/assets/{1000 + rng.randrange(400)}", 200, sgw_ua, sgw_ip)

        # BI export, logged by its token prefix: a nightly export, and a monthly runs job.
        bi = ("sk_" + "live_bi01", "Looker/24.18 (export)", "192.0.2.15")
        for page in range(1, 51):
            yield at(d, 3, 0, page), bi[0], "GET", f"/v1/issues?page={page}&limit=100", 200, *bi[1:]
        for page in range(1, 21):
            yield at(d, 3, 2, page), bi[0], "GET", f"/v1/works?page={page}", 200, *bi[1:]
        for page in range(1, 6):
            yield at(d, 3, 3, page), bi[0], "GET", f"/v1/sites?page={page}", 200, *bi[1:]
        for page in range(1, 11):
            yield at(d, 3, 4, page), bi[0], "GET", f"/v1/assets/?page={page}", 200, *bi[1:]
        if d.day == 1:
            for page in range(1, 31):
                yield at(d, 4, 0, page), bi[0], "GET", f"/v1/runs?page={page}", 200, *bi[1:]

        # Ticketing sync, logged by last4: every 15 minutes.
        ts = ("9xQe", "jira-sync/3.4 (+northwind)", "203.0.113.40")
        for slot in range(96):
            base = at(d, slot // 4, (slot % 4) * 15)
            yield (base, ts[0], "GET", f"/v1/issues?updated_since={base:%Y-%m-%dT%H:%M}Z", 200,
                   *ts[1:])
            for j in range(rng.randrange(4)):
                issue = 5000 + rng.randrange(3000)
                t = base + timedelta(seconds=10 + j)
                yield t, ts[0], "PATCH", f"/v1/issues/{issue}", 200, *ts[1:]
                yield t, ts[0], "POST", "/v1/logs", 201, *ts[1:]
                yield t, ts[0], "GET", f"/v1/users/{200 + rng.randrange(60)}", 200, *ts[1:]
        if d == date(2026, 10, 20):
            # The sync's debug logging once wrote the whole Authorization header.
            yield (at(d, 11, 7, 42), "Bearer " + ticket_token, "GET", "/v1/issues/5123", 200,
                   *ts[1:])

        # Field-service app: weekdays, business hours.
        fa = ("key_field_app", "NorthwindField-Tech/7.0", "198.51.100.77")
        if d.weekday() < 5:
            for n in range(40):
                t = at(d, 7 + n // 4, (n % 4) * 15, rng.randrange(60))
                work = 7000 + rng.randrange(900)
                yield t, fa[0], "GET", "/v1/works?assigned=me", 200, *fa[1:]
                yield t, fa[0], "GET", f"/v1/works/{work}", 200, *fa[1:]
                yield t, fa[0], "PATCH", f"/v1/works/{work}", 200, *fa[1:]
                yield t, fa[0], "GET", f"/v1/sites/{300 + rng.randrange(50)}", 200, *fa[1:]
                yield t, fa[0], "POST", "/v1/checkins", 201, *fa[1:]
                if n % 4 == 0:
                    run = 9000 + rng.randrange(500)
                    yield t, fa[0], "GET", f"/v1/templates/{40 + rng.randrange(8)}", 200, *fa[1:]
                    yield t, fa[0], "POST", "/v1/runs", 201, *fa[1:]
                    yield t, fa[0], "PATCH", f"/v1/runs/{run}", 200, *fa[1:]
                    yield t, fa[0], "GET", f"/v1/runs/{run}", 200, *fa[1:]
        if date(2026, 10, 14) <= d <= date(2026, 10, 16):
            for n in range(500):
                t = at(d, 9 + n // 60, n % 60, rng.randrange(60))
                yield t, fa[0], "PATCH", f"/v1/sites/{300 + rng.randrange(50)}", 403, *fa[1:]
                yield t, fa[0], "GET", f"/v1/assets/{1000 + rng.randrange(400)}", 403, *fa[1:]

        # Maintenance scheduler: Mondays only.
        sc = ("key_scheduler", "northwind-planner/1.9", "192.0.2.60")
        if d.weekday() == 0:
            yield at(d, 6), sc[0], "GET", "/v1/schedules/occurrences?week=current", 200, *sc[1:]
            yield at(d, 6, 1), sc[0], "GET", "/v1/calendar/occurrences?view=week", 200, *sc[1:]
            for n in range(20):
                occ = 60000 + rng.randrange(5000)
                yield (at(d, 6, 2, n), sc[0], "PATCH", f"/v1/schedules/occurrences/{occ}", 200,
                       *sc[1:])
            for n in range(10):
                work = 7000 + rng.randrange(900)
                yield (at(d, 6, 3, n), sc[0], "GET", f"/v1/work-orders/{work}/checklist", 200,
                       *sc[1:])

        # Ops dashboard: hourly; its key expired on 2026-09-01.
        db = ("key_dashboard", "Grafana/11.3 (insp.ac plugin)", "203.0.113.90")
        status = 200 if d < date(2026, 9, 1) else 401
        for h in range(24):
            yield at(d, h, 30), db[0], "GET", "/v1/issues?status=open", status, *db[1:]
            yield at(d, h, 30, 1), db[0], "GET", "/v1/works?status=open", status, *db[1:]
            yield at(d, h, 30, 2), db[0], "GET", "/v1/sites", status, *db[1:]

        # Integrations hub: catalog daily, webhook lookups, subscriptions on two days.
        zp = ("key_zapier", "Zapier/1.0 (insp.ac app)", "192.0.2.99")
        yield at(d, 0, 10), zp[0], "GET", "/v1/integrations/triggers", 200, *zp[1:]
        for n in range(10):
            yield (at(d, 8 + n, 5), zp[0], "GET", f"/v1/issues/{5000 + rng.randrange(3000)}",
                   200, *zp[1:])
        if d in (date(2026, 9, 15), date(2026, 11, 2)):
            yield at(d, 12), zp[0], "POST", "/v1/integrations/subscriptions", 201, *zp[1:]
        if d == date(2026, 11, 2):
            yield (at(d, 12, 1), zp[0], "DELETE", "/v1/integrations/subscriptions/sub_81",
                   204, *zp[1:])

        # Inspection runner: exists from 2026-11-05.
        ir = ("key_inspections", "northwind-inspect/0.9", "198.51.100.140")
        if d >= date(2026, 11, 5):
            for n in range(12):
                run = 9500 + rng.randrange(400)
                t = at(d, 8 + n // 2, (n % 2) * 30)
                yield t, ir[0], "GET", f"/v1/templates/{40 + rng.randrange(8)}", 200, *ir[1:]
                yield t, ir[0], "POST", "/v1/runs", 201, *ir[1:]
                yield t, ir[0], "PATCH", f"/v1/runs/{run}", 200, *ir[1:]
                yield t, ir[0], "GET", f"/v1/runs/{run}", 200, *ir[1:]

        # HR directory sync: nightly; new starters on Sundays.
        hr = ("key_hr_sync", "people-sync/2.0", "192.0.2.31")
        for page in range(1, 6):
            yield at(d, 2, 0, page), hr[0], "GET", f"/v1/users?page={page}", 200, *hr[1:]
        for n in range(3):
            yield (at(d, 2, 1, n), hr[0], "PATCH", f"/v1/users/{200 + rng.randrange(60)}", 200,
                   *hr[1:])
        if d.weekday() == 6:
            yield at(d, 2, 2), hr[0], "POST", "/v1/users", 201, *hr[1:]

        # A key nobody declared.
        ct = ("key_contractor_2024", "python-requests/2.31.0", "192.0.2.200")
        yield at(d, 22), ct[0], "GET", "/v1/sites", 200, *ct[1:]
        for n in range(5):
            yield (at(d, 22, 0, n + 1), ct[0], "GET", f"/v1/assets/{1000 + rng.randrange(400)}",
                   200, *ct[1:])


def edge_events(rng: random.Random, mobile_token: str) -> Iterator[Event]:
    """The mobile back end's edge proxy: one key, three different clients."""
    ios = ("NorthwindField-iOS/5.2.1 (iPhone; iOS 18.1)", "198.51.100.")
    android = ("okhttp/4.12.0", "203.0.113.")
    admin = ("curl/8.10.1", "192.0.2.")
    key = "key_mobile_backend"
    for d in days():
        for n in range(150):
            ua, net = ios if n % 2 else android
            ip = net + str(10 + rng.randrange(40))
            t = at(d, 6 + n // 12, (n % 12) * 5, rng.randrange(60))
            issue, work = 5000 + rng.randrange(3000), 7000 + rng.randrange(900)
            yield t, key, "GET", "/v1/issues?assignee=me&limit=50", 200, ua, ip
            yield t, key, "GET", f"/v1/issues/{issue}", 200 if n % 17 else 404, ua, ip
            yield t, key, "GET", "/v1/works?assigned=me", 200, ua, ip
            yield t, key, "GET", f"/v1/sites/{300 + rng.randrange(50)}", 200, ua, ip
            if n % 3 == 0:
                yield t, key, "PATCH", f"/v1/works/{work}", 200, ua, ip
                yield t, key, "POST", "/v1/checkins", 201, ua, ip
                yield t, key, "GET", f"/v1/users/{200 + rng.randrange(60)}", 200, ua, ip
            if n % 10 == 0:
                yield t, key, "OPTIONS", "/v1/media/uploads", 204, ua, ip
                yield t, key, "POST", "/v1/media/uploads", 201, ua, ip
                yield t, key, "POST", f"/v1/media/uploads/up_{issue}/complete", 200, ua, ip
                yield t, key, "POST", "/v1/issues", 201, ua, ip
                yield t, key, "PATCH", f"/v1/issues/{issue}", 200, ua, ip
        if d.weekday() == 2:  # an admin checks something by hand on Wednesdays
            ip = admin[1] + "5"
            yield at(d, 16), key, "GET", "/v1/issues?limit=1", 200, admin[0], ip
            yield at(d, 16, 0, 9), key, "HEAD", "/v1/works", 200, admin[0], ip
        if d == date(2026, 11, 12):
            # An old app build that passes the key in the query string.
            yield (at(d, 9, 41, 7), "-", "GET", f"/v1/issues?limit=50&api_key={mobile_token}",
                   200, android[0], android[1] + "23")


def write_jsonl(events: list[Event], out: Path) -> list[Path]:
    """One gzip JSON Lines file per month, records in time order."""
    by_month: dict[str, list[Event]] = {}
    for e in events:
        by_month.setdefault(f"{e[0]:%Y-%m}", []).append(e)
    written = []
    for month, items in sorted(by_month.items()):
        items.sort(key=lambda e: e[0])
        path = out / f"gateway-{month}.jsonl.gz"
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="") as gz:
            for n, (t, key, method, target, status, ua, ip) in enumerate(items):
                record = {"ts": t.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                          "key_id": key, "method": method, "path": target, "status": status,
                          "ua": ua, "ip": ip, "request_id": f"{month}-{n:07d}"}
                gz.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        written.append(path)
    return written


def write_nginx(events: list[Event], path: Path, rng: random.Random) -> Path:
    events.sort(key=lambda e: e[0])
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                filename="") as gz:
        for t, key, method, target, status, ua, ip in events:
            stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
            size = 0 if method in ("HEAD", "OPTIONS") else 200 + rng.randrange(5000)
            line = f'{ip} {key} [{stamp}] "{method} {target} HTTP/1.1" {status} {size} "{ua}"'
            gz.write(line.encode() + b"\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "logs"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tokens = random.Random(args.seed * 7)
    ticket_token = fake_token(tokens, tail="9xQe")
    mobile_token = fake_token(tokens)
    rng = random.Random(args.seed)
    gateway = list(gateway_events(rng, ticket_token))
    written = write_jsonl(gateway, out)
    edge = list(edge_events(rng, mobile_token))
    written.append(write_nginx(edge, out / "edge-nginx.log.gz", rng))
    print(f"wrote {len(gateway)} gateway records and {len(edge)} edge records:")
    for path in written:
        print(f"  {path}")


if __name__ == "__main__":
    main()
