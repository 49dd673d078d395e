"""Full-batch L-BFGS through ``scipy.optimize.minimize(method="L-BFGS-B")``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validation import check_number, check_positive_int
from ..autodiff.tensor import Tensor
from .full_batch import FullBatchOptimizer, Problem

__all__ = ["LBFGS"]


class LBFGS(FullBatchOptimizer):
    """Limited-memory BFGS on the flat parameter vector θ (Liu & Nocedal 1989).

    .. math::

        \\theta_{k+1} = \\theta_k - t_k H_k \\nabla F(\\theta_k)

    where F is the training objective (loss + the layers' penalties) on the whole data
    set, H_k the L-BFGS inverse-Hessian approximation built from the last
    ``history_size`` pairs (s, y) of steps and gradient changes, and t_k a step length
    satisfying the strong Wolfe conditions (scipy's L-BFGS-B with no bounds, driven by
    the engine's gradient). Each ``fit`` epoch is one ``scipy.optimize.minimize`` run
    of at most ``maxiter`` iterations (the curvature pairs do not carry over between
    epochs, as in ``torch.optim.LBFGS``'s ``max_iter`` per step).

    Parameters
    ----------
    params : iterable of Tensor, optional
        Attached by ``model.compile``; ``model.fit`` drives the optimiser.
    maxiter : int, default 100
        L-BFGS iterations per epoch.
    tol : float, default 1e-9
        scipy's ``ftol``: stop when the relative decrease of F is below it.
    gtol : float, default 1e-7
        Stop when the largest gradient component is below it.
    history_size : int, default 10
        Curvature pairs kept (scipy's ``maxcor``).
    max_fun : int, optional
        Objective evaluations per epoch (default 1.25·maxiter, as scipy).

    Notes
    -----
    After each epoch :attr:`epoch_logs` holds ``iterations``, ``function_evals`` and
    ``gradient_norm``, and :attr:`trace` the objective after each of its iterations;
    when scipy reports convergence (or a line-search failure), :attr:`stop_reason`
    carries its message and ``fit`` stops. Running out of
    ``maxiter`` does not stop ``fit``: the next epoch restarts from the current θ.
    A loss or gradient that is not finite at the end of an epoch stops ``fit`` with a
    stop reason that says so; the weights are then those with the lowest finite loss
    seen in the epoch, or the epoch's starting weights when none was finite.
    Parameters are optimised in float64 and stored back in the model's dtype.
    """

    name = "lbfgs"

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        *,
        maxiter: int = 100,
        tol: float = 1e-9,
        gtol: float = 1e-7,
        history_size: int = 10,
        max_fun: int | None = None,
    ) -> None:
        self.maxiter = check_positive_int("maxiter", maxiter)
        self.tol = check_number("tol", tol, low=0.0)
        self.gtol = check_number("gtol", gtol, low=0.0)
        self.history_size = check_positive_int("history_size", history_size)
        self.max_fun = None if max_fun is None else check_positive_int("max_fun", max_fun)
        self.trace: list[float] = []
        super().__init__(params)

    def estimate_bytes(self, n_params: int, itemsize: int, n_samples: int,
                       n_outputs: int) -> float:
        """scipy's L-BFGS-B workspace (2·history_size + 5 vectors of θ in float64 and
        small matrices) and ffnn's float64 copies of θ and the gradient."""
        return float(n_params) * 8 * (2 * self.history_size + 12)

    def step_problem(self, problem: Problem) -> tuple[float, np.ndarray]:
        """One epoch: an L-BFGS run of at most ``maxiter`` iterations from the current θ.

        Parameters
        ----------
        problem : Problem

        Returns
        -------
        (float, ndarray)
            The objective and the network output at the final θ.
        """
        self.stop_reason = None
        last: dict[str, Any] = {}
        best: dict[str, Any] = {}
        self.trace = []

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            problem.set_flat(theta)
            value, grad, out = problem.value_and_grad()
            last.update(theta=theta.copy(), value=value, grad=grad, out=out)
            if not (math.isfinite(value) and np.isfinite(grad).all()):
                return np.inf, np.zeros_like(grad)  # scipy backtracks from an inf value
            if not best or value < best["value"]:
                best.update(theta=theta.copy(), value=value)
            return value, grad

        options = {"maxiter": self.maxiter, "ftol": self.tol, "gtol": self.gtol,
                   "maxcor": self.history_size,
                   "maxfun": self.max_fun or int(1.25 * self.maxiter) + 1}
        start = problem.get_flat().astype(np.float64)
        import scipy.optimize  # here, not at import: it is ~40% of `import ffnn`'s time

        def record(intermediate_result: Any) -> None:  # scipy calls it once per iteration
            self.trace.append(float(intermediate_result.fun))

        # Overflow is detected below (a non-finite loss stops the run), not warned about.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = scipy.optimize.minimize(fun, start, jac=True, method="L-BFGS-B",
                                          options=options, callback=record)
            if not np.array_equal(last["theta"], res.x):
                fun(res.x)
            problem.set_flat(res.x)
            self.iterations += 1
            self.epoch_logs = {"iterations": float(res.nit), "function_evals": float(res.nfev),
                               "gradient_norm": float(np.linalg.norm(last["grad"]))}
            if not (math.isfinite(last["value"]) and np.isfinite(last["grad"]).all()):
                return self._stop_nonfinite(problem, start, best, last["value"])
        if res.status != 1:  # 1: the iteration or evaluation budget ran out
            self.stop_reason = f"L-BFGS-B: {res.message}"
        return float(last["value"]), last["out"]

    def _stop_nonfinite(self, problem: Problem, start: np.ndarray, best: dict[str, Any],
                        value: float) -> tuple[float, np.ndarray]:
        """Stop on a non-finite objective or gradient (scipy would report convergence,
        its gradient being the zeros ``fun`` returns): back to the point with the lowest
        finite objective this epoch, or to the epoch's start if none was finite."""
        self.stop_reason = f"L-BFGS: the loss or its gradient is not finite (loss {value})"
        if best:
            self.stop_reason += (f"; restored the weights with the lowest finite loss "
                                 f"({best['value']:.6g})")
        else:
            self.stop_reason += ("; no finite loss was seen, the weights are left as the "
                                 "epoch started (the initial weights in a first epoch)")
        problem.set_flat(best["theta"] if best else start)
        return (float(best["value"]) if best else float(value)), problem.forward()
