"""Regression losses: the least-squares family (mse, sse, quadratic) and mae."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import autodiff as F
from ...autodiff import Tensor
from .base import Loss, _per_sample

__all__ = ["MeanAbsoluteError", "MeanSquaredError", "QuadraticCost", "SumSquaredError"]


class _Squared(Loss):
    """Shared code of the least-squares losses: c·Σₙ Σₖ rₙₖ² with r = ŷ − y."""

    _factor: Callable[[int, int], float]

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        r = y_pred - y
        n, k = y_pred.shape[0], y_pred.size // y_pred.shape[0]
        c = self.least_squares_factor(n, k) * (n if self.reduction == "mean" else 1)
        return _per_sample(r * r, F.sum) * c

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        c = self.least_squares_factor(y_pred.shape[0], y_pred.size // y_pred.shape[0])
        return F.squared_error(y_pred, y, c)

    def least_squares_factor(self, n_samples: int, n_outputs: int) -> float:
        return type(self)._factor(n_samples, n_outputs)


class MeanSquaredError(_Squared):
    """L = (1/(N·K)) Σₙ Σₖ (yₙₖ − ŷₙₖ)², the mean over samples and outputs.

    As Keras's ``mse`` and PyTorch's ``mse_loss``; least-squares factor 1/(N·K).
    """

    name = "mse"
    _factor = staticmethod(lambda n, k: 1.0 / (n * k))


class SumSquaredError(_Squared):
    """L = Σₙ Σₖ (yₙₖ − ŷₙₖ)², the sum over samples and outputs (MATLAB's ``sse``).

    Weighted: Σₙ wₙ Σₖ (yₙₖ − ŷₙₖ)². Least-squares factor 1.
    """

    name = "sse"
    reduction = "sum"
    _factor = staticmethod(lambda n, k: 1.0)


class QuadraticCost(_Squared):
    """L = (1/N) Σₙ ½‖yₙ − ŷₙ‖², the notes' quadratic cost (mean over samples of half
    the squared error norm); its gradient with respect to ŷₙ is (ŷₙ − yₙ)/N.

    Least-squares factor 1/(2N).
    """

    name = "quadratic"
    _factor = staticmethod(lambda n, k: 0.5 / n)


class MeanAbsoluteError(Loss):
    """L = (1/(N·K)) Σₙ Σₖ |yₙₖ − ŷₙₖ|, the mean over samples and outputs.

    As Keras's ``mae`` and PyTorch's ``l1_loss``; the gradient at a zero residual is 0.
    """

    name = "mae"

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return _per_sample(F.abs(y_pred - y), F.mean)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return F.mean(F.abs(y_pred - y))
