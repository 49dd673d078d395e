"""Regression losses: the least-squares family (mse, sse, quadratic), mae and Huber."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import autodiff as F
from ...autodiff import Tensor
from .base import Loss, _per_sample

__all__ = ["Huber", "MeanAbsoluteError", "MeanSquaredError", "QuadraticCost",
           "SumSquaredError"]


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


class Huber(Loss):
    """L = (1/(N·K)) Σₙ Σₖ h_δ(yₙₖ − ŷₙₖ), the mean over samples and outputs of

    .. math::

        h_\\delta(r) = \\begin{cases} \\tfrac12 r^2 & |r| \\le \\delta \\\\
                     \\delta\\,(|r| - \\tfrac12 \\delta) & |r| > \\delta \\end{cases}

    quadratic near zero and linear beyond ``delta``, so outliers pull less than under
    the squared error. As ``torch.nn.HuberLoss(delta=δ)`` and Keras's ``Huber(delta)``.
    Computed as ½q² + δ(|r| − q) with q = min(|r|, δ), composed from primitives; its
    gradient with respect to ŷ is −clip(r, −δ, δ)/(N·K).

    Parameters
    ----------
    delta : float, default 1.0
        The threshold δ > 0 between the quadratic and the linear part.
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating)) \
                or not np.isfinite(delta) or delta <= 0:
            raise ValueError(f"huber: delta must be a finite number > 0, got {delta!r}")
        self.delta = float(delta)

    def elementwise(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        """h_δ(y − ŷ) for every entry."""
        a = F.abs(y_pred - y)
        q = F.minimum(a, self.delta)
        return q * q * 0.5 + (a - q) * self.delta

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return _per_sample(self.elementwise(y, y_pred), F.mean)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return F.mean(self.elementwise(y, y_pred))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "delta": self.delta}
