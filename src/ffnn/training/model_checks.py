"""Checks and resolution of the arguments of :class:`~ffnn.training.Sequential`'s methods.

Module-level functions that turn user arguments (registry names, targets, sample weights,
batch sizes) into checked values, raising ``ValueError`` naming the bad value. They hold no
model state; ``Sequential.compile`` and ``Sequential._validate`` call them once per call,
never per batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import optim
from .._validation import cast_float, check_positive_int
from ..nn import losses
from ..nn import metrics as metrics_mod
from ..optim.memory import check_fits, format_bytes
from . import data

__all__ = [
    "as_sample_weight",
    "check_batch_size",
    "check_memory",
    "check_predict_memory",
    "check_target_shape",
    "resolve_compile",
    "resolve_metric",
]


def resolve_compile(
    optimizer: Any, loss: Any, metrics: Iterable[Any] | None
) -> tuple[Any, Any, list[tuple[str, Any]]]:
    """Resolve and check the arguments of ``Sequential.compile`` without changing a model.

    Parameters
    ----------
    optimizer, loss, metrics
        As for :meth:`~ffnn.training.Sequential.compile`.

    Returns
    -------
    tuple
        ``(optimizer, loss, [(metric name, metric function), ...])``.

    Raises
    ------
    ValueError
        For an unknown name, or Levenberg–Marquardt with a loss that is not least squares.
    """
    new_optimizer = optim.get(optimizer)
    new_loss = losses.get(loss)
    lm = isinstance(new_optimizer, optim.LevenbergMarquardt)
    if lm and new_loss.least_squares_factor(1, 1) is None:
        from .problem import least_squares_losses

        raise ValueError(
            f"Levenberg–Marquardt needs a least-squares loss, got {new_loss.name!r}; "
            f"it accepts: {', '.join(least_squares_losses())}"
        )
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    return new_optimizer, new_loss, [resolve_metric(m) for m in metrics or ()]


def resolve_metric(identifier: Any) -> tuple[str, Any]:
    """``(name, function)`` of a metric given by registry name or as a callable."""
    fn = metrics_mod.get(identifier)
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", "metric")
    return name, fn


def check_target_shape(ya: np.ndarray, y: Any, n_out: int, loss_name: str, what: str = "") -> None:
    """Raise ValueError unless the targets ``ya`` (converted from ``y``) have ``n_out`` columns.

    For categorical cross-entropy with one column of whole numbers the message suggests the
    sparse loss or one-hot encoding.
    """
    if ya.shape[1] == n_out:
        return
    hint = ""
    if loss_name == "categorical_crossentropy" and ya.shape[1] == 1:
        kind = np.asarray(y).dtype.kind
        if kind in "iu" or np.all(ya == np.round(ya)):
            hint = (
                "; these look like integer class labels: use "
                "loss='sparse_categorical_crossentropy' or one-hot encode them"
            )
    raise ValueError(
        f"{what}y has shape {ya.shape} but the model's output has shape (n_samples, {n_out}){hint}"
    )


def as_sample_weight(sample_weight: Any, dtype: Any, n_samples: int) -> np.ndarray:
    """``sample_weight`` as a flat array of ``dtype``: ``n_samples`` finite, non-negative
    weights, not all zero (ValueError otherwise)."""
    raw = np.asarray(sample_weight)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must hold numbers, got dtype {raw.dtype}")
    sw = cast_float("sample_weight", raw.reshape(-1), dtype)
    if sw.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {sw.shape[0]} entries but x has {n_samples} samples")
    data.check_finite(sw, "sample_weight")
    if np.any(sw < 0) or not np.any(sw):
        raise ValueError("sample_weight must be non-negative and not all zero")
    return sw


def check_batch_size(batch_size: Any) -> None:
    """Raise ValueError unless ``batch_size`` is a positive integer or None."""
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)


def _sizes(model: Any, n_features: int) -> tuple[list[int], list[int]]:
    """Parameters and output width of each layer for ``n_features`` inputs, computed
    from the layers' options without building anything."""
    counts, widths = [], []
    shape: tuple[Any, ...] = (None, int(n_features))
    for layer in model.layers:
        counts.append(int(layer.parameter_count(int(shape[-1]))))
        shape = layer.compute_output_shape(shape)
        widths.append(int(shape[-1]))
    return counts, widths


def check_memory(model: Any, n_features: int, n_samples: int | None = None,
                 batch_size: int | None = None) -> float:
    """Refuse, before allocating, a model or a training run larger than the memory
    available (:func:`ffnn.optim.memory.available_memory`).

    Without ``n_samples`` only the weights that building the model allocates are
    counted (P numbers of the model's dtype, and the largest layer's float64 draw from
    its initialiser). With ``n_samples`` (training): the weights if the model is not
    built yet, their gradients, the optimiser's own memory
    (:meth:`~ffnn.optim.BaseOptimizer.estimate_bytes`: its state arrays, or
    Levenberg–Marquardt's JᵀJ / JJᵀ) and the activations of one batch (all samples
    for full-batch training), forward and backward, plus the buffers the traced steps
    of ``graph="static"`` keep (values and adjoints of two batch signatures).

    Returns
    -------
    float
        The bytes estimated.

    Raises
    ------
    ffnn.optim.memory.InsufficientMemoryError
        A ``MemoryError`` and a ``ValueError``, whose one-line message gives the bytes
        needed, the bytes available and what to change.
    """
    counts, widths = _sizes(model, n_features)
    n_params, itemsize = sum(counts), np.dtype(model.dtype).itemsize
    weights = 0.0 if model.built else n_params * itemsize + max(counts, default=0) * 8.0
    arch = "-".join(str(w) for w in [n_features, *widths])
    what = f"the {arch} network ({n_params:,} parameters, {np.dtype(model.dtype)})"
    if n_samples is None:
        check_fits(weights, f"building {what}", "use fewer or smaller layers")
        return weights
    optimizer = model.optimizer
    full_batch = isinstance(optimizer, optim.FullBatchOptimizer)
    rows = n_samples if batch_size is None or full_batch else min(batch_size, n_samples)
    activations = 3.0 * rows * (n_features + sum(widths)) * itemsize
    extra = 0.0 if optimizer is None else optimizer.estimate_bytes(
        n_params, itemsize, n_samples, widths[-1] if widths else 1)
    traced = 0.0
    if getattr(model, "graph", "dynamic") == "static" and not full_batch:
        # the traced steps keep their buffers: values and adjoints of every node and the
        # parameter gradients, for two signatures (full and last short batch)
        traced = 2.0 * (4.0 * rows * (n_features + sum(widths)) * itemsize
                        + n_params * itemsize)
    needed = weights + n_params * itemsize + extra + activations + traced
    check_fits(needed, f"training {what} on batches of {rows} rows (activations "
               f"{format_bytes(activations + traced)}, optimizer {format_bytes(extra)})",
               "use fewer or smaller layers, a smaller batch_size, or an optimizer with less "
               "state (e.g. 'sgd')")
    return needed


def check_predict_memory(model: Any, n_samples: int, batch_size: int | None) -> None:
    """Refuse, before the forward pass, an inference whose activations (all samples at
    once without ``batch_size``) and outputs exceed the memory available."""
    _, widths = _sizes(model, int(model.input_dim or 0))
    rows = n_samples if batch_size is None else min(batch_size, n_samples)
    itemsize = np.dtype(model.dtype).itemsize
    needed = 2.0 * rows * sum(widths) * itemsize + n_samples * (widths[-1] if widths else 0) \
        * itemsize
    check_fits(needed, f"the forward pass of {n_samples} samples in batches of {rows} rows",
               "pass batch_size= (e.g. 1024) or fewer samples at a time")
