"""The command line. Thin on purpose: options -> pipeline -> render -> exit code.

Only click is imported at module level so that ``scopeaudit --help`` stays fast; each command
imports the pipeline it runs.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from scopeaudit import __version__
from scopeaudit.errors import ExitCode, InputError

if TYPE_CHECKING:
    from scopeaudit.catalog.model import Catalog
    from scopeaudit.catalog.openapi import ImportOptions
    from scopeaudit.diagnostics import Diagnostics

SEVERITY_CHOICES = ("info", "low", "medium", "high", "critical")
# The report formats, spelled out here so that `--help` never imports the renderers;
# tests/unit/test_render_formats.py keeps this equal to render.OutputFormat.
FORMATS = ("table", "json", "markdown", "html", "sarif", "csv")
FAIL_ON_CHOICES = (*SEVERITY_CHOICES, "never")


def _write_output(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror}", file=output) from None


def _show_warnings(diagnostics: Diagnostics) -> None:
    from scopeaudit.secrets import redact

    for warning in diagnostics.warnings:
        click.echo(f"scopeaudit: warning: {redact(str(warning))}", err=True)


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


output_option = click.option(
    "-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout."
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
        text = (render_catalog_table(cat) + "\n"
                + summary_text(cat, loaded.openapi, len(diagnostics.warnings)))
    _write_output(text, output)
    return ExitCode.CLEAN


def _key_options(func: Any) -> Any:
    """Options shared by every command that reads key definitions and reports findings."""
    decorators = [
        click.option("--keys", "keys_path", required=True, metavar="FILE",
                     help="Key definitions: YAML, JSON or CSV."),
        click.option("--keys-format", type=click.Choice(["yaml", "json", "csv"]),
                     help="The key file's format (default: from its extension)."),
        catalog_option,
        scope_semantics_option,
        catalog_overrides_option,
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Report format."),
        output_option,
        click.option("--template-dir", metavar="DIR",
                     help="Your own HTML/Markdown templates instead of the built-in ones "
                          "(report.html.j2, report.md.j2)."),
        fail_on_option,
        click.option("--as-of", metavar="DATE", help="Judge expiry and rotation as of DATE "
                     "(YYYY-MM-DD; default: today, UTC)."),
        click.option("--broad-key-threshold", type=click.IntRange(min=1), default=10,
                     show_default=True, help="SA203: scopes at which a key counts as broad."),
        click.option("--rotation-days", type=click.IntRange(min=1), default=365,
                     show_default=True, help="SA208: days after which a key is due for rotation."),
        click.option("--no-timestamp", is_flag=True,
                     help="Leave out generated_at, so the same inputs give the same bytes."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _finish(audit: Any, fmt: str, output: str | None, fail_on: str,
            diagnostics: Diagnostics, template_dir: str | None) -> int:
    from pathlib import Path

    from scopeaudit.model import Severity
    from scopeaudit.render import OutputFormat, RenderOptions, renderer_for

    _show_warnings(diagnostics)
    options = RenderOptions(template_dir=Path(template_dir) if template_dir else None)
    _write_output(renderer_for(OutputFormat(fmt))(audit, options), output)
    if fail_on == "never":
        return ExitCode.CLEAN
    return _exit_for(len(audit.at_or_above(Severity.parse(fail_on))))


@cli.command()
@_key_options
def lint(keys_path: str, keys_format: str | None, catalog_path: str | None,
         scope_list_semantics: str | None, catalog_overrides: str | None, fmt: str,
         output: str | None, template_dir: str | None, fail_on: str, as_of: str | None,
         broad_key_threshold: int, rotation_days: int, no_timestamp: bool) -> int:
    """Check key definitions without usage logs (rules SA2xx)."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import KeysFormat, load_inventory
    from scopeaudit.lint import lint as run_lint
    from scopeaudit.rules.inventory_rules import LintSettings

    diagnostics = Diagnostics()
    settings = LintSettings(as_of=_parse_date(as_of, "--as-of"),
                            broad_key_threshold=broad_key_threshold, rotation_days=rotation_days)
    cat = _load_catalog(catalog_path, scope_list_semantics, catalog_overrides, diagnostics)
    inventory = load_inventory(keys_path, KeysFormat(keys_format) if keys_format else None,
                               diagnostics)
    audit = run_lint(inventory, cat, settings, diagnostics, timestamp=not no_timestamp)
    return _finish(audit, fmt, output, fail_on, diagnostics, template_dir)


@cli.command()
@_key_options
@click.option("--logs", "log_paths", multiple=True, required=True, metavar="PATH",
              help="Request logs: files, globs (quote them), or - for stdin; gzip is read "
                   "transparently. Repeat for several.")
@click.option("--log-format", "log_formats", multiple=True, metavar="[GLOB=]FORMAT",
              help="jsonl, csv, nginx, 'nginx:<log_format>', envoy, 'envoy:<format>', apigw or "
                   "kong (default: from the file name: .jsonl/.ndjson/.json, .csv, .log). "
                   "GLOB=FORMAT applies to the inputs matching GLOB; repeatable.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=SOURCE",
              help="Where a field comes from in JSON/CSV records, e.g. "
                   "key_id=context.identity.apiKeyId (fields: time, key_id, method, path, "
                   "status, user_agent, ip, count).")
@click.option("--since", metavar="DATE|DURATION",
              help="Window start: a date, or a duration such as 90d counted back from --until.")
@click.option("--until", metavar="DATE",
              help="Window end (default: the day of the newest record).")
@click.option("--strict", is_flag=True, help="Stop at the first malformed log record (exit 2).")
@click.option("--shared-key-clients", type=click.IntRange(min=2), default=3, show_default=True,
              help="SA106: distinct clients at which a key counts as shared.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes reading logs (default: the number of cores, at most 8). "
                   "The report is the same whatever the number.")
def audit(keys_path: str, keys_format: str | None, catalog_path: str | None,
          scope_list_semantics: str | None, catalog_overrides: str | None, fmt: str,
          output: str | None, template_dir: str | None, fail_on: str, as_of: str | None,
          broad_key_threshold: int,
          rotation_days: int, no_timestamp: bool, log_paths: tuple[str, ...],
          log_formats: tuple[str, ...], maps: tuple[str, ...], since: str | None,
          until: str | None,
          strict: bool, shared_key_clients: int, jobs: int | None) -> int:
    """Compare granted scopes with usage logs: verdicts, recommendations, evidence."""
    from scopeaudit.audit import AuditOptions, LogOptions, analyse, read_usage
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import KeysFormat, load_inventory
    from scopeaudit.rules.inventory_rules import LintSettings
    from scopeaudit.rules.usage_rules import UsageSettings
    from scopeaudit.usage.fields import parse_maps

    diagnostics = Diagnostics()
    lint_settings = LintSettings(as_of=_parse_date(as_of, "--as-of"),
                                 broad_key_threshold=broad_key_threshold,
                                 rotation_days=rotation_days)
    options = AuditOptions(lint=lint_settings,
                           usage=UsageSettings(shared_key_clients=shared_key_clients),
                           since=since, until=until)
    from scopeaudit.usage.parallel import default_jobs

    logs = LogOptions(paths=log_paths, log_formats=log_formats, maps=parse_maps(maps),
                      strict=strict, jobs=jobs or default_jobs())
    cat = _load_catalog(catalog_path, scope_list_semantics, catalog_overrides, diagnostics)
    inventory = load_inventory(keys_path, KeysFormat(keys_format) if keys_format else None,
                               diagnostics)
    progress = _progress if sys.stderr.isatty() else None
    usage, inputs, records, requests = read_usage(inventory, cat, logs, diagnostics, progress)
    result = analyse(inventory, cat, usage, inputs, (records, requests), options, diagnostics,
                     timestamp=not no_timestamp)
    if progress is not None:
        click.echo("\r\x1b[K", nl=False, err=True)
    return _finish(result, fmt, output, fail_on, diagnostics, template_dir)


def _progress(path: str, records: int) -> None:
    click.echo(f"\r\x1b[Kreading {path}: {records:,} records", nl=False, err=True)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True)
def rules(fmt: str) -> int:
    """List every rule: id, name, default severity and summary."""
    from scopeaudit.rules.docs import rules_json, rules_markdown, rules_table

    click.echo({"table": rules_table, "json": rules_json, "markdown": rules_markdown}[fmt](),
               nl=False)
    return ExitCode.CLEAN


@cli.command()
@click.argument("rule")
def explain(rule: str) -> int:
    """Explain one rule in full (by id, e.g. SA201, or name, e.g. unknown-scope)."""
    from scopeaudit.rules.registry import get_rule

    try:
        found = get_rule(rule)
    except KeyError:
        raise InputError(f"unknown rule {rule!r}; `scopeaudit rules` lists them") from None
    click.echo(found.explain(), nl=False)
    return ExitCode.CLEAN


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result: Any = cli.main(args=args, prog_name="scopeaudit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(ExitCode.ERROR)
    except click.ClickException as exc:
        # click's own errors default to exit 1, which here means "findings": never let it leak.
        exc.show()
        sys.exit(ExitCode.ERROR)
    except click.Abort:
        click.echo("scopeaudit: aborted", err=True)
        sys.exit(ExitCode.ERROR)
    except InputError as exc:
        if debug:
            raise
        from scopeaudit.secrets import redact

        # Callers redact what they quote; this is the last line of defence for a token.
        click.echo(f"scopeaudit: error: {redact(str(exc))}", err=True)
        sys.exit(ExitCode.ERROR)
    except BrokenPipeError:
        # The reader went away (`| head`); nothing more to say, and nowhere to say it.
        sys.stdout = None
        sys.exit(ExitCode.ERROR)
    except Exception as exc:
        if debug:
            raise
        from scopeaudit.secrets import redact

        click.echo(f"scopeaudit: internal error: {type(exc).__name__}: {redact(str(exc))} "
                   "(run with --debug for a traceback, and please report it)", err=True)
        sys.exit(ExitCode.ERROR)
    sys.exit(int(result) if isinstance(result, int) else ExitCode.CLEAN)
