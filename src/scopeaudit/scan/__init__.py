"""Static scanning: the API calls an integration's source code makes, and the scopes they
need (``scopeaudit scan``).

Source files are parsed with tree-sitter (the ``scopeaudit[scan]`` extra), never imported or
run. Each call site is matched to the catalog by the router the audit itself uses
(:mod:`scopeaudit.catalog.routes`), so code and logs are judged by one definition of an
operation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scopeaudit.catalog.routes import MatchKind
from scopeaudit.errors import InputError
from scopeaudit.scan.findings import check_keys, covers
from scopeaudit.scan.model import (
    DEFAULT_MAX_FILE_BYTES,
    CallSite,
    CallStatus,
    ScannedCall,
    ScanReport,
    SkippedFile,
)

if TYPE_CHECKING:
    from scopeaudit.catalog.model import Catalog
    from scopeaudit.model import Key

INSTALL_HINT = "pip install 'scopeaudit[scan]'"
# Folders of other people's code or of build output: never an integration's own calls.
_SKIPPED_DIRS = frozenset({"node_modules", "vendor", "__pycache__", "dist", "build",
                           "site-packages", "venv"})


def require_parsers() -> None:
    """Refuse, in one line, to scan without the parsers (the optional extra)."""
    try:
        import tree_sitter  # noqa: F401
        import tree_sitter_go  # noqa: F401
        import tree_sitter_javascript  # noqa: F401
        import tree_sitter_python  # noqa: F401
        import tree_sitter_typescript  # noqa: F401
    except ImportError:
        raise InputError("static scanning needs the parsers of the scan extra: "
                         f"{INSTALL_HINT}") from None


def _scanner(suffix: str) -> Callable[[bytes, str], list[CallSite]] | None:
    from tree_sitter import Language, Parser

    from scopeaudit.scan import golang, javascript, python

    def run(language: object, scan: Callable[[Any, str], list[CallSite]]
            ) -> Callable[[bytes, str], list[CallSite]]:
        def parse(source: bytes, path: str) -> list[CallSite]:
            tree = Parser(Language(language)).parse(source)
            return scan(tree.root_node, path)
        return parse

    if suffix in python.EXTENSIONS:
        return run(python.parser_language(), python.scan_tree)
    if suffix in golang.EXTENSIONS:
        return run(golang.parser_language(), golang.scan_tree)
    if suffix in javascript.EXTENSIONS:
        name, language = javascript.language_for(suffix)
        return run(language, lambda root, path: javascript.scan_tree(root, path, name))
    return None


def source_files(paths: Iterable[str]) -> list[str]:
    """The files to scan: files given by name, and the source files under folders given
    (hidden, vendored and build folders left out), each once, in path order per argument."""
    from scopeaudit.scan import golang, javascript, python

    known = (*python.EXTENSIONS, *javascript.EXTENSIONS, *golang.EXTENSIONS)
    out: list[str] = []
    for given in paths:
        if os.path.isfile(given):
            out.append(given)
            continue
        if not os.path.isdir(given):
            raise InputError("no such file or folder", file=given)
        found = []
        for folder, dirs, files in os.walk(given):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
            found += [os.path.join(folder, f) for f in files if f.endswith(known)]
        out += sorted(found)
    return list(dict.fromkeys(Path(p).as_posix() for p in out))


def scan_paths(paths: Iterable[str], catalog: Catalog,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ScanReport:
    require_parsers()
    sites: list[CallSite] = []
    skipped: list[SkippedFile] = []
    scanned: list[str] = []
    for path in source_files(paths):
        scan = _scanner(Path(path).suffix.lower())
        if scan is None:
            skipped.append(SkippedFile(path, "not a Python, JavaScript, TypeScript or Go "
                                             "file"))
            continue
        try:
            size = os.path.getsize(path)
            if size > max_file_bytes:
                skipped.append(SkippedFile(path, f"larger than {max_file_bytes:,} bytes"))
                continue
            with open(path, "rb") as handle:
                source = handle.read(max_file_bytes + 1)
        except OSError as exc:
            skipped.append(SkippedFile(path, f"unreadable: {exc.strerror or exc}"))
            continue
        scanned.append(path)
        sites += scan(source, path)
    calls = tuple(match_site(s, catalog) for s in sites)
    return ScanReport(calls=tuple(sorted(calls, key=lambda c: c.site.location)),
                      files_scanned=len(scanned), skipped=tuple(skipped),
                      catalog=f"{catalog.name} {catalog.version}".strip(),
                      max_file_bytes=max_file_bytes, files=tuple(scanned))


def match_site(call: CallSite, catalog: Catalog) -> ScannedCall:
    """A call site matched to the catalog by the audit's router; never guessed: a call whose
    method or target is not known is undetermined."""
    if call.method is None or call.target is None:
        return ScannedCall(call, CallStatus.UNDETERMINED)
    found = catalog.router.match(call.method, call.target)
    if found.kind is MatchKind.MATCHED and found.operation is not None:
        return ScannedCall(call, CallStatus.MATCHED, found.path, found.operation)
    return ScannedCall(call, CallStatus.UNMATCHED, found.path)


def scan_code(paths: Iterable[str], catalog: Catalog, keys: tuple[Key, ...] = (),
              key_id: str | None = None, keys_source: str | None = None,
              max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
              key_option: str = "--key-id") -> ScanReport:
    """Scan ``paths`` and check the calls against the keys: every call against ``key_id``,
    or each call against the keys whose ``code:`` globs name its file. ``key_option`` is
    the option that gives ``key_id`` (named when no key can be chosen)."""
    from dataclasses import replace

    report = scan_paths(paths, catalog, max_file_bytes)
    if key_id is not None:
        chosen = tuple(k for k in keys if k.id == key_id)
        if not chosen:
            raise InputError(f"no key with id {key_id!r}", file=keys_source)
        everything = True
    else:
        chosen = tuple(k for k in keys if k.code)
        if keys and not chosen:
            raise InputError(f"no key names its code (`code:` globs); give {key_option}",
                             file=keys_source)
        everything = False
    checked = tuple(k.id for k in chosen if everything or any(
        covers(k, c.site.location.file) for c in report.calls))
    return replace(report, findings=check_keys(report.calls, chosen, everything),
                   keys=checked)
