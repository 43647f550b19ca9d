"""The committed chapters keep the book's promises (STYLE.md): every notebook is in the table of contents, reads
title → parameters → one set-up cell → package calls, and carries outputs written by one executor run
(papermill), clean of run-to-run metadata, errors, stderr and inlined JavaScript bundles.

Whether those outputs are *reproducible* is nbval's job (`make nbval`); here only their form is checked."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LISTED = subprocess.run(
    [sys.executable, str(ROOT / "tools" / "execute_chapters.py"), "--list"],
    cwd=ROOT,
    capture_output=True,
    text=True,
    check=True,
).stdout.split()
CHAPTERS = [ROOT / path for path in LISTED]
WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
MAX_NOTEBOOK_BYTES = 2_000_000  # plotly.js alone is 4.6 MB: a notebook this big has inlined a bundle


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _tags(cell) -> set:
    return set(cell.metadata.get("tags", []))


def test_every_notebook_in_book_is_a_chapter_of_the_toc():
    on_disk = sorted(path for path in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    assert CHAPTERS, "_toc.yml lists no chapter"
    assert sorted(CHAPTERS) == on_disk, "a notebook outside _toc.yml is neither executed, checked nor built"


@pytest.fixture(params=CHAPTERS, ids=[path.stem for path in CHAPTERS])
def chapter(request):
    return request.param, _read(request.param)


def test_chapter_reads_title_parameters_setup(chapter):
    path, notebook = chapter
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), f"{path.name}: start with '# Title'"
    assert len(re.split(r"\n\s*\n", first.source.strip())) >= 2, f"{path.name}: a summary follows the title"
    code = _code(notebook)
    parameters = [cell for cell in code if "parameters" in _tags(cell)]
    assert len(parameters) == 1 and parameters[0] is code[0], f"{path.name}: the first code cell holds the parameters"
    for statement in ast.parse(parameters[0].source).body:
        assert isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant), (
            f"{path.name}: papermill parameters must be plain literals, got {ast.unparse(statement)!r}"
        )
    assert "fast = False" in parameters[0].source, f"{path.name}: commit the paper-fidelity parameters (fast = False)"
    setup = code[1]
    assert "tm.kit.setup()" in setup.source, f"{path.name}: the second code cell is the set-up"
    assert "tm.store.use_book_store()" in setup.source, f"{path.name}: the set-up chooses the book's stored results"
    for cell in code[2:]:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.Import, ast.ImportFrom)), f"{path.name}: imports belong in the set-up cell"
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While)), (
                f"{path.name}: definitions and loops belong in the toymodels package:\n{cell.source}"
            )


def test_chapter_outputs_come_from_one_clean_executor_run(chapter):
    path, notebook = chapter
    code = _code(notebook)
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts}: re-execute with `make execute`, never save an interactive session"
    )
    assert not any("injected-parameters" in _tags(cell) for cell in code), f"{path.name}: committed from a fast run?"
    for key in ("papermill", "widgets"):
        assert key not in notebook.metadata, f"{path.name}: volatile metadata {key!r} (make execute strips it)"
    for cell in code:
        assert not {"papermill", "execution"} & set(cell.metadata), f"{path.name}: volatile cell metadata"
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}: an error is committed:\n{cell.source}"
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{path.name}: stderr in the outputs (a progress bar? run with TOYMODELS_PROGRESS=0):\n{output.text}"
            )


def test_chapter_figures_are_light_and_deterministic(chapter):
    path, notebook = chapter
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name}: {path.stat().st_size} bytes"
    ids = []
    for cell in _code(notebook):
        for output in cell.outputs:
            html = output.get("data", {}).get("text/html", "")
            assert "<script src" not in html and "cdn." not in html, f"{path.name}: an output loads from the network"
            assert "plotly.js v" not in html, f"{path.name}: plotly.js is inlined; use tm.kit.setup()"
            ids += re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', html)
            if PLOTLY_MIMETYPE in output.get("data", {}):
                assert "plotly-graph-div" in html, (
                    f"{path.name}: a figure without its HTML is invisible in the book (myst-nb's warning about the "
                    "plotly mimetype is suppressed in _config.yml); display it after tm.kit.setup()"
                )
            if WIDGET_MIMETYPE in output.get("data", {}):
                assert {"remove-output", "nbval-ignore-output"} <= _tags(cell), (
                    f"{path.name}: a widget cell must be hidden in the static book (remove-output) and its "
                    "random model id ignored by nbval (nbval-ignore-output)"
                )
    assert ids == [f"figure-{k}" for k in range(1, len(ids) + 1)], f"{path.name}: figure ids {ids}"


def _extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location("toymodels_book", ROOT / "book" / "_ext" / "toymodels_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_repository_link_and_launch_buttons_follow_the_one_setting(tmp_path):
    """The public repository's address is set once, in pyproject.toml: the book's links and buttons and the
    package's remote store follow it, and while it is unset nothing points at a repository that does not exist."""
    from toymodels import store

    extension = _extension()
    url = extension.repository_url()
    assert url == store.repository_url(), "the installed package's metadata and pyproject.toml agree (reinstall)"
    config = (ROOT / "_config.yml").read_text()
    assert "launch_buttons" not in config and "repository:" not in config, "set it in pyproject.toml only"
    off = extension.theme_options({"repository_url": "https://github.com/executablebooks/jupyter-book"}, None)
    assert not off["use_repository_button"] and not any(
        off["launch_buttons"][name] for name in ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url")
    )
    on = extension.theme_options({}, "https://github.com/someone/toymodels")
    assert on["repository_url"] == "https://github.com/someone/toymodels" and on["use_repository_button"]
    assert on["launch_buttons"]["colab_url"] and on["launch_buttons"]["binderhub_url"]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/a/b"\n')
    assert extension.repository_url(pyproject) == "https://github.com/a/b"
    if url is None:  # no address that leads nowhere in what a reader opens
        for path in [ROOT / "README.md", ROOT / "book" / "index.md", *CHAPTERS]:
            assert "github.com/toymodels" not in path.read_text(), f"{path.name} links a repository that is unset"
