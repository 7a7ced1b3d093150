"""--logs s3://…: globs over keys, listing across pages, objects streamed in ranged parts
pinned to their ETag, throttling retried, clear errors, no credential anywhere.

Against moto's real S3 API on 127.0.0.1, behind a loopback proxy that adds the faults moto
cannot (network/awsproxy.py). Every expectation is worked out from what the test stored.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from network.awslocal import AwsLocal
from network.awsproxy import s3_error
from network.support import audit_logs as audit
from network.support import days, error_line, log_inputs, record


@pytest.mark.slow
def test_a_glob_lists_across_pages_and_reads_only_what_it_matches(cli, aws: AwsLocal,
                                                                  keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    # 1,100 keys the glob must pass over, sorted before the three it matches: ListObjectsV2
    # gives at most 1,000 keys a page, so the matches are only on the second page.
    for n in range(1100):
        aws.admin.put_object(Bucket="logs", Key=f"alb/2026/11/a-{n:04d}.txt", Body=b"x\n")
    bodies = {"alb/2026/11/b-1.jsonl": days(1, 9), "alb/2026/11/b-2.jsonl": days(10, 19),
              "alb/2026/11/b-3.jsonl": days(20, 27)}
    for key, body in bodies.items():
        aws.admin.put_object(Bucket="logs", Key=key, Body=body)
    aws.admin.put_object(Bucket="logs", Key="alb/2026/11/deeper/b-4.jsonl", Body=days(1, 2))
    aws.admin.put_object(Bucket="logs", Key="alb/2026/10/b-0.jsonl", Body=days(1, 2))
    result = audit(cli, keys, "s3://logs/alb/2026/11/*.jsonl")
    assert result.code == 0, result.err
    inputs = log_inputs(result)
    assert [i["path"] for i in inputs] == [f"s3://logs/{k}" for k in sorted(bodies)]
    assert [i["records"] for i in inputs] == [9, 10, 8]
    assert [i["sha256"] for i in inputs] == [hashlib.sha256(bodies[k]).hexdigest()
                                             for k in sorted(bodies)]
    # each object is a source of the glob it was pulled with
    assert {i["source"] for i in inputs} == {"s3://logs/alb/2026/11/*.jsonl"}
    listings = [s for s in aws.proxy.seen if s.is_listing]
    assert len(listings) == 2  # 1,104 keys under the prefix: two pages
    assert listings[0].query["prefix"] == ["alb/2026/11/"]  # the key up to its first '*'
    assert "continuation-token" in listings[1].query
    result.assert_clean(*aws.secrets)


def test_gzip_objects_are_read_by_content_and_hashed_as_stored(cli, aws: AwsLocal,
                                                               keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    named = gzip.compress(days(1, 10), mtime=0)
    unnamed = gzip.compress(days(11, 27), mtime=0)  # gzip without .gz in its name
    aws.admin.put_object(Bucket="logs", Key="nginx/a.jsonl.gz", Body=named)
    aws.admin.put_object(Bucket="logs", Key="nginx/b.jsonl", Body=unnamed)
    result = audit(cli, keys, "s3://logs/nginx/*")
    assert result.code == 0, result.err
    inputs = log_inputs(result)
    assert [(i["path"], i["records"], i["sha256"]) for i in inputs] == [
        ("s3://logs/nginx/a.jsonl.gz", 10, hashlib.sha256(named).hexdigest()),
        ("s3://logs/nginx/b.jsonl", 17, hashlib.sha256(unnamed).hexdigest())]
    result.assert_clean(*aws.secrets)


def test_a_plain_key_is_one_object_read_in_ranged_parts(cli, aws: AwsLocal, keys: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 27 records of 107 bytes: 2,889 bytes, three parts
    assert len(body) == 2889
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="one.jsonl", Body=body)
    result = audit(cli, keys, "s3://logs/one.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    gets = [s for s in aws.proxy.seen if s.method == "GET"]
    assert [g.headers["range"] for g in gets] == ["bytes=0-999", "bytes=1000-1999",
                                                  "bytes=2000-2888"]
    etag = aws.admin.head_object(Bucket="logs", Key="one.jsonl")["ETag"]
    assert {g.headers["if-match"] for g in gets} == {etag}
    result.assert_clean(*aws.secrets)


def test_throttling_is_retried_for_listing_and_reading(cli, aws: AwsLocal,
                                                       keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="x/a.jsonl", Body=days(1, 27))
    slow_down = s3_error(503, "SlowDown", "Please reduce your request rate.")
    aws.proxy.fault(lambda s: s.is_listing, slow_down)
    aws.proxy.fault(lambda s: s.method == "GET" and not s.is_listing, slow_down, times=2)
    result = audit(cli, keys, "s3://logs/x/*.jsonl")
    assert result.code == 0, result.err
    assert log_inputs(result)[0]["records"] == 27
    assert [f.hits for f in aws.proxy.faults] == [1, 2]
    assert len([s for s in aws.proxy.seen if s.is_listing]) == 2  # a 503, then the page
    assert len([s for s in aws.proxy.seen if s.method == "GET" and not s.is_listing]) == 3
    result.assert_clean(*aws.secrets)


def test_throttling_past_the_retries_is_one_error_line(cli, aws: AwsLocal,
                                                       keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="x/a.jsonl", Body=days(1, 27))
    aws.proxy.fault(lambda s: s.is_listing,
                    s3_error(503, "SlowDown", "Please reduce your request rate."), times=99)
    result = audit(cli, keys, "s3://logs/x/*.jsonl", extra=("--http-retries", "2"))
    assert error_line(result) == (
        "scopeaudit: error: s3://logs/x/*.jsonl: cannot list the bucket: SlowDown (HTTP 503): "
        "Please reduce your request rate. (gave up after 3 tries)")
    assert len([s for s in aws.proxy.seen if s.is_listing]) == 3
    result.assert_clean(*aws.secrets)


def test_a_missing_bucket(cli, aws: AwsLocal, keys: Path) -> None:
    result = audit(cli, keys, "s3://no-such-bucket/logs/*.gz")
    assert error_line(result) == ("scopeaudit: error: s3://no-such-bucket/logs/*.gz: "
                                  "no such bucket: 'no-such-bucket'")
    result.assert_clean(*aws.secrets)


def test_a_denied_listing(cli, aws: AwsLocal, keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    aws.proxy.fault(lambda s: s.is_listing, s3_error(403, "AccessDenied", "Access Denied"),
                    times=99)
    result = audit(cli, keys, "s3://logs/alb/*.gz")
    assert error_line(result) == (
        "scopeaudit: error: s3://logs/alb/*.gz: access denied listing s3://logs/alb/ (the "
        "credentials need s3:ListBucket on the bucket): AccessDenied (HTTP 403): Access Denied")
    assert len([s for s in aws.proxy.seen if s.is_listing]) == 1  # a denial is not retried
    result.assert_clean(*aws.secrets)


def test_a_missing_object_and_a_glob_matching_nothing(cli, aws: AwsLocal,
                                                      keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="x/a.txt", Body=b"x\n")
    result = audit(cli, keys, "s3://logs/x/b.jsonl")
    assert error_line(result) == ("scopeaudit: error: s3://logs/x/b.jsonl: no such object "
                                  "(or no such bucket)")
    result = audit(cli, keys, "s3://logs/x/*.jsonl")
    assert error_line(result) == ("scopeaudit: error: s3://logs/x/*.jsonl: the pattern "
                                  "matches no object")
    result = audit(cli, keys, "s3://logs/x/")
    assert error_line(result) == ("scopeaudit: error: s3://logs/x/: names a prefix, not an "
                                  "object; pass a glob such as s3://logs/x/*.gz")


def test_an_object_replaced_while_it_is_read(cli, aws: AwsLocal, keys: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="x/a.jsonl", Body=days(1, 27))
    etag = aws.admin.head_object(Bucket="logs", Key="x/a.jsonl")["ETag"]

    def replace() -> None:  # a writer rewrites the object between the first and second part
        aws.admin.put_object(Bucket="logs", Key="x/a.jsonl", Body=days(1, 28))

    aws.proxy.fault(lambda s: s.headers.get("range") == "bytes=1000-1999", action=replace)
    result = audit(cli, keys, "s3://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: s3://logs/x/a.jsonl: the object changed while it was being read "
        f"(its ETag is no longer {etag}); nothing from it is analysed: run again once it is "
        "written")
    result.assert_clean(*aws.secrets)


def test_credentials_in_the_url_are_refused_and_never_shown(cli, aws: AwsLocal,
                                                            keys: Path) -> None:
    url = f"s3://{aws.access_key}:{aws.secret_key}@logs/x/*.jsonl"
    result = audit(cli, keys, url)
    assert error_line(result) == (
        "scopeaudit: error: s3://logs/x/*.jsonl: credentials in an s3:// URL are not "
        "accepted: they come from the standard chain (environment, profile, instance role)")
    assert aws.proxy.seen == []
    result.assert_clean(*aws.secrets)


def test_no_credentials_in_the_chain(cli, aws: AwsLocal, keys: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    result = audit(cli, keys, "s3://logs/x/*.jsonl")
    assert error_line(result).startswith("scopeaudit: error: no AWS credentials found in the "
                                         "standard chain")
    assert aws.proxy.seen == []


def test_without_the_extra_one_line_names_it(cli, aws: AwsLocal, keys: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    result = audit(cli, keys, "s3://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: s3:// and cloudwatch:// inputs need the scopeaudit[s3] extra: "
        "pip install 'scopeaudit[s3]'")


def test_since_and_until_leave_out_objects_dated_outside_the_window(cli, aws: AwsLocal,
                                                                    keys: Path) -> None:
    aws.admin.create_bucket(Bucket="logs")
    prefix = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11"
    for day in (1, 10, 11, 20, 28, 29):
        aws.admin.put_object(Bucket="logs", Key=f"{prefix}/{day:02d}/part.jsonl",
                             Body=record(day))
    aws.admin.put_object(Bucket="logs", Key=f"{prefix}/undated.jsonl", Body=record(2))
    result = audit(cli, keys, f"s3://logs/{prefix}/**", extra=(
        "--since", "2026-11-20", "--until", "2026-11-27"))
    assert result.code == 0, result.err
    # the window is 20 to 27 November (8 days); the pull window adds 8 days before it (from
    # the 12th), and an object's key date may be a day off its records: the 11th to the 28th
    assert [i["path"] for i in log_inputs(result)] == [
        f"s3://logs/{prefix}/{day}/part.jsonl" for day in ("11", "20", "28")] + [
        f"s3://logs/{prefix}/undated.jsonl"]
    result.assert_clean(*aws.secrets)


def test_a_connection_dropped_mid_part_resumes_where_it_stopped(
        cli, aws: AwsLocal, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 2,889 bytes: three parts
    aws.admin.create_bucket(Bucket="logs")
    aws.admin.put_object(Bucket="logs", Key="x/a.jsonl", Body=body)
    aws.proxy.fault(lambda s: s.headers.get("range") == "bytes=0-999", cut=400)
    result = audit(cli, keys, "s3://logs/x/a.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    gets = [s for s in aws.proxy.seen if s.method == "GET"]
    # the first part's body stops after 400 bytes: the next part starts at byte 400
    assert [g.headers["range"] for g in gets] == ["bytes=0-999", "bytes=400-1399",
                                                  "bytes=1400-2399", "bytes=2400-2888"]
    result.assert_clean(*aws.secrets)
