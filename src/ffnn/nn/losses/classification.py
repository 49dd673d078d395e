"""Classification losses: binary, categorical and sparse categorical cross-entropy; hinge.

The cross-entropies have stable logits forms (:meth:`Loss.with_logits`) and fuse with a
``sigmoid`` or ``softmax`` output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import autodiff as F
from ...autodiff import Tensor
from .base import Loss, _finite_range, _per_sample

__all__ = [
    "EPSILON",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Hinge",
    "SparseCategoricalCrossentropy",
]

EPSILON = 1e-7
"""Probabilities are clipped to [ε, 1 − ε] before the logarithm (Keras's ``epsilon()``)."""


class _CrossEntropy(Loss):
    """Shared constructor and config of the cross-entropies."""

    def __init__(self, from_logits: bool = False) -> None:
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(f"{self.name}: from_logits must be True or False, got "
                             f"{from_logits!r}")
        self.from_logits = bool(from_logits)

    def with_logits(self) -> Loss:
        return type(self)(from_logits=True)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "from_logits": self.from_logits}

    def __hash__(self) -> int:
        return hash((type(self), self.from_logits))


class BinaryCrossentropy(_CrossEntropy):
    """L = −(1/(N·K)) Σₙ Σₖ [yₙₖ log pₙₖ + (1 − yₙₖ) log(1 − pₙₖ)], mean over samples and
    outputs (as Keras and PyTorch).

    On probabilities, p is clipped to [ε, 1 − ε] with ε = 1e-7 (as Keras), so the
    gradient vanishes where p is saturated beyond ε. With ``from_logits=True``,
    p = σ(z) and each term is computed stably as softplus(z) − y·z, whose gradient is
    σ(z) − y. Targets must lie in [0, 1]. Fuses with a ``sigmoid`` output.
    """

    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def check_values(self, y: np.ndarray, lo: float, hi: float) -> np.ndarray:
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{self.name}: targets must lie in [0, 1] (0/1 labels or probabilities), "
                f"got values from {lo:g} to {hi:g}; for labels in {{-1, 1}} use 'hinge'"
            )
        return y

    def elementwise(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        """The loss of every entry."""
        if self.from_logits:
            return F.softplus(y_pred) - y_pred * y
        p = F.clip(y_pred, EPSILON, 1.0 - EPSILON)
        return -(F.log(p) * y + F.log(1.0 - p) * (1.0 - y))

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return _per_sample(self.elementwise(y, y_pred), F.mean)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return F.mean(self.elementwise(y, y_pred))


def _cce_probabilities(y: np.ndarray, p: Tensor) -> Tensor:
    """−Σₖ yₖ log clip(pₖ / Σⱼ pⱼ, ε, 1 − ε) per sample (Keras's normalise-then-clip)."""
    q = F.clip(p / F.sum(p, axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON)
    return -F.sum(F.log(q) * y, axis=-1)


class CategoricalCrossentropy(_CrossEntropy):
    """L = −(1/N) Σₙ Σₖ yₙₖ log pₙₖ, the mean over samples of the cross-entropy.

    Targets are one-hot vectors or probabilities of the output's shape (N, K). On
    probabilities, each row of p is first divided by its sum and clipped to [ε, 1 − ε]
    with ε = 1e-7 (as Keras). With ``from_logits=True``, p = softmax(z) and the engine's
    fused ``softmax_cross_entropy`` computes logsumexp(z) − Σₖ yₖzₖ, stable for any
    magnitude, with gradient p − y. Fuses with a ``softmax`` output.
    """

    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def prepare(self, y_true: Any, y_pred: Tensor) -> np.ndarray:
        shape = np.shape(y_true)
        if y_pred.ndim == 2 and y_pred.shape[1] > 1 and shape in (
            (y_pred.shape[0],), (y_pred.shape[0], 1)
        ):
            raise ValueError(
                f"{self.name}: targets of shape {shape} look like integer class labels but "
                f"the output has shape {y_pred.shape}; use 'sparse_categorical_crossentropy' "
                "for integer labels, or one-hot encode the targets"
            )
        return super().prepare(y_true, y_pred)

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return F.softmax_cross_entropy(y_pred, y)
        return _cce_probabilities(y, y_pred)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        if self.from_logits:  # the mean in the fused node: one node for the whole loss
            return F.softmax_cross_entropy(y_pred, y, reduction="mean")
        return super().total(y, y_pred)


class SparseCategoricalCrossentropy(_CrossEntropy):
    """L = −(1/N) Σₙ log pₙ,ᵧₙ for integer class labels yₙ ∈ {0, …, K−1}.

    Labels have shape (N,) or (N, 1) (integers, or floats with integer values). On
    probabilities the rows are normalised and clipped as in
    :class:`CategoricalCrossentropy`; with ``from_logits=True`` the engine's fused
    ``softmax_cross_entropy`` takes the labels directly (gradient p − onehot(y)).
    Fuses with a ``softmax`` output.
    """

    name = "sparse_categorical_crossentropy"
    fuses_with = "softmax"

    def prepare(self, y_true: Any, y_pred: Tensor) -> np.ndarray:
        y = np.asarray(y_true)
        n = y_pred.shape[0]
        if y_pred.ndim != 2 or y.shape not in ((n,), (n, 1)):
            raise ValueError(
                f"{self.name}: needs integer labels of shape ({n},) or ({n}, 1) and outputs "
                f"of shape (N, K), got labels of shape {y.shape} and outputs of shape "
                f"{y_pred.shape}" + ("; for one-hot targets use 'categorical_crossentropy'"
                                     if y.shape == y_pred.shape else "")
            )
        y = y.reshape(n)
        if y.dtype.kind in "iub":
            y = y.astype(np.intp, copy=False)
        elif y.dtype.kind == "f":
            _finite_range(y, self.name)
            labels = y.astype(np.intp)
            if np.any(labels != y):
                raise ValueError(f"{self.name}: labels must be integers, got non-integer "
                                 f"values such as {y[labels != y][0]!r}")
            y = labels
        else:
            raise ValueError(f"{self.name}: labels must be integers, got dtype {y.dtype}")
        k = y_pred.shape[1]
        lo_i, hi_i = int(y.min()), int(y.max())
        if lo_i < 0 or hi_i >= k:
            bad = y[(y < 0) | (y >= k)]
            raise ValueError(f"{self.name}: labels must lie in [0, {k - 1}] for {k} outputs; "
                             f"got out-of-range label(s) {np.unique(bad)[:10].tolist()}")
        return y

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return F.softmax_cross_entropy(y_pred, y)
        onehot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        onehot[np.arange(y.shape[0]), y] = 1
        return _cce_probabilities(onehot, y_pred)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return F.softmax_cross_entropy(y_pred, y, reduction="mean")
        return super().total(y, y_pred)


class Hinge(Loss):
    """L = (1/(N·K)) Σₙ Σₖ max(0, 1 − yₙₖ ŷₙₖ), mean over samples and outputs.

    Labels are in {−1, 1}; labels that are all 0 or 1 are converted by y ← 2y − 1, as
    Keras does. The subgradient at the hinge (yŷ = 1) is 0.
    """

    name = "hinge"

    def check_values(self, y: np.ndarray, lo: float, hi: float) -> np.ndarray:
        if lo >= 0 and hi <= 1 and np.all((y == 0) | (y == 1)):
            return 2 * y - 1
        return y

    def per_sample(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return _per_sample(F.relu(1.0 - y_pred * y), F.mean)

    def total(self, y: np.ndarray, y_pred: Tensor) -> Tensor:
        return F.mean(F.relu(1.0 - y_pred * y))
