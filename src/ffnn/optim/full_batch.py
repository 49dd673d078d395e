"""Full-batch optimisers: :class:`FullBatchOptimizer` and the :class:`Problem` they solve.

L-BFGS, Levenberg–Marquardt and Bayesian regularisation see the whole training set
at once, through one flat parameter vector θ: ``fit`` hands them a :class:`Problem`
once per epoch. :class:`Problem` is a typing protocol, so :mod:`ffnn.optim` never
imports the training package that implements it (``ffnn.training.problem``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import numpy as np

from .base import BaseOptimizer

__all__ = ["FullBatchOptimizer", "Problem"]


class Problem(Protocol):
    """A training problem on the whole data set, seen through the flat vector θ.

    Attributes
    ----------
    n_samples, n_outputs : int
        N rows and K outputs per row.
    n_residuals : int
        N·K, the length of the residual vector e.
    n_observations : float
        The number of observations of Bayesian regularisation (Σw·K with sample
        weights, so that a weight acts like repeated rows).
    n_params : int
        P, the length of θ.
    dtype : numpy.dtype
        The model's dtype.
    local : bool
        True when all rows are in this process; False under data parallelism
        (``ffnn.distributed``), where the counts above are global, the rows' sums go
        through :meth:`allreduce` and Levenberg–Marquardt uses its primal form.
    """

    n_samples: int
    n_outputs: int
    n_residuals: int
    n_observations: float
    n_params: int
    dtype: np.dtype[Any]
    local: bool

    def allreduce(self, *arrays: Any) -> list[np.ndarray]:
        """The sums over processes of per-row sums (float64); the arrays themselves when
        ``local``."""

    def get_flat(self) -> np.ndarray:
        """A copy of θ in the model's dtype."""

    def set_flat(self, theta: np.ndarray) -> None:
        """Write θ into the parameters in place."""

    def value_and_grad(self) -> tuple[float, np.ndarray, np.ndarray]:
        """The objective (loss + penalties), its gradient (float64) and ŷ at θ."""

    def forward(self) -> np.ndarray:
        """ŷ of shape (N, K) at θ, without recording a graph."""

    def least_squares_factor(self) -> float:
        """c with loss = c‖e‖²; ValueError for a loss that is not a sum of squares."""

    def errors(self, out: np.ndarray, rows: slice = ...) -> np.ndarray:
        """e = √w (y − ŷ) flattened sample-major, in float64."""

    def jacobian_chunks(self, chunk_size: int | None) -> Iterator[
            tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(ŷ, e, J) per chunk of rows, J = ∂ŷ/∂θ scaled like e."""

    def penalty(self) -> tuple[float, np.ndarray, np.ndarray]:
        """R(θ), ∇R (float64) and the curvature diagonal of R's L2 part."""

    def penalty_value(self) -> float:
        """R(θ) alone."""


class FullBatchOptimizer(BaseOptimizer):
    """Base class of the optimisers that take one step per epoch on the whole data set.

    The one method the training loop calls is :meth:`step_problem`. After it,
    :attr:`epoch_logs` holds what the optimiser wants recorded in the history for
    that epoch (μ, gradient norm, ...), and :attr:`stop_reason` says why training
    should stop, or is ``None``. ``fit`` calls :meth:`begin_fit` before a run, so
    per-run state (LM's μ) can start afresh as MATLAB's ``train`` does.

    A subclass sets ``name``, stores its constructor options under attributes of the
    same names before calling ``super().__init__(params)``, and implements
    :meth:`step_problem`; state it carries between epochs that must survive a
    checkpoint goes in the optimiser-level state (see
    :class:`~ffnn.optim.base.BaseOptimizer`).
    """

    def __init__(self, params: Any = None) -> None:
        self.stop_reason: str | None = None
        self.epoch_logs: dict[str, float] = {}
        super().__init__(params)

    def step(self, closure: Callable[[], Any] | None = None) -> float | None:
        """Not available: a full-batch optimiser needs the whole training problem.

        Raises
        ------
        TypeError
            Always, naming what to call instead: ``model.fit(...)``, or
            ``step_problem(Problem(model, x, y))`` with
            :class:`ffnn.training.problem.Problem`.
        """
        raise TypeError(
            f"{type(self).__name__} ({self.name!r}) takes one step per epoch on the whole "
            "training set, not a step per mini-batch: train with model.fit(x, y, ...), or "
            "call step_problem(ffnn.training.problem.Problem(model, x, y)) yourself"
        )

    def step_problem(self, problem: Problem) -> tuple[float, np.ndarray]:
        """One epoch on ``problem``; returns the loss and the network output ŷ after it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step_problem")

    def state_dict(self) -> dict[str, Any]:
        """The common snapshot (options, ``iterations``, optimiser-level state).

        ``steps`` and ``state`` are empty: a full-batch optimiser keeps no
        per-parameter arrays, and the same model-file format serves both families.
        """
        return {**super().state_dict(), "steps": [], "state": {}}

    def _validate_own(self, template: Any, state_dict: Mapping[str, Any]) -> Any:
        """No per-parameter state: ``state`` may only hold empty entries (older files
        wrote one per parameter)."""
        state = state_dict.get("state", {})
        entries = state.values() if isinstance(state, Mapping) else state
        if any(len(entry) for entry in entries):
            raise ValueError(f"{self.name} keeps no per-parameter state, but the state_dict "
                             "holds some")
        return None

