"""Kernels of static graphs: the fused primitives' forward and VJP into kept buffers.

A static graph (:mod:`.static`) knows every shape before it runs, so the primitives on
the training path (``dense``, ``linear``, ``squared_error``,
``softmax_cross_entropy``) get a kernel object per
node that allocates its output and gradient buffers once and computes into them with
NumPy's ``out=``: the same NumPy calls in the same order as the primitive's
``forward`` and ``vjp`` in :mod:`.fused`, hence the same bits, with no array allocated
per step. The factories return ``None`` for operands they do not serve (more than two
dimensions, a dtype NumPy would promote), and the graph then calls the primitive.

Also here: the cached constant vectors that the fast reductions and the ReLU of
:mod:`.fused` use (read-only, per dtype).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

Array = np.ndarray

__all__ = ["DenseKernel", "SoftmaxCrossEntropyKernel", "SquaredErrorKernel", "dense_kernel",
           "linear_kernel", "softmax_cross_entropy_kernel", "squared_error_kernel"]

# Constant vectors for the fast reductions and the ReLU, cached per dtype and read-only;
# arrays beyond _CACHE_LIMIT elements take the plain NumPy path instead.
_CACHE_LIMIT = 1 << 20
_CONSTANTS: dict[tuple[float, Any], Array] = {}


def _constant_vector(value: float, n: int, dtype: Any) -> Array | None:
    """A read-only vector of ``n`` copies of ``value`` (None past the cache limit)."""
    if n > _CACHE_LIMIT:
        return None
    key = (value, np.dtype(dtype))
    vec = _CONSTANTS.get(key)
    if vec is None or len(vec) < n:  # grow geometrically, up to the limit
        size = min(max(n, 1024, 2 * (0 if vec is None else len(vec))), _CACHE_LIMIT)
        vec = np.full(size, value, dtype=dtype)
        vec.flags.writeable = False
        _CONSTANTS[key] = vec
    return vec[:n]


class DenseKernel:
    """``a = act(x Wᵀ + b)`` and its VJP for 2-D ``x`` of one shape, into kept buffers.

    Mirrors :func:`ffnn.autodiff.fused._dense_forward` / ``_dense_vjp`` (``linear`` is
    the activation ``"linear"``): forward ``z ← x Wᵀ; z += b; z ← act(z)``; backward
    ``δ = g ⊙ act'(z)`` from the output, ``∂x = δW``, ``∂W = (xᵀδ)ᵀ`` (in W's Fortran
    layout), ``∂b = 1ᵀδ``.
    """

    def __init__(self, n: int, n_in: int, units: int, dtype: np.dtype[Any], activation: str,
                 needs: tuple[bool, ...], has_bias: bool, vjp: Any,
                 vjp_params: dict[str, Any]) -> None:
        self.activation = activation
        self.needs = needs
        # the primitive's VJP, for an incoming gradient of another dtype than the output
        # (a loss that promotes): NumPy then computes δ in that dtype, not in the buffer's
        self.vjp = vjp
        self.vjp_params = vjp_params
        self.z = np.empty((n, units), dtype)
        self.zeros = None
        if activation == "relu":
            zeros = _constant_vector(0.0, n * units, dtype)
            self.zeros = None if zeros is None else zeros.reshape(n, units)
        back = any(needs)
        self.gz: Any = (np.empty((n, units), dtype)
                        if back and activation != "linear" else None)
        self.mask: Any = np.empty((n, units), bool) if back and activation == "relu" else None
        self.gx = np.empty((n, n_in), dtype) if needs[0] else None
        self.gw = np.empty((units, n_in), dtype, order="F") if needs[1] else None
        self.gb = np.empty(units, dtype) if has_bias and len(needs) > 2 and needs[2] else None
        self.ones = _constant_vector(1.0, n, dtype) if n >= 16 else None
        self.n = n

    def forward(self, x: Array, w: Array, b: Array | None = None) -> Array:
        z = np.matmul(x, w.T, out=self.z)
        if b is not None:
            z += b
        act = self.activation
        if act == "relu":
            np.maximum(z, 0 if self.zeros is None else self.zeros, out=z)
        elif act == "sigmoid":
            special.expit(z, out=z)
        elif act == "tanh":
            np.tanh(z, out=z)
        return z

    def backward(self, g: Array, out: Array, x: Array, w: Array,
                 b: Array | None = None) -> tuple[Array | None, ...]:
        if g.dtype != out.dtype:
            return self.vjp(g, out, x, w, *(() if b is None else (b,)), needs=self.needs,
                            **self.vjp_params)
        act = self.activation
        gz = self.gz
        if act == "relu":
            np.greater(out, 0, out=self.mask)
            gz = np.multiply(g, self.mask, out=gz)
        elif act == "sigmoid":  # g·a(1 − a)
            np.subtract(1, out, out=gz)
            gz *= out
            gz *= g
        elif act == "tanh":  # g·(1 − a²)
            np.multiply(out, out, out=gz)
            np.subtract(1, gz, out=gz)
            gz *= g
        else:
            gz = g
        gx = None if self.gx is None else np.matmul(gz, w, out=self.gx)
        gw = None
        if self.gw is not None:
            np.matmul(x.T, gz, out=self.gw.T)
            gw = self.gw
        gb = self.gb
        if gb is not None:  # fused._sum_rows, into the buffer
            if self.n == 1:
                np.copyto(gb, gz[0])
            elif self.ones is None:  # what gz.sum(axis=0) calls
                np.add.reduce(gz, axis=0, out=gb)
            else:
                np.matmul(self.ones, gz, out=gb)
        return gx, gw, gb


def _plain_2d(in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...],
              out_dtype: Any) -> bool:
    """Operands the kernels serve: 2-D x and W, 1-D b, all of the output's dtype."""
    if len(in_shapes) < 2 or len(in_shapes[0]) != 2 or len(in_shapes[1]) != 2:
        return False
    if len(in_shapes) > 2 and len(in_shapes[2]) != 1:
        return False
    return all(np.dtype(d) == np.dtype(out_dtype) for d in in_dtypes) and \
        np.dtype(out_dtype).kind == "f"


def dense_kernel(in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...],
                 out_dtype: Any, needs: tuple[bool, ...], *, activation: str,
                 primitive: tuple[Any, Any] | None = None) -> DenseKernel | None:
    """The :class:`DenseKernel` of a ``dense`` node, or None (see the module).
    ``primitive`` is the primitive's (forward, vjp), which the kernel's backward calls
    for an incoming gradient of another dtype."""
    if primitive is None:
        return None
    return _dense_like(in_shapes, in_dtypes, out_dtype, needs, activation, primitive[1],
                       {"activation": activation})


def linear_kernel(in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...],
                  out_dtype: Any, needs: tuple[bool, ...], *,
                  primitive: tuple[Any, Any] | None = None) -> DenseKernel | None:
    """The kernel of a ``linear`` node: a dense kernel without activation."""
    if primitive is None:
        return None
    return _dense_like(in_shapes, in_dtypes, out_dtype, needs, "linear", primitive[1], {})


def _dense_like(in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...],
                out_dtype: Any, needs: tuple[bool, ...], activation: str, vjp: Any,
                vjp_params: dict[str, Any]) -> DenseKernel | None:
    if activation not in ("linear", "relu", "sigmoid", "tanh") or \
            not _plain_2d(in_shapes, in_dtypes, out_dtype):
        return None
    (n, n_in), (units, w_in) = in_shapes[0], in_shapes[1]
    if w_in != n_in or (len(in_shapes) > 2 and in_shapes[2] != (units,)):
        return None  # a bias that broadcasts (shape (1,)) has a gradient of its own shape
    return DenseKernel(n, n_in, units, np.dtype(out_dtype), activation, needs,
                       len(in_shapes) > 2, vjp, vjp_params)


class SquaredErrorKernel:
    """``scale·Σ(ŷ − y)²`` and its VJP ``2·scale·g·(ŷ − y)`` into kept buffers
    (mirrors ``fused._squared_error_forward`` / ``_squared_error_vjp``)."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype[Any], scale: float,
                 needs: tuple[bool, ...]) -> None:
        self.scale = scale
        self.r = np.empty(shape, dtype)
        self.gr = np.empty(shape, dtype) if any(needs) else None
        self.neg = np.empty(shape, dtype) if len(needs) > 1 and needs[1] else None
        self.needs = needs

    def forward(self, pred: Array, target: Array) -> Array:
        both_c = pred.flags.c_contiguous and target.flags.c_contiguous
        r = np.subtract(pred, target, out=self.r if both_c else None)
        return np.asarray(self.scale * np.vdot(r, r), dtype=r.dtype)

    def backward(self, g: Array, out: Array, pred: Array,
                 target: Array) -> tuple[Array | None, ...]:
        # the primitive's r has its operands' memory order, which later reductions see:
        # the kept (C-ordered) buffers serve C-ordered operands only
        both_c = pred.flags.c_contiguous and target.flags.c_contiguous
        r = np.subtract(pred, target, out=self.gr if both_c else None)
        r *= 2 * self.scale * g
        neg = None
        if self.neg is not None:
            neg = np.negative(r, out=self.neg) if both_c else -r
        return (r if self.needs[0] else None), neg


def squared_error_kernel(in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...],
                         out_dtype: Any, needs: tuple[bool, ...], *,
                         scale: float) -> SquaredErrorKernel | None:
    """The kernel of a ``squared_error`` node with array operands of one shape and dtype."""
    if len(in_shapes) != 2 or in_shapes[0] != in_shapes[1] or not in_shapes[0] or \
            any(np.dtype(d) != np.dtype(out_dtype) for d in in_dtypes) or \
            np.dtype(out_dtype).kind != "f":
        return None
    return SquaredErrorKernel(in_shapes[0], np.dtype(out_dtype), scale, needs)


class SoftmaxCrossEntropyKernel:
    """``scale·Σᵢ(lse(zᵢ)·Σₖyᵢₖ − Σₖ yᵢₖ(zᵢₖ − mᵢ))`` over 2-D logits and probability targets,
    and its VJP ``scale·g·(softmax(z)·Σy − y)``, into kept buffers (mirrors
    ``fused._softmax_ce_forward`` / ``_softmax_ce_vjp`` with ``scale`` given)."""

    def __init__(self, n: int, k: int, dtype: np.dtype[Any], scale: float,
                 primitive: tuple[Any, Any]) -> None:
        self.scale = scale
        # the primitive's forward and VJP, for logits not in C order: its shifted logits
        # and softmax take z's memory order, which its row sums and dot products see
        self.fallback = primitive
        self.saved: dict[str, Any] | None = None
        self.dtype = dtype
        self.zt = np.empty((k, n), dtype)  # the transposed copy _row_max reduces
        self.s = np.empty((n, k), dtype)
        self.e = np.empty((n, k), dtype)
        self.p = np.empty((n, k), dtype)
        self.yg = np.empty((n, k), dtype)
        self.ones_k = _constant_vector(1.0, k, dtype)
        self.short = k <= 32
        self.finite = True

    def _row_max(self, z: Array) -> Array:
        if self.short:
            np.copyto(self.zt, z.T)
            return np.maximum.reduce(self.zt, axis=0)[:, None]  # what .max(axis=0) calls
        return np.max(z, axis=1, keepdims=True)

    def _row_sum(self, a: Array) -> Array:
        return a.sum(axis=1) if self.ones_k is None else a @ self.ones_k

    def forward(self, z: Array, y: Array) -> Array:
        if not z.flags.c_contiguous:
            self.saved = {}
            return self.fallback[0](z, y, labels=None, scale=self.scale, saved=self.saved)
        self.saved = None
        m = self._row_max(z)
        self.finite = finite = bool(np.isfinite(m).all())
        if not finite:
            m = np.where(np.isfinite(m), m, 0)
        s = np.subtract(z, m, out=self.s)
        e = np.exp(s, out=self.e)
        se = self.se = self._row_sum(e)
        lse = np.log(se)
        sy = self.sy = self._row_sum(y)
        result = float(np.dot(lse, sy) - np.vdot(y, s))
        return np.asarray(self.scale * result, dtype=self.dtype)

    def backward(self, g: Array, out: Array, z: Array, y: Array) -> tuple[Array | None, ...]:
        if self.saved is not None:
            grads = self.fallback[1](g, out, z, y, needs=(True, False), labels=None,
                                     scale=self.scale, saved=self.saved)
            return grads[0], None
        if self.finite:
            p = self.p
            np.copyto(p, self.e)
            se, sy = self.se, self.sy
        else:  # as the primitive recomputes for rows whose maximum is ±inf
            p = np.exp(np.subtract(z, self._row_max(z), out=self.p), out=self.p)
            se, sy = self._row_sum(p), self._row_sum(y)
        gk = self.scale * g
        grow = gk / se
        p *= (grow * sy)[:, None]
        p -= np.multiply(y, gk, out=self.yg)
        return p, None


def softmax_cross_entropy_kernel(
    in_shapes: tuple[tuple[int, ...], ...], in_dtypes: tuple[Any, ...], out_dtype: Any,
    needs: tuple[bool, ...], *, labels: Any, scale: float | None = None,
    primitive: tuple[Any, Any] | None = None,
) -> SoftmaxCrossEntropyKernel | None:
    """The kernel of a ``softmax_cross_entropy`` node that sums (``scale`` given) over
    2-D logits with probability targets of the same shape and dtype, whose targets need
    no gradient; None otherwise. ``primitive`` is the primitive's (forward, vjp), which
    the kernel calls for logits not in C order."""
    if labels is not None or scale is None or len(in_shapes) != 2 or \
            len(in_shapes[0]) != 2 or in_shapes[0] != in_shapes[1] or not all(in_shapes[0]) or \
            any(np.dtype(d) != np.dtype(out_dtype) for d in in_dtypes) or \
            np.dtype(out_dtype).kind != "f" or (len(needs) > 1 and needs[1]) or primitive is None:
        return None
    n, k = in_shapes[0]
    return SoftmaxCrossEntropyKernel(n, k, np.dtype(out_dtype), scale, primitive)
