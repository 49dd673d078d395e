"""Callbacks that control the optimiser's learning rate during ``fit``."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from .._validation import check_int
from ..optim import Optimizer
from .callbacks import Callback, Logs, _monitored, _resolve_mode

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]

log = logging.getLogger(__name__)


def _learning_rate_optimizer(model: Any, who: str) -> Optimizer:
    opt = model.optimizer
    if not isinstance(opt, Optimizer):
        raise ValueError(
            f"{who} sets a learning rate, but {type(opt).__name__} has none that it uses "
            "(full-batch optimisers such as L-BFGS and Levenberg–Marquardt choose their "
            "own steps)"
        )
    return opt


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, current_lr) -> new_lr`` with 0-based epochs.
    """

    def __init__(self, schedule: Callable[[int, float], float]) -> None:
        if not callable(schedule):
            raise TypeError("LearningRateScheduler needs a callable schedule(epoch, lr)")
        self.schedule = schedule

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Check that the optimiser has a learning rate to set."""
        _learning_rate_optimizer(self.model, "LearningRateScheduler")

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Apply the schedule."""
        opt = self.model.optimizer
        lr = float(self.schedule(epoch, float(opt.current_learning_rate)))
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"the schedule returned an invalid learning rate {lr!r}")
        opt.learning_rate = lr

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Log the rate used."""
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.current_learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when the monitored value plateaus.

    Parameters
    ----------
    monitor : str, default "val_loss"
    factor : float, default 0.1
        New rate = rate · factor (0 < factor < 1).
    patience : int, default 10
        Epochs without improvement before reducing.
    mode : {"auto", "min", "max"}
    min_delta : float, default 1e-4
    cooldown : int, default 0
        Epochs to wait after a reduction before counting again.
    min_lr : float, default 0
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau factor must lie in (0, 1), got {factor!r}")
        check_int("patience", patience)
        check_int("cooldown", cooldown)
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = abs(float(min_delta))
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.best = math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the record; check that the optimiser has a learning rate."""
        _learning_rate_optimizer(self.model, "ReduceLROnPlateau")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Reduce the rate after ``patience`` epochs without improvement."""
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        opt = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(opt.current_learning_rate)
        better = (
            value < self.best - self.min_delta
            if self.mode == "min"
            else value > self.best + self.min_delta
        )
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if better:
            self.best = value
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(opt.current_learning_rate)
            new = max(old * self.factor, self.min_lr)
            if new < old:
                opt.learning_rate = new
                log.info("ReduceLROnPlateau: learning rate %.3g -> %.3g", old, new)
            self.cooldown_counter = self.cooldown
            self.wait = 0
