#!/usr/bin/env python3
"""Write access.log for the nginx-combined-nokey ground-truth scenario (deterministic).

The stock nginx `combined` format, $remote_user always "-" (no Basic auth), no key anywhere:
  $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
Window 2026-09-01..2026-11-29 (90 days). Every day, three integrations (one per key in keys.yaml,
but nothing in the log says which):
  192.0.2.15    tracker-sync/4.2:   GET /v1/issues?page=1,2 (200), PATCH /v1/issues/<id> (200)
  198.51.100.40 people-sync/2.0:    GET /v1/users?page=1 (200)
  203.0.113.5   sensor-gateway/2.4: POST /v1/sensor-readings (201) x3
Run: python3 make.py
"""
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90


def clf(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def main():
    rng = random.Random(88)
    lines = []

    def add(t, ip, method, target, status, ua):
        size = 0 if status == 204 else 200 + rng.randrange(4000)
        lines.append((t, f'{ip} - - [{clf(*t)}] "{method} {target} HTTP/1.1" {status} {size} "-" "{ua}"'))

    for n in range(DAYS):
        d = START + timedelta(days=n)
        add((d, 3, 0, 1), "192.0.2.15", "GET", "/v1/issues?page=1", 200, "tracker-sync/4.2")
        add((d, 3, 0, 2), "192.0.2.15", "GET", "/v1/issues?page=2", 200, "tracker-sync/4.2")
        add((d, 3, 1, 0), "192.0.2.15", "PATCH", f"/v1/issues/{5000 + n}", 200, "tracker-sync/4.2")
        add((d, 4, 0, 0), "198.51.100.40", "GET", "/v1/users?page=1", 200, "people-sync/2.0")
        for j in range(3):
            add((d, 5, 0, j * 20), "203.0.113.5", "POST", "/v1/sensor-readings", 201,
                "sensor-gateway/2.4")
    lines.sort(key=lambda x: x[0])
    out = Path(__file__).with_name("access.log")
    out.write_text("".join(line + "\n" for _, line in lines))
    print(f"wrote {len(lines)} lines to {out.name}")


if __name__ == "__main__":
    main()
