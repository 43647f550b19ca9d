"""The playground (toymodels.kit.playground, toymodels.playground), Python side: the states it starts from, the
checks that name a bad field, and what a cell writes. Its JavaScript is tested by ``node --test tests/js``
(presets reaching their chapters' geometries, the address) and the built page by ``tests/test_browser.py``."""

import json
import re

import pytest

import toymodels as tm
from toymodels.kit import browser, playground

CONFIG = re.compile(r'<script type="application/json" class="toymodels-live-config">(.*?)</script>', re.S)


def test_state_of_writes_an_experiment_setting_as_the_javascript_reads_it():
    state = playground.state_of(tm.preset("intro_browser"))
    assert state["importance"] == "0.9" and state["density"] == "0.1", "a decay and a uniform density are one number"
    assert (state["n"], state["m"], state["kind"], state["activation"]) == (5, 2, "relu_output", "relu")
    assert {key: state[key] for key in ("fits", "steps", "batchSize", "lr")} == dict(
        fits=8, steps=1000, batchSize=256, lr=0.01
    )
    digons = playground.state_of(tm.preset("non_uniform").replace(n_seeds=8), 0)
    assert digons["density"] == "0.005,0.05,0.05,0.05,0.05" and digons["importance"] == "1"
    pairs = playground.state_of(tm.preset("anticorrelated").replace(n_seeds=8))
    assert (pairs["correlation"], pairs["setSize"]) == ("anticorrelated", 2)
    hidden = playground.state_of(tm.preset("privileged_basis_live"))
    assert hidden["kind"] == "relu_hidden" and hidden["importance"] == "0.75"


def test_bad_states_and_models_name_the_field_and_its_range():
    good = playground.state_of(tm.preset("intro_browser"))
    cases = [
        (dict(n=40), r"state\['n'\] must be in \[2, 32\], got 40"),
        (dict(m=2.5), r"state\['m'\] must be an integer"),
        (dict(activation="softmax"), r"state\['activation'\] must be one of relu, gelu"),
        (dict(importance="1,2"), r"importance must be one number or 5 numbers"),
        (dict(importance="2"), r"importance as one number is a decay r"),
        (dict(density="0"), r"density must be one number or 5 numbers, each in \[0.001, 1.0\]"),
        (dict(correlation="correlated", setSize=2), r"state\['setSize'\] must divide n=5"),
    ]
    for change, message in cases:
        with pytest.raises(tm.ConfigError, match=message):
            playground.check_state(dict(good, **change))
    with pytest.raises(tm.ConfigError, match="activation must be one of relu, gelu"):
        browser.model_options(tm.preset("softmax_geometry"))
    with pytest.raises(tm.ConfigError, match="tied model"):
        browser.model_options(tm.preset("untied_decoder"))
    with pytest.raises(tm.ConfigError, match="unsigned features"):
        browser.model_options(tm.preset("absolute_value").replace(kind="relu_output"))
    with pytest.raises(tm.ConfigError, match="setting must be an integer in"):
        playground.state_of(tm.preset("intro_browser"), 3)
    with pytest.raises(tm.ConfigError, match="controls must be among"):
        playground.playground_widget(good, controls=("n", "colour"))


def test_the_page_widget_carries_every_preset_and_keeps_its_state_in_the_address():
    widget = tm.playground.playground()
    html = widget._repr_html_()
    assert html.startswith(f'<div class="{browser.LIVE_CLASS}" id="live-{playground.PLAYGROUND_KIND}-')
    assert "function" not in html and len(html) < 30_000
    config = json.loads(CONFIG.search(html).group(1).replace("<\\/", "</"))
    assert config["url"] and config["drawMs"] == playground.DRAW_MS
    assert [preset["label"] for preset in config["presets"]] == list(tm.playground.PRESETS)
    assert config["state"] == config["presets"][0]["state"]
    for preset in config["presets"]:
        playground.check_state(preset["state"])
    names = [row[0] for row in config["geometries"]]
    assert "pentagon" in names and "not learned" in names
    with pytest.raises(tm.ConfigError, match="start must be one of the presets"):
        tm.playground.playground("hexagon")
