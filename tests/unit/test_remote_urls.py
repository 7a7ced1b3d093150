"""The object-store URLs: what each form names, and that nothing secret in one is shown."""

from __future__ import annotations

import pytest

from scopeaudit.errors import InputError
from scopeaudit.remote import is_remote, remote_label
from scopeaudit.remote.azure import AzUrl, parse_az
from scopeaudit.remote.gcs import GsUrl, parse_gs


@pytest.mark.parametrize(("url", "parsed", "account"), [
    ("az://logs/nginx/*.gz", AzUrl("az", "logs", None, "nginx/*.gz"), None),
    ("az://logs@mylogs.blob.core.windows.net/a/b.gz",
     AzUrl("az", "logs", "mylogs.blob.core.windows.net", "a/b.gz"), "mylogs"),
    ("abfss://logs@MyLogs.dfs.core.windows.net/a/*.gz",
     AzUrl("abfss", "logs", "MyLogs.dfs.core.windows.net", "a/*.gz"), "mylogs"),
    ("az://logs/a?.gz", AzUrl("az", "logs", None, "a?.gz"), None),  # '?' is a glob here
])
def test_azure_url_forms(url: str, parsed: AzUrl, account: str | None) -> None:
    assert parse_az(url) == parsed
    assert parsed.account == account
    assert parsed.url == url


@pytest.mark.parametrize(("url", "shown"), [
    ("az://logs/a/*.gz?sv=2024-11-04&sp=rl&sig=abc%2Bdef", "az://logs/a/*.gz"),
    ("az://logs/a/b.gz?sig=abc", "az://logs/a/b.gz"),
    ("abfs://logs@acct.dfs.core.windows.net/a/b.gz?se=2027&sig=x",
     "abfs://logs@acct.dfs.core.windows.net/a/b.gz"),
])
def test_a_sas_is_refused_and_never_shown(url: str, shown: str) -> None:
    assert remote_label(url) == shown
    with pytest.raises(InputError) as raised:
        parse_az(url)
    assert raised.value.file == shown
    assert "sig" not in str(raised.value)


def test_credentials_before_an_account_are_refused_and_not_shown() -> None:
    with pytest.raises(InputError) as raised:
        parse_az("az://reader:hunter2-secret@logs/a/*.gz")
    assert "hunter2" not in str(raised.value) and "hunter2" not in str(raised.value.file)
    assert raised.value.file == "az://logs/a/*.gz"


def test_gs_url_forms() -> None:
    assert parse_gs("gs://logs/a/*.gz") == GsUrl("logs", "a/*.gz")
    assert parse_gs("gcs://logs/a/b.gz").url == "gs://logs/a/b.gz"
    with pytest.raises(InputError) as raised:
        parse_gs("gs://")
    assert "needs a bucket" in str(raised.value)


@pytest.mark.parametrize("value", ["s3://b/k", "gs://b/k", "GCS://b/k", "az://c/k",
                                   "abfs://c@a.dfs.core.windows.net/k", "abfss://c/k",
                                   "cloudwatch://g"])
def test_the_remote_schemes(value: str) -> None:
    assert is_remote(value)


@pytest.mark.parametrize("value", ["logs/a.gz", "https://h/x", "ftp://h/x", "C:/logs/x"])
def test_what_is_not_remote(value: str) -> None:
    assert not is_remote(value)
