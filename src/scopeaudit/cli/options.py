"""The options, declared once each and grouped per concern, as the help lists them.

Each group is a decorator list a command takes whole (``@inputs``, ``@logs(required=True)``,
``@report``, ``@gate``...). An option belongs to one help group (scopeaudit.cli.help).
Imports click only: ``scopeaudit --help`` must not pay for the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from scopeaudit.cli.color import CHOICES as COLOR_CHOICES
from scopeaudit.cli.common import writable_output
from scopeaudit.cli.help import GATE, INPUTS, LOGS, REPORT, in_group, option, options
from scopeaudit.http.options import input_http_options
from scopeaudit.model import Severity

# The severities as choices, from the one definition (model.Severity), worst first.
SEVERITY_CHOICES = tuple(s.value for s in Severity.descending())
FAIL_ON_CHOICES = (*SEVERITY_CHOICES, "never")
# The report formats, spelled out here so that `--help` never imports the renderers;
# tests/unit/test_cli_package.py keeps this equal to render.OutputFormat.
FORMATS = ("table", "json", "markdown", "html", "sarif", "csv", "concise")
KEYS_FORMATS = ("yaml", "json", "csv")

Decorator = Callable[[Any], Any]


def output(group: str = REPORT, help: str = "Write the report to FILE instead of stdout."
           ) -> Decorator:
    return option(group, "-o", "--output", metavar="FILE", help=help,
                  callback=writable_output)


catalog = option(
    INPUTS, "--catalog", "catalog_path", metavar="PATH",
    help="A scopeaudit catalog file, or an OpenAPI 3.x / Swagger 2.0 document (JSON or YAML; "
         "default: the built-in insp.ac v1 catalog).")
scope_semantics = option(
    INPUTS, "--scope-list-semantics", type=click.Choice(["all", "any"]), default=None,
    help="OpenAPI --catalog: the scopes listed in one security requirement are all needed "
         "(all, as OpenAPI says) or any one suffices (any; default: the override file's "
         "semantics, else all).")
catalog_overrides = option(
    INPUTS, "--catalog-overrides", metavar="FILE",
    help="OpenAPI --catalog: a YAML/JSON file of per-operation scope alternatives (by "
         "operationId or 'METHOD path'), semantics, pseudo-scopes and base paths.")
# --catalog and how an OpenAPI document is read: every command that takes a catalog
catalog_inputs = options(catalog, scope_semantics, catalog_overrides)
keys_format = option(INPUTS, "--keys-format", type=click.Choice(KEYS_FORMATS),
                     help="The key file's format (default: from its extension).")
fail_on = option(
    GATE, "--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
    default="high", show_default=True,
    help="Exit 1 when a finding is at or above this severity; 'never' always exits 0.")
no_timestamp = option(REPORT, "--no-timestamp", is_flag=True,
                      help="Leave out generated_at, so the same inputs give the same bytes.")

# The configuration file (read before click parses anything: cli.config_defaults)
config_file = options(
    option(INPUTS, "--config", "config_path", metavar="PATH",
           help="The configuration file (default: scopeaudit.toml, .scopeaudit.toml "
                "or [tool.scopeaudit] in pyproject.toml, the closest from here up "
                "to the repository root)."),
    option(INPUTS, "--no-config", is_flag=True, help="Read no configuration file."),
)

# What an audit reads and how it judges: lint, audit, baseline write, fix, split.
inputs = options(
    # needed, but not [required]: a configuration file can give it (params.keys_spec checks)
    option(INPUTS, "--keys", "keys_path", metavar="FILE",
           help="Key definitions: YAML, JSON or CSV; a file or an https:// URL (or `keys` "
                "in the configuration)."),
    keys_format,
    catalog_inputs,
    option(GATE, "--as-of", metavar="DATE", help="Judge expiry and rotation as of DATE "
           "(YYYY-MM-DD; default: today, UTC)."),
    option(GATE, "--broad-key-threshold", type=click.IntRange(min=1), default=10,
           show_default=True, help="SA203: scopes at which a key counts as broad."),
    option(GATE, "--rotation-days", type=click.IntRange(min=1), default=365,
           show_default=True, help="SA208: days after which a key is due for rotation."),
    no_timestamp,
    config_file,
    option(GATE, "--no-ignores", is_flag=True,
           help="Apply no [[ignore]] suppression: show everything as it counts."),
    *in_group("HTTP", input_http_options()),
)

# How the result is shown and gated: lint, audit and render.
report = options(
    option(REPORT, "--format", "fmt", type=click.Choice(FORMATS), default="table",
           show_default=True, help="Report format."),
    output(),
    option(REPORT, "--template-dir", metavar="DIR",
           help="Your own HTML/Markdown templates instead of the built-in ones "
                "(report.html.j2, report.md.j2)."),
    option(REPORT, "--color", type=click.Choice(COLOR_CHOICES), default="auto",
           show_default=True,
           help="Colour the table and the messages: auto (on a terminal, unless NO_COLOR "
                "is set), always or never."),
    option(REPORT, "--show-baselined", is_flag=True,
           help="Table: list baselined and suppressed findings too (by default "
                "they are only counted, after the new ones)."),
    fail_on,
    option(GATE, "--baseline", "baseline_path", metavar="FILE",
           help="Findings in this baseline (`scopeaudit baseline write`) are marked "
                "and do not count toward --fail-on."),
    option(GATE, "--exit-zero", is_flag=True,
           help="Exit 0 even with findings at or above --fail-on (errors still exit 2)."),
)


def logs(required: bool) -> Decorator:
    """The usage logs and how they are read: audit, fix, split (needed) and baseline
    write (optional: lint's findings without). Needed, never [required]: a configuration
    file can give them (params.log_request checks)."""
    needed = " Needed (or `logs` in the configuration)." if required else ""
    return options(
        option(LOGS, "--logs", "log_paths", multiple=True, metavar="PATH",
               help="Request logs: files, globs (quote them), https:// URLs, "
                    "objects (s3://, gs://, az://, with globs), cloudwatch:// log "
                    "groups, or - for stdin; gzip is read transparently. Repeat "
                    "for several." + needed),
        option(LOGS, "--log-format", "log_formats", multiple=True, metavar="[GLOB=]FORMAT",
               help="jsonl, csv, nginx, 'nginx:<log_format>', envoy, "
                    "'envoy:<format>', or a gateway preset (`scopeaudit formats` "
                    "lists them; default: detected from the first lines, else the "
                    "file name). GLOB=FORMAT applies to the inputs matching GLOB; "
                    "repeatable."),
        option(LOGS, "--map", "maps", multiple=True, metavar="FIELD=SOURCE",
               help="Where a field comes from in JSON/CSV records, e.g. "
                    "key_id=context.identity.apiKeyId (fields: time, key_id, method, "
                    "path, status, user_agent, ip, count)."),
        option(LOGS, "--csv-delimiter", metavar="CHAR",
               help="The CSV inputs' delimiter: one character, or tab, semicolon, "
                    "pipe (default: a comma)."),
        option(LOGS, "--csv-columns", metavar="A,B,...",
               help="The column names of CSV inputs that have no header row."),
        option(LOGS, "--tz", metavar="ZONE",
               help="The zone of times written without one: an IANA name "
                    "(Europe/Paris) or an offset (+02:00) (default: UTC)."),
        option(LOGS, "--since", metavar="DATE|DURATION",
               help="Window start: a date, or a duration such as 90d counted back "
                    "from --until."),
        option(LOGS, "--until", metavar="DATE",
               help="Window end (default: the day of the newest record; never "
                    "after the day after --as-of: later records are set apart)."),
        option(LOGS, "--strict", is_flag=True,
               help="Stop at the first malformed log record (exit 2)."),
        option(LOGS, "--allow-empty", is_flag=True,
               help="Accept an input that gives no record (empty, or every record "
                    "skipped) with a warning; without it that is an error (exit 2)."),
        option(LOGS, "--max-unattributed", type=click.FloatRange(min=0, max=100),
               default=1.0, show_default=True, metavar="PERCENT",
               help="SA304: the share of an input's accepted requests that may name "
                    "no key; past it no removal is above low confidence."),
        option(LOGS, "--shared-key-clients", type=click.IntRange(min=2), default=3,
               show_default=True,
               help="SA106: distinct clients at which a key counts as shared."),
        option(LOGS, "--jobs", type=click.IntRange(min=1), default=None,
               help="Processes reading logs (default: the number of cores, at most "
                    "8). The report is the same whatever the number."),
        option(LOGS, "--engine", type=click.Choice(["auto", "stream", "duckdb"]),
               default="auto", show_default=True,
               help="What reads the logs: the streaming reader, or DuckDB for "
                    "JSON Lines, CSV and Parquet files (auto: Parquet, and local "
                    "JSON Lines and CSV files of 8 MiB of lines or more). The "
                    "report is the same either way."),
    )


def history_timeout(help: str = "How long to wait for another run holding the history."
                    ) -> Decorator:
    return option(REPORT, "--history-timeout", type=click.FloatRange(min=0), default=30.0,
                  show_default=True, metavar="SECONDS", help=help)


# The run history: audit only.
history = options(
    option(REPORT, "--history", "history_path", metavar="PATH",
           help="Record this run in an SQLite history (created if missing) and "
                "report what changed since the previous run there."),
    history_timeout(),
)

# The integration's source code beside the logs: audit only.
code = options(
    option(INPUTS, "--code", "code_paths", multiple=True, metavar="PATH",
           help="Source code of the integrations (files or folders; repeatable), "
                "scanned as `scopeaudit scan` does (the scopeaudit[scan] extra): "
                "scopes it needs are kept (state needed_by_code), a call needing a "
                "scope its key lacks is SA401. Each file is the key's whose `code:` "
                "globs name it, or --code-key's."),
    option(INPUTS, "--code-key", metavar="ID",
           help="The key (in --keys) all the --code uses, instead of the keys' "
                "`code:` globs."),
)
