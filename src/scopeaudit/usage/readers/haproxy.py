"""HAProxy's ``option httplog`` lines, with or without the syslog prefix.

The layout (HAProxy configuration manual, "8.2.3. HTTP log format"): ``client_ip:port
[accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes_read req_cookie res_cookie
termination_state actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue
{captured_request_headers} {captured_response_headers} "request"``. The accept date has
milliseconds and no zone (``06/Feb/2009:12:14:14.655``: HAProxy's local time, read in --tz);
syslog pads a one-digit day (``Feb  6``), which only the prefix holds, and the prefix is
passed over.

The stock layout has no key: the key identity is the first captured request header, so the
one addition is ``capture request header X-Api-Key-Id len 64`` (first among the captures).
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from functools import partial

from scopeaudit.usage.readers.nginx import LineLayout, PatternReader
from scopeaudit.usage.timeparse import parse_time

_HTTPLOG = re.compile(
    r"(?:.*?\[[0-9]+\]: +)?"  # syslog: "Feb  6 12:14:14 host haproxy[14389]: "
    r"(?P<ip>\S+):[0-9]+ "
    r"\[(?P<time>[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?)\] "
    r"\S+ \S+ \S+ (?P<status>-?[0-9]+) \S+ \S+ \S+ \S+ \S+ \S+"
    r"(?: \{(?P<key>[^|}]*)(?:\|[^}]*)?\})?(?: \{[^}]*\})? "
    r'"(?P<request>[^"]*)"')
_GROUPS = {name: index - 1 for name, index in _HTTPLOG.groupindex.items()}


def haproxy_reader(zone: tzinfo = UTC) -> PatternReader:
    """``zone``: HAProxy writes its local time without a zone (--tz; UTC by default)."""
    return PatternReader(LineLayout(
        regex=_HTTPLOG, time=_GROUPS["time"], status=_GROUPS["status"],
        request=_GROUPS["request"], keys=(_GROUPS["key"],), ip=_GROUPS["ip"],
        parse_time=parse_time if zone is UTC else partial(parse_time, zone=zone)), "haproxy")
