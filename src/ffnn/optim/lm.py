"""Levenberg–Marquardt (MATLAB's ``trainlm``) and Bayesian regularisation (``trainbr``)."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.linalg

from .._validation import check_bool, check_choice, check_number, check_positive_int
from ..autodiff.tensor import Tensor
from .base import GlobalValue, GlobalValueAttribute
from .full_batch import FullBatchOptimizer, Problem
from .lm_linalg import _dual, _Linearization, _primal, _scaling, lm_step
from .memory import plan_lm

__all__ = ["BayesianRegularization", "LevenbergMarquardt", "lm_step"]

_FORMS = ("auto", "primal", "dual")
_TINY, _HUGE = math.ulp(0.0), sys.float_info.max
_UPDATES = ("trainlm", "nielsen")


class LevenbergMarquardt(FullBatchOptimizer):
    """Levenberg–Marquardt for least-squares losses, with MATLAB ``trainlm``'s defaults.

    Each epoch linearises the residuals e = √w (y − ŷ) at θ (J = ∂ŷ/∂θ), solves

    .. math::

        (J^\\top J + D + \\mu S)\\,\\delta = J^\\top e - q, \\qquad
        \\theta \\leftarrow \\theta + \\delta \\text{ if the loss falls,}

    where the loss is c‖e‖² + R(θ), q = ∇R/(2c) and D the curvature of R's L2 part
    divided by 2c (so μ has ``trainlm``'s scale for every least-squares loss), S = I or
    Marquardt's diag(JᵀJ). On a rejected step the parameters are restored bit for bit
    and μ ← μ·``mu_inc`` (up to ``max_retries`` tries per epoch); on an accepted one
    μ ← μ·``mu_dec``. With ``update="nielsen"`` μ follows the gain ratio ρ (actual over
    predicted reduction): μ ← μ·max(⅓, 1 − (2ρ − 1)³), ν = 2 on success, μ ← μν,
    ν ← 2ν on failure (Nielsen 1999; Madsen, Nielsen & Tingleff 2004).

    The primal system is P×P; when the parameters outnumber the residuals the dual
    (Woodbury) form solves an m×m system instead (see :func:`lm_step`). The primal
    form accumulates JᵀJ and Jᵀe over chunks of samples, so memory is
    O(P² + chunk·K·P). Before each epoch allocates, the bytes of both forms are
    estimated against the memory available (:func:`ffnn.optim.memory.plan_lm`): "auto"
    takes the other form, and the default chunk size shrinks, when the first choice
    does not fit; when nothing fits, :class:`~ffnn.optim.memory.InsufficientMemoryError`
    gives the sizes needed and available. The step is Cholesky-factored
    (scipy.linalg), falling back to least squares if the matrix is not numerically
    positive definite.

    Parameters
    ----------
    params : iterable of Tensor, optional
        Attached by ``model.compile``; the optimiser is driven by ``model.fit`` through
        :meth:`step_problem`.
    mu : float, default 1e-3
        Initial damping μ₀.
    mu_dec, mu_inc : float, default 0.1, 10
        Factors applied to μ after an accepted (rejected) step.
    mu_max : float, default 1e10
        Training stops when μ exceeds it.
    goal : float, default 0
        Stop when the loss is at most ``goal``.
    min_grad : float, default 1e-7
        Stop when the gradient norm ‖∇loss‖ is at most ``min_grad``.
    max_retries : int, default 30
        Rejected trial steps allowed per epoch.
    form : {"auto", "primal", "dual"}
        "auto" uses the dual form when parameters outnumber residuals.
    marquardt_scaling : bool, default False
        Damp with μ·diag(JᵀJ) instead of μI.
    update : {"trainlm", "nielsen"}
        The μ update rule.
    chunk_size : int, optional
        Samples per chunk of the primal accumulation; by default chunks of about 2²¹
        Jacobian entries (fewer when memory is short).
    bayesian : bool, default False
        Bayesian regularisation (see :class:`BayesianRegularization`).

    Notes
    -----
    After each epoch :attr:`epoch_logs` holds ``mu`` and ``gradient_norm`` (at the
    epoch's starting point) and :attr:`stop_reason` says why training should stop, if
    it should. The loss ``fit`` records is the one after the epoch's step. If the
    residuals become non-finite training stops and the weights with the lowest loss
    seen by this optimiser are restored.
    """

    name = "lm"
    # The damping and Bayesian hyper-parameters carry over from epoch to epoch: they are
    # optimiser-level state (saved in checkpoints, range-checked when loaded).
    current_mu = GlobalValueAttribute("mu")
    nu = GlobalValueAttribute("nu")
    alpha = GlobalValueAttribute("alpha")
    beta = GlobalValueAttribute("beta")
    gamma = GlobalValueAttribute("gamma")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        *,
        mu: float = 1e-3,
        mu_dec: float = 0.1,
        mu_inc: float = 10.0,
        mu_max: float = 1e10,
        goal: float = 0.0,
        min_grad: float = 1e-7,
        max_retries: int = 30,
        form: str = "auto",
        marquardt_scaling: bool = False,
        update: str = "trainlm",
        chunk_size: int | None = None,
        bayesian: bool = False,
    ) -> None:
        self.mu = check_number("mu", mu, low_open=True, low=0.0)
        self.mu_dec = check_number("mu_dec", mu_dec, low=0.0, high=1.0, low_open=True,
                                   high_open=True)
        self.mu_inc = check_number("mu_inc", mu_inc, low=1.0, low_open=True)
        self.mu_max = check_number("mu_max", mu_max, low_open=True, low=0.0)
        self.goal = check_number("goal", goal, low=0.0)
        self.min_grad = check_number("min_grad", min_grad, low=0.0)
        self.max_retries = check_positive_int("max_retries", max_retries)
        self.form = check_choice("form", form, _FORMS)
        self.marquardt_scaling = check_bool("marquardt_scaling", marquardt_scaling)
        self.update = check_choice("update", update, _UPDATES)
        self.chunk_size = (None if chunk_size is None
                           else check_positive_int("chunk_size", chunk_size))
        self.bayesian = check_bool("bayesian", bayesian)
        self._best: tuple[float, np.ndarray] | None = None
        super().__init__(params)

    def _initial_global(self) -> dict[str, GlobalValue]:
        """μ = ``mu``, ν = 2 and the Bayesian α, β, γ not yet known."""
        return {"mu": self.mu, "nu": 2.0, "alpha": None, "beta": None, "gamma": None}

    def _check_global(self, state: Mapping[str, GlobalValue]) -> None:
        """μ > 0, ν ≥ 2 (it starts at 2 and doubles), α ≥ 0 (0: no weight penalty, when
        γ = 0), β > 0 and 0 ≤ γ ≤ P when known."""
        super()._check_global(state)
        n_params = sum(p.data.size for p in self._params) if self._params else math.inf
        ranges = {"mu": (0.0, math.inf, True), "nu": (2.0, math.inf, False),
                  "alpha": (0.0, math.inf, False), "beta": (0.0, math.inf, True),
                  "gamma": (0.0, n_params, False)}
        for key, (low, high, open_low) in ranges.items():
            value = state[key]
            inside = value is None or (
                (low < value if open_low else low <= value) and value <= high)
            if not inside:
                raise ValueError(f"{self.name} state {key!r} must be "
                                 f"{'>' if open_low else '>='} {low:g} and <= {high:g}, "
                                 f"got {value!r}")

    def _allocate(self) -> None:
        super()._allocate()
        self.begin_fit()

    def estimate_bytes(self, n_params: int, itemsize: int, n_samples: int,
                       n_outputs: int) -> float:
        """The peak of the form :func:`~ffnn.optim.memory.plan_lm` chooses (it raises
        when none fits), plus a few float64 vectors of θ."""
        plan = plan_lm(n_samples, n_outputs, n_params, itemsize, self.form, self.chunk_size)
        return plan.bytes + 8.0 * n_params * 8

    def begin_fit(self) -> None:
        """Start a new run, as MATLAB's train does: μ back to ``mu``, ν, α, β, γ, the best
        weights seen and any stop reason forgotten (``fit`` calls this first)."""
        self.global_state = dict(self._initial_global())
        self.stop_reason = None
        self.epoch_logs = {}
        self._best = None

    # ------------------------------------------------------------------ epoch
    def step_problem(self, problem: Problem) -> tuple[float, np.ndarray]:
        """One epoch: linearise at θ, then try damped steps until one lowers the loss.

        Parameters
        ----------
        problem : Problem

        Returns
        -------
        (float, ndarray)
            The loss and the network output after the epoch.
        """
        self.stop_reason = None
        self.iterations += 1
        # Overflow is detected (non-finite residuals stop the run), not warned about.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._epoch(problem)

    def _epoch(self, problem: Problem) -> tuple[float, np.ndarray]:
        c = problem.least_squares_factor()
        if self.bayesian and problem.penalty_value() != 0.0:
            raise ValueError("Bayesian regularisation chooses its own weight penalty; remove "
                             "the layers' kernel_regularizer")
        lin = self._linearize(problem, c)
        loss = lin.loss
        if not (math.isfinite(loss) and np.isfinite(lin.g).all() and np.isfinite(lin.gram).all()):
            return self._restore_best(problem, loss, lin.out)
        self._remember(problem, loss)
        grad_norm = lin.scale * float(np.linalg.norm(lin.g))
        self.epoch_logs = {"mu": self.current_mu, "gradient_norm": grad_norm}
        if self.gamma is not None and self.alpha is not None and self.beta is not None:
            # Bayesian: the current values, updated after each accepted step
            self.epoch_logs.update(gamma=self.gamma, alpha=self.alpha, beta=self.beta)
        if self._stopped_before(loss, grad_norm):
            return loss, lin.out
        result = self._search(problem, lin, c)
        if result is None:
            return loss, lin.out
        loss, out = result
        self._remember(problem, loss)
        self.epoch_logs["mu"] = self.current_mu
        if loss <= self.goal:
            self.stop_reason = f"loss goal reached: {loss:.6g} <= goal {self.goal:g}"
        return loss, out

    def _stopped_before(self, loss: float, grad_norm: float) -> bool:
        if loss <= self.goal:
            self.stop_reason = f"loss goal reached: {loss:.6g} <= goal {self.goal:g}"
        elif grad_norm <= self.min_grad:
            self.stop_reason = f"gradient norm {grad_norm:.3g} <= min_grad {self.min_grad:g}"
        elif self.current_mu > self.mu_max:
            self.stop_reason = f"mu {self.current_mu:.3g} exceeded mu_max {self.mu_max:g}"
        return self.stop_reason is not None

    def _remember(self, problem: Any, loss: float) -> None:
        if self._best is None or loss <= self._best[0]:
            self._best = (loss, problem.get_flat())

    def _restore_best(self, problem: Any, loss: float, out: np.ndarray) -> tuple[float, np.ndarray]:
        self.stop_reason = f"non-finite residuals or Jacobian (loss {loss})"
        if self._best is None or self._best[1].shape != (problem.n_params,):
            self.stop_reason += ("; no finite loss was seen, the weights are left as the "
                                 "epoch started (the initial weights in a first epoch)")
            return loss, out
        best, theta = self._best
        problem.set_flat(theta)
        self.stop_reason += f"; restored the weights with the lowest loss ({best:.6g})"
        return best, problem.forward()

    # ---------------------------------------------------------- linearisation
    def _linearize(self, problem: Any, c: float) -> _Linearization:
        if self.form == "dual" and not problem.local:
            raise ValueError("form='dual' needs every row in one process; data-parallel "
                             "training uses form='primal' (or 'auto')")
        # the form and chunk size that fit in memory, decided before allocating
        plan = plan_lm(problem.n_samples, problem.n_outputs, problem.n_params,
                       np.dtype(problem.dtype).itemsize,
                       self.form if problem.local else "primal", self.chunk_size)
        lin = _primal(problem, plan.chunk) if plan.primal else _dual(problem)
        if not problem.local:  # the ranks' JᵀJ, Jᵀe and ‖e‖² summed, J never sent
            lin.gram, lin.jte, e_sq = problem.allreduce(lin.gram, lin.jte, [lin.e_sq])
            lin.diag, lin.e_sq = np.diag(lin.gram).copy(), float(e_sq[0])
        theta = problem.get_flat().astype(np.float64)
        if self.bayesian:
            if self.alpha is None:
                self._init_hyperparameters(problem, lin.e_sq, theta)
            assert self.alpha is not None and self.beta is not None
            ratio = self.alpha / self.beta
            lin.q, lin.d, lin.scale = ratio * theta, ratio, 2.0 * self.beta
            lin.loss = c * lin.e_sq
            lin.f0 = self.beta * lin.e_sq + self.alpha * float(theta @ theta)
        else:
            penalty, grad, curv = problem.penalty()
            lin.q, lin.d, lin.scale = grad / (2.0 * c), curv / (2.0 * c), 2.0 * c
            lin.loss = lin.f0 = c * lin.e_sq + penalty
        lin.g = lin.jte - lin.q
        return lin

    # ----------------------------------------------------------------- search
    def _objective(self, problem: Any, c: float) -> tuple[float, float, float, np.ndarray]:
        """(objective F, loss, E_D, ŷ) at the current θ."""
        out = problem.forward()
        e = problem.errors(out)
        e_sq = float(e @ e) if problem.local else float(problem.allreduce([e @ e])[0][0])
        loss = c * e_sq + problem.penalty_value()
        if self.bayesian:
            assert self.alpha is not None and self.beta is not None
            theta = problem.get_flat().astype(np.float64)
            return self.beta * e_sq + self.alpha * float(theta @ theta), loss, e_sq, out
        return loss, loss, e_sq, out

    def _search(self, problem: Any, lin: _Linearization,
                c: float) -> tuple[float, np.ndarray] | None:
        theta0 = problem.get_flat()
        start, f0 = theta0.astype(np.float64), lin.f0
        for _ in range(self.max_retries):
            scale = _scaling(lin.diag) if self.marquardt_scaling else 1.0
            a = lin.d + self.current_mu * np.broadcast_to(scale, lin.diag.shape)
            delta = lm_step(lin, np.asarray(a, dtype=np.float64))
            problem.set_flat(start + delta)
            f1, loss, e_sq, out = self._objective(problem, c)
            if math.isfinite(f1) and f1 < f0:
                pred = 0.5 * float(delta @ (lin.g + self.current_mu * scale * delta))
                self._accept((f0 - f1) / lin.scale / max(pred, 1e-300))
                if self.bayesian:
                    self._update_hyperparameters(problem, lin, e_sq, f1)
                return loss, out
            problem.set_flat(theta0)
            self._reject()
            if self.current_mu > self.mu_max:
                self.stop_reason = f"mu {self.current_mu:.3g} exceeded mu_max {self.mu_max:g}"
                break
        self.epoch_logs["mu"] = self.current_mu
        return None

    # μ and ν stay positive and finite (μ ∈ [5e-324, 1.8e308], ν ≤ 1.8e308): a long run of
    # accepted steps no longer underflows μ to 0, where ×mu_inc could never raise it
    # again, and every state a run reaches is one that a checkpoint can hold and load.
    def _accept(self, rho: float) -> None:
        if self.update == "nielsen":
            factor = max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            self.current_mu = max(self.current_mu * factor, _TINY)
            self.nu = 2.0
        else:
            self.current_mu = max(self.current_mu * self.mu_dec, _TINY)

    def _reject(self) -> None:
        if self.update == "nielsen":
            self.current_mu = min(self.current_mu * self.nu, _HUGE)
            self.nu = min(self.nu * 2.0, _HUGE)
        else:
            self.current_mu = min(self.current_mu * self.mu_inc, _HUGE)

    # ------------------------------------------------------------- Bayesian
    def _init_hyperparameters(self, problem: Any, e_sq: float, theta: np.ndarray) -> None:
        """trainbr's start: γ = P, α = γ/(2E_W), β = (N − γ)/(2E_D) (1 if not positive)."""
        gamma = float(problem.n_params)
        beta = (problem.n_observations - gamma) / (2.0 * e_sq) if e_sq > 0 else 1.0
        e_w = float(theta @ theta)
        self.gamma = gamma
        self.beta = beta if beta > 0 else 1.0
        self.alpha = gamma / (2.0 * e_w) if e_w > 0 else 1.0

    def _update_hyperparameters(self, problem: Any, lin: _Linearization, e_sq: float,
                                f1: float) -> None:
        """γ = P − α tr((βJᵀJ + αI)⁻¹) = Σᵢ λᵢ/(λᵢ + α/β) over the eigenvalues of JᵀJ;
        then α = γ/(2E_W), β = (N − γ)/(2E_D) (MacKay 1992; Foresee & Hagan 1997)."""
        assert self.alpha is not None and self.beta is not None
        lam = np.clip(scipy.linalg.eigvalsh(lin.gram, check_finite=False), 0.0, None)
        gamma = float(np.sum(lam / (lam + self.alpha / self.beta)))
        theta = problem.get_flat().astype(np.float64)
        self.gamma = gamma
        alpha = gamma / (2.0 * max(float(theta @ theta), 1e-300))
        beta = (problem.n_observations - gamma) / (2.0 * max(e_sq, 1e-300))
        # Where the formulas leave the valid range (α ≥ 0 and β > 0, finite: E_W or
        # E_D near 0, or N ≤ γ with small sample weights) the previous value is kept,
        # so the state stays one that a checkpoint can hold and load.
        if math.isfinite(alpha):
            self.alpha = alpha
        if math.isfinite(beta) and beta > 0:
            self.beta = beta
        self.epoch_logs.update(gamma=gamma, alpha=self.alpha, beta=self.beta, objective=f1)

    # ----------------------------------------------------------- state dict
    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (see :class:`~.base.BaseOptimizer`).

        Files written before the optimiser-level state existed keep μ, ν, α, β and γ
        under ``"lm"``; they load the same way.
        """
        if "global" not in state_dict and isinstance(state_dict.get("lm"), Mapping):
            state_dict = {**state_dict, "global": state_dict["lm"]}
        super().load_state_dict(state_dict)


class BayesianRegularization(LevenbergMarquardt):
    """Bayesian regularisation (MacKay's evidence framework; MATLAB ``trainbr``).

    Minimises F = β E_D + α E_W, with E_D = ‖e‖² and E_W = ‖θ‖², by Levenberg–Marquardt
    steps (JᵀJ + (α/β)I + μI)δ = Jᵀe − (α/β)θ; after each accepted step

    .. math::

        \\gamma = P - \\alpha\\,\\mathrm{tr}\\big((\\beta J^\\top J + \\alpha I)^{-1}\\big),
        \\quad \\alpha = \\frac{\\gamma}{2E_W}, \\quad \\beta = \\frac{N - \\gamma}{2E_D}

    (Foresee & Hagan 1997), with γ the effective number of parameters and N the number
    of residuals. γ, α, β and F are recorded in the history. Defaults as ``trainbr``:
    μ₀ = 0.005. Same options as :class:`LevenbergMarquardt` (``bayesian`` is True).
    Unlike ``trainbr`` the data are not rescaled to [−1, 1]; scale them yourself.
    """

    name = "br"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        *,
        mu: float = 0.005,
        mu_dec: float = 0.1,
        mu_inc: float = 10.0,
        mu_max: float = 1e10,
        goal: float = 0.0,
        min_grad: float = 1e-7,
        max_retries: int = 30,
        form: str = "auto",
        marquardt_scaling: bool = False,
        update: str = "trainlm",
        chunk_size: int | None = None,
        bayesian: bool = True,
    ) -> None:
        super().__init__(params, mu=mu, mu_dec=mu_dec, mu_inc=mu_inc, mu_max=mu_max, goal=goal,
                         min_grad=min_grad, max_retries=max_retries, form=form,
                         marquardt_scaling=marquardt_scaling, update=update,
                         chunk_size=chunk_size, bayesian=bayesian)


