"""The linear algebra of a Levenberg–Marquardt step: J and its Gram matrix, and the
damped Gauss–Newton solve in the primal (JᵀJ, P×P) or the dual (JJᵀ, m×m, Woodbury)
form. :mod:`.lm` holds the optimisers that drive it (damping schedule, Bayesian
regularisation's hyper-parameters)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

__all__ = ["lm_step"]


@dataclass
class _Linearization:
    """Everything one epoch's steps need at the current point θ.

    ``gram`` is JᵀJ (primal) or JJᵀ (dual, where ``jac`` and ``e`` are kept); ``g`` =
    Jᵀe − q is the scaled negative gradient, ``q`` and ``d`` the penalty's gradient
    and curvature, both divided by 2c.
    """

    primal: bool
    gram: np.ndarray
    jte: np.ndarray
    diag: np.ndarray
    e_sq: float
    out: np.ndarray
    jac: np.ndarray | None = None
    e: np.ndarray | None = None
    q: Any = 0.0
    d: Any = 0.0
    g: Any = None
    scale: float = 1.0  # 2c: the objective is scale·(½‖e‖² + …)
    loss: float = math.nan  # the compiled loss c‖e‖² + R(θ)
    f0: float = math.nan  # the objective the steps must lower


def _spd_solve(m: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve m x = b by Cholesky; least squares if m is not numerically PD."""
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(m, check_finite=False), b,
                                      check_finite=False)
    except np.linalg.LinAlgError:
        return scipy.linalg.lstsq(m, b, check_finite=False)[0]


def lm_step(lin: _Linearization, a: np.ndarray) -> np.ndarray:
    """δ = (JᵀJ + diag(a))⁻¹ (Jᵀe − q), in the primal or the dual (Woodbury) form.

    Dual, with A = diag(a): (JᵀJ + A)⁻¹Jᵀ = A⁻¹Jᵀ(JA⁻¹Jᵀ + I)⁻¹ (push-through) and
    (JᵀJ + A)⁻¹ = A⁻¹ − A⁻¹Jᵀ(JA⁻¹Jᵀ + I)⁻¹JA⁻¹ (Woodbury) give
    δ = A⁻¹(Jᵀv − q) with (JA⁻¹Jᵀ + I) v = e + JA⁻¹q: one m×m solve. For A = μI and
    q = 0 this is the notes' δ = Jᵀ(JJᵀ + μI)⁻¹e.
    """
    if lin.primal:
        m = lin.gram.copy()
        m[np.diag_indices_from(m)] += a
        return _spd_solve(m, lin.g)
    assert lin.jac is not None and lin.e is not None
    ja = lin.jac / a
    k = ja @ lin.jac.T
    k[np.diag_indices_from(k)] += 1.0
    v = _spd_solve(k, lin.e + ja @ np.broadcast_to(lin.q, a.shape))
    return (lin.jac.T @ v - lin.q) / a


def _primal(problem: Any, chunk: int) -> _Linearization:
    """Accumulate JᵀJ and Jᵀe over chunks of samples: memory O(P² + chunk·K·P)."""
    p = problem.n_params
    gram, jte, e_sq, outs = np.zeros((p, p)), np.zeros(p), 0.0, []
    for out, e, jac in problem.jacobian_chunks(chunk):
        j64 = jac.astype(np.float64, copy=False)
        gram += j64.T @ j64
        jte += j64.T @ e
        e_sq += float(e @ e)
        outs.append(out)
    out = outs[0] if len(outs) == 1 else np.concatenate(outs)
    return _Linearization(True, gram, jte, np.diag(gram).copy(), e_sq, out)


def _dual(problem: Any) -> _Linearization:
    """Keep J (m×P, m < P) and the m×m Gram matrix JJᵀ."""
    out, e, jac = next(iter(problem.jacobian_chunks(None)))
    j64 = jac.astype(np.float64)
    return _Linearization(False, j64 @ j64.T, j64.T @ e, np.einsum("ij,ij->j", j64, j64),
                          float(e @ e), out, jac=j64, e=e)


def _scaling(diag: np.ndarray) -> np.ndarray:
    """Marquardt's diag(JᵀJ), floored so that dead columns keep some damping."""
    return np.maximum(diag, 1e-12 * max(float(diag.max(initial=0.0)), 1.0))
