"""The audit pipeline: keys + catalog + logs -> aggregate -> evidence -> rules -> Audit.

Data flows one way. Readers yield records into one aggregator; after ``finish`` nothing sees
a record again, only the ``Usage`` aggregate.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from scopeaudit import __version__
from scopeaudit.catalog.model import Catalog, catalog_info
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.evidence import build_evidence
from scopeaudit.model import (
    Audit,
    ConfidencePolicy,
    InputFile,
    Inventory,
    Key,
    UsageSummary,
    sorted_findings,
)
from scopeaudit.quality import QualitySettings, assess
from scopeaudit.rules.inventory_rules import LintContext, LintSettings, run_inventory_rules
from scopeaudit.rules.registry import all_rules
from scopeaudit.rules.usage_rules import UsageSettings, ambiguity_rules, key_rules, log_rules
from scopeaudit.scan.findings import needed_by_code
from scopeaudit.usage.aggregate import Usage
from scopeaudit.usage.inputcheck import check_read, key_fields, plan_inputs
from scopeaudit.usage.inputs import input_label
from scopeaudit.usage.options import LogOptions
from scopeaudit.usage.record import InputStats
from scopeaudit.window import (
    FUTURE_ALLOWANCE_DAYS,
    coverage,
    covered_days,
    day_number,
    days_seen,
    last_present_day,
    resolve_window,
    utc_timestamp,
)

if TYPE_CHECKING:
    from scopeaudit.scan.keyed import CodeScan

Progress = Callable[[str, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class AuditOptions:
    lint: LintSettings
    usage: UsageSettings = field(default_factory=UsageSettings)
    policy: ConfidencePolicy = field(default_factory=ConfidencePolicy)
    since: str | None = None
    until: str | None = None
    quality: QualitySettings = field(default_factory=QualitySettings)


class Later(Generic[T]):
    """A value computed on a thread of its own, from the moment ``start`` is first called
    (or the value is first asked for); asking waits for it, and raises its error."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="scopeaudit-later",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._compute()
        except BaseException as exc:  # handed to whoever asks for the value
            self._error = exc

    def failed(self) -> bool:
        """Whether the value has been computed and that ended in an error."""
        return self._thread is not None and not self._thread.is_alive() and \
            self._error is not None

    def __call__(self) -> T:
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


@dataclass(frozen=True)
class _KeysOf:
    """The keys of an inventory still being loaded (engine.keys.KeysLater)."""

    inventory: Later[Inventory]

    def start(self) -> None:
        self.inventory.start()

    def failed(self) -> bool:
        return self.inventory.failed()

    def __call__(self) -> tuple[Key, ...]:
        return self.inventory().keys


def read_usage(inventory: Inventory | Later[Inventory], catalog: Catalog, logs: LogOptions,
               diagnostics: Diagnostics, progress: Progress | None = None
               ) -> tuple[Usage, list[InputStats], int, int]:
    """Every log input into one aggregate (on ``logs.jobs`` cores), each through the engine
    ``logs.engine`` picks for it (scopeaudit.engine). Returns (usage, per-input stats,
    records, requests).

    ``inventory`` may be still to load (``Later``): the DuckDB engine starts its queries
    first and loads it while they run. Its errors and warnings still come before the logs'
    own, as if it had been loaded first."""
    from scopeaudit.engine import read_logs

    keys = inventory.keys if isinstance(inventory, Inventory) else _KeysOf(inventory)
    try:
        plan = plan_inputs(logs.paths, logs.sources, logs.http, logs.pull)
        key_field, no_key_field = key_fields(plan, logs.format_for, logs.maps)
        _note_detected(plan.paths, logs.format_for, diagnostics)
        # the DuckDB engine's SQL reads CSV by commas with a header, and times without a
        # zone as UTC: other options are read by the streaming reader
        if logs.read.streaming_only:
            logs = dataclasses.replace(logs, engine="stream")
        usage, stats_list, records, requests, warnings = read_logs(
            logs, plan.paths, keys, catalog, progress)
    except Exception:
        if isinstance(inventory, Later):
            inventory()  # the inventory's own error, if it has one, comes first
        raise
    if isinstance(inventory, Later):
        inventory()  # loaded, with its warnings, before the logs' warnings are said
    for warning in no_key_field:
        diagnostics.warn(warning)
    for warning in warnings:
        diagnostics.warn(warning)
    for stats in stats_list:
        stats.source = plan.source_of.get(stats.path, stats.path)
        stats.key_field = key_field.get(stats.path)
        stats.log_format = _format_name(logs.format_for, plan.path_of.get(stats.path,
                                                                           stats.path))
        stats.time_zone = logs.read.zone_name
    check_read(stats_list, plan, logs.format_for, logs.maps, logs.allow_empty, diagnostics)
    return usage, stats_list, records, requests


def _format_name(spec_for: Callable[[str], str | None], path: str) -> str | None:
    """The format an input was read as, for the report (None: it could not be told)."""
    from scopeaudit.usage.readers import format_kind

    spec = spec_for(path)
    try:
        name = format_kind(spec, path)
    except InputError:
        return None
    return f"{name}:<format>" if spec is not None and ":" in spec else name


def _note_detected(paths: list[str], spec_for: Callable[[str], str | None],
                   diagnostics: Diagnostics) -> None:
    """Say, on stderr, the format an input's first lines chose where its name would not."""
    from scopeaudit.usage.readers.detect import detect

    for path in paths:
        if spec_for(path) is not None:
            continue
        try:
            found = detect(path)
        except InputError:
            continue  # reading says what is wrong, in its place
        if found.noted:
            diagnostics.note(f"read as {found.name} (detected; --log-format to override)",
                             file=input_label(path))


def analyse(inventory: Inventory, catalog: Catalog, usage: Usage, inputs: list[InputStats],
            totals: tuple[int, int], options: AuditOptions, diagnostics: Diagnostics,
            *, timestamp: bool = True, code: CodeScan | None = None) -> Audit:
    """The Audit of the keys on the usage; with ``code`` (audit --code), on the keys'
    scanned code too: the scopes it needs are kept (evidence), what it needs and the key
    lacks is SA401, what the scan cannot map SA402."""
    as_of = options.lint.as_of
    seen = days_seen(usage.days_by_input, as_of)
    if seen.latest_future is not None:
        _warn_future(usage, as_of, seen.latest_future, diagnostics)
    window = resolve_window(options.since, options.until, seen.newest, as_of, diagnostics)
    cover = coverage(window, usage.days_by_input)
    covered = covered_days(window, usage.days_by_input)
    facts, replay, unknown, ambiguous = build_evidence(
        inventory.keys, catalog, usage, window, covered, options.policy,
        code.by_key if code is not None else None)
    # what the logs could show caps the removals' confidence, before the rules read it
    assessed = assess(usage, inputs, window, inventory.keys, catalog, facts, options.quality,
                      diagnostics)
    findings = run_inventory_rules(LintContext(inventory, catalog, options.lint))
    for f in facts:
        findings.extend(key_rules(f, catalog, options.usage))
    findings.extend(log_rules(usage, unknown, inventory.source))
    findings.extend(ambiguity_rules(ambiguous))
    findings.extend(assessed.findings)
    if code is not None:
        findings.extend(code.report.findings)
        for f in facts:
            findings.extend(needed_by_code(f.key, f.verdict))
    lo, hi = day_number(window.since), day_number(window.until)
    in_window = sum(c.count for (_, _, _, d), c in usage.cells.items() if lo <= d <= hi)
    all_cells = sum(c.count for c in usage.cells.values())
    if cover.days_with_data < cover.days_in_window:
        diagnostics.warn(f"logs cover {cover.days_with_data} of the window's "
                         f"{cover.days_in_window} days; gaps lower removal confidence")
    input_files = [InputFile(inventory.source, "keys", inventory.sha256, len(inventory.keys)),
                   *assessed.inputs]
    return Audit(
        mode="audit",
        tool_version=__version__,
        as_of=options.lint.as_of,
        inputs=tuple(input_files),
        catalog=catalog_info(catalog),
        keys=inventory.keys,
        findings=sorted_findings(findings),
        warnings=tuple(str(w) for w in diagnostics.warnings),
        generated_at=utc_timestamp() if timestamp else None,
        rules=all_rules(include_code=code is not None),
        confidence_policy=options.policy,
        window=window,
        coverage=cover,
        verdicts=tuple(f.verdict for f in facts),
        replay=replay,
        usage=UsageSummary(
            records=totals[0],
            requests=totals[1],
            in_window=in_window,
            outside_window=all_cells - in_window,
            unattributed=usage.unattributed,
            preflight=usage.preflight,
            unknown_keys=len(unknown),
        ),
        evidence=assessed.evidence,
        code=code.summary() if code is not None else None,
    )


def _warn_future(usage: Usage, as_of: date, latest: date, diagnostics: Diagnostics) -> None:
    """One warning for the records dated after the last present day: they fall outside every
    window (resolve_window), so they count among the requests outside it, never as use."""
    last = last_present_day(as_of)
    after = day_number(last)
    requests = sum(c.count for (_, _, _, d), c in usage.cells.items() if d > after)
    diagnostics.warn(f"records dated after {last} (the as-of date {as_of} plus "
                     f"{FUTURE_ALLOWANCE_DAYS} day of clock skew) are set apart: {requests} "
                     f"request(s) by keys, the latest on {latest}; they are not judged and do "
                     "not place the window")


