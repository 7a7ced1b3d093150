"""Which defined key a logged identity belongs to, and the one place tokens are handled.

A log may carry a key id, a key name, a token prefix or last4, a ``sha256:`` fingerprint, or
a raw token (bare or as ``Bearer …``), possibly inside the query string. A raw token is
fingerprinted here, matched, and forgotten: it is never cached, returned or stored.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from scopeaudit.model import Key
from scopeaudit.secrets import (
    REDACTED,
    SECRET_PARAM_NAME,
    SECRET_PARAM_WORDS,
    TOKEN_BYTES_RE,
    TOKEN_FIXED_PARTS,
    TOKEN_MARK,
    TOKEN_MARK_BYTES,
    TOKEN_RE,
    fingerprint,
)

_SHA_RE = re.compile(r"sha256:([0-9a-fA-F]{64})")
# Query parameters that carry credentials (the one list, in scopeaudit.secrets): their values
# are never kept.
_SECRET_PARAM_RE = re.compile(rf"(?i)([?&;]{SECRET_PARAM_NAME}=)([^&;#]*)")
_CACHE_LIMIT = 100_000
# Authorization schemes other than Bearer whose credentials must not become a key label.
OTHER_SCHEMES = frozenset({"token", "apikey", "api-key", "key", "digest", "hmac", "signature",
                            "negotiate", "ntlm", "aws4-hmac-sha256"})


def catch_all_prefix(prefix: str) -> bool:
    """Whether a ``prefix`` matcher is no longer than the fixed part every token shares
    (``sk_live``, ``sk_live_``): it would match every token of that kind, so it is never used
    to match (lint reports it: SA213)."""
    return any(fixed.startswith(prefix) for fixed in TOKEN_FIXED_PARTS)


@dataclass(frozen=True)
class MatcherGroup:
    """Key definitions that one matcher value names alike (two keys with one ``last4``, one
    ``name``, one ``prefix`` or one ``sha256``). A logged identity matching it is attributed
    to the group, under ``label``; the evidence splits the group's requests among its keys
    by their dates (evidence.py)."""

    label: str
    matcher: str  # "sha256" | "name" | "prefix" | "last4"
    value: str  # as shown in findings (a fingerprint cut to 16 hex digits)
    keys: tuple[Key, ...]

    @property
    def described(self) -> str:
        return f"{self.matcher} {self.value!r}"


@dataclass(frozen=True)
class KeyMatchers:
    """How logged identities map to key ids, from the key definitions: each matcher value to
    the id of the one key it names, or to the label of the group of keys it names alike.
    The one definition the reader (KeyResolver) and the warehouse SQL (sql/identity.py) both
    match with."""

    by_sha: dict[str, str]
    by_name: dict[str, str]
    prefixes: tuple[tuple[str, str], ...]  # longest first; catch-all prefixes left out
    by_last4: dict[str, str]
    groups: dict[str, MatcherGroup]  # label -> group


def key_matchers(keys: tuple[Key, ...]) -> KeyMatchers:
    groups: dict[str, MatcherGroup] = {}

    def table(matcher: str, pairs: list[tuple[str, Key]]) -> dict[str, str]:
        named: dict[str, list[Key]] = {}
        for value, key in pairs:
            named.setdefault(value, []).append(key)
        out: dict[str, str] = {}
        for value, found in named.items():
            if len({k.id for k in found}) == 1:  # one key (or one id defined twice: SA209)
                out[value] = found[0].id
                continue
            shown = value[:16] if matcher == "sha256" else value
            label = f"ambiguous:{matcher}:{shown}"
            first = {k.id: k for k in reversed(found)}  # an id defined twice: its first
            groups[label] = MatcherGroup(label, matcher, shown,
                                         tuple(k for k in found if first[k.id] is k))
            out[value] = label
        return out

    by_sha = table("sha256", [(k.sha256, k) for k in keys if k.sha256])
    by_name = table("name", [(k.name, k) for k in keys if k.name])
    by_prefix = table("prefix", [(k.prefix, k) for k in keys
                                 if k.prefix is not None and not catch_all_prefix(k.prefix)])
    by_last4 = table("last4", [(k.last4, k) for k in keys if k.last4])
    # Longest prefix first, so "sk_live_ab12" wins over "sk_live_ab".
    prefixes = tuple(sorted(by_prefix.items(), key=lambda p: (-len(p[0]), p[0])))
    return KeyMatchers(by_sha, by_name, prefixes, by_last4, groups)


def _may_hold_secret_param(target: str) -> bool:
    """A cheap necessary condition for _SECRET_PARAM_RE: every name it knows contains one of
    these words. Most query strings (page=, limit=) fail it and skip the regex."""
    low = target.lower()
    return any(word in low for word in SECRET_PARAM_WORDS)


class KeyResolver:
    """Maps logged identities to key ids. Unmatched identities come back as themselves
    (or as ``sha256:<16 hex>`` for a token), so unknown keys can still be reported."""

    def __init__(self, keys: tuple[Key, ...]) -> None:
        matchers = key_matchers(keys)
        self.ids = {k.id for k in keys}
        # a group's label is a resolved identity too (the warehouse query writes it)
        self._groups = frozenset(matchers.groups)
        self._by_sha = matchers.by_sha
        self._by_name = matchers.by_name
        self._prefixes = matchers.prefixes
        self._by_last4 = matchers.by_last4
        self._cache: dict[str, str] = {}

    def resolve(self, raw: object) -> tuple[str | None, bool]:
        """(key id or unknown label, whether a raw token was seen)."""
        if raw is None:
            return None, False
        if raw.__class__ is str:
            hit = self._cache.get(raw)
            if hit is not None:
                return hit, False
        value = str(raw).strip()
        if not value or value == "-":
            return None, False
        cached = self._cache.get(value)
        if cached is not None:
            return cached, False
        if value[:7].lower() == "bearer ":
            return self._token(value[7:].strip()), True
        found = TOKEN_RE.search(value)
        if found is not None:
            return self._token(found.group(0)), True
        scheme, sep, credentials = value.partition(" ")
        if sep and credentials.strip():
            # An Authorization header value: its credentials are secret, never a label.
            if scheme.lower() == "basic":
                return self._basic(credentials.strip())
            if scheme.lower() in OTHER_SCHEMES:
                return f"sha256:{fingerprint(credentials.strip())[:16]}", False
        resolved = self._plain(value)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[value] = resolved
        if isinstance(raw, str):
            self._cache[raw] = resolved  # the unstripped form too: the next lookup is direct
        return resolved, False

    def scrub_target(self, target: str) -> tuple[str, str | None, bool]:
        """(target without secrets, identity of a token found in it, whether one was found)."""
        if TOKEN_MARK not in target and "=" not in target:
            return target, None, False
        identity: str | None = None
        found = False
        match = TOKEN_RE.search(target) if TOKEN_MARK in target else None
        if match is not None:
            identity, found = self._token(match.group(0)), True
            target = TOKEN_RE.sub("[token]", target)
        if "=" in target and _may_hold_secret_param(target) and _SECRET_PARAM_RE.search(target):
            def _drop(m: re.Match[str]) -> str:
                return m.group(1) + (REDACTED if m.group(2) else "")

            target = _SECRET_PARAM_RE.sub(_drop, target)
        return target, identity, found

    def line_token(self, raw: bytes) -> str | None:
        """The identity of the first token anywhere in a raw line (None: it holds none): how
        a line that gives no record (malformed, a bad time, a field missing) still names the
        key whose token it leaked."""
        found = TOKEN_BYTES_RE.search(raw) if TOKEN_MARK_BYTES in raw else None
        return None if found is None else self._token(found.group(0).decode("ascii"))

    def _basic(self, credentials: str) -> tuple[str | None, bool]:
        """HTTP Basic: a token may be the user or the password (``curl -u sk_live_…:``); else
        the user name is the identity. The password is never kept."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return f"sha256:{fingerprint(credentials)[:16]}", False
        user, _, password = decoded.partition(":")
        for part in (user, password):
            found = TOKEN_RE.search(part)
            if found is not None:
                return self._token(found.group(0)), True
        user = user.strip()
        return (self._plain(user) if user else None), False

    def _token(self, token: str) -> str:
        digest = fingerprint(token)
        known = self._by_sha.get(digest)
        if known is not None:
            return known
        for prefix, key_id in self._prefixes:
            if token.startswith(prefix):
                return key_id
        by_last4 = self._by_last4.get(token[-4:])
        if by_last4 is not None:
            return by_last4
        return f"sha256:{digest[:16]}"

    def _plain(self, value: str) -> str:
        if value in self.ids or value in self._groups:
            return value
        sha = _SHA_RE.fullmatch(value)
        if sha is not None:
            digest = sha.group(1).lower()
            return self._by_sha.get(digest, f"sha256:{digest[:16]}")
        if value in self._by_name:
            return self._by_name[value]
        for prefix, key_id in self._prefixes:
            if value.startswith(prefix):
                return key_id
        if len(value) == 4 and value in self._by_last4:
            return str(self._by_last4[value])
        return value
