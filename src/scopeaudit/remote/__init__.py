"""Logs pulled from where they live: objects in S3 (``s3://``, boto3: the extra
``scopeaudit[s3]``), Google Cloud Storage (``gs://``, ``[gcs]``) and Azure Blob Storage
(``az://``, ``abfs[s]://``, ``[azure]``), and CloudWatch Logs (``cloudwatch://``, ``[s3]``).

This module imports nothing heavy: it only recognises the URLs and hands each one to its
backend; the object stores share one implementation of globs, windows and version-pinned
reads (remote.store). Credentials come from the provider's standard chain (environment,
profile, instance role or managed identity), never from the command line, a URL or the
configuration file: a URL holding one is refused, and shown without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, cast

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings
    from scopeaudit.remote.window import PullWindow

SUPPORTED = ("s3", "cloudwatch", "gs", "gcs", "az", "abfs", "abfss")
_AZURE = ("az", "abfs", "abfss")


def scheme_of(value: str) -> str | None:
    head, sep, _ = value.partition("://")
    if not sep or not head.isascii() or not head.isalnum():
        return None
    scheme = head.lower()
    return scheme if scheme in SUPPORTED else None


def is_remote(value: str) -> bool:
    """An object-store or CloudWatch Logs URL (not an http(s) one: that is policy.is_url)."""
    return scheme_of(value) is not None


def expand_remote(pattern: str, http: HttpSettings | None,
                  window: PullWindow | None) -> list[str]:
    """The inputs one ``--logs`` URL stands for: the objects a glob matches (those the
    window shows cannot hold a record of it left out), or the log group with its window."""
    from scopeaudit.http.settings import HttpSettings

    scheme = scheme_of(pattern)
    settings = http or HttpSettings()
    if scheme == "s3":
        from scopeaudit.remote.s3 import expand_s3

        return expand_s3(pattern, settings, window)
    if scheme == "cloudwatch":
        from scopeaudit.remote.cloudwatch import expand_cloudwatch

        return [expand_cloudwatch(pattern, window)]
    if scheme in ("gs", "gcs"):
        from scopeaudit.remote.gcs import expand_gs

        return expand_gs(pattern, settings, window)
    from scopeaudit.remote.azure import expand_az

    return expand_az(pattern, settings, window)


def remote_label(path: str) -> str:
    """How a remote input is shown: as written, less a SAS query on an Azure URL (refused
    as an input, and never shown)."""
    if scheme_of(path) in _AZURE:
        from scopeaudit.remote.azure import without_query

        return without_query(path)
    return path


def open_remote(path: str, http: HttpSettings | None) -> BinaryIO:
    """The raw bytes of one input as they are stored (an object) or as lines (log events)."""
    from scopeaudit.http.settings import HttpSettings

    settings = http or HttpSettings()
    scheme = scheme_of(path)
    if scheme == "cloudwatch":
        from scopeaudit.remote.cloudwatch import open_log_group

        return cast("BinaryIO", open_log_group(path, settings))
    if scheme in ("gs", "gcs"):
        from scopeaudit.remote.gcs import open_gs

        return cast("BinaryIO", open_gs(path, settings))
    if scheme in _AZURE:
        from scopeaudit.remote.azure import open_az

        return cast("BinaryIO", open_az(path, settings))
    from scopeaudit.remote.s3 import open_object

    return cast("BinaryIO", open_object(path, settings))  # raw streams: read() is enough
