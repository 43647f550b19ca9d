"""Sphinx extension of the book: everything a page runs is served from the built site, so the book reads
offline (Jupyter Book 1 would otherwise fetch MathJax from a CDN, and plotly 7 draws nothing by default).

* plotly.js: the chapters' figures are HTML that calls ``Plotly.newPlot`` (``toymodels.kit.render``)
  without the library. This extension copies ``plotly.min.js`` from the installed plotly package, so it
  always matches the version that wrote the figures, into ``_static/`` and loads it on pages with a figure.
  (A file in a top-level ``_static/`` folder would be injected into every page, and twice with our tag.)
* Scripts added twice (sphinx-thebe's inline configuration) are loaded once: the second copy is a
  JavaScript error on every page.
* The live fits: a chapter's live widget (``toymodels.kit.browser``) is a ``<div class="toymodels-live">`` holding
  its configuration; this extension copies the package's dependency-free trainer ``toymodels-live.js`` into
  ``_static/`` and loads it (after plotly.js) on the pages with such a div, and the playground's
  ``toymodels-playground.js`` (after it) on the pages with a playground (``toymodels.kit.playground``).
  Nothing is inlined in the notebooks, and nothing is fetched at run time, so the widgets work offline and from
  a ``file://`` address.
* The repository: its link and the chapters' launch buttons (Binder, Colab) come from the one setting of the
  public repository's address, ``Repository`` under ``[project.urls]`` in ``pyproject.toml`` (which the package
  also reads, to fetch the book's stored results in Colab). While it is unset, the book shows neither: a button
  must not lead to a repository that does not exist.
* The chapters' tables: ``toymodels.css`` gives their cells padding (the theme gives output tables ~1 px, so
  neighbouring numbers fused) and equal-width figures.
* MathJax: ``mathjax_path`` in ``_config.yml`` points at ``_static/mathjax``; this extension copies the npm
  package ``mathjax@3`` (installed into ``.venv/npm`` by ``make``) there. A missing copy is an error, not a
  silently broken page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import plotly
import tomllib
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
FIGURE_MARKER = 'class="plotly-graph-div"'
# The book's copy of the package, found from here rather than imported (the book builds from its repository).
LIVE_JS = Path(__file__).resolve().parents[2] / "toymodels" / "kit" / "static" / "toymodels-live.js"
LIVE_MARKER = 'class="toymodels-live"'  # toymodels.kit.browser.LIVE_CLASS
PLAYGROUND_JS = LIVE_JS.with_name("toymodels-playground.js")
PLAYGROUND_MARKER = 'id="live-playground-'  # a BrowserLive of kind toymodels.kit.playground.PLAYGROUND_KIND
TABLE_CSS = Path(__file__).with_name("toymodels.css")  # the chapters' tables: padding between numbers


PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
LAUNCH_BUTTONS = {
    "notebook_interface": "jupyterlab",
    "binderhub_url": "https://mybinder.org",
    "colab_url": "https://colab.research.google.com",
}


def repository_url(pyproject: Path = PYPROJECT) -> str | None:
    """The public repository's address: ``[project.urls] Repository`` of ``pyproject.toml``, or None if unset."""
    with open(pyproject, "rb") as file:
        return tomllib.load(file).get("project", {}).get("urls", {}).get("Repository") or None


def theme_options(options: dict, url: str | None) -> dict:
    """The theme's options with the repository link and launch buttons set from ``url``, or turned off."""
    options = dict(options)
    if url:
        options.update(
            repository_url=url,
            repository_branch="main",
            path_to_docs="",
            use_repository_button=True,
            launch_buttons=dict(LAUNCH_BUTTONS),
        )
    else:
        options.update(use_repository_button=False, use_issues_button=False, use_edit_page_button=False)
        options["launch_buttons"] = {
            name: "" for name in ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url")
        }
        options["launch_buttons"].update(notebook_interface="jupyterlab", thebe=False)
    return options


def _repository(app: Sphinx, config) -> None:
    config.html_theme_options = theme_options(config.html_theme_options or {}, repository_url())


def _mathjax_source(app: Sphinx) -> Path:
    source = Path(app.confdir, app.config.toymodels_mathjax_dir)
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is missing from {source}: run `make book` (it installs the npm package mathjax@3 there) "
            "or set toymodels_mathjax_dir in _config.yml"
        )
    return source


def _check_sources(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    if not PLOTLY_JS.is_file():
        raise ExtensionError(f"plotly.js is missing from the installed plotly package: {PLOTLY_JS}")
    for script in (LIVE_JS, PLAYGROUND_JS):
        if not script.is_file():
            raise ExtensionError(f"the live fits' script is missing: {script}")
    _mathjax_source(app)
    app.add_css_file(TABLE_CSS.name)


def _page_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body", "")
    if FIGURE_MARKER in body or LIVE_MARKER in body:
        app.add_js_file("plotly.min.js")  # added during html-page-context: this page only, in <head>
    if LIVE_MARKER in body:
        app.add_js_file(LIVE_JS.name)  # after plotly.js; it starts the page's widgets once the page is parsed
    if PLAYGROUND_MARKER in body:
        app.add_js_file(PLAYGROUND_JS.name)  # after the live trainer, which it trains with
    # sphinx-thebe 0.3.1 adds its inline configuration twice under Jupyter Book 1 ("Identifier 'THEBE_JS_URL'
    # has already been declared" on every page), once with filename None and once with "": keep one copy.
    scripts, seen = context.get("script_files", []), set()
    unique = []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir, "_static")
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PLOTLY_JS, static / "plotly.min.js")
    shutil.copy2(LIVE_JS, static / LIVE_JS.name)
    shutil.copy2(PLAYGROUND_JS, static / PLAYGROUND_JS.name)
    shutil.copy2(TABLE_CSS, static / TABLE_CSS.name)
    shutil.copytree(_mathjax_source(app), static / "mathjax", dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.add_config_value("toymodels_mathjax_dir", ".venv/npm/node_modules/mathjax/es5", "html")
    app.connect("config-inited", _repository)
    app.connect("builder-inited", _check_sources)
    app.connect("html-page-context", _page_scripts)
    app.connect("build-finished", _copy_assets)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
