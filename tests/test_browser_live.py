"""The live fits of the static book, Python side (``toymodels.kit.browser`` and the chapters' widgets): what a
cell writes (a div with its JSON configuration, no script), the settings the sliders map to, the theory table,
and the JavaScript's fixture being current. The JavaScript itself is tested by ``node --test tests/js``
(``make js``); the built page by ``tests/test_browser.py``."""

import copy
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

import toymodels as tm
from toymodels.kit import browser

ROOT = Path(__file__).resolve().parents[1]
CONFIG = re.compile(r'<script type="application/json" class="toymodels-live-config">(.*?)</script>', re.S)


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(widget) -> dict:
    return json.loads(CONFIG.search(widget._repr_html_()).group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def intro():
    return tm.intro.browser_intro(tm.preset("intro_browser"))


@pytest.fixture(scope="module")
def phase():
    return tm.phase.browser_phase_point(tm.preset("phase_change_browser"))


def test_the_javascript_fixture_is_what_the_package_computes_now():
    tool = _load(ROOT / "tools" / "export_live_fixture.py", "export_live_fixture")
    committed = json.loads(tool.FIXTURE.read_text())
    assert tool.differences(committed, tool.fixture()) == [], (
        "tests/js/fixtures/parity.json is stale (the model, AdamW, a preset or the phases changed): "
        "run `python tools/export_live_fixture.py` and `node --test tests/js/*.test.js`"
    )


def test_the_fixture_check_holds_float32_and_float64_to_their_own_precision():
    """Another CPU changes the float32 gradients by ~1e-6 of their scale and float64 ones by ~1e-16: neither is
    a stale fixture; a change beyond each precision's tolerance is."""
    tool = _load(ROOT / "tools" / "export_live_fixture.py", "export_live_fixture")
    committed = json.loads(tool.FIXTURE.read_text())

    def nudged(key: str, field: str, relative: float) -> dict:
        changed = copy.deepcopy(committed)
        case = changed["cases"][0]
        values = case[key][field] if key else case[field]
        values[0] += relative * max(abs(v) for v in values)
        return changed

    name = committed["cases"][0]["name"]
    assert tool.differences(committed, nudged("float32", "gradW", 1e-6)) == []
    assert tool.differences(committed, nudged("float32", "gradW", 1e-4)) == [f"{name}.float32.gradW"]
    assert tool.differences(committed, nudged("", "gradW", 1e-14)) == []
    assert tool.differences(committed, nudged("", "gradW", 1e-9)) == [f"{name}.gradW"]


def test_a_widget_is_a_div_with_json_and_no_script(intro, phase):
    for widget in (intro, phase):
        html = widget._repr_html_()
        assert html.startswith(f'<div class="{browser.LIVE_CLASS}" id="{widget.id}">')
        assert "<script src" not in html and "function" not in html, "no JavaScript in the notebook"
        assert html.count("<script") == 1 and len(html) < 30_000
        assert widget.id == type(widget)(widget.kind, _config(widget)).id, "ids are deterministic (nbval)"
        config = _config(widget)
        assert config["statusPrefix"].startswith("Live fit"), "a live fit is labelled as one"
        assert config["train"]["lr"] == tm.preset("intro_live").train.lr and config["train"]["weightDecay"] == 0.01


def test_the_book_extension_serves_the_packaged_script():
    extension = _load(ROOT / "book" / "_ext" / "toymodels_book.py", "toymodels_book")
    assert extension.LIVE_JS == browser.SCRIPT and extension.LIVE_MARKER == f'class="{browser.LIVE_CLASS}"'
    assert browser.SCRIPT.stat().st_size < 40_000, "the live script should stay small"


def test_intro_sliders_and_protocol(intro):
    config = _config(intro)
    density, decay = config["controls"]
    values = 10.0 ** (density["min"] + np.arange(round((density["max"] - density["min"]) / density["step"]) + 1) * 0.05)
    assert values[density["index"]] == pytest.approx(0.1) and decay["min"] + decay["index"] * decay["step"] == 0.9
    assert config["train"] == browser.protocol(tm.preset("intro_browser"))
    assert config["train"]["fits"] == 8 and config["model"] == {"n": 5, "m": 2}
    names = [row[0] for row in config["geometries"]]
    assert "pentagon" in names and "tetrahedron" not in names, "only geometries that fit in 2 dimensions"
    assert config["panels"] == [{"lines": [0, 1, 2, 3, 4], "tips": 5}]


def test_phase_theory_table_is_the_theory_at_every_slider_position(phase):
    config = _config(phase)
    r_control, s_control = config["controls"]
    r = 10.0 ** (r_control["min"] + np.arange(41) * r_control["step"])
    s = 10.0 ** (s_control["min"] + np.arange(41) * s_control["step"])
    table = np.array(config["phases"]["theory"])
    assert table.shape == (41, 41)
    for i, j in [(0, 0), (10, 40), (40, 0), (20, 20), (5, 30)]:
        expected = tm.theory.phase_diagram(3, r[i], s[j])[0]
        assert table[i, j] == int(expected), (r[i], s[j])
    assert config["phases"]["descriptions"][table[0, 40]] == tm.phase.PHASE_DESCRIPTIONS["perp_001"], "dense, r=0.1"
    grams = np.array(config["phases"]["grams"])
    W = tm.theory.CANDIDATE_WEIGHTS["perp_011"]
    nearest = np.linalg.norm(grams - W.T @ W, axis=(-2, -1)).min(-1).argmin()
    assert nearest == tm.phase.classify(W)[0], "the script classifies as tm.phase.classify"


def test_bad_input_names_the_parameter():
    with pytest.raises(tm.ConfigError, match="density must be a number within"):
        tm.intro.browser_intro(tm.preset("intro_browser"), density=2.0)
    with pytest.raises(tm.ConfigError, match="n_hidden must be 2"):
        tm.intro.browser_intro(tm.preset("intro_browser").replace(n_hidden=3))
    with pytest.raises(tm.ConfigError, match="n_features=3, n_hidden=2"):
        tm.phase.browser_phase_point(tm.preset("phase_change_2"))
    with pytest.raises(tm.ConfigError, match="tied model of kind relu_output or relu_hidden"):
        browser.protocol(tm.preset("basic_linear"))
    with pytest.raises(tm.ConfigError, match="maximum must exceed minimum"):
        browser.Slider("r", "r", 1.0, 0.0, 0.1, 0.5)
