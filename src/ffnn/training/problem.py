"""Whole-data-set training problems for full-batch optimisers, and per-sample Jacobians.

``model.jacobian(x)`` is computed by batched backpropagation with per-sample parameter
gradients. The forward pass records, for every layer, what its backward rule needs
(its input and a small tape through its activation). For each output column k a
cotangent that is one-hot in column k is sent backwards through all samples at once;
at each parametric layer the gradient with respect to its output, δₙ for sample n,
gives the per-sample parameter gradients directly, e.g. δₙ aₙᵀ and δₙ for a dense
layer's kernel and bias (the notes' Lemma 1, eqs. 1.3–1.4, without the sum over
samples). So a network with K outputs costs K backward passes, whatever the number of
samples. Rows of the Jacobian are sample-major (row n·K + k is output k of sample n);
columns follow :func:`ffnn.utils.flatten_params`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import autodiff as ad
from ..autodiff import Tensor
from ..nn import losses as losses_mod
from ..nn import regularizers
from ..nn.layers import JacobianRule, Layer
from ..optim.memory import check_fits
from ..utils import flatten_params

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["Problem", "output_jacobian", "residual_jacobian"]


def _check_deterministic(layer: Layer) -> None:
    if layer.stochastic:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} ({layer.get_config()}) is random in "
            "training mode: per-sample Jacobians and full-batch optimisers need a "
            "deterministic network; remove it or set its rate to 0"
        )


def output_jacobian(model: Sequential, x: np.ndarray,
                    training: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The network output ŷ (N, K) and J = ∂ŷ/∂θ of shape (N·K, n_params), sample-major.

    One forward pass records every layer's backward rule (:meth:`Layer.linearize`);
    then one backward pass per output column k, seeded with the one-hot cotangent eₖ
    for all N samples at once.
    """
    rules: list[JacobianRule] = []
    a = np.ascontiguousarray(x, dtype=model.dtype)
    with ad.enable_grad():
        for layer in model.layers:
            if training:
                _check_deterministic(layer)
            a, rule = layer.linearize(a, training)
            rules.append(rule)
    out = a.reshape(len(x), -1)
    n, k = out.shape
    sizes = [int(p.data.size) for layer in model.layers for p in layer.params]
    jac = np.empty((n, k, sum(sizes)), dtype=model.dtype)
    for col in range(k):
        g = np.zeros_like(out)
        g[:, col] = 1.0
        end = jac.shape[2]
        for i in range(len(rules) - 1, -1, -1):
            grads, g_in = rules[i](g, i > 0)
            for grad in reversed(grads):
                jac[:, col, end - grad.shape[1] : end] = grad
                end -= grad.shape[1]
            if g_in is None:
                break
            g = g_in
    return out, jac.reshape(n * k, -1)


def residual_jacobian(model: Sequential, x: Any, y: Any = None) -> np.ndarray:
    """J = ∂r/∂θ for the residuals r = y − ŷ (J = ∂ŷ/∂θ when ``y`` is None).

    Parameters
    ----------
    model : Sequential
    x : array_like of shape (N, features)
    y : array_like of shape (N, K), optional
        Only its presence matters (the residuals' Jacobian is −∂ŷ/∂θ); it is validated.

    Returns
    -------
    ndarray of shape (N·K, n_params)
        Row n·K + k is output k of sample n; columns follow
        :func:`ffnn.utils.flatten_params`. In the model's dtype.
    """
    from . import data

    xa = data.as_features(x, model.dtype, model.input_dim)
    model.ensure_built(xa.shape[1])
    if y is not None:
        ya = data.as_targets(y, model.dtype, xa.shape[0], False, what="y")
        if ya.shape[1:] != tuple(model.output_shape[1:]):
            raise ValueError(f"y has shape {ya.shape} but the model's output has shape "
                             f"(n_samples, {model.output_shape[-1]})")
    n_params = sum(int(p.data.size) for p in model.params)
    rows = xa.shape[0] * int(model.output_shape[-1])
    check_fits(2.0 * rows * n_params * np.dtype(model.dtype).itemsize,  # J + per-sample grads
               f"the {rows} × {n_params} Jacobian", "pass fewer samples at a time")
    _, jac = output_jacobian(model, xa)
    return jac if y is None else np.negative(jac, out=jac)


def least_squares_losses() -> list[str]:
    """Names of the registered losses of the form c·Σ rᵢ² (those LM accepts)."""
    return [n for n in losses_mod.LOSSES.names(aliases=False)
            if losses_mod.get(n).least_squares_factor(1, 1) is not None]


def _l2_strength(reg: Any) -> float:
    """λ of a penalty's quadratic part (λ/2)‖W‖², the curvature used by Gauss–Newton."""
    if isinstance(reg, regularizers.L2):
        return reg.lam
    if isinstance(reg, regularizers.L1L2):
        return reg.l2
    return 0.0


class Problem:
    """A training problem on the whole data set, seen through the flat vector θ.

    ``Sequential.batch_step`` builds one per epoch for a
    :class:`~ffnn.optim.FullBatchOptimizer` and passes it to ``optimizer.step_problem``;
    it implements the :class:`ffnn.optim.Problem` protocol.

    Parameters
    ----------
    model : Sequential
        Built and prepared (compiled) model.
    x, y : ndarray
        Validated training data.
    sample_weight : ndarray of shape (N,), optional
        For least squares the residuals become eₙₖ = √wₙ (yₙₖ − ŷₙₖ).
    """

    local = True  # all rows are here (ffnn.distributed's subclass spreads them)

    def __init__(self, model: Sequential, x: np.ndarray, y: np.ndarray,
                 sample_weight: Any = None) -> None:
        self.model, self.x, self.y = model, x, y
        self.sample_weight = sample_weight
        self.params = model.params
        self.n_samples = len(x)
        self.n_outputs = int(np.prod(y.shape[1:])) if y.ndim > 1 else 1
        self.n_residuals = self.n_samples * self.n_outputs
        # The number of observations N of Bayesian regularisation: Σw per output with
        # sample weights (so weights act like repeated rows).
        self.n_observations = (
            float(self.n_residuals) if sample_weight is None
            else float(np.sum(sample_weight)) * self.n_outputs
        )
        self.n_params = int(sum(p.data.size for p in self.params))
        self.dtype = model.dtype
        for layer in model.layers:
            _check_deterministic(layer)

    def allreduce(self, *arrays: Any) -> list[np.ndarray]:
        """The sums over processes of ``arrays``: here the arrays themselves (float64)."""
        return [np.asarray(a, dtype=np.float64) for a in arrays]

    # ------------------------------------------------------------- flat vector
    def get_flat(self) -> np.ndarray:
        """A copy of θ in the model's dtype."""
        return flatten_params(self.params)

    def set_flat(self, theta: np.ndarray) -> None:
        """Write θ into the parameters in place (cast to their dtype)."""
        start = 0
        for p in self.params:
            size = p.data.size
            np.copyto(p.data, theta[start : start + size].reshape(p.data.shape), casting="unsafe")
            p.mark_modified()
            start += size

    # --------------------------------------------------------- any loss (L-BFGS)
    def value_and_grad(self) -> tuple[float, np.ndarray, np.ndarray]:
        """The training objective (loss + penalties), its gradient (float64) and ŷ."""
        for p in self.params:
            p.grad = None
        objective, out = self.model.objective(self.x, self.y, self.sample_weight, training=True)
        objective.backward()
        grad = np.concatenate([np.zeros(p.data.size) if p.grad is None else p.grad.ravel()
                               for p in self.params]).astype(np.float64)
        for p in self.params:
            p.grad = None
        return float(objective.data), grad, out.data

    # ------------------------------------------------------------ least squares
    def least_squares_factor(self) -> float:
        """c with loss = c·‖e‖² for the (weighted) residuals e; ValueError otherwise."""
        loss = self.model.loss
        c = loss.least_squares_factor(self.n_samples, self.n_outputs)
        if c is None:
            raise ValueError(
                f"loss {getattr(loss, 'name', loss)!r} is not a sum of squares; "
                f"Levenberg–Marquardt accepts: {', '.join(least_squares_losses())}"
            )
        if self.sample_weight is not None and loss.reduction == "mean":
            c = c * self.n_samples / float(np.sum(self.sample_weight))
        return float(c)

    def errors(self, out: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """e = √w (y − ŷ), flattened sample-major, in float64."""
        e = self.y[rows].astype(np.float64) - out
        if self.sample_weight is not None:
            e *= np.sqrt(self.sample_weight[rows].astype(np.float64)).reshape(-1, 1)
        return e.reshape(-1)

    def forward(self) -> np.ndarray:
        """ŷ for the whole data set (no graph)."""
        with ad.no_grad():
            return self.model.forward(Tensor(self.x)).data.reshape(self.n_samples, -1)

    def jacobian_chunks(self, chunk_size: int | None) -> Iterator[
            tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (ŷ, e, J) per chunk of samples, J = ∂ŷ/∂θ scaled like e (float64 e)."""
        step = self.n_samples if chunk_size is None else int(chunk_size)
        for start in range(0, self.n_samples, step):
            rows = slice(start, start + step)
            out, jac = output_jacobian(self.model, self.x[rows])
            e = self.errors(out, rows=rows)
            if self.sample_weight is not None:
                w = np.sqrt(self.sample_weight[rows]).astype(jac.dtype)
                jac *= np.repeat(w, self.n_outputs)[:, None]
            yield out, e, jac

    def penalty(self) -> tuple[float, np.ndarray, np.ndarray]:
        """The layers' penalty R(θ), ∇R (float64) and the curvature diag of its L2 part."""
        reg = self.model.regularization()
        grad = np.zeros(self.n_params)
        curv = np.zeros(self.n_params)
        if reg is None:
            return 0.0, grad, curv
        for p in self.params:
            p.grad = None
        reg.backward()
        start = 0
        for layer in self.model.layers:
            for name, p in layer.named_params.items():
                size = p.data.size
                if p.grad is not None:
                    grad[start : start + size] = p.grad.ravel()
                if name == "kernel" and getattr(layer, "kernel_regularizer", None) is not None:
                    curv[start : start + size] = _l2_strength(layer.kernel_regularizer)
                p.grad = None
                start += size
        return float(reg.data), grad, curv

    def penalty_value(self) -> float:
        """R(θ) alone (no gradient)."""
        with ad.no_grad():
            reg = self.model.regularization()
        return 0.0 if reg is None else float(reg.data)
