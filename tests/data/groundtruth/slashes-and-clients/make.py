#!/usr/bin/env python3
"""Write logs.jsonl for the slashes-and-clients ground-truth scenario (deterministic).

Window 2026-09-01..2026-11-29 (90 days). One user agent per key.
key_tracker, every day, all from the one address 198.51.100.7 written three ways:
    GET //v1/issues?page=1   200  ip "::ffff:198.51.100.7"   (IPv4-mapped IPv6)
    GET /v1//issues?page=2   200  ip "198.51.100.7:41234"    (with a port)
    GET //v1//issues/<id>    200  ip "198.51.100.7"
key_sites, every day, three distinct clients in turn (day n: client n % 3), GET /v1/sites (200):
    "192.0.2.10", "198.51.100.20:41234", "[2001:db8::1]:443"
key_people, every day, two distinct clients each written two ways (day n: form n % 4),
    GET /v1/users (200): "198.51.100.20:41234", "198.51.100.20", "[2001:db8::1]:443", "2001:db8::1"
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90
SITES_IPS = ["192.0.2.10", "198.51.100.20:41234", "[2001:db8::1]:443"]
PEOPLE_IPS = ["198.51.100.20:41234", "198.51.100.20", "[2001:db8::1]:443", "2001:db8::1"]


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rows = []

    def add(t, key, ua, ip, method, path, status):
        rows.append({"ts": t, "key_id": key, "method": method, "path": path, "status": status,
                     "user_agent": ua, "ip": ip})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        tr = ("key_tracker", "tracker-sync/4.2")
        add(ts(d, 7, 0, 0), *tr, "::ffff:198.51.100.7", "GET", "//v1/issues?page=1", 200)
        add(ts(d, 7, 0, 1), *tr, "198.51.100.7:41234", "GET", "/v1//issues?page=2", 200)
        add(ts(d, 7, 0, 2), *tr, "198.51.100.7", "GET", f"//v1//issues/{5000 + n}", 200)
        add(ts(d, 8, 0, 0), "key_sites", "site-directory/1.0", SITES_IPS[n % 3], "GET",
            "/v1/sites", 200)
        add(ts(d, 9, 0, 0), "key_people", "people-directory/2.2", PEOPLE_IPS[n % 4], "GET",
            "/v1/users", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
