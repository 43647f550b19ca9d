"""toymodels: a fast, tested replication of *Toy Models of Superposition* (Elhage et al., 2022).

    import toymodels as tm
    exp = tm.preset("intro")                   # or tm.Experiment(tm.ModelConfig(5, 2), ...)
    result = tm.train(exp)                     # every setting × seed as one batched run
    best = result.best()                       # best-of-K: one instance per setting
    tm.feature_dimensionality(best.W)          # metrics take W of shape (instance, hidden, feature)

Layers, imported one way (core ← kit ← sections ← notebooks):

* the core, which knows no chapter: ``config`` and ``experiment`` (dataclasses), ``errors`` (every exception),
  ``validation`` (checking what users pass), ``presets`` (the paper's experiments), ``grids`` (the (r, density)
  grids of the phase diagrams), ``data`` (sparse features), ``models`` (the toy models and their hand-derived
  gradients), ``train``, ``results`` (what it returns), ``workers`` (the processes a sweep trains on),
  ``finite`` (training on a finite dataset), ``metrics``, ``losses`` (exact expected losses), ``theory`` (closed
  forms), ``vocabulary`` (the paper's polytopes and the thresholds that name what a fit does, defined once),
  ``store`` (the committed results store);
* the presentation kit, ``kit``: the book's renderer and set-up, ``Table``, figure building blocks, live sliders;
* one home per paper section, holding its analysis, figures, tables and live widgets: ``intro`` (§1),
  ``basic`` (§2), ``phase`` (§3), ``geometry`` (§4), ``dynamics`` (§5), ``adversarial`` (§6), ``privileged``
  (§8), ``computation`` (§10), ``ways_out`` (§9), ``nonlinearities`` and ``memorization`` (Henighan et al.,
  2023), all loaded with the package (``tm.<section>``), and ``design`` (why this model?) and ``scaling`` (Liu,
  Liu & Gore, 2025), whose folders are found on first use. A section imports the core and the kit,
  never another section (``tests/test_layers.py``).

A seed trains to the same bits on one machine however a sweep is split; another CPU (or torch's kernels for
another instruction set) rounds differently in the last bits, so the results store records the machine of each
entry and verifies bit for bit on the same machine, to a measured tolerance elsewhere (``store``).
"""

# Modules: the presentation kit, the results store, closed forms, the paper's vocabulary, and every section.
from . import (
    adversarial,
    basic,
    computation,
    dynamics,
    geometry,
    intro,
    kit,
    memorization,
    nonlinearities,
    phase,
    privileged,
    store,
    theory,
    vocabulary,
    ways_out,
)
from .config import DataConfig, ModelConfig, TrainConfig
from .data import FeatureSampler, sample_features, target_of
from .errors import ConfigError, StoreError, StoreWarning, TrainingDiverged, WorkerLost
from .experiment import Experiment, importance_decay, log_densities, power_law_densities
from .metrics import (
    count_represented,
    dimensions_per_feature,
    feature_dimensionality,
    feature_norms,
    neuron_counts,
    neuron_features,
    represented_features,
    superposition,
)
from .models import ToyModel, loss_and_grads
from .presets import PRESETS, list_presets, preset
from .results import History, TrainResult
from .store import ResultsStore, load, save
from .train import TRAINER_VERSION, Trainer, evaluate, train

try:  # the installed distribution's version (pyproject.toml), so that there is one place to bump it
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("toymodels")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    """``tm.<section>`` for a section package that is not imported above: a new chapter's home under
    ``toymodels/`` is found without an edit here."""
    import importlib

    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise  # the section exists but imports something missing: say so
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # the documented public API
    # configuration and presets
    "ConfigError",
    "TrainingDiverged",
    "WorkerLost",
    "DataConfig",
    "Experiment",
    "ModelConfig",
    "TrainConfig",
    "importance_decay",
    "log_densities",
    "power_law_densities",
    "PRESETS",
    "preset",
    "list_presets",
    # data, models, training
    "FeatureSampler",
    "sample_features",
    "target_of",
    "ToyModel",
    "loss_and_grads",
    "TRAINER_VERSION",
    "History",
    "Trainer",
    "TrainResult",
    "evaluate",
    "train",
    # the results store
    "ResultsStore",
    "StoreError",
    "StoreWarning",
    "save",
    "load",
    # metrics
    "count_represented",
    "represented_features",
    "dimensions_per_feature",
    "feature_dimensionality",
    "feature_norms",
    "neuron_counts",
    "neuron_features",
    "superposition",
    # modules
    "kit",
    "store",
    "theory",
    "vocabulary",
    "intro",
    "basic",
    "phase",
    "geometry",
    "dynamics",
    "adversarial",
    "privileged",
    "computation",
    "ways_out",
    "nonlinearities",
    "memorization",
]
