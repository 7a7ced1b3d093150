"""S3 objects as log inputs: globs over keys (paginated listing), objects read in ranged
parts pinned to one ETag.

An object is read in parts (``PART_SIZE`` bytes, each its own ranged GET sent with
``If-Match`` and the ETag the object had when reading began): a connection lost half-way
resumes where it stopped, and an object replaced while it is read fails the run (exit 2)
instead of being analysed as a mix of two versions or as a short input.
"""

from __future__ import annotations

import io
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from scopeaudit.errors import InputError
from scopeaudit.http.retry import backoff_wait, jitter
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote.aws import AwsError, call, client, failure_of, gave_up

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

PART_SIZE = 64 << 20
_MAGIC = re.compile(r"[*?[]")


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


def translate(pattern: str) -> re.Pattern[str]:
    """A key glob as a regular expression: ``*`` and ``?`` stay within one ``/``-separated
    part, ``**`` crosses them, ``[...]`` is a character class."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # a/**/b also matches a/b
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    last_modified: datetime


def expand_s3(pattern: str, settings: HttpSettings, window: PullWindow | None) -> list[str]:
    """The object URLs a ``--logs s3://`` value stands for, in key order. A glob lists the
    bucket from the literal part of the key before the first glob character, page by page;
    a plain key must be an object."""
    where = parse_s3(pattern)
    s3 = client("s3", settings)
    if not _MAGIC.search(where.key):
        if not where.key or where.key.endswith("/"):
            raise InputError("names a prefix, not an object; pass a glob such as "
                             f"s3://{where.bucket}/{where.key}*.gz", file=pattern)
        _head(s3, where, settings)
        return [where.url]
    prefix = where.key[:_MAGIC.search(where.key).start()]  # type: ignore[union-attr]
    matcher = translate(where.key)
    listed = [o for o in _list(s3, where.bucket, prefix, settings, pattern)
              if matcher.fullmatch(o.key) and not o.key.endswith("/")]
    if not listed:
        raise InputError("the pattern matches no object", file=pattern)
    kept = [o for o in listed
            if window is None or window.may_hold(o.key, o.last_modified)]
    if not kept:
        raise InputError(f"the pattern matches {len(listed)} object(s), none of which can "
                         f"hold a record of the window ({window.describe()})"  # type: ignore[union-attr]
                         , file=pattern)
    return [S3Url(where.bucket, o.key).url for o in sorted(kept, key=lambda o: o.key)]


def _list(s3: Any, bucket: str, prefix: str, settings: HttpSettings, shown: str
          ) -> list[Listed]:
    found: list[Listed] = []
    token: str | None = None
    while True:
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token is not None:
            request["ContinuationToken"] = token
        try:
            page: dict[str, Any] = call(partial(s3.list_objects_v2, **request), settings)
        except AwsError as exc:
            raise InputError(_listing_error(exc, bucket, prefix), file=shown) from None
        found += [Listed(o["Key"], int(o.get("Size", 0)), o["LastModified"])
                  for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return found
        following = page.get("NextContinuationToken")
        if not following or following == token:
            raise InputError("the bucket listing does not end (the same page again)",
                             file=shown)
        token = following


def _listing_error(exc: AwsError, bucket: str, prefix: str) -> str:
    failure = exc.failure
    if failure.code == "NoSuchBucket":
        return f"no such bucket: {bucket!r}"
    if failure.code in ("AccessDenied", "AllAccessDisabled") or failure.status == 403:
        return (f"access denied listing s3://{bucket}/{prefix} (the credentials need "
                f"s3:ListBucket on the bucket): {failure.text()}")
    return f"cannot list the bucket: {gave_up(exc)}"


def _head(s3: Any, where: S3Url, settings: HttpSettings) -> tuple[str, int]:
    """(ETag, size) of an object; an InputError naming what is wrong."""
    try:
        head = call(lambda: s3.head_object(Bucket=where.bucket, Key=where.key), settings)
    except AwsError as exc:
        failure = exc.failure
        if failure.status == 404 or failure.code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise InputError("no such object (or no such bucket)", file=where.url) from None
        if failure.status == 403:
            raise InputError("access denied reading the object (the credentials need "
                             "s3:GetObject)", file=where.url) from None
        raise InputError(f"cannot read the object: {gave_up(exc)}", file=where.url) from None
    return str(head.get("ETag", "")), int(head.get("ContentLength", 0))


def open_object(url: str, settings: HttpSettings) -> io.RawIOBase:
    where = parse_s3(url)
    s3 = client("s3", settings)
    etag, size = _head(s3, where, settings)
    return ObjectReader(s3, where, etag, size, settings)


class ObjectReader(io.RawIOBase):
    """One object's bytes, part by part, every part pinned to the ETag read first."""

    def __init__(self, s3: Any, where: S3Url, etag: str, size: int,
                 settings: HttpSettings, part_size: int | None = None) -> None:
        super().__init__()
        self._s3 = s3
        self._where = where
        self._etag = etag
        self._size = size
        self._settings = settings
        self._part = part_size or PART_SIZE
        self._pos = 0
        self._part_end = 0
        self._body: Any = None
        self._failures = 0  # consecutive failed reads of a body
        self._rng = random.Random()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        from botocore.exceptions import BotoCoreError

        while self._pos < self._size:
            if self._body is None:
                self._body = self._open_part()
            try:
                data = self._body.read(min(len(buffer), self._part_end - self._pos))
            except BotoCoreError as exc:
                self._resume(str(failure_of(exc).text()))  # type: ignore[union-attr]
                continue
            if not data:
                if self._pos < self._part_end:
                    self._resume("the connection closed before the part's end")
                    continue
                self._close_body()
                continue
            n = len(data)
            buffer[:n] = data
            self._pos += n
            self._failures = 0
            return n
        return 0

    def _open_part(self) -> Any:
        end = min(self._pos + self._part, self._size)
        where = self._where
        try:
            response = call(lambda: self._s3.get_object(
                Bucket=where.bucket, Key=where.key, Range=f"bytes={self._pos}-{end - 1}",
                IfMatch=self._etag), self._settings)
        except AwsError as exc:
            failure = exc.failure
            if failure.status == 412 or failure.code == "PreconditionFailed":
                raise InputError("the object changed while it was being read (its ETag is no "
                                 f"longer {self._etag}); nothing from it is analysed: run "
                                 "again once it is written", file=where.url) from None
            if failure.code == "NoSuchKey" or failure.status == 404:
                raise InputError("the object was deleted while it was being read",
                                 file=where.url) from None
            raise InputError(f"cannot read the object: {gave_up(exc)}",
                             file=where.url) from None
        self._part_end = end
        return response["Body"]

    def _resume(self, why: str) -> None:
        """A part's body failed: the next read asks again from where it stopped."""
        self._close_body()
        self._failures += 1
        if self._failures > self._settings.retries:
            raise InputError(f"reading failed at byte {self._pos} of {self._size}: {why} "
                             f"(gave up after {self._failures} tries)", file=self._where.url)
        time.sleep(backoff_wait(self._failures, self._settings)
                   + jitter(self._settings, self._rng))

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()
