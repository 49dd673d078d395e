"""The threshold, saturating and basis activations: the McCulloch–Pitts neuron and the
MATLAB transfer functions that have no other counterpart in ffnn.

Each is composed from the engine's primitives (``sign``, ``relu``, ``clip``, ``abs``,
``exp``), so none has gradient code of its own; the derivative each docstring states is
the one the engine returns, kinks included. :mod:`ffnn.nn.activations` registers them
with their MATLAB names as aliases (``hardlim``, ``hardlims``, ``satlin``, ``radbas``,
``tribas``); the MATLAB names of functions ffnn already had (``logsig``, ``tansig``,
``purelin``, ``poslin``, ``satlins``) are aliases registered there.
"""

from __future__ import annotations

from typing import Any

from .. import autodiff as F
from ..autodiff import Tensor

__all__ = ["gaussian", "saturating_linear", "step", "symmetric_step", "triangular"]


def _negative_part_sign(x: Any) -> Tensor:
    """sign(max(0, −x)): 1 where x < 0, 0 where x ≥ 0; zero gradient everywhere."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    return F.sign(F.relu(-x))


def step(x: Any) -> Tensor:
    """f(x) = 1 for x ≥ 0, 0 for x < 0: the threshold unit of the McCulloch–Pitts neuron.

    f'(x) = 0 everywhere (the engine returns 0 at x = 0 too). The notes' M-P neuron
    fires (outputs 1) when its net input reaches the threshold, here folded into the
    bias; this is MATLAB's hard-limit transfer function, alias ``hardlim``: 1 if
    n ≥ 0, 0 otherwise (https://www.mathworks.com/help/deeplearning/ref/hardlim.html).
    Computed as 1 − sign(max(0, −x)). Not trainable by backpropagation.
    """
    return 1.0 - _negative_part_sign(x)


def symmetric_step(x: Any) -> Tensor:
    """f(x) = 1 for x ≥ 0, −1 for x < 0; f'(x) = 0 everywhere.

    MATLAB's symmetric hard-limit transfer function, alias ``hardlims``: 1 if n ≥ 0,
    −1 otherwise (https://www.mathworks.com/help/deeplearning/ref/hardlims.html). It
    differs from :func:`~ffnn.nn.activations.sign` only at 0, where sign gives 0.
    Computed as 1 − 2·sign(max(0, −x)).
    """
    return 1.0 - 2.0 * _negative_part_sign(x)


def saturating_linear(x: Any) -> Tensor:
    """f(x) = max{0, min{1, x}}; f'(x) = 1 for 0 < x < 1, 0 for x < 0 or x > 1.

    The notes' saturated linear output unit for a Bernoulli probability
    (p = max{0, min{1, wᵀh + b}}, note 1); MATLAB's positive saturating linear transfer
    function, alias ``satlin``: 0 for n ≤ 0, n for 0 ≤ n ≤ 1, 1 for n ≥ 1
    (https://www.mathworks.com/help/deeplearning/ref/satlin.html). At the kinks x = 0
    and x = 1 the engine returns 1 (``clip`` passes the gradient on the closed interval).
    """
    return F.clip(x, 0.0, 1.0)


def gaussian(x: Any) -> Tensor:
    """f(x) = exp(−x²); f'(x) = −2x·exp(−x²).

    MATLAB's radial basis transfer function, alias ``radbas``: a = exp(−n²)
    (https://www.mathworks.com/help/deeplearning/ref/radbas.html). For large |x| the
    value underflows to 0, never to NaN.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return F.exp(-(x * x))


def triangular(x: Any) -> Tensor:
    """f(x) = max{0, 1 − |x|}; f'(x) = −sign(x) for 0 < |x| < 1, 0 for |x| > 1.

    MATLAB's triangular basis transfer function, alias ``tribas``: 1 − |n| for
    −1 ≤ n ≤ 1, 0 otherwise (https://www.mathworks.com/help/deeplearning/ref/tribas.html).
    At the kinks the engine returns 0: at x = 0 because |x|' = sign(0) = 0, at |x| = 1
    because ReLU's derivative is I(z > 0).
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return F.relu(1.0 - F.abs(x))
