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
    k = prim.kernel(((rows, 7), (5, 7), (5,)), (dtype, dtype, dtype), np.dtype(dtype), needs,
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
    k = prim.kernel(((rows, 3), (4, 3), (4,)), (dtype,) * 3, np.dtype(dtype), needs)
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
    k = prim.kernel((shape, shape), (dtype, dtype), np.dtype(dtype), (True, False),
                    labels=None, scale=1.0 / rows)
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
    dense = PRIMITIVES["dense"].kernel
    linear = PRIMITIVES["linear"].kernel
    assert dense(((2, 4), (5, 4), (5,)), (f32,) * 3, f32, needs, activation="relu") is not None
    assert dense_kernel(((2, 4), (5, 4), (5,)), (f32,) * 3, f32, needs,
                        activation="relu") is None  # no primitive to fall back on
    # 3-D inputs, mixed dtypes, an unfused activation, integer data
    assert dense(((2, 3, 4), (5, 4), (5,)), (f32,) * 3, f32, needs,
                        activation="relu") is None
    assert dense(((2, 4), (5, 4), (5,)), (f64, f32, f32), f64, needs,
                        activation="relu") is None
    assert dense(((2, 4), (5, 4), (5,)), (f32,) * 3, f32, needs,
                        activation="elu") is None
    assert linear(((2, 4), (5, 4)), (np.dtype(np.int64),) * 2, np.dtype(np.int64),
                         needs[:2]) is None
    # integer labels, per-sample values (no scale), targets that need a gradient
    shape = (4, 3)
    softmax = PRIMITIVES["softmax_cross_entropy"].kernel
    assert softmax((shape, shape), (f32, f32), f32, (True, False), labels=None,
                   scale=0.25) is not None
    assert softmax((shape,), (f32,), f32, (True,), labels=np.zeros(4, int), scale=0.25) is None
    assert softmax((shape, shape), (f32, f32), f32, (True, False), labels=None,
                   scale=None) is None
    assert softmax((shape, shape), (f32, f32), f32, (True, True), labels=None,
                   scale=0.25) is None
    assert softmax_cross_entropy_kernel((shape, shape), (f32, f32), f32, (True, False),
                                        labels=None, scale=0.25) is None  # no fallback given
    # a bias that broadcasts: its gradient has its own shape, not the kernel's
    assert dense(((2, 4), (5, 4), (1,)), (f32,) * 3, f32, needs,
                        activation="tanh") is None
    # a scalar or broadcast target
    assert squared_error_kernel(((4, 3), ()), (f32, f32), f32, (True, False),
                                scale=1.0) is None


def test_operands_not_in_c_order_give_the_tapes_bits() -> None:
    """Logits or predictions in Fortran order or transposed: the primitive's
    intermediate arrays take their memory order, which its row sums and dot products
    see; the traced graph must give the tape's bits (the kernels step aside)."""
    import ffnn
    from ffnn.autodiff import functions as F

    rng = np.random.default_rng(2)
    z = np.asfortranarray(rng.standard_normal((64, 50)))
    y = rng.dirichlet(np.ones(50), size=64)
    x, w, b = rng.standard_normal((30, 4)), rng.standard_normal((6, 4)), rng.standard_normal(6)
    t = rng.standard_normal((6, 30))
    cases = [
        (lambda z, y: F.softmax_cross_entropy(z, y, "mean"), (z, y), (0,)),
        (lambda h, y: F.softmax_cross_entropy(h.T, y, "sum"), (np.ascontiguousarray(z.T), y),
         (0,)),
        (lambda w, b, x, t: F.squared_error(F.dense(x, w, b, "linear").T, t, 0.5),
         (w, b, x, t), (0, 1)),
    ]
    for fn, args, nums in cases:
        vg = ffnn.value_and_grad(fn, argnums=nums)
        want = vg(*args)
        traced = ffnn.trace(vg, *args)
        for _ in range(2):
            got = traced(*args)
            assert got[0] == want[0]
            for a, c in zip(got[1], want[1], strict=True):
                assert a.tobytes() == c.tobytes()


def test_a_broadcast_bias_and_list_constants_trace() -> None:
    import ffnn
    from ffnn.autodiff import functions as F

    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(1)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 4))
    vg = ffnn.value_and_grad(lambda w, b, x, y: F.squared_error(F.dense(x, w, b, "tanh"), y, .5),
                             argnums=(0, 1))
    value, (gw, gb) = ffnn.trace(vg, w, b, x, y)(w, b, x, y)
    want = vg(w, b, x, y)
    assert gb.shape == (1,) and gb.tobytes() == want[1][1].tobytes() and value == want[0]
    assert gw.tobytes() == want[1][0].tobytes()
    f = ffnn.trace(lambda p: F.squared_error(p, [[0.0, 1.0]] * 4), np.ones((4, 2)))
    assert f(np.ones((4, 2))) == 4.0


def test_trace_with_copy_returns_fresh_gradients() -> None:
    """copy=True (the default): what a call returned is not overwritten by the next."""
    import ffnn
    from ffnn.autodiff import functions as F

    rng = np.random.default_rng(6)
    w = ffnn.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    f = ffnn.trace(ffnn.value_and_grad(
        lambda x: F.squared_error(F.dense(x, w, None, "relu"), np.zeros((5, 3))), argnums=0),
        rng.standard_normal((5, 2)))
    f(rng.standard_normal((5, 2)))
    first = f.captured_grads()[0]
    kept = first.copy()
    f(rng.standard_normal((5, 2)))
    assert np.array_equal(first, kept) and not np.array_equal(f.captured_grads()[0], kept)


def test_a_gradient_promoted_by_the_loss_takes_the_primitives_path() -> None:
    """A float64 constant in a custom loss makes the gradient reaching a float32 dense
    node float64; NumPy then computes δ in float64, and so must the kernel (it hands over
    to the primitive's VJP): static and dynamic training stay bit-identical."""
    import ffnn
    from ffnn.autodiff import functions as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    c = np.full((8, 2), 0.5)  # float64

    def loss(yt: object, yp: object) -> object:
        return F.sum((yp - yt) * (yp - yt) * c)

    weights = {}
    for graph in ("static", "dynamic"):
        model = ffnn.Sequential([ffnn.Dense(4, "tanh"), ffnn.Dense(2)], seed=0)
        model.compile(optimizer="sgd", loss=loss, graph=graph)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=0)
        weights[graph] = [p.data.copy() for p in model.params]
        assert all(p.data.dtype == np.float32 for p in model.params)
    for a, b in zip(weights["static"], weights["dynamic"], strict=True):
        assert a.tobytes() == b.tobytes()
