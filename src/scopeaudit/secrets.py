"""Recognising insp.ac tokens, fingerprinting them, and keeping them out of every output.

A token is never stored: whoever reads one calls :func:`fingerprint` at once and keeps only
the digest. :func:`redact` is the last line of defence for any text that quotes user input.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

# "sk_live_" or "sk_test_" followed by 16 or more secret characters. A shorter tail is a
# prefix matcher (e.g. ``prefix: sk_live_7Hq2``), which identifies a key without granting it.
TOKEN_RE = re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{16,}")
# The fixed start of every token TOKEN_RE matches: a ``prefix`` matcher no longer than one of
# these identifies no key (it matches every token of that kind).
TOKEN_FIXED_PARTS = ("sk_live_", "sk_test_")
TOKEN_BYTES_RE = re.compile(TOKEN_RE.pattern.encode())  # the same, in a raw log line
# What every token starts with: a text without it holds none. The cheap test a reader makes
# before TOKEN_RE (``TOKEN_MARK in text``), written here once for every reader and engine.
TOKEN_MARK = "sk_"  # noqa: S105 (no secret: the start every token shares)
TOKEN_MARK_BYTES = TOKEN_MARK.encode()
# What stands where a secret without a fingerprint was (a credential query parameter's
# value, a password the run knows): one word in every report, error and URL shown.
REDACTED = "[redacted]"
BEARER_RE = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})")


def fingerprint(token: str) -> str:
    """The SHA-256 hex digest of a full token: how keys are matched without storing it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def short_fingerprint(token: str) -> str:
    return "sha256:" + fingerprint(token)[:12]


def looks_like_token(text: str) -> bool:
    """Whether ``text`` starts as a token does (``sk_live_``, ``sk_test_``)."""
    return text.startswith(TOKEN_FIXED_PARTS)


def token_kind(token: str) -> str:
    return "live" if token.startswith(TOKEN_FIXED_PARTS[0]) else "test"


def redact(text: str) -> str:
    """Replace every token and Bearer value in ``text`` with its short fingerprint."""
    # Bearer values first: a Bearer token is usually also an sk_ token, and once the inner
    # token is replaced the Bearer pattern would match what is left of it.
    text = BEARER_RE.sub(lambda m: f"Bearer …[{short_fingerprint(m.group(1))}]", text)
    return TOKEN_RE.sub(
        lambda m: f"sk_{token_kind(m.group(0))}_…[{short_fingerprint(m.group(0))}]", text
    )



def redact_json(value: Any) -> Any:
    """Every string in a JSON value (keys included) through :func:`redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k): redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value

# Query parameters whose value is a credential: a parameter is secret when its name contains
# one of these words, case-insensitively (``api_key``, ``access_token``, ``X-Amz-Signature``,
# ``X-Amz-Credential``, GCS's ``X-Goog-Signature``, Azure SAS ``sig``, ``password``,
# ``sessionid`` ...). The one list for every module that hides query values: the log readers,
# the SQL they compile to, and how URLs are shown. Words, not whole names, on purpose: an
# unknown ``refresh_token`` is hidden too, at the price of also hiding ``?design=``.
SECRET_PARAM_WORDS = ("token", "key", "sig", "secret", "passw", "pwd", "credential", "auth",
                      "session")
# A whole parameter name holding one of the words, as a regular expression (no groups, no
# look-around: the SQL dialects' regex engines must accept it too).
SECRET_PARAM_NAME = ("[^=&;#?/\\s]*(?:" + "|".join(SECRET_PARAM_WORDS) + ")[^=&;#?/\\s]*")


def is_secret_param_name(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in SECRET_PARAM_WORDS)
