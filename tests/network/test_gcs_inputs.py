"""--logs gs://…: globs over keys, listing across pages, objects read in ranged parts pinned
to their generation, throttling retried, clear errors, no credential anywhere.

Against a real GCS JSON API on 127.0.0.1 (fake-gcs-server, network/gcslocal.py), behind the
loopback proxy that adds the faults the server cannot. Every expectation is worked out from
what the test stored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from network.awsproxy import Seen
from network.gcslocal import GcsLocal
from network.support import audit_logs as audit
from network.support import days, error_line, log_inputs, record


def gcs_error(status: int, reason: str, message: str
              ) -> tuple[int, bytes, tuple[tuple[str, str]]]:
    """An error as the JSON API sends it."""
    body = json.dumps({"error": {"code": status, "message": message,
                                 "errors": [{"reason": reason, "message": message}]}})
    return status, body.encode(), (("Content-Type", "application/json"),)


def is_listing(seen: Seen) -> bool:
    return seen.method == "GET" and seen.path.endswith("/o")


def is_media(seen: Seen) -> bool:
    return seen.method == "GET" and seen.query.get("alt") == ["media"]


def test_a_glob_lists_across_pages_and_reads_only_what_it_matches(cli, gcs: GcsLocal,
                                                                  keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    # 1,100 keys the glob passes over, sorted before the three it matches: a listing page
    # holds at most 1,000 objects, so the matches are only on the second page.
    for n in range(1100):
        gcs.admin.put("logs", f"lb/2026/11/a-{n:04d}.txt", b"x\n")
    bodies = {"lb/2026/11/b-1.jsonl": days(1, 9), "lb/2026/11/b-2.jsonl": days(10, 19),
              "lb/2026/11/b-3.jsonl": days(20, 27)}
    for key, body in bodies.items():
        gcs.admin.put("logs", key, body)
    gcs.admin.put("logs", "lb/2026/11/deeper/b-4.jsonl", days(1, 2))
    gcs.admin.put("logs", "lb/2026/10/b-0.jsonl", days(1, 2))
    result = audit(cli, keys, "gs://logs/lb/2026/11/*.jsonl")
    assert result.code == 0, result.err
    inputs = log_inputs(result)
    assert [i["path"] for i in inputs] == [f"gs://logs/{k}" for k in sorted(bodies)]
    assert [i["records"] for i in inputs] == [9, 10, 8]
    assert [i["sha256"] for i in inputs] == [hashlib.sha256(bodies[k]).hexdigest()
                                             for k in sorted(bodies)]
    assert {i["source"] for i in inputs} == {"gs://logs/lb/2026/11/*.jsonl"}
    listings = [s for s in gcs.proxy.seen if is_listing(s)]
    assert len(listings) == 2  # 1,104 objects under the prefix: two pages
    assert listings[0].query["prefix"] == ["lb/2026/11/"]  # the key up to its first '*'
    assert "pageToken" not in listings[0].query and "pageToken" in listings[1].query


def test_gzip_objects_are_read_by_content_and_hashed_as_stored(cli, gcs: GcsLocal,
                                                               keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    named = gzip.compress(days(1, 10), mtime=0)
    unnamed = gzip.compress(days(11, 27), mtime=0)  # gzip without .gz in its name
    gcs.admin.put("logs", "nginx/a.jsonl.gz", named)
    gcs.admin.put("logs", "nginx/b.jsonl", unnamed)
    result = audit(cli, keys, "gcs://logs/nginx/*")  # gcs:// is gs://
    assert result.code == 0, result.err
    assert [(i["path"], i["records"], i["sha256"]) for i in log_inputs(result)] == [
        ("gs://logs/nginx/a.jsonl.gz", 10, hashlib.sha256(named).hexdigest()),
        ("gs://logs/nginx/b.jsonl", 17, hashlib.sha256(unnamed).hexdigest())]


def test_a_plain_key_is_one_object_read_in_parts_pinned_to_its_generation(
        cli, gcs: GcsLocal, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 27 records of 107 bytes: 2,889 bytes, three parts
    assert len(body) == 2889
    gcs.admin.create_bucket("logs")
    generation = gcs.admin.put("logs", "one.jsonl", body)
    result = audit(cli, keys, "gs://logs/one.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    gets = [s for s in gcs.proxy.seen if is_media(s)]
    assert [g.headers["range"] for g in gets] == ["bytes=0-999", "bytes=1000-1999",
                                                  "bytes=2000-2888"]
    assert {(g.query["generation"][0], g.query["ifGenerationMatch"][0]) for g in gets} == {
        (generation, generation)}


def test_throttling_is_retried_for_listing_and_reading(cli, gcs: GcsLocal,
                                                       keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    gcs.admin.put("logs", "x/a.jsonl", days(1, 27))
    gcs.proxy.fault(is_listing, gcs_error(429, "rateLimitExceeded", "Rate limit exceeded"))
    gcs.proxy.fault(is_media, gcs_error(503, "backendError", "Backend Error"), times=2)
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert result.code == 0, result.err
    assert log_inputs(result)[0]["records"] == 27
    assert [f.hits for f in gcs.proxy.faults] == [1, 2]
    assert len([s for s in gcs.proxy.seen if is_listing(s)]) == 2  # a 429, then the page
    assert len([s for s in gcs.proxy.seen if is_media(s)]) == 3


def test_throttling_past_the_retries_is_one_error_line(cli, gcs: GcsLocal,
                                                       keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    gcs.proxy.fault(is_listing, gcs_error(429, "rateLimitExceeded", "Rate limit exceeded"),
                    times=99)
    result = audit(cli, keys, "gs://logs/x/*.jsonl", extra=("--http-retries", "2"))
    assert error_line(result) == (
        "scopeaudit: error: gs://logs/x/*.jsonl: cannot list the bucket: rateLimitExceeded "
        "(HTTP 429): Rate limit exceeded (gave up after 3 tries)")
    assert len([s for s in gcs.proxy.seen if is_listing(s)]) == 3


def test_a_missing_bucket_and_a_denied_listing(cli, gcs: GcsLocal, keys: Path) -> None:
    result = audit(cli, keys, "gs://no-such-bucket/logs/*.gz")
    assert error_line(result) == ("scopeaudit: error: gs://no-such-bucket/logs/*.gz: "
                                  "no such bucket: 'no-such-bucket'")
    gcs.admin.create_bucket("logs")
    denied = ("reader@example.iam.gserviceaccount.com does not have storage.objects.list "
              "access to the Google Cloud Storage bucket.")
    gcs.proxy.fault(is_listing, gcs_error(403, "forbidden", denied), times=99)
    result = audit(cli, keys, "gs://logs/lb/*.gz")
    assert error_line(result) == (
        "scopeaudit: error: gs://logs/lb/*.gz: access denied listing gs://logs/lb/ (the "
        f"credentials need storage.objects.list on the bucket): forbidden (HTTP 403): {denied}")
    assert len([s for s in gcs.proxy.seen if is_listing(s)]) == 2  # a denial: no retry


def test_a_missing_object_and_a_glob_matching_nothing(cli, gcs: GcsLocal,
                                                      keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    gcs.admin.put("logs", "x/a.txt", b"x\n")
    result = audit(cli, keys, "gs://logs/x/b.jsonl")
    assert error_line(result) == ("scopeaudit: error: gs://logs/x/b.jsonl: no such object "
                                  "(or no such bucket)")
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert error_line(result) == ("scopeaudit: error: gs://logs/x/*.jsonl: the pattern "
                                  "matches no object")


def test_an_object_replaced_while_it_is_read(cli, gcs: GcsLocal, keys: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    gcs.admin.create_bucket("logs")
    generation = gcs.admin.put("logs", "x/a.jsonl", days(1, 27))

    def replace() -> None:  # a writer rewrites the object between the first and second part
        gcs.admin.put("logs", "x/a.jsonl", days(1, 28))

    gcs.proxy.fault(lambda s: s.headers.get("range") == "bytes=1000-1999", action=replace)
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert gcs.admin.generation("logs", "x/a.jsonl") != generation
    assert error_line(result) == (
        "scopeaudit: error: gs://logs/x/a.jsonl: the object changed while it was being read "
        f"(its generation is no longer {generation}); nothing from it is analysed: run again "
        "once it is written")


def test_credentials_in_the_url_are_refused_and_never_shown(cli, gcs: GcsLocal,
                                                            keys: Path) -> None:
    result = audit(cli, keys, "gs://reader:hunter2-secret@logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: gs://logs/x/*.jsonl: credentials in a gs:// URL are not "
        "accepted: they come from the standard chain (GOOGLE_APPLICATION_CREDENTIALS, "
        "gcloud, the metadata server)")
    assert gcs.proxy.seen == []
    result.assert_clean("hunter2-secret")


def test_no_credentials_in_the_chain(cli, gcs: GcsLocal, keys: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from google.auth.compute_engine import _metadata

    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud login in it
    # NO_GCE_CHECK=True, as google-auth reads it when first imported: no metadata server
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: no Google Cloud credentials found in the standard chain "
        "(GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, the "
        "metadata server of GCE, GKE or Cloud Run)")
    missing = tmp_path / "no-such-key.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: cannot use the credentials GOOGLE_APPLICATION_CREDENTIALS "
        f"names: File {missing} was not found.")
    assert gcs.proxy.seen == []


def test_without_the_extra_one_line_names_it(cli, gcs: GcsLocal, keys: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "google.auth", None)  # importing it raises ImportError
    result = audit(cli, keys, "gs://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: gs:// inputs need the scopeaudit[gcs] extra: pip install "
        "'scopeaudit[gcs]'")


def test_since_and_until_leave_out_objects_dated_outside_the_window(cli, gcs: GcsLocal,
                                                                    keys: Path) -> None:
    gcs.admin.create_bucket("logs")
    for day in (1, 10, 11, 20, 28, 29):
        gcs.admin.put("logs", f"logpush/dt=2026-11-{day:02d}/part.jsonl", record(day))
    gcs.admin.put("logs", "logpush/undated.jsonl", record(2))
    result = audit(cli, keys, "gs://logs/logpush/**", extra=(
        "--since", "2026-11-20", "--until", "2026-11-27"))
    assert result.code == 0, result.err
    # the pull window (as for S3): the 12th to the 27th, a day's slack either side
    assert [i["path"] for i in log_inputs(result)] == [
        f"gs://logs/logpush/dt=2026-11-{day}/part.jsonl" for day in ("11", "20", "28")] + [
        "gs://logs/logpush/undated.jsonl"]


def test_a_connection_dropped_mid_part_resumes_where_it_stopped(
        cli, gcs: GcsLocal, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 2,889 bytes: three parts
    gcs.admin.create_bucket("logs")
    gcs.admin.put("logs", "x/a.jsonl", body)
    gcs.proxy.fault(lambda s: s.headers.get("range") == "bytes=0-999", cut=400)
    result = audit(cli, keys, "gs://logs/x/a.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    # the first part's body stops after 400 bytes: the next part starts at byte 400
    assert [g.headers["range"] for g in gcs.proxy.seen if is_media(g)] == [
        "bytes=0-999", "bytes=400-1399", "bytes=1400-2399", "bytes=2400-2888"]
