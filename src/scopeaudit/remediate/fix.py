"""``scopeaudit fix``: the key file rewritten to the audit's recommendation, proved safe.

Steps: the plan (plan.py) -> the edited text (one editor per format) -> the patched text
parsed as a key file and audited again in memory on the same usage (``rerun``) -> refused
unless no accepted request of the window would be refused and no finding gets worse ->
a unified diff (or Markdown for a PR body), or, with ``--apply``, an atomic write, refused if
the file changed since the audit read it.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scopeaudit.catalog.model import Catalog
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.evidence import still_allowed
from scopeaudit.inventory import KeysFormat, decode, parse_inventory
from scopeaudit.model import Audit, Inventory
from scopeaudit.remediate.plan import FixOptions, Plan, plan_fix
from scopeaudit.secrets import redact


@dataclass(frozen=True)
class Guard:
    """What the patched definitions do to the window: the accepted requests they would
    refuse (key, operation, requests) and the findings that get worse."""

    refused: tuple[tuple[str, str, int], ...]
    worse: tuple[str, ...]

    @property
    def requests_refused(self) -> int:
        return sum(n for _, _, n in self.refused)

    @property
    def safe(self) -> bool:
        return not self.refused and not self.worse


@dataclass(frozen=True)
class Fix:
    path: str
    original: bytes
    before: str
    after: str
    plan: Plan
    guard: Guard
    audit: Audit

    @property
    def changed(self) -> bool:
        return self.before != self.after


def keys_input(audit: Audit) -> tuple[str, str]:
    """(path, sha256) of the key file as the audit read it."""
    for item in audit.inputs:
        if item.kind == "keys":
            return item.path, item.sha256
    raise InputError("the audit names no key file")


def read_unchanged(path: str, sha256: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError("changed since the audit read it; run the fix again", file=path)
    return data


def edit(text: str, path: str, fmt: KeysFormat, plan: Plan, audit: Audit) -> str:
    if fmt is KeysFormat.YAML:
        from scopeaudit.remediate.yaml_edit import edit_yaml

        return edit_yaml(text, path, plan, audit)
    if fmt is KeysFormat.JSON:
        from scopeaudit.remediate.json_edit import edit_json

        return edit_json(text, path, plan)
    from scopeaudit.remediate.csv_edit import edit_csv

    return edit_csv(text, path, plan, audit)


def build_fix(audit: Audit, fmt: KeysFormat, catalog: Catalog, options: FixOptions,
              rerun: Callable[[Inventory], Audit],
              stage: Callable[[Plan], Plan] | None = None) -> Fix:
    """The fix for the audit's key file; ``rerun`` audits a patched inventory on the same
    usage, settings and window as ``audit``; ``stage`` narrows the plan to the announced
    removals (staged.py)."""
    from scopeaudit.http.policy import is_url

    path, sha256 = keys_input(audit)
    if is_url(path):
        raise InputError("fix edits a local key file; download it first", file=path)
    data = read_unchanged(path, sha256)
    text = decode(data, path)
    pins: frozenset[tuple[str, str]] = frozenset()
    if fmt is KeysFormat.YAML:
        from scopeaudit.remediate.yaml_edit import comment_pins

        pins = comment_pins(text, path)
    plan = plan_fix(audit, options, pins)
    if stage is not None:
        plan = stage(plan)
    after = edit(text, path, fmt, plan, audit) if not plan.empty else text
    guard = Guard((), ())
    if after != text:
        # The patched text is read exactly as the audit reads a key file (so it must still
        # be one), then judged against the same usage.
        patched = parse_inventory(_encode(after, data), path, fmt, Diagnostics())
        guard = check(audit, rerun(patched), catalog)
    return Fix(path, data, text, after, plan, guard, audit)


def check(original: Audit, patched: Audit, catalog: Catalog) -> Guard:
    """Every accepted request of the window replayed against the patched grants (the
    replay of evidence.still_allowed), plus the patched audit's own replay; and every
    finding of the patched audit compared with the original's by identity: one that is new
    or of a higher severity is worse."""
    ops = {op.id: op for op in catalog.operations}
    before = {k.id: frozenset(k.granted) for k in original.keys}
    after = {k.id: frozenset(k.granted) for k in patched.keys}
    refused: list[tuple[str, str, int]] = []
    for verdict in original.verdicts:
        for op_id, n in verdict.operations:
            op = ops.get(op_id)
            if op is not None and not still_allowed(op, before.get(verdict.key_id, frozenset()),
                                                    after.get(verdict.key_id, frozenset())):
                refused.append((verdict.key_id, op_id, n))
    refused.extend(patched.replay.denied_shapes if patched.replay else ())
    old = {f.fingerprint: f for f in original.findings}
    worse = []
    for f in patched.findings:
        was = old.get(f.fingerprint)
        if was is None:
            worse.append(f"new {f.rule} {f.name} ({f.severity.value}): {redact(f.message)}")
        elif was.severity < f.severity:
            worse.append(f"{f.rule} {f.name} {was.severity.value} -> {f.severity.value}: "
                         f"{redact(f.message)}")
    return Guard(tuple(sorted(set(refused))), tuple(worse))


def _encode(text: str, original: bytes) -> bytes:
    bom = codecs.BOM_UTF8 if original.startswith(codecs.BOM_UTF8) else b""
    return bom + text.encode("utf-8")


def refusal(fix: Fix) -> str | None:
    """Why the patch may not be used, or None."""
    if fix.guard.safe:
        return None
    parts = []
    if fix.guard.refused:
        shown = ", ".join(f"{k} {op} ({n})" for k, op, n in fix.guard.refused[:5])
        parts.append(f"it would refuse {fix.guard.requests_refused} accepted request(s) of "
                     f"the window: {shown}")
    if fix.guard.worse:
        parts.append("findings would get worse: " + "; ".join(fix.guard.worse[:5]))
    return "the patch is refused: " + " and ".join(parts)


def apply_fix(fix: Fix) -> None:
    """Write the patched file atomically (a temporary file in the same folder, then a
    rename), after reading it once more: a file changed since the audit read it is refused."""
    path, sha256 = keys_input(fix.audit)
    read_unchanged(path, sha256)
    target = Path(path)
    mode = target.stat().st_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".scopeaudit",
                               dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_encode(fix.after, fix.original))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unified_diff(fix: Fix) -> str:
    """The change as a unified diff (tokens in the file's lines redacted)."""
    lines = difflib.unified_diff(fix.before.splitlines(keepends=True),
                                 fix.after.splitlines(keepends=True),
                                 fromfile=f"a/{fix.path.lstrip('/')}",
                                 tofile=f"b/{fix.path.lstrip('/')}")
    out = []
    for line in lines:
        out.append(redact(line) if line.endswith("\n") else redact(line) + "\n"
                   "\\ No newline at end of file\n")
    return "".join(out)


def summary_lines(fix: Fix) -> list[str]:
    """What the plan does and holds back, one line each (stderr in the diff format)."""
    plan = fix.plan
    out = [f"{len(plan.removals)} scope(s) removed from "
           f"{len({r.key_id for r in plan.removals})} key(s), "
           f"{len(plan.revocations)} key(s) marked for revocation"]
    out += [f"pinned: {h.key_id} {h.scope} ({h.reason})" for h in plan.pinned]
    out += [f"not applied: {h.key_id}{' ' + h.scope if h.scope else ''} ({h.reason})"
            for h in plan.held]
    out += [f"announcement withdrawn: {h.key_id} {h.scope} ({h.reason})"
            for h in plan.withdrawn]
    if fix.changed:
        out.append(f"replay: {fix.guard.requests_refused} of the window's accepted requests "
                   "would be refused by the patched file; "
                   f"{len(fix.guard.worse)} finding(s) worse")
    return [redact(line) for line in out]


def render_markdown(fix: Fix) -> str:
    from scopeaudit.render.markdown import md

    audit = fix.audit
    window = audit.window
    out = [f"## scopeaudit fix: {md(fix.path)}", ""]
    if window is not None:
        out.append(f"Audit of {audit.as_of}, window {window.since} to {window.until} "
                   f"({window.days} days). Replayed against the patched file, "
                   f"{fix.guard.requests_refused} of the window's accepted requests would be "
                   f"refused and {len(fix.guard.worse)} finding(s) get worse.")
        out.append("")
    if fix.plan.removals:
        out += ["| key | scope removed | confidence | key's accepted requests |",
                "|---|---|---|---:|"]
        out += [f"| {md(r.key_id)} | {md(r.scope)} | {r.confidence} | {r.requests:,} |"
                for r in fix.plan.removals]
        out.append("")
    if fix.plan.revocations:
        out.append("**Marked for revocation** (no accepted request in the window): "
                   + ", ".join(str(md(r.key_id)) for r in fix.plan.revocations))
        out.append("")
    if fix.plan.pinned:
        out.append("**Pinned** (never removed):")
        out += [f"- {md(h.key_id)} {md(h.scope)}: {md(h.reason)}" for h in fix.plan.pinned]
        out.append("")
    if fix.plan.held:
        out.append("**Not applied:**")
        out += [f"- {md(h.key_id)}{' ' + md(h.scope) if h.scope else ''}: {md(h.reason)}"
                for h in fix.plan.held]
        out.append("")
    if fix.plan.withdrawn:
        out.append("**Announcements withdrawn** (used since they were announced):")
        out += [f"- {md(h.key_id)} {md(h.scope)}: {md(h.reason)}" for h in fix.plan.withdrawn]
        out.append("")
    diff = unified_diff(fix)
    if diff:
        runs = [len(m) for m in re.findall(r"`+", diff)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        out += [f"{fence}diff", diff.rstrip("\n"), fence]
    else:
        out.append("No change.")
    return "\n".join(out) + "\n"
