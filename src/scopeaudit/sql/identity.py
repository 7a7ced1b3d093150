"""Secrets in SQL: tokens out of targets and free text, key identities fingerprinted.

The readers' rules (usage/identity.py, usage/fields.py) as expressions, so that a query's
result never carries a raw token: a key column holding ``sk_live_…`` or ``Bearer …``
becomes ``sha256:<64 hex>``, the form a key file's ``sha256`` is written in, which the
reader matches exactly as it matches a token it fingerprints itself. Where this differs
from the reader (kept short on purpose, and on the safe side: nothing secret is kept):

* a token is matched by its SHA-256 only; a key defined by ``prefix`` or ``last4`` alone
  is matched by its token only when the query is built with those keys
  (``key_expr(..., keys=...)``), which compiles the reader's prefix and last4 matching in
  (a value several definitions share as the group label the reader gives it);
* an ``Authorization`` value of another scheme (``Basic …``, ``Token …``) is fingerprinted
  whole-credential; the reader decodes Basic and may name a user instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from scopeaudit.model import Key
from scopeaudit.secrets import REDACTED, SECRET_PARAM_NAME, TOKEN_RE
from scopeaudit.sql.regex import Flavour
from scopeaudit.sql.routing import case, concat, lit, regex_like, regex_replace
from scopeaudit.usage.identity import OTHER_SCHEMES, key_matchers

TOKEN = TOKEN_RE.pattern  # no capture groups: REGEXP_EXTRACT gives the whole match
# The reader's secret-parameter rule, names and all; the value as ``+`` (an empty value
# is left alone there too).
_PARAM_NAMES = SECRET_PARAM_NAME


def scrub_target_expr(target: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """``KeyResolver.scrub_target``'s target: tokens -> ``[token]``, then the values of
    credential query parameters (``api_key=``, ``token=``, …) -> ``[redacted]``."""
    fl = Flavour(dialect)
    no_tokens = regex_replace(target, TOKEN, "[token]", dialect)
    return regex_replace(no_tokens, rf"(?i)([?&;]{_PARAM_NAMES}=)[^&;#]+",
                         fl.group(1) + REDACTED, dialect)


def has_token_expr(value: exp.Expr) -> exp.Expr:
    """Whether the text holds a raw token (SA301: a secret in the logs)."""
    return exp.func("COALESCE", regex_like(value, TOKEN), exp.false())


def scrub_text_expr(value: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """``fields.scrub_text``: tokens in a kept free-text field -> ``[token]``."""
    return regex_replace(value, TOKEN, "[token]", dialect)


def first_token_expr(value: exp.Expr, dialect: str) -> exp.Expr:
    """The first token in the text (NULL, or '' in Spark, if none: test has_token_expr
    first)."""
    if dialect == "postgres":
        # REGEXP_MATCH's array of groups (the whole match: TOKEN has none), element 1 as
        # PostgreSQL counts: ``offset=1`` says the index is already 1-based, so sqlglot
        # adds none of its own (with one it wrote [2], which is NULL: issue 24)
        return exp.Bracket(this=exp.Paren(this=exp.Anonymous(
            this="REGEXP_MATCH", expressions=[value, lit(TOKEN)])),
            expressions=[exp.Literal.number(1)], offset=1)
    return exp.RegexpExtract(this=value, expression=lit(TOKEN),
                             group=exp.Literal.number(0))


def sha256_hex_expr(value: exp.Expr, dialect: str) -> exp.Expr:
    """Lower-case hex SHA-256 of the text's UTF-8 bytes, per dialect."""
    if dialect == "duckdb":
        return exp.Anonymous(this="SHA256", expressions=[value])
    if dialect == "trino":
        return exp.Lower(this=exp.Anonymous(this="TO_HEX", expressions=[exp.Anonymous(
            this="SHA256", expressions=[exp.Anonymous(this="TO_UTF8", expressions=[value])])]))
    if dialect == "spark":
        return exp.Anonymous(this="SHA2", expressions=[value, exp.Literal.number(256)])
    if dialect == "bigquery":
        return exp.Anonymous(this="TO_HEX", expressions=[
            exp.Anonymous(this="SHA256", expressions=[value])])
    return exp.Anonymous(this="ENCODE", expressions=[exp.Anonymous(
        this="SHA256", expressions=[exp.Anonymous(this="CONVERT_TO",
                                                  expressions=[value, lit("UTF8")])]),
        lit("hex")])


def strip_expr(value: exp.Expr, dialect: str) -> exp.Expr:
    """Python's str.strip(): Unicode whitespace at both ends."""
    fl = Flavour(dialect)
    ws = fl.whitespace_class()
    return regex_replace(regex_replace(value, rf"\A{ws}+", "", dialect), rf"{ws}+{fl.end}", "",
                         dialect)


def _token_identity(token: exp.Expr, dialect: str,
                    keys: Sequence[Key]) -> exp.Expr:
    """``KeyResolver._token``: by SHA-256 (in the reader), else by prefix (longest first),
    else by last4; else the fingerprint. A value several definitions share gives their
    group's label, as the reader's does (usage.identity.key_matchers, the one table)."""
    matchers = key_matchers(tuple(keys))
    fingerprint = concat(lit("sha256:"), sha256_hex_expr(token, dialect))
    whens: list[tuple[exp.Expr, exp.Expr]] = []
    if matchers.by_sha:
        whens.append((exp.In(this=sha256_hex_expr(token, dialect),
                             expressions=[lit(s) for s in sorted(matchers.by_sha)]),
                      fingerprint))
    for prefix, label in matchers.prefixes:
        whens.append((exp.EQ(this=exp.Substring(this=token, start=exp.Literal.number(1),
                                                length=exp.Literal.number(len(prefix))),
                             expression=lit(prefix)), lit(label)))
    for value, label in sorted(matchers.by_last4.items()):
        whens.append((exp.EQ(this=exp.Right(this=token, expression=exp.Literal.number(4)),
                             expression=lit(value)), lit(label)))
    return case(whens, fingerprint)


def key_expr(raw: exp.Expr, dialect: str = "duckdb",
             keys: Sequence[Key] = ()) -> exp.Expr:
    """The key identity the reader would take from a logged key value, never a token:
    NULL for none; a token (bare, inside the value, or ``Bearer …``) as its identity;
    other Authorization schemes fingerprinted; anything else as logged (stripped).
    ``raw`` must be text."""
    value = strip_expr(raw, dialect)
    scheme = exp.Lower(this=exp.Substring(this=value, start=exp.Literal.number(1),
                                          length=exp.Literal.number(7)))
    after_bearer = strip_expr(exp.Substring(this=value, start=exp.Literal.number(8)), dialect)
    schemes = "|".join(sorted({"basic", *OTHER_SCHEMES}))
    credentials = regex_replace(value, r"\A[^ ]+ ", "", dialect)
    return case([
        (exp.or_(exp.Is(this=raw, expression=exp.Null()),
                 exp.In(this=value, expressions=[lit(""), lit("-")])), exp.Null()),
        (exp.EQ(this=scheme, expression=lit("bearer ")),
         _token_identity(after_bearer, dialect, keys)),
        (regex_like(value, TOKEN),
         _token_identity(first_token_expr(value, dialect), dialect, keys)),
        (regex_like(value, rf"(?i)\A(?:{schemes}) +[^ ]"),
         concat(lit("sha256:"), sha256_hex_expr(strip_expr(credentials, dialect), dialect))),
    ], value)


def target_key_expr(target: exp.Expr, dialect: str = "duckdb",
                    keys: Sequence[Key] = ()) -> exp.Expr:
    """``KeyResolver.scrub_target``'s identity: the key of the first token in the request
    target (``/v1/works?access_token=sk_live_…``), NULL if it holds none. The reader takes
    it when the key column names no key."""
    return case([(regex_like(target, TOKEN),
                  _token_identity(first_token_expr(target, dialect), dialect, keys))])


def key_token_expr(raw: exp.Expr, dialect: str = "duckdb") -> exp.Expr:
    """Whether the logged key value was a raw token (bare, inside, or Bearer)."""
    value = strip_expr(raw, dialect)
    return exp.func("COALESCE", exp.or_(
        exp.EQ(this=exp.Lower(this=exp.Substring(this=value, start=exp.Literal.number(1),
                                                 length=exp.Literal.number(7))),
               expression=lit("bearer ")),
        regex_like(value, TOKEN)), exp.false())
