"""Nadam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .._validation import check_number
from ..autodiff.tensor import Tensor
from .base import GlobalValue, GlobalValueAttribute
from .first_order import LearningRate, Optimizer

__all__ = ["Nadam"]


class Nadam(Optimizer):
    """Nadam (Dozat, 2016), exactly as ``torch.optim.NAdam``.

    With :math:`t` the step count, :math:`\\psi` = ``momentum_decay`` and the momentum
    schedule :math:`\\mu_t = \\beta_1 (1 - \\tfrac12\\, 0.96^{t\\psi})`:

    .. math::

        m &\\leftarrow \\beta_1 m + (1 - \\beta_1)\\, g, \\qquad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2)\\, g^2, \\qquad
        \\Pi_t = \\prod_{i \\le t} \\mu_i\\\\
        p &\\leftarrow p - \\eta \\left(
            \\frac{1 - \\mu_t}{1 - \\Pi_t}\\, g
            + \\frac{\\mu_{t+1}}{1 - \\Pi_t\\, \\mu_{t+1}}\\, m \\right)
        \\Big/ \\left(\\sqrt{v / (1 - \\beta_2^t)} + \\epsilon\\right)

    The product :math:`\\Pi_t` is **optimiser-level state**: one number for all
    parameters, advanced once per :meth:`step` (Keras keeps it the same way;
    ``torch.optim.NAdam`` keeps a copy per parameter, which is the same number as long
    as every parameter has a gradient at every step). It is saved in model files and
    checkpoints and checked to lie in (0, 1] when loaded. ``weight_decay`` is decoupled
    (see :class:`Optimizer`), as ``torch.optim.NAdam(decoupled_weight_decay=True)``.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.002
        :math:`\\eta` (PyTorch's default).
    beta_1, beta_2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        :math:`\\epsilon` (>= 0), added outside the square root.
    momentum_decay : float, default 0.004
        :math:`\\psi` (>= 0), the pace of the momentum schedule (PyTorch's default).
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.
    """

    name = "nadam"
    mu_product = GlobalValueAttribute("mu_product")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.002,
        *,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        momentum_decay: float = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.beta_1 = check_number("beta_1", beta_1, low=0.0, high=1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0.0)
        self.momentum_decay = check_number("momentum_decay", momentum_decay, low=0.0)
        self._mu = self._mu_next = 0.0
        super().__init__(
            params,
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            weight_decay=weight_decay,
        )

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v")

    def _slot_minimum(self, slot: str) -> float | None:
        return 0.0 if slot == "v" else None  # the second moment

    def _initial_global(self) -> dict[str, GlobalValue]:
        """Π₀ = 1 (the empty product)."""
        return {"mu_product": 1.0}

    def _check_global(self, state: Mapping[str, GlobalValue]) -> None:
        """Π is a product of factors μₜ in (0, 1): it lies in (0, 1]."""
        super()._check_global(state)
        value = state["mu_product"]
        if value is None or not 0.0 < value <= 1.0:
            raise ValueError(f"nadam state 'mu_product' must be in (0, 1], got {value!r}")

    def _schedule(self, t: int) -> float:
        """μₜ = β₁ (1 − ½·0.96^(tψ))."""
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _begin_step(self) -> None:
        """Π ← Π·μₜ for this step t (the optimiser's iterations + 1)."""
        t = self.iterations + 1
        self._mu, self._mu_next = self._schedule(t), self._schedule(t + 1)
        self.mu_product = float(self.mu_product) * self._mu

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        m, v = state["m"], state["v"]
        mu, mu_next, product = self._mu, self._mu_next, float(self.mu_product)
        np.subtract(g, m, out=tmp)  # m += (1 − β₁)(g − m), torch's lerp
        np.multiply(tmp, 1.0 - self.beta_1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(g, g, out=tmp)  # v = β₂ v + (1 − β₂) g², torch's mul_/addcmul_
        np.multiply(tmp, 1.0 - self.beta_2, out=tmp)
        np.multiply(v, self.beta_2, out=v)
        np.add(v, tmp, out=v)
        np.divide(v, 1.0 - self.beta_2**step, out=tmp)  # the denominator √(v/(1 − β₂ᵗ)) + ε
        np.sqrt(tmp, out=tmp)
        np.add(tmp, self.epsilon, out=tmp)
        np.subtract(p, g * (lr * (1.0 - mu) / (1.0 - product)) / tmp, out=p)
        np.subtract(p, m * (lr * mu_next / (1.0 - product * mu_next)) / tmp, out=p)
