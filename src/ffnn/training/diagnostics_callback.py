"""DiagnosticsCallback: training diagnostics added to the history each epoch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import diagnostics
from .callbacks import Callback, Logs

__all__ = ["DiagnosticsCallback"]


class DiagnosticsCallback(Callback):
    """Adds the diagnostics of :func:`ffnn.diagnostics.report` to each epoch's logs.

    Parameters
    ----------
    x : array_like
        The probe batch (e.g. a fixed subset of the training data).
    y : array_like, optional
        Its targets; needed for the ``grad_norm/<layer>`` keys.
    every : int, default 1
        Diagnose after epochs whose index is a multiple of ``every``; the other epochs
        log NaN under the same keys, so every history list has one value per epoch.
    tol, fraction : float
        The saturation criterion, as in :func:`ffnn.diagnostics.report`.

    Attributes
    ----------
    reports : list of (epoch, DiagnosticsReport)
        The full reports of the diagnosed epochs.

    Notes
    -----
    Keys: ``dead_relu/<layer>`` (hidden ReLU layers), ``saturated/<layer>`` (hidden
    sigmoid/tanh/hard_* layers), ``grad_norm/<layer>`` (layers with parameters).
    """

    def __init__(self, x: Any, y: Any = None, every: int = 1, *, tol: float = 0.01,
                 fraction: float = 0.95) -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        diagnostics.check_options(tol, fraction)
        self.x, self.y, self.every = x, y, int(every)
        self.tol, self.fraction = tol, fraction
        self.reports: list[tuple[int, diagnostics.DiagnosticsReport]] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start a fresh list of reports."""
        self.reports = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Diagnose the model (every ``every`` epochs) and add the values to ``logs``."""
        if epoch % self.every == 0:
            result = diagnostics.report(self.model, self.x, self.y, tol=self.tol,
                                        fraction=self.fraction)
            self.reports.append((epoch, result))
            values = result.to_logs()
        else:
            keys = diagnostics.log_keys(self.model, with_gradients=self.y is not None)
            values = dict.fromkeys(keys, math.nan)
        if logs is not None:
            logs.update(values)
