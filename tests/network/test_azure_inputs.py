"""--logs az://… and abfs[s]://…: globs over blob names, listing across pages, blobs read
in ranged parts pinned to their ETag, throttling retried, clear errors, no credential (the
account key, a SAS) anywhere.

Against a real Azure Blob Storage API on 127.0.0.1 (Azurite, network/azurelocal.py), behind
the loopback proxy that adds the faults Azurite cannot. Every expectation is worked out from
what the test stored.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from network.awsproxy import Seen
from network.azurelocal import ACCOUNT, ACCOUNT_KEY, AzureLocal
from network.support import audit_logs as audit
from network.support import days, error_line, log_inputs, record


def azure_error(status: int, code: str, message: str
                ) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    """An error as Blob Storage sends it: an XML body, and its code in x-ms-error-code."""
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>'
            f"{message}\nRequestId:00000000-0000-0000-0000-000000000000\n"
            "Time:2026-11-27T10:00:00.0000000Z</Message></Error>").encode()
    return status, body, (("Content-Type", "application/xml"), ("x-ms-error-code", code))


def is_listing(seen: Seen) -> bool:
    return seen.method == "GET" and seen.query.get("comp") == ["list"]


def is_read(seen: Seen) -> bool:
    return seen.method == "GET" and "x-ms-range" in seen.headers


def put(azure: AzureLocal, container: str, name: str, body: bytes) -> str:
    """Stores a blob; its ETag."""
    client = azure.admin.get_blob_client(container, name)
    return str(client.upload_blob(body, overwrite=True)["etag"])


def test_a_glob_lists_across_pages_and_reads_only_what_it_matches(
        cli, azure: AzureLocal, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import azure as backend

    # Azure's pages hold up to 5,000 blobs; a page of 500 (the service's maxresults, sent)
    # makes the 1,104 blobs under the prefix three pages without storing 5,000 of them
    monkeypatch.setattr(backend, "PAGE_SIZE", 500)
    azure.admin.create_container("logs")
    for n in range(1100):
        put(azure, "logs", f"lb/2026/11/a-{n:04d}.txt", b"x\n")
    bodies = {"lb/2026/11/b-1.jsonl": days(1, 9), "lb/2026/11/b-2.jsonl": days(10, 19),
              "lb/2026/11/b-3.jsonl": days(20, 27)}
    for name, body in bodies.items():
        put(azure, "logs", name, body)
    put(azure, "logs", "lb/2026/11/deeper/b-4.jsonl", days(1, 2))
    put(azure, "logs", "lb/2026/10/b-0.jsonl", days(1, 2))
    result = audit(cli, keys, "az://logs/lb/2026/11/*.jsonl")
    assert result.code == 0, result.err
    inputs = log_inputs(result)
    assert [i["path"] for i in inputs] == [f"az://logs/{k}" for k in sorted(bodies)]
    assert [i["records"] for i in inputs] == [9, 10, 8]
    assert [i["sha256"] for i in inputs] == [hashlib.sha256(bodies[k]).hexdigest()
                                             for k in sorted(bodies)]
    assert {i["source"] for i in inputs} == {"az://logs/lb/2026/11/*.jsonl"}
    listings = [s for s in azure.proxy.seen if is_listing(s)]
    assert len(listings) == 3
    assert {s.query["prefix"][0] for s in listings} == {"lb/2026/11/"}
    assert "marker" not in listings[0].query
    assert all("marker" in s.query for s in listings[1:])
    result.assert_clean(ACCOUNT_KEY)


def test_gzip_blobs_and_the_account_named_in_the_url(cli, azure: AzureLocal,
                                                     keys: Path) -> None:
    azure.admin.create_container("logs")
    named = gzip.compress(days(1, 10), mtime=0)
    unnamed = gzip.compress(days(11, 27), mtime=0)  # gzip without .gz in its name
    put(azure, "logs", "nginx/a.jsonl.gz", named)
    put(azure, "logs", "nginx/b.jsonl", unnamed)
    host = f"{ACCOUNT}.dfs.core.windows.net"  # the connection string's account
    result = audit(cli, keys, f"abfss://logs@{host}/nginx/*")
    assert result.code == 0, result.err
    assert [(i["path"], i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (f"abfss://logs@{host}/nginx/a.jsonl.gz", 10, hashlib.sha256(named).hexdigest()),
        (f"abfss://logs@{host}/nginx/b.jsonl", 17, hashlib.sha256(unnamed).hexdigest())]
    result.assert_clean(ACCOUNT_KEY)


def test_a_plain_name_is_one_blob_read_in_parts_pinned_to_its_etag(
        cli, azure: AzureLocal, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 27 records of 107 bytes: 2,889 bytes, three parts
    assert len(body) == 2889
    azure.admin.create_container("logs")
    etag = put(azure, "logs", "one.jsonl", body)
    result = audit(cli, keys, "az://logs/one.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    reads = [s for s in azure.proxy.seen if is_read(s)]
    assert [r.headers["x-ms-range"] for r in reads] == ["bytes=0-999", "bytes=1000-1999",
                                                        "bytes=2000-2888"]
    assert {r.headers["if-match"] for r in reads} == {etag}
    result.assert_clean(ACCOUNT_KEY)


def test_throttling_is_retried_for_listing_and_reading(cli, azure: AzureLocal,
                                                       keys: Path) -> None:
    azure.admin.create_container("logs")
    put(azure, "logs", "x/a.jsonl", days(1, 27))
    busy = azure_error(503, "ServerBusy", "The server is busy.")
    azure.proxy.fault(is_listing, busy)
    azure.proxy.fault(is_read, busy, times=2)
    result = audit(cli, keys, "az://logs/x/*.jsonl")
    assert result.code == 0, result.err
    assert log_inputs(result)[0]["records"] == 27
    assert [f.hits for f in azure.proxy.faults] == [1, 2]
    assert len([s for s in azure.proxy.seen if is_listing(s)]) == 2
    assert len([s for s in azure.proxy.seen if is_read(s)]) == 3


def test_throttling_past_the_retries_is_one_error_line(cli, azure: AzureLocal,
                                                       keys: Path) -> None:
    azure.admin.create_container("logs")
    azure.proxy.fault(is_listing, azure_error(503, "ServerBusy", "The server is busy."),
                      times=99)
    result = audit(cli, keys, "az://logs/x/*.jsonl", extra=("--http-retries", "2"))
    assert error_line(result) == (
        "scopeaudit: error: az://logs/x/*.jsonl: cannot list the container: ServerBusy "
        "(HTTP 503): The server is busy. (gave up after 3 tries)")
    assert len([s for s in azure.proxy.seen if is_listing(s)]) == 3
    result.assert_clean(ACCOUNT_KEY)


def test_a_missing_container_and_a_denied_listing(cli, azure: AzureLocal,
                                                  keys: Path) -> None:
    result = audit(cli, keys, "az://no-such-container/logs/*.gz")
    assert error_line(result) == ("scopeaudit: error: az://no-such-container/logs/*.gz: "
                                  "no such container: 'no-such-container'")
    azure.admin.create_container("logs")
    denied = "This request is not authorized to perform this operation using this permission."
    azure.proxy.fault(is_listing, azure_error(403, "AuthorizationPermissionMismatch", denied),
                      times=99)
    result = audit(cli, keys, "az://logs/lb/*.gz")
    assert error_line(result) == (
        "scopeaudit: error: az://logs/lb/*.gz: access denied listing az://logs/lb/ (the "
        "credentials need the Storage Blob Data Reader role, or a SAS with list permission): "
        f"AuthorizationPermissionMismatch (HTTP 403): {denied}")
    assert len([s for s in azure.proxy.seen if is_listing(s)]) == 2  # a denial: no retry
    result.assert_clean(ACCOUNT_KEY)


def test_a_missing_blob_and_a_glob_matching_nothing(cli, azure: AzureLocal,
                                                    keys: Path) -> None:
    azure.admin.create_container("logs")
    put(azure, "logs", "x/a.txt", b"x\n")
    result = audit(cli, keys, "az://logs/x/b.jsonl")
    assert error_line(result) == ("scopeaudit: error: az://logs/x/b.jsonl: no such object "
                                  "(or no such container)")
    result = audit(cli, keys, "az://logs/x/*.jsonl")
    assert error_line(result) == ("scopeaudit: error: az://logs/x/*.jsonl: the pattern "
                                  "matches no object")


def test_a_blob_replaced_while_it_is_read(cli, azure: AzureLocal, keys: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    azure.admin.create_container("logs")
    etag = put(azure, "logs", "x/a.jsonl", days(1, 27))

    def replace() -> None:  # a writer rewrites the blob between the first and second part
        put(azure, "logs", "x/a.jsonl", days(1, 28))

    azure.proxy.fault(lambda s: s.headers.get("x-ms-range") == "bytes=1000-1999",
                      action=replace)
    result = audit(cli, keys, "az://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: az://logs/x/a.jsonl: the object changed while it was being read "
        f"(its ETag is no longer {etag}); nothing from it is analysed: run again once it is "
        "written")
    result.assert_clean(ACCOUNT_KEY)


def test_a_sas_in_the_url_is_refused_and_never_shown(cli, azure: AzureLocal,
                                                     keys: Path) -> None:
    signature = "k3Zq%2Bsecret%2Fsignature%3D"
    url = f"az://logs/x/*.jsonl?sv=2024-11-04&sp=rl&se=2027-01-01T00:00:00Z&sig={signature}"
    result = audit(cli, keys, url)
    assert error_line(result) == (
        "scopeaudit: error: az://logs/x/*.jsonl: a SAS in an az:// URL is not accepted: "
        "credentials come from the standard chain (AZURE_STORAGE_CONNECTION_STRING, "
        "AZURE_STORAGE_SAS_TOKEN, a managed identity, the Azure CLI's login)")
    assert azure.proxy.seen == []
    result.assert_clean(signature, "sv=2024-11-04")


def test_a_glob_question_mark_is_not_a_query(cli, azure: AzureLocal, keys: Path) -> None:
    azure.admin.create_container("logs")
    put(azure, "logs", "x/a1.jsonl", days(1, 3))
    put(azure, "logs", "x/a22.jsonl", days(4, 5))
    result = audit(cli, keys, "az://logs/x/a?.jsonl")
    assert result.code == 0, result.err
    assert [i["path"] for i in log_inputs(result)] == ["az://logs/x/a1.jsonl"]


def test_no_account_in_the_environment(cli, azure: AzureLocal, keys: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    result = audit(cli, keys, "az://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: az://logs/x/*.jsonl: an az:// URL without an account needs "
        "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT in the environment (or "
        "name the account: az://CONTAINER@ACCOUNT.blob.core.windows.net/KEY)")
    assert azure.proxy.seen == []


def test_without_the_extra_one_line_names_it(cli, azure: AzureLocal, keys: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "azure.storage.blob", None)  # import raises ImportError
    result = audit(cli, keys, "az://logs/x/*.jsonl")
    assert error_line(result) == (
        "scopeaudit: error: az:// and abfs:// inputs need the scopeaudit[azure] extra: pip "
        "install 'scopeaudit[azure]'")


def test_since_and_until_leave_out_blobs_dated_outside_the_window(cli, azure: AzureLocal,
                                                                  keys: Path) -> None:
    azure.admin.create_container("logs")
    for day in (1, 10, 11, 20, 28, 29):
        put(azure, "logs", f"logpush/2026/11/{day:02d}/part.jsonl", record(day))
    put(azure, "logs", "logpush/undated.jsonl", record(2))
    result = audit(cli, keys, "az://logs/logpush/**", extra=(
        "--since", "2026-11-20", "--until", "2026-11-27"))
    assert result.code == 0, result.err
    assert [i["path"] for i in log_inputs(result)] == [
        f"az://logs/logpush/2026/11/{day}/part.jsonl" for day in ("11", "20", "28")] + [
        "az://logs/logpush/undated.jsonl"]


def test_a_connection_dropped_mid_part_is_read_again(cli, azure: AzureLocal, keys: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeaudit.remote import store

    monkeypatch.setattr(store, "PART_SIZE", 1000)
    body = days(1, 27)  # 2,889 bytes: three parts
    azure.admin.create_container("logs")
    put(azure, "logs", "x/a.jsonl", body)
    azure.proxy.fault(lambda s: s.headers.get("x-ms-range") == "bytes=0-999", cut=400)
    result = audit(cli, keys, "az://logs/x/a.jsonl")
    assert result.code == 0, result.err
    assert [(i["records"], i["sha256"]) for i in log_inputs(result)] == [
        (27, hashlib.sha256(body).hexdigest())]
    # the SDK reads a part's body whole when it asks for it: the part is asked for again
    assert [r.headers["x-ms-range"] for r in azure.proxy.seen if is_read(r)] == [
        "bytes=0-999", "bytes=0-999", "bytes=1000-1999", "bytes=2000-2888"]
    result.assert_clean(ACCOUNT_KEY)


def test_data_lake_directories_are_not_read_as_blobs(cli, azure: AzureLocal,
                                                     keys: Path) -> None:
    azure.admin.create_container("logs")
    put(azure, "logs", "lb/2026/a.jsonl", days(1, 3))
    # how a Data Lake Gen2 account lists a directory through the Blob API
    azure.admin.get_blob_client("logs", "lb/2026").upload_blob(
        b"", metadata={"hdi_isfolder": "true"})
    result = audit(cli, keys, "az://logs/lb/**")
    assert result.code == 0, result.err
    assert [i["path"] for i in log_inputs(result)] == ["az://logs/lb/2026/a.jsonl"]
