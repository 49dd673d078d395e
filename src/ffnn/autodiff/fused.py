"""Fused primitives: several operations in one graph node, for speed or stability.

Each block says why it is fused. Small networks pay the engine's per-node cost on every
step and large ones the NumPy passes over their arrays, so a dense layer is one node
(``dense``), the least-squares losses are one node (``squared_error``) and a softmax
with its cross-entropy is one node that also takes the mean or sum over samples
(``softmax_cross_entropy``). The contract of a primitive is that of :mod:`.primitive`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from scipy import special

from .kernels import _CACHE_LIMIT as _CACHE_LIMIT  # re-exported: tests read the limit here
from .kernels import (
    _constant_vector,
    dense_kernel,
    linear_kernel,
    softmax_cross_entropy_kernel,
    squared_error_kernel,
)
from .ops import _log_softmax_forward
from .primitive import Array, Needs, define

__all__ = [
    "DENSE",
    "FUSED_ACTIVATIONS",
    "LINEAR",
    "SOFTMAX_CROSS_ENTROPY",
    "SQUARED_ERROR",
    "SUM_SQUARES",
]


def _sum_rows(a: Array) -> Array:
    """Σ over the first axis of a 2-D array, as the product 1ᵀA (BLAS, several times
    faster than ``a.sum(axis=0)``, which NumPy walks row by row)."""
    if a.shape[0] == 1:
        return a[0].copy()
    if a.shape[0] < 16:  # too few rows for the product to pay off
        return a.sum(axis=0)
    ones = _constant_vector(1.0, a.shape[0], a.dtype)
    return a.sum(axis=0) if ones is None else ones @ a


def _relu_inplace(z: Array) -> None:
    """z ← max(z, 0). Against an array of zeros NumPy's loop is vectorised; against
    the scalar 0 it is about three times slower."""
    zeros = _constant_vector(0.0, z.size, z.dtype) if z.flags.c_contiguous else None
    np.maximum(z, 0 if zeros is None else zeros.reshape(z.shape), out=z)


def _linear_forward(x: Array, w: Array, b: Array | None = None) -> Array:
    if x.shape[-1] != w.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
            f"matrix of shape {w.shape} expects {w.shape[-1]} (W is (units, inputs))"
        )
    out = x @ w.T
    if b is not None:
        out += b
    return out


def _linear_vjp(g: Array, out: Array, x: Array, w: Array, b: Any = None, *, needs: Needs) -> Any:
    gx = g @ w if needs[0] else None
    gw = gb = None
    if needs[1] or (b is not None and needs[2]):
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        if needs[1]:  # as (Xᵀδ)ᵀ: the contiguous product, in W's Fortran layout
            x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
            gw = (x2.T @ g2).T
        if b is not None and needs[2]:
            gb = _sum_rows(g2)
    return gx, gw, gb


# linear(x, W, b) = x Wᵀ + b: fused for speed (one node per dense layer; skips ∂x when
# the input needs no gradient).
LINEAR = define("linear", _linear_forward, _linear_vjp,
                kernel=partial(linear_kernel, primitive=(_linear_forward, _linear_vjp)))


# ------------------------------------------------------- softmax cross-entropy


def _check_ce_targets(z: Array, y: Array | None, labels: Array | None) -> None:
    if labels is not None:
        if labels.shape != z.shape[:-1]:
            raise ValueError(
                f"softmax_cross_entropy: integer labels need shape {z.shape[:-1]} for "
                f"logits of shape {z.shape}, got {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= z.shape[-1]):
            raise ValueError(
                f"softmax_cross_entropy: labels must lie in [0, {z.shape[-1] - 1}], got "
                f"values from {labels.min()} to {labels.max()}"
            )
    else:
        shape = None if y is None else np.shape(y)
        if shape != z.shape:
            raise ValueError(
                f"softmax_cross_entropy: targets of shape {shape} do not match logits of "
                f"shape {z.shape}"
            )


def _row_max(a: Array) -> Array:
    """Maximum of each row of a 2-D array, shape (N, 1).

    NumPy reduces a short last axis row by row; for few columns, reducing the
    transposed copy over its first axis is about twice as fast.
    """
    if a.shape[1] <= 32:
        return a.T.copy().max(axis=0)[:, None]
    return np.max(a, axis=1, keepdims=True)


def _row_sum(a: Array) -> Array:
    """Sum of each row of a 2-D array, shape (N,): a matrix-vector product, which is
    several times faster than ``sum(axis=1)`` over a short last axis."""
    ones = _constant_vector(1.0, a.shape[1], a.dtype)
    return a.sum(axis=1) if ones is None else a @ ones


def _softmax_ce_rows(
    s: Array, se: Array, y: Array | None, labels: Array | None, total: bool
) -> tuple[Any, Array | None]:
    """Per-row losses of the shifted 2-D logits ``s`` = z − max (``se`` the row sums of
    exp(s)), or their sum when ``total``; and the row sums Σₖyₖ of the targets.

    Written as lse(s)·Σₖyₖ − Σₖ yₖsₖ, so that neither term carries the rounding of a
    large logit (both are ≥ 0 for targets that are probabilities).
    """
    lse = np.log(se)
    if labels is not None:
        picked = s[np.arange(len(s)), labels]
        return (float(np.sum(lse) - np.sum(picked)) if total else lse - picked), None
    assert y is not None
    sy = _row_sum(y)
    if total:
        return float(np.dot(lse, sy) - np.vdot(y, s)), sy
    return lse * sy - _row_sum(y * s), sy


def _softmax_ce_forward(
    z: Array,
    y: Array | None = None,
    *,
    labels: Array | None,
    scale: float | None = None,
    saved: dict[str, Any] | None = None,
) -> Array:
    _check_ce_targets(z, y, labels)
    k = z.shape[-1]
    z2 = z.reshape(-1, k)
    y2 = None if y is None else np.reshape(y, (-1, k))
    l2 = None if labels is None else labels.reshape(-1)
    total = scale is not None
    if not z2.size:
        dtype = z.dtype if y is None else np.result_type(z, y)
        return np.full(() if total else z.shape[:-1], 0.0 * (scale or 0.0), dtype=dtype)
    m = _row_max(z2)
    finite = bool(np.isfinite(m).all())
    if not finite:  # a row whose maximum is ±inf is shifted by 0 instead
        m = np.where(np.isfinite(m), m, 0)  # (as logsumexp does): no inf − inf
    s = z2 - m
    e = np.exp(s)
    se = _row_sum(e)
    result, sy = _softmax_ce_rows(s, se, y2, l2, total)
    if saved is not None and finite:  # the VJP's unnormalised softmax, as it would
        saved.update(e=e, se=se, sy=sy)  # compute it (rows with ±inf: it recomputes)
    if total:  # the dtype the per-sample values have, NumPy's promotion of z and y
        dtype = z.dtype if y is None else np.result_type(z, y)
        return np.asarray(scale * result, dtype=dtype)
    return result.reshape(z.shape[:-1])


def _softmax_ce_vjp(
    g: Array, out: Array, z: Array, y: Array | None = None, *, needs: Needs, labels: Any,
    scale: float | None = None, saved: dict[str, Any] | None = None,
) -> Any:
    k = z.shape[-1]
    z2 = z.reshape(-1, k)
    if saved:  # the forward's exp(z − m) and row sums (read only: retain_graph reuses them)
        p, se, sy = np.array(saved["e"], copy=True), saved["se"], saved["sy"]
    else:
        p = np.exp(z2 - _row_max(z2))  # softmax(z), rows not yet normalised
        se, sy = _row_sum(p), None
    if scale is not None:  # a scalar loss: every row's cotangent is scale·g
        gk: Any = scale * g
        grow = gk / se
    else:
        gk = g.reshape(-1, 1)
        grow = gk[:, 0] / se
    if labels is not None:
        p *= grow[:, None]  # (p − onehot)·g row by row
        p[np.arange(len(p)), labels.reshape(-1)] -= gk if scale is not None else gk[:, 0]
        return (p.reshape(z.shape),)
    assert y is not None  # targets given as an input when labels is None
    y2 = np.reshape(y, (-1, k))
    p *= (grow * (_row_sum(y2) if sy is None else sy))[:, None]  # softmax·Σy·g
    p -= y2 * gk
    gy = None
    if needs[1]:
        gy = (-(g[..., None] if scale is None else scale * g)
              * _log_softmax_forward(z, axis=-1))
    return p.reshape(z.shape), gy


# softmax_cross_entropy(z, y) = −Σ_k y_k log softmax(z)_k per sample (or integer labels),
# or scale·Σ of it over all samples when scale is given (the loss's mean or sum in one
# node): fused for stability and speed; its gradient w.r.t. z is softmax(z)·Σy − y.
SOFTMAX_CROSS_ENTROPY = define(
    "softmax_cross_entropy", _softmax_ce_forward, _softmax_ce_vjp, saves=True,
    kernel=partial(softmax_cross_entropy_kernel, primitive=(_softmax_ce_forward, _softmax_ce_vjp))
)

# ----------------------------------------------------------------------- dense
# Small networks pay the engine's per-node cost on every step, so a dense layer with one
# of these activations is a single node whose VJP reuses the output:
# act'(z) from a = act(z): linear 1, relu [a > 0], sigmoid a(1 − a), tanh 1 − a².
FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def _dense_forward(x: Array, w: Array, b: Array | None = None, *, activation: str) -> Array:
    z = _linear_forward(x, w, b)
    if activation == "relu":
        _relu_inplace(z)
    elif activation == "sigmoid":
        special.expit(z, out=z)
    elif activation == "tanh":
        np.tanh(z, out=z)
    elif activation != "linear":
        raise ValueError(
            f"dense: activation {activation!r} is not fused; choose one of {FUSED_ACTIVATIONS}"
        )
    return z


def _dense_vjp(g: Array, out: Array, x: Array, w: Array, b: Any = None, *, needs: Needs,
               activation: str) -> Any:
    if activation == "relu":
        gz = g * (out > 0)
    elif activation == "sigmoid":  # g·a(1 − a), in one buffer
        gz = np.subtract(1, out)
        gz *= out
        gz *= g
    elif activation == "tanh":  # g·(1 − a²)
        gz = np.multiply(out, out)
        np.subtract(1, gz, out=gz)
        gz *= g
    else:
        gz = g
    return _linear_vjp(gz, out, x, w, b, needs=needs)


DENSE = define("dense", _dense_forward, _dense_vjp,
               kernel=partial(dense_kernel, primitive=(_dense_forward, _dense_vjp)))


def _squared_error_forward(pred: Any, target: Any, *, scale: float) -> Array:
    if np.shape(pred) != np.shape(target):
        raise ValueError(
            f"squared_error: prediction shape {np.shape(pred)} and target shape "
            f"{np.shape(target)} differ"
        )
    r = np.subtract(pred, target)
    return np.asarray(scale * np.vdot(r, r), dtype=r.dtype)


def _squared_error_vjp(g: Array, out: Array, pred: Any, target: Any, *, needs: Needs,
                       scale: float) -> Any:
    r = np.subtract(pred, target)
    r *= 2 * scale * g
    return (r if needs[0] else None), (-r if needs[1] else None)


# squared_error(ŷ, y, scale) = scale·Σ(ŷ − y)²: the least-squares losses in one node.
SQUARED_ERROR = define("squared_error", _squared_error_forward, _squared_error_vjp,
                       kernel=squared_error_kernel)


def _sum_squares_forward(x: Array, *, scale: float) -> Array:
    r = x.ravel(order="K")  # a view in the array's own memory order (no copy)
    return np.asarray(scale * np.dot(r, r), dtype=x.dtype)


def _sum_squares_vjp(g: Array, out: Array, x: Array, *, needs: Needs, scale: float) -> Any:
    return (np.multiply(x, 2 * scale * g),)  # in x's memory order


# sum_squares(x, scale) = scale·Σx²: the L2 penalty ½λ‖W‖² in one node and two passes
# (a BLAS dot, then 2·scale·g·x); composed, it took seven passes over the kernel.
SUM_SQUARES = define("sum_squares", _sum_squares_forward, _sum_squares_vjp)
