"""Callbacks: code that runs at fixed points of ``fit`` (Keras' contract).

``fit`` owns the loop; callbacks observe it and may set ``model.stop_training`` (with
``model.stop_reason``), change the optimiser's learning rate, or save and restore
weights. Early stopping lives here, never in optimisers. This module holds the contract
and the core callbacks; ``lr_callbacks`` (learning-rate control),
``checkpoint_callback`` (ModelCheckpoint) and ``diagnostics_callback`` hold the others,
and :mod:`ffnn.callbacks` gathers them all.
"""

from __future__ import annotations

import copy
import csv
import logging
import math
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from .._validation import check_int

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "TerminateOnNaN",
]

log = logging.getLogger(__name__)
Logs = dict[str, float]


class Callback:
    """Base class. Override any of the ``on_*`` hooks; ``self.model`` is the model.

    Hooks: ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
    ``on_batch_end(batch, logs)`` (``logs["loss"]`` is the batch loss),
    ``on_epoch_end(epoch, logs)`` (training and validation metrics of the epoch) and
    ``on_train_end(logs)``, which runs however training ends.
    """

    model: Any = None

    def set_model(self, model: Any) -> None:
        """Attach the model being trained."""
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """After the last epoch, whatever stopped training."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before each epoch (0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After each epoch, with its metrics."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each training step."""


class CallbackList:
    """Dispatches each hook to a list of callbacks, in order."""

    def __init__(self, callbacks: Sequence[Callback], model: Any) -> None:
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be ffnn Callback objects, got {type(cb).__name__}")
            cb.set_model(model)
        self.callbacks = list(callbacks)
        self.wants_batches = any(
            type(cb).on_batch_end is not Callback.on_batch_end for cb in self.callbacks
        )

    def on_train_begin(self, logs: Logs | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)


class History(Callback):
    """Records every epoch's logs: ``history["loss"]`` is the list of epoch losses.

    Parameters
    ----------
    history : dict of str to list of float, optional
    epoch : sequence of int, optional
        Epochs already recorded (a resumed run's prefix); each record starts from them.

    Attributes
    ----------
    history : dict[str, list[float]]
    epoch : list[int]
        The epochs recorded.
    stop_reason : str or None
        Why training stopped before its last epoch (from the callback that stopped it).
    """

    def __init__(
        self, history: dict[str, list[float]] | None = None, epoch: Sequence[int] = ()
    ) -> None:
        self._prefix = ({k: list(v) for k, v in (history or {}).items()}, list(epoch))
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start a fresh record (from the prefix given at construction)."""
        self.history: dict[str, list[float]] = {k: list(v) for k, v in self._prefix[0].items()}
        self.epoch: list[int] = list(self._prefix[1])
        self.stop_reason: str | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Append this epoch's values; every list stays one value per epoch (NaN where an
        epoch did not log the key, e.g. quantities an optimiser reports from its second
        epoch on)."""
        self.epoch.append(epoch)
        n = len(self.epoch)
        logs = logs or {}
        for key, value in logs.items():
            series = self.history.setdefault(key, [])
            series.extend([math.nan] * (n - 1 - len(series)))
            series.append(float(value))
        for key, series in self.history.items():
            if key not in logs:
                series.append(math.nan)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Keep the model's stop reason."""
        self.stop_reason = getattr(self.model, "stop_reason", None)


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "r2", "auc")) else "min"


def _monitored(logs: Logs | None, monitor: str, who: str) -> float:
    logs = logs or {}
    if monitor not in logs:
        raise ValueError(
            f"{who} monitors {monitor!r}, which this training does not log; available: "
            f"{', '.join(sorted(logs)) or 'none'} (val_* keys need validation data)"
        )
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored quantity stops improving, then restore the best weights.

    The notes' rule "train until the validation error stops falling": after each epoch
    the monitored value is compared with the best so far; after ``patience`` epochs
    without an improvement of more than ``min_delta`` training stops. With
    ``restore_best_weights=True`` the weights of the best epoch are put back whenever
    training ends: by patience, at the last epoch, or on a NaN.

    A NaN or infinite monitored value stops training at once and never leaves
    non-finite weights: the best epoch's weights (or, with
    ``restore_best_weights=False``, the last epoch's with a finite value) are put back,
    the initial weights when no epoch had a finite value; ``model.stop_reason`` (and
    ``History.stop_reason``) says which.

    Parameters
    ----------
    monitor : str, default "val_loss"
    min_delta : float, default 0
        Smallest change that counts as an improvement.
    patience : int, default 0
        Epochs without improvement before stopping.
    mode : {"auto", "min", "max"}
        "auto" maximises accuracy-like names and minimises the rest.
    baseline : float, optional
        Stop if the value does not beat this within ``patience`` epochs.
    restore_best_weights : bool, default True
    start_from_epoch : int, default 0
        Epochs of warm-up before stopping may happen.

    Attributes
    ----------
    best : float
    best_epoch : int or None
    stopped_epoch : int or None

    Notes
    -----
    **The notes' Algorithm 4.1** (SGD by backpropagation) repeats epochs — shuffle the
    training set, then for each sample in turn W ← W − α(δaᵀ + λW), b ← b − αδ — "until
    the error rate on the validation set V no longer falls", and outputs W, b. In ffnn
    that is::

        model = Sequential([Dense(m, "sigmoid", input_dim=d,
                                  kernel_regularizer=ffnn.regularizers.l2(lam)), ...])
        model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=alpha),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=1, epochs=max_epochs, validation_data=(x_v, y_v),
                  callbacks=[EarlyStopping(monitor="val_accuracy", patience=0,
                                           restore_best_weights=False)])

    ``batch_size=1`` with the default shuffling is the per-sample loop over a fresh
    random order; ``l2(lam)`` adds (λ/2)‖W‖² to the loss, whose gradient λW is the
    algorithm's weight-decay term (biases are not penalised, as in the algorithm). The
    validation error rate is 1 − accuracy, so it stops falling exactly when
    ``val_accuracy`` stops rising (``mode="auto"`` maximises it; ``min_delta=0`` makes
    an unchanged rate count as "no longer falls"), and ``patience=0`` stops at the first
    such epoch. ``restore_best_weights=False`` returns the weights of that last epoch,
    as the algorithm does; the default ``True`` returns the weights of the epoch with
    the lowest validation error, which is never worse on V. With noisy validation
    curves a ``patience`` of a few epochs avoids stopping at the first plateau.
    ``examples/early_stopping.py`` runs this configuration.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = True,
        start_from_epoch: int = 0,
    ) -> None:
        check_int("patience", patience)
        check_int("start_from_epoch", start_from_epoch)
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = _resolve_mode(mode, monitor)
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        # the weights to fall back on when the monitored value is not finite: the
        # initial ones, then (without restore_best_weights) the last finite epoch's
        self._fallback: tuple[int | None, list[np.ndarray]] | None = None

    def _improved(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the record (the callback may be reused) and keep the initial weights."""
        self._reset()
        self._fallback = (None, self.model.get_weights())

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Compare, remember the best weights, stop after ``patience`` bad epochs; stop
        at once on a NaN or infinite value, putting back finite weights."""
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if not math.isfinite(value):
            self._stop_on_nonfinite(epoch, value)
            return
        if not self.restore_best_weights:
            self._fallback = (epoch, self.model.get_weights())
        reference = self.best
        if self.best_epoch is None and self.baseline is not None:
            reference = self.baseline
        if (self.best_epoch is None and self.baseline is None) or self._improved(value, reference):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self.model.stop_reason = (
                f"early stopping: {self.monitor} did not improve for {self.wait} epoch(s); "
                f"best {self.best:.6g} at epoch {(self.best_epoch or 0) + 1}"
            )

    def _stop_on_nonfinite(self, epoch: int, value: float) -> None:
        """Stop and restore the best epoch's weights (``restore_best_weights``) or the
        last finite epoch's, the initial ones when no epoch had a finite value; the stop
        reason says which."""
        self.stopped_epoch = epoch
        self.model.stop_training = True
        reason = f"{self.monitor} became {value} at epoch {epoch + 1}; restored "
        restored_epoch: int | None = None
        arrays: list[np.ndarray] | None = None
        if self.restore_best_weights and self.best_weights is not None:
            which, restored_epoch, arrays = "the best", self.best_epoch, self.best_weights
        else:
            which = "the last finite"
            if self._fallback is not None:
                restored_epoch, arrays = self._fallback
        if restored_epoch is None:
            reason += f"the initial weights (no epoch had a finite {self.monitor})"
        else:
            reason += f"the weights of epoch {restored_epoch + 1} ({which} {self.monitor})"
        if arrays is not None:
            self.model.set_weights(arrays)
        self.model.stop_reason = reason
        log.warning("EarlyStopping: %s", reason)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Restore the best epoch's weights, whatever ended training."""
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            log.info("restored the weights of epoch %d", (self.best_epoch or 0) + 1)


class TerminateOnNaN(Callback):
    """Stop as soon as a batch loss is NaN or infinite and restore the last finite weights.

    The weights and the optimiser state saved at the start of each epoch are put back
    (so training can continue, e.g. with a smaller learning rate), and ``model.stop_reason``
    (also ``History.stop_reason``) says which epoch and batch failed.
    """

    def __init__(self) -> None:
        self._weights: list[np.ndarray] | None = None
        self._optimizer_state: dict[str, Any] | None = None
        self._epoch = 0
        self._first = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """The first epoch of the run starts from the initial weights."""
        self._first, self._weights = True, None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remember the weights and optimiser state the epoch starts from."""
        self._first = self._weights is None
        self._epoch = epoch
        self._weights = self.model.get_weights()
        self._optimizer_state = copy.deepcopy(self.model.optimizer.state_dict())

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Stop and restore on a non-finite loss."""
        loss = float((logs or {}).get("loss", 0.0))
        if math.isfinite(loss):
            return
        self.model.stop_training = True
        self.model.stop_reason = (
            f"loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}; restored the "
            f"weights from the start of epoch {self._epoch + 1}"
            + (" (the initial weights)" if self._first else "")
        )
        if self._weights is not None:
            self.model.set_weights(self._weights)
        if self._optimizer_state is not None:  # moments/momentum are NaN too by now
            self.model.optimizer.load_state_dict(self._optimizer_state)
        log.warning("TerminateOnNaN: %s", self.model.stop_reason)


class CSVLogger(Callback):
    """Append each epoch's logs as a row of a CSV file (header from the first epoch).

    Parameters
    ----------
    filename : str or path
    separator : str, default ","
    append : bool, default False
        Append to an existing file instead of overwriting it.
    """

    def __init__(self, filename: Any, separator: str = ",", append: bool = False) -> None:
        self.filename = filename
        self.separator = separator
        self.append = append
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Open the file."""
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer = None
        self._keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write one row and flush it."""
        logs = logs or {}
        assert self._file is not None
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self.append or self._file.tell() == 0:
                self._writer.writerow(["epoch", *self._keys])
        assert self._keys is not None
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
