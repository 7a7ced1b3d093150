"""The commands that judge keys: lint, audit, baseline write, fix, split. Each turns its
options into a request (scopeaudit.cli.params), calls its library entry (scopeaudit.entry)
and renders what comes back."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from scopeaudit.cli import options as opt
from scopeaudit.cli.common import (
    active_config,
    exit_for,
    guard_output,
    say,
    show_warnings,
    shown,
    view,
    write_output,
)
from scopeaudit.cli.group import cli
from scopeaudit.cli.help import GATE, REPORT, option
from scopeaudit.cli.params import (
    ReportParams,
    audit_request,
    gate_policy,
    input_request,
    log_request,
    read_files,
)
from scopeaudit.errors import ExitCode, InputError

if TYPE_CHECKING:
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.entry import Reading
    from scopeaudit.inventory import KeysFormat
    from scopeaudit.model import Audit
    from scopeaudit.remediate.fix import Fix
    from scopeaudit.remediate.plan import FixOptions


@cli.command()
@opt.inputs
@opt.report
@option(GATE, "--against", metavar="REF",
        help="No new access: report keys and scopes added since REF, a git ref (the "
             "key file as of that commit, via `git show`) or a second key file "
             "(SA214-SA217).")
def lint(**params: Any) -> int:
    """Check key definitions without usage logs (rules SA2xx)."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.entry import lint_keys

    report = ReportParams.of(params)
    guard_output(report.output, read_files(params))
    diagnostics = Diagnostics()
    audit = lint_keys(input_request(params), gate_policy(params, active_config()), diagnostics)
    return _finish(audit, report, diagnostics)


@cli.command(short_help="Compare granted scopes with usage logs: verdicts and evidence.")
@opt.inputs
@opt.report
@opt.logs(required=True)
@opt.history
@opt.code
def audit(**params: Any) -> int:
    """Compare granted scopes with usage logs: verdicts, recommendations, evidence."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.entry import audit_keys

    report = ReportParams.of(params)
    guard_output(report.output, read_files(params))
    diagnostics = Diagnostics()
    config = active_config()
    progress = _progress if sys.stderr.isatty() else None
    audit = audit_keys(audit_request(params, config), gate_policy(params, config),
                       diagnostics, progress)
    if progress is not None:
        click.echo("\r\x1b[K", nl=False, err=True)
    return _finish(audit, report, diagnostics)


def _finish(audit: Audit, report: ReportParams, diagnostics: Diagnostics) -> int:
    """Render the gated Audit, record it in the history (if any) once the report is out,
    and give the exit code."""
    from contextlib import nullcontext
    from dataclasses import replace
    from pathlib import Path

    from scopeaudit.cli.color import for_report
    from scopeaudit.history import pending_run
    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    options = RenderOptions(template_dir=Path(report.template_dir) if report.template_dir
                            else None, show_baselined=report.show_baselined,
                            color=for_report(report.color, report.output),
                            # a file written from a terminal is not laid out for that terminal
                            width=0 if report.output else None)
    render = renderer_for(OutputFormat(report.fmt))
    # The run is recorded only after its report is written and closed: a report that failed,
    # or that a reader cut short, leaves the history as it was (scopeaudit.history)
    with (pending_run(report.history, audit, timeout=report.history_timeout)
          if report.history is not None else nullcontext()) as run:
        if run is not None:
            audit = replace(audit, drift=run.drift)
        show_warnings(diagnostics)
        text = render(audit, options)
        # view() shows every escape sequence as text but the palette's colour marks
        # (render.text.for_terminal), which a value cannot spell: its escapes were shown
        if write_output(view(text) if report.fmt == "table" else text,
                        report.output) and run is not None:
            run.record()
    if report.exit_zero:
        return ExitCode.CLEAN
    return exit_for((f for f in audit.findings if f.counts), report.fail_on)


@cli.command(short_help="Render a JSON report again, in any format.")
@click.argument("report_path", metavar="REPORT")
@opt.report
@opt.config_file
def render(report_path: str, **params: Any) -> int:
    """Render REPORT, a JSON report (`lint` or `audit --format json`), again in any format,
    and exit as its gate would (--fail-on, --exit-zero, from the configuration too; its
    baselined and suppressed findings stay so, and --baseline marks more): one audit,
    several reports. '-' reads stdin."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.report_reader import read_audit_report

    report = ReportParams.of(params)
    guard_output(report.output, [("the report", report_path if report_path != "-" else None),
                                 ("--baseline", params.get("baseline_path"))])
    audit = read_audit_report(report_path)
    if params.get("baseline_path"):
        # marked as the report's run would have: its findings keep their fingerprints
        from dataclasses import replace

        from scopeaudit.gate import apply_gate, load_baseline

        marked = apply_gate(audit.findings, (), load_baseline(params["baseline_path"]),
                            audit.as_of)
        audit = replace(audit, findings=marked.findings)
    return _finish(audit, report, Diagnostics())


def _progress(path: str, records: int) -> None:
    # the one escape sequence here is the tool's own (back to the line's start, clear it)
    click.echo(f"\r\x1b[Kreading {shown(path)}: {records:,} records", nl=False, err=True)


def _read(params: dict[str, Any], diagnostics: Diagnostics) -> Reading:
    """fix's and split's inputs, read as audit reads them (ungated: they act on the
    recommendations, not on the findings)."""
    from scopeaudit.entry import read_audit

    progress = _progress if sys.stderr.isatty() else None
    reading = read_audit(audit_request(params, active_config()), diagnostics, progress)
    if progress is not None:
        click.echo("\r\x1b[K", nl=False, err=True)
    return reading


@cli.command(short_help="Rewrite the key file to the audit's recommendation.")
@opt.inputs
@opt.logs(required=True)
@option(REPORT, "--apply", "apply_fix", is_flag=True,
        help="Write the patched key file (atomically; refused if it changed since the "
             "audit read it). Without it: a dry run that prints the diff.")
@option(GATE, "--min-confidence", type=click.Choice(["high", "medium"]), default="high",
        show_default=True,
        help="Apply removals at or above this confidence (deferred, low-confidence "
             "removals never are).")
@option(GATE, "--only", "only", multiple=True, metavar="KEY",
        help="Change only this key (by id); repeatable.")
@option(GATE, "--revoke-unused", is_flag=True,
        help="Mark unused keys (SA101) for revocation (revoke: true; in a CSV without "
             "a revoke column, expires: the audit date) instead of leaving them.")
@option(REPORT, "--format", "fmt", type=click.Choice(["diff", "markdown"]), default="diff",
        show_default=True,
        help="diff: a unified diff (what is held back goes to stderr); markdown: a "
             "summary and the diff, for a pull request's body.")
@option(GATE, "--history", "history_path", metavar="PATH",
        help="Staged removal: apply only removals announced (--announce) in this "
             "history at least --announce-days earlier and unused since.")
@opt.history_timeout()
@option(GATE, "--announce", is_flag=True,
        help="Record the plan's removals in --history as announced today, and change "
             "nothing; a later fix --history applies them.")
@option(GATE, "--announce-days", type=click.IntRange(min=0), default=14, show_default=True,
        metavar="N", help="Days an announced removal must stay unused before it is "
                          "applied.")
@opt.output()
def fix(**params: Any) -> int:
    """Rewrite the key file to the audit's recommendation (same inputs as audit), keeping its
    comments, order and quoting. The patch is audited again on the same logs and refused
    (exit 2) if it would refuse any accepted request of the window or make a finding worse."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.remediate.fix import build_fix
    from scopeaudit.remediate.plan import FixOptions

    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    reading = _read(params, diagnostics)
    show_warnings(diagnostics)
    fmt = input_request(params).keys.resolved_format()
    if params["announce"] and not params["history_path"]:
        raise InputError("--announce records the removals in a history: give --history PATH")
    if params["announce"] and params["apply_fix"]:
        raise InputError("--announce records the removals and changes nothing; a later "
                         "fix --history --apply applies them")
    audit = reading.judge()
    options = FixOptions(params["min_confidence"], tuple(params["only"]),
                         params["revoke_unused"])
    if params["history_path"]:
        return _staged_fix(params, audit, fmt, reading, options)
    result = build_fix(audit, fmt, reading.catalog, options, reading.judge)
    return _finish_fix(params, result)


def _staged_fix(params: dict[str, Any], audit: Audit, fmt: KeysFormat, reading: Reading,
                options: FixOptions) -> int:
    """fix --history: announce (--announce), or apply what was announced long enough ago
    and unused since; announcements used since are withdrawn either way."""
    from scopeaudit.history import announcements
    from scopeaudit.remediate.fix import build_fix
    from scopeaudit.remediate.staged import announce_text, applied, stage, withdrawn

    day = audit.as_of.isoformat()
    with announcements(params["history_path"], params["history_timeout"],
                       create=params["announce"]) as history:
        pulled = withdrawn(audit, history.open)
        history.close([(a, "withdrawn", why) for a, why in pulled], day)
        if not params["announce"]:
            result = build_fix(audit, fmt, reading.catalog, options, reading.judge,
                               lambda plan: stage(plan, audit, history.open,
                                                  params["announce_days"]))
            code = _finish_fix(params, result)
            if params["apply_fix"] and result.changed:
                history.close([(a, "applied", "")
                               for a in applied(result.plan, history.open)], day)
            return code
        plan = build_fix(audit, fmt, reading.catalog, options, reading.judge).plan
        history.announce([(r.key_id, r.scope) for r in plan.removals], day)
    for a, why in pulled:
        click.echo(f"scopeaudit: announcement withdrawn: {a.key_id} {a.scope} ({why})",
                   err=True)
    write_output(announce_text(plan, history.open, day, params["announce_days"],
                               params["fmt"]), params["output"])
    return ExitCode.CLEAN


def _finish_fix(params: dict[str, Any], result: Fix) -> int:
    from scopeaudit.remediate.fix import (
        apply_fix,
        refusal,
        render_markdown,
        summary_lines,
        unified_diff,
    )

    for line in summary_lines(result):
        click.echo(f"scopeaudit: {line}", err=True)
    refused = refusal(result)
    if refused is not None:
        raise InputError(refused, file=result.path)
    write_output(render_markdown(result) if params["fmt"] == "markdown"
                 else unified_diff(result), params["output"])
    if params["apply_fix"] and result.changed:
        apply_fix(result)
        click.echo(f"scopeaudit: wrote {result.path}", err=True)
    return ExitCode.CLEAN


@cli.command(short_help="Propose one key per client of a shared key (SA106).")
@opt.inputs
@opt.logs(required=True)
@option(GATE, "--key", "only", multiple=True, metavar="KEY",
        help="Split this key (by id; repeatable); default: every shared key (SA106).")
@opt.output()
def split(**params: Any) -> int:
    """Propose one key per client of a shared key (SA106), same inputs as audit: clients
    calling the same operations are one cluster, each given the least scopes it needs out of
    the shared key's grants. Markdown: a keys-as-code snippet and a table of the clients."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.remediate.split import render_split, shared_keys, split_key

    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    reading = _read(params, diagnostics)
    audit = reading.judge()
    show_warnings(diagnostics)
    known = {k.id for k in audit.keys}
    for key_id in params["only"]:
        if key_id not in known:
            raise InputError(f"--key {key_id}: no such key in the key file")
    splits = [split_key(key, verdict, reading.catalog)
              for key, verdict in shared_keys(audit, tuple(params["only"]))]
    write_output(render_split(splits), params["output"])
    return ExitCode.CLEAN


@cli.group()
def baseline() -> None:
    """Accept today's findings, so that only new ones fail the build."""


@baseline.command("write")
@opt.inputs
@opt.logs(required=False)
@opt.output(help="Where to write the baseline (default: stdout).")
def baseline_write(**params: Any) -> int:
    """Write the fingerprints of the current findings (lint, or audit when --logs is given).

    Takes the same inputs and options as lint and audit. Versioned, sorted, no timestamp:
    the same findings give the same bytes, whatever their lines.
    """
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.entry import baseline_text

    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    config = active_config()
    text = baseline_text(input_request(params),
                         log_request(params) if params["log_paths"] else None,
                         config.policy(), diagnostics,
                         config.sources)
    show_warnings(diagnostics)
    write_output(text, params["output"])
    _baseline_written(text, params["output"], "audit" if params["log_paths"] else "lint")
    return ExitCode.CLEAN


def _baseline_written(text: str, output: str | None, command: str) -> None:
    """How many findings the baseline holds, and the next step (on stderr)."""
    import json

    count = len(json.loads(text)["findings"])
    where = output if output not in (None, "-") else "the baseline"
    target = output if output not in (None, "-") else "FILE"
    say(f"scopeaudit: {where}: {count} finding(s) baselined; next: commit it and run "
        f"`scopeaudit {command} ... --baseline {target}` (or set `baseline` in the "
        "configuration): only new findings fail")


__all__ = ["audit", "baseline", "baseline_write", "fix", "lint", "render", "split"]
