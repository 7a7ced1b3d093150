"""Evidence quality: what the logs could show, and how that bounds each removal's confidence.

Time coverage alone cannot make "no request seen" mean "unused" (DESIGN.md, rules of
evidence). Once the evidence is built (:mod:`scopeaudit.evidence`), this module weighs what
the logs could have shown, and caps the removals' confidence where they could not:

* **attribution**: per input, the accepted requests of the window that no key can be
  attributed to. Past the threshold (default 1 % of the input's accepted requests) no removal
  is above low confidence, and SA304 leads the report;
* **inputs that gave nothing**: an input of which nothing could be read (let through with
  ``--allow-empty``) defers every removal;
* **sources**: which sources carried each key's traffic. With ``--history``, a source that
  carried a key's traffic in an earlier run, on a day of this window, and has no input in this
  run defers that key's removals (SA306);
* **use before the window**: a removed scope used within one window length before the window
  is at most medium, and low when the interval between its uses puts its next use after the
  window. A key with no use in the window is judged so as a whole (SA101 revokes it).

Each cap appends its reason to the removal's basis: a reader sees why, whatever the level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import pairwise

from scopeaudit.catalog.model import Catalog
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.evidence import KeyFacts, exercised
from scopeaudit.model import (
    EvidenceQuality,
    Finding,
    InputFile,
    Key,
    KeyVerdict,
    Location,
    MissingSource,
    PriorUse,
    RemovalConfidence,
    Rule,
    Severity,
    SourceSummary,
    SourceUse,
    Window,
)
from scopeaudit.render.text import percent, share_text
from scopeaudit.rules.usage_rules import LOGS
from scopeaudit.usage.aggregate import Usage
from scopeaudit.usage.record import InputStats
from scopeaudit.usage.semantics import REFUSED, UNMATCHED_PREFIX
from scopeaudit.window import day_date, day_number, epoch_date
from scopeaudit.words import plural

DEFAULT_MAX_UNATTRIBUTED = 0.01
_RANK = {"low": 0, "medium": 1, "high": 2}
NAMES_SHOWN = 3  # inputs or keys a sentence names before "and N more"


@dataclass(frozen=True)
class QualitySettings:
    max_unattributed: float = DEFAULT_MAX_UNATTRIBUTED  # a share of accepted requests
    history: str | None = None  # the --history database: where SA306 points
    declared: frozenset[str] = frozenset()  # source names a [[source]] of the configuration gives
    # from the history: (key, source) -> the last day (YYYY-MM-DD) an earlier run saw that
    # key's traffic from that source
    earlier_sources: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class InputAttribution:
    label: str
    source: str
    accepted: int  # accepted requests in the window
    unattributed: int  # those of them with no key identity
    key_field: bool | None

    @property
    def keyless(self) -> bool:
        """The input's layout has no key field at all: its format says so, or not one of its
        records named a key."""
        return self.key_field is False or (self.accepted > 0
                                           and self.unattributed == self.accepted)


@dataclass
class Assessment:
    evidence: EvidenceQuality
    findings: list[Finding]
    inputs: list[InputFile]  # the log inputs as the report states them


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _attribution(usage: Usage, inputs: Sequence[InputStats], lo: int, hi: int
                 ) -> list[InputAttribution]:
    out = []
    for stats in inputs:
        accepted = usage.accepted_by_input.get(stats.path, {})
        unattributed = usage.unattributed_by_input.get(stats.path, {})
        out.append(InputAttribution(
            stats.path, stats.source or stats.path,
            sum(n for d, n in accepted.items() if lo <= d <= hi),
            sum(n for d, n in unattributed.items() if lo <= d <= hi), stats.key_field))
    return out


def _key_sources(usage: Usage, inputs: Sequence[InputStats], lo: int, hi: int
                 ) -> dict[str, tuple[SourceUse, ...]]:
    """key -> the sources that carried its traffic in the window, in input order."""
    days: dict[str, dict[str, set[int]]] = {}
    for stats in inputs:
        source = stats.source or stats.path
        for key, key_days in usage.key_days_by_input.get(stats.path, {}).items():
            inside = {d for d in key_days if lo <= d <= hi}
            if inside:
                days.setdefault(key, {}).setdefault(source, set()).update(inside)
    return {key: tuple(SourceUse(src, len(d), day_date(max(d)).isoformat())
                       for src, d in by_source.items())
            for key, by_source in days.items()}


def _interval(days: set[int]) -> int | None:
    ordered = sorted(days)
    gaps = [b - a for a, b in pairwise(ordered)]
    return max(gaps) if gaps else None


def prior_use(usage: Usage, keys: Sequence[Key], catalog: Catalog, window: Window
              ) -> tuple[dict[str, PriorUse], dict[str, dict[str, PriorUse]]]:
    """Accepted use before the window: per key, and per key and scope (the scope by the
    alternative the evidence would choose for each operation). Intervals are between the
    days of use up to the window's end."""
    lo, hi = day_number(window.since), day_number(window.until)
    defined = {k.id: k for k in keys}
    key_days: dict[str, set[int]] = {}
    key_last: dict[str, float] = {}
    op_days: dict[str, dict[str, set[int]]] = {}
    op_last: dict[str, dict[str, float]] = {}
    for (key, op, cls, day), cell in usage.cells.items():
        if day > hi or cls in REFUSED or key not in defined:
            continue
        key_days.setdefault(key, set()).add(day)
        matched = not op.startswith(UNMATCHED_PREFIX)
        if matched:
            op_days.setdefault(key, {}).setdefault(op, set()).add(day)
        if day < lo:
            if cell.last > key_last.get(key, float("-inf")):
                key_last[key] = cell.last
            if matched:
                per_op = op_last.setdefault(key, {})
                if cell.last > per_op.get(op, float("-inf")):
                    per_op[op] = cell.last
    ops = {op.id: op for op in catalog.operations}

    def use(last: float, days: set[int]) -> PriorUse:
        when = epoch_date(last)
        return PriorUse(when.isoformat(), (window.since - when).days, _interval(days))

    by_key = {key: use(last, key_days[key]) for key, last in key_last.items()}
    by_scope: dict[str, dict[str, PriorUse]] = {}
    for key, lasts in op_last.items():
        granted = frozenset(defined[key].granted)
        scope_last: dict[str, float] = {}
        scope_days: dict[str, set[int]] = {}
        for op_id, days in op_days[key].items():
            operation = ops.get(op_id)
            if operation is None:
                continue
            # a scope the request may have needed counts as used before: the safe side
            ex = exercised(operation, granted, catalog)
            for scope in ex.used | ex.unknown:
                scope_days.setdefault(scope, set()).update(days)
                last = lasts.get(op_id)
                if last is not None and last > scope_last.get(scope, float("-inf")):
                    scope_last[scope] = last
        by_scope[key] = {s: use(t, scope_days[s]) for s, t in scope_last.items()}
    return by_key, by_scope


def _prior_cap(use: PriorUse, window: Window, what: str) -> tuple[str, str] | None:
    """The cap use before the window puts on a removal, with its reason; None for none."""
    last = day_number(date.fromisoformat(use.last_used))
    when = (f"{what} last used on {use.last_used}, {plural(use.days_before, 'day')} before the "
            "window")
    if use.interval_days is not None and last + use.interval_days > day_number(window.until):
        return "low", (f"at most low: {when}, at intervals of up to {use.interval_days} "
                       "days: its next use would fall after the window (audit with a longer "
                       "--since)")
    if use.days_before <= window.days:
        return "medium", f"at most medium: {when}"
    return None


def _capped(conf: RemovalConfidence, level: str, why: str) -> RemovalConfidence:
    lowered = level if _RANK.get(conf.level, 0) > _RANK[level] else conf.level
    return RemovalConfidence(lowered, f"{conf.basis}; {why}")


def assess(usage: Usage, inputs: Sequence[InputStats], window: Window, keys: Sequence[Key],
           catalog: Catalog, facts: list[KeyFacts], settings: QualitySettings,
           diagnostics: Diagnostics) -> Assessment:
    """Weigh the evidence, cap each fact's removals (its verdict is replaced) and give the
    evidence-quality summary, its findings (SA304, SA306) and the log inputs' rows."""
    lo, hi = day_number(window.since), day_number(window.until)
    attribution = _attribution(usage, inputs, lo, hi)
    findings: list[Finding] = []
    global_caps: list[str] = []
    limits: list[str] = []

    over = [a for a in attribution
            if a.accepted and a.unattributed / a.accepted > settings.max_unattributed]
    threshold = percent(settings.max_unattributed)
    for a in over:
        findings.append(_sa304(a, threshold))
    if over:
        first = over[0]
        share = share_text(first.unattributed, first.accepted)
        said = (f"no accepted request in {first.label} names a key" if share == "all"
                else f"{share} of the accepted requests in {first.label} name no key, more "
                f"than the {threshold} allowed")
        if len(over) > 1:
            said += f", and {len(over) - 1} more input(s) are past that"
        global_caps.append(f"at most low: {said}: the logs could not show this key's use")
        limits.append(f"{said} (SA304)")
    unread = [s.path for s in inputs if not s.records and s.skipped]
    if unread:
        said = f"nothing in {_names(unread)} could be read"
        global_caps.append(f"at most low: {said}")
        limits.append(said)

    key_sources = _key_sources(usage, inputs, lo, hi)
    present = {s.source or s.path for s in inputs}
    missing = _missing_sources(settings.earlier_sources, present, {k.id for k in keys},
                               window)
    for m in missing:
        diagnostics.warn(f"source {m.name!r} carried the traffic of {len(m.keys)} key(s) in an "
                         f"earlier run (last on {m.last_seen}) and has no input in this run: "
                         f"removals of {_names(list(m.keys))} are deferred")
        findings.append(_sa306(m, settings.history))
    if missing:
        keys_missing = sorted({k for m in missing for k in m.keys})
        limits.append(f"source(s) {_names([m.name for m in missing])}, which carried the "
                      f"traffic of {len(keys_missing)} key(s) in an earlier run, have no input "
                      "in this run (SA306)")

    by_key, by_scope = prior_use(usage, keys, catalog, window)
    missing_for: dict[str, list[MissingSource]] = {}
    for m in missing:
        for k in m.keys:
            missing_for.setdefault(k, []).append(m)
    for fact in facts:
        fact.verdict = _judged(fact, window, global_caps, missing_for.get(fact.key.id, []),
                               key_sources.get(fact.key.id, ()), by_key.get(fact.key.id),
                               by_scope.get(fact.key.id, {}))

    sources: dict[str, tuple[int, set[int]]] = {}
    for stats in inputs:
        name = stats.source or stats.path
        count, days = sources.get(name, (0, set()))
        days |= {d for d in usage.days_by_input.get(stats.path, ()) if lo <= d <= hi}
        sources[name] = (count + 1, days)
    evidence = EvidenceQuality(
        records=sum(s.records for s in inputs), skipped=sum(s.skipped for s in inputs),
        accepted=sum(a.accepted for a in attribution),
        unattributed=sum(a.unattributed for a in attribution),
        max_unattributed=settings.max_unattributed,
        sources=tuple(SourceSummary(name, n, len(days), name in settings.declared)
                      for name, (n, days) in sources.items()),
        missing_sources=tuple(missing), limits=tuple(limits),
        supports_removals=not global_caps)
    rows = [InputFile(s.path, "logs", s.sha256, s.records, s.skipped,
                      tuple(line for line, _ in s.first_skipped), tuple(s.top_reasons()),
                      a.source, a.accepted, a.unattributed, s.key_field, s.log_format,
                      s.time_zone)
            for s, a in zip(inputs, attribution, strict=True)]
    return Assessment(evidence, findings, rows)


def _judged(fact: KeyFacts, window: Window, global_caps: list[str],
            missing: list[MissingSource], sources: tuple[SourceUse, ...],
            key_prior: PriorUse | None, scope_prior: dict[str, PriorUse]) -> KeyVerdict:
    """The fact's verdict with its removals capped, and its sources and use before the
    window stated."""
    v = fact.verdict
    caps: list[tuple[str, str]] = [("low", why) for why in global_caps]
    for m in missing:
        caps.append(("low", f"at most low: source {m.name!r} carried this key's traffic in an "
                            f"earlier run (last on {m.last_seen}) and has no input in this run"))
    key_cap = _prior_cap(key_prior, window, "the key") if key_prior and not v.accepted \
        else None
    confidence = dict(v.confidence)
    before: dict[str, PriorUse] = {}
    for scope in v.remove:
        conf = confidence.get(scope)
        if conf is None:
            continue
        scope_caps = list(caps)
        if key_cap is not None:
            scope_caps.append(key_cap)
        use = scope_prior.get(scope)
        if use is not None:
            before[scope] = use
            cap = _prior_cap(use, window, scope)
            if cap is not None:
                scope_caps.append(cap)
        for level, why in scope_caps:
            conf = _capped(conf, level, why)
        confidence[scope] = conf
    return replace(v, confidence=confidence, sources=sources, before_window=key_prior,
                   scopes_before_window=before)


def _missing_sources(earlier: Mapping[tuple[str, str], str], present: set[str],
                     defined: set[str], window: Window) -> list[MissingSource]:
    """Sources an earlier run saw keys' traffic from, on a day of this window, with no input
    in this run (traffic older than the window is not evidence this run should hold)."""
    since = window.since.isoformat()
    by_source: dict[str, tuple[set[str], str]] = {}
    for (key, source), last in earlier.items():
        if source in present or key not in defined or last < since:
            continue
        keys, latest = by_source.get(source, (set(), last))
        keys.add(key)
        by_source[source] = (keys, max(latest, last))
    return [MissingSource(name, tuple(sorted(keys)), last)
            for name, (keys, last) in sorted(by_source.items())]


UNATTRIBUTED_REQUESTS = Rule(
    id="SA304", name="unattributed-requests", severity=Severity.MEDIUM, family=LOGS,
    summary="An input's accepted requests name no key (over 1 % of them): no removal can "
            "be judged from it (high when its format has no key field at all).",
    what="Counts, per input, the accepted requests in the window that no key can be "
         "attributed to. Past the threshold (--max-unattributed, default 1 % of the "
         "input's accepted requests) every removal is deferred (low confidence, SA108), "
         "and this finding leads the report. High when the input's layout has no key field "
         "at all (a log format without one, or records none of which names a key).",
    why="'No request seen' means 'unused' only if the logs could have shown a request: a "
        "log that records no key shows no key's use, and every key would look unused in it.",
    example="access.log: none of the 12,230 accepted requests can be attributed to a key "
            "(nginx combined has no key field)",
    remediation="Log a key identity: --map key_id=... naming the field or variable that "
                "holds one, or an nginx log_format with $http_x_api_key or "
                "$http_authorization (tokens are fingerprinted on read, never kept). Then "
                "audit again.",
)


def _sa304(a: InputAttribution, threshold: str) -> Finding:
    if a.key_field is False and a.unattributed < a.accepted:
        # a format without a key field: only a token in the query string names a key, so
        # the rest could be any key's
        message = (f"{a.unattributed} of the {a.accepted} accepted requests in the window in "
                   f"{a.label} can be attributed to no key (its log format has no key field; "
                   f"only the {a.accepted - a.unattributed} with a token in the query string "
                   "name one): no removal can be judged from it, so every removal is deferred")
    elif a.keyless:
        why = ("its log format has no key field" if a.key_field is False
               else "not one of its records names a key")
        message = (f"none of the {a.accepted} accepted requests in the window in {a.label} can "
                   f"be attributed to a key ({why}): no removal can be judged from it, so "
                   "every removal is deferred")
    else:
        message = (f"{share_text(a.unattributed, a.accepted)} of the {a.accepted} accepted "
                   f"requests in the window in {a.label} ({a.unattributed}) name no key, more "
                   f"than the {threshold} allowed: every removal is deferred")
    return UNATTRIBUTED_REQUESTS.finding(
        message, Location(a.label, 1),
        severity=Severity.HIGH if a.keyless else Severity.MEDIUM, discriminator=a.label,
        evidence={"input": a.label, "source": a.source, "accepted": a.accepted,
                  "unattributed": a.unattributed, "key_field": a.key_field,
                  "threshold": threshold})


MISSING_SOURCE = Rule(
    id="SA306", name="missing-source", severity=Severity.MEDIUM, family=LOGS,
    summary="A source that carried keys' traffic in an earlier run (--history) has no "
            "input in this run.",
    what="With --history, compares the sources of this run's inputs (each --logs argument, "
         "or a [[source]] of the configuration) with the sources that carried each key's "
         "traffic in earlier runs, on days of this window. A key whose traffic came "
         "through a missing source has its removals deferred.",
    why="A whole log source left out of an audit looks like keys that stopped working: "
        "their scopes would be recommended for removal although their traffic is only elsewhere.",
    example="source 'logs/edge/*.log.gz' carried key_mobile_backend's traffic in the run "
            "of 2026-11-20 and has no input in this run",
    remediation="Add the source's logs to the audit (--logs), or declare the sources the "
                "audit must have with [[source]] in the configuration, so that a missing "
                "one is an error.",
)


def _sa306(m: MissingSource, history: str | None) -> Finding:
    return MISSING_SOURCE.finding(
        f"source {m.name!r} carried the traffic of {len(m.keys)} key(s) in an earlier "
        f"run (last on {m.last_seen}) and has no input in this run: removals of "
        f"{_names(list(m.keys))} are deferred", Location(history or "history", 1),
        discriminator=m.name,
        evidence={"source": m.name, "keys": list(m.keys), "last_seen": m.last_seen})
