"""Error bars for networks trained by Bayesian regularisation or Levenberg–Marquardt:
``model.predict(x, return_std=True)``, MacKay's evidence approximation.

Bayesian regularisation minimises F = β E_D + α E_W with E_D = Σe² and E_W = ‖θ‖²
(MATLAB's convention, docs/second_order.md). Read as a posterior ∝ exp(−F), the
likelihood is Gaussian noise of variance 1/(2β) and the prior N(0, 1/(2α)); around the
trained θ the posterior is approximately Gaussian with precision A = ∇²F ≈ 2βJᵀJ + 2αI
(the Gauss–Newton Hessian, J = ∂ŷ/∂θ on the training rows). Linearising the network,
ŷ(x) ≈ ŷ_θ(x) + g(x)ᵀ(θ' − θ) with g = ∂ŷ/∂θ at x, so a new target at x has

    σ²(x) = 1/(2β) + g(x)ᵀ A⁻¹ g(x)

(MacKay 1992, "A practical Bayesian framework for backpropagation networks", eq. for
the predictive variance, written there for F = βE_D/2 + αE_W/2). For plain
Levenberg–Marquardt there is no prior: the noise variance is estimated as
s² = E_D/(N·K − P) and A = JᵀJ/s² (the classical nonlinear-regression interval), with
the pseudo-inverse where JᵀJ is singular.

One eigendecomposition of JᵀJ (P×P) is computed at the first call and reused while the
weights and the training set stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils import flatten_params
from .problem import output_jacobian

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["Evidence", "predictive_std", "remember"]

_RCOND = 1e-12


@dataclass
class Evidence:
    """What ``fit`` leaves for the error bars: the training rows and the hyper-parameters."""

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    method: str
    alpha: float | None = None
    beta: float | None = None
    _cache: dict[str, Any] = field(default_factory=dict)


def remember(model: Sequential, x: np.ndarray, y: np.ndarray, sw: Any) -> None:
    """Called at the end of ``fit``: keep references to the training rows (no copy) and
    Bayesian regularisation's α and β, for models trained by ``br`` or ``lm``."""
    opt = model.optimizer
    name = getattr(opt, "name", "")
    if name not in ("lm", "br"):
        model.evidence = None
        return
    state = opt.global_state
    bayesian = bool(getattr(opt, "bayesian", False)) and state.get("alpha") is not None
    model.evidence = Evidence(x, y, sw, "br" if bayesian else "lm",
                              state.get("alpha") if bayesian else None,
                              state.get("beta") if bayesian else None)


def _factor(model: Sequential, ev: Evidence) -> dict[str, Any]:
    """The eigendecomposition of JᵀJ, the noise variance and A⁻¹'s eigenvalues."""
    theta = flatten_params(model, np.float64)
    cache = ev._cache
    if "theta" in cache and np.array_equal(cache["theta"], theta):
        return cache
    out, jac = output_jacobian(model, ev.x)
    jac = jac.astype(np.float64)
    resid = (np.asarray(ev.y, dtype=np.float64).reshape(out.shape) - out).ravel()
    if ev.sample_weight is not None:
        root = np.repeat(np.sqrt(np.asarray(ev.sample_weight, dtype=np.float64)), out.shape[1])
        jac, resid = jac * root[:, None], resid * root
    lam, vec = np.linalg.eigh(jac.T @ jac)
    lam = np.clip(lam, 0.0, None)
    if ev.method == "br":
        assert ev.alpha is not None and ev.beta is not None
        inv = 1.0 / (2.0 * ev.beta * lam + 2.0 * ev.alpha)
        noise = 1.0 / (2.0 * ev.beta)
    else:
        dof = jac.shape[0] - jac.shape[1]
        if dof <= 0:
            raise ValueError(f"return_std for a model trained by 'lm' needs more residuals "
                             f"({jac.shape[0]}) than parameters ({jac.shape[1]}); train with "
                             "'br', whose prior makes the posterior proper")
        noise = float(resid @ resid) / dof
        keep = lam > _RCOND * max(float(lam.max()), 1e-300)
        inv = np.where(keep, noise / np.where(keep, lam, 1.0), 0.0)
    cache.clear()
    cache.update(theta=theta, vec=vec, inv=inv, noise=noise)
    return cache


def predictive_std(model: Sequential, x: np.ndarray) -> np.ndarray:
    """σ(x) of shape (N, K) for validated inputs ``x``; see the module docstring.

    Raises
    ------
    ValueError
        If the model was not trained by ``br`` or ``lm`` in this session (the training
        rows are needed), or by ``lm`` with no more residuals than parameters.
    """
    ev: Evidence | None = getattr(model, "evidence", None)
    if ev is None:
        raise ValueError("predict(return_std=True) needs a model trained with the 'br' "
                         "(Bayesian regularisation) or 'lm' optimizer by fit() in this "
                         "session: the error bars use the training set's Jacobian")
    f = _factor(model, ev)
    out, jac = output_jacobian(model, x)
    proj = jac.astype(np.float64) @ f["vec"]
    var = f["noise"] + (proj * proj) @ f["inv"]
    return np.sqrt(var).reshape(out.shape)
