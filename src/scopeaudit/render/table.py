"""The terminal view: window and coverage, a row per key, the findings, a summary.

It fits the terminal: a table wider than the width given (RenderOptions.width, else the
terminal's when stdout is one) wraps its long text columns (scopes, messages, locations) at
spaces, and any line still too long is cut with an ellipsis; no cell is cut on its own. On a
terminal that shows colour
(RenderOptions.color), each finding's severity is in its colour from the one palette.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from tabulate import tabulate

from scopeaudit.model import NEEDED_BY_CODE, Audit, Drift, Finding, count_by_severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.actions import Actions, build_actions
from scopeaudit.render.code_text import code_text, needed_by_code_texts
from scopeaudit.render.evidence_line import evidence_line
from scopeaudit.render.palette import PALETTE, paint
from scopeaudit.render.text import (
    fit_width,
    new_first,
    one_line,
    show_invisible,
    status_text,
    wrap_width,
)
from scopeaudit.skips import skipped_sentence
from scopeaudit.words import plural

MIN_COLUMN = 10  # a wrapped column keeps at least this many characters (or its header's)
MAX_WORD = 24  # ... and its longest word, up to this many
_SEVERITIES = tuple(c.severity for c in PALETTE)
# the key table's headers where the width is short
_NARROW = {"accepted": "requests", "unknown": "unkn.", "needed by code": "code"}


def terminal_width(options: RenderOptions) -> int:
    """The width to fit: the one asked for, else the terminal's if stdout is one; 0, none
    (a report written to a file or a pipe keeps its lines whole)."""
    if options.width is not None:
        return max(options.width, 0)
    if not sys.stdout.isatty():
        return 0
    return shutil.get_terminal_size(fallback=(0, 0)).columns


def fit_table(rows: Sequence[Sequence[object]], headers: Sequence[str], width: int,
              shrink: Sequence[int]) -> str:
    """``tabulate`` of the rows, its ``shrink`` columns wrapped (widest first, none below
    MIN_COLUMN) until the table fits ``width``; a line that still does not is cut."""
    text: str = tabulate(rows, headers=headers)
    widest = max(map(len, text.split("\n")))
    if not width or widest <= width:
        return text
    widths = [max([len(str(h))] + [len(str(r[i])) for r in rows])
              for i, h in enumerate(headers)]
    # a wrapped column keeps its longest word whole (a scope, a key id), up to a limit
    floor = {i: max(len(headers[i]), MIN_COLUMN,
                    min(max((len(w) for r in rows for w in str(r[i]).split()), default=0),
                        MAX_WORD)) for i in shrink}
    widest = max(map(len, _compact(rows, headers, None).split("\n")))
    while widest > width:  # measure, shrink, measure again
        over = widest - width
        while over > 0:
            wide = [i for i in shrink if widths[i] > floor[i]]
            if not wide:
                break
            i = max(wide, key=lambda j: widths[j] - floor[j])
            widths[i] -= 1
            over -= 1
        limits = [widths[i] if i in shrink else None for i in range(len(headers))]
        text = _compact(rows, headers, limits)
        narrower = max(map(len, text.split("\n")))
        if over > 0 or narrower >= widest:  # nothing left to wrap: cut what is still over
            break
        widest = narrower
    return "\n".join(fit_width(text.split("\n"), width))


def _compact(rows: Sequence[Sequence[object]], headers: Sequence[str],
             limits: list[int | None] | None) -> str:
    """``tabulate`` without the two columns of padding it gives numbers and their headers
    (its module setting, put back at once), wrapping each column to ``limits``."""
    import tabulate as module

    padding = module.MIN_PADDING
    module.MIN_PADDING = 0
    try:
        return str(tabulate(rows, headers=headers, maxcolwidths=limits))
    finally:
        module.MIN_PADDING = padding


def _paint_severities(table: str, color: bool) -> str:
    """The severity that starts each findings row, in its colour (after fitting: the
    widths are the text's own)."""
    if not color:
        return table
    out = []
    for line in table.split("\n"):
        word = line.split(" ", 1)[0]
        out.append(paint(word, word, True) + line[len(word):] if word in _SEVERITIES
                   else line)
    return "\n".join(out)


def _states(states: dict[str, str], wanted: str) -> int:
    return sum(1 for s in states.values() if s == wanted)


def code_lines(audit: Audit) -> list[str]:
    """audit --code: what was scanned, and each key's scopes kept for its code (the state
    *needed by code*), with their call sites."""
    assert audit.code is not None
    lines = [one_line(f"Code: {code_text(audit.code)}.", 2000)]
    for v in audit.verdicts:
        for text in needed_by_code_texts(v):
            lines.append(one_line(f"  {v.key_id}: needed by code (the logs never saw it "
                                  f"used), kept: {text}", 2000))
    lines.append("")
    return lines


def render_table(audit: Audit, options: RenderOptions) -> str:
    width = terminal_width(options)
    lines: list[str] = []
    evidence = evidence_line(audit)
    if evidence is not None:
        lines.append(show_invisible(evidence))
    lines.extend(action_lines(build_actions(audit)))
    if audit.window is not None and audit.coverage is not None and audit.usage is not None:
        cov = audit.coverage
        lines.append(
            f"Window {audit.window.since} .. {audit.window.until} ({audit.window.days} days); "
            f"logs cover {plural(cov.days_with_data, 'day')}"
            + (f", {plural(len(cov.gaps), 'gap')}" if cov.gaps else "")
            + f"; {plural(audit.usage.requests, 'request')} in "
            f"{plural(audit.usage.records, 'record')}, "
            f"{audit.usage.in_window} in the window.")
        lines.append("")
        # No cell is cut (a key's scopes to remove, a message's line numbers stay whole): a
        # table too wide for the terminal wraps its lists or lists its findings as blocks
        # instead (fit_table, finding_blocks); show_invisible keeps each cell on its line
        rows = []
        # with several sources, which carried each key's traffic (one source says nothing)
        several = audit.evidence is not None and len(audit.evidence.sources) > 1
        code = audit.code is not None  # audit --code: a column of its own, apart from used
        for v in audit.verdicts:
            states = dict(v.states)
            # a deferred removal is not a removal: it has its own column, "watch"
            watch = v.deferred
            remove = [s for s in v.remove if s not in watch]
            conf = v.confidence[remove[0]].level if remove else "-"
            rows.append((
                show_invisible(v.key_id), v.accepted, _states(states, "used"),
            ) + ((_states(states, NEEDED_BY_CODE),) if code else ()) + (
                _states(states, "unused"), _states(states, "unknown"),
                _states(states, "denied"), show_invisible(", ".join(remove) or "-"), conf,
                show_invisible(", ".join(watch) or "-"),
            ) + ((show_invisible(", ".join(u.source for u in v.sources) or "-"),)
                 if several else ()))
        headers = (("key", "accepted", "used") + (("needed by code",) if code else ())
                   + ("unused", "unknown", "denied", "remove", "confidence", "watch")
                   + (("sources",) if several else ()))
        text = tabulate(rows, headers=headers)
        if width and max(map(len, text.split("\n"))) > width:
            # too wide: the confidence joins its removals, the columns narrow, lists wrap
            at = headers.index("confidence")
            rows = [(*r[:at - 1], f"{r[at - 1]}" + (f" ({r[at]})" if r[at] != "-" else ""),
                     *r[at + 1:]) for r in rows]
            headers = headers[:at] + headers[at + 1:]
            headers = tuple(_NARROW.get(h, h) for h in headers)
            text = fit_table(rows, headers, width,
                             [headers.index(h) for h in ("remove", "watch", "sources")
                              if h in headers])
        lines.append(text)
        lines.append("")
        if audit.code is not None:
            lines.extend(code_lines(audit))
    new, marked = new_first(audit.findings)
    # new findings first; baselined and suppressed ones only counted, unless asked for
    listed = new + marked if options.show_baselined else new
    if listed:
        rows_f = [
            (f.severity.value, f"{f.rule} {f.name}", show_invisible(f.key or "-"),
             show_invisible(f.scope or "-"),
             f"{show_invisible(f.location.file)}:{f.location.line}",
             show_invisible(f.message) + (f" [{f.status}]" if f.status else ""))
            for f in listed
        ]
        headers_f = ("severity", "rule", "key", "scope", "location", "message")
        table = tabulate(rows_f, headers=headers_f)
        if width and max(map(len, table.split("\n"))) > width:
            # too wide for a table: a finding is a line of facts and its message below it
            table = "\n".join(finding_blocks(listed, width))
        lines.append(_paint_severities(table, options.color))
    else:
        lines.append("No new findings." if marked else "No findings.")
    if marked:
        lines.append(f"Findings: {status_text(audit.findings)}"
                     + ("." if options.show_baselined
                        else "; --show-baselined lists the others."))
    counts = count_by_severity(audit.findings)
    shown = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
    lines.append("")
    uncounted = sum(1 for f in audit.findings if not f.counts)
    lines.append(f"{len(audit.keys)} keys checked; findings: {shown}."
                 + (f" {uncounted} of them suppressed or baselined, not counted toward "
                    "--fail-on." if uncounted else ""))
    if audit.replay is not None:
        r = audit.replay
        lines.append(f"Replay: {r.requests} accepted requests checked against the recommended "
                     f"scopes, {r.would_be_denied} would be refused"
                     + (f" ({r.unverifiable} unmatched requests not checkable)"
                        if r.unverifiable else "") + ".")
    if audit.drift is not None:
        lines.extend(drift_lines(audit.drift))
    skipped = [i for i in audit.inputs if i.skipped]
    for i in skipped:
        lines.append(one_line(f"{i.path}: "
                              + skipped_sentence(i.skipped, i.skipped_lines, i.skip_reasons,
                                                 first=len(i.skipped_lines) < i.skipped)
                              + ".", 2000))
    # the tables fit already: what is still too long is a sentence, and wraps
    return "\n".join(wrap_width("\n".join(lines).split("\n"), width)) + "\n"


def finding_blocks(findings: Sequence[Finding], width: int) -> list[str]:
    """The findings for a narrow terminal: "severity rule name key scope file:line" on one
    line, the whole message below it, indented and wrapped to ``width``."""
    out: list[str] = []
    for f in findings:
        facts = "  ".join(v for v in (
            f.severity.value, f"{f.rule} {f.name}", one_line(f.key or "", 64),
            one_line(f.scope or "", 64),
            f"{show_invisible(f.location.file)}:{f.location.line}") if v)
        out.extend(wrap_width([facts], width))
        out.extend(wrap_width(["    " + one_line(f.message, 2000)
                               + (f" [{f.status}]" if f.status else "")], width))
    return out


def action_lines(actions: Actions) -> list[str]:
    """The actions, riskiest first, each with its confidence and basis; the deferred
    removals apart, under "Watch". Nothing when there is nothing to do."""
    if not actions:
        return []
    lines = ["", "Actions, riskiest first:" if actions.actions else "Actions: none."]
    for n, a in enumerate(actions.actions, 1):
        lines.append(one_line(f"  {n}. {a.headline()} [confidence {a.level}]", 2000))
        lines.append(one_line(f"     basis: {a.basis}", 2000))
    if actions.watch:
        lines.append("Watch (removals deferred for thin evidence, SA108; not advice yet):")
        for a in actions.watch:
            lines.append(one_line(f"  - {a.headline()} [confidence {a.level}]", 2000))
            lines.append(one_line(f"     basis: {a.basis}", 2000))
    lines.append("")
    return lines


def _pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return one_line(", ".join(f"{k} {s}" for k, s in pairs), 100)


def drift_lines(drift: Drift) -> list[str]:
    """The "since last run" section: a few lines."""
    prev = drift.previous_run
    lines = ["", f"Since last run ({prev.run_at}, run {prev.id}):" if prev
             else "Since last run: this is the first run in the history."]
    lines.append(f"  findings: {len(drift.new)} new, {len(drift.persisting)} persisting, "
                 f"{len(drift.resolved)} resolved, {len(drift.regressed)} regressed")
    for label, group in (("new", drift.new), ("regressed", drift.regressed)):
        if group:
            lines.append(f"  {label}: " + one_line(", ".join(
                f"{d.rule} {d.key or '-'}{' ' + d.scope if d.scope else ''}" for d in group),
                110))
    if prev is not None and (drift.keys_added or drift.keys_removed):
        lines.append(f"  keys: {len(drift.keys_added)} added"
                     + (f" ({one_line(', '.join(drift.keys_added), 60)})"
                        if drift.keys_added else "")
                     + f", {len(drift.keys_removed)} removed"
                     + (f" ({one_line(', '.join(drift.keys_removed), 60)})"
                        if drift.keys_removed else ""))
    if drift.scopes_granted:
        lines.append(f"  scopes granted: {_pairs(drift.scopes_granted)}")
    if drift.scopes_revoked:
        lines.append(f"  scopes revoked: {_pairs(drift.scopes_revoked)}")
    before = (f" (was {drift.previous_over_privilege}, {drift.previous_unused_scopes} unused)"
              if drift.previous_over_privilege is not None else "")
    lines.append(f"  over-privilege: {drift.over_privilege} from {drift.unused_scopes} unused "
                 f"scope(s), write 3 / read 1{before}")
    return lines
