"""The actions section every human report opens with (issue #19, item 1), and the deferred
removals' own name, "watch", in the table, the Markdown and the HTML."""

from __future__ import annotations

import dataclasses

import pytest

from scopeaudit.model import Audit, RemovalConfidence
from scopeaudit.render import RenderOptions
from scopeaudit.render.actions import build_actions
from scopeaudit.render.html import render_html
from scopeaudit.render.markdown import render_markdown
from scopeaudit.render.table import render_table


def test_example_actions_by_risk(example_audit: Audit) -> None:
    actions = build_actions(example_audit)
    # by hand from examples/keys.yaml: key_platform_admin made no request and holds all 26
    # scopes (13 write: risk 13*3 + 13 = 52); key_mobile_backend loses logs:write and three
    # reads (3+3 = 6); key_bi_export issues:write (3); the other three one read each (1),
    # then by key id
    assert [(a.kind, a.key_id, a.risk) for a in actions.actions] == [
        ("revoke", "key_platform_admin", 52), ("remove", "key_mobile_backend", 6),
        ("remove", "key_bi_export", 3), ("remove", "key_field_app", 1),
        ("remove", "key_sensor_gw", 1), ("remove", "key_ticket_sync", 1)]
    assert actions.actions[0].count == "26 scopes, 13 write"
    assert actions.actions[1].scopes == ("assets:read", "checkins:read", "logs:read",
                                         "logs:write")
    # the two low-confidence removals (created mid-window; expired early): watch, apart
    assert [(a.kind, a.key_id, a.scopes, a.level) for a in actions.watch] == [
        ("watch", "key_dashboard", ("checkins:read", "sensors:read"), "low"),
        ("watch", "key_inspections", ("assets:read", "sites:read"), "low")]
    assert all(a.basis for a in (*actions.actions, *actions.watch))


def test_an_unused_key_with_a_deferred_removal_is_not_revoked(example_audit: Audit) -> None:
    """Revoking takes every scope: with one removal deferred it is not advice to act on, so
    the firm removals are listed and the deferred one is watched."""
    verdicts = []
    for v in example_audit.verdicts:
        if v.key_id == "key_platform_admin":
            conf = dict(v.confidence)
            conf["works:read"] = RemovalConfidence("low", "thin")
            v = dataclasses.replace(v, confidence=conf)
        verdicts.append(v)
    actions = build_actions(dataclasses.replace(example_audit, verdicts=tuple(verdicts)))
    admin = [a for a in actions.actions if a.key_id == "key_platform_admin"]
    assert [(a.kind, len(a.scopes)) for a in admin] == [("remove", 25)]
    assert [(a.kind, a.scopes) for a in actions.watch if a.key_id == "key_platform_admin"] \
        == [("watch", ("works:read",))]


def test_lint_has_no_actions(example_lint: Audit) -> None:
    assert not build_actions(example_lint)
    assert "Actions" not in render_table(example_lint, RenderOptions())
    assert "### Actions" not in render_markdown(example_lint, RenderOptions())
    assert 'id="actions"' not in render_html(example_lint, RenderOptions())


@pytest.fixture(scope="module")
def table(example_audit: Audit) -> str:
    return render_table(example_audit, RenderOptions())


def test_table_opens_with_the_actions(table: str) -> None:
    lines = table.splitlines()
    assert lines[0].startswith("Evidence:")  # the evidence line still leads
    assert lines[2] == "Actions, riskiest first:"
    assert lines[3].startswith("  1. revoke key key_platform_admin: no accepted request in "
                               "the window (26 scopes, 13 write) [confidence high]")
    assert lines[4].startswith("     basis: key existed for the whole window (90 days)")
    watch = lines.index("Watch (removals deferred for thin evidence, SA108; not advice yet):")
    assert lines[watch + 1].startswith("  - watch checkins:read, sensors:read on key "
                                       "key_dashboard")
    assert table.index("Actions, riskiest first:") < table.index("Window ")


def test_table_remove_column_leaves_out_deferred_removals(table: str) -> None:
    header = next(line for line in table.splitlines() if line.startswith("key "))
    assert header.split()[6:9] == ["remove", "confidence", "watch"]
    row = next(line for line in table.splitlines() if line.startswith("key_dashboard "))
    # remove "-", confidence "-", watch the two deferred scopes
    assert row.split()[6:10] == ["-", "-", "checkins:read,", "sensors:read"]


def test_markdown_opens_with_the_actions(example_audit: Audit) -> None:
    text = render_markdown(example_audit, RenderOptions())
    assert text.index("Evidence:") < text.index("### Actions") < text.index("### Summary")
    actions = text.split("### Actions\n\n")[1].split("\n\n")[0].splitlines()
    assert len(actions) == 6
    assert actions[0].startswith("1. **Revoke** key key\\_platform\\_admin: no accepted "
                                 "request in the window (26 scopes, 13 write). Confidence "
                                 "**high**: key existed for the whole window")
    assert actions[2].startswith("3. **Remove** issues:write from key key\\_bi\\_export "
                                 "(1 scope, 1 write). Confidence **high**")
    assert "**◇ Watch** (removals deferred for thin evidence, SA108" in text
    assert "- checkins:read, sensors:read on key key\\_dashboard (2 scopes): unused, not yet " \
           "recommended. Confidence low: key expired 2026-09-01" in text
    # the key's own section: nothing to remove yet, the two scopes watched
    section = text.split("#### key\\_dashboard")[1].split("#### ")[0]
    assert "**Remove:** nothing yet." in section
    assert "| checkins:read, sensors:read | low, deferred |" in section
    assert "**Remove (" not in section
