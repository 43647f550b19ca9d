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
