"""ONNX graphs of the activations of :data:`ffnn.nn.activations.ACTIVATIONS`.

:data:`ACTIVATION_EXPORTERS` maps each canonical activation name to an emitter
``emit(g, x, **params) -> str`` whose keyword-only parameters are exactly the
activation's own (``gamma`` of ``leaky_relu``, ``axis`` of ``softmax``, ...): an
activation given a parameter its emitter does not take is refused with an error naming
both, so a parameter added to an activation later cannot be silently dropped. Aliases
(``logistic``) resolve to their canonical entry. To export a new activation, add its
emitter here; ``tests/io/test_onnx.py`` fails, naming it, until then.

Each emitter writes the ONNX operator that computes the function where ONNX has one,
and the composite of elementary operators that ffnn itself evaluates where ONNX has
none (swish) or where ONNX Runtime's CPU provider has no float64 kernel for the
operator (LeakyRelu, Elu, Softplus, HardSigmoid, Erf), so that every float64 graph
runs in ONNX Runtime.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...nn.activations import ACTIVATIONS, ActivationFunction
from .graph import Graph

__all__ = ["ACTIVATION_EXPORTERS", "emit_activation", "erf_series_coefficients"]

Emitter = Callable[..., str]


def _native(g: Graph) -> bool:
    """Whether ONNX Runtime has float kernels for the dedicated operators (float32)."""
    return bool(g.dtype == np.float32)


def _where_positive(g: Graph, x: str, negative: str) -> str:
    """x where x > 0, ``negative`` elsewhere (ffnn's own form of the piecewise units)."""
    return g.op("Where", g.op("Greater", x, g.scalar(0.0)), x, negative)


def linear(g: Graph, x: str) -> str:
    """f(x) = x: no node."""
    return x


def sigmoid(g: Graph, x: str) -> str:
    """f(x) = 1 / (1 + exp(−x)): ``Sigmoid``."""
    return g.op("Sigmoid", x)


def tanh(g: Graph, x: str) -> str:
    """f(x) = tanh(x): ``Tanh``."""
    return g.op("Tanh", x)


def hard_logistic(g: Graph, x: str) -> str:
    """f(x) = max(min(0.25x + 0.5, 1), 0): ``HardSigmoid(alpha=0.25, beta=0.5)``."""
    if _native(g):
        return g.op("HardSigmoid", x, alpha=0.25, beta=0.5)
    affine = g.op("Add", g.op("Mul", x, g.scalar(0.25)), g.scalar(0.5))
    return g.op("Clip", affine, g.scalar(0.0), g.scalar(1.0))


def hard_tanh(g: Graph, x: str) -> str:
    """f(x) = max(min(x, 1), −1): ``Clip``."""
    return g.op("Clip", x, g.scalar(-1.0), g.scalar(1.0))


def relu(g: Graph, x: str) -> str:
    """f(x) = max(0, x): ``Relu``."""
    return g.op("Relu", x)


def leaky_relu(g: Graph, x: str, *, gamma: float) -> str:
    """f(x) = x for x > 0, γx otherwise: ``LeakyRelu(alpha=γ)``."""
    if _native(g):
        return g.op("LeakyRelu", x, alpha=float(gamma))
    return _where_positive(g, x, g.op("Mul", x, g.scalar(gamma)))


def elu(g: Graph, x: str, *, gamma: float) -> str:
    """f(x) = x for x > 0, γ(exp(x) − 1) otherwise: ``Elu(alpha=γ)``.

    The float64 composite takes exp(min(x, 0)), as ffnn does, so no branch overflows.
    """
    if _native(g):
        return g.op("Elu", x, alpha=float(gamma))
    expm1 = g.op("Sub", g.op("Exp", g.op("Min", x, g.scalar(0.0))), g.scalar(1.0))
    return _where_positive(g, x, g.op("Mul", expm1, g.scalar(gamma)))


def _log1p(g: Graph, e: str) -> str:
    """log(1 + e) to a few ulps without a Log1p operator (ONNX has none):
    u = 1 + e; log1p(e) = e where u = 1, else log(u)·e / (u − 1) (Goldberg, "What every
    computer scientist should know about floating-point arithmetic", 1991, Theorem 4)."""
    u = g.op("Add", e, g.scalar(1.0))
    d = g.op("Sub", u, g.scalar(1.0))
    ratio = g.op("Mul", g.op("Log", u), g.op("Div", e, d))
    return g.op("Where", g.op("Equal", d, g.scalar(0.0)), e, ratio)


def softplus(g: Graph, x: str) -> str:
    """f(x) = log(1 + exp(x)): ``Softplus``.

    The float64 composite is max(x, 0) + log1p(exp(−|x|)), NumPy's ``logaddexp(0, x)``
    that ffnn evaluates, accurate for every x.
    """
    if _native(g):
        return g.op("Softplus", x)
    tail = _log1p(g, g.op("Exp", g.op("Neg", g.op("Abs", x))))
    return g.op("Add", g.op("Relu", x), tail)


def swish(g: Graph, x: str, *, beta: float) -> str:
    """f(x) = x·σ(βx) (ONNX has no Swish operator)."""
    scaled = x if beta == 1.0 else g.op("Mul", x, g.scalar(beta))
    return g.op("Mul", x, g.op("Sigmoid", scaled))


#: Terms of the power series of erf used for float64 graphs; with |z| clamped to
#: :data:`_ERF_CLAMP` the first omitted term is below 1e-17 of the sum.
_ERF_TERMS = 98
#: erf(z) rounds to ±1 in float64 for |z| ≥ 5.93; the series is evaluated up to here.
_ERF_CLAMP = 6.0
#: The series runs in v = z²/64 ∈ [0, 0.5625] (an exact scaling): its coefficients
#: cₙ·64ⁿ then lie between 1.1 and 4e25, while the cₙ themselves fall to 1e-153, and
#: ONNX Runtime's optimiser drops an Add of a float64 constant that is zero in float32.
_ERF_SCALE = 64.0


def erf_series_coefficients(terms: int = _ERF_TERMS, scale: float = 1.0) -> np.ndarray:
    """cₙ·scaleⁿ for n < ``terms``, where erf(z) = z·exp(−z²)·Σₙ cₙ z²ⁿ and
    cₙ = (2/√π)·2ⁿ / (1·3·5···(2n+1)).

    The series (DLMF 7.6.2) has positive terms only, so Horner's rule loses no
    accuracy to cancellation.
    """
    c = np.empty(terms)
    c[0] = 2.0 / math.sqrt(math.pi)
    for n in range(1, terms):
        c[n] = c[n - 1] * 2.0 * scale / (2 * n + 1)
    return c


def _erf(g: Graph, z: str) -> str:
    """erf(z): ``Erf`` in float32; in float64, where ONNX Runtime has no Erf kernel, the
    power series of :func:`erf_series_coefficients` in v = z²/64 by Horner's rule (z
    clamped to ±6, where erf is ±1 to the last bit)."""
    if _native(g):
        return g.op("Erf", z)
    zc = g.op("Clip", z, g.scalar(-_ERF_CLAMP), g.scalar(_ERF_CLAMP))
    u = g.op("Mul", zc, zc)
    v = g.op("Mul", u, g.scalar(1.0 / _ERF_SCALE))
    coefficients = erf_series_coefficients(scale=_ERF_SCALE)
    total = g.scalar(coefficients[-1])
    for c in coefficients[-2::-1]:
        total = g.op("Add", g.op("Mul", total, v), g.scalar(c))
    return g.op("Mul", g.op("Mul", zc, g.op("Exp", g.op("Neg", u))), total)


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(g: Graph, x: str, *, approximate: str, mu: float = 0.0, sigma: float = 1.0) -> str:
    """f(x) = x·Φ(u), u = (x − μ)/σ: ½x(1 + erf(u/√2)), or with ``approximate="tanh"``
    ½x(1 + tanh(√(2/π)(u + 0.044715u³))); ``Gelu(approximate=...)`` for μ = 0, σ = 1.

    In float64, and for other μ, σ, the graph is composed as ffnn computes it (ONNX
    Runtime's float64 Gelu is 1e-10 off for the tanh form and has no Erf for the exact
    one), with :func:`_erf`.
    """
    standard = mu == 0.0 and sigma == 1.0
    if _native(g) and standard:
        return g.op("Gelu", x, approximate=approximate)
    u = x if standard else g.op("Mul", g.op("Sub", x, g.scalar(mu)), g.scalar(1.0 / sigma))
    if approximate == "tanh":
        cube = g.op("Mul", g.op("Mul", g.op("Mul", u, u), u), g.scalar(0.044715))
        inner = g.op("Mul", g.op("Add", u, cube), g.scalar(_SQRT_2_OVER_PI))
        core = g.op("Tanh", inner)
    else:
        core = _erf(g, g.op("Mul", u, g.scalar(_SQRT_HALF)))
    half_x = g.op("Mul", x, g.scalar(0.5))
    return g.op("Mul", half_x, g.op("Add", core, g.scalar(1.0)))


def abs(g: Graph, x: str) -> str:
    """f(x) = |x|: ``Abs``."""
    return g.op("Abs", x)


def sign(g: Graph, x: str) -> str:
    """f(x) = sign(x) ∈ {−1, 0, 1}: ``Sign``."""
    return g.op("Sign", x)


def step(g: Graph, x: str) -> str:
    """f(x) = 1 for x ≥ 0, else 0 (MATLAB's hardlim): ``Where(x < 0, 0, 1)``."""
    return g.op("Where", g.op("Less", x, g.scalar(0.0)), g.scalar(0.0), g.scalar(1.0))


def symmetric_step(g: Graph, x: str) -> str:
    """f(x) = 1 for x ≥ 0, else −1 (MATLAB's hardlims): ``Where(x < 0, −1, 1)``."""
    return g.op("Where", g.op("Less", x, g.scalar(0.0)), g.scalar(-1.0), g.scalar(1.0))


def saturating_linear(g: Graph, x: str) -> str:
    """f(x) = max(0, min(1, x)) (MATLAB's satlin): ``Clip(x, 0, 1)``."""
    return g.op("Clip", x, g.scalar(0.0), g.scalar(1.0))


def gaussian(g: Graph, x: str) -> str:
    """f(x) = exp(−x²) (MATLAB's radbas): ``Exp(Neg(x·x))``."""
    return g.op("Exp", g.op("Neg", g.op("Mul", x, x)))


def triangular(g: Graph, x: str) -> str:
    """f(x) = max(0, 1 − |x|) (MATLAB's tribas): ``Relu(1 − Abs(x))``."""
    return g.op("Relu", g.op("Sub", g.scalar(1.0), g.op("Abs", x)))


def softmax(g: Graph, x: str, *, axis: int) -> str:
    """f(x)ₖ = exp(xₖ) / Σⱼ exp(xⱼ) along ``axis``: ``Softmax(axis=axis)``."""
    return g.op("Softmax", x, axis=int(axis))


#: Canonical activation name → emitter. Keep it in step with ACTIVATIONS.
ACTIVATION_EXPORTERS: dict[str, Emitter] = {
    "linear": linear,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "hard_logistic": hard_logistic,
    "hard_tanh": hard_tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
    "swish": swish,
    "gelu": gelu,
    "abs": abs,
    "sign": sign,
    "step": step,
    "symmetric_step": symmetric_step,
    "saturating_linear": saturating_linear,
    "gaussian": gaussian,
    "triangular": triangular,
    "softmax": softmax,
}


def _emitter(activation: ActivationFunction, where: str) -> Emitter:
    if activation.is_custom:
        raise ValueError(
            f"{where}: activation {activation.name!r} is a plain Python callable, which "
            "cannot be exported to ONNX; use one of the registered activations: "
            f"{', '.join(sorted(ACTIVATION_EXPORTERS))}")
    emit = ACTIVATION_EXPORTERS.get(ACTIVATIONS.canonical(activation.name))
    if emit is None:
        raise ValueError(
            f"{where}: activation {activation.name!r} has no ONNX export; exportable "
            f"activations: {', '.join(sorted(ACTIVATION_EXPORTERS))}")
    return emit


def emit_activation(g: Graph, activation: ActivationFunction, x: str, where: str) -> str:
    """The ONNX graph of ``activation`` applied to ``x``; ``where`` (e.g. ``"layer
    'dense'"``) starts the error messages.

    Raises
    ------
    ValueError
        If the activation is a plain callable, has no emitter, or has a parameter its
        emitter does not take (each named).
    """
    emit = _emitter(activation, where)
    taken = [p.name for p in inspect.signature(emit).parameters.values()
             if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(activation.params) - set(taken))
    if unknown:
        raise ValueError(
            f"{where}: activation {activation.name!r} has parameter(s) "
            f"{', '.join(map(repr, unknown))} that its ONNX export does not take (it takes "
            f"{', '.join(map(repr, taken)) or 'none'})")
    params: dict[str, Any] = {k: activation.params[k] for k in taken if k in activation.params}
    return emit(g, x, **params)
