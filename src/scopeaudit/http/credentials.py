"""Credentials for HTTP inputs: only from the environment, and never shown.

A credential given as a plain command-line argument lands in shell history and process
listings, so a header that carries one must be written ``Name: @env:VAR``. Every secret
value read from the environment is remembered in the run's :class:`SecretSet` (see
:func:`secret_scope`), which replaces it in any text: the CLI's error lines and, through a
logging filter installed for the run only, httpx's and httpcore's log records.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from scopeaudit.errors import InputError
from scopeaudit.http.policy import origin
from scopeaudit.secrets import REDACTED, SECRET_PARAM_NAME, TOKEN_RE, redact

TOKEN_ENV = "SCOPEAUDIT_HTTP_TOKEN"  # noqa: S105 - the variable's name, not its value
PROBE_KEY_ENV = "INSPAC_API_KEY"
_ENV_REF = re.compile(r"^@env:([A-Za-z_][A-Za-z0-9_]*)$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# What a header value may hold: visible ASCII, space and tab. Anything else (a newline, a
# non-ASCII character) cannot be sent, or would split the header: refused before any request.
_HEADER_VALUE = re.compile(r"^[\x20-\x7e\t]*$")
# ``https://host[:port]=Name: value``: a header for that origin only.
_SCOPED = re.compile(r"(?i)^(https?://[^/=\s]+)/?=(.*)$", re.DOTALL)
# Header names that carry credentials: their value may only come from the environment.
_CREDENTIAL_HEADER = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie)$|token|key|secret|auth|signature|"
    r"session|password")
# (a value already redacted, with the text after it, stays as it is)
_URL_SECRETS = re.compile(
    rf"(?i)((?<![A-Za-z0-9_.-]){SECRET_PARAM_NAME}=)(?!{re.escape(REDACTED)})[^&\s\"'#]+")
_USERINFO = re.compile(r"(?i)(\bhttps?://)[^/\s@]+@")

Origin = tuple[str, str, int]


class SecretSet:
    """The secret values of one run (tokens, header values, passwords), replaced in text."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, secret: str) -> None:
        # Very short values would blank out ordinary words; they are not credentials worth
        # the name.
        if len(secret) >= 4:
            self._values.add(secret)

    def redact_known(self, text: str) -> str:
        """Known secrets, tokens and Bearer values, replaced: what every string from outside
        (a path, a reason phrase, a header, a key's name) passes on its way into an output."""
        return redact(self._replace_known(text))

    def redact_text(self, text: str) -> str:
        """:meth:`redact_known`, and userinfo and secret query values too: for error lines,
        which may quote a URL raw (in a report, ``key=…`` is as likely prose)."""
        text = _USERINFO.sub(r"\1", self._replace_known(text))
        return redact(_URL_SECRETS.sub(lambda m: m.group(1) + REDACTED, text))

    def _replace_known(self, text: str) -> str:
        for secret in sorted(self._values, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


_current: ContextVar[SecretSet | None] = ContextVar("scopeaudit_secrets", default=None)


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with its SecretSet (httpx logs request URLs)."""

    def __init__(self, secrets: SecretSet) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours to raise
            return True
        record.msg, record.args = self.secrets.redact_text(message), None
        return True


# A logger's filters do not see records from its children, so each one is named.
_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
            "httpcore.proxy", "httpcore.socks", "httpcore.connection_pool",
            # boto3 (s3://, cloudwatch://): request headers carry the access key id and any
            # session token at DEBUG
            "boto3", "botocore", "botocore.endpoint", "botocore.auth", "botocore.hooks",
            "botocore.parsers", "botocore.credentials", "botocore.httpsession",
            "botocore.regions", "botocore.utils", "botocore.client", "urllib3",
            "urllib3.connectionpool", "urllib3.connection")


@contextmanager
def secret_scope() -> Iterator[SecretSet]:
    """The run's secrets: collected while it runs, filtered out of the HTTP libraries' log
    records, and forgotten (filters removed) when it ends. Nested scopes share the outer one,
    so the CLI's error printing sees what a Fetcher deep inside remembered."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    secrets = SecretSet()
    log_filter = RedactingFilter(secrets)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    token = _current.set(secrets)
    try:
        yield secrets
    finally:
        _current.reset(token)
        for logger in loggers:
            logger.removeFilter(log_filter)


def remember(secret: str) -> None:
    """Add to the current run's secrets (no run: nothing to print, nothing to remember)."""
    secrets = _current.get()
    if secrets is not None:
        secrets.add(secret)


def redact_text(text: str) -> str:
    """:meth:`SecretSet.redact_text` with the current run's secrets (or none)."""
    return (_current.get() or SecretSet()).redact_text(text)


def redact_known(text: str) -> str:
    """:meth:`SecretSet.redact_known` with the current run's secrets (or none)."""
    return (_current.get() or SecretSet()).redact_known(text)


def _checked_value(value: str, header: str, variable: str) -> str:
    if not _HEADER_VALUE.match(value):
        # never the value: it is a credential
        raise InputError(f"--header {header}: the value of {variable} holds a character a "
                         "header cannot carry (only visible ASCII, space and tab)")
    return value


@dataclass(frozen=True)
class HeaderSpec:
    """``--header 'Name: value'`` or ``'Name: @env:VAR'``, optionally for one origin only
    (``'https://logs.example.com=Name: @env:VAR'``): the reference, never the secret."""

    name: str
    value: str | None = None
    env: str | None = None
    origin: Origin | None = None  # None: every URL given on the command line

    def applies_to(self, url_origin: Origin) -> bool:
        return self.origin is None or self.origin == url_origin

    def resolve(self) -> str:
        if self.env is None:
            return self.value or ""
        found = os.environ.get(self.env)
        if not found:
            raise InputError(f"--header {self.name}: the environment variable {self.env} is "
                             "not set")
        remember(found)
        return _checked_value(found, self.name, self.env)


def parse_origin(text: str) -> Origin:
    """``https://host[:port]`` -> (scheme, host, port), as :func:`policy.origin` gives it."""
    from urllib.parse import urlsplit


    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise InputError(f"not an origin: {text!r} (expected https://host[:port])") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or \
            parts.username is not None or parts.path not in ("", "/") or parts.query:
        raise InputError("an origin is scheme://host[:port] only, without a path, query or "
                         "user")
    return origin(text)


def parse_header(text: str) -> HeaderSpec:
    scoped = _SCOPED.match(text.strip())
    where: Origin | None = None
    if scoped:
        where = parse_origin(scoped.group(1))
        text = scoped.group(2)
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _HEADER_NAME.match(name):
        raise InputError("--header expects 'Name: value', 'Name: @env:VAR' or "
                         "'https://host=Name: @env:VAR'")
    ref = _ENV_REF.match(value)
    if ref:
        return HeaderSpec(name, env=ref.group(1), origin=where)
    if _CREDENTIAL_HEADER.search(name) or TOKEN_RE.search(value):
        # The value is already in the shell's history; at least it goes no further.
        raise InputError(f"--header {name}: a credential must come from the environment: "
                         f"'{name}: @env:VAR' (a plain value lands in shell history)")
    if not _HEADER_VALUE.match(value):
        raise InputError(f"--header {name}: the value holds a character a header cannot carry "
                         "(only visible ASCII, space and tab)")
    return HeaderSpec(name, value=value, origin=where)


def env_secret(name: str, *, header: str | None = None) -> str | None:
    """A secret from the environment variable ``name``, remembered for redaction; checked to
    be sendable as a header value when it becomes one (``header`` names it)."""
    value = os.environ.get(name) or None
    if value is not None:
        remember(value)
        if header is not None:
            _checked_value(value, header, name)
    return value
