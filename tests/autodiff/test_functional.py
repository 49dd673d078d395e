"""grad / value_and_grad / jacobian, check_grads, and the lecture-notes example."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import ffnn
from ffnn.autodiff import Primitive
from ffnn.autodiff.tensor import apply

# ------------------------------------------------------- the lecture-notes example


def neuron(x: Any, w: Any, b: Any) -> Any:
    """f(x; w, b) = 1 / (exp(−(w·x + b)) + 1), written out as in the notes."""
    return 1 / (ffnn.exp(-(w * x + b)) + 1)


def test_lecture_notes_example_at_origin() -> None:
    """At x = 1, w = 0, b = 0: σ' = σ(1 − σ) = 1/4, so ∂f/∂w = x/4, ∂f/∂b = 1/4, ∂f/∂x = w/4."""
    gx, gw, gb = ffnn.grad(neuron, argnums=(0, 1, 2))(1.0, 0.0, 0.0)
    assert float(gw) == pytest.approx(0.25, rel=1e-7)
    assert float(gb) == pytest.approx(0.25, rel=1e-7)
    assert float(gx) == 0.0
    value, _ = ffnn.value_and_grad(neuron, argnums=(0, 1, 2))(1.0, 0.0, 0.0)
    assert value == pytest.approx(0.5)


def test_lecture_notes_example_matches_sigmoid_and_finite_differences() -> None:
    x, w, b = np.array(0.7), np.array(-1.3), np.array(0.4)
    ffnn.check_grads(neuron, x, w, b)
    gx, gw, gb = ffnn.grad(neuron, argnums=(0, 1, 2))(x, w, b)
    s = 1 / (1 + np.exp(-(w * x + b)))
    np.testing.assert_allclose([gx, gw, gb], [w * s * (1 - s), x * s * (1 - s), s * (1 - s)],
                               rtol=1e-13)
    # the composite agrees with the sigmoid primitive
    assert neuron(x, w, b).item() == pytest.approx(ffnn.sigmoid(w * x + b).item(), rel=1e-15)


# ---------------------------------------------------------------- transformations


def _f(x: Any, y: Any) -> Any:
    return ffnn.sum(ffnn.tanh(x) * y) + ffnn.sum(x * x)


def _f_torch(x: Any, y: Any) -> Any:
    return (torch.tanh(x) * y).sum() + (x * x).sum()


def _torch_grads(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tx, ty = (torch.tensor(a, requires_grad=True) for a in (x, y))
    _f_torch(tx, ty).backward()
    return tx.grad.numpy(), ty.grad.numpy()  # type: ignore[union-attr]


def test_grad_int_argnums(rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    tx, ty = _torch_grads(x, y)
    gx = ffnn.grad(_f)(x, y)
    gy = ffnn.grad(_f, argnums=1)(x, y)
    assert isinstance(gx, np.ndarray) and gx.dtype == np.float64 and gx.shape == x.shape
    np.testing.assert_allclose(gx, tx, rtol=1e-12)
    np.testing.assert_allclose(gy, ty, rtol=1e-12)
    np.testing.assert_allclose(ffnn.grad(_f, argnums=-1)(x, y), ty, rtol=1e-12)


def test_grad_tuple_argnums_and_value(rng: np.random.Generator) -> None:
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    value, grads = ffnn.value_and_grad(_f, argnums=(0, 1))(x, y)
    assert isinstance(value, float)
    assert value == pytest.approx(float(_f_torch(torch.tensor(x), torch.tensor(y))), rel=1e-14)
    assert isinstance(grads, tuple) and len(grads) == 2
    for g, t in zip(grads, _torch_grads(x, y), strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-12)
    (only_y,) = ffnn.grad(_f, argnums=(1,))(x, y)
    np.testing.assert_allclose(only_y, grads[1], rtol=1e-15)


def test_grad_accepts_tensors_and_does_not_touch_them(rng: np.random.Generator) -> None:
    x = ffnn.Tensor(rng.standard_normal(3), requires_grad=True)
    g = ffnn.grad(lambda t: ffnn.sum(t * t))(x)
    np.testing.assert_allclose(g, 2 * x.data)
    assert x.grad is None


def test_grad_of_function_independent_of_argument_is_zero() -> None:
    g = ffnn.grad(lambda x, y: ffnn.sum(y * y), argnums=0)(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_grad_errors() -> None:
    with pytest.raises(ValueError, match="scalar"):
        ffnn.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match="argnums"):
        ffnn.grad(lambda x: ffnn.sum(x), argnums=2)(np.ones(3))


def test_jacobian_matches_torch(rng: np.random.Generator) -> None:
    def f(x: Any, w: Any) -> Any:
        return ffnn.softmax(ffnn.linear(x, w), axis=-1)

    def tf(x: Any, w: Any) -> Any:
        return torch.softmax(torch.nn.functional.linear(x, w), -1)

    x, w = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    jx, jw = ffnn.jacobian(f, argnums=(0, 1))(x, w)
    tjx, tjw = torch.func.jacrev(tf, argnums=(0, 1))(torch.tensor(x), torch.tensor(w))
    assert jx.shape == (2, 4, 2, 3) and jw.shape == (2, 4, 4, 3)
    np.testing.assert_allclose(jx, tjx.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(jw, tjw.numpy(), rtol=1e-10, atol=1e-14)
    single = ffnn.jacobian(f)(x, w)
    assert isinstance(single, np.ndarray)
    np.testing.assert_allclose(single, jx, rtol=1e-15)


def test_jacobian_of_elementwise_is_diagonal(rng: np.random.Generator) -> None:
    x = rng.standard_normal(5)
    jac = ffnn.jacobian(ffnn.tanh)(x)
    np.testing.assert_allclose(jac, np.diag(1 - np.tanh(x) ** 2), rtol=1e-14, atol=0)


def test_jacobian_of_scalar_and_of_constant(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 2))
    jac = ffnn.jacobian(lambda t: ffnn.sum(t * t))(x)
    assert jac.shape == (2, 2)
    np.testing.assert_allclose(jac, 2 * x)
    const = ffnn.jacobian(lambda t: ffnn.exp(np.ones(3)))(x)
    assert const.shape == (3, 2, 2) and not const.any()


# -------------------------------------------------------------------- check_grads


def _bad_square() -> Primitive:
    """x² with a deliberately wrong VJP (3x instead of 2x); never registered."""
    return Primitive("bad_square", np.square, lambda g, out, x, *, needs: (g * 3 * x,))


def test_check_grads_catches_wrong_vjp() -> None:
    bad = _bad_square()
    x = np.array([1.0, -2.0, 0.5])
    with pytest.raises(AssertionError) as info:
        ffnn.check_grads(lambda t: apply(bad, t), x)
    message = str(info.value)
    assert "worst absolute error" in message and "worst relative error" in message
    # directional: |uᵀ(3x − 2x)v| relative to |uᵀ2xv| is 0.5 exactly
    assert "5.000e-01" in message
    assert "bad_square" not in ffnn.autodiff.PRIMITIVES


def test_check_grads_full_jacobian_reports_worst_entry() -> None:
    bad = _bad_square()
    x = np.array([1.0, -2.0, 0.5])
    with pytest.raises(AssertionError, match=r"Jacobian.*absolute error 2\.000e\+00.*relative "
                                             r"error 5\.000e-01.*index \(1, 1\)"):
        ffnn.check_grads(lambda t: apply(bad, t), x, n_directions=0)


def test_check_grads_catches_error_in_one_argument_only(rng: np.random.Generator) -> None:
    bad = _bad_square()
    with pytest.raises(AssertionError, match="worst absolute error"):
        ffnn.check_grads(lambda a, b: a * apply(bad, b), rng.standard_normal(3),
                         rng.standard_normal(3))


def test_check_grads_passes_on_correct_gradients(rng: np.random.Generator) -> None:
    ffnn.check_grads(lambda a, b: ffnn.tanh(a @ b), rng.standard_normal((3, 4)),
                     rng.standard_normal((4, 2)))
    big = rng.standard_normal((10, 10))  # above full_jacobian_max: directional only
    ffnn.check_grads(lambda a: ffnn.softmax(a), big)


def test_check_grads_catches_wrong_vjp_for_any_seed() -> None:
    bad = _bad_square()
    for seed in range(3):
        with pytest.raises(AssertionError):
            ffnn.check_grads(lambda t: apply(bad, t), np.array([0.3, 1.1]), seed=seed,
                             full_jacobian_max=0)
