"""S3 as an object store (remote.store): ListObjectsV2 pages, HEAD, ranged GETs sent with
``If-Match`` and the ETag the object had when reading began."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scopeaudit.errors import InputError
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote import store
from scopeaudit.remote.aws import call, client, failure_of
from scopeaudit.remote.retry import Failure

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

WORDS = store.Words(container="bucket", version="ETag",
                    list_right="s3:ListBucket on the bucket", read_right="s3:GetObject")


@dataclass(frozen=True)
class S3Url:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3(url: str) -> S3Url:
    """``s3://bucket/key``: the key is everything after the bucket, taken literally (a ``?``
    in it is a glob character, not a query). Credentials in the URL are refused."""
    rest = url.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if "@" in bucket:
        raise InputError("credentials in an s3:// URL are not accepted: they come from the "
                         "standard chain (environment, profile, instance role)",
                         file="s3://" + bucket.rsplit("@", 1)[1] + "/" + key)
    if not bucket:
        raise InputError("an s3:// URL needs a bucket: s3://BUCKET/KEY", file=url)
    return S3Url(bucket, key)


class S3Store:
    words = WORDS

    def __init__(self, bucket: str, settings: HttpSettings) -> None:
        self.container = bucket
        self._settings = settings
        self._s3 = client("s3", settings)

    def url(self, key: str) -> str:
        return S3Url(self.container, key).url

    def list_page(self, prefix: str, token: str | None
                  ) -> tuple[list[store.Listed], str | None]:
        request: dict[str, Any] = {"Bucket": self.container, "Prefix": prefix}
        if token is not None:
            request["ContinuationToken"] = token
        page: dict[str, Any] = call(lambda: self._s3.list_objects_v2(**request),
                                    self._settings)
        listed = [store.Listed(o["Key"], int(o.get("Size", 0)), o["LastModified"])
                  for o in page.get("Contents", [])]
        following = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        if page.get("IsTruncated") and not following:
            following = token  # truncated, but no way on: the listing does not end
        return listed, following

    def head(self, key: str) -> store.Version:
        head = call(lambda: self._s3.head_object(Bucket=self.container, Key=key),
                    self._settings)
        return store.Version(str(head.get("ETag", "")), int(head.get("ContentLength", 0)))

    def read_part(self, key: str, start: int, end: int, version: store.Version) -> Any:
        response = call(lambda: self._s3.get_object(
            Bucket=self.container, Key=key, Range=f"bytes={start}-{end - 1}",
            IfMatch=version.tag), self._settings)
        return response["Body"]

    def meaning(self, failure: Failure) -> store.Meaning:
        if failure.status == 412 or failure.code == "PreconditionFailed":
            return "changed"
        if failure.status == 404 or failure.code in ("NoSuchKey", "NoSuchBucket", "404"):
            return "missing"
        if failure.code in ("AccessDenied", "AllAccessDisabled") or failure.status == 403:
            return "denied"
        return None

    def stream_failure(self, exc: BaseException) -> Failure | None:
        return failure_of(exc)


def expand_s3(pattern: str, settings: HttpSettings, window: PullWindow | None) -> list[str]:
    """The object URLs a ``--logs s3://`` value stands for (remote.store.expand)."""
    where = parse_s3(pattern)
    return store.expand(S3Store(where.bucket, settings), where.key, window)


def open_object(url: str, settings: HttpSettings) -> io.RawIOBase:
    where = parse_s3(url)
    return store.open_object(S3Store(where.bucket, settings), where.key, settings)
