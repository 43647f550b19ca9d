"""Every exception and warning the package raises, in one place (each also importable from the top level)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A parameter is outside its allowed range; the message names the parameter and the range."""


class TrainingDiverged(ConfigError):
    """Training produced non-finite weights or losses; the message names the experiment, the step, the settings
    and the learning rate. Nothing of the run is returned or stored."""


class WorkerLost(RuntimeError):
    """A worker process died while training a share of a sweep (out of memory, killed, or an unguarded script
    that spawned workers re-ran): the message names the settings whose results were lost. Nothing of the sweep
    is returned, so nothing of it can be stored."""


class StoreError(RuntimeError):
    """A store entry is missing, stale or corrupt where it must be used as it is."""


class StoreWarning(UserWarning):
    """The store could not do something that loses no result: a write that failed (the result is returned, not
    stored), or the book's results that could not be found or fetched (the chapters then train)."""


__all__ = ["ConfigError", "TrainingDiverged", "WorkerLost", "StoreError", "StoreWarning"]
