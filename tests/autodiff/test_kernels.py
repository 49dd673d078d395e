"""The static-graph kernels (ffnn/autodiff/kernels.py) give the primitives' bits.

Each kernel computes a primitive's forward and VJP into buffers it keeps; the values
must equal the primitive's own, bit for bit, for every shape class the kernel serves
(one row, fewer than 16 rows, 16 and more; float32 and float64), on a second call with
other data too (the buffers are reused), and the factories must decline what they do
not serve.
"""

from __future__ import annotations

import numpy as np
import pytest

from ffnn.autodiff import PRIMITIVES
from ffnn.autodiff.kernels import (
    dense_kernel,
    linear_kernel,
    softmax_cross_entropy_kernel,
    squared_error_kernel,
)

ROWS = (1, 6, 16, 40)
DTYPES = (np.float32, np.float64)


def _same(a: object, b: object) -> None:
    if a is None or b is None:
        assert a is None and b is None
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
def test_dense_kernel_is_the_primitive(rows: int, dtype: type, activation: str,
                                       needs: tuple[bool, ...]) -> None:
    rng = np.random.default_rng(rows)
    prim = PRIMITIVES["dense"]
    k = dense_kernel(((rows, 7), (5, 7), (5,)), (dtype, dtype, dtype), np.dtype(dtype), needs,
                     activation=activation)
    assert k is not None
    for trial in range(2):  # the second call overwrites the kept buffers
        x = rng.standard_normal((rows, 7)).astype(dtype)
        w = np.asfortranarray(rng.standard_normal((5, 7)).astype(dtype))
        b = rng.standard_normal(5).astype(dtype)
        g = rng.standard_normal((rows, 5)).astype(dtype)
        if trial and activation == "relu":
            x[0] = 0.0  # rows whose pre-activation is exactly the bias
        want = prim.forward(x, w, b, activation=activation)
        got = k.forward(x, w, b)
        _same(got, want)
        want_grads = prim.vjp(g, want, x, w, b, needs=needs, activation=activation)
        got_grads = k.backward(g, got, x, w, b)
        for i, need in enumerate(needs):
            if need:
                _same(got_grads[i], want_grads[i])
            else:
                assert got_grads[i] is None


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_kernel_is_the_primitive(rows: int, dtype: type) -> None:
    rng = np.random.default_rng(0)
    prim = PRIMITIVES["linear"]
    needs = (True, True, True)
    k = linear_kernel(((rows, 3), (4, 3), (4,)), (dtype,) * 3, np.dtype(dtype), needs)
    assert k is not None
    x = rng.standard_normal((rows, 3)).astype(dtype)
    w = np.asfortranarray(rng.standard_normal((4, 3)).astype(dtype))
    b = rng.standard_normal(4).astype(dtype)
    g = rng.standard_normal((rows, 4)).astype(dtype)
    out = prim.forward(x, w, b)
    _same(k.forward(x, w, b), out)
    for got, want in zip(k.backward(g, out, x, w, b), prim.vjp(g, out, x, w, b, needs=needs),
                         strict=True):
        _same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("needs", [(True, False), (True, True), (False, True)])
def test_squared_error_kernel_is_the_primitive(dtype: type, needs: tuple[bool, bool]) -> None:
    rng = np.random.default_rng(1)
    prim = PRIMITIVES["squared_error"]
    k = squared_error_kernel(((9, 2), (9, 2)), (dtype, dtype), np.dtype(dtype), needs, scale=0.25)
    assert k is not None
    for _ in range(2):
        p, t = (rng.standard_normal((9, 2)).astype(dtype) for _ in range(2))
        g = np.asarray(rng.standard_normal(), dtype=dtype)
        out = prim.forward(p, t, scale=0.25)
        _same(k.forward(p, t), out)
        got = k.backward(g, out, p, t)
        want = prim.vjp(g, out, p, t, needs=needs, scale=0.25)
        for i in range(2):
            _same(got[i], want[i] if needs[i] else None)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [3, 40])  # the transposed-copy row max, and the wide one
def test_softmax_cross_entropy_kernel_is_the_primitive(rows: int, dtype: type,
                                                       classes: int) -> None:
    rng = np.random.default_rng(rows + classes)
    prim = PRIMITIVES["softmax_cross_entropy"]
    shape = (rows, classes)
    k = softmax_cross_entropy_kernel((shape, shape), (dtype, dtype), np.dtype(dtype),
                                     (True, False), labels=None, scale=1.0 / rows)
    assert k is not None
    for trial in range(3):
        z = (rng.standard_normal(shape) * 30).astype(dtype)
        y = rng.dirichlet(np.ones(classes), size=rows).astype(dtype)
        if trial == 2:
            z[0, 0] = np.inf  # a row whose maximum is inf: the primitive recomputes
        g = np.asarray(0.5, dtype=dtype)
        saved: dict[str, object] = {}
        with np.errstate(invalid="ignore", over="ignore"):
            out = prim.forward(z, y, labels=None, scale=1.0 / rows, saved=saved)
            _same(k.forward(z, y), out)
            want = prim.vjp(g, out, z, y, needs=(True, False), labels=None,
                            scale=1.0 / rows, saved=saved)
            got = k.backward(g, out, z, y)
        _same(got[0], want[0])
        assert got[1] is None


def test_factories_decline_what_they_do_not_serve() -> None:
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    needs = (True, True, True)
    # 3-D inputs, mixed dtypes, an unfused activation, integer data
    assert dense_kernel(((2, 3, 4), (5, 4), (5,)), (f32,) * 3, f32, needs,
                        activation="relu") is None
    assert dense_kernel(((2, 4), (5, 4), (5,)), (f64, f32, f32), f64, needs,
                        activation="relu") is None
    assert dense_kernel(((2, 4), (5, 4), (5,)), (f32,) * 3, f32, needs,
                        activation="elu") is None
    assert linear_kernel(((2, 4), (5, 4)), (np.dtype(np.int64),) * 2, np.dtype(np.int64),
                         needs[:2]) is None
    # integer labels, per-sample values (no scale), targets that need a gradient
    shape = (4, 3)
    assert softmax_cross_entropy_kernel((shape,), (f32,), f32, (True,),
                                        labels=np.zeros(4, int), scale=0.25) is None
    assert softmax_cross_entropy_kernel((shape, shape), (f32, f32), f32, (True, False),
                                        labels=None, scale=None) is None
    assert softmax_cross_entropy_kernel((shape, shape), (f32, f32), f32, (True, True),
                                        labels=None, scale=0.25) is None
    # a scalar or broadcast target
    assert squared_error_kernel(((4, 3), ()), (f32, f32), f32, (True, False),
                                scale=1.0) is None
