"""``scopeaudit history``: the runs of a history database and their trend.

Table, JSON (``scopeaudit/history/v1``) and a small self-contained HTML page whose charts are
inline SVG computed here (coordinates only; the template draws them, autoescaped, under a
Content-Security-Policy that pins its one style block by hash and allows no script).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from scopeaudit.errors import InputError
from scopeaudit.model import Severity
from scopeaudit.render.palette import PALETTE
from scopeaudit.words import plural

if TYPE_CHECKING:
    from scopeaudit.history import RunSummary

SCHEMA_ID = "scopeaudit/history/v1"
WIDTH, HEIGHT, MARGIN = 640, 220, 40


def trend(runs: tuple[RunSummary, ...]) -> dict[str, Any] | None:
    """First and last run compared: findings, counted findings, unused scopes and
    over-privilege, with the change (last − first). None with no run."""
    if not runs:
        return None
    first, last = runs[0], runs[-1]

    def change(a: int, b: int) -> dict[str, int]:
        return {"first": a, "last": b, "change": b - a}

    return {
        "runs": len(runs),
        "since": first.run_at,
        "until": last.run_at,
        "findings": change(first.total, last.total),
        "counted": change(first.counted, last.counted),
        "unused_scopes": change(first.unused_scopes, last.unused_scopes),
        "over_privilege": change(first.over_privilege, last.over_privilege),
    }


def history_document(runs: tuple[RunSummary, ...]) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "runs": [
            {"id": r.id, "run_at": r.run_at, "tool_version": r.tool_version, "mode": r.mode,
             "window": r.window, "keys": r.keys, "findings": r.total,
             "by_severity": dict(r.findings), "counted": r.counted,
             "unused_scopes": r.unused_scopes, "over_privilege": r.over_privilege}
            for r in runs
        ],
        "trend": trend(runs),
    }


def _signed(n: int) -> str:
    return f"{n:+d}"


def render_history_table(runs: tuple[RunSummary, ...]) -> str:
    from tabulate import tabulate

    if not runs:
        return "No runs recorded yet.\n"
    order = [s.value for s in Severity.descending()]
    rows = [(r.id, r.run_at, r.tool_version, r.keys, r.total,
             " ".join(f"{r.findings[s]}{s[0].upper()}" for s in order), r.unused_scopes,
             r.over_privilege) for r in runs]
    lines = [tabulate(rows, headers=("run", "time", "version", "keys", "findings",
                                     "C H M L I", "unused scopes", "over-privilege"))]
    t = trend(runs)
    assert t is not None
    lines.append("")
    lines.append(
        f"Trend over {plural(t['runs'], 'run')}: findings {t['findings']['first']} -> "
        f"{t['findings']['last']} ({_signed(t['findings']['change'])}), unused scopes "
        f"{t['unused_scopes']['first']} -> {t['unused_scopes']['last']} "
        f"({_signed(t['unused_scopes']['change'])}), over-privilege "
        f"{t['over_privilege']['first']} -> {t['over_privilege']['last']} "
        f"({_signed(t['over_privilege']['change'])}).")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # a class name from the page's style block
    points: str  # "x,y x,y …" for a polyline
    dots: tuple[tuple[float, float, int], ...]  # (x, y, value) per run
    last: int


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    top: int  # the y axis' highest value
    series: tuple[Series, ...]
    labels: tuple[tuple[float, str], ...]  # x, run time (first and last runs)


def _chart(title: str, runs: tuple[RunSummary, ...],
           series: list[tuple[str, str, list[int]]]) -> Chart:
    top = max([1] + [v for _, _, values in series for v in values])
    n = len(runs)
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(i: int) -> float:
        return round(MARGIN + (i * plot_w / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(v: int) -> float:
        return round(MARGIN + plot_h - v * plot_h / top, 1)

    built = tuple(
        Series(name, css, " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)),
               tuple((x(i), y(v), v) for i, v in enumerate(values)), values[-1])
        for name, css, values in series)
    labels = ((x(0), runs[0].run_at[:10]),) + (((x(n - 1), runs[-1].run_at[:10]),)
                                               if n > 1 else ())
    return Chart(title, WIDTH, HEIGHT, top, built, labels)


def charts(runs: tuple[RunSummary, ...]) -> tuple[Chart, ...]:
    if not runs:
        return ()
    by_severity = [(s.value, f"sev-{s.value}", [r.findings[s.value] for r in runs])
                   for s in Severity.descending()]
    return (
        _chart("Findings by severity", runs, by_severity),
        _chart("Unused scopes and over-privilege", runs, [
            ("unused scopes", "unused", [r.unused_scopes for r in runs]),
            ("over-privilege (write 3, read 1)", "overpriv",
             [r.over_privilege for r in runs]),
        ]),
    )


def _csp_hash(source: str) -> Markup:
    digest = hashlib.sha256(str(source).encode("utf-8")).digest()
    return Markup("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")  # noqa: S704


def render_history_html(runs: tuple[RunSummary, ...], database: str) -> str:
    from scopeaudit.render.templates import render_template

    doc = history_document(runs)
    return render_template("history.html.j2",
                           {"database": database, "runs": doc["runs"], "trend": doc["trend"],
                            "charts": charts(runs), "palette": PALETTE},
                           None, filters={"csp_hash": _csp_hash})


def render_history(runs: tuple[RunSummary, ...], fmt: str, database: str) -> str:
    if fmt == "json":
        return json.dumps(history_document(runs), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_history_html(runs, database)
    if fmt == "table":
        return render_history_table(runs)
    raise InputError(f"unknown history format {fmt!r}")
