"""Activation functions: the catalogue of the lecture notes as composites of engine ops.

Every activation here is built from the engine's primitives, so none needs gradient
code; the engine's stable primitives (sigmoid, softplus, tanh, softmax, erf) are used
where they exist. :data:`ACTIVATIONS` maps each name to its function
``f(x, **params) -> Tensor``; :class:`ActivationFunction` binds a name to parameter
values and is what layers hold. :func:`get` resolves any accepted identifier.

The threshold, saturating-linear and basis units (``step``, ``symmetric_step``,
``saturating_linear``, ``gaussian``, ``triangular``) live in
:mod:`ffnn.nn.transfer_functions` and are registered here. MATLAB's transfer-function
names (``logsig``, ``tansig``, ``purelin``, ``poslin``, ``satlin``, ``satlins``,
``hardlim``, ``hardlims``, ``radbas``, ``tribas``) are aliases of the entries with the
same formula. The parametric ReLU is a layer (its slope is learned), see
:mod:`ffnn.nn.layers`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .. import autodiff as F
from .._registry import Registry, bind_params, split_config
from .._validation import check_number
from ..autodiff import Tensor
from .transfer_functions import gaussian, saturating_linear, step, symmetric_step, triangular

__all__ = [
    "ACTIVATIONS",
    "ActivationFunction",
    "abs",
    "elu",
    "gaussian",
    "gelu",
    "get",
    "hard_logistic",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "relu",
    "saturating_linear",
    "serialize",
    "sigmoid",
    "sign",
    "softmax",
    "softplus",
    "step",
    "swish",
    "symmetric_step",
    "tanh",
    "triangular",
]

ACTIVATIONS: Registry[Callable[..., Tensor]] = Registry("activation")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def linear(x: Any) -> Tensor:
    """f(x) = x, the identity (a linear unit); f'(x) = 1.

    Alias ``purelin``, MATLAB's linear transfer function a = n
    (https://www.mathworks.com/help/deeplearning/ref/purelin.html).
    """
    return _tensor(x)


def sigmoid(x: Any) -> Tensor:
    """f(x) = σ(x) = 1 / (1 + exp(−x)), the logistic function; f'(x) = f(x)(1 − f(x)).

    Computed by the engine's stable primitive (no overflow for any x). Aliases
    ``logistic`` and ``logsig``, MATLAB's log-sigmoid transfer function
    a = 1/(1 + exp(−n)) (https://www.mathworks.com/help/deeplearning/ref/logsig.html).
    """
    return F.sigmoid(x)


def tanh(x: Any) -> Tensor:
    """f(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) = 2σ(2x) − 1; f'(x) = 1 − f(x)².

    Zero-centred, unlike the logistic function. Alias ``tansig``, MATLAB's hyperbolic
    tangent sigmoid transfer function a = 2/(1 + exp(−2n)) − 1, "mathematically
    equivalent to tanh(N)" in its documentation
    (https://www.mathworks.com/help/deeplearning/ref/tansig.html); computed as tanh.
    """
    return F.tanh(x)


def hard_logistic(x: Any) -> Tensor:
    """f(x) = max(min(0.25x + 0.5, 1), 0); f'(x) = 0.25 for |x| < 2, 0 for |x| > 2.

    At the kinks x = ±2, where f has no derivative, the engine returns 0.25 (the
    gradient of ``clip`` passes wherever its input lies in the closed interval).

    It is the notes' piecewise-linear approximation of σ by its first-order Taylor
    expansion at 0 (slope σ'(0) = 0.25). Keras's ``hard_sigmoid`` uses slope 0.2 (Keras 2) or 1/6
    (Keras 3) and PyTorch's ``hardsigmoid`` uses 1/6, so their values differ from this one.
    """
    return F.clip(_tensor(x) * 0.25 + 0.5, 0.0, 1.0)


def hard_tanh(x: Any) -> Tensor:
    """f(x) = max(min(x, 1), −1); f'(x) = 1 for |x| < 1, 0 for |x| > 1.

    At the kinks x = ±1 the engine returns 1 (``clip`` passes the gradient on the
    closed interval). Alias ``satlins``: MATLAB's symmetric saturating linear transfer
    function, −1 for n ≤ −1, n for −1 ≤ n ≤ 1, 1 for n ≥ 1
    (https://www.mathworks.com/help/deeplearning/ref/satlins.html).
    """
    return F.clip(x, -1.0, 1.0)


def relu(x: Any) -> Tensor:
    """f(x) = max(0, x), the rectified linear unit; f'(x) = I(x > 0) (0 at x = 0).

    Alias ``poslin``, MATLAB's positive linear transfer function: n for n ≥ 0, 0 for
    n ≤ 0 (https://www.mathworks.com/help/deeplearning/ref/poslin.html).
    """
    return F.relu(x)


def leaky_relu(x: Any, gamma: float = 0.01) -> Tensor:
    """f(x) = x for x > 0, γx for x ≤ 0 (= max(0, x) + γ min(0, x)); f'(x) = 1 or γ.

    Parameters
    ----------
    x : Tensor
    gamma : float, default 0.01
        The slope γ for x ≤ 0 (the notes' "small value like 0.01").
    """
    x = _tensor(x)
    return F.where(x.data > 0, x, x * gamma)


def elu(x: Any, gamma: float = 1.0) -> Tensor:
    """f(x) = x for x > 0, γ(exp(x) − 1) for x ≤ 0; f'(x) = I(x > 0) + I(x ≤ 0)·γ exp(x).

    Parameters
    ----------
    x : Tensor
    gamma : float, default 1.0
        The scale γ of the negative branch (PyTorch and Keras call it ``alpha``).

    Notes
    -----
    The exponential is evaluated at min(x, 0) so that large positive inputs never
    overflow (an overflowing branch would poison the gradient with inf·0 = NaN).
    """
    x = _tensor(x)
    pos = x.data > 0
    neg_branch = (F.exp(F.where(pos, 0.0, x)) - 1.0) * gamma
    return F.where(pos, x, neg_branch)


def softplus(x: Any) -> Tensor:
    """f(x) = log(1 + exp(x)), a smooth ReLU; f'(x) = σ(x). Stable for any x."""
    return F.softplus(x)


def swish(x: Any, beta: float = 1.0) -> Tensor:
    """f(x) = x·σ(βx); f'(x) = σ(βx) + βx·σ(βx)(1 − σ(βx)).

    β interpolates between the linear function (β → 0 gives x/2) and ReLU (β → ∞);
    β = 1 is PyTorch's SiLU.

    Parameters
    ----------
    x : Tensor
    beta : float, default 1.0
    """
    x = _tensor(x)
    return x * F.sigmoid(x if beta == 1.0 else x * beta)


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Any, approximate: str = "none", mu: float = 0.0, sigma: float = 1.0) -> Tensor:
    """f(x) = x·P(X ≤ x) = x·Φ((x − μ)/σ) with X ~ N(μ, σ²) and Φ the standard normal CDF.

    f'(x) = Φ(u) + (x/σ)·φ(u) with u = (x − μ)/σ and φ the standard normal density.
    The notes define GELU with the CDF of a general N(μ, σ²); the defaults μ = 0, σ = 1
    give the usual ½x(1 + erf(x/√2)) (Hendrycks & Gimpel, 2016), computed exactly as
    before the parameters existed (bit for bit).

    Parameters
    ----------
    x : Tensor
    approximate : {"none", "tanh"}, default "none"
        ``"tanh"`` replaces Φ(u) by ½(1 + tanh(√(2/π)(u + 0.044715u³))) (Hendrycks &
        Gimpel, 2016), as PyTorch's ``approximate='tanh'``.
    mu : float, default 0.0
        Mean μ of the Gaussian.
    sigma : float, default 1.0
        Standard deviation σ > 0 of the Gaussian.

    Raises
    ------
    ValueError
        For an unknown ``approximate`` or σ ≤ 0.
    """
    _check_gelu(approximate, mu, sigma)
    x = _tensor(x)
    u = x if (mu == 0.0 and sigma == 1.0) else (x - mu) * (1.0 / sigma)
    if approximate == "none":
        return x * 0.5 * (F.erf(u * _SQRT_HALF) + 1.0)
    inner = (u + u * u * u * 0.044715) * _SQRT_2_OVER_PI
    return x * 0.5 * (F.tanh(inner) + 1.0)


def _check_gelu(approximate: str = "none", mu: float = 0.0, sigma: float = 1.0) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    check_number("gelu: mu", mu)
    check_number("gelu: sigma", sigma, low=0.0, low_open=True)


def abs(x: Any) -> Tensor:
    """f(x) = |x| = max(0, x) − min(0, x), absolute-value rectification; f'(x) = sign(x)."""
    return F.abs(x)


def sign(x: Any) -> Tensor:
    """f(x) = sign(x) ∈ {−1, 0, 1}, the Rosenblatt perceptron's output; f'(x) = 0.

    sign(0) = 0 (NumPy's and the notes' convention). Its gradient is zero everywhere,
    so it cannot be trained by backpropagation; the perceptron has its own rule. For
    the 0/1 threshold of the McCulloch–Pitts neuron see :func:`step`, for MATLAB's ±1
    ``hardlims`` (which gives +1 at 0) :func:`symmetric_step`.
    """
    return F.sign(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """f(x)ₖ = exp(xₖ) / Σⱼ exp(xⱼ) along ``axis``; ∂fₖ/∂xⱼ = fₖ(δₖⱼ − fⱼ).

    Computed with the maximum subtracted, so any magnitude is safe.

    Parameters
    ----------
    x : Tensor
    axis : int, default -1
    """
    return F.softmax(x, axis=axis)


# MATLAB's transfer-function names are aliases of the entry with the same formula.
ACTIVATIONS.register("linear", linear, aliases=("purelin", "identity"))
ACTIVATIONS.register("sigmoid", sigmoid, aliases=("logistic", "logsig"))
ACTIVATIONS.register("tanh", tanh, aliases=("tansig",))
ACTIVATIONS.register("hard_logistic", hard_logistic)
ACTIVATIONS.register("hard_tanh", hard_tanh, aliases=("satlins",))
ACTIVATIONS.register("saturating_linear", saturating_linear, aliases=("satlin",))
ACTIVATIONS.register("relu", relu, aliases=("poslin",))
ACTIVATIONS.register("leaky_relu", leaky_relu)
ACTIVATIONS.register("elu", elu)
ACTIVATIONS.register("softplus", softplus)
ACTIVATIONS.register("swish", swish)
ACTIVATIONS.register("gelu", gelu)
ACTIVATIONS.register("abs", abs)
ACTIVATIONS.register("sign", sign)
ACTIVATIONS.register("step", step, aliases=("hardlim",))
ACTIVATIONS.register("symmetric_step", symmetric_step, aliases=("hardlims",))
ACTIVATIONS.register("gaussian", gaussian, aliases=("radbas",))
ACTIVATIONS.register("triangular", triangular, aliases=("tribas",))
ACTIVATIONS.register("softmax", softmax)

def _check_softmax_rank(rank: int, axis: int = -1) -> None:
    if not -rank <= axis < rank:
        raise ValueError(f"softmax: axis {axis} is out of range for outputs of rank {rank} "
                         f"(valid axes: {-rank} to {rank - 1})")


# Checks of parameter values beyond their types, run once when an activation is bound,
# and of the parameters that depend on the rank of the arrays it is applied to, run by
# the layer that holds it (ActivationFunction.check_rank).
_PARAM_CHECKS: dict[str, Callable[..., None]] = {"gelu": _check_gelu}
_RANK_CHECKS: dict[str, Callable[..., None]] = {"softmax": _check_softmax_rank}


# ----------------------------------------------------------- configs (shared in nn)
class ActivationFunction:
    """An activation function bound to its parameter values.

    Parameters
    ----------
    name : str
        A name of :data:`ACTIVATIONS` (aliases allowed; :attr:`name` is canonical).
    **params
        The function's parameters, e.g. ``gamma=0.2`` for ``"leaky_relu"``.

    Attributes
    ----------
    name : str
        The canonical registry name (``"sigmoid"`` for ``"logistic"``); layers, the model
        and diagnostics rely on it to recognise sigmoid, softmax, relu and tanh units.
        A wrapped plain callable is named ``"custom:<function name>"``.
    params : dict
        The parameter values.
    """

    __slots__ = ("_fn", "name", "params")

    def __init__(self, name: str, **params: Any) -> None:
        fn = ACTIVATIONS.lookup(name)
        self.name = ACTIVATIONS.canonical(name)
        self._fn: Callable[..., Tensor] = fn
        self.params: dict[str, Any] = bind_params("activation", self.name, fn, params, skip=1,
                                            choices={"approximate": ("none", "tanh")})
        if self.name in _PARAM_CHECKS:
            _PARAM_CHECKS[self.name](**self.params)

    @classmethod
    def from_callable(cls, fn: Callable[[Tensor], Tensor]) -> ActivationFunction:
        """Wrap a plain callable ``fn(x: Tensor) -> Tensor`` (its config cannot be saved)."""
        obj = cls.__new__(cls)
        obj._fn = fn
        obj.name = f"custom:{getattr(fn, '__name__', type(fn).__name__)}"
        obj.params = {}
        return obj

    def check_rank(self, rank: int) -> ActivationFunction:
        """Check the parameters against inputs of ``rank`` axes (softmax's ``axis``);
        return ``self``. Raises ValueError naming the parameter."""
        check = _RANK_CHECKS.get(self.name)
        if check is not None:
            check(rank, **self.params)
        return self

    @property
    def is_custom(self) -> bool:
        """True for a wrapped plain callable (not in the registry, not serialisable)."""
        return self.name.startswith("custom:")

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the activation elementwise (softmax: along its axis)."""
        return self._fn(x, **self.params)

    def get_config(self) -> dict[str, Any]:
        """The JSON-serialisable config ``{"name": ..., **params}``.

        Raises
        ------
        TypeError
            For a wrapped plain callable, which has no registry name to be rebuilt from.
        """
        if self.is_custom:
            raise TypeError(
                f"activation {self.name!r} wraps a plain callable and cannot be serialised; "
                f"use one of the registered activations: {', '.join(ACTIVATIONS.names())}"
            )
        return {"name": self.name, **self.params}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActivationFunction):
            return NotImplemented
        return self.name == other.name and self.params == other.params and \
            self._fn is other._fn

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"ActivationFunction({self.name!r}{args})"


def get(identifier: Any) -> ActivationFunction:
    """Resolve an activation identifier.

    Parameters
    ----------
    identifier : str, dict, ActivationFunction, callable or None
        A registry name (``"relu"``), a config (``{"name": "leaky_relu", "gamma": 0.2}``),
        an :class:`ActivationFunction` (returned as is), a function of this module
        (``activations.relu``), any other callable ``f(x: Tensor) -> Tensor`` (wrapped;
        not serialisable) or None (the identity, ``"linear"``).

    Raises
    ------
    ValueError
        For an unknown name (listing the valid names) or unexpected parameters.
    TypeError
        For any other kind of identifier.
    """
    if identifier is None:
        return ActivationFunction("linear")
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        return ActivationFunction(identifier)
    if isinstance(identifier, Mapping):
        name, params = split_config(identifier, "activation")
        return ActivationFunction(name, **params)
    if callable(identifier):
        for name in ACTIVATIONS.names(aliases=False):
            if ACTIVATIONS.lookup(name) is identifier:
                return ActivationFunction(name)
        return ActivationFunction.from_callable(identifier)
    raise TypeError(
        f"cannot interpret {identifier!r} as an activation: pass a name, a config dict, "
        "an ActivationFunction, a callable or None"
    )


def serialize(activation: Any) -> dict[str, Any]:
    """The config of ``get(activation)``; TypeError for a wrapped plain callable."""
    return get(activation).get_config()
