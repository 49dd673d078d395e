"""The fit loop: epochs, batching, validation, callbacks and progress.

``fit`` owns the loop and ``Sequential.batch_step`` owns one step. :func:`fit_loop`
checks the arguments (:func:`check_fit_args`), sets a run up (:func:`start_run`) and
runs its epochs (:func:`run_epochs`). Each epoch draws one permutation and gathers each
batch right before its step (see :func:`_run_epoch`); without shuffling the batches are
views. A :class:`~ffnn.optim.FullBatchOptimizer` (L-BFGS, Levenberg–Marquardt) gets one
step per epoch on the whole training set.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._validation import check_int, check_seed
from ..optim import FullBatchOptimizer
from . import data, division, uncertainty
from .callbacks import Callback, CallbackList, History
from .class_weights import class_sample_weight
from .model_checks import check_memory
from .progress import Progress

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["FitRun", "check_fit_args", "epoch_order", "fit_loop", "run_epochs", "start_run"]

Validation = tuple[np.ndarray, np.ndarray, Any] | None


class Parallel(Protocol):
    """The hooks of data-parallel training (``ffnn.distributed``), when a run has them.

    ``n_rows`` is the global number of training rows: the loop draws its permutation
    and batches over them and asks :meth:`local` for this process's part of each.
    """

    n_rows: int

    def local(self, idx: slice | np.ndarray) -> slice | np.ndarray:
        """This process's rows of the global batch ``idx``, as local positions."""

    def step(self, model: Sequential, x: np.ndarray, y: np.ndarray,
             w: Any) -> tuple[float, np.ndarray, float]:
        """One global step: (batch objective, local outputs, the batch's global mass)."""

    def gather(self, outputs: list[np.ndarray], targets: list[np.ndarray],
               complete: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
        """All processes' outputs and targets (None if the epoch stopped early)."""

    def agree(self, flag: bool) -> bool:
        """Whether any process says True."""


@dataclass
class FitRun:
    """Everything one ``fit`` call works with once its arguments are checked."""

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    validation: Validation
    batch_size: int | None
    shuffle: bool | str
    rng: np.random.Generator
    initial_epoch: int
    epochs: int
    history: History
    callbacks: CallbackList
    progress: Progress
    test: Validation = None
    parallel: Parallel | None = None


SHUFFLE_MODES = (True, False, "replacement")


def check_fit_args(epochs: Any, batch_size: Any, validation_split: Any,
                   shuffle: Any = True) -> None:
    """ValueError unless ``epochs`` ≥ 0 and ``batch_size`` ≥ 1 (or None) are integers,
    ``validation_split`` is a number (its range is checked where the split is made) and
    ``shuffle`` is True, False or ``"replacement"``."""
    check_int("epochs", epochs, 0)
    if not any(shuffle is mode or (isinstance(mode, str) and shuffle == mode)
               for mode in SHUFFLE_MODES):
        raise ValueError(
            f"shuffle must be True (a new permutation every epoch), False (the data's order) "
            f"or 'replacement' (draw every sample of an epoch uniformly at random, with "
            f"replacement), got {shuffle!r}"
        )
    if batch_size is not None:
        check_int("batch_size", batch_size, 1, error=ValueError)
    if isinstance(validation_split, (bool, np.bool_)) or not isinstance(
            validation_split, (int, float, np.integer, np.floating)):
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")


def _validation_set(
    model: Sequential, x: np.ndarray, y: np.ndarray, sw: Any, validation_split: float,
    validation_data: Any, what: str = "validation",
) -> tuple[np.ndarray, np.ndarray, Any, Validation]:
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            short = what[:3] if what == "validation" else what
            raise ValueError(f"{what}_data must be (x_{short}, y_{short}) or (x_{short}, "
                             f"y_{short}, sample_weight)")
        xv, yv, swv = model.validate_data(validation_data[0], validation_data[1],
                                          (*validation_data, None)[2], what=f"{what} ")
        return x, y, sw, (xv, yv, swv)
    if validation_split:
        x, y, xv, yv = data.split_validation(x, y, validation_split)
        division.warn_unrepresentative(model, y, yv)
        swv = None
        if sw is not None:
            sw, swv = sw[: x.shape[0]], sw[x.shape[0] :]
        return x, y, sw, (xv, yv, swv)
    return x, y, sw, None


def _reseed_dropout(model: Sequential, dropout_seq: np.random.SeedSequence) -> None:
    """Give every layer with random masks its own stream of ``fit``'s seed (after the
    model is built: building draws the layers' default streams)."""
    reseedable = [lay for lay in model.layers if hasattr(lay, "reseed")]
    for layer, child in zip(reseedable, dropout_seq.spawn(len(reseedable)), strict=True):
        layer.reseed(child)


def _resume(
    model: Sequential, path: Any, rng: np.random.Generator
) -> tuple[int, np.random.Generator, History]:
    """Restore weights, optimiser state and generators from a checkpoint; return the
    epoch to start at, the shuffling generator and the history so far."""
    from ..io import load_checkpoint  # io builds on training: a documented circle

    checkpoint = load_checkpoint(path)
    try:
        checkpoint.restore(model)
    except ValueError as exc:
        raise ValueError(f"cannot resume from {path!r}: {exc}") from exc
    return checkpoint.epoch, checkpoint.shuffle_rng or rng, checkpoint.history


def start_run(model: Sequential, x: Any, y: Any, *, epochs: int, batch_size: int | None,
              validation_split: float, validation_data: Any, shuffle: bool | str,
              callbacks: list[Callback], verbose: int, seed: int | None, sample_weight: Any,
              initial_epoch: int, resume_from: Any = None, test_data: Any = None,
              class_weight: Any = None) -> FitRun:
    """Apply the model's division and adapt its preprocessing layers, validate the data
    once, build the model if needed, split off the validation set, weight the training
    classes, seed the streams, resume from a checkpoint if asked, and wire up the
    callbacks."""
    model.prepare_training()
    init_seq, shuffle_seq, dropout_seq, divide_seq = np.random.SeedSequence(
        check_seed(seed)).spawn(4)
    prep = division.prepare_fit(model, x, y, sample_weight, validation_split, validation_data,
                                test_data, callbacks, divide_seq)
    x, y, sample_weight, validation_data = prep.x, prep.y, prep.sample_weight, prep.validation_data
    callbacks = [*prep.callbacks, *callbacks]
    xa, ya, sw = model.validate_data(x, y, sample_weight,
                                     seed=init_seq if seed is not None else None)
    test = None
    if prep.test_data is not None:
        test = _validation_set(model, xa, ya, sw, 0.0, prep.test_data, "test")[3]
    if seed is not None:  # fit's seed also fixes the dropout masks
        _reseed_dropout(model, dropout_seq)
    xa, ya, sw, val = _validation_set(model, xa, ya, sw, validation_split, validation_data)
    check_memory(model, xa.shape[1], xa.shape[0], batch_size)  # before training allocates
    if class_weight is not None:  # the training samples only, as Keras
        sw = class_sample_weight(class_weight, ya, ya.dtype.kind in "iu", sw, model.dtype,
                                 model.output_shape[-1])
    if isinstance(model.optimizer, FullBatchOptimizer):
        batch_size = None
    rng = np.random.default_rng(shuffle_seq)
    history = History()
    model.optimizer.begin_fit()
    if resume_from is not None:
        initial_epoch, rng, history = _resume(model, resume_from, rng)
    model.history, model.shuffle_rng = history, rng
    steps = 1 if batch_size is None else -(-xa.shape[0] // batch_size)
    cbs = CallbackList([*callbacks, history], model)  # history last: it sees what others log
    return FitRun(xa, ya, sw, val, batch_size, shuffle, rng, initial_epoch, epochs, history,
                  cbs, Progress(verbose, epochs, steps), test)


def epoch_order(rng: np.random.Generator, n: int, shuffle: bool | str) -> np.ndarray | None:
    """The rows of one epoch, in the order the steps see them.

    ``True``: a permutation of the ``n`` rows (every row once). ``"replacement"``:
    ``n`` rows drawn uniformly with replacement, :math:`i_k \\sim U\\{0, …, n-1\\}`, the
    first variant of stochastic gradient in Higham & Higham (2019), where a row may be
    used twice or not at all in an epoch. ``False``: None (the data's own order).
    """
    if shuffle == "replacement":
        return rng.integers(0, n, size=n)
    return rng.permutation(n) if shuffle else None


def _run_epoch(model: Sequential, run: FitRun) -> tuple[float, list[np.ndarray], Any]:
    """One pass; returns the mean batch loss, the batch outputs and the targets in the
    order the batches saw them (None if a parallel epoch stopped early).

    Shuffled batches are gathered one at a time (``x[perm[a:b]]``): each lands in cache
    right before it is used, instead of copying the whole data set every epoch. Under
    data parallelism the permutation is global and each process steps on its rows.
    """
    x, y, cbs, progress, par = run.x, run.y, run.callbacks, run.progress, run.parallel
    n = x.shape[0] if par is None else par.n_rows
    perm = epoch_order(run.rng, n, run.shuffle)
    total, count = 0.0, 0.0
    outputs: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    keep = bool(model.metrics)
    done = 0
    for b, idx in enumerate(data.batches(n, run.batch_size, perm)):
        loss, out, mass = _step(model, run, idx, seen if keep else None)
        done += 1
        total += loss * mass
        count += mass
        if keep:
            outputs.append(out)
        if cbs.wants_batches:
            cbs.on_batch_end(b, {"loss": loss})
            if par is not None:
                model.stop_training = par.agree(model.stop_training)
        progress.batch_end(loss)
        if model.stop_training:
            break
    data.release_pages(x)
    mean = total / count if count else 0.0
    if par is not None:
        complete = done == -(-n // (run.batch_size or n))
        return (mean, *par.gather(outputs, seen, complete))
    return mean, outputs, (y if perm is None else y[perm])


def _step(model: Sequential, run: FitRun, idx: slice | np.ndarray,
          seen: list[np.ndarray] | None) -> tuple[float, np.ndarray, float]:
    """One batch step: (objective, outputs, the batch's weight in the epoch mean)."""
    par = run.parallel
    if par is not None:
        idx = par.local(idx)
    xb = data.dense(data.take(run.x, idx))
    w = None if run.sample_weight is None else run.sample_weight[idx]
    if par is None:
        loss, out = model.batch_step(xb, run.y[idx], w)
        return loss, out, (len(out) if w is None else float(np.sum(w)))
    if seen is not None:
        seen.append(run.y[idx])
    return par.step(model, xb, run.y[idx], w)


def _epoch_logs(model: Sequential, run: FitRun, loss: float, outputs: list[np.ndarray],
                y: np.ndarray | None) -> dict[str, float]:
    logs = {"loss": loss}
    if outputs and model.metrics:
        pred = model.output_activation(np.concatenate(outputs, axis=0))
        for name, fn in model.metrics:
            complete = y is not None and len(pred) == len(y)
            logs[name] = float(fn(y, pred)) if complete else float("nan")
    if run.validation is not None:
        xv, yv, swv = run.validation
        for key, value in model.scores(xv, yv, swv, run.batch_size).items():
            logs[f"val_{key}"] = value
    if run.test is not None:  # recorded only (MATLAB's tr.tperf): nothing monitors it
        for key, value in model.scores(*run.test, run.batch_size).items():
            logs[f"test_{key}"] = value
    optimizer = model.optimizer
    if isinstance(optimizer, FullBatchOptimizer):
        logs.update(optimizer.epoch_logs)
        if optimizer.stop_reason:
            model.stop_training = True
            model.stop_reason = optimizer.stop_reason
    return logs


def run_epochs(model: Sequential, run: FitRun) -> History:
    """Run epochs ``run.initial_epoch`` to ``run.epochs - 1`` (or until a stop)."""
    cbs, progress = run.callbacks, run.progress
    model.stop_training = False
    model.stop_reason = None
    cbs.on_train_begin()
    try:
        for epoch in range(run.initial_epoch, run.epochs):
            cbs.on_epoch_begin(epoch)
            progress.epoch_begin(epoch)
            loss, outputs, y_seen = _run_epoch(model, run)
            logs = _epoch_logs(model, run, loss, outputs, y_seen)
            cbs.on_epoch_end(epoch, logs)
            progress.epoch_end(epoch, logs)
            if run.parallel is not None:  # every process stops if one does
                model.stop_training = run.parallel.agree(model.stop_training)
            if model.stop_training:
                break
    finally:
        progress.close()
        cbs.on_train_end()
    return run.history


def _backend(distributed: Any) -> Any:
    """``"mpi"`` is ``ffnn.distributed.MPI()`` (imported by name: it builds on this
    package); any other backend is an object with a ``fit(model, x, y, **options)``."""
    if isinstance(distributed, str):
        if distributed != "mpi":
            raise ValueError(f"distributed must be 'mpi' or a backend such as "
                             f"ffnn.distributed.MPI(), got {distributed!r}")
        return importlib.import_module("ffnn.distributed").MPI()
    if not callable(getattr(distributed, "fit", None)):
        raise TypeError(f"distributed must be 'mpi' or a backend with a fit method, got "
                        f"{type(distributed).__name__}")
    return distributed


def fit_loop(model: Sequential, x: Any, y: Any, **options: Any) -> History:
    """Train ``model``; see :meth:`ffnn.Sequential.fit` for the options."""
    if options["epochs"] is None:  # the model's TrainParam, else Keras's 1
        param = getattr(model, "train_param", None)
        options["epochs"] = 1 if param is None else param.epochs
    distributed = options.pop("distributed", None)
    if distributed is not None:
        return _backend(distributed).fit(model, x, y, **options)
    check_fit_args(options["epochs"], options["batch_size"], options["validation_split"],
                   options["shuffle"])
    run = start_run(model, x, y, **options)
    history = run_epochs(model, run)
    uncertainty.remember(model, run.x, run.y, run.sample_weight)  # for return_std
    return history
