"""§6 (chapter 6, superposition and adversarial examples): the analytic attack, gradient attacks for comparison,
the relative vulnerability and adversarial training, with the chapter's figures, tables and live widget.
"""

from .analysis import (
    AdversarialTraining,
    Attack,
    Vulnerability,
    adversarial_training,
    analytic_attack,
    attack_norm,
    evaluation_batch,
    gradient_attack,
    inactive_outputs,
    no_superposition_model,
    reconstruction_loss,
    relative_vulnerability,
    vulnerability,
    zero_gradient_inputs,
)
from .figures import (
    adversarial_training_figure,
    attack_surface,
    attack_surface_slider,
    attacks_compared,
    trained_models_slider,
    vulnerability_figure,
)
from .tables import (
    adversarial_training_summary,
    adversarial_training_table,
    attack_anatomy_table,
    vulnerability_summary,
    vulnerability_table,
)
from .widgets import live_attack

__all__ = [
    "AdversarialTraining",
    "Attack",
    "Vulnerability",
    "adversarial_training",
    "adversarial_training_figure",
    "adversarial_training_summary",
    "adversarial_training_table",
    "attack_anatomy_table",
    "analytic_attack",
    "attack_norm",
    "attack_surface",
    "attack_surface_slider",
    "attacks_compared",
    "evaluation_batch",
    "gradient_attack",
    "inactive_outputs",
    "live_attack",
    "no_superposition_model",
    "reconstruction_loss",
    "relative_vulnerability",
    "trained_models_slider",
    "vulnerability",
    "vulnerability_figure",
    "vulnerability_summary",
    "vulnerability_table",
    "zero_gradient_inputs",
]
