"""The README's API example runs as written (in a temporary folder: it writes intro.html)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README must show a Python example of the API"
    example = blocks[0]
    assert len(example.strip().splitlines()) <= 12, "keep the README example about ten lines"
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert "slider" in (tmp_path / "intro.html").read_text()
