"""The canonical request record: what every log reader yields and the aggregator consumes.

This is the seam between reading and analysing. A reader turns its format into ``Record``s;
one aggregator (:mod:`scopeaudit.usage.aggregate`) consumes them; nothing after the aggregate
ever sees a record. A record never holds a token: a reader that meets one passes it to
:func:`scopeaudit.usage.identity.token_identity` at once and keeps only the fingerprint.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.usage.identity import KeyResolver


class Record(NamedTuple):
    time: float  # seconds since the epoch, UTC
    key: str | None  # the logged key identity: id, name, prefix, last4 or "sha256:<hex>"
    method: str
    target: str  # raw request target; any token in its query already replaced
    status: int
    user_agent: str | None
    ip: str | None
    hits: int  # requests this record stands for: > 1 for pre-aggregated rows (`count`)
    line: int  # 1-based line (or row) in its input
    token: bool  # the record carried a raw token (fingerprinted, never kept): SA301


@dataclass
class InputStats:
    """What one input held, filled in by its reader as it streams.

    A line that cannot become a record is counted here with its reason, never dropped
    silently; with ``strict`` the first one is fatal.
    """

    path: str
    strict: bool = False
    sha256: str = ""
    records: int = 0
    skipped: int = 0
    first_skipped: list[tuple[int, str]] = field(default_factory=list)
    bytes_read: int = 0
    # every reason with its count (bounded: past MAX_REASONS distinct ones, "other reasons")
    reasons: dict[str, int] = field(default_factory=dict)
    # the canonical fields the first structured record skipped for a missing one lacked
    missing_fields: tuple[str, ...] = ()
    # set once read (scopeaudit.usage.inputcheck): the source the input belongs to, and
    # whether its format has a key field (None: only its records can tell)
    source: str | None = None
    key_field: bool | None = None
    # and the format it was read as, and the zone of its times written without one (--tz)
    log_format: str | None = None
    time_zone: str | None = None

    MAX_SHOWN = 10
    MAX_REASONS = 50
    OTHER_REASONS = "other reasons"

    def skip(self, line: int, reason: str) -> None:
        if self.strict:
            raise InputError(f"malformed record: {reason} (--strict)", file=self.path, line=line)
        self.skipped += 1
        if len(self.first_skipped) < self.MAX_SHOWN:
            self.first_skipped.append((line, reason))
        self.count_reason(reason, 1)

    def count_reason(self, reason: str, count: int) -> None:
        reasons = self.reasons
        if reason not in reasons and len(reasons) >= self.MAX_REASONS:
            reason = self.OTHER_REASONS
        reasons[reason] = reasons.get(reason, 0) + count

    def merge(self, other: InputStats) -> None:
        """Add the stats of a later part of the same input (a parallel work unit)."""
        self.records += other.records
        self.skipped += other.skipped
        self.first_skipped = (self.first_skipped + other.first_skipped)[:self.MAX_SHOWN]
        self.bytes_read += other.bytes_read
        for reason, count in other.reasons.items():
            self.count_reason(reason, count)
        self.missing_fields = self.missing_fields or other.missing_fields

    def top_reasons(self) -> list[tuple[str, int]]:
        """Every reason with its count, most frequent first (then by name)."""
        return sorted(self.reasons.items(), key=lambda rc: (-rc[1], rc[0]))


# Where a reader reports a token on a line that gave no record: (key label, line).
TokenSink = Callable[[str, int], None]


@dataclass
class ReadContext:
    """Everything a reader needs besides its bytes, passed explicitly (no global state)."""

    stats: InputStats
    resolver: KeyResolver
    first_line: int = 1  # a work unit that starts inside a file numbers its lines from here
    # A record carries its own token flag; a line that gives none reports its token here
    # (the aggregator's note_token, as a record's would be), so that SA301 sees it.
    on_token: TokenSink = field(kw_only=True)

    def skip(self, line: int, reason: str, raw: bytes | None = None) -> None:
        """A line (or row, or batch item) that is no record: counted with its reason; a
        token in its raw bytes is reported all the same (see leaked)."""
        if raw is not None:
            self.leaked(line, raw)
        self.stats.skip(line, reason)

    def leaked(self, line: int, raw: bytes) -> None:
        """Report a token anywhere in the raw bytes of a line that gave no record (SA301: the
        secret leaked whatever the parse), by its fingerprint's label, never itself."""
        key = self.resolver.line_token(raw)
        if key is not None:
            self.on_token(key, line)


class LogReader(Protocol):
    """One log format: streams records out of one input's bytes."""

    name: str

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]: ...
