"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .._validation import check_bool, check_number
from ..autodiff.tensor import Tensor
from ._blas import axpy
from .first_order import LearningRate, Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), exactly as ``torch.optim.Adam``.

    With :math:`t` the parameter's step count (1 on its first update):

    .. math::

        m &\\leftarrow \\beta_1 m + (1 - \\beta_1)\\, g, \\qquad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2)\\, g^2\\\\
        \\hat v &= v \\quad(\\text{AMSGrad: } \\hat v \\leftarrow \\max(\\hat v, v))\\\\
        p &\\leftarrow p - \\frac{\\eta}{1 - \\beta_1^t}\\,
        \\frac{m}{\\sqrt{\\hat v} / \\sqrt{1 - \\beta_2^t} + \\epsilon}

    (:math:`\\epsilon` is added outside the bias-corrected square root, as in PyTorch and
    the paper). ``weight_decay`` is decoupled (see :class:`Optimizer`), so
    ``Adam(weight_decay=w)`` is AdamW, not ``torch.optim.Adam``'s L2 penalty.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.001
        :math:`\\eta`.
    beta_1, beta_2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        :math:`\\epsilon` (>= 0), PyTorch's default (Keras uses 1e-7).
    amsgrad : bool, default False
        Use the running maximum of :math:`v` (Reddi et al., 2018).
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.
    """

    name = "adam"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.001,
        *,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.beta_1 = check_number("beta_1", beta_1, high=1.0, low=0.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, high=1.0, low=0.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0.0)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        super().__init__(
            params,
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def _slot_minimum(self, slot: str) -> float | None:
        return 0.0 if slot in ("v", "v_max") else None  # second moments

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        # Algebraically the rule above, arranged for few scalar ufunc calls (the cost on
        # small tensors): moments as m += (1 - β₁)(g - m), and the bias corrections folded
        # into one step size, m̂/(√v̂ + ε) = c₂ m / (c₁ (√v + ε c₂)) with c₂ = √(1 - β₂ᵗ).
        m, v = state["m"], state["v"]
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, 1.0 - self.beta_1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(g, g, out=tmp)
        np.subtract(tmp, v, out=tmp)
        np.multiply(tmp, 1.0 - self.beta_2, out=tmp)
        np.add(v, tmp, out=v)
        if self.amsgrad:
            v = np.maximum(state["v_max"], v, out=state["v_max"])
        c2 = math.sqrt(1.0 - self.beta_2**step)
        np.sqrt(v, out=tmp)
        np.add(tmp, self.epsilon * c2, out=tmp)
        np.divide(m, tmp, out=tmp)
        # p ← p − η′·tmp, in one BLAS pass for large parameters (after the NumPy passes:
        # see optim/_blas.py for why not in between)
        axpy(-(lr * c2 / (1.0 - self.beta_1**step)), tmp, p, tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    .. math::

        p \\leftarrow p - \\eta \\lambda p, \\quad\\text{then the } :class:`Adam`
        \\text{ update of } p

    Identical to :class:`Adam` except for the default ``weight_decay`` :math:`\\lambda`
    = 0.01 (PyTorch's default; Keras' is 0.004).

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.001
        :math:`\\eta`.
    beta_1, beta_2, epsilon, amsgrad
        See :class:`Adam`.
    weight_decay : float, default 0.01
        :math:`\\lambda`.
    clipnorm, clipvalue, global_clipnorm
        See :class:`Optimizer`.
    """

    name = "adamw"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.001,
        *,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(
            params,
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )
