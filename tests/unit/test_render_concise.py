"""``--format concise``: one line per finding, ``file:line: RULE [severity] message``."""

from __future__ import annotations

import dataclasses

from scopeaudit.model import Audit
from scopeaudit.render import OutputFormat, RenderOptions, renderer_for


def test_one_line_per_finding(example_audit: Audit) -> None:
    text = renderer_for(OutputFormat("concise"))(example_audit, RenderOptions())
    lines = text.splitlines()
    assert len(lines) == len(example_audit.findings) == 29
    # written by hand from the example's SA101 finding (examples/keys.yaml line 73)
    assert "examples/keys.yaml:73: SA101 [high] key 'key_platform_admin' made no accepted " \
           "request in the window; it grants 26 scopes, 13 of them write scopes" in lines
    assert lines[0].startswith("examples/logs/edge-nginx.log.gz:61323: SA301 [critical] ")


def test_marks_baselined_and_shows_invisible_characters(example_audit: Audit) -> None:
    f = dataclasses.replace(example_audit.findings[0], message="evil\x1b[2Jtext",
                            baselined=True)
    text = renderer_for(OutputFormat.CONCISE)(
        dataclasses.replace(example_audit, findings=(f,)), RenderOptions())
    assert text.endswith(": SA301 [critical] evil\\x1b[2Jtext [baselined]\n")
    assert "\x1b" not in text
    assert renderer_for(OutputFormat.CONCISE)(
        dataclasses.replace(example_audit, findings=()), RenderOptions()) == ""
