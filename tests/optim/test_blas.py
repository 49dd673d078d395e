"""The one-pass BLAS axpy behind the optimisers' in-place updates (ffnn.optim._blas)."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn.optim import _blas
from ffnn.optim._blas import MIN_SIZE, axpy, blas_axpy_available

DTYPES = [np.float32, np.float64]


def _pair(shape, dtype, order="C", seed=0):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return x, y


def test_numpy_wheels_blas_is_found():
    # NumPy's wheels bundle scipy-openblas, which exports cblas_?axpy: if the lookup
    # broke, the optimisers would silently fall back to two passes.
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if blas.get("name") != "scipy-openblas":
        pytest.skip(f"NumPy links {blas.get('name')!r}, not the wheels' scipy-openblas")
    assert blas_axpy_available(np.float32) and blas_axpy_available(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_axpy_updates_in_place(dtype, order):
    x, y = _pair((300, 70), dtype, order)  # 21,000 elements: the BLAS path, threaded
    x0, y0 = x.copy(order="K"), y.copy(order="K")
    tmp = np.empty_like(y)
    y_id = y.ctypes.data
    axpy(-0.37, x, y, tmp)
    assert y.ctypes.data == y_id and y.flags[f"{order}_CONTIGUOUS"]
    np.testing.assert_array_equal(x, x0)  # x is read only
    # y + a·x, rounded once (fused) or twice: within one rounding of the exact value
    exact = y0.astype(np.float64) + -0.37 * x0.astype(np.float64)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(y, exact, rtol=2 * eps, atol=2 * eps * np.abs(exact).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_blas_and_numpy_paths_agree(dtype, monkeypatch):
    x, y = _pair((MIN_SIZE,), dtype)
    fast, slow = y.copy(), y.copy()
    axpy(2.5, x, fast, np.empty_like(y))
    monkeypatch.setattr(_blas, "_ROUTINES", {})
    axpy(2.5, x, slow, np.empty_like(y))
    # each is within one rounding of y + a·x, relative to the terms' magnitudes
    bound = 2 * np.finfo(dtype).eps * (np.abs(y) + 2.5 * np.abs(x))
    assert np.all(np.abs(fast - slow) <= bound)


@pytest.mark.parametrize(
    "case",
    ["small", "mixed_order", "overlap", "mixed_dtype", "non_contiguous"],
)
def test_fallback_cases_are_still_correct(case):
    shape = (80, 80)  # 6,400 elements, above MIN_SIZE
    x, y = _pair(shape, np.float32)
    if case == "small":
        x, y = x[:2, :2].copy(), y[:2, :2].copy()
    elif case == "mixed_order":
        x = np.asfortranarray(x)
    elif case == "overlap":
        buf = np.arange(6401, dtype=np.float32)
        x, y = buf[1:].reshape(shape), buf[:-1].reshape(shape)
    elif case == "mixed_dtype":
        x = x.astype(np.float64)
    elif case == "non_contiguous":
        x, y = _pair((80, 160), np.float32)
        x, y = x[:, ::2], y[:, ::2]
    expected = y.astype(np.float64) + 0.5 * x.astype(np.float64)
    axpy(0.5, x, y, np.empty(y.shape, y.dtype))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a", [0.0, -0.0])
def test_zero_scale_still_propagates_inf_and_nan(dtype, a):
    # BLAS returns at once when a = 0; y + 0·x must still be NaN where x is inf or NaN
    # (as NumPy and PyTorch give), for large arrays as for small ones.
    for n in (10, MIN_SIZE + 10):
        x = np.zeros(n, dtype)
        x[:2] = [np.inf, np.nan]
        y = np.ones(n, dtype)
        with np.errstate(invalid="ignore"):
            axpy(a, x, y, np.empty_like(y))
        assert np.isnan(y[:2]).all() and (y[2:] == 1).all()


def test_sgd_with_zero_learning_rate_and_an_inf_gradient_gives_nan_everywhere():
    # A schedule can reach exactly 0 (CosineDecay's default floor): every parameter,
    # large or small, behaves as torch.optim.SGD(lr=0) does with an inf gradient.
    big = ffnn.Tensor(np.ones(MIN_SIZE + 5, np.float32), requires_grad=True)
    small = ffnn.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = ffnn.optimizers.SGD([big, small], learning_rate=0.0)
    for p in (big, small):
        p.grad = np.zeros_like(p.data)
        p.grad[0] = np.inf
    with np.errstate(invalid="ignore"):
        opt.step()
    for p in (big, small):
        assert np.isnan(p.data[0]) and (p.data[1:] == 1).all()


def test_counts_beyond_the_routines_integers_take_numpy(monkeypatch):
    # A routine built with 32-bit integers takes at most 2³¹ − 1 elements; beyond its
    # limit axpy must not call it (it would update part of the array, or nothing).
    calls = []

    def fake(n, a, xp, incx, yp, incy):
        calls.append(n)

    monkeypatch.setitem(_blas._ROUTINES, np.dtype(np.float32), (fake, MIN_SIZE + 1))
    x, y = _pair((MIN_SIZE + 1,), np.float32)
    axpy(1.0, x, y.copy(), np.empty_like(y))
    assert calls == [MIN_SIZE + 1]
    x, y = _pair((MIN_SIZE + 2,), np.float32)
    expected = y + x
    axpy(1.0, x, y, np.empty_like(y))
    assert calls == [MIN_SIZE + 1]  # not called again
    np.testing.assert_array_equal(y, expected)


def test_lookup_records_the_integer_width():
    import ctypes

    class FakeFn:
        def __init__(self):
            self.argtypes = self.restype = None

    lib = type("L", (), {"scipy_cblas_saxpy64_": FakeFn(), "cblas_daxpy": FakeFn()})()
    assert _blas._lookup(lib, "s", ctypes.c_float)[1] == 2**63 - 1
    assert _blas._lookup(lib, "d", ctypes.c_double)[1] == 2**31 - 1
    assert _blas._lookup(lib, "c", ctypes.c_float) is None


def test_read_only_target_raises():
    x, y = _pair((100, 100), np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        axpy(1.0, x, y, np.empty_like(y))


def test_self_test_rejects_a_wrong_routine():
    def does_nothing(n, a, x, incx, y, incy):
        return None

    assert not _blas._self_test(does_nothing, np.float32)
    assert _blas._self_test(lambda *args: _numpy_axpy(*args), np.float64)


def _numpy_axpy(n, a, xp, incx, yp, incy):  # a reference "routine" on raw pointers
    import ctypes

    x = np.ctypeslib.as_array((ctypes.c_double * n).from_address(xp))
    y = np.ctypeslib.as_array((ctypes.c_double * n).from_address(yp))
    y += a * x


@pytest.mark.parametrize(
    "make",
    [
        lambda: ffnn.optimizers.SGD(learning_rate=0.1),
        lambda: ffnn.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
        lambda: ffnn.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    ],
)
def test_training_is_the_same_with_and_without_blas(make, monkeypatch):
    # A 64-96-1 network has a 6,144-weight first layer: its updates take the BLAS path.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 64))
    y = np.tanh(x[:, :1] - x[:, 1:2])

    def train():
        model = ffnn.Sequential(
            [ffnn.Dense(96, activation="tanh", input_dim=64), ffnn.Dense(1)],
            dtype="float64",
            seed=0,
        )
        model.compile(optimizer=make(), loss="mse")
        model.fit(x, y, epochs=3, batch_size=20, verbose=0, seed=0)
        return model.get_weights()

    found = _blas._ROUTINES.get(np.dtype(np.float64))
    if found is None:
        pytest.skip("no BLAS axpy on this platform: both runs would be the fallback")
    routine, limit = found
    calls = []

    def counted(*args):
        calls.append(args[0])
        routine(*args)

    monkeypatch.setitem(_blas._ROUTINES, np.dtype(np.float64), (counted, limit))
    fast = train()
    assert calls and min(calls) >= MIN_SIZE  # the large weights went through BLAS
    monkeypatch.setattr(_blas, "_ROUTINES", {})
    slow = train()
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
