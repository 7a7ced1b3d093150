"""A JSON report (the contract ``scopeaudit/audit/v1``) read back into the Audit value, so
that one run's result can be rendered again in any format (``scopeaudit render``): the
GitHub Action audits once and writes SARIF, Markdown and the gate's exit code from it.

The contract is versioned: a document of another schema (or none) is refused, naming the
file. What the contract does not carry comes back as the CLI makes it: the rule metadata
from the registry, the default confidence policy, each granted scope on its key's line, and a
key's client count as the clients listed. Findings keep the fingerprints they were written
with (the baseline and the history compare those).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.model import (
    Audit,
    CatalogInfo,
    ClientSummary,
    CodeSummary,
    Coverage,
    Drift,
    DriftFinding,
    EvidenceQuality,
    Finding,
    InputFile,
    Key,
    KeyCode,
    KeyVerdict,
    Location,
    MissingSource,
    PreviousRun,
    PriorUse,
    RemovalConfidence,
    Replay,
    ScopeGrant,
    Severity,
    SourceSummary,
    SourceUse,
    UsageSummary,
    Window,
)
from scopeaudit.rules.registry import all_rules

SCHEMA_ID = "scopeaudit/audit/v1"  # as render.json_render writes it (a test keeps them equal)


@dataclass(frozen=True)
class ReadFinding(Finding):
    """A finding read from a report: its fingerprint as written (the rule's discriminator,
    which it is made from, is not part of the contract)."""

    written_fingerprint: str = ""

    @property
    def fingerprint(self) -> str:
        return self.written_fingerprint


def read_audit_report(path: str) -> Audit:
    """The Audit a ``--format json`` report holds; an InputError naming the file otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else _stdin()
    except FileNotFoundError:
        raise InputError("no such report", file=path) from None
    except IsADirectoryError:
        raise InputError("a folder, not a report (a --format json file)", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text, so no JSON report", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the report: {exc}", file=path) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # json's messages can stop short ("Unterminated string starting at"): the column
        # finishes the sentence
        where = (f" column {exc.colno}" if exc.msg.endswith(" at")
                 else f" (column {exc.colno})")
        raise InputError(f"invalid JSON: {exc.msg}{where}", file=path,
                         line=exc.lineno) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", file=path) from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema != SCHEMA_ID:
        found = f"schema {schema!r}" if isinstance(schema, str) else "no schema"
        raise InputError(f"not a scopeaudit audit report: expected schema {SCHEMA_ID}, found "
                         f"{found:.80} (write one with `--format json`)", file=path)
    try:
        return _audit(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"not a valid {SCHEMA_ID} report: {what:.200}", file=path) from None


def _stdin() -> str:
    import sys

    return sys.stdin.read()


def _location(d: dict[str, Any]) -> Location:
    return Location(str(d["file"]), int(d["line"]))


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _finding(d: dict[str, Any]) -> Finding:
    return ReadFinding(
        rule=d["rule"], name=d["name"], severity=Severity(d["severity"]),
        message=d["message"], location=_location(d["location"]), key=d["key"],
        scope=d["scope"], confidence=d["confidence"], evidence=d["evidence"],
        suppressed=bool(d["suppressed"]), suppression_reason=d["suppression_reason"],
        baselined=bool(d["baselined"]), written_fingerprint=str(d["fingerprint"]))


def _key(d: dict[str, Any]) -> Key:
    where = _location(d["location"])
    return Key(id=d["id"], location=where,
               scope_grants=tuple(ScopeGrant(s, where) for s in d["granted"]),
               name=d["name"], owner=d["owner"], created=_day(d["created"]),
               expires=_day(d["expires"]), tags=tuple(d["tags"]))


def _prior(d: dict[str, Any] | None) -> PriorUse | None:
    return None if d is None else PriorUse(d["last_used"], d["days_before"],
                                           d["interval_days"])


def _pairs(items: list[dict[str, Any]], name: str) -> tuple[tuple[str, int], ...]:
    return tuple((i[name], i["requests"]) for i in items)


def _verdict(d: dict[str, Any]) -> KeyVerdict | None:
    if "scopes" not in d:
        return None  # lint: a key without a verdict
    code = d.get("code")
    return KeyVerdict(
        key_id=d["id"], states=dict(d["scopes"]), recommended=tuple(d["recommended"]),
        remove=tuple(d["remove"]), undeclared=tuple(d["undeclared"]),
        confidence={s: RemovalConfidence(c["level"], c["basis"])
                    for s, c in d["confidence"].items()},
        accepted=d["requests"]["accepted"], denied=d["requests"]["denied"],
        unauthorized=d["requests"]["unauthorized"], first_seen=d["first_seen"],
        last_seen=d["last_seen"], active_days=d["active_days"],
        clients=tuple(ClientSummary(c["client"], c["requests"],
                                    _pairs(c["operations"], "operation"), c["first_seen"],
                                    c["last_seen"]) for c in d["clients"]),
        operations=_pairs(d["operations"], "operation"),
        unmatched=_pairs(d["unmatched"], "request"),
        sources=tuple(SourceUse(s["source"], s["days"], s["last_seen"]) for s in d["sources"]),
        before_window=_prior(d["before_window"]),
        scopes_before_window={s: p for s, raw in d["scopes_before_window"].items()
                              if (p := _prior(raw)) is not None},
        code=None if code is None else KeyCode(
            code["files"], code["calls"], code["unresolved"],
            {s: tuple(_location(x) for x in sites)
             for s, sites in code["call_sites"].items()}))


def _input(d: dict[str, Any]) -> InputFile:
    return InputFile(
        path=d["path"], kind=d["kind"], sha256=d["sha256"], records=d["records"],
        skipped=d["skipped"], skipped_lines=tuple(d["skipped_lines"]),
        skip_reasons=tuple((r["reason"], r["count"]) for r in d.get("skip_reasons", ())),
        source=d.get("source"), accepted=d.get("accepted", 0),
        unattributed=d.get("unattributed", 0), key_field=d.get("key_field"),
        log_format=d.get("format"), time_zone=d.get("time_zone"))


def _evidence(d: dict[str, Any] | None) -> EvidenceQuality | None:
    if d is None:
        return None
    return EvidenceQuality(
        records=d["records"], skipped=d["skipped"], accepted=d["accepted"],
        unattributed=d["unattributed"], max_unattributed=d["max_unattributed"],
        sources=tuple(SourceSummary(s["name"], s["inputs"], s["days"], s["declared"])
                      for s in d["sources"]),
        missing_sources=tuple(MissingSource(m["name"], tuple(m["keys"]), m["last_seen"])
                              for m in d["missing_sources"]),
        limits=tuple(d["limits"]), supports_removals=d["supports_removals"])


def _drift_finding(d: dict[str, Any]) -> DriftFinding:
    return DriftFinding(d["fingerprint"], d["rule"], d["key"], d["scope"], d["severity"],
                        d.get("first_seen"), d.get("resolved_at"))


def _drift(d: dict[str, Any] | None) -> Drift | None:
    if d is None:
        return None
    prev = d["previous_run"]
    over = d["over_privilege"]
    return Drift(
        previous_run=None if prev is None else PreviousRun(prev["id"], prev["run_at"],
                                                           prev["tool_version"]),
        new=tuple(_drift_finding(x) for x in d["new"]),
        persisting=tuple(_drift_finding(x) for x in d["persisting"]),
        resolved=tuple(_drift_finding(x) for x in d["resolved"]),
        regressed=tuple(_drift_finding(x) for x in d["regressed"]),
        keys_added=tuple(d["keys_added"]), keys_removed=tuple(d["keys_removed"]),
        scopes_granted=tuple((x["key"], x["scope"]) for x in d["scopes_granted"]),
        scopes_revoked=tuple((x["key"], x["scope"]) for x in d["scopes_revoked"]),
        unused_scopes=over["unused_scopes"], over_privilege=over["score"],
        over_privilege_by_key=dict(over["by_key"]),
        previous_unused_scopes=over["previous_unused_scopes"],
        previous_over_privilege=over["previous_score"])


def _audit(doc: dict[str, Any]) -> Audit:
    keys = [d for d in doc["keys"]]
    cat = doc["catalog"]
    window = doc["window"]
    cov = doc["coverage"]
    usage = doc["usage"]
    replay = doc["replay"]
    code = doc.get("code")
    verdicts = tuple(v for d in keys if (v := _verdict(d)) is not None)
    return Audit(
        mode=doc["mode"], tool_version=doc["tool"]["version"],
        as_of=date.fromisoformat(doc["as_of"]),
        inputs=tuple(_input(i) for i in doc["inputs"]),
        catalog=CatalogInfo(cat["name"], cat["version"], cat["source"], cat["operations"],
                            cat["scopes"], dict(cat["provenance"])),
        keys=tuple(_key(d) for d in keys),
        findings=tuple(_finding(f) for f in doc["findings"]),
        warnings=tuple(doc["warnings"]),
        generated_at=doc.get("generated_at"),
        window=None if window is None else Window(date.fromisoformat(window["since"]),
                                                  date.fromisoformat(window["until"])),
        coverage=None if cov is None else Coverage(
            cov["days_with_data"], cov["days_in_window"],
            tuple((date.fromisoformat(g["from"]), date.fromisoformat(g["to"]))
                  for g in cov["gaps"]), dict(cov["by_input"])),
        verdicts=verdicts,
        replay=None if replay is None else Replay(
            replay["requests"], replay["would_be_denied"], replay["unverifiable"],
            tuple((r["key"], r["operation"], r["requests"])
                  for r in replay["would_be_denied_requests"])),
        usage=None if usage is None else UsageSummary(
            usage["records"], usage["requests"], usage["in_window"], usage["outside_window"],
            usage["unattributed"], usage["preflight"], usage["unknown_keys"]),
        rules=all_rules(include_code=code is not None),
        disabled_rules=tuple(doc["gate"]["disabled_rules"]),
        config_path=doc["gate"]["config"],
        drift=_drift(doc["drift"]),
        evidence=_evidence(doc["evidence"]),
        code=None if code is None else CodeSummary(
            tuple(code["paths"]), code["files"], code["skipped"], code["calls"],
            code["unresolved"], code["code_key"], tuple(code["keys"])))
