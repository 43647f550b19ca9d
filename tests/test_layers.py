"""The package's layers, imported one way: core ← kit ← sections (← notebooks). The core (the modules directly
under ``toymodels/``) imports neither the kit nor a section; the kit imports no section; a section imports the
core and the kit, never another section; and no module imports private names from another layer or section.
The package's ``__init__`` is the public face and may import anything."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toymodels"
CORE_PACKAGES = {"presets", "store"}  # folders of the core, split by concern; not sections


def _layer(parts: tuple[str, ...], sections: set[str]) -> str:
    """'core', 'kit' or the section's name, for a module path relative to the package (("phase", "figures"))."""
    if parts[0] == "kit":
        return "kit"
    return parts[0] if parts[0] in sections else "core"


def violations(package: Path) -> list[str]:
    """Every import of ``package``'s modules that breaks the layering, as "module: imports what"."""
    folders = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    sections = folders - {"kit", *CORE_PACKAGES}
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts == ("__init__",):
            continue
        here = _layer(parts, sections)
        package_parts = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package_parts[: len(package_parts) - (node.level - 1)] if node.level > 1 else package_parts
            target = (*base, *node.module.split(".")) if node.module else base
            names = [alias.name for alias in node.names]
            if not target:  # from .. import section
                targets = [(name,) for name in names]
            else:
                targets = [target]
            for t in targets:
                there = _layer(t, sections) if t else "core"
                rule = (
                    (here == "core" and there != "core")
                    or (here == "kit" and there not in ("core", "kit"))
                    or (here not in ("core", "kit") and there not in ("core", "kit", here))
                )
                if rule:
                    found.append(f"{'.'.join(parts)}: imports {'.'.join(t)} ({here} → {there})")
            private = [name for name in names if name.startswith("_") and not name.startswith("__")]
            # Private names shared inside one layer or one section are the modules' own business; across, never.
            if private and target and _layer(target, sections) != here:
                found.append(f"{'.'.join(parts)}: imports private {', '.join(private)} from {'.'.join(target)}")
    return found


def test_the_package_keeps_its_layers():
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    "where, source, expected",
    [
        ("phase/extra.py", "from ..geometry.uniform import POLYTOPES\n", "phase.extra: imports geometry.uniform"),
        ("metrics2.py", "from .kit.table import Table\n", "metrics2: imports kit.table (core → kit)"),
        ("kit/extra.py", "from ..phase import analysis\n", "kit.extra: imports phase"),
        ("phase/extra.py", "from ..block import _torch_threads\n", "imports private _torch_threads from block"),
    ],
)
def test_the_layering_check_finds_a_deliberate_violation(tmp_path, where, source, expected):
    for folder in ("kit", "phase", "geometry"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "geometry" / "uniform.py").write_text("POLYTOPES = {}\n")
    (tmp_path / where).write_text(source)
    assert any(expected in found for found in violations(tmp_path)), violations(tmp_path)
    (tmp_path / where).write_text("from ..config import ConfigError\n" if "/" in where else "from .config import X\n")
    assert violations(tmp_path) == [], "the same module with a permitted import passes"
