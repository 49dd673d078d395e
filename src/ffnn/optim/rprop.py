"""Resilient backpropagation (Riedmiller & Braun 1993; MATLAB trainrp, torch.optim.Rprop)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validation import check_number
from ..autodiff.tensor import Tensor
from .first_order import LearningRate, Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: a step size per weight, adapted from the signs of successive gradients.

    .. math::

        \\Delta \\leftarrow \\operatorname{clip}\\big(\\Delta \\cdot
        \\begin{cases} \\eta^+ & g\\,g_{-} > 0 \\\\ \\eta^- & g\\,g_{-} < 0 \\\\
        1 & \\text{otherwise}\\end{cases},\\ \\Delta_{\\min}, \\Delta_{\\max}\\big),
        \\qquad g \\leftarrow 0 \\text{ where } g\\,g_{-} < 0, \\qquad
        p \\leftarrow p - \\operatorname{sign}(g)\\,\\Delta, \\qquad g_{-} \\leftarrow g

    with Δ starting at the learning rate and g₋ at 0: only the sign of the gradient is
    used, so the step does not shrink on the flat regions of saturated sigmoid units.
    This is the variant of ``torch.optim.Rprop`` (Rprop⁻ with the gradient zeroed after
    a sign change, Igel & Hüsken's iRprop⁻), with PyTorch's defaults. MATLAB's ``trainrp``
    (``delta0`` 0.07, ``delt_inc`` 1.2, ``delt_dec`` 0.5, ``deltamax`` 50) corresponds to
    ``Rprop(learning_rate=0.07)``; it keeps the gradient after a sign change.
    Rprop is meant for full-batch training: use ``fit(..., batch_size=None)``.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Parameters to optimise (see :class:`Optimizer`).
    learning_rate : float or LearningRateSchedule, default 0.01
        The initial step size Δ₀ of each weight (read at its first update).
    eta_minus, eta_plus : float, default 0.5, 1.2
        η⁻ ∈ (0, 1) and η⁺ > 1 (PyTorch's ``etas``).
    min_step, max_step : float, default 1e-6, 50
        Δ_min and Δ_max (PyTorch's ``step_sizes``).
    clipnorm, clipvalue, global_clipnorm, weight_decay
        See :class:`Optimizer`.

    References
    ----------
    M. Riedmiller and H. Braun, "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm", IEEE ICNN 1993.
    """

    name = "rprop"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: LearningRate = 0.01,
        *,
        eta_minus: float = 0.5,
        eta_plus: float = 1.2,
        min_step: float = 1e-6,
        max_step: float = 50.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.eta_minus = check_number("eta_minus", eta_minus, low=0.0, high=1.0,
                                      low_open=True, high_open=True)
        self.eta_plus = check_number("eta_plus", eta_plus, low=1.0, low_open=True)
        self.min_step = check_number("min_step", min_step, low=0.0)
        self.max_step = check_number("max_step", max_step, low=self.min_step, low_open=True)
        super().__init__(params, learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, weight_decay=weight_decay)

    def _slots(self) -> tuple[str, ...]:
        return ("prev", "step_size")

    def _slot_minimum(self, slot: str) -> float | None:
        return 0.0 if slot == "step_size" else None

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        tmp: np.ndarray,
        lr: float,
        step: int,
    ) -> None:
        prev, size = state["prev"], state["step_size"]
        if step == 1:
            size.fill(lr)
        np.multiply(g, prev, out=tmp)
        np.sign(tmp, out=tmp)
        factor = np.where(tmp > 0, self.eta_plus, np.where(tmp < 0, self.eta_minus, 1.0))
        np.multiply(size, factor, out=size)
        np.clip(size, self.min_step, self.max_step, out=size)
        flipped = tmp < 0
        np.copyto(prev, g)
        prev[flipped] = 0.0
        np.sign(prev, out=tmp)
        np.multiply(tmp, size, out=tmp)
        np.subtract(p, tmp, out=p)
