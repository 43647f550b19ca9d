"""§6 (superposition and adversarial examples): the analytic attack and the relative vulnerability; the
chapter's figures, tables and widgets will join them here.
"""

from .analysis import Attack, analytic_attack, reconstruction_loss, relative_vulnerability

__all__ = ["Attack", "analytic_attack", "reconstruction_loss", "relative_vulnerability"]
