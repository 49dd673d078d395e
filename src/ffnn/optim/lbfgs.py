"""Full-batch L-BFGS through ``scipy.optimize.minimize(method="L-BFGS-B")``."""

from __future__ import annotations

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
        self.trace = []

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            problem.set_flat(theta)
            value, grad, out = problem.value_and_grad()
            last.update(theta=theta.copy(), value=value, grad=grad, out=out)
            if not np.isfinite(value):
                return np.inf, np.zeros_like(grad)
            return value, grad

        options = {"maxiter": self.maxiter, "ftol": self.tol, "gtol": self.gtol,
                   "maxcor": self.history_size,
                   "maxfun": self.max_fun or int(1.25 * self.maxiter) + 1}
        start = problem.get_flat().astype(np.float64)
        import scipy.optimize  # here, not at import: it is ~40% of `import ffnn`'s time

        def record(intermediate_result: Any) -> None:  # scipy calls it once per iteration
            self.trace.append(float(intermediate_result.fun))

        res = scipy.optimize.minimize(fun, start, jac=True, method="L-BFGS-B", options=options,
                                      callback=record)
        if not np.array_equal(last["theta"], res.x):
            fun(res.x)
        problem.set_flat(res.x)
        self.iterations += 1
        self.epoch_logs = {"iterations": float(res.nit), "function_evals": float(res.nfev),
                           "gradient_norm": float(np.linalg.norm(last["grad"]))}
        if res.status != 1:  # 1: the iteration or evaluation budget ran out
            self.stop_reason = f"L-BFGS-B: {res.message}"
        return float(last["value"]), last["out"]


