"""Activation functions: the catalogue of the lecture notes as composites of engine ops.

Every activation here is built from the engine's primitives, so none needs gradient
code; the engine's stable primitives (sigmoid, softplus, tanh, softmax, erf) are used
where they exist. :data:`ACTIVATIONS` maps each name to its function
``f(x, **params) -> Tensor``; :class:`ActivationFunction` binds a name to parameter
values and is what layers hold. :func:`get` resolves any accepted identifier.

The parametric ReLU is a layer (its slope is learned), see :mod:`ffnn.nn.layers`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .. import autodiff as F
from .._registry import Registry, bind_params, split_config
from ..autodiff import Tensor

__all__ = [
    "ACTIVATIONS",
    "ActivationFunction",
    "abs",
    "elu",
    "gelu",
    "get",
    "hard_logistic",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "relu",
    "serialize",
    "sigmoid",
    "sign",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]

ACTIVATIONS: Registry[Callable[..., Tensor]] = Registry("activation")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def linear(x: Any) -> Tensor:
    """f(x) = x, the identity (a linear unit); f'(x) = 1."""
    return _tensor(x)


def sigmoid(x: Any) -> Tensor:
    """f(x) = σ(x) = 1 / (1 + exp(−x)), the logistic function; f'(x) = f(x)(1 − f(x)).

    Computed by the engine's stable primitive (no overflow for any x). Alias ``logistic``.
    """
    return F.sigmoid(x)


def tanh(x: Any) -> Tensor:
    """f(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) = 2σ(2x) − 1; f'(x) = 1 − f(x)².

    Zero-centred, unlike the logistic function.
    """
    return F.tanh(x)


def hard_logistic(x: Any) -> Tensor:
    """f(x) = max(min(0.25x + 0.5, 1), 0); f'(x) = 0.25 for |x| < 2, else 0.

    The notes' piecewise-linear approximation of σ by its first-order Taylor expansion
    at 0 (slope σ'(0) = 0.25). Keras's ``hard_sigmoid`` uses slope 0.2 (Keras 2) or 1/6
    (Keras 3) and PyTorch's ``hardsigmoid`` uses 1/6, so their values differ from this one.
    """
    return F.clip(_tensor(x) * 0.25 + 0.5, 0.0, 1.0)


def hard_tanh(x: Any) -> Tensor:
    """f(x) = max(min(x, 1), −1); f'(x) = 1 for |x| < 1, else 0."""
    return F.clip(x, -1.0, 1.0)


def relu(x: Any) -> Tensor:
    """f(x) = max(0, x), the rectified linear unit; f'(x) = I(x > 0)."""
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


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """f(x) = x·Φ(x) = ½x(1 + erf(x/√2)), with Φ the standard normal CDF P(X ≤ x).

    f'(x) = Φ(x) + x·φ(x) with φ the standard normal density.

    Parameters
    ----------
    x : Tensor
    approximate : {"none", "tanh"}, default "none"
        ``"tanh"`` uses ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel,
        2016), as PyTorch's ``approximate='tanh'``.
    """
    x = _tensor(x)
    if approximate == "none":
        return x * 0.5 * (F.erf(x * _SQRT_HALF) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (F.tanh(inner) + 1.0)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def abs(x: Any) -> Tensor:
    """f(x) = |x| = max(0, x) − min(0, x), absolute-value rectification; f'(x) = sign(x)."""
    return F.abs(x)


def sign(x: Any) -> Tensor:
    """f(x) = sign(x) ∈ {−1, 0, 1}, the perceptron's step; f'(x) = 0 everywhere.

    Alias ``step``. Its gradient is zero, so it cannot be trained by backpropagation;
    it is the output of the Rosenblatt perceptron (trained by its own rule).
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


ACTIVATIONS.register("linear", linear)
ACTIVATIONS.register("sigmoid", sigmoid, aliases=("logistic",))
ACTIVATIONS.register("tanh", tanh)
ACTIVATIONS.register("hard_logistic", hard_logistic)
ACTIVATIONS.register("hard_tanh", hard_tanh)
ACTIVATIONS.register("relu", relu)
ACTIVATIONS.register("leaky_relu", leaky_relu)
ACTIVATIONS.register("elu", elu)
ACTIVATIONS.register("softplus", softplus)
ACTIVATIONS.register("swish", swish)
ACTIVATIONS.register("gelu", gelu)
ACTIVATIONS.register("abs", abs)
ACTIVATIONS.register("sign", sign, aliases=("step",))
ACTIVATIONS.register("softmax", softmax)


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

    @classmethod
    def from_callable(cls, fn: Callable[[Tensor], Tensor]) -> ActivationFunction:
        """Wrap a plain callable ``fn(x: Tensor) -> Tensor`` (its config cannot be saved)."""
        obj = cls.__new__(cls)
        obj._fn = fn
        obj.name = f"custom:{getattr(fn, '__name__', type(fn).__name__)}"
        obj.params = {}
        return obj

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
