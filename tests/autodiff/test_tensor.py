"""The Tensor: graph recording, backward, gradient accumulation, dtypes and errors."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Tensor

# ------------------------------------------------------------------ backward


def test_long_chain_does_not_hit_recursion_limit() -> None:
    """Guards against a recursive topological sort or backward: 100,000 nodes deep."""
    n = 100_000
    assert sys.getrecursionlimit() < n
    x = Tensor(np.array(0.5), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.00001
    y.backward()
    assert x.grad is not None
    assert x.grad == pytest.approx(1.00001**n, rel=1e-9)
    assert y.item() == pytest.approx(0.5 * 1.00001**n, rel=1e-4)


def test_long_chain_of_mixed_ops() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = ffnn.tanh(y) + 0.5
    y.sum().backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad))


def test_no_grad_records_nothing() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with ffnn.no_grad():
        assert not ffnn.is_grad_enabled()
        y = (x * 3 + 1).sum()
        with ffnn.enable_grad():
            z = (x * 2).sum()
    assert ffnn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert z.requires_grad  # enable_grad inside no_grad records again
    w = (x * 2).sum()  # recording resumes after the block
    assert w.requires_grad and not w.is_leaf
    assert x.grad is None


def test_no_grad_restores_mode_after_exception() -> None:
    with pytest.raises(KeyError), ffnn.no_grad():
        raise KeyError
    assert ffnn.is_grad_enabled()


def test_gradients_accumulate_across_backward_calls() -> None:
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()  # a separate graph
    np.testing.assert_allclose(x.grad, 2 * x.data + 3)  # type: ignore[arg-type]
    x.zero_grad()
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)  # type: ignore[arg-type]
    ffnn.zero_grad([x])
    assert x.grad is None


def test_retain_graph_allows_second_backward_and_accumulates() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (ffnn.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()  # type: ignore[union-attr]
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)  # type: ignore[arg-type]
    np.testing.assert_allclose(first, np.exp(x.data) * (1 + x.data))


def test_backward_through_freed_graph_raises() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        h.sum().backward()  # a new node on top of a freed intermediate


def test_a_rule_that_raises_leaves_no_pending_gradient() -> None:
    """A VJP raising mid-pass leaves every node's and leaf's slot empty: retrying with
    retain_graph works and gives exactly one gradient, not leftovers from the failure."""
    from ffnn.autodiff import Primitive
    from ffnn.autodiff.tensor import apply

    fail = {"on": True}

    def vjp(g: Any, out: Any, x: Any, *, needs: Any) -> Any:
        if fail["on"]:
            raise RuntimeError("rule failed")
        return (2 * x * g,)

    square = Primitive("square_that_may_fail", np.square, vjp)
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 3.0  # an interior node whose slot fills before the failing rule runs
    loss = ffnn.sum(apply(square, h) + h)
    with pytest.raises(RuntimeError, match="rule failed"):
        loss.backward(retain_graph=True)
    assert w.grad is None
    assert all(t._g is None for t in (loss, h, w))
    fail["on"] = False
    loss.backward()
    np.testing.assert_allclose(w.grad, 3.0 * (2 * 3.0 * w.data + 1.0))


def test_backward_on_non_scalar_needs_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"scalar.*\(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])  # type: ignore[arg-type]


def test_backward_grad_of_wrong_shape_raises() -> None:
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))


def test_leaves_sharing_an_upstream_gradient_get_independent_arrays() -> None:
    """Guards against handing one array to two leaves: add's VJP passes g to both."""
    for build in (lambda a, b: (a + b).sum(), lambda a, b: ((a + b) * 2).sum(),
                  lambda a, b: (a - (-b)).sum()):
        a = Tensor(np.zeros(3), requires_grad=True)
        b = Tensor(np.zeros(3), requires_grad=True)
        build(a, b).backward()
        before = b.grad.copy()  # type: ignore[union-attr]
        a.grad += 1  # type: ignore[operator]
        np.testing.assert_array_equal(b.grad, before)  # type: ignore[arg-type]


def test_leaf_gradient_is_not_the_callers_seed() -> None:
    a = Tensor(np.zeros(3), requires_grad=True)
    seed = np.ones(3)
    (a + 0.0).backward(seed)
    a.grad += 1  # type: ignore[operator]
    np.testing.assert_array_equal(seed, np.ones(3))


def test_leaf_gradient_is_writeable_after_broadcast_reduction() -> None:
    a = Tensor(np.zeros((2, 3)), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    (a + b).sum().backward()
    for t in (a, b):
        assert t.grad is not None and t.grad.flags.writeable
        t.grad += 1
    np.testing.assert_array_equal(b.grad, [3.0, 3.0, 3.0])  # type: ignore[arg-type]


# --------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("data", [1.5, 3, True, [1.0, 2.0], [1, 2], np.arange(3),
                                  np.array([True, False]), np.array(3, np.int8)])
def test_default_dtype_is_float32(data: Any) -> None:
    assert Tensor(data).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_arrays_keep_dtype(dtype: Any) -> None:
    x = Tensor(np.array([1.0, 2.0], dtype), requires_grad=True)
    assert x.dtype == dtype
    y = (x * 2.5 + 1) / 3.0 - 0.5
    z = ffnn.exp(x) ** 2 + ffnn.sum(x) * np.asarray(2.0, dtype)
    assert y.dtype == dtype and z.dtype == dtype
    z.sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype


def test_float32_with_python_float_stays_float32() -> None:
    x = Tensor(np.ones(2, np.float32))
    for y in (x * 0.1, 0.1 * x, x + 1e-30, x / 3.0, 2.0**x, x**0.5, ffnn.maximum(x, 0.5)):
        assert y.dtype == np.float32


def test_explicit_dtype() -> None:
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32
    with pytest.raises(TypeError, match="int32"):
        Tensor([1.0], dtype=np.int32)


@pytest.mark.parametrize(("data", "name"), [
    (np.array([1 + 2j]), "complex128"),
    (1 + 2j, "complex128"),
    (np.array([object()]), "object"),
    (np.array(["a"]), "<U1"),
    ("abc", "<U3"),
    (np.ones(2, np.float16), "float16"),
])
def test_unsupported_dtypes_are_rejected(data: Any, name: str) -> None:
    with pytest.raises(TypeError) as info:
        Tensor(data)
    assert name in str(info.value)


def test_unsupported_constant_operand_is_rejected() -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="float16"):
        x + np.ones(2, np.float16)
    with pytest.raises(TypeError, match="complex"):
        x * np.array([1j, 2j])


# ----------------------------------------------------------------- errors


def test_matmul_shape_error_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_linear_shape_error_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(4, 2\)"):
        ffnn.linear(np.ones((5, 3)), np.ones((4, 2)))


@pytest.mark.parametrize("op", [ffnn.add, ffnn.subtract, ffnn.multiply, ffnn.divide,
                                ffnn.maximum, ffnn.power])
def test_broadcast_error_names_both_shapes(op: Any) -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


def test_item_of_many_elements_raises() -> None:
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Tensor([1.0, 2.0]).item()


# --------------------------------------------------------- operators, methods


def test_comparisons_return_plain_arrays() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Tensor([3.0, 2.0, 1.0])
    for result, expected in [(x < 2, [True, False, False]), (x <= y, [True, True, False]),
                             (x > y, [False, False, True]), (x >= 2.0, [False, True, True]),
                             (x == y, [False, True, False]), (x != y, [True, False, True])]:
        assert type(result) is np.ndarray and result.dtype == bool
        np.testing.assert_array_equal(result, expected)


def test_ndarray_times_tensor_is_tensor() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0], np.float32)
    for y in (a * x, a + x, a - x, a / x, a @ x):
        assert isinstance(y, Tensor)
    (a * x).sum().backward()
    np.testing.assert_array_equal(x.grad, a)  # type: ignore[arg-type]


def test_T_item_detach_numpy() -> None:
    data = np.arange(6.0).reshape(2, 3)
    x = Tensor(data, requires_grad=True)
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.numpy(), data.T)
    assert x.numpy() is data  # shared, not copied
    assert Tensor([[2.5]]).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None
    assert np.shares_memory(d.numpy(), y.numpy())
    (d * x).sum().backward()  # d is a constant for the graph
    np.testing.assert_array_equal(x.grad, 2 * data)  # type: ignore[arg-type]


def test_tensor_basics() -> None:
    x = ffnn.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    assert (x.shape, x.ndim, x.size, len(x)) == ((2, 3, 4), 3, 24, 2)
    assert x.is_leaf and x.requires_grad
    assert "requires_grad=True" in repr(x) and "float64" in repr(x)
    assert +x is x


def test_reflected_operators() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (1.0 - x) + (2.0 / x) + (3.0 * x) + (2.0**x) + abs(-x)
    y.sum().backward()
    expected = -1 - 2 / x.data**2 + 3 + math.log(2) * 2.0**x.data + 1
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)  # type: ignore[arg-type]


def test_constant_only_operations_do_not_record() -> None:
    y = ffnn.exp(np.array([1.0])) + Tensor([2.0], dtype=np.float64)
    assert not y.requires_grad and y.is_leaf
