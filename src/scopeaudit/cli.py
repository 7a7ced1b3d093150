"""The command line. Thin on purpose: options -> pipeline -> render -> exit code.

Only click is imported at module level so that ``scopeaudit --help`` stays fast; each command
imports the pipeline it runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from scopeaudit import __version__
from scopeaudit.errors import ExitCode, InputError
from scopeaudit.http.options import connection_options, input_http_options, settings_from

if TYPE_CHECKING:
    from scopeaudit.catalog.model import Catalog
    from scopeaudit.catalog.openapi import ImportOptions
    from scopeaudit.config import Config
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.model import Key

SEVERITY_CHOICES = ("info", "low", "medium", "high", "critical")
# The report formats, spelled out here so that `--help` never imports the renderers;
# tests/unit/test_render_formats.py keeps this equal to render.OutputFormat.
FORMATS = ("table", "json", "markdown", "html", "sarif", "csv", "concise")
FAIL_ON_CHOICES = (*SEVERITY_CHOICES, "never")


def _write_output(text: str, output: str | None) -> bool:
    """The report to stdout or -o (scopeaudit.output): True when written in full, False when
    the reader closed the pipe first (not an error: the exit code stays the findings')."""
    from scopeaudit.output import write_report

    return write_report(text, output)


def _shown(text: str) -> str:
    """Text from outside as a terminal may be given it: redacted (a file's name may hold a
    token), and its invisible characters shown as the reports show them."""
    from scopeaudit.http.credentials import redact_known
    from scopeaudit.render.text import show_invisible

    return show_invisible(redact_known(text))


def _say(line: str) -> None:
    """One line on stderr (a warning, a note): each goes through :func:`_shown`."""
    click.echo(_shown(line), err=True)


def _view(text: str) -> str:
    """A text view (a table) as a terminal may be given it: every invisible character but
    its line breaks shown as the reports show them (render.text.for_terminal)."""
    from scopeaudit.render.text import for_terminal

    return for_terminal(text)


def _show_warnings(diagnostics: Diagnostics) -> None:
    for note in diagnostics.notes:
        _say(f"scopeaudit: {note}")
    for warning in diagnostics.warnings:
        _say(f"scopeaudit: warning: {warning}")


def _parse_date(value: str | None, option: str) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} expects a date as YYYY-MM-DD, got {value!r}") from None


def _load_catalog(path: str | None, semantics: str | None = None,
                  overrides: str | None = None,
                  diagnostics: Diagnostics | None = None) -> Catalog:
    from scopeaudit.catalog.loader import load_builtin, load_catalog_file

    if path is None:
        if semantics is not None or overrides is not None:
            raise InputError("--scope-list-semantics and --catalog-overrides apply to an "
                             "OpenAPI document given with --catalog")
        return load_builtin()
    return load_catalog_file(path, _import_options(semantics, overrides), diagnostics)


def _import_options(semantics: str | None, overrides: str | None) -> ImportOptions:
    """OpenAPI import options from --scope-list-semantics and --catalog-overrides."""
    from scopeaudit.catalog.openapi import ImportOptions, load_overrides

    return ImportOptions(semantics="any" if semantics == "any" else
                         "all" if semantics == "all" else None,
                         overrides=load_overrides(overrides) if overrides else None)


def _exit_for(findings_at_threshold: int, exit_zero: bool = False) -> int:
    if findings_at_threshold and not exit_zero:
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def _writable_output(ctx: click.Context, param: click.Parameter, value: str | None
                     ) -> str | None:
    """Refuse an -o the report could never be written to before the work starts, not after
    a long audit: a missing or unwritable folder, or a folder given as the file; or no -o
    and stdout closed."""
    if value is None or value == "-":
        from scopeaudit.output import check_stdout

        check_stdout()
        return value
    target = Path(value)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError("is a directory; -o takes a file", file=value)
    if not folder.is_dir():
        raise InputError("cannot write the report: no such folder", file=value)
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InputError("cannot write the report: permission denied", file=value)
    return value


# The options that name files a command reads, and how an error line calls them.
_READ_OPTIONS = (("--keys", "keys_path"), ("--logs", "log_paths"), ("--catalog", "catalog_path"),
                 ("--catalog-overrides", "catalog_overrides"), ("--baseline", "baseline_path"),
                 ("--history", "history_path"))


def _guard_output(params: dict[str, Any]) -> None:
    """Refuse an -o that names a file this run reads (the key file, a log, the history, the
    configuration…), before anything is read or written."""
    from scopeaudit.output import refuse_overwriting

    inputs: list[tuple[str, str]] = []
    for option, name in _READ_OPTIONS:
        value = params.get(name)
        for item in (value if isinstance(value, (tuple, list)) else (value,)):
            if item:
                inputs.append((option, item))
    config = _active_config().path
    if config is not None:
        inputs.append(("the configuration file", config))
    refuse_overwriting(params.get("output"), inputs)


output_option = click.option(
    "-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.",
    callback=_writable_output,
)
catalog_option = click.option(
    "--catalog", "catalog_path", metavar="PATH",
    help="A scopeaudit catalog file, or an OpenAPI 3.x / Swagger 2.0 document (JSON or YAML; "
         "default: the built-in insp.ac v1 catalog).",
)
scope_semantics_option = click.option(
    "--scope-list-semantics", type=click.Choice(["all", "any"]), default=None,
    help="OpenAPI --catalog: the scopes listed in one security requirement are all needed "
         "(all, as OpenAPI says) or any one suffices (any; default: the override file's "
         "semantics, else all).",
)
catalog_overrides_option = click.option(
    "--catalog-overrides", metavar="FILE",
    help="OpenAPI --catalog: a YAML/JSON file of per-operation scope alternatives (by "
         "operationId or 'METHOD path'), semantics, pseudo-scopes and base paths.",
)
fail_on_option = click.option(
    "--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False), default="high",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity; 'never' always exits 0.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scopeaudit")
@click.option("--debug", is_flag=True, help="Show a traceback for errors (for bug reports).")
def cli(debug: bool) -> None:
    """Audit insp.ac API keys: what each key can do, what it uses, what to take away.

    Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it,
    2 usage, input or configuration error.
    """


@cli.command()
@catalog_option
@scope_semantics_option
@catalog_overrides_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "catalog"]),
              default="table", show_default=True,
              help="table: operations, scopes and counts of what was read; json: the catalog "
                   "as JSON; catalog: the catalog as YAML. Both load back with --catalog.")
@output_option
def catalog(catalog_path: str | None, scope_list_semantics: str | None,
            catalog_overrides: str | None, fmt: str, output: str | None) -> int:
    """Print the catalog's operations and scopes (the built-in one, a catalog file, or one
    read from an OpenAPI document)."""
    from scopeaudit.catalog.loader import LoadedCatalog, catalog_yaml, read_catalog_file
    from scopeaudit.catalog.summary import summary_text
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.render.catalog_view import render_catalog_json, render_catalog_table

    _guard_output({"output": output, "catalog_path": catalog_path,
                   "catalog_overrides": catalog_overrides})
    diagnostics = Diagnostics()
    if catalog_path is None:
        loaded = LoadedCatalog(_load_catalog(None, scope_list_semantics, catalog_overrides))
    else:
        loaded = read_catalog_file(catalog_path,
                                   _import_options(scope_list_semantics, catalog_overrides),
                                   diagnostics)
    cat = loaded.catalog
    _show_warnings(diagnostics)
    if fmt == "json":
        text = render_catalog_json(cat)
    elif fmt == "catalog":
        text = catalog_yaml(cat)
    else:
        text = _view(render_catalog_table(cat) + "\n"
                     + summary_text(cat, loaded.openapi, len(diagnostics.warnings)))
    _write_output(text, output)
    return ExitCode.CLEAN


def _apply(func: Any, decorators: list[Any]) -> Any:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _input_options(func: Any) -> Any:
    """What an audit reads and how it judges: shared by lint, audit and baseline write."""
    return _apply(func, [
        click.option("--keys", "keys_path", required=True, metavar="FILE",
                     help="Key definitions: YAML, JSON or CSV; a file or an https:// URL."),
        click.option("--keys-format", type=click.Choice(["yaml", "json", "csv"]),
                     help="The key file's format (default: from its extension)."),
        catalog_option,
        scope_semantics_option,
        catalog_overrides_option,
        click.option("--as-of", metavar="DATE", help="Judge expiry and rotation as of DATE "
                     "(YYYY-MM-DD; default: today, UTC)."),
        click.option("--broad-key-threshold", type=click.IntRange(min=1), default=10,
                     show_default=True, help="SA203: scopes at which a key counts as broad."),
        click.option("--rotation-days", type=click.IntRange(min=1), default=365,
                     show_default=True, help="SA208: days after which a key is due for rotation."),
        click.option("--no-timestamp", is_flag=True,
                     help="Leave out generated_at, so the same inputs give the same bytes."),
        click.option("--config", "config_path", metavar="PATH",
                     help="The configuration file (default: scopeaudit.toml, .scopeaudit.toml "
                          "or [tool.scopeaudit] in pyproject.toml, the closest from here up "
                          "to the repository root)."),
        click.option("--no-config", is_flag=True, help="Read no configuration file."),
        click.option("--no-ignores", is_flag=True,
                     help="Apply no [[ignore]] suppression: show everything as it counts."),
        *input_http_options(),
    ])


def _report_options(func: Any) -> Any:
    """How the result is shown and gated: lint and audit."""
    return _apply(func, [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Report format."),
        output_option,
        click.option("--template-dir", metavar="DIR",
                     help="Your own HTML/Markdown templates instead of the built-in ones "
                          "(report.html.j2, report.md.j2)."),
        click.option("--show-baselined", is_flag=True,
                     help="Table: list baselined and suppressed findings too (by default "
                          "they are only counted, after the new ones)."),
        fail_on_option,
        click.option("--baseline", "baseline_path", metavar="FILE",
                     help="Findings in this baseline (`scopeaudit baseline write`) are marked "
                          "and do not count toward --fail-on."),
        click.option("--exit-zero", is_flag=True,
                     help="Exit 0 even with findings at or above --fail-on (errors still "
                          "exit 2)."),
    ])


def _log_options(required: bool) -> Callable[[Any], Any]:
    def decorate(func: Any) -> Any:
        return _apply(func, [
            click.option("--logs", "log_paths", multiple=True, required=required,
                         metavar="PATH",
                         help="Request logs: files, globs (quote them), https:// URLs, or - "
                              "for stdin; gzip is read transparently. Repeat for several."),
            click.option("--log-format", "log_formats", multiple=True,
                         metavar="[GLOB=]FORMAT",
                         help="jsonl, csv, nginx, 'nginx:<log_format>', envoy, "
                              "'envoy:<format>', or a gateway preset (`scopeaudit formats` "
                              "lists them; default: detected from the first lines, else the "
                              "file name). GLOB=FORMAT applies to the inputs matching GLOB; "
                              "repeatable."),
            click.option("--map", "maps", multiple=True, metavar="FIELD=SOURCE",
                         help="Where a field comes from in JSON/CSV records, e.g. "
                              "key_id=context.identity.apiKeyId (fields: time, key_id, method, "
                              "path, status, user_agent, ip, count)."),
            click.option("--csv-delimiter", metavar="CHAR",
                         help="The CSV inputs' delimiter: one character, or tab, semicolon, "
                              "pipe (default: a comma)."),
            click.option("--csv-columns", metavar="A,B,...",
                         help="The column names of CSV inputs that have no header row."),
            click.option("--tz", metavar="ZONE",
                         help="The zone of times written without one: an IANA name "
                              "(Europe/Paris) or an offset (+02:00) (default: UTC)."),
            click.option("--since", metavar="DATE|DURATION",
                         help="Window start: a date, or a duration such as 90d counted back "
                              "from --until."),
            click.option("--until", metavar="DATE",
                         help="Window end (default: the day of the newest record; never "
                              "after the day after --as-of: later records are set apart)."),
            click.option("--strict", is_flag=True,
                         help="Stop at the first malformed log record (exit 2)."),
            click.option("--allow-empty", is_flag=True,
                         help="Accept an input that gives no record (empty, or every record "
                              "skipped) with a warning; without it that is an error (exit 2)."),
            click.option("--max-unattributed", type=click.FloatRange(min=0, max=100),
                         default=1.0, show_default=True, metavar="PERCENT",
                         help="SA304: the share of an input's accepted requests that may name "
                              "no key; past it no removal is above low confidence."),
            click.option("--shared-key-clients", type=click.IntRange(min=2), default=3,
                         show_default=True,
                         help="SA106: distinct clients at which a key counts as shared."),
            click.option("--jobs", type=click.IntRange(min=1), default=None,
                         help="Processes reading logs (default: the number of cores, at most "
                              "8). The report is the same whatever the number."),
            click.option("--engine", type=click.Choice(["auto", "stream", "duckdb"]),
                         default="auto", show_default=True,
                         help="What reads the logs: the streaming reader, or DuckDB for "
                              "JSON Lines, CSV and Parquet files (auto: Parquet, and local "
                              "JSON Lines and CSV files of 8 MiB of lines or more). The "
                              "report is the same either way."),
        ])
    return decorate


def _history_options(func: Any) -> Any:
    """The run history: audit only."""
    return _apply(func, [
        click.option("--history", "history_path", metavar="PATH",
                     help="Record this run in an SQLite history (created if missing) and "
                          "report what changed since the previous run there."),
        click.option("--history-timeout", type=click.FloatRange(min=0), default=30.0,
                     show_default=True, metavar="SECONDS",
                     help="How long to wait for another run holding the history."),
    ])


def _finish(audit: Any, fmt: str, output: str | None, fail_on: str,
            diagnostics: Diagnostics, template_dir: str | None, gate: GateOptions,
            history: tuple[str, float] | None = None) -> int:
    from contextlib import nullcontext
    from dataclasses import replace
    from pathlib import Path

    from scopeaudit.history import pending_run
    from scopeaudit.model import Severity
    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    audit = _apply_gate(audit, gate, diagnostics)
    params = click.get_current_context().params
    options = RenderOptions(template_dir=Path(template_dir) if template_dir else None,
                            show_baselined=bool(params.get("show_baselined")))
    render = renderer_for(OutputFormat(fmt))
    # The run is recorded only after its report is written and closed: a report that failed,
    # or that a reader cut short, leaves the history as it was (scopeaudit.history)
    with (pending_run(history[0], audit, timeout=history[1]) if history is not None
          else nullcontext()) as run:
        if run is not None:
            audit = replace(audit, drift=run.drift)
        _show_warnings(diagnostics)
        text = render(audit, options)
        if _write_output(_view(text) if fmt == "table" else text, output) and run is not None:
            run.record()
    if fail_on == "never" or gate.exit_zero:
        return ExitCode.CLEAN
    return _exit_for(len(audit.at_or_above(Severity.parse(fail_on))))


@dataclass(frozen=True)
class GateOptions:
    baseline_path: str | None = None
    no_ignores: bool = False
    exit_zero: bool = False


def _apply_gate(audit: Any, gate: GateOptions, diagnostics: Diagnostics) -> Any:
    """Per-rule settings, suppressions and the baseline from the configuration that main()
    loaded (click's context object), applied to the finished Audit.

    Every output (each report format, the baseline, the history) is made from what this
    returns, so this is where the Audit passes the one redaction, before any finding's
    fingerprint is compared or written: the configuration's own strings were redacted when
    it was read, warnings when they were made."""
    from dataclasses import replace

    from scopeaudit.gate import apply_gate, load_baseline
    from scopeaudit.http.credentials import redact_known
    from scopeaudit.model import sorted_findings
    from scopeaudit.redaction import redacted

    audit = redacted(audit)
    config = _active_config()
    for warning in config.warnings:
        diagnostics.warn(warning)
    findings = []
    for f in audit.findings:
        settings = config.rules.get(f.rule)
        if settings is not None and settings.disabled:
            continue
        if settings is not None and settings.severity is not None:
            f = replace(f, severity=settings.severity)
        findings.append(f)
    baseline = load_baseline(gate.baseline_path) if gate.baseline_path else None
    ignores = () if gate.no_ignores else config.ignores
    result = apply_gate(findings, ignores, baseline, audit.as_of)
    disabled = tuple(sorted(rule for rule, s in config.rules.items() if s.disabled))
    return replace(audit, findings=sorted_findings(list(result.findings)),
                   warnings=tuple(str(w) for w in diagnostics.warnings),
                   disabled_rules=disabled,
                   config_path=None if config.path is None else redact_known(config.path))


def _active_config() -> Config:
    from scopeaudit.config import Config

    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Config) if ctx is not None else None
    return found if found is not None else Config(None)


@cli.command()
@_input_options
@_report_options
@click.option("--against", metavar="REF",
              help="No new access: report keys and scopes added since REF, a git ref (the "
                   "key file as of that commit, via `git show`) or a second key file "
                   "(SA214-SA217).")
def lint(**params: Any) -> int:
    """Check key definitions without usage logs (rules SA2xx)."""
    from scopeaudit.diagnostics import Diagnostics

    _guard_output(params)
    diagnostics = Diagnostics()
    return _finish_with(_build_lint(params, diagnostics), params, diagnostics)


def _code_options(func: Any) -> Any:
    """The integration's source code beside the logs: audit only."""
    return _apply(func, [
        click.option("--code", "code_paths", multiple=True, metavar="PATH",
                     help="Source code of the integrations (files or folders; repeatable), "
                          "scanned as `scopeaudit scan` does (the scopeaudit[scan] extra): "
                          "scopes it needs are kept (state needed_by_code), a call needing a "
                          "scope its key lacks is SA401. Each file is the key's whose `code:` "
                          "globs name it, or --code-key's."),
        click.option("--code-key", metavar="ID",
                     help="The key (in --keys) all the --code uses, instead of the keys' "
                          "`code:` globs."),
    ])


@cli.command()
@_input_options
@_report_options
@_log_options(required=True)
@_history_options
@_code_options
def audit(**params: Any) -> int:
    """Compare granted scopes with usage logs: verdicts, recommendations, evidence."""
    from scopeaudit.diagnostics import Diagnostics

    _guard_output(params)
    diagnostics = Diagnostics()
    return _finish_with(_build_audit(params, diagnostics), params, diagnostics)


@cli.command()
@_input_options
@_log_options(required=True)
@click.option("--apply", "apply_fix", is_flag=True,
              help="Write the patched key file (atomically; refused if it changed since the "
                   "audit read it). Without it: a dry run that prints the diff.")
@click.option("--min-confidence", type=click.Choice(["high", "medium"]), default="high",
              show_default=True,
              help="Apply removals at or above this confidence (deferred, low-confidence "
                   "removals never are).")
@click.option("--only", "only", multiple=True, metavar="KEY",
              help="Change only this key (by id); repeatable.")
@click.option("--revoke-unused", is_flag=True,
              help="Mark unused keys (SA101) for revocation (revoke: true; in a CSV without "
                   "a revoke column, expires: the audit date) instead of leaving them.")
@click.option("--format", "fmt", type=click.Choice(["diff", "markdown"]), default="diff",
              show_default=True,
              help="diff: a unified diff (what is held back goes to stderr); markdown: a "
                   "summary and the diff, for a pull request's body.")
@click.option("--history", "history_path", metavar="PATH",
              help="Staged removal: apply only removals announced (--announce) in this "
                   "history at least --announce-days earlier and unused since.")
@click.option("--history-timeout", type=click.FloatRange(min=0), default=30.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for another run holding the history.")
@click.option("--announce", is_flag=True,
              help="Record the plan's removals in --history as announced today, and change "
                   "nothing; a later fix --history applies them.")
@click.option("--announce-days", type=click.IntRange(min=0), default=14, show_default=True,
              metavar="N", help="Days an announced removal must stay unused before it is "
                                "applied.")
@output_option
def fix(**params: Any) -> int:
    """Rewrite the key file to the audit's recommendation (same inputs as audit), keeping its
    comments, order and quoting. The patch is audited again on the same logs and refused
    (exit 2) if it would refuse any accepted request of the window or make a finding worse."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import KeysFormat, detect_format
    from scopeaudit.remediate.fix import build_fix
    from scopeaudit.remediate.plan import FixOptions

    _guard_output(params)
    diagnostics = Diagnostics()
    reading = _read_audit(params, diagnostics)
    _show_warnings(diagnostics)
    fmt = KeysFormat(params["keys_format"]) if params["keys_format"] else \
        detect_format(params["keys_path"])
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


def _staged_fix(params: dict[str, Any], audit: Any, fmt: Any, reading: _Reading,
                options: Any) -> int:
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
    _write_output(announce_text(plan, history.open, day, params["announce_days"],
                                params["fmt"]), params["output"])
    return ExitCode.CLEAN


def _finish_fix(params: dict[str, Any], result: Any) -> int:
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
    _write_output(render_markdown(result) if params["fmt"] == "markdown"
                  else unified_diff(result), params["output"])
    if params["apply_fix"] and result.changed:
        apply_fix(result)
        click.echo(f"scopeaudit: wrote {result.path}", err=True)
    return ExitCode.CLEAN


@cli.command()
@_input_options
@_log_options(required=True)
@click.option("--key", "only", multiple=True, metavar="KEY",
              help="Split this key (by id; repeatable); default: every shared key (SA106).")
@output_option
def split(**params: Any) -> int:
    """Propose one key per client of a shared key (SA106), same inputs as audit: clients
    calling the same operations are one cluster, each given the least scopes it needs out of
    the shared key's grants. Markdown: a keys-as-code snippet and a table of the clients."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.remediate.split import render_split, shared_keys, split_key

    _guard_output(params)
    diagnostics = Diagnostics()
    reading = _read_audit(params, diagnostics)
    audit = reading.judge()
    _show_warnings(diagnostics)
    known = {k.id for k in audit.keys}
    for key_id in params["only"]:
        if key_id not in known:
            raise InputError(f"--key {key_id}: no such key in the key file")
    splits = [split_key(key, verdict, reading.catalog)
              for key, verdict in shared_keys(audit, tuple(params["only"]))]
    _write_output(render_split(splits), params["output"])
    return ExitCode.CLEAN


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="FILE...")
@catalog_option
@scope_semantics_option
@catalog_overrides_option
@click.option("--id", "key_id", default="key_new_integration", show_default=True,
              help="The id of the key defined.")
@click.option("--name", default="New integration", show_default=True,
              help="The name of the key defined.")
@click.option("--search-limit", type=click.IntRange(min=1), default=100_000, show_default=True,
              metavar="N", help="Branches the exact search may visit; past them the set is the "
                                "best found and said to be a bound.")
@output_option
def design(**params: Any) -> int:
    """The least privileged key for a new integration, from the operations it will call:
    files of operation ids or 'METHOD /path' lines, or an OpenAPI document of the client's
    calls ('-' reads stdin). Exit 1 when some operation no scope set can satisfy."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.output import refuse_overwriting
    from scopeaudit.remediate.design import design as build_design
    from scopeaudit.remediate.design import read_calls, render_design

    _guard_output({"output": params["output"], "catalog_path": params["catalog_path"],
                   "catalog_overrides": params["catalog_overrides"]})
    refuse_overwriting(params["output"], [("an input", p) for p in params["inputs"] if p != "-"])
    diagnostics = Diagnostics()
    cat = _load_catalog(params["catalog_path"], params["scope_list_semantics"],
                        params["catalog_overrides"], diagnostics)
    _show_warnings(diagnostics)
    calls = [call for path in params["inputs"] for call in read_calls(path)]
    if not calls:
        raise InputError("no operation to design a key for", file=params["inputs"][0])
    result = build_design(calls, cat, params["search_limit"])
    _write_output(render_design(result, params["key_id"], params["name"], cat),
                  params["output"])
    return ExitCode.FINDINGS if result.unsatisfiable else ExitCode.CLEAN


@cli.group()
def baseline() -> None:
    """Accept today's findings, so that only new ones fail the build."""


@baseline.command("write")
@_input_options
@_log_options(required=False)
@click.option("-o", "--output", metavar="FILE",
              help="Where to write the baseline (default: stdout).", callback=_writable_output)
def baseline_write(**params: Any) -> int:
    """Write the fingerprints of the current findings (lint, or audit when --logs is given).

    Takes the same inputs and options as lint and audit. Versioned, sorted, no timestamp:
    the same findings give the same bytes, whatever their lines.
    """
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.gate import baseline_document

    _guard_output(params)
    diagnostics = Diagnostics()
    built = (_build_audit(params, diagnostics) if params["log_paths"]
             else _build_lint(params, diagnostics))
    gated = _apply_gate(built, GateOptions(), diagnostics)
    _show_warnings(diagnostics)
    _write_output(baseline_document([f for f in gated.findings if f.counts]), params["output"])
    return ExitCode.CLEAN


@cli.command()
@click.option("--dir", "directory", default=".", show_default=True, metavar="DIR",
              help="Where to write the files.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: str, force: bool) -> int:
    """Write a commented starter scopeaudit.toml and an example keys.yaml."""
    from importlib import resources
    from pathlib import Path

    target = Path(directory)
    if not target.is_dir():
        raise InputError("not a directory", file=directory)
    starter = resources.files("scopeaudit").joinpath("starter")
    for name in ("scopeaudit.toml", "keys.yaml"):
        path = target / name
        if path.exists() and not force:
            _say(f"scopeaudit: {path} exists, left as it is (--force overwrites)")
            continue
        path.write_text(starter.joinpath(name).read_text("utf-8"), encoding="utf-8")
        _say(f"scopeaudit: wrote {path}")
    click.echo("scopeaudit: next: edit keys.yaml, then run `scopeaudit lint`", err=True)
    return ExitCode.CLEAN


def _lint_settings(params: dict[str, Any]) -> Any:
    from scopeaudit.rules.inventory_rules import LintSettings

    return LintSettings(as_of=_parse_date(params["as_of"], "--as-of"),
                        broad_key_threshold=params["broad_key_threshold"],
                        rotation_days=params["rotation_days"])


def _inventory_and_catalog(params: dict[str, Any], diagnostics: Diagnostics) -> Any:
    cat = _load_catalog(params["catalog_path"], params["scope_list_semantics"],
                        params["catalog_overrides"], diagnostics)
    return _inventory(params, diagnostics), cat


def _inventory(params: dict[str, Any], diagnostics: Diagnostics) -> Any:
    from scopeaudit.inventory import KeysFormat, load_inventory

    keys_format = params["keys_format"]
    return load_inventory(params["keys_path"],
                          KeysFormat(keys_format) if keys_format else None, diagnostics,
                          settings_from(params))


def _build_lint(params: dict[str, Any], diagnostics: Diagnostics) -> Any:
    from scopeaudit.lint import lint as run_lint

    inventory, cat = _inventory_and_catalog(params, diagnostics)
    built = run_lint(inventory, cat, _lint_settings(params), diagnostics,
                     timestamp=not params["no_timestamp"])
    if params.get("against"):
        from dataclasses import replace

        from scopeaudit.inventory import KeysFormat, detect_format
        from scopeaudit.model import sorted_findings
        from scopeaudit.remediate.against import load_reference, new_access

        fmt = KeysFormat(params["keys_format"]) if params["keys_format"] else \
            detect_format(params["keys_path"])
        reference = load_reference(params["against"], params["keys_path"], fmt)
        added = new_access(inventory, reference, cat, built.as_of)
        built = replace(built, findings=sorted_findings([*built.findings, *added]))
    return built


def _quality_settings(params: dict[str, Any], declared: Any) -> Any:
    """What evidence quality is judged with: the unattributed threshold, the declared
    sources, and (with --history) the sources earlier runs saw each key's traffic from."""
    from scopeaudit.history import earlier_sources
    from scopeaudit.quality import QualitySettings

    history = params.get("history_path")
    return QualitySettings(
        max_unattributed=params["max_unattributed"] / 100, history=history,
        declared=frozenset(d.name for d in declared),
        earlier_sources=earlier_sources(history, params["history_timeout"]) if history
        else {})


def _build_audit(params: dict[str, Any], diagnostics: Diagnostics) -> Any:
    return _read_audit(params, diagnostics).judge()


@dataclass(frozen=True)
class _Reading:
    """An audit's inputs, read: ``judge()`` is the audit; ``judge(inventory)`` the audit of
    other key definitions on the same usage (scopeaudit fix's replay guard)."""

    catalog: Any
    judge: Callable[..., Any]


def _read_audit(params: dict[str, Any], diagnostics: Diagnostics) -> _Reading:
    """The inputs read, as a function from key definitions to the Audit (the read ones by
    default): fix audits its patched definitions again on the same usage."""
    from scopeaudit.audit import AuditOptions, Later, LogOptions, analyse, read_usage
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.remote.window import pull_window
    from scopeaudit.rules.usage_rules import UsageSettings
    from scopeaudit.usage.fields import parse_maps
    from scopeaudit.usage.formats import read_options
    from scopeaudit.usage.jobs import default_jobs

    declared = _active_config().sources
    options = AuditOptions(lint=_lint_settings(params),
                           usage=UsageSettings(shared_key_clients=params["shared_key_clients"]),
                           since=params["since"], until=params["until"],
                           quality=_quality_settings(params, declared))
    logs = LogOptions(paths=params["log_paths"], log_formats=params["log_formats"],
                      maps=parse_maps(params["maps"]), strict=params["strict"],
                      jobs=params["jobs"] or default_jobs(), http=settings_from(params),
                      engine=params.get("engine") or "auto",
                      allow_empty=params["allow_empty"], sources=declared,
                      pull=pull_window(params["since"], params["until"],
                                       options.lint.as_of),
                      read=read_options(params.get("csv_delimiter"), params.get("csv_columns"),
                                        params.get("tz")))
    code_paths = tuple(params.get("code_paths") or ())
    if params.get("code_key") and not code_paths:
        raise InputError("--code-key needs --code, the source code the key uses")
    if code_paths:
        from scopeaudit.scan import require_parsers

        require_parsers()  # before the logs are read: a missing extra fails at once
    cat = _load_catalog(params["catalog_path"], params["scope_list_semantics"],
                        params["catalog_overrides"], diagnostics)
    progress = _progress if sys.stderr.isatty() else None
    # The key file is parsed while DuckDB reads the logs: its engine needs the keys only once
    # its queries have run (read_usage keeps the inventory's errors and warnings first)
    inventory = Later(lambda: _inventory(params, diagnostics))
    usage, inputs, records, requests = read_usage(inventory, cat, logs, diagnostics, progress)
    if progress is not None:
        click.echo("\r\x1b[K", nl=False, err=True)
    loaded = inventory()
    code = None
    if code_paths:
        from scopeaudit.scan.keyed import scan_for_audit

        code = scan_for_audit(code_paths, cat, loaded.keys, params.get("code_key"),
                              params["keys_path"], diagnostics)

    def judge(keys: Any = None) -> Any:
        # another inventory's warnings are not this run's
        return analyse(loaded if keys is None else keys, cat, usage, inputs,
                       (records, requests), options,
                       diagnostics if keys is None else Diagnostics(),
                       timestamp=not params["no_timestamp"], code=code)
    return _Reading(cat, judge)


def _finish_with(built: Any, params: dict[str, Any], diagnostics: Diagnostics) -> int:
    return _finish(built, params["fmt"], params["output"], params["fail_on"], diagnostics,
                   params["template_dir"],
                   GateOptions(params["baseline_path"], params["no_ignores"],
                               params["exit_zero"]),
                   (params["history_path"], params["history_timeout"])
                   if params.get("history_path") else None)


def _progress(path: str, records: int) -> None:
    # the one escape sequence here is the tool's own (back to the line's start, clear it)
    click.echo(f"\r\x1b[Kreading {_shown(path)}: {records:,} records", nl=False, err=True)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True)
def rules(fmt: str) -> int:
    """List every rule: id, name, default severity and summary."""
    from scopeaudit.rules.docs import rules_json, rules_markdown, rules_table

    text = {"table": rules_table, "json": rules_json, "markdown": rules_markdown}[fmt]()
    _write_output(_view(text) if fmt == "table" else text, None)
    return ExitCode.CLEAN


@cli.command()
@click.argument("name", required=False)
def formats(name: str | None) -> int:
    """List the log formats and gateway presets (--log-format NAME): their fields, where the
    key comes from, what to add to the gateway's log configuration, an example line."""
    from scopeaudit.usage.formats_doc import formats_text

    _write_output(_view(formats_text(name)), None)
    return ExitCode.CLEAN


@cli.command()
@click.argument("rule")
def explain(rule: str) -> int:
    """Explain one rule in full, by id (SA201) or by name (unknown-scope)."""
    from scopeaudit.rules.registry import get_rule

    try:
        found = get_rule(rule)
    except KeyError:
        raise InputError(f"unknown rule {rule!r}; `scopeaudit rules` lists them") from None
    _write_output(_view(found.explain()), None)
    return ExitCode.CLEAN


@cli.command()
@click.argument("path", metavar="PATH")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]),
              default="table", show_default=True,
              help="table: one row per run; json: the runs and the trend; html: a page with "
                   "the trend drawn as inline SVG.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.",
              callback=_writable_output)
@click.option("--history-timeout", type=click.FloatRange(min=0), default=30.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for a run writing the history.")
def history(path: str, fmt: str, output: str | None, history_timeout: float) -> int:
    """List the runs recorded with `audit --history PATH`, and the trend."""
    from scopeaudit.history import list_runs
    from scopeaudit.output import refuse_overwriting
    from scopeaudit.render.history_view import render_history

    refuse_overwriting(output, [("the history database", path)])
    runs = list_runs(path, history_timeout)
    text = render_history(runs, fmt, path)
    _write_output(_view(text) if fmt == "table" else text, output)
    return ExitCode.CLEAN


@cli.command("sql")
@click.option("--dialect", required=True, metavar="duckdb|trino|spark|bigquery|postgres",
              help="The warehouse's SQL dialect (trino for Athena).")
@click.option("--table", required=True, metavar="NAME",
              help="The raw log table, dotted and quoted as the dialect writes it.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="A column other than the default (ts, key_id, method, path, status, "
                   "user_agent, ip): e.g. ts=event_time, key_id=api_key_id.")
@click.option("--ts-type", default="timestamp", show_default=True,
              metavar="timestamp|iso|epoch",
              help="How ts is stored: a timestamp, an ISO 8601 string (no zone: UTC) or "
                   "epoch seconds or milliseconds.")
@click.option("--since", metavar="DATE|DURATION",
              help="Only rows from this UTC day (a duration such as 90d needs --until).")
@click.option("--until", metavar="DATE", help="Only rows up to this UTC day, inclusive.")
@click.option("--keys", "keys_path", metavar="FILE",
              help="Key definitions (YAML, JSON or CSV; a file or an https:// URL): tokens "
                   "of keys known by prefix or last4 are matched in the query (by "
                   "fingerprint alone otherwise).")
@click.option("--keys-format", type=click.Choice(["yaml", "json", "csv"]),
              help="The key file's format (default: from its extension).")
@catalog_option
@scope_semantics_option
@catalog_overrides_option
@output_option
def sql(**params: Any) -> int:
    """Print the query that aggregates a warehouse's raw request logs into the rows
    `audit --logs` reads (save its result as CSV or JSON lines; Parquet too, which needs
    the DuckDB engine reads)."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.sql.command import build_sql

    _guard_output(params)
    diagnostics = Diagnostics()
    keys: tuple[Key, ...] = ()
    if params["keys_path"]:  # read as lint and audit read it
        inventory, cat = _inventory_and_catalog(params, diagnostics)
        keys = tuple(inventory.keys)
    else:
        cat = _load_catalog(params["catalog_path"], params["scope_list_semantics"],
                            params["catalog_overrides"], diagnostics)
    _show_warnings(diagnostics)
    _write_output(build_sql(cat, params["dialect"], params["table"], params["maps"],
                            params["ts_type"], params["since"], params["until"], keys),
                  params["output"])
    return ExitCode.CLEAN


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@catalog_option
@scope_semantics_option
@catalog_overrides_option
@click.option("--keys", "keys_path", metavar="FILE|URL",
              help="Key definitions: each call is checked against the key whose `code:` "
                   "globs name its file, or against --key-id.")
@click.option("--keys-format", type=click.Choice(["yaml", "json", "csv"]),
              help="The key file's format (default: from its extension).")
@click.option("--key-id", metavar="ID", help="The key (in --keys) all the scanned code uses.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif"]),
              default="table", show_default=True,
              help="table, json (the contract scopeaudit/scan/v1) or sarif.")
@output_option
@fail_on_option
@click.option("--max-file-bytes", type=click.IntRange(min=1), default=1_000_000,
              show_default=True, help="Skip (and report) source files larger than this.")
def scan(**params: Any) -> int:
    """Find the API calls in source code (Python, JavaScript/TypeScript, Go) and the scopes
    they need. Files are parsed, never imported or run (the scopeaudit[scan] extra). With
    --keys, a call needing a scope its key lacks is SA401."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.model import Severity
    from scopeaudit.scan import require_parsers, scan_code

    require_parsers()
    _guard_output(params)
    diagnostics = Diagnostics()
    if params["key_id"] and not params["keys_path"]:
        raise InputError("--key-id needs --keys, the file that defines the key")
    keys: tuple[Key, ...] = ()
    if params["keys_path"]:
        inventory, cat = _inventory_and_catalog(params, diagnostics)
        keys = tuple(inventory.keys)
    else:
        cat = _load_catalog(params["catalog_path"], params["scope_list_semantics"],
                            params["catalog_overrides"], diagnostics)
    report = scan_code(params["paths"], cat, keys, params["key_id"], params["keys_path"],
                       params["max_file_bytes"])
    _show_warnings(diagnostics)
    _write_output(render_scan_report(report, params["fmt"]), params["output"])
    if params["fail_on"] == "never":
        return ExitCode.CLEAN
    threshold = Severity.parse(params["fail_on"])
    return _exit_for(sum(1 for f in report.findings if threshold <= f.severity))


def render_scan_report(report: Any, fmt: str) -> str:
    from scopeaudit.scan.render import render_scan

    return render_scan(report, fmt)


@cli.command()
@click.option("--base-url", default="https://api.insp.ac", show_default=True, metavar="URL",
              help="The API to probe (http:// only for loopback addresses unless "
                   "--allow-insecure-http). The key comes from INSPAC_API_KEY, never an "
                   "argument.")
@click.option("--keys", "keys_path", metavar="FILE|URL",
              help="Key definitions to compare the live result with (with --key-id).")
@click.option("--key-id", metavar="ID", help="The definition of the probed key in --keys.")
@click.option("--keys-format", type=click.Choice(["yaml", "json", "csv"]),
              help="The key file's format (default: from its extension).")
@catalog_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table, or json (the contract scopeaudit/probe/v1).")
@output_option
@fail_on_option
@click.option("--no-timestamp", is_flag=True, help="Leave out generated_at.")
@lambda command: _apply(command, connection_options())  # timeouts, retries, TLS
def probe(**params: Any) -> int:
    """Check live which read scopes the key in INSPAC_API_KEY holds: one GET per read scope,
    granted (2xx, or 404 on a documented route), missing (403 FORBIDDEN) or unverifiable.
    Write scopes are never probed. With --keys and --key-id, drift from the definition is
    SA211/SA212."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.model import Severity
    from scopeaudit.probe import run_probe
    from scopeaudit.probe.model import ProbeOptions
    from scopeaudit.redaction import redacted
    from scopeaudit.render.probe_view import render_probe

    _guard_output(params)
    diagnostics = Diagnostics()
    options = ProbeOptions(base_url=params["base_url"], http=settings_from(params),
                           keys_path=params.get("keys_path"), key_id=params.get("key_id"),
                           keys_format=params.get("keys_format"),
                           timestamp=not params.get("no_timestamp"))
    # the one redaction for every string in it (reason phrases, paths), as for an Audit
    report = redacted(run_probe(options, _load_catalog(params["catalog_path"]), diagnostics))
    _show_warnings(diagnostics)
    text = render_probe(report, params["fmt"])
    _write_output(_view(text) if params["fmt"] == "table" else text, params["output"])
    if params["fail_on"] == "never":
        return ExitCode.CLEAN
    threshold = Severity.parse(params["fail_on"])
    return _exit_for(sum(1 for f in report.findings if threshold <= f.severity))


# Commands whose options a configuration file may set (the click command objects).
def _configurable() -> dict[str, click.Command]:
    return {"lint": lint, "audit": audit, "baseline write": baseline_write}


def _long_name(param: click.Parameter) -> str | None:
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0][2:] if longs else None


def _install_envvars() -> None:
    """SCOPEAUDIT_<LONG_OPTION> for every option (SCOPEAUDIT_FAIL_ON for --fail-on)."""
    for command in (*_configurable().values(), catalog, probe):
        for param in command.params:
            name = _long_name(param)
            if isinstance(param, click.Option) and name and param.envvar is None:
                param.envvar = "SCOPEAUDIT_" + name.upper().replace("-", "_")


_NOT_IN_FILES = frozenset({"config", "no-config", "help"})
# Options whose value may be a URL: a URL decides where credentials (SCOPEAUDIT_HTTP_TOKEN,
# --header) are sent, so a configuration file may only name files.
_URL_OPTIONS = frozenset({"keys", "logs", "catalog"})


def _command_line_only() -> dict[str, str]:
    """Options a configuration file may not set, each with why: a pull request can edit the
    file, and must not choose where a CI run's credentials go, or what code it runs."""
    from scopeaudit.http.options import COMMAND_LINE_ONLY

    credentials = "decides where credentials are sent or which TLS servers are trusted"
    return {**dict.fromkeys(sorted(COMMAND_LINE_ONLY), credentials),
            "template-dir": "chooses the report templates, which are code run with the report"}


def option_types() -> dict[str, type | tuple[type, ...]]:
    """Every configurable long option -> the TOML type it takes."""
    types: dict[str, type | tuple[type, ...]] = {}
    for command in _configurable().values():
        for param in command.params:
            name = _long_name(param)
            if not isinstance(param, click.Option) or not name or name in _NOT_IN_FILES:
                continue
            if param.multiple:
                types[name] = list
            elif param.is_flag:
                types[name] = bool
            elif isinstance(param.type, click.types.IntParamType):
                types[name] = int
            elif isinstance(param.type, click.types.FloatParamType):
                types[name] = (int, float)
            else:
                types[name] = str
    return types


def _load_config(args: list[str]) -> tuple[Config, dict[str, Any]]:
    """The configuration for this run, and click's default map from it. Resolved before
    click parses anything, so that the file is only the default: flag > env > file."""
    import os
    from pathlib import Path

    from scopeaudit.config import Config, discover, load

    invoked = next((a for a in args if not a.startswith("-")), None)
    if invoked not in ("lint", "audit", "baseline", "fix") or "--help" in args or "-h" in args:
        return Config(None), {}  # --help, catalog, rules, ...: no file is read
    explicit = _scan_option(args, "--config") or os.environ.get("SCOPEAUDIT_CONFIG") or None
    no_config = "--no-config" in args or os.environ.get("SCOPEAUDIT_NO_CONFIG", "").lower() in (
        "1", "true", "yes")
    if no_config:
        return Config(None), {}
    path = Path(explicit) if explicit else discover(Path.cwd())
    if path is None:
        return Config(None), {}
    if not path.is_file():
        raise InputError("no such configuration file", file=str(path))
    config = load(path, option_types(), command_line_only=_command_line_only(),
                  no_urls=_URL_OPTIONS)
    defaults: dict[str, Any] = {}
    for command_name, command in _configurable().items():
        values = {}
        for param in command.params:
            name = _long_name(param)
            if name is not None and name in config.options and param.name is not None:
                values[param.name] = config.options[name]
        group, _, sub = command_name.partition(" ")
        if sub:
            defaults.setdefault(group, {})[sub] = values
        else:
            defaults[group] = values
    # fix reads what audit reads, as audit is configured; its own options (--apply, its
    # --format, -o) are never taken from a file
    shared = {p.name for p in fix.params} - {"fmt", "output"}
    defaults["fix"] = {k: v for k, v in defaults.get("audit", {}).items() if k in shared}
    return config, defaults


def _scan_option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


_install_envvars()


def main(argv: list[str] | None = None) -> NoReturn:
    from scopeaudit.http.credentials import secret_scope

    # The run's secrets (tokens, header values, passwords read from the environment): every
    # error line below is scrubbed of them, and of URLs' credentials.
    with secret_scope() as known:
        _main(sys.argv[1:] if argv is None else argv, known.redact_text)


def _shown_error(exc: InputError, scrub: Callable[[str], str]) -> str:
    """``file:line: message`` with URLs shown without credentials, known secrets and tokens
    replaced and invisible characters escaped: the last line of defence for a raw URL."""
    from scopeaudit.http.policy import redact_urls
    from scopeaudit.render.text import show_invisible

    def clean(text: str) -> str:
        return show_invisible(scrub(redact_urls(text)))

    message = clean(exc.message)
    if exc.file is None:
        return message
    where = clean(exc.file)
    return f"{where}: {message}" if exc.line is None else f"{where}:{exc.line}: {message}"


def _main(args: list[str], scrub: Callable[[str], str]) -> NoReturn:
    debug = "--debug" in args
    try:
        config, defaults = _load_config(args)
        result: Any = cli.main(args=args, prog_name="scopeaudit", standalone_mode=False,
                               default_map=defaults, obj=config)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # One line, as every other error: the usage block click would print first is what
        # --help is for, and a CI log should show the mistake, not the synopsis.
        from scopeaudit.render.text import show_invisible

        command = exc.ctx.command_path if exc.ctx is not None else "scopeaudit"
        message = show_invisible(scrub(exc.format_message()))
        click.echo(f"scopeaudit: error: {message} (see '{command} --help')", err=True)
        sys.exit(ExitCode.ERROR)
    except click.ClickException as exc:
        # click's own errors default to exit 1, which here means "findings": never let it leak.
        from scopeaudit.render.text import show_invisible

        click.echo(f"scopeaudit: error: {show_invisible(scrub(exc.format_message()))}",
                   err=True)
        sys.exit(ExitCode.ERROR)
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C in a long audit: one line, no traceback, and nothing half-written reported
        click.echo("scopeaudit: interrupted", err=True)
        sys.exit(ExitCode.ERROR)
    except InputError as exc:
        if debug:
            raise
        # Callers redact what they quote; this is the last line of defence for a token.
        click.echo(f"scopeaudit: error: {_shown_error(exc, scrub)}", err=True)
        sys.exit(ExitCode.ERROR)
    except BrokenPipeError:
        # A pipe closed under something other than the report (whose reader leaving is
        # handled where it is written, scopeaudit.output): nowhere left to say anything.
        sys.stdout = None
        sys.exit(ExitCode.ERROR)
    except Exception as exc:
        if debug:
            raise
        from scopeaudit.http.policy import redact_urls

        click.echo(f"scopeaudit: internal error: {type(exc).__name__}: "
                   f"{scrub(redact_urls(str(exc)))} "
                   "(run with --debug for a traceback, and please report it)", err=True)
        sys.exit(ExitCode.ERROR)
    sys.exit(int(result) if isinstance(result, int) else ExitCode.CLEAN)
