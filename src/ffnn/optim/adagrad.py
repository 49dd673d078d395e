"""Adagrad (Duchi, Hazan & Singer, 2011)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validation import check_number
from ..autodiff.tensor import Tensor
from .first_order import LearningRate, Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad`` (without its ``lr_decay``; use a schedule).

    .. math::

        s \\leftarrow s + g^2, \\qquad
        p \\leftarrow p - \\eta\\, \\frac{g}{\\sqrt{s} + \\epsilon}

    with :math:`s` starting at ``initial_accumulator_value``. Defaults are PyTorch's
    (Keras uses ``learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7``).

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.01
        :math:`\\eta`.
    initial_accumulator_value : float, default 0.0
        Starting value of :math:`s` (>= 0).
    epsilon : float, default 1e-10
        :math:`\\epsilon` (>= 0).
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.
    """

    name = "adagrad"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.01,
        *,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-10,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value
        , low=0.0)
        self.epsilon = check_number("epsilon", epsilon, low=0.0)
        super().__init__(
            params,
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )

    def _slots(self) -> tuple[str, ...]:
        return ("sum",)

    def _slot_minimum(self, slot: str) -> float | None:
        return 0.0  # a sum of squares

    def _initial_value(self, slot: str) -> float:
        return self.initial_accumulator_value

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        s = state["sum"]
        np.multiply(g, g, out=tmp)
        np.add(s, tmp, out=s)
        np.sqrt(s, out=tmp)
        np.add(tmp, self.epsilon, out=tmp)
        np.divide(g, tmp, out=tmp)
        np.multiply(tmp, lr, out=tmp)
        np.subtract(p, tmp, out=p)
