"""One training step of data-parallel training, as the fit loop calls it.

:class:`DataParallelRun` is what ``fit``'s loop holds as ``run.parallel``: it maps the
global batches (drawn from the global permutation) to this rank's rows, runs the step
with one allreduce, gathers what the epoch's metrics need and makes every rank agree on
stopping.

The gradient of a step. Rank r holds mᵣ of the batch's rows (or that much sample
weight) and computes its objective Fᵣ (loss + penalty) and gradient gᵣ on them. For a
mean loss the global gradient is Σᵣ mᵣ gᵣ / Σᵣ mᵣ, so each rank sends mᵣ gᵣ, mᵣ Fᵣ and
mᵣ in one flat float64 buffer, allreduced once, and divides by the summed mᵣ. For a sum
loss the batch gradient is Σᵣ gᵣ with the penalty counted once, so each rank
differentiates Fᵣ + (1/ranks − 1)·R instead. A per-parameter flag records which
parameters received a gradient anywhere, so that the optimiser skips the same ones a
single process would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..optim import FullBatchOptimizer
from .comm import Communicator
from .problem import DistributedProblem

if TYPE_CHECKING:
    from ..training.model import Sequential

__all__ = ["DataParallelRun"]


class DataParallelRun:
    """The data-parallel hooks of one ``fit`` run (see the module docstring).

    Parameters
    ----------
    comm : Communicator
    start, stop : int
        The global training rows this rank holds: ``range(start, stop)``.
    n_rows : int
        Training rows over all ranks.
    total_mass : float
        Their number, or their total sample weight.
    sum_loss : bool
        Whether the loss sums over samples instead of averaging.
    """

    def __init__(self, comm: Communicator, start: int, stop: int, n_rows: int,
                 total_mass: float, sum_loss: bool) -> None:
        self.comm, self.start, self.stop = comm, start, stop
        self.n_rows, self.total_mass, self.sum_loss = n_rows, total_mass, sum_loss
        self._buffer: np.ndarray | None = None

    @staticmethod
    def local_mass(sample_weight: Any, n: int) -> float:
        """This rank's share mᵣ: its rows, or their total weight."""
        return float(n) if sample_weight is None else float(np.sum(sample_weight, dtype=np.float64))

    # ------------------------------------------------------------------ batches
    def local(self, idx: slice | np.ndarray) -> slice | np.ndarray:
        """This rank's rows of a global batch, as local positions.

        A full batch is the whole local shard in stored order (a full-batch step does
        not depend on the order, and no copy of the shard is made).
        """
        lo, hi = self.start, self.stop
        if isinstance(idx, slice):
            a, b = max(idx.start or 0, lo), min(idx.stop, hi)
            return slice(a - lo, max(a, b) - lo)
        if len(idx) == self.n_rows:
            return slice(0, hi - lo)
        mine = idx[(idx >= lo) & (idx < hi)]
        return mine - lo

    # --------------------------------------------------------------------- step
    def step(self, model: Sequential, x: np.ndarray, y: np.ndarray,
             w: Any) -> tuple[float, np.ndarray, float]:
        """One global step; returns the batch objective, this rank's outputs and the
        batch's global mass (rows or weight)."""
        optimizer = model.optimizer
        if isinstance(optimizer, FullBatchOptimizer):
            loss, out = optimizer.step_problem(DistributedProblem(model, x, y, w, self))
            self.sync_parameters(model)
            return loss, out, 1.0
        params = optimizer.params
        sizes = [p.data.size for p in params]
        n_grad = sum(sizes)
        if self._buffer is None or len(self._buffer) != n_grad + len(params) + 2:
            self._buffer = np.empty(n_grad + len(params) + 2)
        buf = self._buffer
        buf.fill(0.0)
        out = self._local_gradient(model, x, y, w, buf, sizes)
        self.comm.allreduce(buf, "allreduce of the gradients")
        mass = float(buf[-1])
        scale = 1.0 if self.sum_loss or mass == 0 else 1.0 / mass
        start = 0
        for i, (p, size) in enumerate(zip(params, sizes, strict=True)):
            if buf[n_grad + i] > 0:
                grad = np.empty_like(p.data)
                grad[...] = (buf[start : start + size] * scale).reshape(p.data.shape)
                p.grad = grad
            else:
                p.grad = None
            start += size
        optimizer.step()
        return float(buf[-2]) * scale, out, mass

    def _local_gradient(self, model: Sequential, x: np.ndarray, y: np.ndarray, w: Any,
                        buf: np.ndarray, sizes: list[int]) -> np.ndarray:
        """Write mᵣ gᵣ (or gᵣ for a sum loss), the flags, mᵣ Fᵣ and mᵣ into ``buf``."""
        n_out = model.output_shape[-1]
        mass = self.local_mass(w, len(x))
        buf[-1] = mass
        out = np.empty((0, n_out), dtype=model.dtype)
        # a sum loss counts the penalty once: each rank adds R/ranks, rows or not
        penalty = model.regularization() if self.sum_loss and self.comm.size > 1 else None
        if len(x):
            objective, out_tensor = model.objective(x, y, w, training=True)
            out = out_tensor.data
            if penalty is not None:
                objective = objective + penalty * (1.0 / self.comm.size - 1.0)
        elif penalty is not None:
            objective = penalty * (1.0 / self.comm.size)
        else:
            return out
        optimizer = model.optimizer
        optimizer.zero_grad()
        objective.backward()
        factor = 1.0 if self.sum_loss else mass
        start, n_grad = 0, sum(sizes)
        for i, (p, size) in enumerate(zip(optimizer.params, sizes, strict=True)):
            if p.grad is not None:
                np.multiply(p.grad.reshape(-1), factor, out=buf[start : start + size])
                buf[n_grad + i] = 1.0
            start += size
        buf[-2] = float(objective.data) * factor
        return out

    def sync_parameters(self, model: Sequential) -> None:
        """Overwrite every rank's parameters with rank 0's (one broadcast of θ)."""
        params = model.params
        if not params or self.comm.size == 1:
            return
        theta = np.concatenate([p.data.reshape(-1) for p in params]).astype(np.float64)
        self.comm.bcast(theta, what="broadcast of rank 0's parameters")
        start = 0
        for p in params:
            size = p.data.size
            p.data[...] = theta[start : start + size].reshape(p.data.shape)
            start += size

    # ------------------------------------------------------------ epoch's end
    def gather(self, outputs: list[np.ndarray], targets: list[np.ndarray],
               complete: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Every rank's epoch outputs and targets in rank order, for the metrics;
        targets are None when the epoch stopped early (its metrics are then NaN)."""
        if not outputs:
            return outputs, None
        pred = self.comm.allgather_rows(np.concatenate(outputs), "gathering the outputs")
        y = self.comm.allgather_rows(np.concatenate(targets), "gathering the targets")
        return [pred], (y if complete else None)

    def agree(self, flag: bool) -> bool:
        """True on every rank if any rank says True (``stop_training``)."""
        value = np.array([1.0 if flag else 0.0])
        return bool(self.comm.allreduce_max(value, "agreeing on stop_training")[0])
