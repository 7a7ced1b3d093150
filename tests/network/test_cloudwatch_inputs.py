"""--logs cloudwatch://LOG_GROUP[?stream=PREFIX]: FilterLogEvents page by page, throttling
retried, each event's message one line in the --log-format given.

Against moto's real CloudWatch Logs API on 127.0.0.1, behind the fault proxy
(network/awsproxy.py). Expectations are worked out from the events the test stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from network.awslocal import AwsLocal
from network.awsproxy import json_error
from network.support import Result

GROUP = "/aws/apigateway/insp-prod"
# CloudWatch Logs refuses events more than 14 days old: the events are dated from 12 days
# ago (day 0) to yesterday (day 11), and the audit is as of today.
TODAY = datetime.now(UTC).date()
BASE = TODAY - timedelta(days=12)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def millis(d: date) -> int:
    return int(datetime.combine(d, time.min, UTC).timestamp() * 1000)


def event(n: int) -> dict:
    """An API Gateway access-log event (the docs' JSON form) of key_bi at 10:00 on day n."""
    when = datetime.combine(day(n), time(10), UTC)
    message = json.dumps({"requestTime": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                          "httpMethod": "GET", "path": "/v1/issues", "status": "200",
                          "apiKeyId": "key_bi", "requestId": f"r{n}"})
    return {"timestamp": int(when.timestamp() * 1000), "message": message + "\n"}


@pytest.fixture
def group(aws: AwsLocal) -> AwsLocal:
    """Two streams: 'prod-a' with one event a day on days 0 to 7, 'other' on days 8 to
    11: twelve events."""
    aws.logs_admin.create_log_group(logGroupName=GROUP)
    for stream, first, last in (("prod-a", 0, 7), ("other", 8, 11)):
        aws.logs_admin.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        aws.logs_admin.put_log_events(logGroupName=GROUP, logStreamName=stream,
                                      logEvents=[event(d) for d in range(first, last + 1)])
    return aws


def audit(cli, keys: Path, logs: str, *extra: str) -> Result:  # type: ignore[no-untyped-def]
    return cli("audit", "--no-config", "--keys", str(keys), "--logs", logs,
               "--log-format", "apigw", "--as-of", TODAY.isoformat(), "--jobs", "1",
               "--format", "json", "--no-timestamp", "--fail-on", "never",
               "--http-backoff", "0.01", *extra)


def filter_calls(aws: AwsLocal) -> list[dict]:
    return [json.loads(s.body) for s in aws.proxy.seen if s.target_action == "FilterLogEvents"]


def test_events_are_read_page_by_page_through_a_throttle(cli, group: AwsLocal, keys: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from scopeaudit.remote import cloudwatch

    monkeypatch.setattr(cloudwatch, "PAGE_LIMIT", 3)  # 12 events: four pages (moto ends
    # the fourth with no token, as its events run out)
    group.proxy.fault(lambda s: s.target_action == "FilterLogEvents" and b"nextToken" in s.body,
                      json_error(400, "ThrottlingException", "Rate exceeded"))
    result = audit(cli, keys, f"cloudwatch://{GROUP}")
    assert result.code == 0, result.err
    inputs = [i for i in json.loads(result.out)["inputs"] if i["kind"] == "logs"]
    # no --since: open at the start; records after the day after --as-of would be set apart
    assert [(i["path"], i["records"]) for i in inputs] == [
        (f"cloudwatch://{GROUP}?end={TODAY + timedelta(days=1)}", 12)]
    assert inputs[0]["source"] == f"cloudwatch://{GROUP}"
    calls = filter_calls(group)
    assert len(calls) == 5  # four pages, the second asked for twice
    assert calls[1] == calls[2] and "nextToken" in calls[1]
    assert group.proxy.faults[0].hits == 1
    # the input is the events' messages, one a line, in the order the API gave them
    messages = [e["message"] for e in group.logs_admin.filter_log_events(
        logGroupName=GROUP)["events"]]
    assert inputs[0]["sha256"] == hashlib.sha256("".join(messages).encode()).hexdigest()
    result.assert_clean(*group.secrets)


def test_a_stream_prefix_and_the_window(cli, group: AwsLocal, keys: Path) -> None:
    result = audit(cli, keys, f"cloudwatch://{GROUP}?stream=prod-", "--since",
                   day(3).isoformat(), "--until", day(9).isoformat())
    assert result.code == 0, result.err
    inputs = [i for i in json.loads(result.out)["inputs"] if i["kind"] == "logs"]
    # the days read are in the input's URL, so the report says what was read: the window
    # (days 3 to 9) and as long again before it (days -4 to 2), whose use caps removals
    assert [i["path"] for i in inputs] == [
        f"cloudwatch://{GROUP}?stream=prod-&start={day(-4)}&end={day(9)}"]
    assert inputs[0]["source"] == f"cloudwatch://{GROUP}?stream=prod-"
    # prod-a's days 0 to 7, and 'other''s days 8 and 9: moto 5 ignores FilterLogEvents'
    # logStreamNamePrefix (AWS applies it), so only the request is checked for it, below
    assert inputs[0]["records"] == 10
    (call,) = filter_calls(group)
    assert call["logStreamNamePrefix"] == "prod-"
    assert call["startTime"] == millis(day(-4))
    assert call["endTime"] == millis(day(10)) - 1


def test_a_missing_log_group_and_a_denied_read(cli, aws: AwsLocal, keys: Path) -> None:
    shown = f"cloudwatch:///aws/none?end={TODAY + timedelta(days=1)}"
    result = audit(cli, keys, "cloudwatch:///aws/none")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == (f"scopeaudit: error: {shown}: no such log group: "
                                  "'/aws/none' (The specified log group does not exist.)")
    aws.proxy.fault(lambda s: s.target_action == "FilterLogEvents",
                    json_error(400, "AccessDeniedException", "not authorized"))
    result = audit(cli, keys, "cloudwatch:///aws/none")
    assert result.err.strip() == (
        f"scopeaudit: error: {shown}: access denied reading the log group (the "
        "credentials need logs:FilterLogEvents): AccessDeniedException (HTTP 400): not "
        "authorized")
    result.assert_clean(*aws.secrets)


def test_a_log_group_needs_a_log_format(cli, group: AwsLocal, keys: Path) -> None:
    result = cli("audit", "--no-config", "--keys", str(keys), "--logs",
                 f"cloudwatch://{GROUP}", "--as-of", TODAY.isoformat(), "--jobs", "1")
    assert result.code == 2
    assert "cannot tell the log format from the file name; pass --log-format" in result.err
    # the README's form beside other inputs: a format for the cloudwatch:// inputs only
    result = cli("audit", "--no-config", "--keys", str(keys), "--logs",
                 f"cloudwatch://{GROUP}", "--log-format", "cloudwatch://*=apigw",
                 "--as-of", TODAY.isoformat(), "--jobs", "1", "--format", "json",
                 "--fail-on", "never")
    assert result.code == 0, result.err
    assert [i["records"] for i in json.loads(result.out)["inputs"] if i["kind"] == "logs"] \
        == [12]
