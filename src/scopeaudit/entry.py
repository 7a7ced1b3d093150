"""The library's entries: one typed function per command that judges keys, which the CLI
only calls (it turns options into these requests and renders what comes back).

``lint_keys`` and ``audit_keys`` return the Audit as it counts, gated by a
:class:`~scopeaudit.gate.GatePolicy` (per-rule disable and severity overrides, suppressions,
the baseline), so a library caller gets the verdicts the CLI gives::

    policy = load(Path("scopeaudit.toml"), ...).policy()   # or GatePolicy(...) by hand
    audit = audit_keys(AuditRequest(InputRequest(KeysSpec("keys.yaml"), as_of=today),
                                    LogRequest(("logs/*.jsonl",))), policy, Diagnostics())
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

from scopeaudit import lint as lint_pipeline
from scopeaudit.audit import AuditOptions, Later, Progress, analyse, read_usage
from scopeaudit.catalog.model import Catalog
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.gate import GatePolicy, baseline_document, gate_audit
from scopeaudit.http.settings import HttpSettings
from scopeaudit.inventory import KeysFormat, detect_format, load_inventory
from scopeaudit.model import Audit, Inventory, sorted_findings
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.usage.options import DeclaredSource, LogOptions

if TYPE_CHECKING:
    from scopeaudit.catalog.openapi import ImportOptions

__all__ = ["AuditRequest", "CatalogSpec", "InputRequest", "KeysSpec", "LogRequest", "Reading",
           "audit_keys", "baseline_text", "lint_keys", "read_audit"]


@dataclass(frozen=True)
class CatalogSpec:
    """Which catalog: the built-in one (no path), a catalog file, or an OpenAPI document
    read with a scope-list semantics and an overrides file."""

    path: str | None = None
    semantics: Literal["all", "any"] | None = None
    overrides: str | None = None

    def load(self, diagnostics: Diagnostics | None = None) -> Catalog:
        from scopeaudit.catalog.loader import load_builtin, load_catalog_file

        if self.path is None:
            if self.semantics is not None or self.overrides is not None:
                raise InputError("--scope-list-semantics and --catalog-overrides apply to an "
                                 "OpenAPI document given with --catalog")
            return load_builtin()
        return load_catalog_file(self.path, self.import_options(), diagnostics)

    def import_options(self) -> ImportOptions:
        from scopeaudit.catalog.openapi import ImportOptions, load_overrides

        return ImportOptions(semantics=self.semantics,
                             overrides=load_overrides(self.overrides) if self.overrides
                             else None)


@dataclass(frozen=True)
class KeysSpec:
    """The key definitions: a file or URL, its format (None: from the extension), and how a
    URL is fetched."""

    path: str
    format: KeysFormat | None = None
    http: HttpSettings = field(default_factory=HttpSettings)

    def load(self, diagnostics: Diagnostics) -> Inventory:
        return load_inventory(self.path, self.format, diagnostics, self.http)

    def resolved_format(self) -> KeysFormat:
        return self.format if self.format is not None else detect_format(self.path)


@dataclass(frozen=True)
class InputRequest:
    """What lint reads and how it judges (audit reads this and the logs)."""

    keys: KeysSpec
    settings: LintSettings
    catalog: CatalogSpec = field(default_factory=CatalogSpec)
    timestamp: bool = True  # False: no generated_at, so the same inputs give the same bytes
    against: str | None = None  # lint --against: a git ref or a second key file


@dataclass(frozen=True)
class LogRequest:
    """The usage logs and how they are read and judged."""

    paths: tuple[str, ...]
    log_formats: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()  # FIELD=SOURCE, checked by usage.fields.parse_maps
    since: str | None = None
    until: str | None = None
    strict: bool = False
    allow_empty: bool = False
    max_unattributed: float = 1.0  # a percentage of an input's accepted requests
    shared_key_clients: int = 3
    jobs: int | None = None  # None: usage.jobs.default_jobs()
    engine: Literal["auto", "stream", "duckdb"] = "auto"
    http: HttpSettings = field(default_factory=HttpSettings)
    csv_delimiter: str | None = None  # --csv-delimiter, checked by usage.formats.read_options
    csv_columns: str | None = None  # --csv-columns (A,B,...)
    tz: str | None = None  # --tz: the zone of times written without one (None: UTC)


@dataclass(frozen=True)
class AuditRequest:
    inputs: InputRequest
    logs: LogRequest
    sources: tuple[DeclaredSource, ...] = ()  # [[source]]: the sources the audit must have
    history: str | None = None  # earlier runs' sources (SA306); the run is recorded by the caller
    history_timeout: float = 30.0
    code_paths: tuple[str, ...] = ()
    code_key: str | None = None


class Judge(Protocol):
    def __call__(self, keys: Inventory | None = None) -> Audit: ...


@dataclass(frozen=True)
class Reading:
    """An audit's inputs, read: ``judge()`` is the audit; ``judge(inventory)`` the audit of
    other key definitions on the same usage (scopeaudit fix's replay guard)."""

    catalog: Catalog
    judge: Judge


def lint_keys(request: InputRequest, policy: GatePolicy, diagnostics: Diagnostics) -> Audit:
    """``scopeaudit lint``: the key definitions without logs, gated."""
    return gate_audit(_lint(request, diagnostics), policy, diagnostics)


def audit_keys(request: AuditRequest, policy: GatePolicy, diagnostics: Diagnostics,
               progress: Progress | None = None) -> Audit:
    """``scopeaudit audit``: the key definitions against the usage logs, gated."""
    return gate_audit(read_audit(request, diagnostics, progress).judge(), policy,
                      diagnostics)


def baseline_text(inputs: InputRequest, logs: LogRequest | None, policy: GatePolicy,
                  diagnostics: Diagnostics, sources: tuple[DeclaredSource, ...] = ()) -> str:
    """``scopeaudit baseline write``: the fingerprints of the findings that count now (lint's,
    or audit's with logs). The policy's baseline, if any, is not applied."""
    policy = replace(policy, baseline_path=None)
    if logs is None:
        gated = lint_keys(inputs, policy, diagnostics)
    else:
        gated = audit_keys(AuditRequest(inputs, logs, sources), policy, diagnostics)
    return baseline_document([f for f in gated.findings if f.counts])


def load_inputs(request: InputRequest, diagnostics: Diagnostics
                ) -> tuple[Inventory, Catalog]:
    """The key definitions and the catalog, as lint and audit read them."""
    cat = request.catalog.load(diagnostics)
    return request.keys.load(diagnostics), cat


def _lint(request: InputRequest, diagnostics: Diagnostics) -> Audit:
    inventory, cat = load_inputs(request, diagnostics)
    built = lint_pipeline.lint(inventory, cat, request.settings, diagnostics,
                               timestamp=request.timestamp)
    if request.against:
        from scopeaudit.remediate.against import load_reference, new_access

        reference = load_reference(request.against, request.keys.path,
                                   request.keys.resolved_format())
        added = new_access(inventory, reference, cat, built.as_of)
        built = replace(built, findings=sorted_findings([*built.findings, *added]))
    return built


def read_audit(request: AuditRequest, diagnostics: Diagnostics,
               progress: Progress | None = None) -> Reading:
    """The inputs read, as a function from key definitions to the (ungated) Audit, the read
    ones by default: fix audits its patched definitions again on the same usage."""
    from scopeaudit.history import earlier_sources
    from scopeaudit.quality import QualitySettings
    from scopeaudit.remote.window import pull_window
    from scopeaudit.rules.usage_rules import UsageSettings
    from scopeaudit.usage.fields import parse_maps
    from scopeaudit.usage.formats import read_options
    from scopeaudit.usage.jobs import default_jobs

    inputs, logs = request.inputs, request.logs
    quality = QualitySettings(
        max_unattributed=logs.max_unattributed / 100, history=request.history,
        declared=frozenset(d.name for d in request.sources),
        earlier_sources=earlier_sources(request.history, request.history_timeout)
        if request.history else {})
    options = AuditOptions(lint=inputs.settings,
                           usage=UsageSettings(shared_key_clients=logs.shared_key_clients),
                           since=logs.since, until=logs.until, quality=quality)
    log_options = LogOptions(paths=logs.paths, log_formats=logs.log_formats,
                             maps=parse_maps(logs.maps), strict=logs.strict,
                             jobs=logs.jobs or default_jobs(), http=logs.http,
                             engine=logs.engine, allow_empty=logs.allow_empty,
                             sources=request.sources,
                             pull=pull_window(logs.since, logs.until, inputs.settings.as_of),
                             read=read_options(logs.csv_delimiter, logs.csv_columns, logs.tz))
    if request.code_key and not request.code_paths:
        raise InputError("--code-key needs --code, the source code the key uses")
    if request.code_paths:
        from scopeaudit.scan import require_parsers

        require_parsers()  # before the logs are read: a missing extra fails at once
    cat = inputs.catalog.load(diagnostics)
    # The key file is parsed while DuckDB reads the logs: its engine needs the keys only once
    # its queries have run (read_usage keeps the inventory's errors and warnings first)
    inventory = Later(lambda: inputs.keys.load(diagnostics))
    usage, stats, records, requests = read_usage(inventory, cat, log_options, diagnostics,
                                                 progress)
    loaded = inventory()
    code = None
    if request.code_paths:
        from scopeaudit.scan.keyed import scan_for_audit

        code = scan_for_audit(request.code_paths, cat, loaded.keys, request.code_key,
                              inputs.keys.path, diagnostics)

    def judge(keys: Inventory | None = None) -> Audit:
        # another inventory's warnings are not this run's
        return analyse(loaded if keys is None else keys, cat, usage, stats,
                       (records, requests), options,
                       diagnostics if keys is None else Diagnostics(),
                       timestamp=inputs.timestamp, code=code)
    return Reading(cat, judge)
