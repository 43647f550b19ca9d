"""The playground's presets, each one setting of a book experiment (``toymodels.presets``) trained with the book's
browser protocol, and the page's widget."""

from __future__ import annotations

from ..errors import ConfigError
from ..experiment import Experiment
from ..kit.browser import BrowserLive
from ..kit.playground import playground_widget, state_of
from ..presets import preset

# The protocol of the chapters' live fits in the browser (chapter 1's): steps, batch, lr and best of K.
BROWSER_PROTOCOL = "intro_browser"


def _in_browser(name: str, changes: dict) -> Experiment:
    """The book's preset ``name`` with ``changes``, trained with the browser's protocol (a thousand steps of batch
    256 at lr 0.01, best of 8) unless it is a chapter's browser preset already."""
    experiment = preset(name).replace(**changes)
    if name.endswith("_browser"):
        return experiment
    browser = preset(BROWSER_PROTOCOL)
    return experiment.replace(
        steps=browser.train.steps, batch_size=browser.train.batch_size, lr=browser.train.lr, n_seeds=browser.n_seeds
    )


# label → (book preset, setting, changes): what the preset reproduces is checked by tests/js/outcomes.test.js.
PRESETS = {
    "5 → 2 (ch. 1)": ("intro_browser", 0, {}),
    "phase point (ch. 3)": ("phase_change_browser", 0, {}),
    "pentagon (ch. 4)": ("non_uniform", 0, dict(feature_probability=0.05)),
    "two digons (ch. 4)": ("non_uniform", 0, {}),  # feature 0 ten times sparser than the others: dropped
    "correlated pairs (ch. 4)": ("correlated", 0, {}),
    "anticorrelated pairs (ch. 4)": ("anticorrelated", 0, {}),
    # Book's choice: six equally important features in three dimensions, sparse, settle as three antipodal
    # pairs on orthogonal axes, the octahedron.
    "octahedron, 6 → 3": ("intro_browser", 0, dict(n_features=6, n_hidden=3, importance=1.0, feature_probability=0.05)),
    "privileged basis (ch. 7)": ("privileged_basis_live", 0, {}),
}


def preset_states() -> dict[str, dict]:
    """Each preset's playground state."""
    states = {}
    for label, (name, setting, changes) in PRESETS.items():
        experiment = _in_browser(name, changes)
        states[label] = state_of(experiment, setting % experiment.n_settings)
    return states


def playground(start: str = "5 → 2 (ch. 1)") -> BrowserLive:
    """The playground page's widget: every control, the presets as buttons, the state in the address; it starts
    at the preset ``start``."""
    states = preset_states()
    if start not in states:
        raise ConfigError(f"start must be one of the presets {', '.join(map(repr, states))}, got {start!r}")
    return playground_widget(states[start], presets=states, url=True)
