"""Sending the probes: GET only, one per read scope, and reading what the API answers.

2xx is granted; 403 with the FORBIDDEN code is missing; 404 is granted on a route the
catalog documents (the key got past the scope check to a resource that is not there) and
unverifiable on an implied or inferred one, which may not exist; anything else is
unverifiable with its reason. A 401 stops the probe: the key itself is invalid or revoked.
Redirects are never followed, so the key never leaves the base URL's origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import orjson

from scopeaudit.errors import InputError
from scopeaudit.http.client import Credentials, Fetcher, HttpFailure, status_text
from scopeaudit.http.policy import display_url
from scopeaudit.http.settings import HttpSettings
from scopeaudit.probe.model import Result, ScopeResult, Target

_MAX_ENVELOPE = 64 << 10  # enough for an error envelope; a page of data is not read whole
# What an insp.ac error code looks like (FORBIDDEN, RATE_LIMITED): anything else the server
# put there is not copied into reports.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")  # whole string (fullmatch): no trailing newline
INVALID_CODE = "(invalid)"


class KeyRejected(InputError):
    """A 401: nothing else can be learnt with this key."""


def _envelope_code(response: httpx.Response) -> str | None:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > _MAX_ENVELOPE:
            return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = doc.get("code") if isinstance(doc, dict) else None
    if code is None:
        return None
    return code if isinstance(code, str) and _CODE.fullmatch(code) else INVALID_CODE


def _classify(target: Target) -> Callable[[httpx.Response, str], ScopeResult]:
    def classify(response: httpx.Response, final_url: str) -> ScopeResult:
        status = response.status_code
        if 300 <= status < 400:
            where = response.headers.get("location", "")
            return ScopeResult(target.scope, "read", Result.UNVERIFIABLE, status, None,
                               target.request, f"{status_text(response)}: redirected to "
                               f"{display_url(where) if where else 'nowhere'}, not followed "
                               "(the key would go with it)")
        code = _envelope_code(response)
        shown = f"{status_text(response)}{f' {code}' if code else ''}"
        if status == 401:
            raise KeyRejected(f"key invalid or revoked ({shown} on {target.request})",
                              file=display_url(final_url))
        if 200 <= status < 300:
            return ScopeResult(target.scope, "read", Result.GRANTED, status, code,
                               target.request)
        if status == 403 and code == "FORBIDDEN":
            return ScopeResult(target.scope, "read", Result.MISSING, status, code,
                               target.request, "refused for a missing scope")
        if status == 404 and target.known_route:
            return ScopeResult(target.scope, "read", Result.GRANTED, status, code,
                               target.request, "404 past the scope check")
        reason = shown
        if status == 404:
            reason += ": the route is not documented and may not exist"
        elif status == 403:
            reason += ": a 403 without the FORBIDDEN code (a proxy or firewall?)"
        return ScopeResult(target.scope, "read", Result.UNVERIFIABLE, status, code,
                           target.request, reason)
    return classify


def probe_scopes(base_url: str, api_key: str, targets: dict[str, Target | None],
                 settings: HttpSettings,
                 fetcher_factory: Callable[[Credentials], Fetcher] | None = None
                 ) -> list[ScopeResult]:
    """One request per read scope, in catalog order. A base URL that never answers is an
    error (exit 2), not a column of unverifiable scopes."""
    root = base_url.rstrip("/")
    credentials = Credentials(root, {"Authorization": f"Bearer {api_key}"})
    make = fetcher_factory or (lambda c: Fetcher(settings, c, follow_redirects=False))
    results: list[ScopeResult] = []
    answered = False
    with make(credentials) as fetcher:
        for scope, target in targets.items():
            if target is None:
                results.append(ScopeResult(scope, "read", Result.UNVERIFIABLE,
                                           reason="no GET operation in the catalog needs "
                                                  "this scope alone"))
                continue
            try:
                results.append(fetcher.get(root + target.path, _classify(target)))
                answered = True
            except KeyRejected:
                raise
            except HttpFailure as exc:
                if exc.status is None and not answered:
                    raise HttpFailure(f"no answer from the API: {exc.message}",
                                      root + target.path, tries=exc.tries) from None
                answered = answered or exc.status is not None
                results.append(ScopeResult(scope, "read", Result.UNVERIFIABLE, exc.status,
                                           None, target.request, exc.message))
    return results
