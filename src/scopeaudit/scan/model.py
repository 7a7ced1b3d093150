"""What a scan finds: call sites in source code and the catalog operations they reach.

A call site is what the parser saw (the client, the method, the target with ``{}`` for what
the code computes at run time). A scanned call is that site matched to the catalog by the
audit's own router. Neither holds source text beyond the target it reconstructed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from scopeaudit.catalog.model import Operation
from scopeaudit.model import Finding, Location

SCAN_SCHEMA = "scopeaudit/scan/v1"
# Files larger than this are skipped (counted and reported), never parsed: generated or
# vendored bundles, not an integration's own code.
DEFAULT_MAX_FILE_BYTES = 1_000_000
# What an interpolated part of a path becomes: one ``{}`` segment, as route shapes write it.
PLACEHOLDER = "{}"


class CallStatus(Enum):
    MATCHED = "matched"  # method and path known, and an operation of the catalog matches
    UNMATCHED = "unmatched"  # method and path known; no operation of the catalog matches
    UNDETERMINED = "undetermined"  # the method or the path is computed at run time


@dataclass(frozen=True)
class CallSite:
    """One HTTP call the parser found.

    ``method`` and ``target`` are None when they cannot be read off the code; ``reason``
    then says what was missing. ``target`` is a path or absolute URL, base URL joined, with
    ``{}`` where the code interpolates a value. ``base_known`` is False when the call goes
    through a client whose base URL the scan could not read: the target is then taken as
    the path from the API's root.
    """

    location: Location
    language: str
    client: str
    method: str | None
    target: str | None
    reason: str = ""
    base_known: bool = True


@dataclass(frozen=True)
class ScannedCall:
    site: CallSite
    status: CallStatus
    path: str | None = None  # the normalised path the router saw
    operation: Operation | None = None

    @property
    def operation_label(self) -> str | None:
        return f"{self.operation.method} {self.operation.path}" if self.operation else None

    @property
    def scopes(self) -> frozenset[str]:
        return self.operation.scopes if self.operation is not None else frozenset()


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # "too large", "unreadable", "not UTF-8"…


@dataclass(frozen=True)
class ScanReport:
    """Everything one scan found, in file and line order."""

    calls: tuple[ScannedCall, ...]
    files_scanned: int
    skipped: tuple[SkippedFile, ...]
    catalog: str  # the catalog's name and version
    max_file_bytes: int

    findings: tuple[Finding, ...] = ()  # SA401 (with a key) and SA402, in location order
    keys: tuple[str, ...] = ()  # the keys the code was checked against
    files: tuple[str, ...] = ()  # the files parsed, as the scan shows their paths

    def needed(self) -> tuple[tuple[frozenset[str], ...], ...]:
        """The distinct requirements of matched calls, each a tuple of alternatives."""
        seen = {c.operation.requires for c in self.calls if c.operation is not None}
        return tuple(sorted(seen, key=lambda alts: [sorted(a) for a in alts]))

    def scopes_needed(self) -> tuple[str, ...]:
        """Scopes the code needs for certain: those of operations with one alternative."""
        return tuple(sorted({s for alts in self.needed() if len(alts) == 1 for s in alts[0]}))

    def count(self, status: CallStatus) -> int:
        return sum(1 for c in self.calls if c.status is status)


@dataclass(frozen=True)
class KeyCalls:
    """The scanned code of one key (``audit --code``): the files that are its code (its
    ``code:`` globs name them, or ``--code-key`` gives it every file) and their calls."""

    files: tuple[str, ...]
    calls: tuple[ScannedCall, ...]

    @property
    def unresolved(self) -> int:
        """Calls the scan could not map to an operation (SA402): they may need any scope."""
        return sum(1 for c in self.calls if c.operation is None)
