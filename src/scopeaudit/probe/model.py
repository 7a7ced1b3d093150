"""The probe's values: what was asked of the live API per scope, and what it answered."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from scopeaudit.http.settings import HttpSettings
from scopeaudit.model import CatalogInfo, Finding


class Result(Enum):
    GRANTED = "granted"
    MISSING = "missing"
    UNVERIFIABLE = "unverifiable"
    NOT_PROBED = "not probed"


@dataclass(frozen=True)
class Target:
    """The one side-effect-free request that tells whether a read scope is held."""

    scope: str
    path: str  # without the base URL, with the query: /v1/issues?limit=1
    operation: str  # the catalog operation id it stands for
    provenance: str
    # False for an implied or inferred route or a resource-prefix fallback
    # (`/v1/calendar/**`): the route may not exist, so a 404 there proves nothing about the
    # scope
    known_route: bool = True

    @property
    def request(self) -> str:
        return f"GET {self.path}"


@dataclass(frozen=True)
class ScopeResult:
    scope: str
    kind: str  # "read" | "write"
    result: Result
    status: int | None = None
    code: str | None = None  # the error envelope's code (FORBIDDEN, ...)
    request: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class ProbeOptions:
    """What ``scopeaudit probe`` was asked: the command line, typed."""

    base_url: str
    http: HttpSettings
    keys_path: str | None = None
    key_id: str | None = None
    keys_format: str | None = None
    timestamp: bool = True


@dataclass(frozen=True)
class Declared:
    """The key definition the live result was compared with (--keys, --key-id)."""

    source: str
    key_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ProbeReport:
    tool_version: str
    base_url: str  # as shown: no userinfo or secret query values
    key_fingerprint: str  # sha256:<12 hex>, never the key
    key_kind: str  # live | test | unknown
    catalog: CatalogInfo
    results: tuple[ScopeResult, ...]
    declared: Declared | None = None
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    generated_at: str | None = None

    def count(self, result: Result) -> int:
        return sum(1 for r in self.results if r.result is result)
