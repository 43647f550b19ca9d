"""The paper's vocabulary lives in one module (toymodels.vocabulary): no other module defines a threshold of its own
under a vocabulary name, and what the sections and tables use is what it says."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import vocabulary

PACKAGE = Path(__file__).resolve().parents[1] / "toymodels"
THRESHOLDS = [name for name in vocabulary.__all__ if name.isupper() and name != "POLYTOPES"]


def redefinitions(package: Path) -> list[str]:
    """Every module-level assignment, outside ``vocabulary.py``, of a name the vocabulary defines."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "vocabulary.py" and path.parent == package:
            continue
        for node in ast.parse(path.read_text()).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name) and target.id in (*THRESHOLDS, "POLYTOPES"):
                    found.append(f"{path.relative_to(package)}: {target.id}")
    return found


def test_no_module_defines_the_vocabulary_again():
    assert redefinitions(PACKAGE) == []


def test_the_check_finds_a_threshold_defined_again(tmp_path):
    (tmp_path / "section.py").write_text("LEARNED_NORM = 0.3\nOTHER = 1\n")
    (tmp_path / "vocabulary.py").write_text("LEARNED_NORM = 0.25\n")
    assert redefinitions(tmp_path) == ["section.py: LEARNED_NORM"]


def test_every_polytope_is_a_tight_frame_with_its_dimensionality():
    for name, p in vocabulary.POLYTOPES.items():
        V = p.frame()
        assert V.shape == (p.dimensions, p.features), name
        assert np.allclose(np.linalg.norm(V, axis=0), 1) and np.allclose(
            V @ V.T, p.features / p.dimensions * np.eye(p.dimensions)
        )
        D = tm.feature_dimensionality(torch.as_tensor(V))
        assert D.numpy() == pytest.approx([p.dimensionality] * p.features), name
    assert list(vocabulary.polytope_lines().values()) == sorted(vocabulary.polytope_lines().values(), reverse=True)


def test_the_sections_name_what_the_vocabulary_lists():
    for p in vocabulary.POLYTOPES.values():
        assert tm.intro.GEOMETRIES[p.members] == (p.dimensionality, p.dimensions, p.features)
        if p.name != "dedicated":
            (component,) = tm.geometry.components(p.frame())
            assert component.name == p.name
    with pytest.raises(tm.ConfigError, match="name must be one of"):
        vocabulary.polytope("antipodal")


def test_a_feature_that_never_fires_a_hidden_relu_is_not_represented():
    W = torch.tensor([[[1.0, -1.0, 0.6], [0.0, -0.5, -0.6]]])  # feature 1: all weights ≤ 0; feature 2: half
    assert tm.represented_features(W).tolist() == [[True, True, True]]
    assert tm.represented_features(W, hidden_relu=True).tolist() == [[True, False, True]]
    assert tm.count_represented(W, hidden_relu=True).tolist() == [2]
    np.testing.assert_array_equal(tm.privileged.represented(W.numpy()), [[True, False, True]])


def test_unit_columns_gives_unit_directions_and_zero_for_an_absent_feature():
    W = np.array([[3.0, 0.0, 1e-9], [4.0, 0.0, 0.0]])
    unit, norms = vocabulary.unit_columns(W)
    assert norms == pytest.approx([5.0, 0.0, 1e-9])
    assert unit[:, 0] == pytest.approx([0.6, 0.8]) and not unit[:, 1:].any()
    batched, _ = vocabulary.unit_columns(np.stack([W, 2 * W]))
    assert batched.shape == (2, 2, 3) and batched[1] == pytest.approx(unit)
