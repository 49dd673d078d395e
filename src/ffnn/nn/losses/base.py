"""The :class:`Loss` contract, its shared helpers and :class:`CustomLoss`.

Samples are the rows (axis 0) of ``y_pred``; "outputs" are its remaining axes. Each
loss states its normalisation. With ``sample_weight`` w a mean over samples becomes the
weighted mean Σₙ wₙ lₙ / Σₙ wₙ and a sum becomes Σₙ wₙ lₙ, so w ≡ 1 reproduces the
unweighted value.

Fused output path: a loss whose :attr:`Loss.fuses_with` names an output activation
("sigmoid" or "softmax") has a stable logits form, :meth:`Loss.with_logits`; the model
feeds it the pre-activation logits instead of the probabilities when its last
activation is that one. Targets arrive as NumPy arrays (or Tensors, taken as constants).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import autodiff as F
from ...autodiff import Tensor

__all__ = ["CustomLoss", "Loss"]


def _per_sample(t: Tensor, op: Callable[..., Tensor]) -> Tensor:
    """Reduce every axis but the first with ``op`` (sum or mean); (N,) is left as is."""
    if t.ndim <= 1:
        return t
    return op(t, axis=-1 if t.ndim == 2 else tuple(range(1, t.ndim)))


def _finite_range(y: np.ndarray, name: str) -> tuple[float, float]:
    """(min, max) of the targets; NaN and inf are rejected (one pass each, no copies)."""
    lo, hi = float(y.min()), float(y.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: targets contain NaN or infinite values")
    return lo, hi


class Loss:
    """Base class: a loss ``L(y_true, y_pred)`` reduced to a scalar Tensor.

    Subclasses set :attr:`name`, :attr:`reduction` ("mean" or "sum" over samples) and
    :attr:`fuses_with`, and implement :meth:`per_sample` (one value per sample).

    Attributes
    ----------
    name : str
        The canonical registry name.
    from_logits : bool
        Whether ``y_pred`` holds logits rather than probabilities.
    fuses_with : str or None
        The output activation whose pre-activation logits :meth:`with_logits` consumes.
    """

    name: str = ""
    reduction: str = "mean"
    fuses_with: str | None = None
    from_logits: bool = False

    def __call__(self, y_true: Any, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """The loss as a scalar Tensor, differentiable with respect to ``y_pred``.

        Parameters
        ----------
        y_true : array_like or Tensor
            Targets; a Tensor is taken as a constant.
        y_pred : Tensor of shape (N, ...)
            The network's output (probabilities, or logits when ``from_logits``).
        sample_weight : array_like of shape (N,) or (N, 1), optional
            Non-negative weights wₙ, not all zero.
        """
        if not isinstance(y_pred, Tensor):
            y_pred = Tensor(y_pred)
        if y_pred.ndim == 0 or y_pred.shape[0] == 0:
            raise ValueError(f"{self.name}: y_pred must hold at least one sample, got "
                             f"shape {y_pred.shape}")
        y = self.prepare(y_true.data if isinstance(y_true, Tensor) else y_true, y_pred)
        if sample_weight is None:
            return self.total(y, y_pred)
        w = _weights(sample_weight, y_pred.shape[0], y_pred.dtype, self.name)
        per = self.per_sample(y, y_pred)
        if self.reduction == "mean":
            mass = w.sum()
            # A batch whose weights are all zero (possible in mini-batches of data with
            # zero weights) contributes nothing: loss 0, gradient 0.
            w = w / mass if mass > 0 else w
        return F.sum(per * w)

    # ---------------------------------------------------------------- contract
    def prepare(self, y_true: Any, y_pred: Tensor) -> np.ndarray:
        """Validate the targets and return them as an array of ``y_pred``'s dtype.

        A target vector of shape (N,) for outputs of shape (N, 1) is reshaped to (N, 1)
        (never broadcast to (N, N)); other shape mismatches raise ValueError naming both.
        """
        y = np.asarray(y_true, dtype=y_pred.dtype)
        if y.shape != y_pred.shape:
            if y.ndim == 1 and y_pred.shape == (y.shape[0], 1):
                y = y.reshape(-1, 1)
            else:
                raise ValueError(
                    f"{self.name}: target shape {y.shape} does not match the output shape "
                    f"{y_pred.shape}"
                )
        return self.check_values(y, *_finite_range(y, self.name))

    def check_values(self, y: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Hook: check (or convert) finite targets whose range is [lo, hi]."""
        return y

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        """The loss of each sample, shape (N,)."""
        raise NotImplementedError

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        """The unweighted scalar loss (subclasses may fuse this for speed)."""
        per = self.per_sample(y, y_pred)
        return F.mean(per) if self.reduction == "mean" else F.sum(per)

    def validate(self, y_true: Any, output_shape: tuple[int, ...]) -> None:
        """Check targets against an output shape once, before training (ValueError)."""
        self.prepare(y_true, Tensor(np.broadcast_to(np.float32(0), tuple(output_shape))))

    def with_logits(self) -> Loss:
        """The from-logits variant, for an output activation of :attr:`fuses_with`."""
        raise ValueError(f"loss {self.name!r} has no logits form (it fuses with no "
                         "output activation)")

    def least_squares_factor(self, n_samples: int, n_outputs: int) -> float | None:
        """c such that the loss is c·Σ rᵢ² over residuals r = y − ŷ; None if not least squares.

        Used by Levenberg–Marquardt.
        """
        return None

    def get_config(self) -> dict[str, Any]:
        """The JSON-serialisable config ``{"name": ..., **params}``."""
        return {"name": self.name}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Loss):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k != "name"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def _weights(sample_weight: Any, n: int, dtype: Any, name: str) -> np.ndarray:
    w = np.asarray(sample_weight, dtype=dtype)
    if w.shape not in ((n,), (n, 1)):
        raise ValueError(f"{name}: sample_weight must have shape ({n},), got {w.shape}")
    w = w.reshape(n)
    lo, _ = _finite_range(w, f"{name} sample_weight")
    if lo < 0:
        raise ValueError(f"{name}: sample_weight must be non-negative")
    return w


class CustomLoss(Loss):
    """A plain callable ``fn(y_true, y_pred) -> Tensor`` used as a loss (not serialisable).

    ``fn`` returns a scalar, or per-sample values (first axis = samples) that are
    averaged over the remaining axes and then over samples (weighted when
    ``sample_weight`` is given). :attr:`name` is ``"custom:<function name>"``.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = f"custom:{getattr(fn, '__name__', type(fn).__name__)}"

    def prepare(self, y_true: Any, y_pred: Tensor) -> np.ndarray:
        return np.asarray(y_true)

    def _call(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        out = self.fn(y, y_pred)
        if not isinstance(out, Tensor):
            raise TypeError(f"loss {self.name!r} must return a Tensor, got {type(out).__name__}")
        return out

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        out = self._call(y, y_pred)
        if out.ndim == 0:
            raise ValueError(f"loss {self.name!r} returns a scalar, so it cannot be weighted "
                             "per sample; return one value per sample instead")
        return _per_sample(out, F.mean)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        out = self._call(y, y_pred)
        return out if out.ndim == 0 else F.mean(out)

    def get_config(self) -> dict[str, Any]:
        raise TypeError(f"loss {self.name!r} wraps a plain callable and cannot be serialised; "
                        "use a registered loss name (ffnn.losses.LOSSES)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CustomLoss) and other.fn is self.fn

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return f"CustomLoss({self.fn!r})"
