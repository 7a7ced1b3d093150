"""How scopeaudit talks HTTP: one frozen value built from the command line.

It holds references to credentials (header names and environment variable names), never
their values, so it can be printed, pickled to worker processes and compared safely.
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.http.credentials import HeaderSpec, Origin


@dataclass(frozen=True)
class HttpSettings:
    headers: tuple[HeaderSpec, ...] = ()
    # SCOPEAUDIT_HTTP_TOKEN goes only to these origins; empty: to every URL on the command line
    token_origins: tuple[Origin, ...] = ()
    allow_insecure_http: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4  # after the first try: at most retries + 1 tries
    backoff: float = 1.0  # the first wait; doubled each try, jitter up to min(0.5 s, backoff)
    backoff_max: float = 60.0
    # A server asking (Retry-After, X-RateLimit-Reset) for a longer wait than this is given
    # up on at once: sleeping through it would look like a hang.
    max_wait: float = 300.0
    ca_bundle: str | None = None
    next_field: str = "next"  # JSON pagination: the page object's field naming the next page
    cursor_param: str = "cursor"  # ... when that field holds a cursor rather than a URL
    items_field: str | None = None  # ... the page's list of records (default: found by name)
    max_pages: int = 10_000
    max_redirects: int = 5

    @property
    def tries(self) -> int:
        return self.retries + 1
