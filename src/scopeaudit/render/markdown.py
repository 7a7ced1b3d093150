"""The Markdown report: GitHub-flavoured, for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

The renderer turns the Audit value into a plain view model (the dataclasses below) and hands it
to ``report.md.j2``; the template only formats. Every string that came from an input (key ids,
names, owners, scopes, messages, paths, user agents) goes through the one ``md`` filter, which
makes it inert Markdown: see :func:`md`.

GitHub refuses a step summary over 1 MiB, so the report is rendered with everything first and,
only when that is over :data:`BUDGET_BYTES`, summarised: per-key sections beyond the first
:data:`KEY_SECTIONS_WHEN_TRUNCATED` go, then the findings table is cut to its most severe rows
(the Audit's order), and a visible note says what was left out.

Longer than 500 lines on purpose: the view model, the one ``md`` filter and the budget cut
belong together (the cut measures the rendered rows the view built); the view types shared
with the HTML report live in their own modules (actions, evidence_line, drift_view).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from scopeaudit.errors import InputError
from scopeaudit.model import (
    NEEDED_BY_CODE,
    Audit,
    ClientCount,
    Finding,
    Key,
    KeyVerdict,
    Severity,
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
from scopeaudit.render.lazy_rows import LazyRows
from scopeaudit.render.text import (
    LIST_LIMIT,
    first,
    new_first,
    show_invisible,
    status_text,
)

TEMPLATE = "report.md.j2"
BUDGET_BYTES = 1_000_000  # GitHub's step-summary limit is 1 MiB; stay clear of it
KEY_SECTIONS_WHEN_TRUNCATED = 25
CELL_LIMIT = 200  # characters of one input string shown, by default
TEXT_LIMIT = 500  # for messages, bases and warnings, which are sentences
ACTION_LIMIT = 50  # actions (and watch items) listed before "N more": a comment stays short

# ---------------------------------------------------------------------------------------------
# The md filter


# Markdown punctuation that could start emphasis, code, links, table cells, headings, images,
# strikethrough or (on GitHub) math is backslash-escaped, which CommonMark shows as the
# character itself; &, < and > become entities, so no tag or entity can form.
_ESCAPES = str.maketrans({
    **{c: "\\" + c for c in "\\`*_[]|#!~$"},
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
})
# U+200D ZERO WIDTH JOINER after "@" or "#" stops GitHub from linking a mention (@org/team)
# or an issue (#123): its filters run on the rendered text and need the two side by side.
# An e-mail address (a letter or digit before the @) pings nobody and is left alone.
ZWJ = "\u200d"
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
_ISSUE = re.compile(r"#(?=[0-9])")
# A line start that would make a list item, a heading underline or an ordered list.
_LEADING_MARKER = re.compile(r" *(?:[-+=]|[0-9]+[.)])")


def md(value: object, limit: int = CELL_LIMIT) -> Markup:
    """``value`` as inert GitHub Markdown text, HTML-escaped exactly once, as Markup.

    - cut to ``limit`` characters (the last one "…");
    - control characters, line breaks and bidi controls shown as ``\\xNN`` / ``\\uNNNN``, so a
      table row cannot break and nothing moves the cursor;
    - ``\\ ` * _ [ ] | # ! ~ $`` backslash-escaped, and a leading ``-``, ``+``, ``=`` or
      ``1.``/``1)`` too, so nothing becomes emphasis, code, a link, a list or a heading;
    - ``&``, ``<`` and ``>`` as HTML entities (GitHub shows ``&lt;`` as ``<``), so no tag or
      entity can form; quotes need nothing, as no tag can open;
    - ``@name`` (not an e-mail address) and ``#123`` get a zero-width joiner after the ``@`` or
      ``#``, so they neither ping anyone nor link an issue.

    The result is Markup, so Jinja's autoescape leaves it alone; Markup given in (the output
    of an earlier ``md``) is returned unchanged, so nothing is escaped twice.
    """
    if isinstance(value, Markup):
        return value
    return _md_text("" if value is None else str(value), limit)


@lru_cache(maxsize=1 << 16)
def _md_text(text: str, limit: int) -> Markup:
    """:func:`md` of a string; cached, as a report cut to its budget is rendered several
    times and repeats its key ids, scopes and paths on every row."""
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    text = show_invisible(text)  # before the ZWJs below are put in
    text = _ISSUE.sub("#" + ZWJ, _MENTION.sub("@" + ZWJ, text))
    marker = _LEADING_MARKER.match(text)
    # the marker's characters (spaces, digits, - + = . )) are not changed by _ESCAPES
    cut = marker.end() - 1 if marker else 0
    escaped = text[:cut] + ("\\" if marker else "") + text[cut:].translate(_ESCAPES)
    return Markup(escaped)  # noqa: S704 - every character above is escaped or inert


def num(value: int) -> str:
    """An integer with thousands separators: 415,154."""
    return f"{value:,}"


# ---------------------------------------------------------------------------------------------
# The view model: plain, already-decided data; the template only lays it out


@dataclass(frozen=True)
class SeverityCount:
    severity: str
    count: int


@dataclass(frozen=True)
class InputRow:
    path: str
    kind: str
    records: int
    days_with_data: int | None  # audit mode, log inputs only
    skipped: int
    skipped_lines: tuple[int, ...]  # the first LIST_LIMIT
    more_skipped_lines: int
    skip_reasons: tuple[str, ...] = ()  # "94 unreadable time", every reason
    source: str | None = None  # log inputs of an audit
    attributed: str | None = None  # accepted requests attributed to a key: "all 1,234"


@dataclass(frozen=True)
class ReplayRefusal:
    key: str
    operation: str
    requests: int


@dataclass(frozen=True)
class WindowView:
    """What only an audit with logs has: window, coverage, requests read, replay."""

    since: str
    until: str
    days: int
    days_with_data: int
    days_in_window: int
    coverage_percent: str
    gaps: tuple[str, ...]  # "2026-10-03" or "2026-10-03 to 2026-10-05", the first LIST_LIMIT
    more_gaps: int
    records: int
    requests: int
    in_window: int
    outside_window: int
    unattributed: int
    preflight: int
    unknown_keys: int
    replay_requests: int
    replay_refused: int
    replay_unverifiable: int
    replay_refusals: tuple[ReplayRefusal, ...]  # the first LIST_LIMIT
    more_replay_refusals: int


@dataclass(frozen=True)
class RemovalGroup:
    """Removals of one key that share a confidence level and basis, in the verdict's order."""

    scopes: tuple[str, ...]
    level: str
    deferred: bool  # low confidence: deferred (SA108), not recommended
    basis: str


@dataclass(frozen=True)
class ClientRow:
    client: str
    requests: int


@dataclass(frozen=True)
class ShapeRow:
    request: str
    requests: int


@dataclass(frozen=True)
class KeySection:
    key_id: str
    name: str | None
    owner: str | None
    created: str | None
    expires: str | None
    file: str
    line: int
    granted: tuple[str, ...]
    recommended: tuple[str, ...]
    removals: tuple[RemovalGroup, ...]  # recommended now, then the deferred ones ("watch")
    remove_count: int  # recommended now (a deferred removal is not one)
    used: tuple[str, ...]
    unknown: tuple[str, ...]
    denied: tuple[str, ...]
    undeclared: tuple[str, ...]
    accepted: int
    refused: int  # 403
    unauthenticated: int  # 401
    active_days: int
    first_seen: str | None
    last_seen: str | None
    clients_count: str  # distinct clients: "3", "more than 200"
    clients: tuple[ClientRow, ...]  # the first LIST_LIMIT
    more_clients: str  # how many more than shown ("" none), as clients_count says it
    unmatched: tuple[ShapeRow, ...]  # the first LIST_LIMIT
    more_unmatched: int
    sources: tuple[str, ...] = ()  # the sources of its traffic: "name (N days, last DATE)"
    before_window: tuple[str, ...] = ()  # use before the window, in words (before_window_texts)
    # audit --code: scopes kept for the code, "scope (file:line, …)"
    needed_by_code: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindingRow:
    severity: str
    status: str  # "", "suppressed" or "baselined"
    rule: str
    name: str
    key: str | None
    scope: str | None
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class RuleRow:
    id: str
    name: str
    summary: str


@dataclass(frozen=True)
class Verdict:
    """The one-line verdict: the gravest severities present (unsuppressed) and the removals."""

    level: str  # "action" (critical or high), "review" (anything else), "clean" (nothing)
    critical: int
    high: int
    findings: int  # unsuppressed
    removals: int  # recommended removals (high or medium confidence)
    removal_keys: int
    deferred: int  # low-confidence removals, deferred


@dataclass(frozen=True)
class Truncation:
    findings: int
    key_sections: int
    inputs: int
    warnings: int


@dataclass(frozen=True)
class MarkdownView:
    mode: str  # "audit" | "lint"
    tool_version: str
    as_of: str
    generated_at: str | None
    verdict: Verdict
    keys_audited: int
    keys_sources: tuple[str, ...]
    findings_total: int
    suppressed: int
    by_severity: tuple[SeverityCount, ...]  # every severity, gravest first, zeros included
    catalog: str
    catalog_source: str
    catalog_operations: int
    catalog_scopes: int
    usage: WindowView | None  # None in lint mode: usage sections are left out
    inputs: tuple[InputRow, ...]
    skipped_total: int
    # the rows' lists are built lazily (LazyRows) by build_view: a cut builds only its rows
    key_sections: Sequence[KeySection]  # audit mode: keys with something to do
    quiet_keys: tuple[str, ...]  # audit mode: keys with nothing to do
    findings: Sequence[FindingRow]  # new: neither baselined nor suppressed
    rules: tuple[RuleRow, ...]  # the rules of this report's findings
    warnings: tuple[str, ...]
    truncation: Truncation | None
    drift: DriftView | None = None  # --history only
    evidence: str | None = None  # audit mode: the summary's first line (evidence_line)
    reading: str | None = None  # how the log inputs were read: formats, --tz (reading_line)
    code: str | None = None  # audit --code: what was scanned, in words (code_text)
    actions: tuple[Action, ...] = ()  # audit mode: revoke and remove, riskiest first
    watch: tuple[Action, ...] = ()  # audit mode: deferred removals, riskiest first
    more_actions: int = 0  # past ACTION_LIMIT
    more_watch: int = 0
    marked_findings: Sequence[FindingRow] = ()  # baselined or suppressed: collapsed
    status: str = ""  # "1 new, 11 baselined"; "" when every finding is new


def _usage_view(audit: Audit) -> WindowView | None:
    if audit.mode != "audit" or audit.window is None or audit.coverage is None \
            or audit.usage is None or audit.replay is None:
        return None
    cov, usage, replay = audit.coverage, audit.usage, audit.replay
    gaps = [a.isoformat() if a == b else f"{a.isoformat()} to {b.isoformat()}"
            for a, b in cov.gaps]
    refusals = [ReplayRefusal(k, op, n) for k, op, n in replay.denied_shapes]
    return WindowView(
        since=audit.window.since.isoformat(), until=audit.window.until.isoformat(),
        days=audit.window.days, days_with_data=cov.days_with_data,
        days_in_window=cov.days_in_window, coverage_percent=f"{cov.ratio:.0%}",
        gaps=first(gaps), more_gaps=max(len(gaps) - LIST_LIMIT, 0),
        records=usage.records, requests=usage.requests, in_window=usage.in_window,
        outside_window=usage.outside_window, unattributed=usage.unattributed,
        preflight=usage.preflight, unknown_keys=usage.unknown_keys,
        replay_requests=replay.requests, replay_refused=replay.would_be_denied,
        replay_unverifiable=replay.unverifiable,
        replay_refusals=tuple(refusals[:LIST_LIMIT]),
        more_replay_refusals=max(len(refusals) - LIST_LIMIT, 0),
    )


def _removal_groups(v: KeyVerdict) -> tuple[RemovalGroup, ...]:
    groups = [RemovalGroup(scopes, conf.level, conf.deferred, conf.basis)
              for conf, scopes in v.removals_by_confidence()]
    return tuple(sorted(groups, key=lambda g: g.deferred))  # stable: recommended ones first


def _has_something_to_do(v: KeyVerdict, keys_with_findings: set[str]) -> bool:
    """Removals, refused or unexplained use, or a finding above info on the key."""
    if v.remove or v.undeclared or v.denied or v.unauthorized:
        return True
    if any(state in ("unknown", "denied", NEEDED_BY_CODE) for state in v.states.values()):
        return True
    return v.key_id in keys_with_findings


def _more_clients(total: ClientCount, shown: int) -> str:
    """How many clients more than the ``shown`` ones ("" none), said as ``total`` says it."""
    if total.at_least <= shown:
        return ""
    return str(ClientCount(total.listed - shown, total.more))


def _key_section(v: KeyVerdict, key: Key | None) -> KeySection:
    states = sorted(v.states.items())
    return KeySection(
        key_id=v.key_id,
        name=key.name if key else None,
        owner=key.owner if key else None,
        created=key.created.isoformat() if key and key.created else None,
        expires=key.expires.isoformat() if key and key.expires else None,
        file=key.location.file if key else "",
        line=key.location.line if key else 0,
        granted=key.granted if key else (),
        recommended=v.recommended,
        removals=_removal_groups(v),
        remove_count=len(v.remove) - len(v.deferred),
        used=tuple(s for s, state in states if state == "used"),
        unknown=tuple(s for s, state in states if state == "unknown"),
        denied=tuple(s for s, state in states if state == "denied"),
        undeclared=v.undeclared,
        accepted=v.accepted, refused=v.denied, unauthenticated=v.unauthorized,
        active_days=v.active_days, first_seen=v.first_seen, last_seen=v.last_seen,
        clients_count=str(v.clients_total),
        clients=tuple(ClientRow(c.client, c.requests) for c in v.clients[:LIST_LIMIT]),
        more_clients=_more_clients(v.clients_total, min(len(v.clients), LIST_LIMIT)),
        unmatched=tuple(ShapeRow(s, n) for s, n in v.unmatched[:LIST_LIMIT]),
        more_unmatched=max(len(v.unmatched) - LIST_LIMIT, 0),
        sources=tuple(source_text(u) for u in v.sources),
        before_window=before_window_texts(v),
        needed_by_code=needed_by_code_texts(v),
    )


def _finding_row(f: Finding) -> FindingRow:
    return FindingRow(f.severity.value, f.status, f.rule, f.name, f.key, f.scope,
                      f.location.file, f.location.line, f.message)


def _verdict(audit: Audit) -> Verdict:
    active = [f for f in audit.findings if f.counts]
    removals, removal_keys, deferred = audit.removal_counts()
    critical = sum(1 for f in active if f.severity is Severity.CRITICAL)
    high = sum(1 for f in active if f.severity is Severity.HIGH)
    level = "action" if audit.alarming else "review" if active else "clean"
    return Verdict(level, critical, high, len(active), removals, removal_keys, deferred)


def build_view(audit: Audit) -> MarkdownView:
    """Everything the template shows, decided here (nothing is left out yet)."""
    usage = _usage_view(audit)
    keys: dict[str, Key] = {}
    for k in audit.keys:
        keys.setdefault(k.id, k)  # a duplicated id (SA209): the first definition
    with_sections: list[KeyVerdict] = []
    quiet: list[str] = []
    if usage is not None:
        noted = {f.key for f in audit.findings
                 if f.key is not None and f.counts and f.severity > Severity.INFO}
        for v in audit.verdicts:
            if _has_something_to_do(v, noted):
                with_sections.append(v)
            else:
                quiet.append(v.key_id)
    days = audit.coverage.by_input if usage is not None and audit.coverage else {}
    logs = usage is not None
    inputs = tuple(
        InputRow(i.path, i.kind, i.records,
                 days.get(i.path) if i.kind == "logs" and logs else None,
                 i.skipped, i.skipped_lines[:LIST_LIMIT],
                 max(len(i.skipped_lines) - LIST_LIMIT, 0),
                 tuple(f"{n:,} {reason}" for reason, n in i.skip_reasons),
                 i.source if i.kind == "logs" and logs else None,
                 attributed_text(i.accepted, i.unattributed) if i.kind == "logs" and logs
                 else None)
        for i in audit.inputs)
    fired = {f.rule for f in audit.findings}
    new, marked = new_first(audit.findings)
    actions = build_actions(audit) if usage is not None else None
    return MarkdownView(
        mode=audit.mode,
        tool_version=audit.tool_version,
        as_of=audit.as_of.isoformat(),
        generated_at=audit.generated_at,
        verdict=_verdict(audit),
        keys_audited=len(audit.keys),
        keys_sources=tuple(i.path for i in audit.inputs if i.kind == "keys"),
        findings_total=len(audit.findings),
        suppressed=sum(1 for f in audit.findings if not f.counts),
        by_severity=tuple(SeverityCount(s, n)
                          for s, n in count_by_severity(audit.findings).items()),
        catalog=f"{audit.catalog.name} {audit.catalog.version}",
        catalog_source=audit.catalog.source,
        catalog_operations=audit.catalog.operations,
        catalog_scopes=audit.catalog.scopes,
        usage=usage,
        inputs=inputs,
        skipped_total=sum(i.skipped for i in audit.inputs),
        key_sections=LazyRows(with_sections, lambda v: _key_section(v, keys.get(v.key_id))),
        quiet_keys=tuple(quiet),
        findings=LazyRows(new, _finding_row),
        marked_findings=LazyRows(marked, _finding_row),
        status=status_text(audit.findings) if marked else "",
        rules=tuple(RuleRow(r.id, r.name, r.summary) for r in audit.rules if r.id in fired),
        warnings=audit.warnings,
        truncation=None,
        drift=drift_view(audit.drift),
        evidence=evidence_line(audit) if usage is not None else None,
        reading=reading_line(audit) if usage is not None else None,
        code=code_text(audit.code) if audit.code is not None else None,
        actions=actions.actions[:ACTION_LIMIT] if actions else (),
        watch=actions.watch[:ACTION_LIMIT] if actions else (),
        more_actions=max(len(actions.actions) - ACTION_LIMIT, 0) if actions else 0,
        more_watch=max(len(actions.watch) - ACTION_LIMIT, 0) if actions else 0,
    )


# ---------------------------------------------------------------------------------------------
# Rendering within the budget


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(full: MarkdownView, keys: int, findings: int, inputs: int,
         warnings: int) -> MarkdownView:
    return replace(
        full,
        key_sections=full.key_sections[:keys],
        # the new findings are kept first, then the baselined and suppressed ones
        findings=full.findings[:findings],
        marked_findings=full.marked_findings[:max(findings - len(full.findings), 0)],
        inputs=full.inputs[:inputs],
        warnings=full.warnings[:warnings],
        truncation=Truncation(
            findings=max(len(full.findings) + len(full.marked_findings) - findings, 0),
            key_sections=len(full.key_sections) - min(keys, len(full.key_sections)),
            inputs=len(full.inputs) - min(inputs, len(full.inputs)),
            warnings=len(full.warnings) - min(warnings, len(full.warnings)),
        ),
    )


Shape = tuple[int, int, int, int]  # key sections, findings, inputs, warnings kept


def _largest(upper: int, fits: Callable[[int], bool], guess: int) -> int:
    """The largest n in 0..upper with fits(n), given fits(0), a monotone fits, and a guess
    near the answer: gallop from the guess, then bisect, so few renders are needed."""
    low, high = 0, upper  # invariant: fits(low), and nothing above high fits
    guess = min(max(guess, 0), upper)
    step = 1
    if fits(guess):
        low = guess
        while low < high:
            probe = min(low + step, high)
            if not fits(probe):
                high = probe - 1
                break
            low, step = probe, step * 2
    else:
        high = guess - 1
        while low < high:
            probe = max(high - step, low)
            if fits(probe):
                low = probe
                break
            high, step = probe - 1, step * 2
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


SAMPLE_ROWS = 64  # rows rendered to learn a list's bytes per row


def _over(full: MarkdownView, render: Callable[[MarkdownView], str], budget: int) -> bool:
    """Whether ``full`` is surely over ``budget``: a sample of its findings and key sections
    is, extrapolated with some margin (a report far over budget is never rendered whole)."""
    keys, rows = len(full.key_sections), len(full.findings) + len(full.marked_findings)
    inputs, warnings = len(full.inputs), len(full.warnings)
    k, n = min(keys, SAMPLE_ROWS), min(rows, SAMPLE_ROWS)
    base = _size(render(_cut(full, 0, 0, inputs, warnings)))
    sample = _size(render(_cut(full, k, n, inputs, warnings)))
    if sample > budget:
        return True
    with_keys = _size(render(_cut(full, k, 0, inputs, warnings)))
    per_key = (with_keys - base) / max(k, 1)
    per_row = (sample - with_keys) / max(n, 1)
    return base + per_key * keys + per_row * rows > 1.2 * budget


def _largest_by_size(upper: int, size: Callable[[int], int], budget: int, guess: int) -> int:
    """The largest n in 0..upper with size(n) <= budget, given size(0) <= budget and a size
    that grows with n: each probe is placed where the sizes measured so far say the budget
    falls (rows are alike, so two or three renders find it), halving the interval when that
    stalls."""
    lo, lo_size = 0, size(0)
    hi, hi_size = upper + 1, -1  # hi: the smallest n known not to fit (upper + 1: none yet)
    n = min(max(guess, 0), upper)
    while hi - lo > 1:
        if n <= lo or n >= hi:
            n = (lo + hi) // 2
        measured = size(n)
        if measured <= budget:
            lo, lo_size = n, measured
        else:
            hi, hi_size = n, measured
        if hi - lo <= 1:
            break
        if hi_size > lo_size:  # between two measures: where the line between them meets it
            n = lo + int((budget - lo_size) * (hi - lo) / (hi_size - lo_size))
        elif lo:  # only fitting measures yet: extrapolate from the average row
            n = int(budget * lo / max(lo_size, 1))
        else:
            n = (lo + hi) // 2
        if hi - lo > 2 and n == lo:  # the estimate sits on a bound: probe just past it
            n = lo + 1
    return lo


def fit_to_budget(full: MarkdownView, render: Callable[[MarkdownView], str],
                  budget: int = BUDGET_BYTES, template: str = TEMPLATE) -> str:
    """``render(full)`` if it is within ``budget`` bytes, else the largest summary that is.

    Cuts, in order: per-key sections beyond the first KEY_SECTIONS_WHEN_TRUNCATED, findings
    rows from the least severe end, the remaining key sections, then input rows and warnings.
    """
    rows = len(full.findings) + len(full.marked_findings)
    if rows + len(full.key_sections) <= SAMPLE_ROWS * 4 or not _over(full, render, budget):
        text = render(full)
        if _size(text) <= budget:
            return text
    sizes: dict[Shape, int] = {}
    texts: dict[Shape, str] = {}

    def size(shape: Shape) -> int:
        if shape not in sizes:
            texts[shape] = render(_cut(full, *shape))
            sizes[shape] = _size(texts[shape])
        return sizes[shape]

    def keep_most(shape: Callable[[int], Shape], upper: int) -> Shape | None:
        """The shape keeping most of one list (0..upper) that fits; None if none does."""
        if size(shape(0)) > budget:
            return None
        # the guess from a sample of the list, not from rendering all of it (at 20,000
        # findings that render alone took seconds); _largest corrects a wrong guess
        empty, sample = size(shape(0)), min(upper, SAMPLE_ROWS)
        per_row = max(size(shape(sample)) - empty, 1) / max(sample, 1)
        guess = min(upper, int((budget - empty) / per_row))
        return shape(_largest_by_size(upper, lambda n: size(shape(n)), budget, guess))

    keys = min(len(full.key_sections), KEY_SECTIONS_WHEN_TRUNCATED)
    findings = len(full.findings) + len(full.marked_findings)
    inputs, warnings = len(full.inputs), len(full.warnings)
    chosen = (
        keep_most(lambda n: (keys, n, inputs, warnings), findings)
        or keep_most(lambda n: (n, 0, inputs, warnings), keys)
        or keep_most(lambda n: (0, 0, n, warnings), inputs)
        or keep_most(lambda n: (0, 0, 0, n), warnings)
    )
    if chosen is None:
        raise InputError(f"the Markdown report is over {budget:,} bytes even with every table "
                         "and section left out", file=template)
    return texts[chosen]


def render_view(view: MarkdownView, template_dir: Path | None) -> str:
    """``view`` through ``report.md.j2`` (the built-in one, or ``template_dir``'s)."""
    from scopeaudit.render.templates import render_template

    return render_template(TEMPLATE, {"view": view, "text_limit": TEXT_LIMIT}, template_dir,
                           filters={"md": md, "num": num})


def render_markdown(audit: Audit, options: RenderOptions) -> str:
    where = TEMPLATE if options.template_dir is None else str(options.template_dir / TEMPLATE)
    return fit_to_budget(build_view(audit), lambda view: render_view(view, options.template_dir),
                         template=where)
