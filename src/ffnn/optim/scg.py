"""Scaled conjugate gradient (Møller 1993; MATLAB's ``trainscg``, ``patternnet``'s default)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._validation import check_number
from ..autodiff.tensor import Tensor
from .base import GlobalValue, GlobalValueAttribute
from .first_order import _state_entries
from .full_batch import FullBatchOptimizer, Problem

__all__ = ["ScaledConjugateGradient"]

_SLOTS = ("direction", "residual")


class ScaledConjugateGradient(FullBatchOptimizer):
    """Møller's scaled conjugate gradient: conjugate directions without a line search.

    One epoch is one iteration k of Møller (1993), on the objective E(θ) (loss +
    penalties) of the whole training set, with r = −E'(θ) and the direction p:

    .. math::

        s = \\frac{E'(\\theta + \\sigma_k p) - E'(\\theta)}{\\sigma_k},\\quad
        \\sigma_k = \\frac{\\sigma}{\\lVert p\\rVert},\\quad
        \\delta = p^\\top s + (\\lambda - \\bar\\lambda)\\lVert p\\rVert^2,\\quad
        \\alpha = \\frac{p^\\top r}{\\delta}

    (s only after a successful step; if δ ≤ 0, λ̄ = 2(λ − δ/‖p‖²), δ ← −δ + λ‖p‖²,
    λ ← λ̄). The comparison Δ = 2δ(E(θ) − E(θ + αp))/(pᵀr)² decides: Δ ≥ 0 accepts
    θ ← θ + αp, λ̄ = 0, and the new direction p ← r₊ + βp with
    β = (‖r₊‖² − r₊ᵀr)/(pᵀr) (p ← r₊ every P iterations, P the number of parameters),
    and λ ← λ/4 if Δ ≥ 0.75; Δ < 0 keeps θ and sets λ̄ = λ. Finally, if Δ < 0.25,
    λ ← λ + δ(1 − Δ)/‖p‖². The scaling λ replaces the line search: each iteration costs
    two gradients and one objective value.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Attached by ``model.compile``; ``model.fit`` drives the optimiser.
    sigma : float, default 5e-5
        σ, the finite-difference scale of the second-order information (``trainscg``'s
        ``sigma``).
    lambda_ : float, default 5e-7
        λ₁, the initial scaling (``trainscg``'s ``lambda``; Møller asks 0 < λ₁ ≤ 1e-6).
    goal : float, default 0
        Stop when the objective is at most ``goal``.
    min_grad : float, default 1e-6
        Stop when ‖E'(θ)‖ is at most ``min_grad`` (``trainscg``'s default, which is
        ten times ``trainlm``'s).

    Notes
    -----
    Every ``fit`` starts a new run (p = r = −E'(θ), λ = λ₁, λ̄ = 0), as MATLAB's
    ``train`` does; the direction, the residual, λ, λ̄, δ and the iteration count are
    saved in checkpoints so a resumed run continues bit for bit. After each epoch
    :attr:`epoch_logs` holds ``lambda``, ``gradient_norm`` (at the epoch's start) and
    ``success`` (1 if the step was taken). Arithmetic is in float64.

    References
    ----------
    M. F. Møller, "A scaled conjugate gradient algorithm for fast supervised learning",
    Neural Networks 6 (1993) 525–533. MathWorks, ``trainscg`` documentation.
    """

    name = "scg"
    lam = GlobalValueAttribute("lambda")
    lam_bar = GlobalValueAttribute("lambda_bar")
    delta = GlobalValueAttribute("delta")
    success = GlobalValueAttribute("success")
    k = GlobalValueAttribute("k")
    objective = GlobalValueAttribute("objective")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        *,
        sigma: float = 5e-5,
        lambda_: float = 5e-7,
        goal: float = 0.0,
        min_grad: float = 1e-6,
    ) -> None:
        self.sigma = check_number("sigma", sigma, low=0.0, low_open=True)
        self.lambda_ = check_number("lambda_", lambda_, low=0.0, low_open=True)
        self.goal = check_number("goal", goal, low=0.0)
        self.min_grad = check_number("min_grad", min_grad, low=0.0)
        self._p = np.zeros(0)
        self._r = np.zeros(0)
        super().__init__(params)

    # ------------------------------------------------------------------ state
    def _initial_global(self) -> dict[str, GlobalValue]:
        """k is Møller's iteration number; 0 means "not started": the next epoch computes
        p = r = −E'(θ) and sets k = 1."""
        return {"lambda": self.lambda_, "lambda_bar": 0.0, "delta": 0.0, "success": 1.0,
                "k": 0.0, "objective": None}

    def _check_global(self, state: Mapping[str, GlobalValue]) -> None:
        """λ > 0, λ̄ ≥ 0, success ∈ {0, 1}, k a non-negative integer, δ ≥ 0 (Møller's step
        4 makes it positive), the objective ≥ 0 (a loss plus penalties) or None."""
        super()._check_global(state)
        lam, lam_bar, success, k = (state["lambda"], state["lambda_bar"], state["success"],
                                    state["k"])
        delta, objective = state["delta"], state["objective"]
        problems = [
            (delta is None or not delta >= 0.0, f"'delta' must be >= 0, got {delta!r}"),
            (objective is not None and not objective >= 0.0,
             f"'objective' must be >= 0, got {objective!r}"),
            (lam is None or not lam > 0.0, f"'lambda' must be > 0, got {lam!r}"),
            (lam_bar is None or not lam_bar >= 0.0, f"'lambda_bar' must be >= 0, got {lam_bar!r}"),
            (success not in (0.0, 1.0), f"'success' must be 0 or 1, got {success!r}"),
            (k is None or not (k >= 0.0 and float(k).is_integer()),
             f"'k' must be a non-negative integer, got {k!r}"),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(f"{self.name} state {message}")

    def estimate_bytes(self, n_params: int, itemsize: int, n_samples: int,
                       n_outputs: int) -> float:
        """The float64 vectors of θ's size an iteration holds: the direction p, the
        residual r, θ, the probe θ + σp, two gradients, s, the new residual, and the
        copies the problem makes of θ and of the gradient (12 in all)."""
        return float(n_params) * 8 * 12

    def _allocate(self) -> None:
        super()._allocate()
        size = sum(int(p.data.size) for p in self._params)
        self._p = np.zeros(size)
        self._r = np.zeros(size)
        self.begin_fit()

    def begin_fit(self) -> None:
        """Start a new run (``fit`` calls this first): λ = λ₁, λ̄ = 0, k = 0."""
        self.global_state = dict(self._initial_global())
        self.stop_reason = None
        self.epoch_logs = {}

    def state_dict(self) -> dict[str, Any]:
        """The common snapshot plus the direction p and residual r, split per parameter
        (float64 arrays of each parameter's shape, slots ``direction`` and ``residual``)."""
        state: dict[int, dict[str, np.ndarray]] = {}
        start = 0
        for i, param in enumerate(self._params):
            stop = start + param.data.size
            state[i] = {"direction": self._p[start:stop].reshape(param.data.shape).copy(),
                        "residual": self._r[start:stop].reshape(param.data.shape).copy()}
            start = stop
        return {**super().state_dict(), "state": state}

    def _validate_own(self, template: Any, state_dict: Mapping[str, Any]) -> Any:
        """One float64 direction and residual per parameter, of its shape, finite."""
        entries = _state_entries(state_dict.get("state", {}), len(self._params))
        parts: dict[str, list[np.ndarray]] = {slot: [] for slot in _SLOTS}
        for i, (param, entry) in enumerate(zip(self._params, entries, strict=True)):
            if set(entry) != set(_SLOTS):
                raise ValueError(f"parameter {i}: scg state must hold {list(_SLOTS)}, got "
                                 f"{sorted(entry)}")
            for slot in _SLOTS:
                a = entry[slot]
                if a.shape != param.data.shape or a.dtype != np.float64:
                    raise ValueError(f"parameter {i}: scg state {slot!r} must be float64 of "
                                     f"shape {param.data.shape}, got {a.dtype} {a.shape}")
                if not np.isfinite(a).all():
                    raise ValueError(f"parameter {i}: scg state {slot!r} is not finite")
                parts[slot].append(a.ravel())
        size = sum(int(p.data.size) for p in self._params)
        return {slot: np.concatenate(arrays) if arrays else np.zeros(size)
                for slot, arrays in parts.items()}

    def _apply_own(self, pending: Any) -> None:
        self._p = pending["direction"].copy()
        self._r = pending["residual"].copy()

    # ------------------------------------------------------------------ epoch
    def step_problem(self, problem: Problem) -> tuple[float, np.ndarray]:
        """One SCG iteration on ``problem``; returns the objective and ŷ after it.

        Overflow is not warned about: a non-finite objective or gradient stops the run
        (its stop reason says so) with the weights the epoch started from."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step(problem)

    def _step(self, problem: Problem) -> tuple[float, np.ndarray]:
        self.stop_reason = None
        if self.k == 0.0 or self.objective is None or self._p.shape != (problem.n_params,):
            value, grad, out = problem.value_and_grad()
            self._r = -np.asarray(grad, dtype=np.float64)
            self._p = self._r.copy()
            self.global_state.update(self._initial_global(), objective=float(value), k=1.0)
        else:
            out = None
        loss = float(self.objective)
        grad_norm = float(np.linalg.norm(self._r))
        self.epoch_logs = {"lambda": float(self.lam), "gradient_norm": grad_norm}
        if not math.isfinite(loss) or not math.isfinite(grad_norm):
            self.stop_reason = (f"non-finite objective or gradient ({loss}, {grad_norm}); "
                                "the weights are left as the epoch started (the initial "
                                "weights in a first epoch)")
        elif loss <= self.goal:
            self.stop_reason = f"loss goal reached: {loss:.6g} <= goal {self.goal:g}"
        elif grad_norm <= self.min_grad or not np.any(self._p):
            self.stop_reason = f"gradient norm {grad_norm:.3g} <= min_grad {self.min_grad:g}"
        if self.stop_reason is not None:
            return loss, problem.forward() if out is None else out
        accepted = self._iterate(problem, loss)
        self.iterations += 1
        self.epoch_logs["success"] = float(accepted is not None)
        if accepted is None:
            return loss, problem.forward()
        return accepted

    def _iterate(self, problem: Problem, loss: float) -> tuple[float, np.ndarray] | None:
        """Steps 2–8 of Møller's algorithm; the new (objective, ŷ) if the step was taken."""
        w = problem.get_flat().astype(np.float64)
        p, r = self._p, self._r
        lam, lam_bar, delta = float(self.lam), float(self.lam_bar), float(self.delta)
        p_sq = float(p @ p)
        if self.success == 1.0:  # step 2: second-order information
            sigma_k = self.sigma / math.sqrt(p_sq)
            problem.set_flat(w + sigma_k * p)
            _, grad_sigma, _ = problem.value_and_grad()
            s = (np.asarray(grad_sigma, dtype=np.float64) + r) / sigma_k
            delta = float(p @ s)
        delta += (lam - lam_bar) * p_sq  # step 3: scale
        if delta <= 0.0:  # step 4: make the Hessian approximation positive definite
            lam_bar = 2.0 * (lam - delta / p_sq)
            delta = -delta + lam * p_sq
            lam = lam_bar
        mu = float(p @ r)  # step 5: step size
        alpha = mu / delta
        problem.set_flat(w + alpha * p)  # step 6: comparison parameter
        value, grad, out = problem.value_and_grad()
        comparison = 2.0 * delta * (loss - value) / (mu * mu) if math.isfinite(value) else -1.0
        result: tuple[float, np.ndarray] | None = None
        if comparison >= 0.0:  # step 7: a successful reduction
            r_new = -np.asarray(grad, dtype=np.float64)
            if int(self.k) % problem.n_params == 0:
                p_new = r_new.copy()
            else:
                beta = (float(r_new @ r_new) - float(r_new @ r)) / mu
                p_new = r_new + beta * p
            self._p, self._r = p_new, r_new
            lam_bar, success = 0.0, 1.0
            if comparison >= 0.75:
                lam = 0.25 * lam
            self.objective = float(value)
            result = (float(value), out)
        else:
            problem.set_flat(w)
            lam_bar, success = lam, 0.0
        if comparison < 0.25:  # step 8: increase the scale parameter
            lam = lam + delta * (1.0 - comparison) / p_sq
        self.global_state.update({"lambda": lam, "lambda_bar": lam_bar, "delta": delta,
                                  "success": success, "k": float(self.k) + 1.0})
        self.epoch_logs["lambda"] = lam
        return result
