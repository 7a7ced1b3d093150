"""Shared fixtures: the example organisation's logs and its audit, built once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from scopeaudit.model import Audit

ROOT = Path(__file__).resolve().parents[1]
NGINX_FORMAT = ('$remote_addr $http_x_key_id [$time_local] "$request" $status '
                '$body_bytes_sent "$http_user_agent"')
AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="session")
def example_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/generate.py's logs, written once to a temporary folder."""
    out = tmp_path_factory.mktemp("example-logs")
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--out", str(out)],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def example_audit(example_logs: Path) -> Audit:
    """The Audit value of the example organisation, as the README's main job computes it,
    with paths as a user in the repository root would type them: examples/keys.yaml and
    examples/logs/… (see normalise)."""
    from scopeaudit.audit import AuditOptions, LogOptions, analyse, read_usage
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import load_inventory
    from scopeaudit.rules.inventory_rules import LintSettings

    with _cwd(example_logs.parent):
        logs_dir = example_logs.name
        diagnostics = Diagnostics()
        catalog = load_builtin()
        inventory = load_inventory(str(ROOT / "examples" / "keys.yaml"), None, diagnostics)
        inventory = _relabel(inventory, "examples/keys.yaml")
        options = LogOptions(paths=(f"{logs_dir}/gateway-*.jsonl.gz",
                                    f"{logs_dir}/edge-nginx.log.gz"),
                             log_formats=(f"*.log.gz=nginx:{NGINX_FORMAT}",), jobs=1)
        usage, stats, records, requests = read_usage(inventory, catalog, options, diagnostics)
        audit = analyse(inventory, catalog, usage, stats, (records, requests),
                        AuditOptions(lint=LintSettings(as_of=AS_OF)), diagnostics,
                        timestamp=False)
    return _rename_logs(audit, logs_dir)


@pytest.fixture(scope="session")
def example_lint() -> Audit:
    """The lint Audit of examples/keys.yaml (no logs)."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import load_inventory
    from scopeaudit.lint import lint
    from scopeaudit.rules.inventory_rules import LintSettings

    with _cwd(ROOT):
        diagnostics = Diagnostics()
        inventory = load_inventory("examples/keys.yaml", None, diagnostics)
        return lint(inventory, load_builtin(), LintSettings(as_of=AS_OF), diagnostics,
                    timestamp=False)


def normalise(text: str) -> str:
    """Golden-file normalisation: the tool's version, nothing else varies (paths are fixed by
    the fixtures, timestamps are off)."""
    from scopeaudit import __version__

    return text.replace(__version__, "<version>")


class _cwd:
    def __init__(self, path: Path) -> None:
        self.path, self.old = path, Path.cwd()

    def __enter__(self) -> None:
        os.chdir(self.path)

    def __exit__(self, *_: object) -> None:
        os.chdir(self.old)


def _relabel(inventory, source: str):  # type: ignore[no-untyped-def]
    """The inventory as if read from ``source`` (locations included)."""
    from dataclasses import replace

    from scopeaudit.model import Location

    def loc(location: Location) -> Location:
        return replace(location, file=source)

    keys = tuple(
        replace(k, location=loc(k.location),
                scope_grants=tuple(replace(g, location=loc(g.location)) for g in k.scope_grants))
        for k in inventory.keys
    )
    return replace(inventory, source=source, keys=keys)


def _rename_logs(audit: Audit, logs_dir: str) -> Audit:
    """Log paths as examples/logs/… whatever the temporary folder was called."""
    import dataclasses
    import json

    from scopeaudit.render import RenderOptions
    from scopeaudit.render.json_render import render_json

    # Round-trip only the strings that hold the folder name; the dataclasses stay typed.
    def fix(value: str) -> str:
        return value.replace(f"{logs_dir}/", "examples/logs/")

    inputs = tuple(dataclasses.replace(i, path=fix(i.path),
                                       source=fix(i.source) if i.source else i.source)
                   for i in audit.inputs)
    verdicts = tuple(dataclasses.replace(v, sources=tuple(
        dataclasses.replace(u, source=fix(u.source)) for u in v.sources))
        for v in audit.verdicts)
    evidence = audit.evidence
    if evidence is not None:
        evidence = dataclasses.replace(evidence, sources=tuple(
            dataclasses.replace(s, name=fix(s.name)) for s in evidence.sources))
    findings = tuple(
        dataclasses.replace(
            f, message=fix(f.message), discriminator=fix(f.discriminator),
            location=dataclasses.replace(f.location, file=fix(f.location.file)))
        for f in audit.findings)
    coverage = audit.coverage
    if coverage is not None:
        coverage = dataclasses.replace(
            coverage, by_input={fix(k): v for k, v in coverage.by_input.items()})
    warnings = tuple(fix(w) for w in audit.warnings)
    renamed = dataclasses.replace(audit, inputs=inputs, findings=findings, coverage=coverage,
                                  warnings=warnings, verdicts=verdicts, evidence=evidence)
    assert logs_dir not in render_json(renamed, RenderOptions()), json.dumps("leftover path")
    return renamed
