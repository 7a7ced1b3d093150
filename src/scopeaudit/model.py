"""The values that flow through scopeaudit: frozen, typed, free of I/O.

Severity order, locations, key definitions and findings live here, once. Renderers and the
JSON contract read these values; nothing here knows about a file format.

Longer than 500 lines on purpose: it is the Audit value and every value inside it, which are
read together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

JsonValue = Any


class Severity(Enum):
    """Finding severity. The declaration order *is* the order: the one place that defines it."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @classmethod
    def descending(cls) -> list[Severity]:
        return sorted(cls, reverse=True)


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, order=True)
class Location:
    """Where something was defined or seen: a file and a 1-based line (row for CSV)."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ScopeGrant:
    """One scope entry in a key definition, with the line that grants it."""

    name: str
    location: Location


@dataclass(frozen=True)
class Key:
    """A key definition. It never holds a token: only matchers that cannot grant access."""

    id: str
    location: Location
    scope_grants: tuple[ScopeGrant, ...]
    name: str | None = None
    owner: str | None = None
    created: date | None = None
    expires: date | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    prefix: str | None = None
    last4: str | None = None
    sha256: str | None = None
    # globs of the source files that use this key (``code:``), for `scan` and `audit --code`
    code: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()  # scopes a fix never removes (pinned)
    revoke: bool = False  # marked for revocation (scopeaudit fix --revoke-unused)
    justification: str | None = None  # why new access is granted (lint --against)
    scope_justifications: tuple[tuple[str, str], ...] = ()  # (scope, why) for one scope

    @property
    def granted(self) -> tuple[str, ...]:
        """Distinct granted scope names, sorted."""
        return tuple(sorted({g.name for g in self.scope_grants}))

    def grant_location(self, scope: str) -> Location:
        """The line that grants ``scope`` (its first occurrence), else the key's own line."""
        for grant in self.scope_grants:
            if grant.name == scope:
                return grant.location
        return self.location

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Inventory:
    """All key definitions read from one source, in file order."""

    source: str
    keys: tuple[Key, ...]
    sha256: str
    # Tokens found anywhere in the source text, as (line, fingerprint, kind); never the token.
    leaked_tokens: tuple[tuple[int, str, str], ...] = ()


# Findings on what the logs could show (scopeaudit.quality): every report leads with them.
EVIDENCE_QUALITY_RULES = frozenset({"SA304", "SA306"})


@dataclass(frozen=True)
class Finding:
    """One rule's verdict. It cannot exist without a location (see ``location``)."""

    rule: str
    name: str
    severity: Severity
    message: str
    location: Location
    key: str | None = None
    scope: str | None = None
    confidence: str | None = None
    evidence: Mapping[str, JsonValue] | None = None
    # Tells apart findings of one rule on one key and scope (e.g. two different leaked
    # tokens). It must not contain a line number: identities survive edits.
    discriminator: str = ""
    # Set by the gate, never by rules. A suppressed or baselined finding is still reported,
    # marked, but never counts toward --fail-on.
    suppressed: bool = field(default=False, compare=False)
    suppression_reason: str | None = field(default=None, compare=False)
    baselined: bool = field(default=False, compare=False)

    @property
    def counts(self) -> bool:
        """Whether this finding counts toward --fail-on."""
        return not self.suppressed and not self.baselined

    @property
    def status(self) -> str:
        """How the gate marked it: "suppressed", "baselined", or "" when it counts."""
        return "suppressed" if self.suppressed else "baselined" if self.baselined else ""

    @property
    def fingerprint(self) -> str:
        identity = "|".join((self.rule, self.key or "", self.scope or "", self.discriminator))
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]

    def sort_key(self) -> tuple[int, int, str, str, str, str, int]:
        return (
            # what the logs could not show comes first: it qualifies every other verdict
            0 if self.rule in EVIDENCE_QUALITY_RULES else 1,
            -self.severity.rank,
            self.rule,
            self.key or "",
            self.scope or "",
            self.location.file,
            self.location.line,
        )


def sorted_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=Finding.sort_key))


def count_by_severity(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity.descending()}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule's metadata, declared beside the check that raises it (scopeaudit.rules.*).

    The documentation follows one template: what it does, why it matters, an example and
    the remediation. ``family`` groups the rules of one module (inventory, usage, ...).
    """

    id: str
    name: str
    severity: Severity
    family: str
    summary: str
    what: str
    why: str
    example: str
    remediation: str

    def explain(self) -> str:
        return (
            f"{self.id} {self.name} (default severity: {self.severity.value})\n\n"
            f"{self.summary}\n\n"
            f"What it does\n{self.what}\n\n"
            f"Why it matters\n{self.why}\n\n"
            f"Example\n{self.example}\n\n"
            f"Remediation\n{self.remediation}\n"
        )

    def finding(self, message: str, location: Location, *, key: str | None = None,
                scope: str | None = None, severity: Severity | None = None,
                discriminator: str = "", evidence: Mapping[str, JsonValue] | None = None
                ) -> Finding:
        """A finding of this rule: its id, name and default severity are never restated."""
        return Finding(rule=self.id, name=self.name, severity=severity or self.severity,
                       message=message, location=location, key=key, scope=scope,
                       discriminator=discriminator, evidence=evidence)


@dataclass(frozen=True)
class InputFile:
    """An input as the report states it: where it came from and what it held."""

    path: str
    kind: str  # "keys" | "logs" | "catalog"
    sha256: str
    records: int
    skipped: int = 0
    skipped_lines: tuple[int, ...] = ()
    # log inputs only: every skip reason with its count, most frequent first
    skip_reasons: tuple[tuple[str, int], ...] = ()
    source: str | None = None  # the source this log input belongs to (quality.Sources)
    # accepted requests in the window, and those of them no key can be attributed to
    accepted: int = 0
    unattributed: int = 0
    # whether the input's layout has a key field: False when its format cannot name a key,
    # None when only its records can tell (JSON, CSV)
    key_field: bool | None = None
    # log inputs only: the format it was read as (--log-format, or detected), and the zone
    # its times written without one were read in (--tz)
    log_format: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class CatalogInfo:
    name: str
    version: str
    source: str
    operations: int
    scopes: int
    provenance: Mapping[str, int]


@dataclass(frozen=True)
class Window:
    """The judged period, whole UTC days, both ends included."""

    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


@dataclass(frozen=True)
class Coverage:
    """Which days of the window the logs cover."""

    days_with_data: int
    days_in_window: int
    gaps: tuple[tuple[date, date], ...]
    by_input: Mapping[str, int]  # input path -> days of the window it has records for

    @property
    def ratio(self) -> float:
        return self.days_with_data / self.days_in_window if self.days_in_window else 0.0


@dataclass(frozen=True)
class ConfidencePolicy:
    """Thresholds for removal confidence; recorded in the Audit and stated in every basis,
    so a reader can judge them."""

    high_days: int = 60
    high_coverage: float = 0.9
    high_active_days: int = 14
    medium_days: int = 30
    medium_coverage: float = 0.75
    medium_active_days: int = 3


@dataclass(frozen=True)
class RemovalConfidence:
    level: str  # "high" | "medium" | "low"
    basis: str

    @property
    def deferred(self) -> bool:
        """Low confidence: the removal is deferred (SA108), not recommended yet."""
        return self.level == "low"


@dataclass(frozen=True)
class SourceUse:
    """A source that carried a key's traffic in the window."""

    source: str
    days: int  # days of the window with a record of the key from this source
    last_seen: str  # the last of them (YYYY-MM-DD)


@dataclass(frozen=True)
class PriorUse:
    """Accepted use of a key (or one of its scopes) in the inputs before the window."""

    last_used: str  # YYYY-MM-DD
    days_before: int  # days between that use and the window's first day
    # the longest interval between two consecutive days of use, in or before the window;
    # None with a single day of use
    interval_days: int | None


@dataclass(frozen=True)
class ClientSummary:
    client: str  # "user agent @ network"
    requests: int
    operations: tuple[tuple[str, int], ...]
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class ClientCount:
    """How many distinct clients a key had: ``listed`` exactly, or more than that when
    ``more`` (requests came from clients past the bound of a key's client list)."""

    listed: int
    more: bool = False

    @property
    def at_least(self) -> int:
        return self.listed + 1 if self.more else self.listed

    def __str__(self) -> str:
        return f"more than {self.listed}" if self.more else str(self.listed)


@dataclass(frozen=True)
class KeyCode:
    """What the key's scanned code says (``audit --code``): its files and API calls, and the
    call sites of each granted scope it needs (``sites``; the scopes the logs saw used too)."""

    files: int
    calls: int
    unresolved: int  # calls the scan could not map (SA402): they may need any scope
    sites: Mapping[str, tuple[Location, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeSummary:
    """The source code an audit read (``audit --code``) and how its calls were given to
    keys: the ``--code-key`` named (every call is that key's), or each key's ``code:`` globs."""

    paths: tuple[str, ...]  # as given to --code
    files: int  # source files parsed
    skipped: int  # files left out (too large, unreadable)
    calls: int  # API calls found
    unresolved: int  # of them, calls the scan could not map (SA402)
    code_key: str | None  # --code-key, or None: the keys' code: globs
    keys: tuple[str, ...]  # the keys some scanned file belongs to


# The states of a granted scope (KeyVerdict.states), decided by evidence.py: here, below
# every module that reads them.
USED, UNUSED, UNKNOWN, DENIED = "used", "unused", "unknown", "denied"
NEEDED_BY_CODE = "needed_by_code"


@dataclass(frozen=True)
class KeyVerdict:
    """What the evidence says of one defined key inside the window."""

    key_id: str
    # scope -> used | unused | unknown | denied, or needed_by_code (only with audit --code)
    states: Mapping[str, str]
    recommended: tuple[str, ...]
    remove: tuple[str, ...]
    undeclared: tuple[str, ...]  # used without being granted in the definition
    confidence: Mapping[str, RemovalConfidence]  # for each removal
    accepted: int
    denied: int
    unauthorized: int
    first_seen: str | None
    last_seen: str | None
    active_days: int
    clients: tuple[ClientSummary, ...]
    operations: tuple[tuple[str, int], ...]  # accepted requests per operation
    unmatched: tuple[tuple[str, int], ...]  # accepted requests per unmatched shape
    sources: tuple[SourceUse, ...] = ()  # the sources that carried its traffic in the window
    before_window: PriorUse | None = None  # the key's accepted use before the window
    # removed scopes used before the window (not in it): scope -> that use
    scopes_before_window: Mapping[str, PriorUse] = field(default_factory=dict)
    # distinct clients in the window, of which ``clients`` shows the busiest (None: as many
    # as it shows)
    client_count: ClientCount | None = None
    code: KeyCode | None = None  # audit --code, for a key some scanned file belongs to

    @property
    def clients_total(self) -> ClientCount:
        return self.client_count if self.client_count is not None \
            else ClientCount(len(self.clients))

    @property
    def deferred(self) -> tuple[str, ...]:
        """The removals whose confidence is low: deferred (SA108), not recommended yet."""
        return tuple(s for s in self.remove
                     if (c := self.confidence.get(s)) is not None and c.deferred)

    def removals_by_confidence(self) -> tuple[tuple[RemovalConfidence, tuple[str, ...]], ...]:
        """The removals grouped by confidence (level and basis), in the order of ``remove``.
        The evidence gives every removal a confidence; one without (a hand-made verdict)
        groups as "unknown"."""
        groups: dict[RemovalConfidence, list[str]] = {}
        for scope in self.remove:
            conf = self.confidence.get(scope) or RemovalConfidence("unknown",
                                                                   "no basis recorded")
            groups.setdefault(conf, []).append(scope)
        return tuple((conf, tuple(scopes)) for conf, scopes in groups.items())


@dataclass(frozen=True)
class Replay:
    """Every accepted in-window request checked against the recommended scopes."""

    requests: int
    would_be_denied: int
    unverifiable: int  # unmatched requests: no operation, so nothing to check against
    denied_shapes: tuple[tuple[str, str, int], ...]  # (key, operation, requests)


@dataclass(frozen=True)
class SourceSummary:
    """One source of the audit: its inputs and the days of the window they cover."""

    name: str
    inputs: int
    days: int
    declared: bool  # named by a [[source]] of the configuration


@dataclass(frozen=True)
class MissingSource:
    """A source that carried keys' traffic in an earlier run (--history) and has no input
    in this one."""

    name: str
    keys: tuple[str, ...]
    last_seen: str  # the last day of those keys' traffic an earlier run saw from it


@dataclass(frozen=True)
class EvidenceQuality:
    """What the logs could show: records read and skipped, the share of accepted requests
    attributed to a key, the sources and what is missing. ``limits`` says in plain words
    what keeps the evidence from supporting removals (empty: nothing does)."""

    records: int
    skipped: int
    accepted: int  # accepted requests in the window, attributed or not
    unattributed: int  # those of them no key can be attributed to
    max_unattributed: float  # the share past which an input's removals are all deferred
    sources: tuple[SourceSummary, ...]
    missing_sources: tuple[MissingSource, ...] = ()
    limits: tuple[str, ...] = ()
    supports_removals: bool = True  # False: no removal is above low confidence

    @property
    def attributed_share(self) -> float | None:
        return None if not self.accepted else 1 - self.unattributed / self.accepted


@dataclass(frozen=True)
class UsageSummary:
    records: int
    requests: int
    in_window: int
    outside_window: int
    unattributed: int
    preflight: int
    unknown_keys: int


@dataclass(frozen=True)
class DriftFinding:
    """A finding as the run history knows it: its identity and what it was about.

    ``first_seen`` is when the history first recorded this fingerprint (persisting and
    regressed findings; None for new and resolved ones). ``resolved_at`` is, for a regressed
    finding, the run in which it was last absent.
    """

    fingerprint: str
    rule: str
    key: str | None
    scope: str | None
    severity: str
    first_seen: str | None = None
    resolved_at: str | None = None


@dataclass(frozen=True)
class PreviousRun:
    id: int
    run_at: str
    tool_version: str


@dataclass(frozen=True)
class Drift:
    """What changed since the previous run recorded in the same history (``--history``).

    ``previous_run`` is None on a history's first run: then every finding is new and every
    key added. Over-privilege is the risk-weighted count of granted scopes the audit would
    take away (see :mod:`scopeaudit.drift`: a write scope weighs 3, a read scope 1).
    """

    previous_run: PreviousRun | None
    new: tuple[DriftFinding, ...]
    persisting: tuple[DriftFinding, ...]
    resolved: tuple[DriftFinding, ...]
    regressed: tuple[DriftFinding, ...]
    keys_added: tuple[str, ...]
    keys_removed: tuple[str, ...]
    scopes_granted: tuple[tuple[str, str], ...]  # (key, scope) granted since the previous run
    scopes_revoked: tuple[tuple[str, str], ...]  # (key, scope) no longer granted
    unused_scopes: int  # granted scopes the audit would take away, all keys
    over_privilege: int  # the organisation's weighted score
    over_privilege_by_key: Mapping[str, int]
    previous_unused_scopes: int | None = None
    previous_over_privilege: int | None = None

    def states(self) -> dict[str, str]:
        """fingerprint -> "new", "persisting" or "regressed" for every current finding."""
        return {d.fingerprint: name
                for name, group in (("new", self.new), ("persisting", self.persisting),
                                    ("regressed", self.regressed))
                for d in group}


@dataclass(frozen=True)
class Audit:
    """The one result value. Every output format is a view of it; nothing renders from loaders.

    ``mode`` is "lint" when only key definitions were read; the usage parts then stay empty.
    """

    mode: str
    tool_version: str
    as_of: date
    inputs: tuple[InputFile, ...]
    catalog: CatalogInfo
    keys: tuple[Key, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()
    generated_at: str | None = None
    window: Window | None = None
    coverage: Coverage | None = None
    verdicts: tuple[KeyVerdict, ...] = ()
    replay: Replay | None = None
    usage: UsageSummary | None = None
    # the rule registry as of this run: reports explain rules without reaching back into it
    rules: tuple[Rule, ...] = ()
    confidence_policy: ConfidencePolicy = field(default_factory=ConfidencePolicy)
    disabled_rules: tuple[str, ...] = ()  # switched off in the configuration
    config_path: str | None = None  # the configuration file the gate applied, if any
    drift: Drift | None = None  # since the previous run in --history; None without one
    evidence: EvidenceQuality | None = None  # audit mode: what the logs could show
    code: CodeSummary | None = None  # audit --code: the source code read; None without

    def removal_counts(self) -> tuple[int, int, int]:
        """(recommended removals, keys with at least one, deferred removals)."""
        removals = keys = deferred = 0
        for v in self.verdicts:
            low = len(v.deferred)
            removals += len(v.remove) - low
            deferred += low
            keys += 1 if len(v.remove) > low else 0
        return removals, keys, deferred

    def at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.counts and threshold <= f.severity)

    @property
    def alarming(self) -> bool:
        """A high or critical finding that counts (neither suppressed nor baselined): what
        every view raises its alarm on (the HTML summary tile, Markdown's "Action needed")."""
        return bool(self.at_or_above(Severity.HIGH))
