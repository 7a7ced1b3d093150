"""Which URLs may be fetched, which origin a credential belongs to, and how a URL is shown.

A URL is shown (in reports, errors and warnings) without its userinfo and with the values of
secret-looking query parameters replaced, so that a pre-signed export link or a
``?token=`` never reaches an output.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit, urlunsplit

from scopeaudit.errors import InputError
from scopeaudit.secrets import REDACTED, TOKEN_RE, is_secret_param_name

_AZURE_STORAGE = ".core.windows.net"  # account URLs: ACCOUNT.blob.core.windows.net, ...
_URL_IN_TEXT = re.compile(r"(?i)\bhttps?://[^\s'\"<>]+")


def is_url(value: str) -> bool:
    """An http(s) URL, whatever the scheme's case (``HTTPS://`` is a URL, not a file name):
    the one test of the whole code base."""
    return value[:8].lower().startswith(("http://", "https://"))


def is_loopback(host: str) -> bool:
    """An IP literal in 127.0.0.0/8, ``::1``, or exactly ``localhost``. Not ``*.localhost``:
    RFC 6761 says such names should resolve to loopback, but here they go to the resolver,
    which may answer anything."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_insecure_http: bool) -> None:
    """Refuse what must not be fetched: other schemes, no host, and plain http to anything but
    a loopback address (unless the user allowed it)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise InputError("not a valid URL", file=display_url(url)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("not an http(s) URL with a host", file=display_url(url))
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise InputError("refusing plain http to a non-loopback host (credentials and data "
                         "would cross the network unencrypted); use https, or pass "
                         "--allow-insecure-http", file=display_url(url))


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port): credentials are sent only to the origin the user named."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = -1  # an invalid URL: check_url refuses it before anything is sent
    return parts.scheme, (parts.hostname or "").lower(), port


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without userinfo, and the (user, password) it held."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    return urlunsplit(parts._replace(netloc=netloc)), (user, password)


def is_secret_param(name: str, value: str) -> bool:
    return is_secret_param_name(unquote(name)) or bool(TOKEN_RE.search(unquote(value)))


def display_url(url: str) -> str:
    """The URL as outputs may show it: no userinfo, no fragment, secret query values
    replaced by ``secrets.REDACTED`` (an Azure Storage account URL's SAS query removed whole).
    Everything else is kept exactly as given (``a+b`` stays ``a+b``, a bare ``?flag`` stays
    ``flag``), so the URL shown is the URL the user wrote."""
    try:
        bare, _ = split_userinfo(url)
        parts = urlsplit(bare)
    except ValueError:
        return "<unparseable URL>"
    fields = parts.query.split("&") if parts.query else []
    if (parts.hostname or "").lower().endswith(_AZURE_STORAGE) and \
            any(f.partition("=")[0].lower() == "sig" for f in fields):
        fields = []  # an Azure Storage SAS: every field of it is part of the credential
    shown = []
    for field in fields:
        name, eq, value = field.partition("=")
        shown.append(f"{name}={REDACTED}" if eq and is_secret_param(name, value) else
                     TOKEN_RE.sub(REDACTED, field))
    path = TOKEN_RE.sub(REDACTED, parts.path)
    return urlunsplit(parts._replace(path=path, query="&".join(shown), fragment=""))


def redact_urls(text: str) -> str:
    """Every http(s) URL in ``text`` as :func:`display_url` shows it: the last line of defence
    for messages that quote a URL raw."""
    def shown(match: re.Match[str]) -> str:
        url = match.group(0)
        # "…/x?sig=abc: no such file": the colon ends the message's field, not the URL
        end = len(url)
        while end and url[end - 1] in ".,:;)]":
            # a "]" that closes a "[" of the URL is its own (an IPv6 host, a value shown
            # redacted already), not the message's
            if url[end - 1] == "]" and url.count("[", 0, end) >= url.count("]", 0, end):
                break
            end -= 1
        return display_url(url[:end]) + url[end:]
    return _URL_IN_TEXT.sub(shown, text)
