"""The package as a researcher installs it: a wheel built from this tree, installed outside the repository, runs
the README's two examples (the API in ten lines, and one's own experiment) from a scratch directory. Results go to
the user's cache, never into the repository; the wheel carries what the live fits and the licence need."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _example(after: str) -> str:
    """The first Python block of the README after the heading or text ``after``."""
    return re.findall(r"```python\n(.*?)```", README[README.index(after) :], flags=re.S)[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel of this tree (built from a copy, so no build/ is left in the checkout), unpacked into a folder of
    its own, as `pip install` would put it in site-packages."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT / "toymodels", source / "toymodels", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    wheels, site = tmp_path_factory.mktemp("wheels"), tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source], check=True)
    (wheel,) = wheels.glob("toymodels-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    return wheel, site


def _run(site: Path, home: Path, code: str) -> str:
    scratch = home / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site), "HOME": str(home), "TOYMODELS_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=scratch, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_wheel_holds_the_package_its_script_and_its_licence(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "toymodels/kit/static/toymodels-live.js" in names, "the live fits' script"
    assert any(name.endswith("licenses/LICENSE") for name in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert {"live", "dask", "book", "dev"} <= set(re.findall(r"Provides-Extra: (\w+)", metadata))


def test_the_readme_examples_run_from_the_wheel_in_a_scratch_directory(installed, tmp_path):
    _, site = installed
    book = sorted(path.name for path in (ROOT / "book" / "results").rglob("*"))
    where = _run(
        site,
        tmp_path,
        "import toymodels as tm\n"
        "print(tm.__file__)\n"
        "print(tm.store.book_directory())\n"
        "print(tm.store.default_directory())\n",
    ).split("\n")
    assert where[0].startswith(str(site)), "the wheel's copy, not the checkout's"
    assert where[1] == "None" and where[2] == str(tmp_path / ".cache" / "toymodels")
    _run(site, tmp_path, _example("## The API in ten lines"))
    assert "slider" in (tmp_path / "scratch" / "intro.html").read_text()
    own = _run(site, tmp_path, _example("## Using toymodels in your own research"))
    assert len(own.strip().splitlines()) == 2, own
    entries = sorted((tmp_path / "scratch" / "my-results").glob("*.npz"))
    assert len(entries) == 2 and (tmp_path / "scratch" / "six-in-three.npz").is_file()
    loaded = _run(site, tmp_path, "import toymodels as tm\nprint(tm.load('six-in-three.npz').experiment.name)")
    assert loaded.strip() == "6 features in 3 dimensions"
    assert sorted(path.name for path in (ROOT / "book" / "results").rglob("*")) == book, "nothing in the checkout"
