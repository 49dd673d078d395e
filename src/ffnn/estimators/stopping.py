"""scikit-learn's MLP stopping rule as an ffnn callback, :class:`SklearnStopping`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..training.callbacks import Callback

if TYPE_CHECKING:
    from .base import BaseMLP

__all__ = ["SklearnStopping"]


class SklearnStopping(Callback):
    """scikit-learn's MLP stopping rule as an ffnn callback.

    After each epoch the training loss is appended to the estimator's ``loss_curve_``
    (except for L-BFGS, whose curve the estimator takes per iteration from the
    optimiser), the validation loss (``val_loss`` of the logs) to
    ``validation_loss_curve_`` and the validation score (accuracy or R²) to
    :attr:`scores`. Without early stopping an epoch counts as "no improvement" when its
    loss exceeds ``best_loss − tol``; with early stopping when the validation score is
    below ``best_score + tol``, and the weights of the best-scoring epoch are kept in
    :attr:`best_weights`. Training stops after ``n_iter_no_change + 1`` consecutive such
    epochs, as in scikit-learn's MLP.

    Parameters
    ----------
    estimator : BaseMLP
        Provides ``tol``, ``n_iter_no_change``, the curves and the scorer.
    validation : (X, y, sample_weight) or None
        Validation data (original labels) for the score.
    early : bool
        Stop on the validation score (else on the training loss).
    best_loss : float
        The best loss before this training run (``inf`` for a fresh one).
    no_improvement : int
        Epochs without improvement before this run.
    lbfgs : bool
        Leave ``loss_curve_`` to the estimator.
    """

    def __init__(self, estimator: BaseMLP, validation: tuple[Any, Any, Any] | None,
                 early: bool = False, best_loss: float = np.inf, no_improvement: int = 0,
                 lbfgs: bool = False) -> None:
        self.estimator = estimator
        self.validation = validation
        self.early = early and validation is not None
        self.lbfgs = lbfgs
        self.best_loss = best_loss
        self.best_score = -np.inf
        self.scores: list[float] = []
        self.no_improvement = no_improvement
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Record the epoch and stop training when it has stopped improving."""
        est, logs = self.estimator, logs if logs is not None else {}
        loss = float(logs["loss"])
        if not self.lbfgs:
            est.loss_curve_.append(loss)
        if "val_loss" in logs:
            est.validation_loss_curve_.append(float(logs["val_loss"]))
        if self.validation is not None:
            score = est._score_arrays(*self.validation)
            logs["val_score"] = score
            self.scores.append(score)
            score_improved = score >= self.best_score + est.tol
            if score > self.best_score:
                self.best_score = score
                if self.early:
                    self.best_weights = self.model.get_weights()
        if self.early:
            improved = score_improved
            what = "Validation score"
        else:
            improved = loss <= self.best_loss - est.tol
            what = "Training loss"
        self.best_loss = min(self.best_loss, loss)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement > est.n_iter_no_change:
            self.model.stop_training = True
            self.model.stop_reason = (
                f"{what} did not improve more than tol={est.tol} for "
                f"{est.n_iter_no_change} consecutive epochs"
            )


