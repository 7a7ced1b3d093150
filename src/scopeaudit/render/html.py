"""The HTML report: one self-contained file a security reviewer can open, filter and print.

The renderer builds a plain view model here (frozen dataclasses of display-ready strings and
numbers, chart geometry worked out in Python) and hands it to ``report.html.j2``; the template
only lays it out. Nothing is recomputed: every state, recommendation and confidence is read
from the Audit value as it stands.

Safety, in layers:

* Jinja2 autoescapes every value (see :mod:`scopeaudit.render.templates`);
* text shown to a reader has control, bidi-override and zero-width characters made visible
  (``\\x1b``, ``\\u202e``), so a hostile key name can neither break lines nor read backwards;
* the findings script reads its data from a ``<script type="application/json">`` island
  written through ``script_json`` (the original strings, never interpolated into code);
* a Content-Security-Policy allows nothing but this file's own inline style and script,
  pinned by their SHA-256 hashes (``csp_hash``), so even an escaping mistake could not run an
  injected script.

Longer than 500 lines on purpose: the view model of every section of one report (summary,
actions, chart, matrix, key cards, findings, method) is one reading of the Audit, and split
across modules its sections would each re-derive the shared key names and states.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from scopeaudit.model import (
    Audit,
    Finding,
    Key,
    KeyVerdict,
    Severity,
    UsageSummary,
    count_by_severity,
)
from scopeaudit.render import RenderOptions
from scopeaudit.render.actions import Action, build_actions
from scopeaudit.render.code_text import code_text, needed_by_code_texts
from scopeaudit.render.drift_view import DriftView, drift_view
from scopeaudit.render.evidence_line import (
    attributed_text,
    before_window_texts,
    evidence_line,
    reading_line,
    source_text,
)
from scopeaudit.render.palette import PALETTE, SeverityColour
from scopeaudit.render.templates import render_template
from scopeaudit.render.text import percent, show_invisible, status_text

TEMPLATE = "report.html.j2"

_JOINTS = re.compile(r"(?<=[/_.:@])")
# a date or timestamp in running text ("created 2025-06-01", "first 2026-08-29T00:00:00Z"):
# kept on one line, never split at its hyphens
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}"
                   r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?")

# Chart geometry, in SVG user units (the SVG scales to the page width through its viewBox).
_CHART_LABEL_W = 210
_CHART_BAR_W = 420
_CHART_TEXT_W = 250
_CHART_ROW_H = 22
_CHART_BAR_H = 14
_CHART_TOP = 34  # room for the legend above the bars
_CHART_LABEL_CHARS = 30
_CHART_LEGEND_STEP = 130  # room for a legend entry, a wider one ("needed by code") more
_CHART_LEGEND_WIDE = 150


def visible(text: str) -> str:
    """``text`` with every invisible or direction-changing character written as an escape."""
    return show_invisible(text)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: int) -> str:
    """Thousands separators: 415154 -> 415,154."""
    return f"{value:,}"


def _breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity (``<wbr>``) after each ``/``, ``_``,
    ``.``, ``:`` and ``@``, so paths, ids and scopes wrap at their joints, not mid-word."""
    parts = [part for part in _JOINTS.split(str(text)) if part]
    return Markup("<wbr>").join(parts)  # join escapes every part


def _unbroken_dates(text: str) -> Markup:
    """``text`` escaped, each date or timestamp in it wrapped so a line never breaks inside
    it (``<time>``, which the report's style keeps on one line: shorter than a span with a
    class, and it says what the text is)."""
    out, last = [], 0
    for match in _DATE.finditer(str(text)):
        out.append(Markup.escape(text[last:match.start()]))
        out.append(Markup("<time>{}</time>").format(match.group(0)))
        last = match.end()
    out.append(Markup.escape(text[last:]))
    return Markup("").join(out)


def _csp_hash(source: str) -> Markup:
    """The CSP source expression for an inline element whose text is exactly ``source``
    (base64 and quotes only: safe to mark, and marking keeps the quotes readable)."""
    digest = hashlib.sha256(str(source).encode("utf-8")).digest()
    return Markup("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")  # noqa: S704


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class StateView:
    """A scope state as the legend, matrix and chart show it: never colour alone."""

    name: str  # used | unused | unknown | denied | none
    code: str  # the one-letter CSS class suffix (s-u, s-x, …): short, it repeats per cell
    symbol: str
    label: str
    meaning: str


STATES: tuple[StateView, ...] = (
    StateView("used", "u", "✓", "used",
              "an accepted request in the window needed this scope"),
    StateView("unused", "x", "✗", "unused",
              "granted, but no request in the window needed it: a removal candidate"),
    StateView("watch", "w", "◇", "watch",
              "unused, but the evidence is too thin to remove it yet (SA108): a deferred "
              "removal, not advice to act on now"),
    StateView("unknown", "q", "?", "unknown",
              "the key sent requests no catalog operation describes on this resource; "
              "never recommended for removal"),
    StateView("denied", "d", "⊘", "denied",
              "requests needing this scope were refused with 403"),
)
# audit --code only: shown (legend, chart, cards) when the report read code
NEEDED_BY_CODE = StateView("needed_by_code", "c", "◆", "needed by code",
                           "no request in the window needed it, but the key's code calls an "
                           "operation that does: kept, never removed")
NOT_GRANTED = StateView("none", "n", "·", "not granted",
                        "the key neither holds nor asked for it")
_STATE = {s.name: s for s in (*STATES, NEEDED_BY_CODE)}
WATCH = _STATE["watch"]


def _state_of(verdict: KeyVerdict, scope: str, deferred: frozenset[str]) -> StateView:
    """How a scope shows: the verdict's state, except that an unused scope whose removal is
    deferred is "watch", never the removal's mark and colour."""
    state = _STATE.get(verdict.states.get(scope, ""), NOT_GRANTED)
    return WATCH if state.name == "unused" and scope in deferred else state


@dataclass(frozen=True)
class InputView:
    path: str
    kind: str
    sha256: str
    records: int
    skipped: int
    skipped_lines: str
    skip_reasons: tuple[str, ...] = ()  # "94 unreadable time", every reason
    source: str = ""
    attributed: str = ""  # accepted requests attributed to a key: "all 1,234"


@dataclass(frozen=True)
class SeverityCount:
    severity: str
    count: int


@dataclass(frozen=True)
class SummaryView:
    keys: int
    findings: int
    by_severity: tuple[SeverityCount, ...]
    active_findings: int  # not suppressed
    suppressed: int
    alarming: bool  # an unsuppressed critical or high finding: the tile is marked
    removals: int  # scope removals recommended (confidence medium or high)
    removal_keys: int  # keys with at least one of them
    deferred: int  # removals deferred for thin evidence (confidence low, SA108)


@dataclass(frozen=True)
class CoverageView:
    since: str
    until: str
    days: int
    days_with_data: int
    percent: str
    gaps: tuple[str, ...]
    by_input: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ReplayView:
    requests: int
    would_be_denied: int
    unverifiable: int
    denied_shapes: tuple[tuple[str, str, int], ...]

    @property
    def ok(self) -> bool:
        return self.would_be_denied == 0


@dataclass(frozen=True)
class ChartSegment:
    state: str
    code: str
    count: int
    x: int
    width: int


@dataclass(frozen=True)
class ChartRow:
    label: str  # shortened for the chart
    full: str  # the whole label, in the row's <title>
    anchor: str
    y: int
    segments: tuple[ChartSegment, ...]
    text: str  # "5 used · 1 unused": the counts in words


@dataclass(frozen=True)
class ChartView:
    width: int
    height: int
    label_w: int
    bar_x: int
    bar_h: int
    text_x: int
    rows: tuple[ChartRow, ...]
    scale_max: int
    legend_x: tuple[int, ...] = ()  # where each state's legend entry starts, in state order


@dataclass(frozen=True)
class MatrixCell:
    state: str
    symbol: str
    outside_grant: bool  # a state on a scope the key does not hold (denied, undeclared use)
    css: str  # "" for not granted (the plain cell), else "s-u", "s-d out", …


@dataclass(frozen=True)
class MatrixRow:
    label: str
    key_id: str
    anchor: str
    cells: tuple[MatrixCell, ...]
    # the css of the row's most common cell ("s-x"): the template writes those cells bare and
    # gives the row the class that colours them ("d-x"); "" when most are not granted
    plain: str = ""


@dataclass(frozen=True)
class MatrixView:
    scopes: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True)
class ScopeGroup:
    """A key's granted scopes that share a state (in lint mode, one group: all of them)."""

    state: str
    code: str
    symbol: str
    label: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class RemovalGroup:
    """Removals of one key that share a confidence level and basis (usually all of them)."""

    level: str
    basis: str
    scopes: tuple[str, ...]
    # low confidence: the rules of evidence defer such a removal (SA108), so the report
    # must not present it as advice to act on now
    deferred: bool


@dataclass(frozen=True)
class ActionView:
    """One line of the actions section (see :mod:`scopeaudit.render.actions`)."""

    kind: str  # revoke | remove | watch
    key_id: str
    anchor: str  # the key's card
    scopes: tuple[str, ...]
    count: str  # "26 scopes, 13 write"
    level: str
    basis: str


@dataclass(frozen=True)
class ClientView:
    client: str
    requests: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class FindingRef:
    anchor: str
    severity: str
    rule: str
    name: str
    scope: str
    message: str


@dataclass(frozen=True)
class KeyTrafficFacts:
    accepted: int
    denied: int
    unauthorized: int
    active_days: int
    first_seen: str
    last_seen: str
    recommended: tuple[str, ...]
    removals: tuple[RemovalGroup, ...]  # recommended now (confidence medium or high)
    remove_count: int
    undeclared: tuple[str, ...]  # used without being granted
    refused: tuple[str, ...]  # not granted, asked for and refused with 403
    clients: tuple[ClientView, ...]  # the busiest of them
    client_count: str  # distinct clients in the window: "3", "more than 200"
    unmatched: tuple[tuple[str, int], ...]
    sources: tuple[str, ...] = ()  # "name (N days, last DATE)"
    before_window: tuple[str, ...] = ()  # use before the window, in words
    needed_by_code: tuple[str, ...] = ()  # audit --code: "scope (file:line, …)"
    watch: tuple[RemovalGroup, ...] = ()  # deferred removals (confidence low, SA108)
    watch_count: int = 0


@dataclass(frozen=True)
class CardView:
    anchor: str
    key_id: str
    name: str
    owner: str
    created: str
    expires: str
    tags: tuple[str, ...]
    location: str
    granted: int
    granted_groups: tuple[ScopeGroup, ...]
    usage: KeyTrafficFacts | None  # None in lint mode
    findings: tuple[FindingRef, ...]


@dataclass(frozen=True)
class FindingRow:
    index: int
    anchor: str
    severity: str
    rule: str
    name: str
    key: str  # the key's id (the cell's title, the filter's value)
    key_label: str  # what the cell shows: the key's name as the chart and matrix show it
    key_anchor: str  # the key's card, or "" for a key only seen in the logs
    scope: str
    location: str
    message: str
    evidence: tuple[tuple[str, str], ...]
    confidence: str
    fingerprint: str
    status: str  # "", "suppressed" or "baselined"
    # a large report's row stands for one rule's findings on one key (see GROUP_ABOVE): the
    # others' scopes and lines, after this, the first one's
    more_scopes: tuple[str, ...] = ()
    more_lines: tuple[int, ...] = ()
    first: int = 0  # the index in the Audit's findings of the row's first finding

    @property
    def count(self) -> int:
        return 1 + len(self.more_scopes)


@dataclass(frozen=True)
class RuleView:
    id: str
    name: str
    severity: str
    summary: str
    what: str
    why: str
    example: str
    remediation: str
    fired: int


@dataclass(frozen=True)
class CatalogView:
    name: str
    version: str
    source: str
    operations: int
    scopes: int
    provenance: tuple[tuple[str, int], ...]

    @property
    def provenance_text(self) -> str:
        """"14 documented, 3 implied, 36 inferred"."""
        return ", ".join(f"{n} {name}" for name, n in self.provenance)


@dataclass(frozen=True)
class PolicyView:
    """The confidence thresholds the method section explains (scopeaudit's defaults)."""

    high_days: int
    high_coverage: str
    high_active_days: int
    medium_days: int
    medium_coverage: str
    medium_active_days: int


@dataclass(frozen=True)
class ReportView:
    title: str
    mode: str
    is_audit: bool
    tool_version: str
    as_of: str
    generated_at: str
    keys_source: str
    summary: SummaryView
    inputs: tuple[InputView, ...]
    coverage: CoverageView | None
    usage: UsageSummary | None
    replay: ReplayView | None
    states: tuple[StateView, ...]
    not_granted: StateView
    chart: ChartView | None
    matrix: MatrixView | None
    cards: tuple[CardView, ...]
    findings: tuple[FindingRow, ...]  # every finding, in the Audit's order
    severities: tuple[str, ...]
    rules: tuple[RuleView, ...]  # the rules with a finding in this report: the appendix
    catalog: CatalogView
    policy: PolicyView
    warnings: tuple[str, ...]
    script_data: Mapping[str, Any]  # the findings script's data: the JSON island
    drift: DriftView | None = None  # "since last run" (--history only)
    evidence: str = ""  # audit mode: the summary's first line (render.evidence_line)
    reading: str = ""  # how the log inputs were read: formats, --tz (render.evidence_line)
    evidence_ok: bool = True  # False: the evidence cannot support removals
    actions: tuple[ActionView, ...] = ()  # revoke and remove, riskiest first
    watch: tuple[ActionView, ...] = ()  # deferred removals, riskiest first
    status: str = ""  # "1 new, 11 baselined"; "" when every finding is new
    shared_basis: str = ""  # the start most bases share, stated once (SHARED_BASIS_AT)

    @property
    def new_findings(self) -> tuple[FindingRow, ...]:
        """The findings that count: the table leads with them."""
        return tuple(f for f in self.findings if not f.status)

    @property
    def new_count(self) -> int:
        """How many findings the new rows stand for."""
        return sum(f.count for f in self.new_findings)

    @property
    def grouped(self) -> bool:
        return any(f.more_scopes for f in self.findings)

    @property
    def marked_findings(self) -> tuple[FindingRow, ...]:
        """Baselined or suppressed: collapsed behind a toggle."""
        return tuple(f for f in self.findings if f.status)
    max_unattributed: str = "1%"  # SA304's threshold, for the method section
    code: str = ""  # audit --code: what was scanned, in words ("" without --code)
    rules_without_findings: int = 0  # left out of the appendix
    palette: tuple[SeverityColour, ...] = PALETTE  # the severity colours, most severe first


# --------------------------------------------------------------------------- building


def _evidence_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_evidence_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        inner = [_evidence_value(v) for v in value]
        nested = any(isinstance(v, Mapping) for v in value)
        return ("; " if nested else ", ").join(inner)
    if value is None:
        return "-"
    return str(value)


def _evidence(f: Finding) -> tuple[tuple[str, str], ...]:
    if not f.evidence:
        return ()
    return tuple((visible(str(k)), visible(_evidence_value(v))) for k, v in f.evidence.items())


def _pair_verdicts(audit: Audit) -> list[KeyVerdict | None]:
    """Each key's verdict. Verdicts come in key order, one per key (a duplicated id gets one
    each); fall back to a look-up by id if a producer ever breaks that."""
    if len(audit.verdicts) == len(audit.keys) and all(
            v.key_id == k.id for k, v in zip(audit.keys, audit.verdicts, strict=True)):
        return list(audit.verdicts)
    by_id = {v.key_id: v for v in audit.verdicts}
    return [by_id.get(k.id) for k in audit.keys]


def _granted_groups(key: Key, verdict: KeyVerdict | None,
                    states: tuple[StateView, ...]) -> tuple[ScopeGroup, ...]:
    granted = [visible(s) for s in key.granted]
    if verdict is None:
        return (ScopeGroup("granted", "g", "", "granted", tuple(granted)),) if granted else ()
    groups = []
    deferred = frozenset(verdict.deferred)
    for state in (*states, NOT_GRANTED):
        scopes = tuple(visible(s) for s in key.granted
                       if _state_of(verdict, s, deferred) is state)
        if scopes:
            groups.append(ScopeGroup(state.name, state.code, state.symbol, state.label, scopes))
    return tuple(groups)


# From this many removals whose basis starts alike (at 1,000 keys: a thousand action lines
# and as many cards, most saying "key existed for the whole window (90 days); logs cover 90 of
# those 90 days (100%)"), the report states that start once and each basis continues it
# ("…; key active on 62 days (148 accepted requests)"). A short list keeps every basis whole.
SHARED_BASIS_AT = 20


def _shared_basis(bases: Iterable[str]) -> str:
    """The start most bases share (their first two "; "-separated parts: the days the key was
    observed and the logs' coverage of them), or "" when fewer than SHARED_BASIS_AT do."""
    starts = Counter("; ".join(b.split("; ")[:2]) for b in bases if b.count("; ") >= 2)
    start, n = starts.most_common(1)[0] if starts else ("", 0)
    return start if n >= SHARED_BASIS_AT else ""


def _basis(basis: str, shared: str) -> str:
    """A basis as shown: "…" for ``shared`` where it starts so, else whole and capitalised."""
    if shared and basis.startswith(shared + "; "):
        return visible("…" + basis[len(shared):])
    return visible(basis[:1].upper() + basis[1:])


def _removals(verdict: KeyVerdict, deferred: bool, shared: str) -> tuple[RemovalGroup, ...]:
    """The removals recommended now, or (``deferred``) those deferred for thin evidence."""
    return tuple(RemovalGroup(conf.level, _basis(conf.basis, shared),
                              tuple(visible(s) for s in scopes), conf.deferred)
                 for conf, scopes in verdict.removals_by_confidence()
                 if conf.deferred is deferred)


def _usage_facts(key: Key, v: KeyVerdict, shared: str) -> KeyTrafficFacts:
    granted = set(key.granted)
    return KeyTrafficFacts(
        accepted=v.accepted, denied=v.denied, unauthorized=v.unauthorized,
        active_days=v.active_days,
        first_seen=visible(v.first_seen or ""), last_seen=visible(v.last_seen or ""),
        recommended=tuple(visible(s) for s in v.recommended),
        removals=_removals(v, deferred=False, shared=shared),
        remove_count=len(v.remove) - len(v.deferred),
        watch=_removals(v, deferred=True, shared=shared),
        watch_count=len(v.deferred),
        undeclared=tuple(visible(s) for s in v.undeclared),
        refused=tuple(visible(s) for s, st in v.states.items()
                      if st == "denied" and s not in granted),
        clients=tuple(ClientView(visible(c.client), c.requests, visible(c.first_seen),
                                 visible(c.last_seen)) for c in v.clients),
        client_count=str(v.clients_total),
        unmatched=tuple((visible(shape), n) for shape, n in v.unmatched),
        sources=tuple(visible(source_text(u)) for u in v.sources),
        before_window=tuple(visible(t) for t in before_window_texts(v)),
        needed_by_code=tuple(visible(t) for t in needed_by_code_texts(v)),
    )


def _card(index: int, key: Key, verdict: KeyVerdict | None,
          refs: Sequence[FindingRef], states: tuple[StateView, ...], shared: str) -> CardView:
    return CardView(
        anchor=f"key-{index}",
        key_id=visible(key.id),
        name=visible(key.name or ""),
        owner=visible(key.owner or ""),
        created=key.created.isoformat() if key.created else "",
        expires=key.expires.isoformat() if key.expires else "",
        tags=tuple(visible(t) for t in key.tags),
        location=visible(str(key.location)),
        granted=len(key.granted),
        granted_groups=_granted_groups(key, verdict, states),
        usage=_usage_facts(key, verdict, shared) if verdict is not None else None,
        findings=tuple(refs),
    )


def _chart(labels: Sequence[tuple[str, str]], verdicts: Sequence[KeyVerdict],
           states: tuple[StateView, ...] = STATES) -> ChartView:
    """A horizontal stacked bar per key: how many of its scopes are in each state."""
    counts = []
    for v in verdicts:
        deferred = frozenset(v.deferred)
        shown = [_state_of(v, scope, deferred) for scope in v.states]
        counts.append([sum(1 for st_ in shown if st_ is st) for st in states])
    scale_max = max((sum(c) for c in counts), default=0) or 1
    rows = []
    for i, ((label, anchor), per_state) in enumerate(zip(labels, counts, strict=True)):
        x = _CHART_LABEL_W
        segments = []
        for state, n in zip(states, per_state, strict=True):
            if n:
                width = max(2, round(n * _CHART_BAR_W / scale_max))
                segments.append(ChartSegment(state.name, state.code, n, x, width))
                x += width
        words = " · ".join(f"{n} {st.label}" for st, n in zip(states, per_state, strict=True)
                           if n) or "no scopes"
        rows.append(ChartRow(_short(label, _CHART_LABEL_CHARS), label, anchor,
                             _CHART_TOP + i * _CHART_ROW_H, tuple(segments), words))
    return ChartView(
        width=_CHART_LABEL_W + _CHART_BAR_W + _CHART_TEXT_W,
        height=_CHART_TOP + len(rows) * _CHART_ROW_H + 4,
        label_w=_CHART_LABEL_W, bar_x=_CHART_LABEL_W, bar_h=_CHART_BAR_H,
        text_x=_CHART_LABEL_W + _CHART_BAR_W + 8, rows=tuple(rows), scale_max=scale_max,
        legend_x=_legend_x(states),
    )


def _legend_x(states: tuple[StateView, ...]) -> tuple[int, ...]:
    xs, x = [], _CHART_LABEL_W
    for state in states:
        xs.append(x)
        x += _CHART_LEGEND_WIDE if len(state.label) > 10 else _CHART_LEGEND_STEP
    return tuple(xs)


def _matrix(labels: Sequence[tuple[str, str]], keys: Sequence[Key],
            verdicts: Sequence[KeyVerdict]) -> MatrixView:
    scopes = sorted({s for v in verdicts for s in v.states})
    rows = []
    for (label, anchor), key, verdict in zip(labels, keys, verdicts, strict=True):
        granted = set(key.granted)
        deferred = frozenset(verdict.deferred)
        cells = []
        for scope in scopes:
            state = _state_of(verdict, scope, deferred)
            outside = state is not NOT_GRANTED and scope not in granted
            css = "" if state is NOT_GRANTED else f"s-{state.code}" + (" out" if outside else "")
            cells.append(MatrixCell(state.name, state.symbol, outside, css))
        plain = Counter(c.css for c in cells).most_common(1)[0][0] if cells else ""
        rows.append(MatrixRow(label, visible(key.id), anchor, tuple(cells),
                              plain if " " not in plain else ""))
    return MatrixView(tuple(visible(s) for s in scopes), tuple(rows))


def key_names(audit: Audit) -> dict[str, str]:
    """Each key id's name as every view of the report shows it (the id where a definition
    gives no name; a duplicated id: its first definition's)."""
    names: dict[str, str] = {}
    for k in audit.keys:
        names.setdefault(k.id, k.name or k.id)
    return names


# Above this many findings, a rule's findings on one key that differ only in their scope
# (SA102 on twenty scopes of a key) share one row: at 1,000 keys of 26 scopes a row per
# finding made the table 20 MB and the page unusable. Below it, one row per finding.
GROUP_ABOVE = 1000


def _group_key(f: Finding) -> tuple[object, ...] | None:
    """What findings must share to be one row: all but the scope and the line."""
    if f.key is None or f.scope is None:
        return None
    return (f.rule, f.severity, f.key, f.confidence, f.status, f.location.file)


def _grouped(findings: Sequence[Finding]) -> list[list[int]]:
    """The findings' indexes in rows: runs of consecutive findings with one group key (the
    Audit's order puts a rule's findings on a key together), or one finding a row."""
    rows: list[list[int]] = []
    group_by = len(findings) > GROUP_ABOVE
    last: tuple[object, ...] | None = None
    for i, f in enumerate(findings):
        key = _group_key(f) if group_by else None
        if key is not None and key == last:
            rows[-1].append(i)
        else:
            rows.append([i])
        last = key
    return rows


def _finding_rows(audit: Audit, key_anchor: Mapping[str, str]) -> tuple[FindingRow, ...]:
    names = key_names(audit)
    found = audit.findings
    # a grouped table (a large report) leaves each finding's evidence and fingerprint to the
    # JSON report: the cards state each removal's basis, and the rows stay small
    brief = len(found) > GROUP_ABOVE
    return tuple(
        FindingRow(
            index=i, anchor=f"finding-{i}", severity=f.severity.value, rule=f.rule,
            name=visible(f.name), key=visible(f.key or ""),
            key_label=visible(names.get(f.key, f.key) if f.key else ""),
            key_anchor=key_anchor.get(f.key or "", "") if f.key else "",
            scope=visible(f.scope or ""), location=visible(str(f.location)),
            message=visible(f.message), evidence=() if brief else _evidence(f),
            confidence=f.confidence or "", fingerprint="" if brief else f.fingerprint,
            status=f.status,
            more_scopes=tuple(visible(found[j].scope or "") for j in group[1:]),
            more_lines=tuple(found[j].location.line for j in group[1:]), first=i,
        )
        for group in _grouped(found)
        for i, f in ((group[0], found[group[0]]),)
    )


ISLAND_COLUMNS = ("severity", "rule", "key", "scope", "file", "line", "confidence", "count")


def _script_data(audit: Audit, rows: Sequence[FindingRow]) -> dict[str, Any]:
    """What the findings script sorts and filters on: the original strings, untouched (the
    island is JSON, not HTML; ``script_json`` makes it safe there). One array per row of the
    findings table, in its order (a row's first finding, and how many it stands for), its
    fields named once by ``columns``. What repeats from row to row is written once: a row's
    ``severity``, ``rule``, ``key``, ``file`` and ``confidence`` are indexes into
    ``severities``, ``rules`` and ``keys`` (``[id, name]`` pairs), ``files`` and
    ``confidences``; at 1,000 keys the repeats were a third of a megabyte. The script reads
    these back (``report.html.j2``): change both together."""
    names = key_names(audit)
    severities = [s.value for s in Severity.descending()]
    keys: dict[str, int] = {}
    files: dict[str, int] = {}
    confidences: dict[str, int] = {}
    rules: dict[str, tuple[int, str]] = {}  # id: (index, name)
    entries = []
    for row in rows:
        if row.status:
            continue
        f = audit.findings[row.first]
        rule = rules.setdefault(f.rule, (len(rules), f.name))[0]
        key = keys.setdefault(f.key, len(keys)) if f.key is not None else None
        confidence = (confidences.setdefault(f.confidence, len(confidences))
                      if f.confidence is not None else None)
        entries.append([severities.index(f.severity.value), rule, key, f.scope,
                        files.setdefault(f.location.file, len(files)), f.location.line,
                        confidence, row.count])
    return {
        "severities": severities,
        "columns": list(ISLAND_COLUMNS),
        "rules": [[rule, name] for rule, (_, name) in rules.items()],
        "keys": [[key, names.get(key, key)] for key in keys],
        "files": list(files),
        "confidences": list(confidences),
        "findings": entries,
    }


def _action_view(action: Action, key_anchor: Mapping[str, str], shared: str) -> ActionView:
    return ActionView(action.kind, visible(action.key_id), key_anchor.get(action.key_id, ""),
                      tuple(visible(s) for s in action.scopes), action.count, action.level,
                      _basis(action.basis, shared))


def _policy(audit: Audit) -> PolicyView:
    p = audit.confidence_policy
    return PolicyView(p.high_days, f"{p.high_coverage:.0%}", p.high_active_days,
                      p.medium_days, f"{p.medium_coverage:.0%}", p.medium_active_days)


def build_view(audit: Audit) -> ReportView:
    """The whole report as display-ready values; the template decides only the layout."""
    keys_input = next((i for i in audit.inputs if i.kind == "keys"), None)
    keys_source = visible(keys_input.path) if keys_input else ""
    labels = [(visible(k.name or k.id), f"key-{i}") for i, k in enumerate(audit.keys, 1)]
    key_anchor: dict[str, str] = {}
    for (_, anchor), k in zip(labels, audit.keys, strict=True):
        key_anchor.setdefault(k.id, anchor)  # a duplicated id links to its first card
    findings = _finding_rows(audit, key_anchor)
    refs: dict[str, list[FindingRef]] = {}
    for row in findings:
        f = audit.findings[row.first]
        if f.key is not None:
            scope = row.scope + (f" +{len(row.more_scopes)}" if row.more_scopes else "")
            refs.setdefault(f.key, []).append(FindingRef(row.anchor, row.severity, row.rule,
                                                         row.name, scope, row.message))
    verdicts = _pair_verdicts(audit)
    # a report that read code shows its state apart from used; one that did not never names it
    states = (STATES[0], NEEDED_BY_CODE, *STATES[1:]) if audit.code is not None else STATES
    shared = _shared_basis(conf.basis for v in audit.verdicts
                           for conf, _ in v.removals_by_confidence())
    cards = tuple(_card(i, k, v, refs.get(k.id, ()), states, shared)
                  for i, (k, v) in enumerate(zip(audit.keys, verdicts, strict=True), 1))

    is_audit = audit.mode == "audit" and audit.window is not None
    coverage = usage = replay = chart = matrix = None
    judged = [(lab, k, v) for lab, k, v in zip(labels, audit.keys, verdicts, strict=True)
              if v is not None]
    if is_audit and audit.window is not None and audit.coverage is not None:
        cov, win = audit.coverage, audit.window
        coverage = CoverageView(
            win.since.isoformat(), win.until.isoformat(), win.days, cov.days_with_data,
            f"{cov.ratio:.0%}",
            tuple(a.isoformat() if a == b else f"{a.isoformat()} – {b.isoformat()}"
                  for a, b in cov.gaps),
            tuple((visible(p), n) for p, n in sorted(cov.by_input.items())))
    if is_audit:
        usage = audit.usage  # its counts as they stand: numbers, nothing to escape
    if is_audit and audit.replay is not None:
        r = audit.replay
        replay = ReplayView(r.requests, r.would_be_denied, r.unverifiable,
                            tuple((visible(k), visible(op), n) for k, op, n in r.denied_shapes))
    if is_audit:
        chart = _chart([lab for lab, _, _ in judged], [v for _, _, v in judged if v], states)
        matrix = _matrix([lab for lab, _, _ in judged], [k for _, k, _ in judged],
                         [v for _, _, v in judged if v])

    actions = build_actions(audit) if is_audit else None
    counts = count_by_severity(audit.findings)
    suppressed = sum(1 for f in audit.findings if not f.counts)  # suppressed or baselined
    fired: dict[str, int] = {}
    for f in audit.findings:
        fired[f.rule] = fired.get(f.rule, 0) + 1
    cat = audit.catalog
    return ReportView(
        title=f"scopeaudit {audit.mode} report: {keys_source}" if keys_source
        else f"scopeaudit {audit.mode} report",
        mode=audit.mode,
        is_audit=is_audit,
        tool_version=audit.tool_version,
        as_of=audit.as_of.isoformat(),
        generated_at=audit.generated_at or "",
        keys_source=keys_source,
        summary=SummaryView(len(audit.keys), len(audit.findings),
                            tuple(SeverityCount(s, n) for s, n in counts.items()),
                            len(audit.findings) - suppressed, suppressed,
                            audit.alarming, *audit.removal_counts()),
        inputs=tuple(InputView(visible(i.path), i.kind, i.sha256, i.records, i.skipped,
                               ", ".join(map(str, i.skipped_lines)),
                               tuple(visible(f"{n:,} {r}") for r, n in i.skip_reasons),
                               visible(i.source or ""),
                               attributed_text(i.accepted, i.unattributed)
                               if i.kind == "logs" and is_audit else "")
                     for i in audit.inputs),
        evidence=visible(line) if (line := evidence_line(audit)) is not None else "",
        reading=visible(read) if (read := reading_line(audit)) is not None else "",
        evidence_ok=audit.evidence is None or audit.evidence.supports_removals,
        actions=tuple(_action_view(a, key_anchor, shared) for a in actions.actions)
        if actions else (),
        status=status_text(audit.findings) if suppressed else "",
        watch=tuple(_action_view(a, key_anchor, shared) for a in actions.watch) if actions else (),
        shared_basis=visible(shared),
        max_unattributed=percent(audit.evidence.max_unattributed)
        if audit.evidence is not None else "1%",
        coverage=coverage, usage=usage, replay=replay,
        states=states, not_granted=NOT_GRANTED, chart=chart, matrix=matrix,
        cards=cards, findings=findings,
        severities=tuple(s.value for s in Severity.descending()),
        # a printed review explains what it found; `scopeaudit rules` lists every rule
        rules=tuple(RuleView(r.id, r.name, r.severity.value, r.summary, r.what, r.why,
                             r.example, r.remediation, fired[r.id])
                    for r in audit.rules if r.id in fired),
        rules_without_findings=sum(1 for r in audit.rules if r.id not in fired),
        catalog=CatalogView(visible(cat.name), visible(cat.version), visible(cat.source),
                            cat.operations, cat.scopes,
                            tuple((visible(k), n) for k, n in cat.provenance.items())),
        policy=_policy(audit),
        warnings=tuple(visible(w) for w in audit.warnings),
        script_data=_script_data(audit, findings),
        drift=drift_view(audit.drift, visible),
        code=visible(code_text(audit.code)) if audit.code is not None else "",
    )


def render_html(audit: Audit, options: RenderOptions) -> str:
    """The report as one HTML document (no external resource of any kind)."""
    return render_template(TEMPLATE, {"report": build_view(audit)}, options.template_dir,
                           filters={"num": _num, "csp_hash": _csp_hash,
                                    "breakable": _breakable, "dates": _unbroken_dates})
