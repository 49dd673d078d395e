"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validation import check_bool, check_number
from ..autodiff.tensor import Tensor
from ._blas import axpy
from .first_order import LearningRate, Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's momentum semantics.

    .. math::

        v &\\leftarrow \\mu v + (1 - d)\\, g \\quad (v \\leftarrow g \\text{ on the first step})\\\\
        p &\\leftarrow p - \\eta v \\quad\\text{or, with Nesterov,}\\quad
        p \\leftarrow p - \\eta (g + \\mu v)

    and, without momentum (:math:`\\mu = 0`), plain :math:`p \\leftarrow p - \\eta g`.
    This is ``torch.optim.SGD`` (the velocity holds gradients, the learning rate is
    applied afterwards, so changing :math:`\\eta` does not rescale past velocity); Keras'
    ``SGD`` stores :math:`-\\eta`-scaled velocities instead. Weight decay is decoupled
    (see :class:`Optimizer`), unlike ``torch.optim.SGD``'s L2 term.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.01
        :math:`\\eta`.
    momentum : float, default 0.0
        :math:`\\mu`, in [0, 1).
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    dampening : float, default 0.0
        :math:`d`, in [0, 1], as in PyTorch.
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.
    """

    name = "sgd"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.01,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.momentum = check_number("momentum", momentum, high=1.0, low=0.0, high_open=True)
        self.nesterov = check_bool("nesterov", nesterov)
        self.dampening = check_number("dampening", dampening, high=1.0, high_open=False, low=0.0)
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening == 0")
        super().__init__(
            params,
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )

    def _slots(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0.0 else ()

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        mu = self.momentum
        if mu == 0.0:
            axpy(-lr, g, p, tmp)  # p ← p − η·g, one pass through BLAS for large p
            return
        v = state["momentum"]
        if step == 1:
            np.copyto(v, g)
        else:
            np.multiply(v, mu, out=v)
            if self.dampening:
                np.multiply(g, 1.0 - self.dampening, out=tmp)
                np.add(v, tmp, out=v)
            else:
                np.add(v, g, out=v)
        if self.nesterov:
            np.multiply(v, mu, out=tmp)
            np.add(tmp, g, out=tmp)
            axpy(-lr, tmp, p, tmp)
        else:
            axpy(-lr, v, p, tmp)
