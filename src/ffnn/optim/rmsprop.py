"""RMSprop (Hinton's lecture 6e), optionally centred and with momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validation import check_bool, check_number
from ..autodiff.tensor import Tensor
from .first_order import LearningRate, Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, with PyTorch's update rule and Keras' default hyper-parameters.

    .. math::

        s &\\leftarrow \\rho s + (1 - \\rho)\\, g^2, \\qquad
        \\bar g \\leftarrow \\rho \\bar g + (1 - \\rho)\\, g \\ (\\text{centered only})\\\\
        d &= \\sqrt{s} + \\epsilon
        \\quad\\text{or, centered,}\\quad d = \\sqrt{\\max(s - \\bar g^2, 0)} + \\epsilon\\\\
        p &\\leftarrow p - \\eta\\, g / d
        \\quad\\text{or, with momentum } \\mu:\\quad
        b \\leftarrow \\mu b + g / d,\\ \\ p \\leftarrow p - \\eta b

    This is ``torch.optim.RMSprop`` with ``alpha = rho`` (:math:`\\epsilon` outside the
    square root, :math:`\\eta` applied after the momentum buffer); the clamp at 0 only
    replaces the NaN PyTorch would produce when rounding makes :math:`s - \\bar g^2`
    negative. The defaults are Keras' (``learning_rate=0.001, rho=0.9, epsilon=1e-7``);
    PyTorch's are ``lr=0.01, alpha=0.99, eps=1e-8``. Keras differs in its rule
    (:math:`\\epsilon` inside the square root, :math:`\\eta` inside the momentum buffer).

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.001
        :math:`\\eta`.
    rho : float, default 0.9
        Decay rate :math:`\\rho` of the moving averages, in [0, 1).
    momentum : float, default 0.0
        :math:`\\mu`, in [0, 1).
    epsilon : float, default 1e-7
        :math:`\\epsilon` (>= 0).
    centered : bool, default False
        Normalise by an estimate of the gradient's variance instead of its second moment.
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.
    """

    name = "rmsprop"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.001,
        *,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.rho = check_number("rho", rho, high=1.0, low=0.0, high_open=True)
        self.momentum = check_number("momentum", momentum, high=1.0, low=0.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0.0)
        self.centered = check_bool("centered", centered)
        super().__init__(
            params,
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )

    def _slot_minimum(self, slot: str) -> float | None:
        return 0.0 if slot == "square_avg" else None

    def _slots(self) -> tuple[str, ...]:
        slots: tuple[str, ...] = ("square_avg",)
        if self.centered:
            slots += ("grad_avg",)
        if self.momentum != 0.0:
            slots += ("momentum",)
        return slots

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        # Moving averages as s += (1 - ρ)(g² - s): one scalar ufunc call instead of two.
        s = state["square_avg"]
        np.multiply(g, g, out=tmp)
        np.subtract(tmp, s, out=tmp)
        np.multiply(tmp, 1.0 - self.rho, out=tmp)
        np.add(s, tmp, out=s)
        if self.centered:
            ga = state["grad_avg"]
            np.subtract(g, ga, out=tmp)
            np.multiply(tmp, 1.0 - self.rho, out=tmp)
            np.add(ga, tmp, out=ga)
            np.multiply(ga, ga, out=tmp)
            np.subtract(s, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(s, out=tmp)
        np.add(tmp, self.epsilon, out=tmp)
        np.divide(g, tmp, out=tmp)
        if self.momentum != 0.0:
            b = state["momentum"]
            np.multiply(b, self.momentum, out=b)
            np.add(b, tmp, out=b)
            np.multiply(b, lr, out=tmp)
        else:
            np.multiply(tmp, lr, out=tmp)
        np.subtract(p, tmp, out=p)
