"""The command line's HTTP options, shared by every command that can read a URL.

Imports click only: ``scopeaudit --help`` must not pay for httpx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from scopeaudit.errors import InputError
from scopeaudit.http.credentials import HeaderSpec, Origin, parse_header, parse_origin
from scopeaudit.http.settings import HttpSettings

_DEFAULTS = HttpSettings()

if TYPE_CHECKING:
    _ParamType = click.ParamType[HeaderSpec]
    _OriginParamType = click.ParamType[Origin]
else:  # click before 8.2 has no generic ParamType to subscript at run time
    _ParamType = _OriginParamType = click.ParamType


class HeaderType(_ParamType):
    """``Name: value`` or ``Name: @env:VAR``; several in SCOPEAUDIT_HEADER, one a line."""

    name = "header"
    envvar_list_splitter = "\n"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> HeaderSpec:
        if isinstance(value, HeaderSpec):
            return value
        try:
            return parse_header(str(value))
        except InputError as exc:
            self.fail(exc.message, param, ctx)


class OriginType(_OriginParamType):
    """``https://host[:port]``."""

    name = "origin"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Origin:
        if isinstance(value, tuple):
            return value
        try:
            return parse_origin(str(value))
        except InputError as exc:
            self.fail(exc.message, param, ctx)


# Options that decide where credentials are sent or which TLS servers are trusted: never from
# a configuration file, which a pull request can edit (a CI run would then send its secrets
# wherever the file says). The command line and SCOPEAUDIT_* variables only.
COMMAND_LINE_ONLY = frozenset({"header", "http-token-origin", "allow-insecure-http",
                               "ca-bundle", "base-url"})


def connection_options() -> list[Callable[[Any], Any]]:
    """Timeouts, retries, TLS and plain-http policy: for inputs and for the probe."""
    return [
        click.option("--allow-insecure-http", is_flag=True,
                     help="Allow http:// URLs to hosts other than loopback addresses."),
        click.option("--http-timeout", type=click.FloatRange(min=0, min_open=True),
                     default=_DEFAULTS.read_timeout, show_default=True, metavar="SECONDS",
                     help="Longest wait for response data (read timeout)."),
        click.option("--http-connect-timeout", type=click.FloatRange(min=0, min_open=True),
                     default=_DEFAULTS.connect_timeout, show_default=True, metavar="SECONDS",
                     help="Longest wait for a connection."),
        click.option("--http-retries", type=click.IntRange(min=0), default=_DEFAULTS.retries,
                     show_default=True, metavar="N",
                     help="Retries after a 429, 500, 502, 503, 504, a timeout or a connection "
                          "error (at most N+1 tries), honouring Retry-After and "
                          "X-RateLimit-Reset."),
        click.option("--http-backoff", type=click.FloatRange(min=0), default=_DEFAULTS.backoff,
                     show_default=True, metavar="SECONDS",
                     help="The first wait before a retry; doubled each time, plus jitter."),
        click.option("--ca-bundle", metavar="FILE",
                     help="Verify TLS servers with these CA certificates (PEM) instead of the "
                          "system's."),
    ]


def input_http_options() -> list[Callable[[Any], Any]]:
    """Everything above, plus credentials and pagination: for --keys and --logs URLs."""
    return [
        click.option("--header", "headers", multiple=True, type=HeaderType(),
                     metavar="'NAME: @env:VAR'",
                     help="A header for URL inputs, sent to every URL on the command line, or "
                          "only to one origin as 'https://host=NAME: @env:VAR'. Credentials "
                          "only as @env:VAR (a plain value would land in shell history); "
                          "SCOPEAUDIT_HTTP_TOKEN is sent as 'Authorization: Bearer'. "
                          "Repeatable; never from a configuration file."),
        click.option("--http-token-origin", "token_origins", multiple=True, type=OriginType(),
                     metavar="https://HOST[:PORT]",
                     help="Send SCOPEAUDIT_HTTP_TOKEN only to this origin (default: to every "
                          "URL on the command line). Repeatable."),
        *connection_options(),
        click.option("--http-next-field", default=_DEFAULTS.next_field, show_default=True,
                     metavar="FIELD",
                     help="Pagination of JSON pages: the field (dotted path) holding the next "
                          "page's URL or cursor. Link: rel=\"next\" headers are always "
                          "followed."),
        click.option("--http-cursor-param", default=_DEFAULTS.cursor_param, show_default=True,
                     metavar="NAME",
                     help="The query parameter a JSON cursor is sent back in."),
        click.option("--http-items-field", metavar="FIELD",
                     help="The JSON page's list of records (default: data, items, records, "
                          "results, keys, logs or entries)."),
        click.option("--http-max-pages", type=click.IntRange(min=1),
                     default=_DEFAULTS.max_pages, show_default=True, metavar="N",
                     help="Stop with an error past this many pages of one URL."),
    ]


def settings_from(params: Mapping[str, Any]) -> HttpSettings:
    """The HttpSettings of a command's parsed options (absent options keep the defaults)."""
    return HttpSettings(
        headers=tuple(params.get("headers") or ()),
        token_origins=tuple(params.get("token_origins") or ()),
        allow_insecure_http=bool(params.get("allow_insecure_http")),
        connect_timeout=params.get("http_connect_timeout") or _DEFAULTS.connect_timeout,
        read_timeout=params.get("http_timeout") or _DEFAULTS.read_timeout,
        retries=_or(params.get("http_retries"), _DEFAULTS.retries),
        backoff=_or(params.get("http_backoff"), _DEFAULTS.backoff),
        ca_bundle=params.get("ca_bundle"),
        next_field=params.get("http_next_field") or _DEFAULTS.next_field,
        cursor_param=params.get("http_cursor_param") or _DEFAULTS.cursor_param,
        items_field=params.get("http_items_field"),
        max_pages=params.get("http_max_pages") or _DEFAULTS.max_pages,
    )


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
