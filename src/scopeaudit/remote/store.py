"""Object stores as log inputs, whatever the provider: globs over keys (the listing read
page by page), objects read in ranged parts pinned to one version.

A provider (S3, GCS, Azure Blob) is a :class:`Store`: a page of a listing, an object's
version and size, a ranged read pinned to that version, and what a failure means. The glob,
the pull window, the part-by-part reading and the messages are here, once.

An object is read in parts (``PART_SIZE`` bytes, each its own ranged request pinned to the
version (ETag, generation) the object had when reading began): a connection lost half-way
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
from typing import TYPE_CHECKING, Any, Literal, Protocol

from scopeaudit.errors import InputError
from scopeaudit.http.retry import backoff_wait, jitter
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote.retry import Failure, RemoteError, gave_up

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

PART_SIZE = 64 << 20
_MAGIC = re.compile(r"[*?[]")
Meaning = Literal["missing", "denied", "changed"] | None


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class Version:
    """What one read of an object is pinned to: its ETag or generation, and its size."""

    tag: str
    size: int


@dataclass(frozen=True)
class Words:
    """How a provider names its things in messages."""

    container: str  # "bucket", "container"
    version: str  # "ETag", "generation"
    list_right: str  # the permission a listing needs
    read_right: str  # the permission a read needs


class Store(Protocol):
    """One bucket (container) of one provider. Every call raises RemoteError on a failure
    (already retried where retrying made sense)."""

    words: Words
    container: str

    def url(self, key: str) -> str:
        """The object's URL as inputs are named: no credentials, no query."""

    def list_page(self, prefix: str, token: str | None) -> tuple[list[Listed], str | None]:
        """The objects of one page of the listing under ``prefix``, and the next page's
        token (None: the last page)."""

    def head(self, key: str) -> Version: ...

    def read_part(self, key: str, start: int, end: int, version: Version) -> Any:
        """A stream (``read(n)``, ``close()``) of bytes ``start`` to ``end`` (exclusive) of
        the object, refused (a "changed" failure) unless it still is ``version``."""

    def meaning(self, failure: Failure) -> Meaning:
        """Whether a failure says "no such bucket/object", "access denied" or "the object
        is not that version any more"."""

    def stream_failure(self, exc: BaseException) -> Failure | None:
        """The failure of an exception raised while a part's stream is read; None for one
        that is not the provider's."""


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


def has_magic(key: str) -> bool:
    return _MAGIC.search(key) is not None


def expand(store: Store, key: str, window: PullWindow | None) -> list[str]:
    """The object URLs a ``--logs`` value naming ``key`` in ``store`` stands for, in key
    order. A glob lists the bucket from the literal part of the key before the first glob
    character, page by page; a plain key must be an object."""
    shown = store.url(key)
    magic = _MAGIC.search(key)
    if magic is None:
        if not key or key.endswith("/"):
            raise InputError("names a prefix, not an object; pass a glob such as "
                             f"{store.url(key + '*.gz')}", file=shown)
        _head(store, key)
        return [shown]
    prefix = key[:magic.start()]
    matcher = translate(key)
    listed = [o for o in _list(store, prefix, shown)
              if matcher.fullmatch(o.key) and not o.key.endswith("/")]
    if not listed:
        raise InputError("the pattern matches no object", file=shown)
    kept = [o for o in listed
            if window is None or window.may_hold(o.key, o.last_modified)]
    if not kept:
        assert window is not None
        raise InputError(f"the pattern matches {len(listed)} object(s), none of which can "
                         f"hold a record of the window ({window.describe()})", file=shown)
    return [store.url(o.key) for o in sorted(kept, key=lambda o: o.key)]


def _list(store: Store, prefix: str, shown: str) -> list[Listed]:
    found: list[Listed] = []
    token: str | None = None
    while True:
        try:
            page, following = store.list_page(prefix, token)
        except RemoteError as exc:
            raise InputError(_listing_error(store, exc, prefix), file=shown) from None
        found += page
        if following is None:
            return found
        if following == token:
            raise InputError(f"the {store.words.container} listing does not end (the same "
                             "page again)", file=shown)
        token = following


def _listing_error(store: Store, exc: RemoteError, prefix: str) -> str:
    words = store.words
    meaning = store.meaning(exc.failure)
    if meaning == "missing":
        return f"no such {words.container}: {store.container!r}"
    if meaning == "denied":
        return (f"access denied listing {store.url(prefix)} (the credentials need "
                f"{words.list_right}): {exc.failure.text()}")
    return f"cannot list the {words.container}: {gave_up(exc)}"


def _head(store: Store, key: str) -> Version:
    """The object's version; an InputError naming what is wrong."""
    try:
        return store.head(key)
    except RemoteError as exc:
        meaning = store.meaning(exc.failure)
        if meaning == "missing":
            raise InputError(f"no such object (or no such {store.words.container})",
                             file=store.url(key)) from None
        if meaning == "denied":
            raise InputError("access denied reading the object (the credentials need "
                             f"{store.words.read_right})", file=store.url(key)) from None
        raise InputError(f"cannot read the object: {gave_up(exc)}",
                         file=store.url(key)) from None


def open_object(store: Store, key: str, settings: HttpSettings) -> io.RawIOBase:
    return ObjectReader(store, key, _head(store, key), settings)


class ObjectReader(io.RawIOBase):
    """One object's bytes, part by part, every part pinned to the version read first."""

    def __init__(self, store: Store, key: str, version: Version, settings: HttpSettings,
                 part_size: int | None = None) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._version = version
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
        size = self._version.size
        while self._pos < size:
            if self._body is None:
                self._body = self._open_part()
            try:
                data = self._body.read(min(len(buffer), self._part_end - self._pos))
            except Exception as exc:
                failure = self._store.stream_failure(exc)
                if failure is None:
                    raise
                self._resume(failure.text())
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
        store, key = self._store, self._key
        end = min(self._pos + self._part, self._version.size)
        try:
            body = store.read_part(key, self._pos, end, self._version)
        except RemoteError as exc:
            meaning = store.meaning(exc.failure)
            if meaning == "missing":
                # a read pinned to a version that is gone may say "not found": whether the
                # object was replaced or deleted, a look at it now tells
                meaning = "changed" if self._exists(key) else None
                if meaning is None:
                    raise InputError("the object was deleted while it was being read",
                                     file=store.url(key)) from None
            if meaning == "changed":
                raise InputError(
                    f"the object changed while it was being read (its "
                    f"{store.words.version} is no longer {self._version.tag}); nothing "
                    "from it is analysed: run again once it is written",
                    file=store.url(key)) from None
            raise InputError(f"cannot read the object: {gave_up(exc)}",
                             file=store.url(key)) from None
        self._part_end = end
        return body

    def _exists(self, key: str) -> bool:
        try:
            self._store.head(key)
        except RemoteError:
            return False
        return True

    def _resume(self, why: str) -> None:
        """A part's body failed: the next read asks again from where it stopped."""
        self._close_body()
        self._failures += 1
        if self._failures > self._settings.retries:
            raise InputError(f"reading failed at byte {self._pos} of {self._version.size}: "
                             f"{why} (gave up after {self._failures} tries)",
                             file=self._store.url(self._key))
        time.sleep(backoff_wait(self._failures, self._settings)
                   + jitter(self._settings, self._rng))

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()

