"""``scopeaudit design``: the least privileged key for a new integration, from the calls it
will make.

The calls are read from files of lines (an operation id, or ``METHOD /path``, per line; ``#``
starts a comment) or from an OpenAPI document describing the client's own calls (each path
and method one call, tried as written and under each of its server paths). Each is resolved
against the catalog (ids by name, paths by the catalog's router, the audit's own route
matching), and the set is minimal.minimal_cover of the operations' alternatives. A call
that no scope set can satisfy (an unknown id, a path no operation matches, an operation
needing only scopes the catalog does not declare) is listed with the reason, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from scopeaudit.catalog.model import Catalog, Operation, Provenance
from scopeaudit.catalog.routes import MatchKind
from scopeaudit.errors import InputError
from scopeaudit.evidence import least_privileged
from scopeaudit.remediate.minimal import DEFAULT_LIMIT, minimal_cover
from scopeaudit.secrets import redact

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_CALL_RE = re.compile(r"^([A-Za-z]+)\s+(\S+)$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.@:-]+$")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:@/-]*$")
# plain words YAML reads as something other than text
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


@dataclass(frozen=True)
class Call:
    """One call the client will make, as its input wrote it."""

    label: str  # the operation id or ``METHOD /path`` as written (an OpenAPI operationId)
    where: str  # file:line, or file and OpenAPI path
    op_id: str | None = None
    method: str | None = None
    paths: tuple[str, ...] = ()  # the path, then the path under each server base


@dataclass(frozen=True)
class Unsatisfiable:
    call: Call
    why: str


@dataclass(frozen=True)
class Design:
    scopes: tuple[str, ...]
    needed_by: tuple[tuple[str, tuple[str, ...]], ...]  # scope -> operation ids
    no_scope: tuple[str, ...]  # operations that need no scope
    inferred: tuple[str, ...]  # operations whose scope the catalog only infers
    unsatisfiable: tuple[Unsatisfiable, ...]
    exact: bool
    steps: int
    operations: int


def read_calls(path: str) -> list[Call]:
    """The calls in one input file (``-`` is stdin)."""
    import sys

    from scopeaudit.catalog.documents import parse_json, parse_yaml
    from scopeaudit.catalog.openapi import is_openapi_document
    from scopeaudit.inventory import decode

    name = "<stdin>" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=name) from None
    text = decode(data, name)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        doc = parse_json(text, name)
    elif re.search(r"^(openapi|swagger)\s*:", text, re.M):
        doc = parse_yaml(text, name)
    else:
        return _lines(text, name)
    if not is_openapi_document(doc):
        raise InputError("not an OpenAPI document (no 'openapi' or 'swagger' key), nor "
                         "lines of operation ids and 'METHOD /path' calls", file=name)
    return _openapi_calls(doc, name)


def _lines(text: str, name: str) -> list[Call]:
    calls = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}:{number}"
        call = _CALL_RE.match(line)
        if call and "/" in call.group(2):
            calls.append(Call(f"{call.group(1).upper()} {call.group(2)}", where,
                              method=call.group(1).upper(), paths=(call.group(2),)))
        elif _ID_RE.match(line):
            calls.append(Call(line, where, op_id=line))
        else:
            raise InputError(f"expected an operation id or 'METHOD /path', found "
                             f"{redact(line)!r:.80}", file=name, line=number)
    return calls


def _openapi_calls(doc: dict[str, object], name: str) -> list[Call]:
    from scopeaudit.catalog.openapi import server_path

    bases: list[str] = []
    servers = doc.get("servers")
    if isinstance(servers, list):
        bases += [server_path(s["url"]) for s in servers
                  if isinstance(s, dict) and isinstance(s.get("url"), str)]
    if isinstance(doc.get("basePath"), str):
        bases.append(server_path(str(doc["basePath"])))
    bases = sorted({b for b in bases if b})
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        raise InputError("an OpenAPI document of the client's calls needs 'paths'", file=name)
    calls = []
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId")
            label = f"{method.upper()} {path}"
            calls.append(Call(op_id if isinstance(op_id, str) and op_id else label,
                              f"{name}: paths: {path}: {method}", method=method.upper(),
                              paths=(path, *(b + path for b in bases))))
    return calls


def resolve(call: Call, catalog: Catalog) -> Operation | str | None:
    """The catalog operation the call is, None for a CORS preflight (it carries no key),
    or why there is none."""
    if call.op_id is not None:
        ops = {op.id: op for op in catalog.operations}
        if call.op_id in ops:
            return ops[call.op_id]
        import difflib

        close = difflib.get_close_matches(call.op_id, sorted(ops), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no operation {call.op_id!r} in the catalog{hint}"
    assert call.method is not None
    kind = None
    for path in call.paths:
        match = catalog.router.match(call.method, path)
        if match.operation is not None:
            return match.operation
        kind = kind or match.kind
    if kind is MatchKind.PREFLIGHT:
        return None
    if kind is MatchKind.INVALID:
        return "not a request path"
    return "no operation of the catalog matches this method and path"


def design(calls: list[Call], catalog: Catalog, limit: int = DEFAULT_LIMIT) -> Design:
    unsatisfiable: list[Unsatisfiable] = []
    chosen: dict[str, Operation] = {}
    preflights: list[str] = []
    for call in calls:
        found = resolve(call, catalog)
        if found is None:
            preflights.append(call.label)
            continue
        if isinstance(found, str):
            unsatisfiable.append(Unsatisfiable(call, found))
            continue
        usable = tuple(alt for alt in found.requires
                       if all(catalog.has_scope(s) for s in alt))
        if found.requires and not usable:
            names = sorted(found.scopes - set(catalog.scope_names))
            unsatisfiable.append(Unsatisfiable(call, f"{found.id} needs {', '.join(names)}, "
                                               "which the catalog does not declare"))
            continue
        chosen.setdefault(found.id, Operation(found.id, found.method, found.path, usable,
                                              found.provenance, found.note))
    ops = [chosen[k] for k in sorted(chosen)]
    cover = minimal_cover([op.requires for op in ops], catalog, limit)
    needed: dict[str, list[str]] = {s: [] for s in sorted(cover.scopes)}
    no_scope = [f"{label} (a CORS preflight carries no key)" for label in preflights]
    for op in ops:
        alts = [alt for alt in op.requires if alt <= cover.scopes]
        alt = least_privileged(alts, catalog) if alts else frozenset()
        if not alt:
            no_scope.append(op.id)
        for scope in sorted(alt):
            needed[scope].append(op.id)
    inferred = tuple(op.id for op in ops if op.provenance is Provenance.INFERRED)
    return Design(tuple(sorted(cover.scopes)),
                  tuple((s, tuple(ids)) for s, ids in needed.items()), tuple(no_scope),
                  inferred, tuple(unsatisfiable), cover.exact, cover.steps, len(ops))


def _scalar(value: str) -> str:
    plain = _PLAIN.match(value) and value.lower() not in _RESERVED
    return value if plain else json.dumps(value)


def render_design(result: Design, key_id: str, name: str, catalog: Catalog) -> str:
    """The key definition (keys-as-code YAML), a comment per scope naming the operations
    that need it; what cannot be satisfied as comments after it."""
    writes = sum(1 for s in result.scopes if s in catalog.write_scopes)
    how = ("minimal" if result.exact else
           f"best found; the search stopped after {result.steps:,} branches, so it is a bound, "
           "not proved minimal")
    out = [f"# scopeaudit design: {result.operations} operation(s) -> "
           f"{len(result.scopes)} scope(s), {writes} of them write ({how}: fewest write "
           "scopes, then fewest scopes)",
           "keys:",
           f"  - id: {_scalar(key_id)}",
           f"    name: {_scalar(name)}"]
    if result.scopes:
        out.append("    scopes:")
        width = max(len(s) for s in result.scopes)
        for scope, ops in result.needed_by:
            out.append(f"      - {_scalar(scope).ljust(width)}  # {', '.join(ops)}")
    else:
        out.append("    scopes: []")
    if result.no_scope:
        out.append(f"# need no scope: {', '.join(result.no_scope)}")
    if result.inferred:
        out.append("# the catalog only infers the scope of: " + ", ".join(result.inferred))
    if result.unsatisfiable:
        out.append("# no scope set can satisfy:")
        out += [f"#   {redact(u.call.label)} ({redact(u.call.where)}): {redact(u.why)}"
                for u in result.unsatisfiable]
    return "\n".join(out) + "\n"
