"""The README's API example runs as written (in a temporary folder: it writes intro.html)."""

import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README must show a Python example of the API"
    example = blocks[0]
    assert len(example.strip().splitlines()) <= 12, "keep the README example about ten lines"
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert "slider" in (tmp_path / "intro.html").read_text()


def test_a_new_section_is_found_as_tm_section_without_an_edit(tmp_path, monkeypatch):
    """The Architecture section's promise: a chapter's home under toymodels/ needs no edit to a shared module."""
    import toymodels as tm

    home = tmp_path / "new_section"
    home.mkdir()
    (home / "__init__.py").write_text(
        "from ..kit import Table\n\n\ndef answer():\n    return Table(('a',), (('42',),))\n"
    )
    monkeypatch.setattr(tm, "__path__", [*tm.__path__, str(tmp_path)])
    try:
        assert tm.new_section.answer().rows == (("42",),)
    finally:  # forget the section, which lived in a temporary folder
        sys.modules.pop("toymodels.new_section", None)
        tm.__dict__.pop("new_section", None)
    with pytest.raises(AttributeError, match="no_such_section"):
        _ = tm.no_such_section


def test_the_version_is_the_installed_distributions():
    """One place to bump the version: pyproject.toml, read back from the installed metadata."""
    from importlib.metadata import version

    import toymodels as tm

    assert tm.__version__ == version("toymodels")


def test_make_alone_lists_the_readme_commands():
    """`make` with no target prints the commands of the Makefile's header (the default goal is `help`)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = README.parent
    listed = subprocess.run(["make", "-s", "-C", str(root)], capture_output=True, text=True, check=True).stdout
    for command in ("make book", "make test", "make execute", "make verify"):
        assert command in listed and command in README.read_text(), command
    assert (root / "CONTRIBUTING.md").exists() and "CONTRIBUTING.md" in README.read_text()
