"""The elementary primitives: each operation's forward and VJP side by side.

The contract of a primitive is that of :mod:`.primitive`. Everything else in ffnn
(activations, losses, layers) is composed from these. An operation is a primitive only
for numerical stability or speed; the reason is given beside each such block. The
primitives that fuse several operations into one node (``linear``, ``dense``,
``squared_error``, ``sum_squares``, ``softmax_cross_entropy``) are in :mod:`.fused`.
This module imports NumPy and ``scipy.special`` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from .primitive import PRIMITIVES, Array, Needs, define

__all__ = ["PRIMITIVES"]

def _binary_forward(ufunc: Callable[..., Array], name: str) -> Callable[..., Array]:
    def forward(a: Any, b: Any) -> Array:
        try:
            return ufunc(a, b)
        except ValueError:
            raise ValueError(
                f"{name}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                "together (NumPy broadcasting rules)"
            ) from None

    return forward


# --------------------------------------------------------------------- arithmetic
define(
    "add",
    _binary_forward(np.add, "add"),
    lambda g, out, a, b, *, needs: (g, g),
)
define(
    "subtract",
    _binary_forward(np.subtract, "subtract"),
    lambda g, out, a, b, *, needs: (g, -g if needs[1] else None),
)
define(
    "multiply",
    _binary_forward(np.multiply, "multiply"),
    lambda g, out, a, b, *, needs: (g * b if needs[0] else None, g * a if needs[1] else None),
)


def _divide_vjp(g: Array, out: Array, a: Any, b: Any, *, needs: Needs) -> tuple[Any, ...]:
    ga = g / b if needs[0] else None
    gb = -g * out / b if needs[1] else None
    return ga, gb


define("divide", _binary_forward(np.true_divide, "divide"), _divide_vjp)
define("negative", np.negative, lambda g, out, x, *, needs: (-g,))


def _power_forward(x: Any, y: Any) -> Array:
    if type(y) in (int, float) and y == 2:
        return np.square(x)
    return _binary_forward(np.power, "power")(x, y)


def _power_vjp(g: Array, out: Array, x: Any, y: Any, *, needs: Needs) -> tuple[Any, ...]:
    gx = gy = None
    if needs[0]:
        gx = g * (2 * x if type(y) in (int, float) and y == 2 else y * np.power(x, y - 1))
    if needs[1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            logx = np.where(x > 0, np.log(np.where(x > 0, x, 1)), 0)
        gy = g * out * logx.astype(out.dtype, copy=False)  # a Python base gives float64
    return gx, gy


define("power", _power_forward, _power_vjp)

# ------------------------------------------------------------------- elementwise
define("exp", np.exp, lambda g, out, x, *, needs: (g * out,))
define("log", np.log, lambda g, out, x, *, needs: (g / x,))
define("sqrt", np.sqrt, lambda g, out, x, *, needs: (g / (2 * out),))
define("abs", np.abs, lambda g, out, x, *, needs: (g * np.sign(x),))
# sign: piecewise constant, so its gradient is zero everywhere (the perceptron's step).
define("sign", np.sign, lambda g, out, x, *, needs: (np.zeros_like(g),))
# tanh: a primitive so that the VJP reuses the output: 1 - tanh².
define("tanh", np.tanh, lambda g, out, x, *, needs: (g * (1 - out * out),))
# sigmoid: stable for any |x| (scipy's expit never overflows); VJP reuses σ(1 − σ).
define("sigmoid", special.expit, lambda g, out, x, *, needs: (g * out * (1 - out),))
# softplus = log(1 + eˣ): stable through logaddexp; its derivative is σ(x).
define(
    "softplus",
    lambda x: np.logaddexp(0, x),
    lambda g, out, x, *, needs: (g * special.expit(x),),
)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# erf has no composite in NumPy; scipy's is exact to the last bit and keeps float32.
define("erf", special.erf, lambda g, out, x, *, needs: (g * _TWO_OVER_SQRT_PI * np.exp(-x * x),))
# relu: for speed (one mask from the output instead of maximum's tie-splitting rule).
define(
    "relu",
    lambda x: np.maximum(x, 0),
    lambda g, out, x, *, needs: (g * (out > 0),),
)


def _minmax_vjp(pick: Callable[..., Array]) -> Callable[..., tuple[Any, ...]]:
    """Gradient of maximum/minimum: to the chosen operand, split evenly on ties."""

    def vjp(g: Array, out: Array, a: Any, b: Any, *, needs: Needs) -> tuple[Any, ...]:
        wins = pick(a, b).astype(out.dtype)
        ties = np.equal(a, b).astype(out.dtype) * 0.5
        share = wins + ties
        ga = g * share if needs[0] else None
        gb = g * (1 - share) if needs[1] else None
        return ga, gb

    return vjp


define("maximum", _binary_forward(np.maximum, "maximum"), _minmax_vjp(np.greater))
define("minimum", _binary_forward(np.minimum, "minimum"), _minmax_vjp(np.less))


def _where_forward(x: Any, y: Any, *, condition: Array) -> Array:
    try:
        return np.where(condition, x, y)
    except ValueError:
        raise ValueError(
            f"where: condition {np.shape(condition)}, x {np.shape(x)} and y {np.shape(y)} "
            "cannot be broadcast together"
        ) from None


def _where_vjp(g: Array, out: Array, x: Any, y: Any, *, needs: Needs, condition: Array) -> Any:
    zero = np.zeros((), dtype=g.dtype)
    gx = np.where(condition, g, zero) if needs[0] else None
    gy = np.where(condition, zero, g) if needs[1] else None
    return gx, gy


define("where", _where_forward, _where_vjp)


def _clip_vjp(g: Array, out: Array, x: Array, *, needs: Needs, a_min: Any, a_max: Any) -> Any:
    inside = np.ones(x.shape, dtype=bool)
    if a_min is not None:
        inside &= x >= a_min
    if a_max is not None:
        inside &= x <= a_max
    return (g * inside,)


define("clip", lambda x, *, a_min, a_max: np.clip(x, a_min, a_max), _clip_vjp)


def _astype_forward(x: Array, *, dtype: Any) -> Array:
    return x.astype(dtype)


define(
    "astype",
    _astype_forward,
    lambda g, out, x, *, needs, dtype: (g.astype(np.result_type(x)),),
)

# -------------------------------------------------------------------- reductions


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim if ndim else 0 for a in axis)


def _expand(g: Array, x: Array, axis: Any, keepdims: bool) -> Array:
    """Broadcast a reduced gradient back to the shape of the input ``x`` (a fresh array
    in ``x``'s memory order: a Fortran-ordered kernel gets a Fortran-ordered gradient,
    which later sums and updates need to stay on NumPy's fast same-layout loops)."""
    shape = x.shape
    if not keepdims and axis is not None and len(shape):
        g = np.expand_dims(g, _axes(axis, len(shape)))
    out = np.empty_like(x, dtype=g.dtype)
    out[...] = g
    return out


def _count(shape: tuple[int, ...], axis: Any) -> int:
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


define(
    "sum",
    lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    lambda g, out, x, *, needs, axis, keepdims: (_expand(g, x, axis, keepdims),),
)
define(
    "mean",
    lambda x, *, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    lambda g, out, x, *, needs, axis, keepdims: (
        _expand(g / _count(x.shape, axis), x, axis, keepdims),
    ),
)


def _extremum_vjp(g: Array, out: Array, x: Array, *, needs: Needs, axis: Any, keepdims: bool):  # type: ignore[no-untyped-def]
    """Max/min over axes: the gradient goes to the extreme entries, split on ties."""
    chosen = x == _expand(out, x, axis, keepdims)
    count = np.sum(chosen, axis=axis, keepdims=True, dtype=g.dtype)  # no int64 upcast
    gk = g if keepdims or not x.ndim else np.expand_dims(g, _axes(axis, x.ndim))
    return (chosen * (gk / count),)


define("max", lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), _extremum_vjp)
define("min", lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), _extremum_vjp)


def _max_shift(x: Array, axis: Any) -> Array:
    """The finite maximum along ``axis`` (kept), 0 where it is ±inf."""
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


def _logsumexp_forward(x: Array, *, axis: Any, keepdims: bool) -> Array:
    m = _max_shift(x, axis)
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else np.squeeze(s, axis=_axes(axis, x.ndim))


# logsumexp, log_softmax, softmax: primitives for stability (shift by the maximum).
# The VJP of logsumexp is softmax(x), computed from the shifted x: exp(x − out) would
# carry the rounding error of out (an ulp of 1000 in float32 is 6e-5) into the gradient.
define(
    "logsumexp",
    _logsumexp_forward,
    lambda g, out, x, *, needs, axis, keepdims: (
        _expand(g, x, axis, keepdims) * _softmax_forward(x, axis=axis),
    ),
)


def _log_softmax_forward(x: Array, *, axis: Any) -> Array:
    # (x − m) − log Σ exp(x − m), not x − logsumexp(x): the latter loses the low bits
    # of the result to the rounding of logsumexp(x) when |x| is large.
    s = x - _max_shift(x, axis)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


define(
    "log_softmax",
    _log_softmax_forward,
    lambda g, out, x, *, needs, axis: (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),),
)


def _softmax_forward(x: Array, *, axis: Any) -> Array:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


define(
    "softmax",
    _softmax_forward,
    lambda g, out, x, *, needs, axis: (out * (g - np.sum(g * out, axis=axis, keepdims=True)),),
)

# ------------------------------------------------------------------ linear algebra


def _matmul_forward(a: Array, b: Array) -> Array:
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ValueError(
            f"matmul: shapes {np.shape(a)} and {np.shape(b)} are not aligned (the last axis "
            "of the first operand must equal the second-to-last axis of the second)"
        ) from None


def _swap(x: Array) -> Array:
    return np.swapaxes(x, -1, -2)


def _matmul_vjp(g: Array, out: Array, a: Array, b: Array, *, needs: Needs) -> tuple[Any, ...]:
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:
        ga = g * b if needs[0] else None
        gb = g * a if needs[1] else None
    elif a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
        g2 = g[..., None, :]
        ga = (g2 @ _swap(b))[..., 0, :] if needs[0] else None
        gb = a[:, None] * g2 if needs[1] else None
    elif b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        g2 = g[..., None]
        ga = g2 * b if needs[0] else None
        gb = (_swap(a) @ g2)[..., 0] if needs[1] else None
    else:
        ga = g @ _swap(b) if needs[0] else None
        gb = _swap(a) @ g if needs[1] else None
    return ga, gb


define("matmul", _matmul_forward, _matmul_vjp)


# ---------------------------------------------------------------------- structure
define(
    "reshape",
    lambda x, *, shape: np.reshape(x, shape),
    lambda g, out, x, *, needs, shape: (np.reshape(g, x.shape),),
)


def _transpose_vjp(g: Array, out: Array, x: Array, *, needs: Needs, axes: Any) -> Any:
    if axes is None:
        return (np.transpose(g),)
    # The inverse permutation; negative axes are normalised first (argsort of (0, -1, 1)
    # is not the inverse of the permutation (0, 2, 1)).
    return (np.transpose(g, np.argsort([a % x.ndim for a in axes])),)


define("transpose", lambda x, *, axes: np.transpose(x, axes), _transpose_vjp)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (slice, int, np.integer)) or i is None or i is Ellipsis for i in items
    )


def _getitem_vjp(g: Array, out: Array, x: Array, *, needs: Needs, index: Any) -> Any:
    gx = np.zeros_like(x, dtype=g.dtype)  # in x's memory order, like every gradient
    if _is_basic(index):
        gx[index] = g
    else:  # advanced indexing: repeated indices must accumulate
        np.add.at(gx, index, g)
    return (gx,)


define("getitem", lambda x, *, index: x[index], _getitem_vjp)


def _concatenate_vjp(g: Array, out: Array, *xs: Array, needs: Needs, axis: int) -> Any:
    cuts = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(g, cuts, axis=axis))


def _concatenate_forward(*xs: Array, axis: int) -> Array:
    try:
        return np.concatenate(xs, axis=axis)
    except ValueError:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        raise ValueError(f"concatenate along axis {axis}: shapes {shapes} do not fit") from None


define("concatenate", _concatenate_forward, _concatenate_vjp)


def _stack_forward(*xs: Array, axis: int) -> Array:
    try:
        return np.stack(xs, axis=axis)
    except ValueError:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        raise ValueError(f"stack: all inputs need the same shape, got {shapes}") from None


define(
    "stack",
    _stack_forward,
    lambda g, out, *xs, needs, axis: tuple(
        np.take(g, i, axis=axis) for i in range(len(xs))
    ),
)

