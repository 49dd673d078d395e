"""ModelCheckpoint: checkpoints from which ``fit(..., resume_from=path)`` continues exactly."""

from __future__ import annotations

import math
import os
from typing import Any

from ..training.callbacks import Callback, History, Logs, _monitored, _resolve_mode
from .atomic import check_writable
from .checkpoint import save_checkpoint

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Save a checkpoint during training, from which ``fit(..., resume_from=path)``
    continues exactly.

    Each checkpoint is a model file (see :func:`ffnn.io.save`) that also holds the epoch,
    the history so far and the states of the fit loop's shuffling generator and of every
    Dropout layer's generator; it is written atomically, so an interrupted run always
    leaves a complete file.

    Parameters
    ----------
    path : str or path-like
        The file; may contain ``str.format`` fields filled with the 1-based ``epoch`` and
        the epoch's logs, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``.
    monitor : str, default "val_loss"
        The quantity compared when ``save_best_only``.
    save_best_only : bool, default False
        Save only when ``monitor`` improves on the best value so far (on resuming, the
        best value is recovered from the history).
    every_n_epochs : int, default 1
        Consider saving after epochs 1·n, 2·n, ... (1-based).
    mode : {"auto", "min", "max"}
        "auto" maximises accuracy-like names and minimises the rest.

    Attributes
    ----------
    best : float
        Best monitored value saved so far (with ``save_best_only``).
    last_path : str or None
        The file written last.

    Notes
    -----
    Put it after callbacks that add entries to the logs, so the saved history has them.
    The file is written as :func:`ffnn.io.atomic.atomic_write` writes: only a regular
    file (or a symbolic link to one) is replaced; a directory, device, FIFO or socket at
    the path is refused with a ``ValueError``, checked when training begins for a path
    without format fields.
    """

    def __init__(
        self,
        path: Any,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        every_n_epochs: int = 1,
        mode: str = "auto",
    ) -> None:
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or (
            every_n_epochs < 1
        ):
            raise ValueError(f"every_n_epochs must be a positive integer, got {every_n_epochs!r}")
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.every_n_epochs = every_n_epochs
        self.mode = _resolve_mode(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path: str | None = None

    def _better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        return value < self.best if self.mode == "min" else value > self.best

    def _due(self, epoch: int) -> bool:
        return (epoch + 1) % self.every_n_epochs == 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Check that the file can be written (so a bad path fails before the first
        epoch, not after it) and recover the best value from the epochs already recorded
        (a resumed run)."""
        folder = os.path.dirname(self.path)
        if "{" not in self.path:
            check_writable(self.path)
        elif "{" not in folder:  # the name is formatted per epoch; its folder is fixed
            check_writable(os.path.join(folder, "checkpoint"))
        self.best = math.inf if self.mode == "min" else -math.inf
        history = getattr(self.model, "history", None)
        if self.save_best_only and history is not None:
            values = history.history.get(self.monitor, [])
            for epoch, value in zip(history.epoch, values, strict=False):
                if self._due(epoch) and self._better(value):
                    self.best = value

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Save when due (and, with ``save_best_only``, when the monitor improved)."""
        if not self._due(epoch):
            return
        logs = dict(logs or {})
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._better(value):
                return
            self.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint cannot format the path {self.path!r}: {exc!r}; "
                             f"available fields: epoch, {', '.join(sorted(logs))}") from exc
        current = getattr(self.model, "history", None) or History()
        history = History(current.history, current.epoch)
        history.on_epoch_end(epoch, logs)
        save_checkpoint(self.model, path, epoch + 1, history=history,
                        shuffle_rng=getattr(self.model, "shuffle_rng", None))
        self.last_path = path
