"""The commands around the audit: catalog, rules, explain, history, sql, scan, probe, design,
init."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scopeaudit.cli import options as opt
from scopeaudit.cli.common import (
    active_config,
    exit_for,
    guard_output,
    say,
    show_warnings,
    view,
    write_output,
)
from scopeaudit.cli.group import cli
from scopeaudit.cli.help import GATE, INPUTS, REPORT, apply_all, in_group, option
from scopeaudit.cli.params import catalog_spec, keys_spec, read_files
from scopeaudit.errors import ExitCode, InputError
from scopeaudit.http.options import connection_options, settings_from

if TYPE_CHECKING:
    from scopeaudit.catalog.model import Catalog
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.model import Key


@cli.command(short_help="Print the catalog's operations and scopes.")
@opt.catalog_inputs
@option(REPORT, "--format", "fmt", type=click.Choice(["table", "json", "catalog"]),
        default="table", show_default=True,
        help="table: operations, scopes and counts of what was read; json: the catalog "
             "as JSON; catalog: the catalog as YAML. Both load back with --catalog.")
@opt.output()
def catalog(catalog_path: str | None, scope_list_semantics: str | None,
            catalog_overrides: str | None, fmt: str, output: str | None) -> int:
    """Print the catalog's operations and scopes (the built-in one, a catalog file, or one
    read from an OpenAPI document)."""
    from scopeaudit.catalog.loader import LoadedCatalog, catalog_yaml, read_catalog_file
    from scopeaudit.catalog.summary import summary_text
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.render.catalog_view import render_catalog_json, render_catalog_table

    guard_output(output, [("--catalog", catalog_path),
                          ("--catalog-overrides", catalog_overrides)])
    diagnostics = Diagnostics()
    spec = catalog_spec({"catalog_path": catalog_path,
                         "scope_list_semantics": scope_list_semantics,
                         "catalog_overrides": catalog_overrides})
    if spec.path is None:
        loaded = LoadedCatalog(spec.load())
    else:
        loaded = read_catalog_file(spec.path, spec.import_options(), diagnostics)
    cat = loaded.catalog
    show_warnings(diagnostics)
    if fmt == "json":
        text = render_catalog_json(cat)
    elif fmt == "catalog":
        text = catalog_yaml(cat)
    else:
        text = view(render_catalog_table(cat) + "\n"
                    + summary_text(cat, loaded.openapi, len(diagnostics.warnings)))
    write_output(text, output)
    return ExitCode.CLEAN


@cli.command(short_help="Write a starter scopeaudit.toml and an example keys.yaml.")
@click.option("--dir", "directory", default=".", show_default=True, metavar="DIR",
              help="Where to write the files.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: str, force: bool) -> int:
    """Write a commented starter scopeaudit.toml and an example keys.yaml."""
    from importlib import resources

    target = Path(directory)
    if not target.is_dir():
        raise InputError("not a directory", file=directory)
    starter = resources.files("scopeaudit").joinpath("starter")
    keys_file = "keys.yaml"
    for name in ("scopeaudit.toml", "keys.yaml"):
        path = target / name
        if name == "keys.yaml":
            elsewhere = _configured_keys(target)
            if elsewhere is not None and not force:
                keys_file = elsewhere
                say(f"scopeaudit: {path} not written: the configuration reads its keys from "
                    f"{elsewhere}")
                continue
        if path.exists() and not force:
            say(f"scopeaudit: {path} exists, left as it is (--force overwrites)")
            continue
        path.write_text(starter.joinpath(name).read_text("utf-8"), encoding="utf-8")
        say(f"scopeaudit: wrote {path}")
    say(f"scopeaudit: next: edit {keys_file}, then run `scopeaudit lint`")
    return ExitCode.CLEAN


def _configured_keys(folder: Path) -> str | None:
    """The key file an existing configuration in ``folder`` names, when it is another file
    than the starter's keys.yaml there (None: no configuration, or it names that one)."""
    import tomllib

    from scopeaudit.config import CANDIDATES

    for name in CANDIDATES:
        candidate = folder / name
        if not candidate.is_file():
            continue
        try:
            doc = tomllib.loads(candidate.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None  # lint will say what is wrong with it
        table = doc.get("tool", {}).get("scopeaudit") if name == "pyproject.toml" else doc
        if not isinstance(table, dict):
            continue
        keys = table.get("keys")
        if isinstance(keys, str) and Path(keys) != Path("keys.yaml"):
            return keys
        return None
    return None


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True)
def rules(fmt: str) -> int:
    """List every rule: id, name, default severity and summary."""
    from scopeaudit.rules.docs import rules_json, rules_markdown, rules_table

    text = {"table": rules_table, "json": rules_json, "markdown": rules_markdown}[fmt]()
    write_output(view(text) if fmt == "table" else text, None)
    return ExitCode.CLEAN


@cli.command(short_help="List the log formats and gateway presets.")
@click.argument("name", required=False)
def formats(name: str | None) -> int:
    """List the log formats and gateway presets (--log-format NAME): their fields, where the
    key comes from, what to add to the gateway's log configuration, an example line."""
    from scopeaudit.render.text import show_invisible
    from scopeaudit.usage.formats_doc import formats_text

    # the example lines keep their tabs (CloudFront's, Tyk's CSV), to be copied as they are
    write_output(show_invisible(formats_text(name), keep="\n\t"), None)
    return ExitCode.CLEAN


@cli.command(short_help="Explain one rule in full (by id or name).")
@click.argument("rule")
def explain(rule: str) -> int:
    """Explain one rule in full, by id (SA201) or by name (unknown-scope)."""
    from scopeaudit.rules.registry import get_rule, rule_suggestion

    try:
        found = get_rule(rule)
    except KeyError:
        raise InputError(f"unknown rule {rule!r}{rule_suggestion(rule)} (`scopeaudit rules` "
                         "lists them)") from None
    write_output(view(found.explain()), None)
    return ExitCode.CLEAN


@cli.command(short_help="List the runs recorded in a history, and the trend.")
@click.argument("path", metavar="[PATH]", required=False)
@option(REPORT, "--format", "fmt", type=click.Choice(["table", "json", "html"]),
        default="table", show_default=True,
        help="table: one row per run; json: the runs and the trend; html: a page with "
             "the trend drawn as inline SVG.")
@opt.output(help="Write to FILE instead of stdout.")
@opt.history_timeout("How long to wait for a run writing the history.")
def history(path: str | None, fmt: str, output: str | None, history_timeout: float) -> int:
    """List the runs recorded with `audit --history PATH`, and the trend. PATH defaults to
    the configuration's `history`."""
    from scopeaudit.history import list_runs
    from scopeaudit.output import refuse_overwriting
    from scopeaudit.render.history_view import render_history

    if path is None:
        configured = active_config().options.get("history")
        if not isinstance(configured, str):
            raise click.UsageError("Missing argument 'PATH': give the history database, or "
                                   "set `history` in the configuration file")
        path = configured

    refuse_overwriting(output, [("the history database", path)])
    runs = list_runs(path, history_timeout)
    text = render_history(runs, fmt, path)
    write_output(view(text) if fmt == "table" else text, output)
    return ExitCode.CLEAN


@cli.command("sql", short_help="Print the warehouse query that aggregates raw logs.")
@option(INPUTS, "--dialect", required=True, metavar="duckdb|trino|spark|bigquery|postgres",
        help="The warehouse's SQL dialect (trino for Athena).")
@option(INPUTS, "--table", required=True, metavar="NAME",
        help="The raw log table, dotted and quoted as the dialect writes it.")
@option(INPUTS, "--map", "maps", multiple=True, metavar="FIELD=COLUMN",
        help="A column other than the default (ts, key_id, method, path, status, "
             "user_agent, ip): e.g. ts=event_time, key_id=api_key_id.")
@option(INPUTS, "--ts-type", default="timestamp", show_default=True,
        metavar="timestamp|iso|epoch",
        help="How ts is stored: a timestamp, an ISO 8601 string (no zone: UTC) or "
             "epoch seconds or milliseconds.")
@option(INPUTS, "--since", metavar="DATE|DURATION",
        help="Only rows from this UTC day (a duration such as 90d needs --until).")
@option(INPUTS, "--until", metavar="DATE", help="Only rows up to this UTC day, inclusive.")
@option(INPUTS, "--keys", "keys_path", metavar="FILE",
        help="Key definitions (YAML, JSON or CSV; a file or an https:// URL): tokens "
             "of keys known by prefix or last4 are matched in the query (by "
             "fingerprint alone otherwise).")
@opt.keys_format
@opt.catalog_inputs
@opt.output()
def sql(**params: Any) -> int:
    """Print the query that aggregates a warehouse's raw request logs into the rows
    `audit --logs` reads (save its result as CSV or JSON lines; Parquet too, which needs
    the DuckDB engine reads)."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.sql.command import build_sql

    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    cat, keys = _catalog_and_keys(params, diagnostics)
    show_warnings(diagnostics)
    write_output(build_sql(cat, params["dialect"], params["table"], params["maps"],
                           params["ts_type"], params["since"], params["until"], keys),
                 params["output"])
    return ExitCode.CLEAN


def _catalog_and_keys(params: dict[str, Any], diagnostics: Diagnostics
                      ) -> tuple[Catalog, tuple[Key, ...]]:
    """The catalog, and the keys of --keys when given (read as lint and audit read them)."""
    cat = catalog_spec(params).load(diagnostics)
    if not params["keys_path"]:
        return cat, ()
    return cat, tuple(keys_spec(params).load(diagnostics).keys)


@cli.command(short_help="Find the API calls in source code and the scopes they need.")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@opt.catalog_inputs
@option(INPUTS, "--keys", "keys_path", metavar="FILE|URL",
        help="Key definitions: each call is checked against the key whose `code:` "
             "globs name its file, or against --key-id.")
@opt.keys_format
@option(INPUTS, "--key-id", metavar="ID", help="The key (in --keys) all the scanned code uses.")
@option(REPORT, "--format", "fmt", type=click.Choice(["table", "json", "sarif"]),
        default="table", show_default=True,
        help="table, json (the contract scopeaudit/scan/v1) or sarif.")
@opt.output()
@opt.fail_on
@option(INPUTS, "--max-file-bytes", type=click.IntRange(min=1), default=1_000_000,
        show_default=True, help="Skip (and report) source files larger than this.")
def scan(**params: Any) -> int:
    """Find the API calls in source code (Python, JavaScript/TypeScript, Go) and the scopes
    they need. Files are parsed, never imported or run (the scopeaudit[scan] extra). With
    --keys, a call needing a scope its key lacks is SA401."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.scan import require_parsers, scan_code
    from scopeaudit.scan.render import render_scan

    require_parsers()
    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    if params["key_id"] and not params["keys_path"]:
        raise InputError("--key-id needs --keys, the file that defines the key")
    cat, keys = _catalog_and_keys(params, diagnostics)
    report = scan_code(params["paths"], cat, keys, params["key_id"], params["keys_path"],
                       params["max_file_bytes"])
    show_warnings(diagnostics)
    write_output(render_scan(report, params["fmt"]), params["output"])
    return exit_for(report.findings, params["fail_on"])


@cli.command(short_help="Check live which read scopes a key holds.")
@option(INPUTS, "--base-url", default="https://api.insp.ac", show_default=True, metavar="URL",
        help="The API to probe (http:// only for loopback addresses unless "
             "--allow-insecure-http). The key comes from INSPAC_API_KEY, never an "
             "argument.")
@option(INPUTS, "--keys", "keys_path", metavar="FILE|URL",
        help="Key definitions to compare the live result with (with --key-id).")
@option(INPUTS, "--key-id", metavar="ID", help="The definition of the probed key in --keys.")
@opt.keys_format
@opt.catalog
@option(REPORT, "--format", "fmt", type=click.Choice(["table", "json"]), default="table",
        show_default=True, help="table, or json (the contract scopeaudit/probe/v1).")
@opt.output()
@opt.fail_on
@option(REPORT, "--no-timestamp", is_flag=True, help="Leave out generated_at.")
@lambda command: apply_all(command, in_group("HTTP", connection_options()))
def probe(**params: Any) -> int:
    """Check live which read scopes the key in INSPAC_API_KEY holds: one GET per read scope,
    granted (2xx, or 404 on a documented route), missing (403 FORBIDDEN) or unverifiable.
    Write scopes are never probed. With --keys and --key-id, drift from the definition is
    SA211/SA212."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.probe import run_probe
    from scopeaudit.probe.model import ProbeOptions
    from scopeaudit.redaction import redacted
    from scopeaudit.render.probe_view import render_probe

    guard_output(params["output"], read_files(params))
    diagnostics = Diagnostics()
    options = ProbeOptions(base_url=params["base_url"], http=settings_from(params),
                           keys_path=params.get("keys_path"), key_id=params.get("key_id"),
                           keys_format=params.get("keys_format"),
                           timestamp=not params.get("no_timestamp"))
    # the one redaction for every string in it (reason phrases, paths), as for an Audit
    report = redacted(run_probe(options, catalog_spec(params).load(), diagnostics))
    show_warnings(diagnostics)
    text = render_probe(report, params["fmt"])
    write_output(view(text) if params["fmt"] == "table" else text, params["output"])
    return exit_for(report.findings, params["fail_on"])


@cli.command(short_help="Design the least privileged key for a new integration.")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE...")
@opt.catalog_inputs
@option(REPORT, "--id", "key_id", default="key_new_integration", show_default=True,
        help="The id of the key defined.")
@option(REPORT, "--name", default="New integration", show_default=True,
        help="The name of the key defined.")
@option(GATE, "--search-limit", type=click.IntRange(min=1), default=100_000,
        show_default=True, metavar="N",
        help="Branches the exact search may visit; past them the set is the "
             "best found and said to be a bound.")
@opt.output()
def design(**params: Any) -> int:
    """The least privileged key for a new integration, from the operations it will call:
    files of operation ids or 'METHOD /path' lines, or an OpenAPI document of the client's
    calls ('-' reads stdin). Exit 1 when some operation no scope set can satisfy."""
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.remediate.design import design as build_design
    from scopeaudit.remediate.design import read_calls, render_design

    guard_output(params["output"], [*read_files(params),
                                    *(("an input", p) for p in params["inputs"] if p != "-")])
    diagnostics = Diagnostics()
    cat = catalog_spec(params).load(diagnostics)
    show_warnings(diagnostics)
    calls = [call for path in params["inputs"] for call in read_calls(path)]
    if not calls:
        raise InputError("no operation to design a key for", file=params["inputs"][0])
    result = build_design(calls, cat, params["search_limit"])
    write_output(render_design(result, params["key_id"], params["name"], cat),
                 params["output"])
    return ExitCode.FINDINGS if result.unsatisfiable else ExitCode.CLEAN


@cli.command(short_help="Print the shell completion script (bash, zsh or fish).")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the completion script for SHELL (click's shell completion): commands, options
    and their choices complete on Tab."""
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    if complete is None:  # pragma: no cover - click ships all three
        raise InputError(f"no completion for {shell}")
    script = complete(cli, {}, "scopeaudit", "_SCOPEAUDIT_COMPLETE").source()
    write_output(script if script.endswith("\n") else script + "\n", None)
    return ExitCode.CLEAN
