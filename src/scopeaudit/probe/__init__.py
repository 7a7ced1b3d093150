"""``scopeaudit probe``: what the key in INSPAC_API_KEY can read, asked of the live API, and
how that compares with the key's definition.

The insp.ac API has no endpoint that lists a key's scopes, so each read scope is checked by
one side-effect-free request; write scopes are never probed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scopeaudit import __version__
from scopeaudit.catalog.model import Catalog, catalog_info
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.http.credentials import PROBE_KEY_ENV, env_secret
from scopeaudit.http.policy import check_url, display_url
from scopeaudit.http.settings import HttpSettings
from scopeaudit.model import Key, sorted_findings
from scopeaudit.probe.findings import definition_findings
from scopeaudit.probe.model import Declared, ProbeOptions, ProbeReport, Result, ScopeResult
from scopeaudit.secrets import fingerprint, looks_like_token, short_fingerprint, token_kind
from scopeaudit.window import utc_timestamp

NOT_PROBED = "write scope: no request that could change data is sent"


def run_probe(options: ProbeOptions, catalog: Catalog,
              diagnostics: Diagnostics) -> ProbeReport:
    from scopeaudit.probe.live import probe_scopes
    from scopeaudit.probe.plan import plan_targets

    settings = options.http
    base_url = options.base_url
    check_base_url(base_url, settings)
    api_key = env_secret(PROBE_KEY_ENV)
    if api_key is None:
        raise InputError(f"set {PROBE_KEY_ENV} to the key to probe (a key is never taken "
                         "as an argument: it would land in shell history)")
    declared = _declared_key(options, diagnostics, api_key)
    live = {r.scope: r for r in probe_scopes(base_url, api_key, plan_targets(catalog),
                                             settings)}
    results = tuple(
        live[s.name] if s.name in live else
        ScopeResult(s.name, "write", Result.NOT_PROBED, reason=NOT_PROBED)
        for s in catalog.scopes)
    findings = definition_findings(declared[0], results) if declared else []
    return ProbeReport(
        tool_version=__version__,
        base_url=display_url(base_url),
        key_fingerprint=short_fingerprint(api_key),
        key_kind=token_kind(api_key) if looks_like_token(api_key) else "unknown",
        catalog=catalog_info(catalog),
        results=results,
        declared=declared[1] if declared else None,
        findings=sorted_findings(findings),
        warnings=tuple(str(w) for w in diagnostics.warnings),
        generated_at=utc_timestamp() if options.timestamp else None,
    )


def check_base_url(url: str, settings: HttpSettings) -> None:
    check_url(url, settings.allow_insecure_http)
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query or \
            parts.fragment:
        raise InputError("--base-url takes a scheme, host and optional path prefix only (the "
                         f"key comes from {PROBE_KEY_ENV})", file=display_url(url))


def _declared_key(options: ProbeOptions, diagnostics: Diagnostics, api_key: str
                  ) -> tuple[Key, Declared] | None:
    keys_path, key_id = options.keys_path, options.key_id
    if not keys_path and not key_id:
        return None
    if not keys_path or not key_id:
        raise InputError("--keys and --key-id go together: the definition to compare the "
                         "live key with")
    from scopeaudit.inventory import KeysFormat, load_inventory

    fmt = options.keys_format
    inventory = load_inventory(keys_path, KeysFormat(fmt) if fmt else None, diagnostics,
                               options.http)
    key = next((k for k in inventory.keys if k.id == key_id), None)
    if key is None:
        raise InputError(f"no key with id {key_id!r}", file=inventory.source)
    _check_matchers(key, api_key, diagnostics)
    return key, Declared(inventory.source, key.id, key.granted)


def _check_matchers(key: Key, api_key: str, diagnostics: Diagnostics) -> None:
    """Refuse to compare a definition with a different key: its matchers must fit. A
    definition without any matcher cannot be checked: compared anyway, with a warning."""
    if not (key.sha256 or key.prefix or key.last4):
        diagnostics.warn(f"{key.location}: key {key.id!r} has no sha256, prefix or last4 "
                         f"matcher, so the key in {PROBE_KEY_ENV} could not be confirmed to "
                         "be this definition; comparing anyway")
    checks = (("sha256", key.sha256, lambda m: fingerprint(api_key) == m.lower()),
              ("prefix", key.prefix, api_key.startswith),
              ("last4", key.last4, api_key.endswith))
    for name, matcher, fits in checks:
        if matcher and not fits(matcher):
            raise InputError(f"{PROBE_KEY_ENV} is not the key {key.id!r}: its {name} does not "
                             "match the definition", file=f"{key.location}")
