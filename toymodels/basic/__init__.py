"""§2, chapter 2 (demonstrating superposition): the linear and ReLU sweeps and the loss accounting."""

from .analysis import loss_accounting
from .figures import compare_sweeps, loss_decomposition
from .tables import accounting_table, sweep_table

__all__ = ["loss_accounting", "sweep_table", "accounting_table", "compare_sweeps", "loss_decomposition"]
