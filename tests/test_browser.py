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


def _outputs_with(notebook_path: Path, marker: str) -> int:
    """How often ``marker`` occurs in the HTML outputs of the notebook's code cells."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum(
        output.get("data", {}).get("text/html", "").count(marker)
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def _live_widgets_in(notebook_path: Path) -> int:
    return _outputs_with(notebook_path, 'class="toymodels-live"')


def _playgrounds_in(notebook_path: Path) -> int:
    return _outputs_with(notebook_path, 'id="live-playground-')


# Chapters with slider live fits (a playground is driven by its own tests below).
LIVE_CHAPTERS = [chapter for chapter in CHAPTERS if _live_widgets_in(ROOT / chapter) > _playgrounds_in(ROOT / chapter)]
PLAYGROUND = "book/14_playground.ipynb"  # the page; chapters may hold playgrounds with fewer controls
EMBEDDED_PLAYGROUNDS = [chapter for chapter in CHAPTERS if chapter != PLAYGROUND and _playgrounds_in(ROOT / chapter)]


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


# The layout rules of one drawn figure (tests/layout_check.js): overlapping or cut text, raw subscripts, a legend
# that hides entries, axis ranges that do not fit their data. (A slider frame's own labels are the figure builders'
# job: toymodels.kit.panels sets them in every step, tested in test_plots.py.)
LAYOUT_CHECK = (ROOT / "tests" / "layout_check.js").read_text()
WIDTHS = (1280, 400)  # a laptop, and a phone (figures keep 600 px there and scroll sideways: toymodels.css)
MAX_FIGURE_HEIGHT = 1400  # px: about one and a half screens
MAX_PAGE_HEIGHT = 12_600  # px at 1280 (aim ~12,000): long tables fold (toymodels.kit.Table), long chapters split
TEXT_COLUMN = 688  # px: the book's text column at 1280


def _layout_problems(page, gd_id: str) -> list[str]:
    return page.evaluate(f"({LAYOUT_CHECK})(document.getElementById('{gd_id}'))")


def _slider_ends(page, gd_id: str) -> list[tuple[int, int]]:
    """(slider, step) of the first and last step of each of a figure's sliders."""
    lengths = page.evaluate(f"(document.getElementById('{gd_id}').layout.sliders || []).map(s => s.steps.length)")
    return [(slider, step) for slider, count in enumerate(lengths) for step in sorted({0, count - 1})]


def _choose_step(page, gd_id: str, slider: int, step: int) -> None:
    """What a reader's click on that step does: the step's own plotly call, and the slider moved there."""
    page.evaluate(f"""async () => {{ const gd = document.getElementById('{gd_id}');
        const chosen = gd.layout.sliders[{slider}].steps[{step}];
        await Plotly[chosen.method](gd, ...chosen.args);
        await Plotly.relayout(gd, {{'sliders[{slider}].active': {step}}}); }}""")


def check_page_layout(page, width: int) -> list[str]:
    """Every layout rule on every figure of the open page (at each end of each slider), its figures' heights,
    and at 1280 px its tables' widths and the page's height."""
    problems = []
    for index, gd_id in enumerate(page.evaluate("[...document.querySelectorAll('.plotly-graph-div')].map(g => g.id)")):
        name = f"figure {index + 1} ({gd_id})"
        height = page.evaluate(f"document.getElementById('{gd_id}').getBoundingClientRect().height")
        if height > MAX_FIGURE_HEIGHT:
            problems.append(f"{name} is {height:.0f} px tall (at most {MAX_FIGURE_HEIGHT})")
        positions = [("as drawn", None)] + [
            (f"slider {s + 1} at step {k + 1}", (s, k)) for s, k in _slider_ends(page, gd_id)
        ]
        for where, position in positions:
            if position is not None:
                _choose_step(page, gd_id, *position)
            problems += [f"{name}, {where}: {problem}" for problem in _layout_problems(page, gd_id)]
    if width == 1280:
        for caption, table_width in page.evaluate(TABLE_WIDTHS):
            if table_width > TEXT_COLUMN + 1:
                problems.append(f'the table "{caption}" is {table_width:.0f} px wide (the column: {TEXT_COLUMN})')
        for cell in page.evaluate(TABLE_SUBSCRIPTS):
            problems.append(f'the table cell "{cell}" shows a raw underscore subscript')
        page_height = page.evaluate("document.documentElement.scrollHeight")
        if page_height > MAX_PAGE_HEIGHT:
            problems.append(f"the page is {page_height} px long (at most {MAX_PAGE_HEIGHT}): split it or fold tables")
    return list(dict.fromkeys(problems))


# Tables as the reader sees them: a table folded away (a closed <details>) takes no width.
TABLE_WIDTHS = """() => [...document.querySelectorAll('table.toymodels-table')]
    .filter(t => t.getClientRects().length > 0)
    .map(t => [[...t.rows[0].cells].map(c => c.textContent).join(' | ').slice(0, 60),
               t.getBoundingClientRect().width])"""

# Table cells with math written as code, by the figures' rule in tests/layout_check.js ("D_i" where Dᵢ is meant).
TABLE_SUBSCRIPTS = """() => [...document.querySelectorAll('table.toymodels-table th, table.toymodels-table td')]
    .map(c => c.textContent).filter(text => /[\\p{L}\\p{N}‖)²]_[\\p{L}\\p{N}{]/u.test(text))"""


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
    assert expected > 0 or _playgrounds_in(ROOT / chapter), f"{chapter} shows no figure"

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


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[Path(chapter).stem for chapter in CHAPTERS])
def test_chapter_layout_reads_right(browser, site_url, chapter, width):
    """The layout rules on every figure at both ends of its sliders, figure and page heights, table widths."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{site_url}/{Path(chapter).with_suffix('.html')}", wait_until="load")
    page.wait_for_function("window.Plotly !== undefined", timeout=10_000)
    page.wait_for_timeout(300)
    # A live fit is checked after it has trained; one folded away (closed <details>) trains once opened.
    shown = "[...document.querySelectorAll('div.toymodels-live')].filter(w => !w.closest('details:not([open])'))"
    for widget in page.locator("div.toymodels-live").all():
        if widget.is_visible():
            widget.scroll_into_view_if_needed()
    page.wait_for_function(f"{shown}.every(w => w.dataset.state === 'done')", timeout=30_000)
    problems = check_page_layout(page, width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if width != 1280:  # the 1280 px screenshot is the drawing test's
        page.screenshot(path=str(SCREENSHOTS / f"{Path(chapter).stem}-{width}px.png"), full_page=True)
    page.close()
    assert problems == [], f"{chapter} at {width} px:\n" + "\n".join(problems)


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


BROKEN_FIGURES = {  # rule → a figure made to break it (data, layout), and a phrase of the problem it must report
    "overlap": (
        [{"x": [0, 1], "y": [0, 1]}],
        {
            "annotations": [
                {"text": "first label", "x": 0.5, "y": 0.5, "showarrow": False},
                {"text": "second label", "x": 0.5, "y": 0.5, "showarrow": False},
            ]
        },
        'annotation "first label" overlaps annotation "second label"',
    ),
    "cut": (
        [{"x": [0, 1], "y": [0, 1]}],
        {"title": {"text": "a title far too long for the figure it names " * 3}, "width": 400},
        "is cut by the figure's bounds",
    ),
    "subscript": ([{"x": [0, 1], "y": [0, 1]}], {"yaxis": {"title": {"text": "D_i"}}}, "raw underscore subscript"),
    "si prefix": ([{"x": [0, 1], "y": [1e-5, 1e-3]}], {"yaxis": {"type": "log"}}, "uses an SI prefix"),
    "legend": (
        [{"x": [0, 1], "y": [k, k], "name": f"trace {k}"} for k in range(30)],
        {"height": 300},
        "the legend shows",
    ),
    "data outside the range": (
        [{"x": [0, 1, 2], "y": [0, 1, 5]}],
        {"yaxis": {"range": [0, 2]}},
        "but its data run",
    ),
    "absurd linear range": ([{"x": [0, 1, 2], "y": [3, 4, 5]}], {"yaxis": {"range": [0, 500]}}, "for data spanning"),
    "absurd log range": (
        [{"x": [1, 10, 1000], "y": [0, 1, 2]}],
        {"xaxis": {"type": "log", "range": [0, 147]}},
        "decades",
    ),
}


def test_the_layout_rules_find_broken_figures(browser, site_url):
    """Each rule of tests/layout_check.js on a figure made to break it (so the check can fail), and silent on a
    plain figure; the page rules (figure height, table width) on a page made to break them."""
    page, _ = _open(browser, site_url, "book/01_introduction.html")
    page.wait_for_function("window.Plotly !== undefined", timeout=10_000)

    def draw(gd_id, data, layout, height=450):
        page.evaluate(
            f"""async ([data, layout]) => {{ const div = document.createElement('div');
            div.id = '{gd_id}'; div.className = 'plotly-graph-div'; div.style.height = '{height}px';
            document.querySelector('main').prepend(div);
            await Plotly.newPlot(div, data, layout); }}""",
            [data, layout],
        )

    draw("plain", [{"x": [0, 1, 2], "y": [1, 3, 2], "name": "a line"}], {"title": {"text": "A plain figure"}})
    assert _layout_problems(page, "plain") == []
    unit = [{"type": "bar", "orientation": "h", "x": [1e-4, 2e-4], "y": ["feature 0", "feature 1"]}]
    draw("unit-scale", unit, {"xaxis": {"range": [0, 1.05]}})
    assert _layout_problems(page, "unit-scale") == [], "a model that learned nothing: short bars on [0, 1]"
    for index, (rule, (data, layout, phrase)) in enumerate(BROKEN_FIGURES.items()):
        draw(f"broken-{index}", data, layout)
        problems = _layout_problems(page, f"broken-{index}")
        assert any(phrase in problem for problem in problems), f"the {rule} rule missed its figure: {problems}"

    draw("too-tall", [{"x": [0, 1], "y": [0, 1]}], {"height": MAX_FIGURE_HEIGHT + 200}, height=MAX_FIGURE_HEIGHT + 200)
    page.evaluate("""() => { const t = document.createElement('table'); t.className = 'toymodels-table';
        const wide = Array.from({length: 40}, (_, k) => `<th>a wide column ${k}</th>`).join('');
        t.innerHTML = '<tr>' + wide + '<th>D_i</th></tr>';
        document.querySelector('main').prepend(t); }""")
    problems = "\n".join(check_page_layout(page, 1280))
    assert f"is {MAX_FIGURE_HEIGHT + 200} px tall" in problems and "px wide (the column" in problems
    assert 'the table cell "D_i" shows a raw underscore subscript' in problems
    page.close()


# --- The playground (toymodels.kit.playground): a whole toy model set up and trained in the page.

PLAYGROUND_STATE = """() => { const w = document.querySelector('div.toymodels-live');
    const tips = w.querySelector('.toymodels-playground-weights').data.filter(t => t.mode === 'markers')[0];
    return {...w.dataset, hash: location.hash, tips: tips ? Array.from(tips.x) : null,
            errorText: w.querySelector('.toymodels-playground-errors').textContent,
            inputs: Object.fromEntries([...w.querySelectorAll('input, select')].map(e => [e.name, e.value])),
            status: w.querySelector('.toymodels-live-status').textContent}; }"""


def _playground_done(page, updates: int) -> dict:
    page.wait_for_function(
        f"(() => {{ const w = document.querySelector('div.toymodels-live'); "
        f"return w && w.dataset.state === 'done' && Number(w.dataset.updates) > {updates}; }})()",
        timeout=60_000,
    )
    return page.evaluate(PLAYGROUND_STATE)


def _playground_layout(page, where: str) -> list[str]:
    ids = page.evaluate("[...document.querySelectorAll('.toymodels-playground-figures > div')].map(d => d.id)")
    assert len(ids) == 4
    return [f"{where}, {gd_id}: {problem}" for gd_id in ids for problem in _layout_problems(page, gd_id)]


@pytest.mark.parametrize("width", WIDTHS)
def test_playground_loads_a_shared_address_and_retrains_as_the_reader_changes_it(browser, site_url, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    log = PageLog(page, site_url)
    stem = Path(PLAYGROUND).stem
    # A shared address: six features in three dimensions (the octahedron preset's state).
    address = (
        f"{site_url}/{Path(PLAYGROUND).with_suffix('.html')}#n=6&m=3&setSize=1&fits=8&steps=1000&batchSize=256"
        "&lr=0.01&weightDecay=0.01&evalBatches=64&seed=0&kind=relu_output&activation=relu&correlation=none"
        "&importance=1&density=0.05"
    )
    page.goto(address, wait_until="load")
    loaded = _playground_done(page, 0)
    assert loaded["errors"] == "0" and loaded["inputs"]["n"] == "6" and loaded["inputs"]["m"] == "3"
    assert loaded["geometry"] == "6 antipodal", f"the octahedron's address trained to {loaded['geometry']}"
    assert loaded["status"].startswith("Live fit"), "a live fit is labelled as one"
    problems = _playground_layout(page, "octahedron from the address")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("div.toymodels-live").screenshot(path=str(SCREENSHOTS / f"{stem}-octahedron-{width}px.png"))

    # A preset button, then the reader's own changes: each retrains, the figures and the address follow.
    page.click("button[data-preset='5 → 2 (ch. 1)']")
    intro = _playground_done(page, int(loaded["updates"]))
    assert intro["geometry"] == "5 pentagon" and "n=5&m=2" in intro["hash"], intro
    page.fill("input[name=density]", "1")
    page.press("input[name=density]", "Enter")
    dense = _playground_done(page, int(intro["updates"]))
    assert "density=1" in dense["hash"] and dense["tips"] != intro["tips"]
    assert dense["geometry"] == "2 dedicated, 3 not learned", f"dense features: {dense['geometry']}"
    page.select_option("select[name=activation]", "gelu")
    gelu = _playground_done(page, int(dense["updates"]))
    assert "activation=gelu" in gelu["hash"] and gelu["tips"] != dense["tips"]
    page.eval_on_selector("input[name=m]", "(e) => { e.value = 4; e.dispatchEvent(new Event('input')); }")
    wide = _playground_done(page, int(gelu["updates"]))
    assert "m=4" in wide["hash"] and wide["tips"] is None, "above 3 dimensions W is a heat map"
    problems += _playground_layout(page, "after the reader's changes")
    page.locator("div.toymodels-live").screenshot(path=str(SCREENSHOTS / f"{stem}-changed-{width}px.png"))

    # Bad input is refused with its reason; the last good state stays.
    page.fill("input[name=density]", "0.1, 2")
    page.press("input[name=density]", "Enter")
    page.wait_for_function("document.querySelector('div.toymodels-live').dataset.errors === '1'")
    refused = page.evaluate(PLAYGROUND_STATE)
    assert "density must be one number or 5 comma-separated numbers, each in [0.001, 1]" in refused["errorText"]
    assert refused["hash"] == wide["hash"]
    page.close()
    assert problems == [], "\n".join(problems)
    assert log.problems == [], "\n".join(log.problems)


def test_playground_reports_a_bad_address_and_starts_from_its_defaults(browser):
    if not (SITE / "index.html").exists():
        pytest.skip("no built book: run `make book` first (`make test` does)")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests = []
    page.on("request", lambda request: request.url.startswith("file:") or requests.append(request.url))
    page.goto((SITE / Path(PLAYGROUND).with_suffix(".html")).as_uri() + "#n=500&colour=red", wait_until="load")
    state = _playground_done(page, 0)
    assert 'unknown setting "colour"' in state["errorText"] and "n must be an integer in [2, 32]" in state["errorText"]
    assert state["inputs"]["n"] == "5" and state["geometry"] == "5 pentagon", "the defaults train instead"
    page.close()
    assert requests == [], f"the playground requested {requests}"


@pytest.mark.parametrize("chapter", EMBEDDED_PLAYGROUNDS, ids=[Path(chapter).stem for chapter in EMBEDDED_PLAYGROUNDS])
def test_a_chapters_playground_retrains_as_its_controls_change(browser, site_url, chapter):
    """A chapter's live fit drawn by the playground (chapter 10's nonlinearity and density): its few controls
    retrain it, with the chapter's counts in the status; the page's address is left alone."""
    page, log = _open(browser, site_url, str(Path(chapter).with_suffix(".html")))
    folded = page.locator("details.toymodels-fold:has(div.toymodels-live)")
    if folded.count():
        assert page.evaluate("document.querySelector('div.toymodels-live').dataset.state") == "waiting"
        folded.first.locator("summary").click()  # opened, it comes into view and trains
    page.locator("div.toymodels-live").first.scroll_into_view_if_needed()
    first = _playground_done(page, 0)
    assert "features represented" in first["status"] and first["status"].startswith("Live fit")
    select = page.locator("div.toymodels-live select").first
    choices = select.evaluate("(s) => [...s.options].map(o => o.value)")
    select.select_option(next(value for value in choices if value != select.input_value()))
    second = _playground_done(page, int(first["updates"]))
    assert second["tips"] != first["tips"] or second["status"] != first["status"], f"{chapter}: nothing changed"
    assert second["hash"] == "", f"{chapter}: a chapter's live fit must not write the page's address"
    problems = _playground_layout(page, chapter)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("div.toymodels-live").first.screenshot(path=str(SCREENSHOTS / f"{Path(chapter).stem}-live.png"))
    page.close()
    assert problems == [], "\n".join(problems)
    assert log.problems == [], f"{chapter}: " + "\n".join(log.problems)
