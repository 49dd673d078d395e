"""The primitives as functions with NumPy's names and arguments (``ffnn.exp(x)``...).

Every function accepts Tensors, ndarrays or Python numbers and returns a
:class:`~ffnn.autodiff.tensor.Tensor`; binary operations broadcast like NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .fused import DENSE, LINEAR, SOFTMAX_CROSS_ENTROPY, SQUARED_ERROR, SUM_SQUARES
from .ops import PRIMITIVES as P
from .tensor import Tensor, apply, float_dtype

__all__ = [
    "abs",
    "add",
    "astype",
    "clip",
    "concatenate",
    "dense",
    "divide",
    "erf",
    "exp",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sign",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "sqrt",
    "squared_error",
    "stack",
    "subtract",
    "sum",
    "sum_squares",
    "tanh",
    "transpose",
    "where",
]

Axis = int | Sequence[int] | None
_add, _sub, _mul, _div = P["add"], P["subtract"], P["multiply"], P["divide"]


def add(x: Any, y: Any) -> Tensor:
    """x + y, broadcasting."""
    return apply(_add, x, y)


def subtract(x: Any, y: Any) -> Tensor:
    """x − y, broadcasting."""
    return apply(_sub, x, y)


def multiply(x: Any, y: Any) -> Tensor:
    """x · y elementwise, broadcasting."""
    return apply(_mul, x, y)


def divide(x: Any, y: Any) -> Tensor:
    """x / y elementwise, broadcasting."""
    return apply(_div, x, y)


def negative(x: Any) -> Tensor:
    """−x."""
    return apply(P["negative"], x)


def power(x: Any, y: Any) -> Tensor:
    """xʸ elementwise; ∂/∂x = y·xʸ⁻¹, ∂/∂y = xʸ·log x (taken as 0 where x ≤ 0)."""
    return apply(P["power"], x, y)


def exp(x: Any) -> Tensor:
    """eˣ."""
    return apply(P["exp"], x)


def log(x: Any) -> Tensor:
    """Natural logarithm."""
    return apply(P["log"], x)


def sqrt(x: Any) -> Tensor:
    """Square root."""
    return apply(P["sqrt"], x)


def abs(x: Any) -> Tensor:
    """|x|; the gradient at 0 is 0 (sign(0))."""
    return apply(P["abs"], x)


def sign(x: Any) -> Tensor:
    """sign(x) ∈ {−1, 0, 1}; its gradient is zero everywhere."""
    return apply(P["sign"], x)


def tanh(x: Any) -> Tensor:
    """tanh(x); derivative 1 − tanh²(x)."""
    return apply(P["tanh"], x)


def sigmoid(x: Any) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ), stable for any |x|; derivative σ(x)(1 − σ(x))."""
    return apply(P["sigmoid"], x)


def softplus(x: Any) -> Tensor:
    """softplus(x) = log(1 + eˣ), stable for any |x|; derivative σ(x)."""
    return apply(P["softplus"], x)


def erf(x: Any) -> Tensor:
    """The error function; derivative (2/√π)·e^(−x²)."""
    return apply(P["erf"], x)


def relu(x: Any) -> Tensor:
    """max(x, 0); derivative 1 where x > 0, else 0."""
    return apply(P["relu"], x)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; on ties each operand gets half the gradient."""
    return apply(P["maximum"], x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; on ties each operand gets half the gradient."""
    return apply(P["minimum"], x, y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Choose ``x`` where ``condition`` holds, else ``y`` (the condition has no gradient)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition, dtype=bool)
    return apply(P["where"], x, y, condition=cond)


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Clip to ``[a_min, a_max]``; the gradient passes where a_min ≤ x ≤ a_max."""
    if a_min is None and a_max is None:
        raise ValueError("clip needs a_min, a_max or both")
    return apply(P["clip"], x, a_min=a_min, a_max=a_max)


def astype(x: Any, dtype: Any) -> Tensor:
    """Convert to float32 or float64; the gradient is converted back."""
    return apply(P["astype"], x, dtype=float_dtype(dtype, "astype"))


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes when None)."""
    return apply(P["sum"], x, axis=_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes when None)."""
    return apply(P["mean"], x, axis=_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return apply(P["max"], x, axis=_axis(axis), keepdims=keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; tied minima share the gradient equally."""
    return apply(P["min"], x, axis=_axis(axis), keepdims=keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis``, computed as m + log Σ exp(x − m) with m = max x."""
    return apply(P["logsumexp"], x, axis=_axis(axis), keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x − logsumexp(x) along ``axis``; stable for any magnitude."""
    return apply(P["log_softmax"], x, axis=axis)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x − max x) / Σ exp(x − max x) along ``axis``."""
    return apply(P["softmax"], x, axis=axis)


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D, 2-D and batched)."""
    return apply(P["matmul"], x, y)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """The affine map x Wᵀ + b for a batch whose rows are samples.

    Parameters
    ----------
    x : (..., inputs) array_like
    weight : (units, inputs) array_like
        Shaped as in the notes, so one sample maps as z = W a + b.
    bias : (units,) array_like, optional
    """
    if bias is None:
        return apply(LINEAR, x, weight)
    return apply(LINEAR, x, weight, bias)


def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """Same data, new shape (one entry may be −1)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply(P["reshape"], x, shape=shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None)."""
    return apply(P["transpose"], x, axes=None if axes is None else tuple(axes))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if not len(tensors):
        raise ValueError("concatenate needs at least one tensor")
    return apply(P["concatenate"], *tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    if not len(tensors):
        raise ValueError("stack needs at least one tensor")
    return apply(P["stack"], *tensors, axis=axis)


def _axis(axis: Axis) -> Any:
    if axis is None or isinstance(axis, (int, np.integer)):
        return axis
    return tuple(axis)


def softmax_cross_entropy(logits: Any, targets: Any, reduction: str = "none") -> Tensor:
    """−Σₖ yₖ log softmax(z)ₖ over the last axis, from logits, per sample or reduced.

    ``targets`` are probabilities of the logits' shape (a float array or Tensor) or
    integer class labels of shape ``logits.shape[:-1]``. Computed as
    lse(s)·Σₖyₖ − Σₖ yₖsₖ with s = z − max z (stable for any magnitude); the gradient
    with respect to the logits is softmax(z)·Σₖyₖ − y, i.e. p − y for one-hot targets.

    ``reduction`` is ``"none"`` (one value per sample, shape ``logits.shape[:-1]``),
    ``"mean"`` (their mean) or ``"sum"`` (their sum); the reduced forms are one graph
    node, which is what training uses.
    """
    scales: dict[str, float | None] = {"none": None, "sum": 1.0}
    scale: float | None
    if reduction == "mean":
        shape = logits.shape if isinstance(logits, Tensor) else np.shape(logits)
        count = math.prod(shape[:-1])
        scale = 1.0 / count if count else float("nan")  # the mean of nothing, as NumPy
    elif reduction in scales:
        scale = scales[reduction]
    else:
        raise ValueError(
            f"softmax_cross_entropy: unknown reduction {reduction!r}; choose one of "
            "'none', 'mean', 'sum'"
        )
    if not isinstance(targets, Tensor):
        arr = np.asarray(targets)
        if arr.dtype.kind in "iub":
            labels = arr.astype(np.intp, copy=False)  # the caller's array: trace replays it
            return apply(SOFTMAX_CROSS_ENTROPY, logits, labels=labels, scale=scale)
    return apply(SOFTMAX_CROSS_ENTROPY, logits, targets, labels=None, scale=scale)


def dense(x: Any, weight: Any, bias: Any = None, activation: str = "linear") -> Tensor:
    """act(x Wᵀ + b) as one graph node, for act in linear, relu, sigmoid, tanh.

    The same value as ``act(linear(x, W, b))``; fused because small networks pay the
    per-node cost on every step. W has shape (units, inputs).
    """
    if bias is None:
        return apply(DENSE, x, weight, activation=activation)
    return apply(DENSE, x, weight, bias, activation=activation)


def squared_error(prediction: Any, target: Any, scale: float = 1.0) -> Tensor:
    """scale · Σ (prediction − target)² over all elements, as one graph node."""
    return apply(SQUARED_ERROR, prediction, target, scale=float(scale))


def sum_squares(x: Any, scale: float = 1.0) -> Tensor:
    """scale · Σ x² over all elements, as one graph node (the L2 penalty's form)."""
    return apply(SUM_SQUARES, x, scale=float(scale))
