"""The Markdown report: golden files, the md filter, hostile inputs, the size budget and
custom templates through the command line."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from conftest import normalise
from scopeaudit.errors import InputError
from scopeaudit.model import (
    Audit,
    ClientSummary,
    Finding,
    InputFile,
    Location,
    RemovalConfidence,
    ScopeGrant,
    Severity,
    sorted_findings,
)
from scopeaudit.render import RenderOptions, markdown
from scopeaudit.render.markdown import ZWJ, md, render_markdown
from support import check_golden as check_golden_file

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


# ---------------------------------------------------------------------------------------------
# helpers


def check_golden(name: str, text: str) -> None:
    check_golden_file(GOLDEN / name, text)


def cells(row: str) -> int:
    """Cell delimiters in a GFM table row, as GitHub splits it: a backslash escapes the next
    character (``\\|`` is a literal pipe, ``\\\\|`` an escaped backslash and a delimiter)."""
    count, i = 0, 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        if row[i] == "|":
            count += 1
        i += 1
    return count


def tables(text: str) -> list[list[str]]:
    """Every table: runs of consecutive lines that start with a pipe."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def assert_tables_intact(text: str) -> None:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        # a table ends at a blank line: a row broken in two would leave a stray line after it
        if line.startswith("|") and index + 1 < len(lines):
            following = lines[index + 1]
            assert following.startswith("|") or following == "", (line, following)
    for table in tables(text):
        assert len(table) >= 2 and re.fullmatch(r"(\|-+:?)+\|", table[1]), table[:2]
        widths = {cells(row) for row in table}
        assert widths == {cells(table[0])}, table


MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")
ISSUE = re.compile(r"#[0-9]")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str) -> None:
    """What no report may contain, whatever its inputs."""
    assert "<" not in text  # the template writes no HTML; every input's < is &lt;
    assert not MENTION.search(text), MENTION.search(text)
    assert not ISSUE.search(text), ISSUE.search(text)
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "&amp;amp;" not in text and "&amp;lt;" not in text  # nothing escaped twice
    assert_tables_intact(text)


def render(audit: Audit, template_dir: Path | None = None) -> str:
    return render_markdown(audit, RenderOptions(template_dir=template_dir))


# ---------------------------------------------------------------------------------------------
# golden files


def test_golden_example_audit(example_audit: Audit) -> None:
    text = normalise(render(example_audit))
    check_golden("example.md", text)


def test_golden_example_lint(example_lint: Audit) -> None:
    text = normalise(render(example_lint))
    check_golden("example-lint.md", text)


def test_example_reports_are_inert_and_small(example_audit: Audit, example_lint: Audit) -> None:
    for audit in (example_audit, example_lint):
        text = render(audit)
        assert_inert(text)
        assert len(text.encode()) < 65_536  # fits even a pull-request comment
        assert "Truncated" not in text


def test_lint_leaves_out_what_needs_usage(example_lint: Audit, example_audit: Audit) -> None:
    lint_text, audit_text = render(example_lint), render(example_audit)
    for needs_usage in ("- **Window:**", "- **Coverage:**", "- **Requests read:**",
                        "- **Replay:**",
                        "### Keys with something to do", "days with data",
                        "would be refused", "Nothing to do for"):
        assert needs_usage not in lint_text
        assert needs_usage in audit_text
    assert "### Findings" in lint_text and "- **Malformed records skipped:** none" in lint_text
    # lint checks definitions: nothing was audited
    assert "- **Keys checked:** 11 " in lint_text and "Keys audited" not in lint_text
    assert "- **Keys audited:** 11 " in audit_text
    # no table with an empty header row (GitHub draws it as an empty row)
    assert "| | |" not in lint_text and "| | |" not in audit_text


def test_audit_sections_follow_the_verdicts(example_audit: Audit) -> None:
    text = render(example_audit)
    assert ("- **Replay:** 403,963 accepted requests replayed against the recommended scopes: "
            "0 would be refused (130 matched no operation and could not be checked)\n") in text
    assert "- **Coverage:** logs cover 89 of 90 days (99%); gaps: 2026-10-03\n" in text
    # per-key sections: the keys with removals, refusals, unknown use or findings above info
    headings = re.findall(r"^#### (\S+)", text, flags=re.MULTILINE)
    assert headings == [r"key\_bi\_export:", r"key\_sensor\_gw:", r"key\_ticket\_sync:",
                        r"key\_mobile\_backend:", r"key\_field\_app:", r"key\_platform\_admin:",
                        r"key\_scheduler:", r"key\_dashboard:", r"key\_inspections:"]
    assert r"Nothing to do for key\_zapier, key\_hr\_sync." in text
    # the findings table keeps the Audit's order: most severe first
    rows = [r for r in text.split("\n") if r.startswith("| critical") or r.startswith("| high")
            or r.startswith("| medium") or r.startswith("| low") or r.startswith("| info")]
    assert [r.split(" | ")[0][2:] for r in rows] == \
        [f.severity.value for f in example_audit.findings]
    assert "| low, deferred |" in text  # key_inspections: SA108


# ---------------------------------------------------------------------------------------------
# the md filter


def test_md_returns_markup_escaped_once() -> None:
    out = md("R&D <script>alert(1)</script>")
    assert isinstance(out, Markup)
    assert out == "R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;"
    assert md(out) == out  # Markup in, unchanged: never escaped twice
    assert md("&amp;") == "&amp;amp;"  # a literal entity stays literal text


@pytest.mark.parametrize(("raw", "expected"), [
    ("*bold*", r"\*bold\*"),
    ("_x_", r"\_x\_"),
    ("[link](http://x)", r"\[link\](http://x)"),
    ("![img](x)", r"\!\[img\](x)"),
    ("`code`", r"\`code\`"),
    ("a|b", r"a\|b"),
    ("~~s~~", r"\~\~s\~\~"),
    ("$x$", r"\$x\$"),
    ("back\\slash", r"back\\slash"),
    ("# heading", r"\# heading"),
    ("- item", r"\- item"),
    ("+ item", r"\+ item"),
    ("= x", r"\= x"),
    ("1. item", r"1\. item"),
    ("12) item", r"12\) item"),
    ("  3. item", r"  3\. item"),
    ("v1.2", "v1.2"),  # only a leading marker
    ("a - b", "a - b"),
    ('"><img src=x onerror=alert(1)>', '"&gt;&lt;img src=x onerror=alert(1)&gt;'),
])
def test_md_escapes_markdown(raw: str, expected: str) -> None:
    assert md(raw) == expected


def test_md_neutralises_mentions_and_issue_links() -> None:
    assert md("@org/team") == f"@{ZWJ}org/team"
    assert md("ping @alice, (@bob)") == f"ping @{ZWJ}alice, (@{ZWJ}bob)"
    assert md("owner@example.com") == "owner@example.com"  # an address pings nobody
    assert md("#1") == f"\\#{ZWJ}1"
    assert md("fixes #123 and #x") == f"fixes \\#{ZWJ}123 and \\#x"


def test_md_makes_control_characters_visible() -> None:
    assert md("a\nb") == r"a\\x0ab"
    assert md("\x1b[31mred") == r"\\x1b\[31mred"
    assert md("nul\x00") == r"nul\\x00"
    assert md("cr\r\ttab") == r"cr\\x0d\\x09tab"
    assert md("rtl\u202eevil") == r"rtl\\u202eevil"
    assert md("line\u2028sep") == r"line\\u2028sep"


def test_md_truncates() -> None:
    long = "a" * 10_000
    out = md(long)
    assert out == "a" * 199 + "…"
    assert md(long, 500) == "a" * 499 + "…"
    assert md("a" * 200) == "a" * 200
    assert md(None) == "" and md(42) == "42"


def _decode(text: str) -> str:
    """md's output as GitHub shows it: escapes resolved, entities decoded, joiners gone."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i + 1])
            i += 2
            continue
        for entity, char in (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            if text.startswith(entity, i):
                out.append(char)
                i += len(entity)
                break
        else:
            if text[i] != ZWJ:
                out.append(text[i])
            i += 1
    return "".join(out)


def _visible(text: str) -> str:
    # the characters render/text.py escapes: CONTROL, the line break, and the zero-width and
    # invisible formatting ones (md's own joiners aside, which the strategy leaves out)
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}")
        if CONTROL.match(c) or c in "\n\u200b\u200c\u200e\u200f\u2060\u2061\u2062\u2063"
                                    "\u2064\ufeff" else c
        for c in text)


@given(st.text(st.characters(blacklist_characters=ZWJ), max_size=300))
def test_md_is_inert_and_faithful(text: str) -> None:
    out = str(md(text))
    assert "<" not in out and ">" not in out and "\n" not in out
    assert not MENTION.search(out) and not ISSUE.search(out)
    assert not CONTROL.search(out)
    assert cells(out) == 0  # no pipe that could split a table cell
    shown = text if len(text) <= 200 else text[:199] + "…"
    assert _decode(out) == _visible(shown)


@given(st.text(alphabet="@#-+=1.)<>&|\\`*_ a", max_size=40))
def test_md_in_a_table_cell_keeps_one_cell(text: str) -> None:
    row = f"| {md(text)} | x |"
    assert cells(row) == 3
    stripped = str(md(text)).lstrip(" ")
    assert not re.match(r"([-+=]|[0-9]+[.)])", stripped)  # no list or heading marker


# ---------------------------------------------------------------------------------------------
# hostile inputs through the whole report

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "a|b|c",
    "`rm -rf`",
    "@org/team",
    "#1",
    "*bold*",
    "[link](http://x)",
    "\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "two\nlines\r\n| forged | row |",
    "R&D",
    "- 1. # heading",
    "x" * 10_000,
]


def _hostile_audit(audit: Audit, s: str) -> Audit:
    """``audit`` with ``s`` in every user-controlled string the Markdown report shows."""
    key = audit.keys[0]
    hostile_id = s + "-id"
    loc = Location(s + ".yaml", 7)
    keys = (dataclasses.replace(key, id=hostile_id, name=s, owner=s, location=loc,
                                scope_grants=(ScopeGrant(s, loc), *key.scope_grants)),
            *audit.keys[1:])
    verdicts = audit.verdicts
    if verdicts:
        first = verdicts[0]
        verdicts = (dataclasses.replace(
            first, key_id=hostile_id,
            states={**first.states, s: "unused", s + "-unknown": "unknown",
                    s + "-denied": "denied"},
            remove=(s, *first.remove),
            confidence={**first.confidence, s: RemovalConfidence("high", s)},
            undeclared=(s,),
            first_seen=s, last_seen=s,
            clients=(ClientSummary(s + " @ 192.0.2.0/24", 5, (), s, s), *first.clients),
            client_count=None,  # as many as it lists, the hostile one too
            unmatched=((s, 3),)), *verdicts[1:])
    findings = sorted_findings([
        dataclasses.replace(f, key=s, scope=s, message=s, location=Location(s, 3))
        if i < 3 else f for i, f in enumerate(audit.findings)])
    inputs = tuple(dataclasses.replace(i, path=s, skipped=2, skipped_lines=(4, 9))
                   if i.kind == "logs" and n == 1 else i
                   for n, i in enumerate(audit.inputs))
    inputs = (*inputs, InputFile(s, "logs", "0" * 64, 1))
    replay = audit.replay
    if replay is not None:
        replay = dataclasses.replace(replay, would_be_denied=1, denied_shapes=((s, s, 1),))
    catalog = dataclasses.replace(audit.catalog, name=s, source=s)
    return dataclasses.replace(audit, keys=keys, verdicts=verdicts, findings=findings,
                               inputs=inputs, replay=replay, catalog=catalog,
                               warnings=(s, *audit.warnings))


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda s: repr(s[:20]))
@pytest.mark.parametrize("mode", ["audit", "lint"])
def test_hostile_strings_stay_text(example_audit: Audit, example_lint: Audit, hostile: str,
                                   mode: str) -> None:
    audit = _hostile_audit(example_audit if mode == "audit" else example_lint, hostile)
    text = render(audit)
    assert_inert(text)
    shown = str(md(hostile))
    # every place shows it, escaped: names, scopes, messages, paths, warnings, ...
    assert text.count(shown) >= (12 if mode == "audit" else 6), text
    assert max(len(line) for line in text.split("\n")) < 20_000
    if mode == "audit":
        assert "replayed against the recommended scopes, 1 accepted request would be refused." \
            in text
    if "&" in hostile:
        assert "R&amp;D" in text and "R&D" not in text and "R&amp;amp;D" not in text
    if "@" in hostile:
        assert f"@{ZWJ}org/team" in text
    if hostile.startswith("x" * 100):
        # cells are cut at 200 characters, sentences (messages, bases, warnings) at 500
        assert "x" * 199 + "…" in text and "x" * 499 + "…" in text and "x" * 500 not in text


def test_hostile_user_agent_and_request_shape_in_key_section(example_audit: Audit) -> None:
    text = render(_hostile_audit(example_audit, "<b>ua</b> @evil #7"))
    section = text.split("#### ")[1]
    escaped = f"&lt;b&gt;ua&lt;/b&gt; @{ZWJ}evil \\#{ZWJ}7"
    assert f"**Clients:** 2: {escaped} @ 192.0.2.0/24 (5 requests)" in section
    assert f"**Requests matching no operation:** {escaped} (3)" in section
    assert f"| {escaped} | high | {escaped} |" in section


# ---------------------------------------------------------------------------------------------
# the size budget


def _huge_audit(audit: Audit, count: int = 5_000) -> Audit:
    """``count`` keys, verdicts and findings, built from the example's own values."""
    base_key = next(k for k in audit.keys if k.id == "key_platform_admin")
    base_verdict = next(v for v in audit.verdicts if v.key_id == "key_platform_admin")
    ids = [f"key_{n:05d}" for n in range(count)]
    keys = tuple(dataclasses.replace(base_key, id=i) for i in ids)
    verdicts = tuple(dataclasses.replace(base_verdict, key_id=i) for i in ids)
    severities = list(Severity)
    scopes = ", ".join(base_key.granted)
    findings = sorted_findings([
        Finding("SA108", "insufficient-evidence", severities[n % len(severities)],
                f"removal of {scopes} from key {i!r} deferred: the evidence is too thin",
                Location("keys.yaml", n + 1), key=i)
        for n, i in enumerate(ids)])
    return dataclasses.replace(audit, keys=keys, verdicts=verdicts, findings=findings)


def test_huge_audit_is_summarised_under_the_budget(example_audit: Audit) -> None:
    audit = _huge_audit(example_audit)
    text = render(audit)
    size = len(text.encode())
    assert size <= markdown.BUDGET_BYTES
    assert size > markdown.BUDGET_BYTES * 0.9  # summarised, not gutted
    assert_inert(text)
    note = re.search(r"Truncated:\*\* ([0-9,]+) findings and ([0-9,]+) key sections left out; "
                     r"see the JSON or HTML report\.", text)
    assert note is not None
    left_findings, left_sections = (int(g.replace(",", "")) for g in note.groups())
    assert text.count("**Truncated:**") == 2  # under the verdict, and at the end
    sections = re.findall(r"^#### key\\_(\d+):", text, flags=re.MULTILINE)
    assert sections == [f"{n:05d}" for n in range(markdown.KEY_SECTIONS_WHEN_TRUNCATED)]
    assert left_sections == 5_000 - markdown.KEY_SECTIONS_WHEN_TRUNCATED
    rows = [line for line in text.split("\n") if line.startswith("| ")
            and "SA108 insufficient-evidence" in line]
    assert 0 < len(rows) < 5_000 and len(rows) + left_findings == 5_000
    # the rows kept are the most severe: the Audit's own order, cut at the end
    kept = [f"| {f.severity.value} | SA108 insufficient-evidence | {md(f.key)} |"
            for f in audit.findings[: len(rows)]]
    assert [r[: len(k)] for r, k in zip(rows, kept, strict=True)] == kept
    assert rows[0].startswith("| critical") and not any(r.startswith("| info") for r in rows)
    # the summary still counts everything
    assert "- **Findings:** 5,000 (1,000 critical, 1,000 high, 1,000 medium, 1,000 low, " \
           "1,000 info)\n" in text
    assert "- **Keys audited:** 5,000 " in text


def test_budget_cuts_findings_after_key_sections(example_audit: Audit) -> None:
    view = markdown.build_view(example_audit)

    def show(v: markdown.MarkdownView) -> str:
        return markdown.render_view(v, None)

    full = show(view)
    # room for the nine key sections but not for every finding
    without_findings = show(dataclasses.replace(view, findings=()))
    budget = len(without_findings.encode()) + 2_000
    assert len(full.encode()) > budget
    text = markdown.fit_to_budget(view, show, budget)
    assert len(text.encode()) <= budget
    assert text.count("\n#### ") == len(view.key_sections)
    rows = sum(1 for line in text.split("\n") if re.match(r"\| (critical|high|medium|low|info)",
                                                          line))
    assert 0 < rows < len(view.findings)
    assert f"**Truncated:** {len(view.findings) - rows} findings and 0 key sections left out" \
        in text
    # tighter: findings go first, then key sections
    tight = markdown.fit_to_budget(view, show, 6_000)
    assert len(tight.encode()) <= 6_000
    total = len(view.findings)
    assert f"All {total} findings were left out to fit the size limit." in tight
    assert f"**Truncated:** {total} findings and" in tight
    assert_inert(tight)


def test_custom_template_over_the_budget_whatever_is_cut(example_lint: Audit,
                                                         tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        # 1.2 MB whatever the view holds (one range() may give at most 100,000 items)
        "{% for n in range(1200) %}{% for m in range(100) %}0123456789{% endfor %}"
        "{% endfor %}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        render(example_lint, tmp_path)
    assert str(exc.value).startswith(f"{tmp_path / 'report.md.j2'}: the Markdown report is over")


def test_budget_too_small_for_anything_is_an_error(example_audit: Audit) -> None:
    view = markdown.build_view(example_audit)
    with pytest.raises(InputError, match="over 100 bytes"):
        markdown.fit_to_budget(view, lambda v: markdown.render_view(v, None), 100)


# ---------------------------------------------------------------------------------------------
# custom templates through the command line


def lint_markdown(template_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scopeaudit", "lint", "--keys", "examples/keys.yaml",
         "--as-of", "2026-11-27", "--format", "markdown", "--template-dir", str(template_dir)],
        cwd=ROOT, capture_output=True, text=True)


def test_custom_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("# Keys\n\n{% for f in view.findings %}\n{{ f.rule }\n",
                                           encoding="utf-8")
    proc = lint_markdown(tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert f"{tmp_path / 'report.md.j2'}:4: template syntax error" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_custom_template_runtime_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("# Keys\n\n{{ view.no_such_field }}\n",
                                           encoding="utf-8")
    proc = lint_markdown(tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"{tmp_path / 'report.md.j2'}:3: template error" in proc.stderr
    assert "no_such_field" in proc.stderr and "Traceback" not in proc.stderr


def test_custom_template_missing_names_the_template(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("not this one", encoding="utf-8")
    proc = lint_markdown(tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "report.md.j2" in proc.stderr and "not found" in proc.stderr
    assert proc.stdout == ""


def test_custom_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        "Custom {{ view.mode }}: {{ view.findings|length }} findings\n"
        "{% for f in view.findings %}\n* {{ f.key|md }} {{ f.rule }} {{ f.severity }}\n"
        "{% endfor %}\n",
        encoding="utf-8")
    proc = lint_markdown(tmp_path)
    assert proc.returncode == 1, proc.stderr  # high findings; the report itself worked
    lines = proc.stdout.splitlines()
    assert lines[0] == "Custom lint: 11 findings"
    assert lines[1] == r"* key\_field\_app SA201 high"
    assert len(lines) == 12


def test_template_dir_that_is_not_a_directory(tmp_path: Path) -> None:
    proc = lint_markdown(tmp_path / "nowhere")
    assert proc.returncode == 2 and "--template-dir is not a directory" in proc.stderr


def test_builtin_template_through_the_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scopeaudit", "lint", "--keys", "examples/keys.yaml", "--as-of",
         "2026-11-27", "--format", "markdown", "--no-timestamp"],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("## scopeaudit lint report\n")
    assert_inert(proc.stdout)


def test_every_input_string_in_the_template_goes_through_md() -> None:
    """A reviewer's guard on report.md.j2: a view field holding input text is never printed
    bare (the hostile tests catch it only for the fields they fill)."""
    source = (ROOT / "reports" / "templates" / "report.md.j2").read_text(encoding="utf-8")
    text_fields = {"key_id", "name", "owner", "file", "path", "kind", "client", "request",
                   "message", "key", "scope", "rule", "operation", "level", "basis",
                   "summary", "id", "catalog", "catalog_source", "first_seen", "last_seen"}
    list_fields = {"granted", "recommended", "used", "unknown", "denied", "undeclared",
                   "scopes", "quiet_keys", "keys_sources"}
    checked = 0
    for expr in re.findall(r"\{\{(.*?)\}\}", source, flags=re.DOTALL):
        for match in re.finditer(r"(\bif |\bnot )?\b(?:[a-z]|view)\.([a-z_]+)\b(\S*)", expr):
            condition, field, rest = match.groups()
            if condition:
                continue
            if field in text_fields:
                assert rest.startswith("|md"), f"{{{{{expr}}}}}: {field} printed without md"
                checked += 1
            elif field in list_fields:
                assert rest.startswith(('|map("md")', "|length")), f"{{{{{expr}}}}}: {field}"
                checked += 1
    assert checked > 30
    assert unicodedata.name(ZWJ) == "ZERO WIDTH JOINER"


def test_largest_by_size_finds_the_last_row_that_fits() -> None:
    # sizes by hand: 100 bytes of frame, then rows of 10, 10, 50, 10, 10 bytes
    sizes = [100, 110, 120, 170, 180, 190]
    for budget, want in ((100, 0), (119, 1), (120, 2), (169, 2), (170, 3), (189, 4),
                         (190, 5), (10_000, 5)):
        for guess in range(-1, 8):
            got = markdown._largest_by_size(5, sizes.__getitem__, budget, guess)
            assert got == want, (budget, guess)
    # rows that are alike: a good guess and the measured sizes find it in a few renders
    probes: list[int] = []
    alike = [300 + 190 * n + n % 7 for n in range(20_001)]
    got = markdown._largest_by_size(20_000, lambda n: probes.append(n) or alike[n],
                                    1_000_000, 5_000)
    assert alike[got] <= 1_000_000 < alike[got + 1]
    assert len(probes) <= 5


def test_a_report_far_over_budget_is_never_rendered_whole(example_audit: Audit) -> None:
    view = markdown.build_view(_huge_audit(example_audit))
    rendered: list[int] = []

    def show(v: markdown.MarkdownView) -> str:
        text = markdown.render_view(v, None)
        rendered.append(len(text.encode()))
        return text

    text = markdown.fit_to_budget(view, show)
    assert len(text.encode()) <= markdown.BUDGET_BYTES
    # every render was of a sample or near the budget, and there were few of them
    assert max(rendered) < 1.2 * markdown.BUDGET_BYTES
    assert len(rendered) <= 10


def test_a_cut_report_builds_only_the_rows_it_can_show(example_audit: Audit,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """At 5,000 keys and findings the budget shows 25 key sections and a part of the findings:
    the rows past the cut are never built (building them all was most of build_view's time
    at 1,000 keys), and the text is what the eager build gave."""
    audit = _huge_audit(example_audit)
    built = {"finding": 0, "key": 0}
    finding_row, key_section = markdown._finding_row, markdown._key_section

    def count_finding(f: Any) -> Any:
        built["finding"] += 1
        return finding_row(f)

    def count_key(v: Any, k: Any) -> Any:
        built["key"] += 1
        return key_section(v, k)

    monkeypatch.setattr(markdown, "_finding_row", count_finding)
    monkeypatch.setattr(markdown, "_key_section", count_key)
    text = render(audit)
    shown = sum(1 for line in text.split("\n") if "SA108 insufficient-evidence" in line
                and line.startswith("| "))
    assert 0 < shown < 5_000
    # the search for the cut may probe a little past the rows kept, never far
    assert shown <= built["finding"] < shown * 1.2
    assert built["key"] <= markdown.SAMPLE_ROWS < 5_000
    eager = markdown.build_view(audit)
    eager = dataclasses.replace(eager, findings=tuple(eager.findings),
                                marked_findings=tuple(eager.marked_findings),
                                key_sections=tuple(eager.key_sections))
    assert markdown.fit_to_budget(eager, lambda v: markdown.render_view(v, None)) == text


def test_lazy_rows_build_in_order_once() -> None:
    from scopeaudit.render.lazy_rows import LazyRows

    calls: list[int] = []
    rows = LazyRows(range(10), lambda n: calls.append(n) or n * n)
    assert len(rows) == 10 and rows.built == 0 and bool(rows)
    assert rows[:3] == (0, 1, 4) and calls == [0, 1, 2]
    assert rows[2] == 4 and rows[-1] == 81 and calls == list(range(10))
    assert list(rows) == [n * n for n in range(10)] and len(calls) == 10
    with pytest.raises(IndexError):
        rows[10]
