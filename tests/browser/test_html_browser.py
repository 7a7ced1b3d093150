"""The HTML report in a real browser: Debian's Chromium, headless, driven by Playwright.

It opens the example audit's report from a file:// URL with nothing else reachable, and checks
what only a browser can: that the inline script runs under the report's own
Content-Security-Policy without a console error, that the severity filter hides rows, that a
header click sorts, that with JavaScript off every row shows, and that the print view shows
every row even when a filter is on. It leaves a full-page screenshot and a PDF of the print
view in tests/_artifacts/ (gitignored) for a person to look at.

Never a downloaded browser: the test skips, saying why, unless /usr/bin/chromium (Debian's
``chromium`` package; .ci/run installs it) and the ``playwright`` module are both present.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scopeaudit.model import Audit
from scopeaudit.render import RenderOptions
from scopeaudit.render.html import render_html

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROWS = "#findings-table tbody tr"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright module is missing (pip install "
                                          "playwright, part of the test extra)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_url(example_audit: Audit, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(example_audit, RenderOptions()), encoding="utf-8")
    return path.as_uri()


class Page:
    """A page with everything it logged and every request it tried recorded."""

    def __init__(self, browser: Any, url: str, *, javascript: bool = True) -> None:
        self.context = browser.new_context(java_script_enabled=javascript,
                                           viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        self.url = url

    def visible_rows(self) -> int:
        count: int = self.page.locator(f"{ROWS}:visible").count()
        return count

    def column(self, index: int) -> list[str]:
        # textContent, not innerText: the table is laid out lazily (content-visibility),
        # and a cell's innerText is empty until it has been
        texts: list[str] = self.page.locator(f"{ROWS}:visible td:nth-child({index})") \
            .all_text_contents()
        return [t.strip() for t in texts]

    def assert_clean(self) -> None:
        assert self.errors == []
        assert [m for m in self.console if m[0] == "error"] == []
        assert self.requests == [self.url]  # the file itself, nothing else

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser: Any, report_url: str) -> Iterator[Page]:
    p = Page(browser, report_url)
    yield p
    p.close()


def test_script_runs_under_the_policy_without_errors(page: Page, example_audit: Audit) -> None:
    # the script ran (the CSP allowed it by hash): the filters are shown and filled in
    assert page.page.locator("#findings-filter").is_visible()
    options = page.page.locator("#filter-key option").all_inner_texts()
    assert options[0] == "all"
    # keys by name, as the chart and matrix name them, the id beside it
    names = {k.id: k.name or k.id for k in example_audit.keys}
    ids = {f.key for f in example_audit.findings if f.key}
    assert options[1:] == [names[i] + f" ({i})" if names.get(i, i) != i else i
                           for i in sorted(ids, key=lambda i: (names.get(i, i), i))]
    assert "BI export (Looker) (key_bi_export)" in options  # by hand: examples/keys.yaml
    status = page.page.locator("#findings-count").inner_text()
    assert status == f"Showing all {len(example_audit.findings)} findings."
    page.assert_clean()


def test_severity_filter_is_a_threshold(page: Page, example_audit: Audit) -> None:
    total = len(example_audit.findings)
    assert page.visible_rows() == total
    page.page.select_option("#filter-severity", "critical")
    critical = sum(1 for f in example_audit.findings if f.severity.value == "critical")
    assert critical == 2
    assert page.visible_rows() == critical
    assert page.column(1) == ["critical"] * critical
    assert page.page.locator("#findings-count").inner_text() == \
        f"Showing {critical} of {total} findings."
    # "high and above" keeps the critical ones: a threshold, not an exact match
    page.page.select_option("#filter-severity", "high")
    high = sum(1 for f in example_audit.findings if f.severity.value in ("critical", "high"))
    assert high == 9 and page.visible_rows() == high
    assert set(page.column(1)) == {"critical", "high"}
    labels = page.page.locator("#filter-severity option").all_inner_texts()
    assert labels == ["all", "critical", "high and above", "medium and above", "low and above",
                      "info and above"]
    # a rule on top of it narrows further; the reset button shows everything again
    page.page.select_option("#filter-severity", "medium")
    page.page.select_option("#filter-rule", "SA102")
    expected = sum(1 for f in example_audit.findings
                   if f.severity.value in ("critical", "high", "medium") and f.rule == "SA102")
    assert expected > sum(1 for f in example_audit.findings
                          if f.severity.value == "medium" and f.rule == "SA102")
    assert 0 < page.visible_rows() == expected
    page.page.click("#filter-reset")
    assert page.visible_rows() == total
    # the free-text box and the key box
    page.page.fill("#filter-text", "secret-in-logs")
    assert page.visible_rows() == 2
    page.page.click("#filter-reset")
    page.page.select_option("#filter-key", "key_platform_admin")
    assert page.visible_rows() == sum(1 for f in example_audit.findings
                                      if f.key == "key_platform_admin") >= 4
    page.assert_clean()


def test_clicking_a_header_sorts(page: Page, example_audit: Audit) -> None:
    keys_before = page.column(3)
    assert keys_before != sorted(keys_before)  # by severity first: not in key order
    header = page.page.locator("#findings-table th[data-sort=key] button")
    header.click()
    keys = page.column(3)
    assert keys == sorted(keys, key=lambda k: "" if k == "–" else k)
    assert sorted(keys) == sorted(keys_before)  # the same rows, reordered
    assert page.page.locator("#findings-table th[data-sort=key]").get_attribute(
        "aria-sort") == "ascending"
    header.click()
    assert page.column(3) == sorted(keys, key=lambda k: "" if k == "–" else k, reverse=True)
    assert page.page.locator("#findings-table th[data-sort=key]").get_attribute(
        "aria-sort") == "descending"
    # location sorts by file, then by line as a number
    page.page.locator("#findings-table th[data-sort=location] button").click()
    located = [(f.location.file, f.location.line) for f in example_audit.findings]
    assert page.column(5) == [f"{file}:{line}" for file, line in sorted(located)]
    # back to severity: most severe first
    page.page.locator("#findings-table th[data-sort=severity] button").click()
    order = ["critical", "high", "medium", "low", "info"]
    severities = page.column(1)
    assert severities == sorted(severities, key=order.index)
    page.assert_clean()


def test_without_javascript_every_row_shows(browser: Any, report_url: str,
                                            example_audit: Audit) -> None:
    p = Page(browser, report_url, javascript=False)
    try:
        assert p.visible_rows() == len(example_audit.findings)
        assert not p.page.locator("#findings-filter").is_visible()
        assert p.page.locator("#matrix-table tbody tr").count() == len(example_audit.verdicts)
        assert p.page.locator("#overview svg g.bar").count() == len(example_audit.verdicts)
        p.assert_clean()
    finally:
        p.close()


def test_print_view_shows_every_row_and_hides_the_controls(page: Page,
                                                           example_audit: Audit) -> None:
    page.page.select_option("#filter-severity", "critical")
    assert page.visible_rows() == 2
    page.page.emulate_media(media="print")
    assert page.visible_rows() == len(example_audit.findings)
    assert not page.page.locator("#findings-filter").is_visible()
    assert not page.page.locator("nav.toc").is_visible()
    # nothing fixed or sticky that would repeat over the printed rows
    positions = page.page.evaluate(
        "Array.from(document.querySelectorAll('body *'), e => getComputedStyle(e).position)")
    assert not {"fixed", "sticky"} & set(positions)
    page.assert_clean()


def test_screenshot_and_pdf_for_review(page: Page) -> None:
    """Not an assertion of looks: the images a person reviews (see the report's notes)."""
    ARTIFACTS.mkdir(exist_ok=True)
    png, pdf = ARTIFACTS / "report.png", ARTIFACTS / "report.pdf"
    page.page.screenshot(path=str(png), full_page=True)
    page.page.emulate_media(media="print")
    page.page.pdf(path=str(pdf), format="A4", print_background=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
    page.assert_clean()


def test_actions_on_the_first_screen_and_deferred_removals_marked_apart(page: Page) -> None:
    """The first screen answers "what to do": the actions list is in the first viewport; a
    deferred removal has its own mark and colour (watch, blue), never the removal's red."""
    p = page.page
    first = p.locator("#actions ol.actions li").first
    assert first.is_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # inside the first screen
    assert first.inner_text().startswith("Revoke key key_platform_admin")
    watch = p.locator("#actions ul.watch li")
    assert watch.count() == 2
    colour = "el => getComputedStyle(el).backgroundColor"
    removal_red = p.locator("#matrix-table td.s-x").first.evaluate(colour)
    watch_cells = p.locator("#matrix-table td.s-w")
    # key_dashboard's two and key_inspections' two deferred scopes
    assert watch_cells.count() == 4
    assert set(watch_cells.all_inner_texts()) == {"◇"}
    assert watch_cells.first.evaluate(colour) != removal_red
    assert p.locator("#key-10 h4", has_text="Watch (2)").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "actions.png"))
    p.locator("#matrix").screenshot(path=str(ARTIFACTS / "matrix.png"))
    page.assert_clean()


def test_matrix_cells_have_their_states_colours(page: Page, example_audit: Audit) -> None:
    """Each cell shows its state's colours, the legend's swatch with the same symbol: a cell
    with its state's class, a bare cell of its row's most common state (the row's d-x class),
    and a not-granted cell alike."""
    colours = ("els => els.map(e => [e.textContent, getComputedStyle(e).backgroundColor, "
               "getComputedStyle(e).color])")
    legend = {symbol: (bg, fg) for symbol, bg, fg in
              page.page.locator("#matrix .legend .swatch").evaluate_all(colours)}
    cells = page.page.locator("#matrix-table tbody td").evaluate_all(colours)
    assert len(cells) == len(example_audit.verdicts) * 27
    assert len({bg for _, bg, _ in cells}) == 6  # used, unused, watch, unknown, denied, none
    for symbol, bg, fg in cells:
        assert (bg, fg) == legend[symbol], symbol
    # key_platform_admin: 25 of its 27 cells unused, written bare in a d-x row
    assert page.page.locator("#matrix-table tr.d-x").count() == 1
    page.assert_clean()


def test_the_printed_review_is_packed(page: Page, example_audit: Audit) -> None:
    """The example's review PDF (A4) was 25 pages: a card alone on a page, the findings as
    evidence dumps, every rule explained. Whole cards, packed; the rules with findings."""
    page.page.emulate_media(media="print")
    pdf = page.page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert 8 <= pages <= 14, pages
    # a card is never split across pages (whole, not cut), and the appendix explains only
    # the rules that found something
    assert page.page.evaluate(
        "getComputedStyle(document.querySelector('article.card')).breakInside") == "avoid"
    rules = page.page.locator("#method dl.rules dt").count()
    assert rules == len({f.rule for f in example_audit.findings})
    page.assert_clean()
