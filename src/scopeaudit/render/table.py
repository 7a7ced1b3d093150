"""The terminal view: window and coverage, a row per key, the findings, a summary."""

from __future__ import annotations

from tabulate import tabulate

from scopeaudit.model import Audit, count_by_severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.text import one_line


def _states(states: dict[str, str], wanted: str) -> int:
    return sum(1 for s in states.values() if s == wanted)


def render_table(audit: Audit, options: RenderOptions) -> str:
    lines: list[str] = []
    if audit.window is not None and audit.coverage is not None and audit.usage is not None:
        cov = audit.coverage
        lines.append(
            f"Window {audit.window.since} .. {audit.window.until} ({audit.window.days} days); "
            f"logs cover {cov.days_with_data} days"
            + (f", {len(cov.gaps)} gap(s)" if cov.gaps else "")
            + f"; {audit.usage.requests} requests in {audit.usage.records} records, "
            f"{audit.usage.in_window} in the window.")
        lines.append("")
        rows = []
        for v in audit.verdicts:
            states = dict(v.states)
            conf = v.confidence[v.remove[0]].level if v.remove else "-"
            rows.append((
                one_line(v.key_id, 32), v.accepted, _states(states, "used"),
                _states(states, "unused"), _states(states, "unknown"),
                _states(states, "denied"), one_line(", ".join(v.remove) or "-", 60), conf,
            ))
        lines.append(tabulate(rows, headers=("key", "accepted", "used", "unused", "unknown",
                                             "denied", "remove", "confidence")))
        lines.append("")
    if audit.findings:
        rows_f = [
            (f.severity.value, f"{f.rule} {f.name}", one_line(f.key or "-", 32),
             one_line(f.scope or "-", 24), f"{f.location.file}:{f.location.line}",
             one_line(f.message, 110) + (f" [{f.status}]" if f.status else ""))
            for f in audit.findings
        ]
        lines.append(tabulate(rows_f, headers=("severity", "rule", "key", "scope", "location",
                                               "message"), tablefmt="simple"))
    else:
        lines.append("No findings.")
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
    skipped = [i for i in audit.inputs if i.skipped]
    for i in skipped:
        lines.append(f"{i.path}: {i.skipped} malformed record(s) skipped (lines "
                     f"{', '.join(map(str, i.skipped_lines))}).")
    return "\n".join(lines) + "\n"
