"""The summary's first line in every human format: what the logs could show.

Reports lead with evidence quality: records read and skipped, the share of accepted requests
attributed to a key, the sources and the coverage, and, in plain words, when the evidence
cannot support removals. One sentence, written here once for the table, Markdown and HTML
views (each escapes it its own way).
"""

from __future__ import annotations

from scopeaudit.model import Audit, KeyVerdict, PriorUse, SourceUse
from scopeaudit.render.text import share_text

SOURCES_SHOWN = 5


def evidence_line(audit: Audit) -> str | None:
    """The sentence, or None for a report without logs (lint)."""
    ev, cov = audit.evidence, audit.coverage
    if ev is None or cov is None:
        return None
    parts = [f"{ev.records:,} records read, {ev.skipped:,} skipped"]
    if not ev.accepted:
        parts.append("no accepted request in the window")
    else:
        share = share_text(ev.accepted - ev.unattributed, ev.accepted)
        of = f"{share} {ev.accepted:,}" if share == "all" else f"{share} of the {ev.accepted:,}"
        parts.append(f"{of} accepted requests in the window attributed to a key")
    shown = ", ".join(f"{s.name} ({s.days} day{'' if s.days == 1 else 's'})"
                      for s in ev.sources[:SOURCES_SHOWN])
    more = len(ev.sources) - SOURCES_SHOWN
    parts.append(f"{len(ev.sources)} source{'' if len(ev.sources) == 1 else 's'}: {shown}"
                 + (f" and {more} more" if more > 0 else ""))
    parts.append(f"logs cover {cov.days_with_data} of the window's {cov.days_in_window} days")
    line = "Evidence: " + "; ".join(parts) + "."
    if not ev.supports_removals:
        line += (" The evidence cannot support removals: " + "; ".join(ev.limits)
                 + "; no removal is above low confidence.")
    elif ev.limits:
        line += " Some removals are deferred: " + "; ".join(ev.limits) + "."
    return line


def prior_use_text(use: PriorUse) -> str:
    """Use before the window, in words: when, and how far apart the uses are."""
    days = f"{use.days_before} day{'' if use.days_before == 1 else 's'}"
    return (f"last used {use.last_used}, {days} before the window"
            + (f"; up to {use.interval_days} days between uses"
               if use.interval_days is not None else ""))


def source_text(use: SourceUse) -> str:
    return f"{use.source} ({use.days} day{'' if use.days == 1 else 's'}, last {use.last_seen})"


def attributed_text(accepted: int, unattributed: int) -> str:
    """An input's attribution: "all 1,234", "none of 368", "99.2% of 1,000"."""
    if not accepted:
        return "–"
    share = share_text(accepted - unattributed, accepted)
    return f"all {accepted:,}" if share == "all" else f"{share} of {accepted:,}"


def before_window_texts(v: KeyVerdict) -> tuple[str, ...]:
    """A key's use before the window worth a reader's eye: the key's own when it made no
    accepted request in the window, and each removed scope's."""
    texts = [f"the key: {prior_use_text(v.before_window)}"] if v.before_window is not None \
        and not v.accepted else []
    texts += [f"{scope}: {prior_use_text(use)}"
              for scope, use in sorted(v.scopes_before_window.items())]
    return tuple(texts)


def reading_line(audit: Audit) -> str | None:
    """How the log inputs were read, for the method section: each format and the zone of
    times written without one (--tz). None for a report without log inputs."""
    logs = [i for i in audit.inputs if i.kind == "logs"]
    if not logs:
        return None
    formats = sorted({i.log_format for i in logs if i.log_format})
    zones = sorted({i.time_zone for i in logs if i.time_zone}) or ["UTC"]
    read = f"Logs read as {', '.join(formats)}; t" if formats else "T"
    return (f"{read}imes written without a zone read as {', '.join(zones)} (--tz); a time "
            "with its own zone or offset keeps it.")
