"""A real browser reads the built book offline: headless Chromium (Debian's) loads every chapter, and every
plotly figure must draw, its slider must switch settings, every equation must render, and nothing may fail:
no JavaScript error, no failed request, no request that leaves the machine. A full-page screenshot of each
chapter is kept under _build/screenshots/ as the test's artifact.

The live fits (chapters 1 and 3): the reader's browser retrains the model in JavaScript when a slider moves, and
the figure changes, with no request at all (also from a ``file://`` address).

Runs after `make book` (`make test` does both); skipped when there is no built book.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = subprocess.run(
    [sys.executable, str(ROOT / "tools" / "execute_chapters.py"), "--list"],
    cwd=ROOT,
    capture_output=True,
    text=True,
    check=True,
).stdout.split()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _live_widgets_in(notebook_path: Path) -> int:
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum(
        output.get("data", {}).get("text/html", "").count('class="toymodels-live"')
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


LIVE_CHAPTERS = [chapter for chapter in CHAPTERS if _live_widgets_in(ROOT / chapter)]


def _figures_in(notebook_path: Path) -> int:
    """Plotly figures the chapter shows (outputs of cells hidden with remove-output excluded)."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum(
        len(re.findall(r'class="plotly-graph-div"', output.get("data", {}).get("text/html", "")))
        for cell in notebook.cells
        if cell.cell_type == "code" and "remove-output" not in cell.metadata.get("tags", [])
        for output in cell.outputs
    )


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").exists():
        pytest.skip("no built book: run `make book` first (`make test` does)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make chromium` installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageLog:
    """Everything a page reported that means it did not work."""

    def __init__(self, page, site_url: str) -> None:
        self.problems: list[str] = []
        local = urlparse(site_url).netloc
        page.on("console", lambda message: message.type == "error" and self.problems.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"failed request: {request.url}"))

        def route(route) -> None:  # an honest offline reader: nothing but the site itself
            if urlparse(route.request.url).netloc in (local, "") or route.request.url.startswith("data:"):
                route.continue_()
            else:
                self.problems.append(f"request off the site: {route.request.url}")
                route.abort()

        page.route("**/*", route)


def _open(browser, site_url: str, path: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog(page, site_url)
    page.goto(f"{site_url}/{path}", wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, log


def test_index_page_loads_cleanly(browser, site_url):
    page, log = _open(browser, site_url, "index.html")
    page.wait_for_timeout(300)
    assert log.problems == []
    for chapter in CHAPTERS:
        assert page.locator(f'a[href*="{Path(chapter).stem}.html"]').count() > 0, f"{chapter} is not in the navigation"
    page.close()


# Neighbouring cells of a table whose texts are closer than this (px) read as one number ("0.00025165.24").
MIN_CELL_GAP = 6
TABLE_GAPS = f"""() => {{
    const fused = [];
    for (const table of document.querySelectorAll('table.toymodels-table')) {{
        for (const row of table.rows) {{
            let previous = null;
            for (const cell of row.cells) {{
                const range = document.createRange();
                range.selectNodeContents(cell);
                const box = range.getBoundingClientRect();
                if (box.width === 0) {{ previous = null; continue; }}
                if (previous && box.left - previous.box.right < {MIN_CELL_GAP})
                    fused.push(previous.text + ' | ' + cell.textContent);
                previous = {{box, text: cell.textContent}};
            }}
        }}
    }}
    return fused;
}}"""


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[Path(chapter).stem for chapter in CHAPTERS])
def test_chapter_draws_every_figure_and_equation_offline(browser, site_url, chapter):
    path = str(Path(chapter).with_suffix(".html"))
    page, log = _open(browser, site_url, path)
    expected = _figures_in(ROOT / chapter)
    assert expected > 0, f"{chapter} shows no figure"

    # Figures: plotly.js (served from _static) drew an SVG of non-zero size in every figure div.
    page.wait_for_function("window.Plotly !== undefined", timeout=10_000)
    figures = page.evaluate("""() => [...document.querySelectorAll('.plotly-graph-div')].map(gd => ({
        id: gd.id, drawn: !!gd._fullLayout && gd.querySelector('svg.main-svg') !== null,
        height: gd.getBoundingClientRect().height, sliders: (gd.layout.sliders || []).length,
        traces: gd.data.length}))""")
    assert len(figures) == expected, f"{chapter}: {len(figures)} figure divs on the page, {expected} in the notebook"
    for figure in figures:
        assert figure["drawn"] and figure["height"] > 100, f"{chapter}: figure {figure['id']} did not draw: {figure}"

    # Every slider switches its figure to another setting (the precomputed traces, no kernel); 3-D ones included.
    for slider in (figure for figure in figures if figure["sliders"]):
        gd = f"document.getElementById('{slider['id']}')"
        before = page.evaluate(f"{gd}.data.map(t => t.visible)")
        rail = page.locator(f"#{slider['id']} .slider-rail-touch-rect").first
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        page.mouse.click(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)
        active = page.evaluate(f"{gd}._fullLayout.sliders[0].active")
        after = page.evaluate(f"{gd}.data.map(t => t.visible)")
        assert active > 0 and after != before, f"{chapter}: clicking the slider of {slider['id']} did not change it"

    # Equations: MathJax (served from _static) typeset every one, without errors.
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.document", timeout=10_000)
    page.evaluate("MathJax.startup.promise")
    math = page.evaluate("""() => ({sources: document.querySelectorAll('.math').length,
        rendered: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror').length})""")
    assert math["sources"] > 0 and math["rendered"] >= math["sources"], f"{chapter}: equations not rendered: {math}"
    assert math["errors"] == 0, f"{chapter}: MathJax reported {math['errors']} errors"

    # Tables: a visible gap between the texts of neighbouring cells (the book's toymodels.css pads them).
    fused = page.evaluate(TABLE_GAPS)
    assert fused == [], f"{chapter}: table cells closer than {MIN_CELL_GAP} px read as one: {fused[:5]}"

    # The live-kernel widget is not shown in the static book.
    assert page.locator(".jupyter-widgets, .widget-area").count() == 0, f"{chapter}: a dead widget is on the page"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{Path(chapter).stem}.png"), full_page=True)
    page.close()
    assert log.problems == [], f"{chapter}: " + "\n".join(log.problems)


def _live_state(page) -> dict:
    return page.evaluate("""() => { const w = document.querySelector('div.toymodels-live');
        const gd = w.querySelector('.toymodels-live-figure');
        return {state: w.dataset.state, updates: Number(w.dataset.updates || 0), seconds: Number(w.dataset.seconds),
                tips: gd.data.filter(t => t.mode === 'markers').map(t => Array.from(t.x)),
                title: gd.layout.title.text, status: w.querySelector('.toymodels-live-status').textContent}; }""")


def _wait_for_update(page, updates: int) -> dict:
    page.wait_for_function(
        f"(() => {{ const w = document.querySelector('div.toymodels-live'); "
        f"return w.dataset.state === 'done' && Number(w.dataset.updates) > {updates}; }})()",
        timeout=30_000,
    )
    return _live_state(page)


@pytest.mark.parametrize("chapter", LIVE_CHAPTERS, ids=[Path(chapter).stem for chapter in LIVE_CHAPTERS])
def test_live_fit_retrains_in_the_browser_when_a_slider_moves(browser, site_url, chapter):
    page, log = _open(browser, site_url, str(Path(chapter).with_suffix(".html")))
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    widget = page.locator("div.toymodels-live").first
    widget.scroll_into_view_if_needed()  # the first fit starts when the widget comes into view
    first = _wait_for_update(page, 0)
    assert first["status"].startswith("Live fit") and "Live fit" in first["title"], "label the live fit as such"
    requests.clear()

    slider = widget.locator("input[type=range]").first
    slider.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")  # each step retrains; a newer move cancels the older fit
    second = _wait_for_update(page, first["updates"])
    assert second["tips"] != first["tips"], f"{chapter}: moving a live slider did not change the figure"
    assert requests == [], f"{chapter}: the live fit requested {requests}"
    assert second["seconds"] < 5, f"{chapter}: one live update took {second['seconds']} s"
    page.close()
    assert log.problems == [], f"{chapter}: " + "\n".join(log.problems)


@pytest.mark.parametrize("chapter", LIVE_CHAPTERS[:1], ids=[Path(chapter).stem for chapter in LIVE_CHAPTERS[:1]])
def test_live_fit_works_from_a_file_address(browser, chapter):
    if not (SITE / "index.html").exists():
        pytest.skip("no built book: run `make book` first (`make test` does)")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("request", lambda request: request.url.startswith("file:") or problems.append(f"request {request.url}"))
    page.goto((SITE / Path(chapter).with_suffix(".html")).as_uri(), wait_until="load")
    page.locator("div.toymodels-live").first.scroll_into_view_if_needed()
    state = _wait_for_update(page, 0)
    assert state["tips"] and state["status"].startswith("Live fit")
    page.close()
    assert problems == [], "\n".join(problems)


def test_the_table_gap_rule_finds_fused_numbers(browser, site_url):
    """The rule above on a page made to break it: the theme's own ~1 px of cell padding fuses numbers."""
    page, _ = _open(browser, site_url, "book/08_computation.html")
    assert page.evaluate(TABLE_GAPS) == []
    page.add_style_tag(content="table.toymodels-table th, table.toymodels-table td { padding: 1px !important; }")
    assert len(page.evaluate(TABLE_GAPS)) > 10
    page.close()
