"""The full-batch training problem when the rows are spread over the ranks.

:class:`DistributedProblem` is :class:`ffnn.training.problem.Problem` on this rank's rows,
with the global sums put back: the objective and its gradient (L-BFGS) are allreduced
(one flat buffer), and Levenberg–Marquardt's JᵀJ, Jᵀe and ‖e‖² go through
:meth:`allreduce` (the Jacobian rows never leave their rank). The counts N, N·K and
Σw that scale the loss are the global ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..training.problem import Problem, least_squares_losses

if TYPE_CHECKING:
    from ..training.model import Sequential
    from .parallel import DataParallelRun

__all__ = ["DistributedProblem"]


class DistributedProblem(Problem):
    """This rank's share of a whole-data-set problem (see the module docstring).

    Parameters
    ----------
    model : Sequential
    x, y, sample_weight : ndarray
        This rank's validated rows (at least one).
    run : DataParallelRun
        The communicator and the global counts.
    """

    local = False

    def __init__(self, model: Sequential, x: np.ndarray, y: np.ndarray, sample_weight: Any,
                 run: DataParallelRun) -> None:
        super().__init__(model, x, y, sample_weight)
        self.run = run
        self.n_residuals = run.n_rows * self.n_outputs
        self.n_observations = run.total_mass * self.n_outputs

    def allreduce(self, *arrays: Any) -> list[np.ndarray]:
        """The sums over ranks of ``arrays`` (float64), in one allreduce of a flat buffer."""
        parts = [np.asarray(a, dtype=np.float64) for a in arrays]
        buf = np.concatenate([p.ravel() for p in parts])
        self.run.comm.allreduce(buf, "allreduce of the full-batch sums")
        out, start = [], 0
        for p in parts:
            out.append(buf[start : start + p.size].reshape(p.shape))
            start += p.size
        return out

    def least_squares_factor(self) -> float:
        """c with loss = c‖e‖² over all ranks' residuals (global N and Σw)."""
        loss = self.model.loss
        c = loss.least_squares_factor(self.run.n_rows, self.n_outputs)
        if c is None:
            raise ValueError(f"loss {getattr(loss, 'name', loss)!r} is not a sum of squares; "
                             f"Levenberg–Marquardt accepts: {', '.join(least_squares_losses())}")
        if self.sample_weight is not None and loss.reduction == "mean":
            c = c * self.run.n_rows / self.run.total_mass
        return float(c)

    def value_and_grad(self) -> tuple[float, np.ndarray, np.ndarray]:
        """The global objective and gradient; ŷ of this rank's rows.

        A mean loss: Σᵣ mᵣ Fᵣ / Σᵣ mᵣ with mᵣ this rank's rows (or weight) and Fᵣ its
        objective (loss + penalty). A sum loss: Σᵣ Fᵣ − (ranks − 1)·R, the penalty R
        counted once.
        """
        value, grad, out = super().value_and_grad()
        if self.run.sum_loss:
            total, (value_sum,) = self.allreduce(grad, [value])
            if self.run.comm.size > 1:
                penalty, penalty_grad, _ = self.penalty()
                total -= (self.run.comm.size - 1) * penalty_grad
                value_sum -= (self.run.comm.size - 1) * penalty
            return float(value_sum), total, out
        mass = self.run.local_mass(self.sample_weight, len(self.x))
        total, (value_sum,) = self.allreduce(grad * mass, [value * mass])
        return float(value_sum) / self.run.total_mass, total / self.run.total_mass, out
