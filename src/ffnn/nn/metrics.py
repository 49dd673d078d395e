"""Evaluation metrics in plain NumPy: ``metric(y_true, y_pred) -> float``.

Metrics are computed on arrays outside the autodiff graph (Tensors are accepted and
read). Samples are rows. :data:`METRICS` maps each name to its function; a function's
``__name__`` is its canonical name, which the training history uses as its key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import Registry
from ..autodiff import Tensor

__all__ = [
    "METRICS",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mae",
    "mse",
    "r2",
    "sparse_categorical_accuracy",
]

Metric = Callable[[Any, Any], float]


def _arrays(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    yp = np.asarray(y_pred.data if isinstance(y_pred, Tensor) else y_pred)
    if yt.ndim == 0 or yp.ndim == 0 or len(yt) == 0 or len(yt) != len(yp):
        raise ValueError(
            f"{name}: y_true and y_pred need the same number (> 0) of samples, got shapes "
            f"{yt.shape} and {yp.shape}"
        )
    return yt, yp


def _column(y: np.ndarray) -> np.ndarray:
    """(N,) from (N,) or (N, 1)."""
    return y.reshape(len(y)) if y.ndim == 1 or y.shape[1:] == (1,) else y


def _same_shape(yt: np.ndarray, yp: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Match (N,) with (N, 1); any other mismatch raises ValueError naming both shapes."""
    if yt.shape == yp.shape:
        return yt, yp
    if _column(yt).ndim == 1 and _column(yp).ndim == 1:
        return _column(yt), _column(yp)
    raise ValueError(f"{name}: y_true shape {yt.shape} does not match y_pred shape {yp.shape}")


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Share of entries where I(ŷ > threshold) equals y (0/1), over samples and outputs.

    As Keras's ``binary_accuracy``; ``y_pred`` are probabilities (use threshold 0 for
    logits or tanh outputs with 0/1 targets).
    """
    yt, yp = _same_shape(*_arrays(y_true, y_pred, "binary_accuracy"), "binary_accuracy")
    return float(np.mean((yp > threshold) == (yt > 0.5)))


def categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of samples where argmaxₖ ŷₙₖ = argmaxₖ yₙₖ (one-hot or probability targets)."""
    yt, yp = _arrays(y_true, y_pred, "categorical_accuracy")
    if yt.shape != yp.shape or yp.ndim != 2:
        raise ValueError(
            f"categorical_accuracy: needs one-hot y_true and y_pred of the same shape (N, K), "
            f"got {yt.shape} and {yp.shape}; for integer labels use sparse_categorical_accuracy"
        )
    return float(np.mean(np.argmax(yt, axis=-1) == np.argmax(yp, axis=-1)))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of samples where argmaxₖ ŷₙₖ = yₙ, for integer labels of shape (N,) or (N, 1)."""
    yt, yp = _arrays(y_true, y_pred, "sparse_categorical_accuracy")
    yt = _column(yt)
    if yt.ndim != 1 or yp.ndim != 2:
        raise ValueError(
            "sparse_categorical_accuracy: needs labels of shape (N,) or (N, 1) and y_pred of "
            f"shape (N, K), got {yt.shape} and {yp.shape}"
        )
    return float(np.mean(np.argmax(yp, axis=-1) == yt))


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of correctly classified samples, the kind inferred from the shapes.

    * ``y_pred`` of shape (N,) or (N, 1): binary; probabilities are thresholded at 0.5
      (integer or boolean ``y_pred`` are taken as labels and compared as they are; with
      labels in {−1, 1}, as for the hinge loss, scores are thresholded at 0);
    * ``y_pred`` (N, K > 1) with labels (N,) or (N, 1): sparse, argmax against labels;
    * ``y_pred`` and ``y_true`` both (N, K): one-hot, argmax against argmax.

    Agrees with scikit-learn's ``accuracy_score`` on the predicted classes.
    """
    yt, yp = _arrays(y_true, y_pred, "accuracy")
    if _column(yp).ndim == 1:
        yp = _column(yp)
        yt = _column(yt)
        if yt.ndim != 1:
            raise ValueError(f"accuracy: y_true shape {yt.shape} does not match y_pred shape "
                             f"{yp.shape}")
        if yp.dtype.kind in "iub":
            labels = yp
        elif np.any(yt < 0):  # labels in {-1, 1} (hinge): scores are thresholded at 0
            labels = np.where(yp > 0, 1, -1)
        else:
            labels = yp > 0.5
        return float(np.mean(labels == yt))
    if _column(yt).ndim == 1:
        return sparse_categorical_accuracy(yt, yp)
    return categorical_accuracy(yt, yp)


#: Above this magnitude the regression metrics divide by a power of two first.
_RESCALE_ABOVE = 2.0**500


def _regression(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """float64 arrays of matching shape, divided by a power of two ``s`` when their
    magnitude is beyond 2**500, and ``s`` (1 otherwise).

    Dividing by a power of two is exact, and afterwards no difference or square can
    overflow: values near the float64 limit (1e308) give their exact metrics instead of
    ``inf`` and a RuntimeWarning. Ordinary data are not rescaled at all.
    """
    yt, yp = _same_shape(*_arrays(y_true, y_pred, name), name)
    yt, yp = np.asarray(yt, dtype=np.float64), np.asarray(yp, dtype=np.float64)
    peak = max(float(np.max(np.abs(yt))), float(np.max(np.abs(yp))))
    if not _RESCALE_ABOVE < peak < math.inf:  # ordinary, or NaN/inf (whose result is NaN/inf)
        return yt, yp, 1.0
    unit = math.ldexp(1.0, math.frexp(peak)[1] - 1)  # 2**(e-1) <= peak < 2**e
    return yt / unit, yp / unit, unit


def mse(y_true: Any, y_pred: Any) -> float:
    """(1/(N·K)) Σₙ Σₖ (yₙₖ − ŷₙₖ)², the mean over samples and outputs.

    Computed in float64 without overflow for any finite inputs (see ``r2``); the
    result is ``inf`` only when the mean itself exceeds float64's range (about 1.8e308).
    """
    yt, yp, unit = _regression(y_true, y_pred, "mse")
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.square(yt - yp))) * unit * unit  # Python floats: no warning


def mae(y_true: Any, y_pred: Any) -> float:
    """(1/(N·K)) Σₙ Σₖ |yₙₖ − ŷₙₖ|, the mean over samples and outputs.

    Computed in float64 without overflow for any finite inputs (see ``r2``).
    """
    yt, yp, unit = _regression(y_true, y_pred, "mae")
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.abs(yt - yp))) * unit


def r2(y_true: Any, y_pred: Any) -> float:
    """R² = 1 − Σₙ (yₙ − ŷₙ)² / Σₙ (yₙ − ȳ)² per output, averaged uniformly over outputs.

    As scikit-learn's ``r2_score`` (``multioutput="uniform_average"``): an output with
    constant targets scores 1 if predicted exactly, else 0. R² does not depend on the
    scale of y, so values near the float64 limit are divided by a power of two first
    (exactly) and the score is finite for any finite inputs, with no RuntimeWarning.
    """
    yt, yp, _ = _regression(y_true, y_pred, "r2")
    yt = yt.reshape(len(yt), -1)
    yp = yp.reshape(len(yp), -1)
    with np.errstate(over="ignore", invalid="ignore"):
        ss_res = np.sum(np.square(yt - yp), axis=0)
        ss_tot = np.sum(np.square(yt - yt.mean(axis=0)), axis=0)
        scores = np.where(ss_res == 0, 1.0, 0.0)
        varying = ss_tot != 0
        scores[varying] = 1.0 - ss_res[varying] / ss_tot[varying]
    return float(np.mean(scores))


METRICS: Registry[Metric] = Registry("metric")
METRICS.register("accuracy", accuracy, aliases=("acc",))
METRICS.register("binary_accuracy", binary_accuracy)
METRICS.register("categorical_accuracy", categorical_accuracy)
METRICS.register("sparse_categorical_accuracy", sparse_categorical_accuracy)
METRICS.register("mse", mse, aliases=("mean_squared_error",))
METRICS.register("mae", mae, aliases=("mean_absolute_error",))
METRICS.register("r2", r2)


def get(identifier: Any) -> Metric:
    """The metric function for a registry name, or a callable ``fn(y_true, y_pred)`` as is.

    Raises
    ------
    ValueError
        For an unknown name, listing the valid names.
    TypeError
        For anything else.
    """
    if isinstance(identifier, str):
        return METRICS.lookup(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as a metric: pass one of "
                    f"{', '.join(METRICS.names())} or a callable(y_true, y_pred)")
