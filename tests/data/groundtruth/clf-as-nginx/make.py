#!/usr/bin/env python3
"""Write gateway-clf.log for the clf-as-nginx ground-truth scenario (deterministic).

AWS API Gateway's console "CLF" access-log template (REST API), one line per request:
  $context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime]
  "$context.httpMethod $context.resourcePath $context.protocol" $context.status
  $context.responseLength $context.requestId
(awsdocs/amazon-api-gateway-developer-guide, doc_source/set-up-logging.md). caller and user are
"-" (no IAM auth). After the status and length comes a bare request id, where nginx combined
has "$http_referer" "$http_user_agent": no line is a combined line.
30 days 2026-09-01..2026-09-30, two requests a day.
Run: python3 make.py
"""
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 30


def clf(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def main():
    rng = random.Random(99)
    lines = []
    for n in range(DAYS):
        d = START + timedelta(days=n)
        for h, method, resource, status in ((6, "GET", "/v1/issues", 200),
                                             (7, "GET", "/v1/issues/{id}", 200)):
            rid = uuid.UUID(int=rng.getrandbits(128), version=4)
            length = 100 + rng.randrange(3000)
            lines.append(f'198.51.100.23 - - [{clf(d, h, 0, 0)}] "{method} {resource} HTTP/1.1" '
                         f'{status} {length} {rid}')
    out = Path(__file__).with_name("gateway-clf.log")
    out.write_text("".join(line + "\n" for line in lines))
    print(f"wrote {len(lines)} lines to {out.name}")


if __name__ == "__main__":
    main()
