"""The scanned code of each key, for ``audit --code``: which files (and so which calls) are
whose, by the one ``--code-key`` named or by each key's ``code:`` globs.

The scan itself, the key choice and the SA401/SA402 findings are ``scan_code``'s, as
``scopeaudit scan`` makes them; this module only shares the files out among the keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scopeaudit.catalog.model import Catalog
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.model import CodeSummary, Key
from scopeaudit.scan import scan_code
from scopeaudit.scan.findings import covers
from scopeaudit.scan.model import DEFAULT_MAX_FILE_BYTES, KeyCalls, ScanReport

CODE_KEY_OPTION = "--code-key"


@dataclass(frozen=True)
class CodeScan:
    """The code an audit read: the scan (findings checked against the keys) and each key's
    share of it. Only keys some scanned file belongs to are in ``by_key``."""

    paths: tuple[str, ...]
    report: ScanReport
    by_key: Mapping[str, KeyCalls]
    code_key: str | None  # --code-key: every file is that key's; None: code: globs

    def summary(self) -> CodeSummary:
        return CodeSummary(
            paths=self.paths, files=self.report.files_scanned,
            skipped=len(self.report.skipped), calls=len(self.report.calls),
            unresolved=sum(1 for c in self.report.calls if c.operation is None),
            code_key=self.code_key, keys=tuple(self.by_key))


def scan_for_audit(paths: Iterable[str], catalog: Catalog, keys: tuple[Key, ...],
                   code_key: str | None, keys_source: str, diagnostics: Diagnostics,
                   max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> CodeScan:
    """Scan ``paths`` and give each file to its key: every file to ``code_key``, else each
    file to the keys whose ``code:`` globs name it. A file no key claims and a key whose
    globs name no scanned file are warned about: neither says anything of the key's use."""
    given = tuple(paths)
    report = scan_code(given, catalog, keys, code_key, keys_source, max_file_bytes,
                       key_option=CODE_KEY_OPTION)
    owners = [k for k in keys if k.id == code_key] if code_key is not None else \
        [k for k in keys if k.code]
    by_key: dict[str, KeyCalls] = {}
    for key in owners:
        files = tuple(f for f in report.files if code_key is not None or covers(key, f))
        if not files:
            diagnostics.warn(f"key {key.id!r}: its `code:` globs name none of the scanned "
                             f"files ({', '.join(key.code)}); its code is not judged")
            continue
        mine = frozenset(files)
        by_key.setdefault(key.id, KeyCalls(files, tuple(
            c for c in report.calls if c.site.location.file in mine)))
    claimed = {f for calls in by_key.values() for f in calls.files}
    unclaimed = [c for c in report.calls if c.site.location.file not in claimed]
    if unclaimed:
        where = sorted({c.site.location.file for c in unclaimed})
        diagnostics.warn(f"{len(unclaimed)} API call(s) in {len(where)} file(s) no key's "
                         f"`code:` globs name ({', '.join(where[:3])}"
                         f"{', …' if len(where) > 3 else ''}): not judged against a key; "
                         f"give {CODE_KEY_OPTION} or add the globs")
    return CodeScan(given, report, by_key, code_key)
