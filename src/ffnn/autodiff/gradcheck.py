"""Gradient checking by central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .functional import jacobian
from .tensor import Tensor, as_array

__all__ = ["check_grads"]


def _evaluate(f: Callable[..., Any], args: list[np.ndarray]) -> np.ndarray:
    out = f(*[Tensor(a) for a in args])
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def _report(name: str, numeric: np.ndarray, analytic: np.ndarray, rtol: float, atol: float) -> None:
    err = np.abs(numeric - analytic)
    bound = atol + rtol * np.abs(numeric)
    if np.all(err <= bound) and np.all(np.isfinite(analytic)):
        return
    worst = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(err), err - bound, np.inf))),
                             err.shape)
    rel = err / np.maximum(np.abs(numeric), 1e-300)
    raise AssertionError(
        f"check_grads: {name} disagrees with finite differences: worst absolute error "
        f"{float(np.nanmax(err)):.3e}, worst relative error {float(np.nanmax(rel)):.3e}; "
        f"at index {tuple(int(i) for i in worst)} autodiff gives {analytic[worst]!r} and "
        f"central differences give {numeric[worst]!r} (rtol={rtol}, atol={atol})"
    )


def check_grads(
    f: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    n_directions: int = 3,
    full_jacobian_max: int = 64,
    seed: int = 0,
) -> None:
    """Check the gradients of ``f`` at ``args`` against central finite differences.

    All positional arguments are converted to float64 and differentiated. Two checks:

    1. *Directional*: for random unit directions v (in all arguments at once) and a
       random output cotangent u, compare uᵀJv from reverse mode with
       (uᵀf(x + εv) − uᵀf(x − εv)) / 2ε.
    2. *Full Jacobian*: when every argument has at most ``full_jacobian_max`` elements and
       so does the output, compare each column of the Jacobian with central differences.

    Parameters
    ----------
    f : callable
        Takes Tensors, returns a Tensor of any shape.
    *args : array_like
        Point of evaluation.
    eps, rtol, atol : float
        Step and tolerances (error ≤ atol + rtol·|numeric|).
    n_directions : int
        Random directions in check 1.
    full_jacobian_max : int
        Size limit for check 2.
    seed : int
        Seed of the random directions.

    Raises
    ------
    AssertionError
        Naming the worst absolute and relative error and where it occurred.
    """
    xs = [np.array(as_array(a, np.float64)) for a in args]
    rng = np.random.default_rng(seed)
    out0 = _evaluate(f, xs)
    nums = tuple(range(len(xs)))
    for d in range(n_directions):
        vs = [rng.standard_normal(x.shape) for x in xs]
        norm = np.sqrt(sum(float(np.sum(v * v)) for v in vs)) or 1.0
        vs = [v / norm for v in vs]
        u = rng.standard_normal(out0.shape)
        leaves = [Tensor(x, requires_grad=True) for x in xs]
        out = f(*leaves)
        if not isinstance(out, Tensor) or not out.requires_grad:
            analytic = 0.0
        else:
            out.backward(u)
            analytic = sum(
                float(np.sum((lf.grad if lf.grad is not None else 0.0) * v))
                for lf, v in zip(leaves, vs, strict=True)
            )
        plus = _evaluate(f, [x + eps * v for x, v in zip(xs, vs, strict=True)])
        minus = _evaluate(f, [x - eps * v for x, v in zip(xs, vs, strict=True)])
        numeric = float(np.sum(u * (plus - minus))) / (2 * eps)
        _report(f"directional derivative {d}", np.array([numeric]), np.array([analytic]),
                rtol, atol)
    if out0.size > full_jacobian_max or any(x.size > full_jacobian_max for x in xs):
        return
    jacs = jacobian(f, nums)(*xs)
    for i, (x, jac) in enumerate(zip(xs, jacs, strict=True)):
        numeric_jac = np.zeros(out0.shape + x.shape)
        flat = numeric_jac.reshape(out0.size, x.size)
        for k in range(x.size):
            step = np.zeros(x.shape)
            step.flat[k] = eps
            shifted_p = [*xs[:i], x + step, *xs[i + 1:]]
            shifted_m = [*xs[:i], x - step, *xs[i + 1:]]
            col = (_evaluate(f, shifted_p) - _evaluate(f, shifted_m)) / (2 * eps)
            flat[:, k] = col.reshape(-1)
        _report(f"Jacobian w.r.t. argument {i}", numeric_jac, np.asarray(jac, np.float64), rtol,
                atol)
