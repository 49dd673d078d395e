"""The fit loop: epochs, batching, validation, callbacks and progress.

``fit`` owns the loop and ``Sequential._step`` owns one step. Each epoch draws one
permutation and gathers each batch right before its step (see :func:`_run_epoch`);
without shuffling the batches are views. Optimisers that work on the whole data set at once
(``optimizer.full_batch``, e.g. L-BFGS and Levenberg–Marquardt) get one step per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import data
from .callbacks import Callback, CallbackList, History
from .progress import Progress

__all__ = ["fit_loop"]


def _validation_set(
    model: Any, x: np.ndarray, y: np.ndarray, sw: Any, validation_split: float, validation_data: Any
) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)"
            )
        xv, yv, swv = model._validate(*validation_data, what="validation ")
        return x, y, sw, (xv, yv, swv)
    if validation_split:
        x, y, xv, yv = data.split_validation(x, y, validation_split)
        swv = None
        if sw is not None:
            sw, swv = sw[: len(x)], sw[len(x) :]
        return x, y, sw, (xv, yv, swv)
    return x, y, sw, None


def _run_epoch(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    sw: Any,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator,
    cbs: CallbackList,
    progress: Progress,
) -> tuple[float, list[np.ndarray], np.ndarray]:
    """One pass; returns the mean batch loss, the batch outputs and the targets in the
    order the batches saw them.

    Shuffled batches are gathered one at a time (``x[perm[a:b]]``): each lands in cache
    right before it is used, instead of copying the whole data set every epoch.
    """
    perm = rng.permutation(len(x)) if shuffle else None
    total, count = 0.0, 0.0
    outputs: list[np.ndarray] = []
    keep = bool(model.metrics)
    for b, idx in enumerate(data.batches(len(x), batch_size, perm)):
        w = None if sw is None else sw[idx]
        loss, out = model._step(x[idx], y[idx], w)
        mass = len(out) if w is None else float(np.sum(w))  # batch weight in the epoch mean
        total += loss * mass
        count += mass
        if keep:
            outputs.append(out)
        if cbs.wants_batches:
            cbs.on_batch_end(b, {"loss": loss})
        progress.batch_end(loss)
        if model.stop_training:
            break
    return (total / count if count else 0.0), outputs, (y if perm is None else y[perm])


def _epoch_logs(
    model: Any,
    loss: float,
    outputs: list[np.ndarray],
    y: np.ndarray,
    val: Any,
    batch_size: int | None,
) -> dict[str, float]:
    logs = {"loss": loss}
    if outputs and model.metrics:
        pred = model._final_activation(np.concatenate(outputs, axis=0))
        y_seen = y[: len(pred)]
        for name, fn in model.metrics:
            logs[name] = float(fn(y_seen, pred)) if len(pred) == len(y) else float("nan")
    if val is not None:
        xv, yv, swv = val
        for key, value in model._scores(xv, yv, swv, batch_size).items():
            logs[f"val_{key}"] = value
    return logs


def _resume(
    model: Any, path: Any, rng: np.random.Generator
) -> tuple[int, np.random.Generator, History]:
    """Restore weights, optimiser state and generators from a checkpoint; return the
    epoch to start at, the shuffling generator and the history so far."""
    from ..io import load_checkpoint  # io builds on training

    checkpoint = load_checkpoint(path)
    try:
        checkpoint.restore(model)
    except ValueError as exc:
        raise ValueError(f"cannot resume from {path!r}: {exc}") from exc
    return checkpoint.epoch, checkpoint.shuffle_rng or rng, checkpoint.history


def fit_loop(
    model: Any,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int | None,
    validation_split: float,
    validation_data: Any,
    shuffle: bool,
    callbacks: list[Callback],
    verbose: int,
    seed: int | None,
    sample_weight: Any,
    initial_epoch: int,
    resume_from: Any = None,
) -> History:
    """Train ``model``; see :meth:`ffnn.Sequential.fit` for the parameters."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    seq = np.random.SeedSequence(seed)
    init_seq, shuffle_seq, dropout_seq = seq.spawn(3)
    model._prepare()
    xa, ya, sw = model._validate(x, y, sample_weight, seed=init_seq if seed is not None else None)
    if seed is not None:  # fit's seed also fixes the dropout masks
        reseedable = [lay for lay in model.layers if hasattr(lay, "reseed")]
        for layer, child in zip(reseedable, dropout_seq.spawn(len(reseedable)), strict=True):
            layer.reseed(child)
    xa, ya, sw, val = _validation_set(model, xa, ya, sw, validation_split, validation_data)
    if getattr(model.optimizer, "full_batch", False):
        batch_size = None
    rng = np.random.default_rng(shuffle_seq)
    history = History()
    begin_fit = getattr(model.optimizer, "begin_fit", None)
    if begin_fit is not None:  # per-run state of full-batch optimisers (LM's μ, ...)
        begin_fit()
    if resume_from is not None:
        initial_epoch, rng, history = _resume(model, resume_from, rng)
    model.history, model._shuffle_rng = history, rng
    cbs = CallbackList([*callbacks, history], model)  # history last: it sees what others log
    steps = 1 if batch_size is None else -(-len(xa) // batch_size)
    progress = Progress(verbose, epochs, steps)
    model.stop_training = False
    model.stop_reason = None
    cbs.on_train_begin()
    try:
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            progress.epoch_begin(epoch)
            loss, outputs, y_seen = _run_epoch(
                model, xa, ya, sw, batch_size, shuffle, rng, cbs, progress
            )
            logs = _epoch_logs(model, loss, outputs, y_seen, val, batch_size)
            logs.update(getattr(model.optimizer, "epoch_logs", None) or {})
            reason = getattr(model.optimizer, "stop_reason", None)
            if reason:
                model.stop_training = True
                model.stop_reason = reason
            cbs.on_epoch_end(epoch, logs)
            progress.epoch_end(epoch, logs)
            if model.stop_training:
                break
    finally:
        progress.close()
        cbs.on_train_end()
    return history
