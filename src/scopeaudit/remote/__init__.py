"""Logs pulled from where they live: S3 objects (``s3://``) and CloudWatch Logs
(``cloudwatch://``), through boto3 (the optional extra ``scopeaudit[s3]``).

This module imports nothing heavy: it only recognises the URLs and hands each one to its
backend. Credentials come from the provider's standard chain (environment, profile, container
or instance role), never from the command line, a URL or the configuration file; the URLs
themselves hold none, so they are shown as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, cast

from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings
    from scopeaudit.remote.window import PullWindow

SUPPORTED = ("s3", "cloudwatch")
# Recognised so that they fail in one line instead of reading as a local path.
NOT_YET = ("gs", "gcs", "az", "abfs", "abfss")


def scheme_of(value: str) -> str | None:
    head, sep, _ = value.partition("://")
    if not sep or not head.isascii() or not head.isalnum():
        return None
    scheme = head.lower()
    return scheme if scheme in SUPPORTED or scheme in NOT_YET else None


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
    raise InputError(f"{scheme}:// inputs are not supported yet (s3:// and cloudwatch:// "
                     "are); copy the logs to a local folder or to S3 first", file=pattern)


def open_remote(path: str, http: HttpSettings | None) -> BinaryIO:
    """The raw bytes of one input as they are stored (an object) or as lines (log events)."""
    from scopeaudit.http.settings import HttpSettings

    settings = http or HttpSettings()
    if scheme_of(path) == "cloudwatch":
        from scopeaudit.remote.cloudwatch import open_log_group

        return cast("BinaryIO", open_log_group(path, settings))
    from scopeaudit.remote.s3 import open_object

    return cast("BinaryIO", open_object(path, settings))  # raw streams: read() is enough
